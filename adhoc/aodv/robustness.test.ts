import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST } from '../../core/addr.ts'
import { Proto } from '../protocols.ts'
import { aodvNet } from './aodv-fixtures.ts'
import { encodeHello, encodeRerr, encodeRrep, encodeRreq } from './aodv-messages.ts'
import { encodeRouted } from './routed-frame.ts'

/** A random connected graph on n nodes: a random spanning tree plus extra edges. */
const graph = fc.integer({ min: 2, max: 9 }).chain((n) =>
  fc.tuple(
    fc.constant(n),
    fc.array(fc.nat(), { minLength: n - 1, maxLength: n - 1 }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n })), { maxLength: n }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n }), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: 1000 }),
  ).map(([n, parents, extra, sends, seed]) => {
    const edges: Array<[number, number]> = parents.map((p, i) => [i + 2, (p % (i + 1)) + 1])
    for (const [a, b] of extra) if (a !== b) edges.push([a, b])
    return { n, edges, sends: sends.filter(([a, b]) => a !== b), seed }
  }),
)

test('static connected networks without loss: every packet arrives once, with a loop-free hop count', () => {
  fc.assert(
    fc.property(graph, ({ n, edges, sends, seed }) => {
      const net = aodvNet(n, edges, { seed })
      sends.forEach(([from, to, at], k) => net.scheduler.at(at, () => net.node(from).send(to, Uint8Array.of(k))))
      net.scheduler.run({ until: 20_000 })
      sends.forEach(([from, to], k) => {
        const got = net.delivered[to - 1].filter((d) => d.payload[0] === k)
        assert.is(got.length, 1, `packet ${k} ${from}→${to} delivered once`)
        assert.ok(got[0].hops >= 1 && got[0].hops < n, `hops ${got[0].hops} < ${n}`)
      })
      assert.equal(net.of('undeliverable'), [])
      assert.is(net.total('dataDropped'), 0)
      for (const a of net.nodes) a!.close()
      for (const l of net.links) l.close()
      net.scheduler.run()
      assert.is(net.scheduler.pending, 0, 'no timer survives close()')
    }),
    { seed: 61, numRuns: 60 },
  )
})

const node = fc.integer({ min: 1, max: 6 })
const seq = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff))
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ proto: Proto.AODV, b })),
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ proto: Proto.ROUTED_DATA, b })),
  fc.record({ g: fc.boolean(), d: fc.boolean(), u: fc.boolean(), hops: fc.nat({ max: 255 }), ttl: fc.integer({ min: 1, max: 255 }), id: fc.nat({ max: 3 }), dst: node, dstSeq: seq, origin: node, originSeq: seq })
    .map((q) => ({ proto: Proto.AODV, b: encodeRreq({ ...q, j: false, r: false }) })),
  fc.record({ a: fc.boolean(), hops: fc.nat({ max: 255 }), dst: node, dstSeq: seq, origin: node, lifetimeMs: fc.integer({ min: 0, max: 0xffffffff }) })
    .map((p) => ({ proto: Proto.AODV, b: encodeRrep({ ...p, r: false }) })),
  fc.record({ n: fc.boolean(), unreachable: fc.array(fc.record({ dst: node, seq }), { minLength: 1, maxLength: 4 }) }).map((r) => ({ proto: Proto.AODV, b: encodeRerr(r) })),
  fc.record({ addr: node, seq, lifetimeMs: fc.integer({ min: 0, max: 100_000 }) }).map((h) => ({ proto: Proto.AODV, b: encodeHello(h) })),
  fc.record({ origin: node, dst: node, seq: fc.nat(), ttl: fc.integer({ min: 1, max: 255 }), hops: fc.nat({ max: 255 }), proto: fc.nat({ max: 255 }) })
    .map((p) => ({ proto: Proto.ROUTED_DATA, b: encodeRouted({ ...p, payload: Uint8Array.of(9) }) })),
)

test('arbitrary and forged messages from a neighbour never break a node (errors counted, timers bounded)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(hostile, fc.boolean(), fc.integer({ min: 0, max: 2000 })), { maxLength: 25 }), fc.integer({ min: 0, max: 99 }), (msgs, seed) => {
      // 1 (bare, hostile) - 2 - 3 - 4 - 5, 2 also hears 6 (bare); the honest nodes also talk.
      const net = aodvNet(6, [[1, 2], [2, 3], [3, 4], [4, 5], [2, 6]], { bare: [1, 6], seed, config: { localRepair: seed % 2 === 0, rrepAck: seed % 3 === 0 } })
      for (const [{ proto, b }, bcast, at] of msgs) net.scheduler.at(at, () => net.links[0].send(bcast ? BROADCAST : 2, proto, b))
      net.scheduler.at(100, () => net.node(5).send(2, Uint8Array.of(1)))
      net.scheduler.at(500, () => net.node(3).send(5, Uint8Array.of(2)))
      net.scheduler.run({ until: 60_000 })
      for (let id = 2; id <= 5; id++) {
        for (const r of net.node(id).routes()) assert.ok(r.hops <= 255 && r.dst !== id, `node ${id} has no route to itself`)
      }
      for (const a of net.nodes) a?.close()
      for (const l of net.links) l.close()
      net.scheduler.run()
      assert.is(net.scheduler.pending, 0)
    }),
    { seed: 62, numRuns: 150 },
  )
})

test.run()
