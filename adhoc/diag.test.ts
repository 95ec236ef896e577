/** ping and traceroute over AODV on simulated chains; the diag codec is total. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { checkDecoderProperties } from '../core/testing.ts'
import { aodvNet, chain, type AodvNet } from './aodv/aodv-fixtures.ts'
import { Diag, DiagType, decodeDiag, encodeDiag, type DiagMessage } from './diag.ts'

/** Run virtual time until `p` settles (the diag awaits between steps: flush microtasks as we go). */
async function drive<T>(net: AodvNet, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  p.then(() => (done = true), () => (done = true))
  const end = net.scheduler.now() + maxMs
  while (!done && net.scheduler.now() < end) {
    net.scheduler.run({ until: net.scheduler.now() + 20 })
    for (let i = 0; i < 5; i++) await Promise.resolve()
  }
  return p
}

function diags(net: AodvNet): Diag[] {
  return net.links.map((link, i) => new Diag({ link, router: net.node(i + 1), scheduler: net.scheduler }))
}

test('ping across a 5-node chain: every echo answered, 4 hops each way', async () => {
  const net = aodvNet(5, chain(5))
  const d = diags(net)
  const results = await drive(net, d[0].ping(5, { count: 3, intervalMs: 500 }))
  assert.is(results.length, 3)
  for (const r of results) {
    assert.ok(r.rttMs !== null && r.rttMs > 0, `seq ${r.seq}: rtt ${r.rttMs}`)
    assert.is(r.hopsThere, 4)
    assert.is(r.hopsBack, 4)
  }
  assert.ok(results[0].rttMs! > results[2].rttMs!, 'the first echo waited for route discovery')
})

test('traceroute across a 5-node chain shows the 4 hops, from the routing tables of the nodes on it', async () => {
  const net = aodvNet(5, chain(5))
  const d = diags(net)
  const hops = await drive(net, d[0].traceroute(5))
  assert.equal(hops.map((h) => [h.hop, h.node]), [[1, 2], [2, 3], [3, 4], [4, 5]])
  assert.ok(hops.every((h) => h.rttMs !== null && h.rttMs > 0))
})

test('traceroute stops where an answer names a node already on the path (a routing loop or a lie)', async () => {
  const net = aodvNet(5, chain(5))
  // Node 4 answers that its next hop to 5 is node 2 (already on the path): a loop.
  const real = net.node(4)
  const lying = new Proxy(real, {
    get(t, k) {
      if (k === 'route') return (dst: number) => {
        const r = t.route(dst)
        return dst === 5 && r ? { ...r, nextHop: 2 } : r
      }
      const v = Reflect.get(t, k) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
  const d = net.links.map((link, i) => new Diag({ link, router: i === 3 ? lying : net.node(i + 1), scheduler: net.scheduler }))
  const hops = await drive(net, d[0].traceroute(5))
  assert.equal(hops.map((h) => [h.hop, h.node]), [[1, 2], [2, 3], [3, 4]])
})

test('an unreachable node: pings time out (null), traceroute is empty; bad targets refused', async () => {
  const net = aodvNet(4, [[1, 2], [3, 4]])
  const d = diags(net)
  const pings = await drive(net, d[0].ping(4, { count: 2, intervalMs: 100 }))
  assert.equal(pings.map((p) => p.rttMs), [null, null])
  assert.equal(await drive(net, d[0].traceroute(4)), [])
  await d[0].ping(1).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /not another node/))
  d[0].close()
  await d[0].ping(2).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /closed/))
})

const message: fc.Arbitrary<DiagMessage> = fc.oneof(
  fc.record({ type: fc.constantFrom('echo-request' as const, 'echo-reply' as const), id: fc.integer({ min: 0, max: 0xffff }), seq: fc.integer({ min: 0, max: 0xffff }), hops: fc.integer({ min: 0, max: 255 }), padding: fc.integer({ min: 0, max: 64 }) }),
  fc.record({ type: fc.constant('route-query' as const), id: fc.integer({ min: 0, max: 0xffff }), target: fc.integer({ min: 1, max: 0x7fffffff }) }),
  fc.record({ type: fc.constant('route-answer' as const), id: fc.integer({ min: 0, max: 0xffff }), target: fc.integer({ min: 1, max: 0x7fffffff }), nextHop: fc.integer({ min: 0, max: 0x7fffffff }), hops: fc.integer({ min: 0, max: 255 }) }),
)

test('diag codec: round trip, and a total decoder', () => {
  fc.assert(fc.property(message, (m) => assert.equal(decodeDiag(encodeDiag(m)), { ...m })))
  checkDecoderProperties({ decode: decodeDiag, valid: message, encode: encodeDiag, typeBytes: Object.values(DiagType) })
})

test.run()
