import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr, type Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { checkTree, chain, grid, maodvNet, type MaodvNet } from './maodv-fixtures.ts'

const G = groupAddr(0)

function ok(r: ReturnType<typeof checkTree>): Exclude<ReturnType<typeof checkTree>, string> {
  if (typeof r === 'string') assert.unreachable(r)
  return r as Exclude<ReturnType<typeof checkTree>, string>
}

/** `count` packets from `from`, one every `everyMs`, each carrying (tag, k). */
function burst(t: MaodvNet, from: number, tag: number, count: number, everyMs = 100): void {
  for (let k = 0; k < count; k++) t.scheduler.at(k * everyMs, () => t.node(from).send(G, Uint8Array.of(tag, k)))
}

/** Deliveries of packets tagged `tag` at node `id`, as "tag/k" strings. */
function keys(t: MaodvNet, id: number, tag: number): string[] {
  return t.got[id - 1].filter((d) => d.payload[0] === tag).map((d) => `${d.payload[0]}/${d.payload[1]}`)
}

function upstream(t: MaodvNet, id: number): Addr | undefined {
  return t.node(id).tree(G)?.links.find((l) => l.upstream)?.neighbour
}

test('members joining together on a grid end on one tree: symmetric, acyclic, connected, one leader', () => {
  const t = maodvNet(25, grid(5, 5), { seed: 3 })
  const members = [1, 5, 13, 21, 25, 8]
  const joined: number[] = []
  for (const id of members) {
    t.node(id).on('joined', () => joined.push(id))
    t.node(id).join(G)
  }
  t.run(30_000)
  assert.equal(joined.sort((a, b) => a - b), [...members].sort((a, b) => a - b))
  const tree = ok(checkTree(t.nodes, G, members))
  assert.ok(tree.nodes.length < 25, 'only the branches needed are on the tree')
  assert.is(t.total('joins'), members.length)
  assert.is(t.total('leaderChanges'), 1, 'the first to give up finding a tree leads; the others found it')
})

test('data reaches every member exactly once over the tree, from a member and from a non-member', () => {
  const t = maodvNet(25, grid(5, 5), { seed: 4 })
  const members = [1, 5, 13, 21, 25]
  for (const id of members) t.node(id).join(G)
  t.run(30_000)
  ok(checkTree(t.nodes, G, members))
  burst(t, 13, 1, 20)
  t.run(5000)
  for (const id of members.filter((m) => m !== 13)) assert.equal(keys(t, id, 1), Array.from({ length: 20 }, (_, k) => `1/${k}`), `member ${id}`)
  assert.equal(keys(t, 13, 1), [], 'the origin does not deliver to itself')
  for (let id = 1; id <= 25; id++) if (!members.includes(id)) assert.is(t.got[id - 1].length, 0, `non-member ${id} delivers nothing`)
  // A non-member sender joins the tree as a router, buffering its first packets meanwhile.
  burst(t, 3, 2, 20)
  t.run(5000)
  for (const id of members) assert.equal(keys(t, id, 2), Array.from({ length: 20 }, (_, k) => `2/${k}`), `member ${id} got the non-member's packets once each`)
  const tree = ok(checkTree(t.nodes, G, [...members, 3]))
  assert.is(t.node(3).tree(G)?.member, false)
  assert.ok(tree.nodes.includes(3))
  assert.is(t.total('dataDelivered'), 20 * 4 + 20 * 5)
  assert.is(t.total('dataDropped'), 0)
})

test('random connected topologies: the activated links always form a valid tree over the members', () => {
  fc.assert(
    fc.property(fc.integer({ min: 6, max: 16 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }), (n, extraSeed, seed) => {
      // A random spanning tree plus random extra edges: connected by construction.
      let x = extraSeed * 7919 + 1
      const rnd = (k: number) => ((x = (x * 48271) % 2147483647), x % k)
      const pairs: Array<[number, number]> = []
      for (let i = 2; i <= n; i++) pairs.push([1 + rnd(i - 1), i])
      for (let e = 0; e < n; e++) {
        const a = 1 + rnd(n)
        const b = 1 + rnd(n)
        if (a !== b) pairs.push([a, b])
      }
      const members = [...new Set(Array.from({ length: 2 + rnd(4) }, () => 1 + rnd(n)))]
      const t = maodvNet(n, pairs, { seed })
      members.forEach((id, i) => t.scheduler.at(i * 700, () => t.node(id).join(G)))
      t.run(40_000)
      ok(checkTree(t.nodes, G, members))
      burst(t, members[0], 9, 5)
      t.run(3000)
      for (const id of members.slice(1)) assert.is(keys(t, id, 9).length, 5, `member ${id}`)
    }),
    { numRuns: 12 },
  )
})

test('a member joining an existing tree attaches through the nearest tree node within a second', () => {
  const t = maodvNet(9, chain(9))
  t.node(1).join(G)
  t.run(15_000)
  t.node(5).join(G)
  t.run(15_000)
  ok(checkTree(t.nodes, G, [1, 5]))
  let at = -1
  t.node(7).on('joined', () => (at = t.scheduler.now()))
  const start = t.scheduler.now()
  t.node(7).join(G)
  t.run(5000)
  assert.ok(at > start && at - start < 1000, `joined after ${at - start} ms`)
  const tree = ok(checkTree(t.nodes, G, [1, 5, 7]))
  assert.equal(tree.nodes, [1, 2, 3, 4, 5, 6, 7])
  assert.is(t.node(7).tree(G)?.hopsToLeader, 6)
  assert.is(upstream(t, 7), 6)
})

test('a leaf prunes itself, and non-member routers left as leaves prune in cascade', () => {
  const t = maodvNet(6, chain(6))
  t.node(1).join(G)
  t.run(15_000)
  t.node(3).join(G)
  t.node(6).join(G)
  t.run(15_000)
  assert.equal(ok(checkTree(t.nodes, G, [1, 3, 6])).nodes, [1, 2, 3, 4, 5, 6])
  t.node(6).leave(G)
  t.run(2000)
  assert.equal(ok(checkTree(t.nodes, G, [1, 3])).nodes, [1, 2, 3], '6 left, then 5 and 4 (non-member leaves) pruned')
  assert.is(t.total('prunes'), 3)
  assert.is(t.node(4).tree(G), undefined)
  t.node(3).leave(G)
  t.run(2000)
  assert.equal(ok(checkTree(t.nodes, G, [1])).nodes, [1], '3 and then router 2 pruned: the leader alone')
  assert.is(t.total('prunes'), 5)
  // Leaving while not a leaf: stays on the tree as a router.
  t.node(6).join(G)
  t.run(15_000)
  t.node(3).join(G)
  t.run(5000)
  ok(checkTree(t.nodes, G, [1, 3, 6]))
  t.node(3).leave(G)
  t.run(2000)
  assert.equal(ok(checkTree(t.nodes, G, [1, 6])).nodes, [1, 2, 3, 4, 5, 6])
  assert.is(t.node(3).tree(G)?.member, false)
})

test('a leader that leaves hands leadership over: MACT-G to a neighbour (non-leaf), MACT-G+P (leaf)', () => {
  const t = maodvNet(5, chain(5))
  t.node(3).join(G)
  t.run(15_000)
  t.node(2).join(G)
  t.node(5).join(G)
  t.run(15_000)
  assert.equal(ok(checkTree(t.nodes, G, [2, 3, 5])).leaders, [3])
  burst(t, 5, 1, 10) // hellos while data flows tell 3 that neighbour 2 is a member
  t.run(2000)
  const leaders: Addr[] = []
  t.node(2).on('leader', (e) => leaders.push(e.leader))
  t.node(3).leave(G)
  t.run(3000)
  const tree = ok(checkTree(t.nodes, G, [2, 5]))
  assert.equal(tree.leaders, [2], 'the member neighbour took over')
  assert.equal(leaders, [2])
  assert.is(t.node(3).tree(G)?.member, false, 'the old leader stays as a router between 2 and 5')
  burst(t, 5, 2, 10)
  t.run(2000)
  assert.is(keys(t, 2, 2).length, 10, 'data still flows through the old leader')
  // 5 sent recently: it stays (as a sender) until its hold runs out, then the branch prunes.
  t.node(5).leave(G)
  t.run(2000)
  assert.equal(ok(checkTree(t.nodes, G, [2])).nodes, [2, 3, 4, 5])
  t.run(10_000)
  assert.equal(ok(checkTree(t.nodes, G, [2])).nodes, [2])
  // The leader alone leaves: nothing is left.
  t.node(2).leave(G)
  t.run(2000)
  for (const n of t.nodes) assert.is(n.tree(G), undefined, `node ${n.address} is off the tree`)
  // A leaf leader with a router beyond: leadership passes along the router to the next member.
  const u = maodvNet(3, chain(3))
  u.node(1).join(G)
  u.run(15_000)
  u.node(3).join(G)
  u.run(5000)
  u.node(1).leave(G)
  u.run(2000)
  assert.equal(ok(checkTree(u.nodes, G, [3])).nodes, [3])
  assert.equal(ok(checkTree(u.nodes, G, [3])).leaders, [3])
})

test('a leader that leaves while still sending keeps leading until its hold runs out, then hands over', () => {
  const t = maodvNet(5, chain(5), { config: { senderHoldMs: 3000 } })
  t.node(3).join(G)
  t.run(15_000)
  t.node(2).join(G)
  t.node(5).join(G)
  t.run(10_000)
  burst(t, 3, 1, 10)
  t.run(500)
  t.node(3).leave(G)
  t.run(1000)
  assert.equal(ok(checkTree(t.nodes, G, [2, 5])).leaders, [3], 'still sending: still the leader')
  t.run(4000)
  const tree = ok(checkTree(t.nodes, G, [2, 5]))
  assert.equal(tree.leaders, [2], 'handed over to its member neighbour once its hold ran out')
  assert.is(t.node(3).tree(G)?.member, false)
  assert.equal(keys(t, 5, 1).length, 10)
})

test('a non-member sender stays on the tree while it sends, then prunes itself', () => {
  const t = maodvNet(5, chain(5), { config: { senderHoldMs: 3000 } })
  t.node(1).join(G)
  t.run(15_000)
  burst(t, 5, 1, 10)
  t.run(1500)
  assert.equal(ok(checkTree(t.nodes, G, [1, 5])).nodes, [1, 2, 3, 4, 5])
  t.run(5000)
  assert.is(keys(t, 1, 1).length, 10)
  assert.equal(ok(checkTree(t.nodes, G, [1])).nodes, [1], 'after its hold, 5 and the routers it needed pruned')
})

test('a non-member sender with no tree anywhere reports undeliverable, then fails fast', () => {
  const t = maodvNet(3, chain(3))
  const lost: string[] = []
  t.node(1).on('undeliverable', (u) => lost.push(u.reason))
  t.node(1).send(G, Uint8Array.of(1))
  t.node(1).send(G, Uint8Array.of(2))
  t.run(15_000)
  assert.equal(lost, ['no multicast tree found', 'no multicast tree found'])
  t.node(1).send(G, Uint8Array.of(3))
  assert.equal(lost.length, 3)
  assert.match(lost[2], /recently/)
  assert.is(t.total('dataDropped'), 3)
  assert.is(t.total('leaderChanges'), 0, 'a non-member never elects itself')
})

test('API boundary: argument checks, close', () => {
  const t = maodvNet(2, chain(2))
  const n = t.node(1)
  assert.throws(() => n.send(5, Uint8Array.of(1)), /group addresses only/)
  assert.throws(() => n.send(G, 'x' as never), /Uint8Array/)
  assert.throws(() => n.join(5), /not a group address/)
  assert.throws(() => n.send(G, new Uint8Array(n.maxPayload + 1)), (e: unknown) => (e as SpinmeshError).code === ErrorCodes.DATAGRAM_TOO_LARGE)
  n.join(G)
  t.run(1000)
  n.close()
  n.close()
  assert.throws(() => n.join(G), (e: unknown) => (e as SpinmeshError).code === ErrorCodes.CLOSED)
  t.node(2).close()
  for (const l of t.links) l.close()
  t.run(60_000)
  assert.is(t.scheduler.pending, 0, 'no timer left behind')
  assert.equal(t.node(1).trees(), [])
})

test.run()
