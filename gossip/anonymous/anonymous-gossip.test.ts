import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr } from '../../core/addr.ts'
import { SeededRng } from '../../core/rng.ts'
import type { TreeLink } from '../../adhoc/routing.ts'
import { LOSSY_MEMBERS, LOSSY_TREE, agNet, agSeq, lossyBranch, receivedBytes, upTo, type AgNet, type WalkHop } from './ag-fixtures.ts'
import { encodeGossip, encodeReply } from './ag-messages.ts'
import { Proto } from '../../adhoc/protocols.ts'
import { accepts, nextHop } from './walk.ts'

const G = groupAddr(1)

/**
 * A tree-shaped field: 1 sends; 2, 3, 4 relay; 5, 6 and 7 are members at the leaves.
 *
 *         1
 *         |
 *         2
 *        / \
 *       3   4
 *      / \   \
 *     5   6   7
 */

/** The AG sequence number a relay sees inside an MAODV data payload. */

/**
 * Node 1 sends `count` packets to G every 500 ms from 20 s on (the members' joins run their full
 * discovery, ≈ 13 s, before the first elects itself leader); packet i carries byte i.
 */
function sendStream(net: AgNet, count: number): void {
  net.run(20_000)
  for (let i = 0; i < count; i++) {
    net.node(1).send(G, Uint8Array.of(i, 0, 0, 0))
    net.run(500)
  }
}



/** Group walk hops by walk (initiator, round id), in order. */
function walks(hops: readonly WalkHop[]): WalkHop[][] {
  const by = new Map<string, WalkHop[]>()
  for (const h of hops) {
    const k = `${h.initiator}/${h.id}`
    let w = by.get(k)
    if (!w) by.set(k, (w = []))
    w.push(h)
  }
  return [...by.values()]
}


test('walks alone: a packet lost on one branch is recovered from the member of another branch that holds it', () => {
  // No cached gossip and no help from the origin: only walks can find member 7.
  const { net, dropped } = lossyBranch({ seed: 3, gossip: { pAnonymous: 1, cacheOrigins: false } })
  assert.ok(dropped.size >= 9, `relay 3 dropped ${dropped.size} packets`)
  for (const id of LOSSY_MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  assert.is(net.metrics.value('ag', 1, 'replyMessages'), 0, 'the origin did not answer')
  assert.ok(net.metrics.value('ag', 7, 'replyMessages') >= dropped.size, `member 7 sent ${net.metrics.value('ag', 7, 'replyMessages')} messages`)
  assert.is(net.total('ag', 'cachedSent'), 0)
})

test('defaults: every member ends with every packet once, the losses by recovery', () => {
  const { net, dropped } = lossyBranch({ seed: 3, gossip: {} })
  assert.ok(dropped.size >= 9, `relay 3 dropped ${dropped.size} packets`)
  for (const id of LOSSY_MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  const recovered5 = net.got[4].filter((d) => d.recovered).length
  const recovered6 = net.got[5].filter((d) => d.recovered).length
  assert.ok(recovered5 >= dropped.size && recovered6 >= dropped.size, `recovered at 5: ${recovered5}, at 6: ${recovered6}`)
  assert.is(net.got[6].filter((d) => d.recovered).length, 0, '7 lost nothing')
  assert.ok(net.total('ag', 'recovered') >= 2 * dropped.size)
})

test('a walk never goes back on the link it came from and ends at a member', () => {
  const net = agNet(7, LOSSY_TREE, {
    seed: 5,
    gossip: { pAnonymous: 1 },
    filter: (id) => (id === 3 || id === 4 ? (p) => (agSeq(p.payload) ?? 1) % 4 !== 0 : undefined),
  })
  for (const id of LOSSY_MEMBERS) net.node(id).join(G)
  sendStream(net, 40)
  net.run(10_000)
  const ws = walks(net.walkHops)
  assert.ok(ws.length >= 20, `${ws.length} walks`)
  let multiHop = 0
  for (const w of ws) {
    assert.is(w[0].from, w[0].initiator, 'a walk starts at its initiator')
    for (let i = 1; i < w.length; i++) {
      assert.is(w[i].from, w[i - 1].to, 'each hop continues from where the last ended')
      assert.is.not(w[i].to, w[i - 1].from, `walk ${w[0].initiator}/${w[0].id} went back on its link: ${w.map((h) => h.to).join('→')}`)
      assert.is(w[i].hops, i)
    }
    assert.ok(LOSSY_MEMBERS.includes(w[w.length - 1].to), `walk ends at a member, ended at ${w[w.length - 1].to}`)
    if (w.length > 1) multiHop++
  }
  assert.ok(multiHop > 0, 'walks pass through relays')
  assert.is(net.total('ag', 'walksDropped'), 0)
  assert.is(net.total('ag', 'walksAccepted'), ws.length)
})

test('on a chain, acceptProbability decides between the first member met and the farthest', () => {
  // 1 sends; members 2, 3 and 5; relay 4 drops every fourth packet, so 5 misses what 2 and 3 hold.
  const CHAIN: Array<[number, number]> = [[1, 2], [2, 3], [3, 4], [4, 5]]
  const ends = (acceptProbability: number): Map<number, number> => {
    const net = agNet(5, CHAIN, {
      seed: 7,
      gossip: { acceptProbability, pAnonymous: 1, cacheOrigins: false, passOnUseless: false },
      filter: (id) => (id === 4 ? (p) => (agSeq(p.payload) ?? 1) % 4 !== 0 : undefined),
    })
    for (const id of [2, 3, 5]) net.node(id).join(G)
    sendStream(net, 40)
    net.run(5000)
    assert.equal(receivedBytes(net, 5), upTo(40))
    const out = new Map<number, number>()
    // Walks once data flows: before, an idle round may run before hellos told 3 about member 2.
    for (const w of walks(net.walkHops.filter((h) => h.initiator === 5 && h.at >= 20_000))) {
      const end = w[w.length - 1].to
      out.set(end, (out.get(end) ?? 0) + 1)
    }
    return out
  }
  const first = ends(1)
  assert.ok(first.get(3)! > 0 && first.get(2) === undefined, `p = 1: every walk from 5 ends at 3, the first member (${[...first]})`)
  const farthest = ends(0)
  assert.ok(farthest.get(2)! > 0 && farthest.get(3) === undefined, `p = 0: every walk ends at 2, past which no member is known (${[...farthest]})`)
})

test('forged and malformed gossip: a walk claiming 255 hops, an unasked reply, garbage — counted, never delivered, nothing throws', () => {
  const net = agNet(7, LOSSY_TREE, { seed: 8 })
  for (const id of LOSSY_MEMBERS) net.node(id).join(G)
  sendStream(net, 4)
  const before = net.got[4].length
  // From relay 3 to member 5 over the link: hops 255 with ttl 2 (hops + ttl > 255), and garbage.
  const walk = encodeGossip({ cached: false, hops: 0, ttl: 2, id: 1, group: G, initiator: 6, sources: [] })
  walk[2] = 255
  net.links[2].port(Proto.GOSSIP).send(2, walk)
  net.links[2].port(Proto.GOSSIP).send(5, Uint8Array.of(2, 0, 0))
  // A reply to member 5 for a round it never ran, routed by AODV from node 4.
  const reply = encodeReply({ walkHops: 1, id: 0x1234, group: G, messages: [{ origin: 1, seq: 77, payload: Uint8Array.of(99) }] })
  ;(net.routers[3]).sendRouted(5, Proto.GOSSIP, reply)
  net.run(5000)
  assert.ok(net.metrics.value('ag', 2, 'decodeErrors') >= 1, 'the forged walk is refused at the relay')
  assert.ok(net.metrics.value('ag', 5, 'decodeErrors') >= 1, 'garbage is counted')
  assert.ok(net.metrics.value('ag', 5, 'repliesUnasked') >= 1, 'the unasked reply is dropped')
  assert.not.ok(net.got[4].some((d) => d.payload[0] === 99), 'nothing of it was delivered')
  assert.is(net.got[4].length, before)
})

test('tree links learn nearestMember from hellos (split horizon)', () => {
  const net = agNet(7, LOSSY_TREE, { seed: 2 })
  for (const id of LOSSY_MEMBERS) net.node(id).join(G)
  sendStream(net, 10)
  const links = (id: number) => new Map(net.maodv[id - 1].tree(G)!.links.map((l: TreeLink) => [l.neighbour, l.nearestMember]))
  assert.equal(links(2), new Map([[1, 255], [3, 2], [4, 2]]), 'node 2: members two hops down both branches, none upstream')
  assert.equal(links(3), new Map([[2, 3], [5, 1], [6, 1]]))
  assert.equal(links(5), new Map([[3, 2]]), "member 5: its sibling 6, two hops away (5's own membership is not reported back)")
})

test('history bounds hold and evictions are reported once each', () => {
  const net = agNet(7, LOSSY_TREE, { seed: 4, gossip: { historySize: 10 } })
  for (const id of LOSSY_MEMBERS) net.node(id).join(G)
  let adds = 0
  let evicts = 0
  net.node(5).on('history-add', () => adds++)
  net.node(5).on('history-evict', () => evicts++)
  sendStream(net, 40)
  for (const id of LOSSY_MEMBERS) assert.ok(net.node(id).member(G)!.history.size <= 10)
  assert.is(adds, 40)
  assert.is(evicts, 30)
  assert.is(net.node(5).member(G)!.history.size, 10)
})

test('with nothing missing, gossip is only the configured idle minimum (none when it is 0)', () => {
  for (const idle of [0, 5000]) {
    const net = agNet(7, LOSSY_TREE, { seed: 6, gossip: { idleRoundPeriodMs: idle } })
    for (const id of LOSSY_MEMBERS) net.node(id).join(G)
    sendStream(net, 120) // 60 s of data, loss-free
    net.run(5000)
    for (const id of LOSSY_MEMBERS) assert.equal(receivedBytes(net, id), upTo(120))
    const rounds = net.total('ag', 'rounds')
    const messages = net.total('ag', 'walkHops') + net.total('ag', 'cachedSent') + net.total('ag', 'repliesSent')
    assert.is(net.total('ag', 'gapsDetected'), 0)
    if (idle === 0) {
      assert.is(rounds, 0)
      assert.is(messages, 0)
    } else {
      const bound = LOSSY_MEMBERS.length * Math.ceil(net.scheduler.now() / idle)
      assert.ok(rounds > 0 && rounds <= bound, `${rounds} idle rounds, at most ${bound}`)
      assert.ok(messages - net.total('ag', 'repliesSent') <= rounds * 8, 'at most one walk (≤ walkTtl hops) or cached gossip per round')
      // An idle round can race the tree: the origin may answer with the packet the tree is
      // delivering at that moment (a duplicate). At most one answer per round.
      assert.ok(net.total('ag', 'repliesSent') <= rounds)
      assert.is(net.total('ag', 'recovered'), 0)
    }
  }
})

test('nextHop: never the link it came from; weighted towards near members', () => {
  const link = (neighbour: number, nearestMember: number): TreeLink => ({ neighbour, upstream: false, activated: true, lastHeard: 0, member: false, nearestMember })
  const rng = new SeededRng(9)
  const links = [link(1, 1), link(2, 3), link(3, 2), link(4, 255)]
  const c = { localityExponent: 1 }
  const counts = new Map<number, number>()
  for (let i = 0; i < 30_000; i++) {
    const to = nextHop(links, 3, rng, c)!
    counts.set(to, (counts.get(to) ?? 0) + 1)
  }
  assert.is(counts.get(3), undefined, 'never back')
  assert.is(counts.get(4), undefined, 'never into a branch without members')
  const ratio = counts.get(1)! / counts.get(2)!
  assert.ok(ratio > 2.8 && ratio < 3.2, `distance 1 vs 3: ${ratio.toFixed(2)}× (expected 3)`)
  assert.is(nextHop([link(4, 1)], 4, rng, c), undefined, 'a leaf has nowhere to go')
  const uniform = new Map<number, number>()
  for (let i = 0; i < 30_000; i++) {
    const to = nextHop(links, 0, rng, { localityExponent: 0 })!
    uniform.set(to, (uniform.get(to) ?? 0) + 1)
  }
  for (const id of [1, 2, 3]) assert.ok(Math.abs(uniform.get(id)! / 10_000 - 1) < 0.05, 'exponent 0: uniform over links with members')
  const unknown = new Set<number>()
  for (let i = 0; i < 100; i++) unknown.add(nextHop([link(5, 255), link(6, 255)], 0, rng, c)!)
  assert.equal([...unknown].sort(), [5, 6], 'no link knows of a member: any link')
})

test('accepts: always at a leaf or with no hops left, else with the configured probability', () => {
  const rng = new SeededRng(1)
  assert.ok(accepts(0, 5, 0, rng))
  assert.ok(accepts(2, 1, 0, rng))
  assert.not.ok(accepts(2, 5, 0, rng))
  assert.ok(accepts(2, 5, 1, rng))
  let yes = 0
  for (let i = 0; i < 10_000; i++) if (accepts(2, 5, 0.3, rng)) yes++
  assert.ok(Math.abs(yes / 10_000 - 0.3) < 0.02)
})

test('a join refused for lack of gossip state (gossip.maxGroups) leaves the node off that tree', () => {
  const net = agNet(2, [[1, 2]], { gossip: { maxGroups: 1 } })
  net.node(1).join(groupAddr(1))
  assert.throws(() => net.node(1).join(groupAddr(2)), /cannot join group:2: .*gossip\.maxGroups/)
  net.run(20_000) // a lone first member makes itself leader after its join discovery times out
  assert.ok(net.maodv[0].tree(groupAddr(1)) !== undefined, 'on the tree of the group it joined')
  assert.is(net.maodv[0].tree(groupAddr(2)), undefined, 'not on the tree of the refused one')
})

test.run()
