import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr, type Addr } from '../../core/addr.ts'
import { SeededRng } from '../../core/rng.ts'
import type { Timer } from '../../core/scheduler.ts'
import { Proto } from '../protocols.ts'
import { MACT_U, encodeMact } from './maodv-messages.ts'
import { Maodv } from './maodv.ts'
import type { LinkRx } from '../link-types.ts'
import { checkTree, chain, grid, maodvNet, upstreamCycle, type MaodvNet } from './maodv-fixtures.ts'

const G = groupAddr(0)

function ok(r: ReturnType<typeof checkTree>): Exclude<ReturnType<typeof checkTree>, string> {
  if (typeof r === 'string') assert.unreachable(r)
  return r as Exclude<ReturnType<typeof checkTree>, string>
}

/** Node `from` sends one packet (tagged with a running number) every `everyMs` until stopped. */
function stream(t: MaodvNet, from: number, everyMs = 100): { stop(): void; sent: () => number } {
  let k = 0
  let timer: Timer
  const tick = () => {
    t.node(from).send(G, Uint8Array.of(from, k >> 8, k & 0xff))
    k++
    timer = t.scheduler.at(everyMs, tick)
  }
  timer = t.scheduler.at(0, tick)
  return { stop: () => timer.cancel(), sent: () => k }
}

/** Numbers of the packets from `origin` delivered at `id`. */
function got(t: MaodvNet, id: number, origin: number): number[] {
  return t.got[id - 1].filter((d) => d.origin === origin).map((d) => (d.payload[1] << 8) | d.payload[2])
}

function upstream(t: MaodvNet, id: number): Addr | undefined {
  return t.node(id).tree(G)?.links.find((l) => l.upstream)?.neighbour
}

/** Leader first, then the other members a little later: a tree rooted at `members[0]`. */
function buildTree(t: MaodvNet, members: number[]): void {
  t.node(members[0]).join(G)
  t.run(15_000)
  for (const id of members.slice(1)) t.node(id).join(G)
  t.run(10_000)
  ok(checkTree(t.nodes, G, members))
}

test('repair after a broken tree link: the downstream end finds a new branch and members keep receiving', () => {
  const t = maodvNet(9, grid(3, 3))
  buildTree(t, [1, 9, 3])
  const s = stream(t, 1)
  t.run(2000)
  const victim = 9
  const up = upstream(t, victim)!
  const repairs: boolean[] = []
  t.node(victim).on('repair', (e) => repairs.push(e.ok))
  t.disconnect(victim, up)
  const cut = s.sent()
  t.run(3000)
  assert.equal(repairs, [true], `node ${victim} repaired its branch`)
  const tree = ok(checkTree(t.nodes, G, [1, 9, 3]))
  const key = victim < up ? `${victim}-${up}` : `${up}-${victim}`
  assert.not.ok(tree.edges.includes(key), 'the broken link is gone from the tree')
  const healed = s.sent()
  t.run(3000)
  s.stop()
  t.run(1000)
  const sent = s.sent()
  for (const id of [3, 9]) {
    const mine = new Set(got(t, id, 1))
    assert.is(mine.size, got(t, id, 1).length, `member ${id}: no packet twice`)
    for (let k = healed; k < sent; k++) assert.ok(mine.has(k), `member ${id} got packet ${k} (sent after the repair)`)
  }
  assert.ok(got(t, 9, 1).filter((k) => k >= cut && k < healed).length < healed - cut, 'some packets were lost while the link was down')
  assert.ok(t.total('repairs') >= 1)
  assert.is(t.total('repairFailures'), 0)
})

test('the hop-count rule: a repairing node never attaches through its own subtree', () => {
  // Tree 1-2-3-4-5 (leader 1, member 5). Then a link 2-5 appears and 2-3 breaks: node 3 (2 hops
  // from the leader) can hear only its own child 4 (3 hops), which must not answer. The repair
  // fails, the detached part elects member 5, and the two trees merge over 2-5.
  const t = maodvNet(5, chain(5))
  buildTree(t, [1, 5])
  assert.equal(ok(checkTree(t.nodes, G, [1, 5])).nodes, [1, 2, 3, 4, 5])
  const upstreamsOf3: Array<Addr | undefined> = []
  t.node(3).on('tree-change', () => upstreamsOf3.push(upstream(t, 3)))
  const repairs: boolean[] = []
  t.node(3).on('repair', (e) => repairs.push(e.ok))
  const merges: Addr[] = []
  t.node(1).on('merge', (e) => merges.push(e.leader))
  const rrepsOf4 = t.metrics.value('maodv', 4, 'rrep')
  const s = stream(t, 1)
  t.run(1000)
  t.connect(2, 5)
  t.disconnect(2, 3)
  t.run(6000)
  assert.equal(repairs, [false], 'nothing outside its subtree was in reach: the repair failed')
  assert.is(t.metrics.value('maodv', 4, 'rrep'), rrepsOf4, 'its child (3 hops from the leader) did not answer')
  assert.not.ok(upstreamsOf3.includes(4), 'node 3 never made its child its upstream')
  t.run(6000)
  s.stop()
  t.run(1000)
  const tree = ok(checkTree(t.nodes, G, [1, 5]))
  assert.equal(tree.leaders, [5], 'the detached part elected member 5; the lower address (1) merged into it')
  assert.ok(tree.edges.includes('2-5'))
  assert.equal(merges, [5])
  const tail = got(t, 5, 1).slice(-10)
  assert.is(tail.length, 10)
  assert.is(tail[9], s.sent() - 1, 'data from 1 reaches 5 again')
})

test('a partition gives two leaders; healing it merges the trees into one with one leader', () => {
  const t = maodvNet(6, chain(6))
  buildTree(t, [1, 2, 5, 6])
  assert.equal(ok(checkTree(t.nodes, G, [1, 2, 5, 6])).leaders, [1])
  const s1 = stream(t, 2, 200)
  const s6 = stream(t, 6, 200)
  t.run(1000)
  t.disconnect(3, 4)
  t.run(8000)
  const left = ok(checkTree(t.nodes, G, [1, 2], [1, 2, 3]))
  const right = ok(checkTree(t.nodes, G, [5, 6], [4, 5, 6]))
  assert.equal(left.leaders, [1])
  assert.equal(right.leaders, [5], 'the detached part chose a member as its new leader')
  assert.equal(left.nodes, [1, 2], 'router 3 pruned itself')
  assert.equal(right.nodes, [5, 6], 'router 4 handed leadership on and left')
  const merges: Array<[number, Addr]> = []
  for (const n of t.nodes) n.on('merge', (e) => merges.push([n.address, e.leader]))
  t.connect(3, 4)
  t.run(12_000)
  const tree = ok(checkTree(t.nodes, G, [1, 2, 5, 6]))
  assert.equal(tree.leaders, [5])
  assert.equal(tree.nodes, [1, 2, 3, 4, 5, 6])
  // Leader 1 (lower address) asked 5 to merge; its tree's node nearest to 5 on the way (2)
  // attached and re-oriented the rest.
  assert.equal(merges.sort(), [[2, 5], [5, 5]])
  const from2 = s1.sent()
  const from6 = s6.sent()
  t.run(2000)
  s1.stop()
  s6.stop()
  t.run(1000)
  for (let k = from2; k < s1.sent(); k++) assert.ok(got(t, 6, 2).includes(k), `6 got packet ${k} of 2`)
  for (let k = from6; k < s6.sent(); k++) assert.ok(got(t, 1, 6).includes(k), `1 got packet ${k} of 6`)
  assert.is(t.total('merges'), 1)
})

test('a new leader never merges through its own subtree, even while its MACT-U wave is slow to cover it', () => {
  // Tree 6-5-2-3-4 (leader 6, members 2 and 4), plus radio links 2-4 and 4-1-6 off the tree. Link
  // 2-5 breaks: the repair of 2 fails (its only neighbours, 3 and 4, are its own subtree), so 2
  // leads the part 2-3-4 and merges back into 6's tree (2 < 6) — along the GRPH reverse path,
  // which runs through its grandchild 4. Node 4 is the last to hear that 2 leads (its frames from
  // 3 are held 300 ms). Had 2 merged at once, 4 (still naming 6) would relay the merge reply to
  // 2, and 2 would take its own grandchild for its upstream: the cycle 2 -> 4 -> 3 -> 2.
  const t = maodvNet(6, [[6, 5], [5, 2], [2, 3], [3, 4]], { seed: 3 })
  buildTree(t, [6, 2, 4])
  assert.equal(ok(checkTree(t.nodes, G, [2, 4, 6])).edges, ['2-3', '2-5', '3-4', '5-6'])
  for (const [a, b] of [[2, 4], [4, 1], [1, 6]] as const) t.connect(a, b)
  const n4 = t.node(4) as unknown as { receiveControl(rx: LinkRx): void }
  const deliver = n4.receiveControl.bind(n4)
  let holdUntil = -Infinity
  n4.receiveControl = (rx) => {
    const wait = holdUntil - t.scheduler.now()
    if (rx.from === 3 && wait > 0) t.scheduler.at(wait, () => deliver(rx))
    else deliver(rx)
  }
  t.node(2).on('leader', (e) => {
    if (e.leader === 2) holdUntil = t.scheduler.now() + 300
  })
  const cycles: string[] = []
  const check = () => {
    const c = upstreamCycle(t.nodes, G)
    if (c !== undefined) cycles.push(`${t.scheduler.now().toFixed(0)} ms: ${c.join(' -> ')}`)
  }
  // After every change of any node's tree (once the event that made it is over).
  for (const n of t.nodes) n.on('tree-change', () => void t.scheduler.at(0, check))
  const repairs: boolean[] = []
  t.node(2).on('repair', (e) => repairs.push(e.ok))
  const merges: Array<[Addr, Addr]> = []
  for (const n of t.nodes) n.on('merge', (e) => merges.push([n.address, e.leader]))
  const s = stream(t, 6, 200)
  t.run(1000)
  t.disconnect(2, 5)
  t.run(20_000)
  s.stop()
  t.run(1000)
  assert.equal(cycles, [], 'no cycle of upstream links, ever')
  assert.is(repairs[0], false, 'the repair of 2 failed: a partition')
  assert.ok(holdUntil > 0, '2 became leader of its part')
  const tree = ok(checkTree(t.nodes, G, [2, 4, 6]))
  assert.equal(tree.leaders, [6], 'one tree again, led by 6')
  assert.ok(merges.some(([, leader]) => leader === 6), 'the part merged back into 6')
  const last = s.sent() - 1
  assert.ok(got(t, 2, 6).includes(last) && got(t, 4, 6).includes(last), 'data from 6 reaches 2 and 4 again')
})

test('a MACT-U from the upstream with more than NET_DIAMETER hops is a loop: the link is broken and repaired', () => {
  const t = maodvNet(3, chain(3))
  buildTree(t, [1, 3])
  assert.is(upstream(t, 3), 2)
  const tree = t.node(3).tree(G)!
  const mact = (hops: number) => encodeMact({ flags: MACT_U, hopsToLeader: hops, group: G, groupSeq: tree.groupSeq, leader: 1, origin: 2, rreqId: 0, replier: 0 })
  const port = t.links[1].port(Proto.MAODV)
  port.send(3, mact(34)) // 35 hops at 3: deep, but possible
  t.run(100)
  assert.is(upstream(t, 3), 2)
  assert.is(t.node(3).tree(G)!.hopsToLeader, 35)
  port.send(3, mact(35))
  t.run(100)
  assert.is.not(upstream(t, 3), 2, 'node 3 dropped the upstream that claimed 36 hops')
  assert.is(t.metrics.value('maodv', 3, 'repairs'), 1)
  t.run(10_000)
  ok(checkTree(t.nodes, G, [1, 3]))
})

test('750 ms liveness: a silent tree neighbour is detected within a second while data flows, not while idle', () => {
  const t = maodvNet(3, chain(3))
  buildTree(t, [1, 3])
  const broken = (id: number, nb: number) => !t.node(id).tree(G)?.links.some((l) => l.neighbour === nb)
  // Idle: the link layer's neighbour expiry (3.5 s) is the only detector.
  t.disconnect(2, 3)
  t.run(2500)
  assert.not.ok(broken(3, 2), 'idle tree: no keepalives, no detection yet')
  t.connect(2, 3)
  t.run(20_000)
  ok(checkTree(t.nodes, G, [1, 3]))
  // Data flowing: node 3 hears 2's packets, then nothing; it must notice within the liveness rule
  // (750 ms, then an acked probe that fails).
  const s = stream(t, 1)
  t.run(2000)
  assert.is(t.total('hello') > 0, true, 'leaf 3 sends keepalives while data flows')
  let at = -1
  t.node(3).on('tree-change', () => {
    if (at < 0 && broken(3, 2)) at = t.scheduler.now()
  })
  const cutAt = t.scheduler.now()
  t.disconnect(2, 3)
  t.run(3000)
  s.stop()
  assert.ok(at > 0, 'node 3 dropped its silent upstream')
  const after = at - cutAt
  assert.ok(after >= 750 && after < 1200, `detected ${after.toFixed(0)} ms after the neighbour fell silent`)
})

test('750 ms liveness goes on for two periods after the flow stops: an upstream lost then is still noticed', () => {
  // The flow may stop here because the upstream went: its links are watched a little longer.
  const t = maodvNet(3, chain(3))
  buildTree(t, [1, 3])
  const s = stream(t, 1)
  t.run(3000)
  s.stop()
  t.run(1500) // 2 still sends hellos (it too saw data a moment ago)
  const cutAt = t.scheduler.now()
  t.disconnect(2, 3)
  let at = -1
  t.node(3).on('tree-change', () => {
    if (at < 0 && upstream(t, 3) !== 2) at = t.scheduler.now()
  })
  t.run(3000)
  assert.ok(at > 0 && at - cutAt < 1200, `dropped ${(at - cutAt).toFixed(0)} ms after the cut (the link layer would take 3.5 s)`)
})

test('a tree neighbour heard relaying a join request is off the tree: the link is one-sided and dropped', () => {
  // Node 2 restarts (no tree state) without a word; 4 joins through it. Its relay of 4's request
  // tells 1 and 3 (idle, so no liveness rule runs) that it has no tree links.
  const t = maodvNet(4, [...chain(3), [2, 4]])
  buildTree(t, [1, 3])
  t.node(2).close()
  t.nodes[1] = new Maodv({ link: t.links[1], scheduler: t.scheduler, rng: new SeededRng('fresh'), metrics: t.metrics.scope('maodv', 2) })
  t.node(4).join(G)
  t.run(300)
  assert.not.ok(t.node(1).tree(G)?.links.some((l) => l.neighbour === 2), '1 dropped 2')
  assert.not.ok(t.node(3).tree(G)?.links.some((l) => l.neighbour === 2), '3 dropped 2')
  t.run(15_000)
  ok(checkTree(t.nodes, G, [1, 3, 4]))
})

test('750 ms liveness: a neighbour whose link still acks but whose MAODV is silent is dropped too', () => {
  const t = maodvNet(4, chain(4))
  buildTree(t, [1, 4])
  const s = stream(t, 1)
  t.run(2000)
  t.node(3).close()
  const cutAt = t.scheduler.now()
  let at = -1
  t.node(4).on('tree-change', () => {
    if (at < 0 && !t.node(4).tree(G)?.links.some((l) => l.neighbour === 3)) at = t.scheduler.now()
  })
  t.run(4000)
  s.stop()
  assert.ok(at > 0)
  assert.ok(at - cutAt < 2 * 750 + 300, `dropped after ${(at - cutAt).toFixed(0)} ms (probe acked by the link, then a second liveness period)`)
})

test('a restarted neighbour (no tree state) that gets tree data answers MACT-R, and the branch is repaired', () => {
  const t = maodvNet(5, [...chain(4), [4, 5], [5, 1]])
  buildTree(t, [1, 4])
  const via = upstream(t, 4)!
  assert.equal(ok(checkTree(t.nodes, G, [1, 4])).nodes.length, via === 3 ? 4 : 3)
  // The upstream of 4 loses its state but keeps its link (a restart of the protocol only).
  const middle = via
  t.node(middle).close()
  const fresh = new Maodv({ link: t.links[middle - 1], scheduler: t.scheduler, rng: new SeededRng('fresh'), metrics: t.metrics.scope('maodv', middle) })
  t.nodes[middle - 1] = fresh
  const s = stream(t, 1)
  t.run(1000)
  assert.ok(t.metrics.value('maodv', middle, 'mact') >= 1, 'the restarted node refused the tree data sent to it')
  // Its old child hears nothing from it; its next hello (idle: data no longer reaches it) lists the
  // restarted node, which answers MACT-R, and the child repairs.
  t.run(11_000)
  s.stop()
  t.run(500)
  ok(checkTree(t.nodes, G, [1, 4]))
  const last = s.sent() - 1
  assert.ok(got(t, 4, 1).includes(last), 'data reaches 4 again')
})

test('forwardFilter: a relay that refuses to forward (black hole) still delivers to itself but starves its subtree', () => {
  const t = maodvNet(4, chain(4), { filter: (id) => (id === 2 ? () => false : undefined) })
  buildTree(t, [1, 2, 4])
  const s = stream(t, 1)
  t.run(2000)
  s.stop()
  t.run(500)
  assert.is(got(t, 2, 1).length, s.sent(), 'the black hole is a member and gets everything')
  assert.is(got(t, 4, 1).length, 0, 'nothing gets past it')
  assert.is(t.metrics.value('maodv', 2, 'filtered'), s.sent())
})

test('an idle tree costs one hello per tree node per GRPH interval, besides the GRPH flood', () => {
  const t = maodvNet(5, chain(5))
  buildTree(t, [1, 5])
  const before = { hello: t.total('hello'), mact: t.total('mact'), rreq: t.total('rreq'), grph: t.total('grph') }
  t.run(30_000)
  const hellos = t.total('hello') - before.hello
  assert.ok(hellos >= 5 * 3 && hellos <= 5 * 6, `${hellos} hellos from 5 tree nodes in 30 s`)
  assert.is(t.total('mact'), before.mact)
  assert.is(t.total('rreq'), before.rreq)
  assert.is(t.total('grph') - before.grph, 6 * 5, 'one GRPH per 5 s from the leader, relayed by the 4 others')
})

test('a non-member sender whose only tree link breaks holds its packets for the repair, then sends them', () => {
  // A ring 1-2-4-3-1: member 4 leads, sender 1 (not a member) joins through 2 or 3.
  const t = maodvNet(4, [[1, 2], [2, 4], [4, 3], [3, 1]])
  t.node(4).join(G)
  t.run(15_000)
  const s = stream(t, 1)
  t.run(3000)
  const up = upstream(t, 1)!
  let ended: boolean | undefined
  t.node(1).on('repair', (e) => (ended = e.ok))
  t.disconnect(1, up)
  // Sample every 100 ms (the stream's period) whether the sender is left without a tree link.
  let repairing = 0
  let watch: Timer
  const sample = (): void => {
    if (t.node(1).tree(G)?.links.length === 0) repairing++
    watch = t.scheduler.at(100, sample)
  }
  sample()
  t.run(5000)
  watch!.cancel()
  s.stop()
  t.run(2000)
  assert.is(ended, true, 'the repair found the other side of the ring')
  assert.ok(repairing > 0, 'packets were sent while the sender had no tree link')
  const lost = s.sent() - got(t, 4, 1).length
  assert.ok(lost <= 1, `${lost} packets lost (at most the one whose link-level send failed)`)
})

test('a sender cut off from the tree reports what it held for the failed repair undeliverable', () => {
  const t = maodvNet(4, [[1, 2], [2, 4], [4, 3], [3, 1]])
  t.node(4).join(G)
  t.run(15_000)
  const s = stream(t, 1)
  t.run(3000)
  const reasons: string[] = []
  t.node(1).on('undeliverable', (u) => reasons.push(u.reason))
  let ended: boolean | undefined
  t.node(1).on('repair', (e) => (ended = e.ok))
  t.disconnect(1, 2)
  t.disconnect(1, 3)
  t.run(15_000)
  s.stop()
  assert.is(ended, false, 'nothing to repair through')
  assert.ok(reasons.includes('tree repair failed'), `reasons: ${[...new Set(reasons)].join(', ')}`)
})

test.run()
