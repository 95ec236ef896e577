import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST, groupAddr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { MetricsRegistry } from '../../core/metrics.ts'
import { Proto } from '../protocols.ts'
import type { RoutedMessage } from '../routing.ts'
import type { AodvForwardCandidate } from './aodv.ts'
import { aodvNet, chain } from './aodv-fixtures.ts'
import { decodeAodv, encodeRrep, encodeRreq, type AodvMessage } from './aodv-messages.ts'
import { encodeRouted } from './routed-frame.ts'

const rreq = { j: false, r: false, g: false, d: false, u: false, hops: 0, ttl: 1, id: 0, dstSeq: 0, originSeq: 1 }

/** Control messages a bare node receives. */
function inbox(net: ReturnType<typeof aodvNet>, id: number): AodvMessage[] {
  const got: AodvMessage[] = []
  net.links[id - 1].port(Proto.AODV).on('receive', (rx) => got.push(decodeAodv(rx.payload)))
  return got
}

test('API: unicast only, precise errors', () => {
  const net = aodvNet(2, [[1, 2]])
  const a = net.node(1)
  assert.is(a.name, 'aodv')
  assert.is(a.address, 1)
  assert.throws(() => a.send(BROADCAST, new Uint8Array(1)), (e: unknown) => e instanceof RangeError && /unicast/.test((e as Error).message))
  assert.throws(() => a.send(groupAddr(3), new Uint8Array(1)), (e: unknown) => e instanceof RangeError && /maodv/.test((e as Error).message))
  assert.throws(() => a.send(1, new Uint8Array(1)), /own address/)
  assert.throws(() => a.send(0, new Uint8Array(1)), RangeError)
  assert.throws(() => a.send(2, 'x' as unknown as Uint8Array), TypeError)
  assert.throws(() => a.send(2, new Uint8Array(a.maxPayload + 1)), (e: unknown) => e instanceof SpinmeshError && e.code === ErrorCodes.DATAGRAM_TOO_LARGE)
  assert.is(a.maxPayload, 4096 - 15)
  assert.throws(() => a.sendRouted(2, 0, new Uint8Array(1)), /proto must be an integer in \[1, 255\]/)
  for (const f of [() => a.join(groupAddr(1)), () => a.leave(groupAddr(1))]) {
    assert.throws(f, (e: unknown) => e instanceof SpinmeshError && e.code === ErrorCodes.UNSUPPORTED && /maodv/.test(e.message))
  }
  a.close()
  assert.throws(() => a.send(2, new Uint8Array(1)), (e: unknown) => e instanceof SpinmeshError && e.code === ErrorCodes.CLOSED)
})

test('sendRouted: delivered as "routed" with the inner protocol; send: as "deliver"', () => {
  const net = aodvNet(3, chain(3))
  const routed: RoutedMessage[] = []
  net.node(3).on('routed', (m) => routed.push(m))
  net.node(1).sendRouted(3, Proto.GOSSIP, Uint8Array.of(1, 2))
  net.node(1).send(3, Uint8Array.of(3))
  net.scheduler.run({ until: 2000 })
  assert.equal(routed.map((m) => ({ ...m, payload: [...m.payload], at: 0 })), [{ origin: 1, proto: Proto.GOSSIP, payload: [1, 2], hops: 2, at: 0 }])
  assert.equal(net.delivered[2].map((d) => ({ ...d, payload: [...d.payload], at: 0 })), [{ origin: 1, dst: 3, payload: [3], hops: 2, at: 0 }])
  assert.is(net.value(3, 'dataDelivered'), 2)
  assert.is(net.value(2, 'dataForwarded'), 2)
  assert.is(net.value(1, 'dataOriginated'), 2)
  const r = net.node(1).route(3)!
  assert.equal([r.nextHop, r.hops, r.valid], [2, 2, true])
  assert.equal(net.node(2).routes().map((x) => x.dst), [1, 3])
})

test('works with the metrics scope left out and with link beacons on', () => {
  const net = aodvNet(3, chain(3), { link: { beaconIntervalMs: 1000 }, config: { helloIntervalMs: 0 } })
  net.node(1).send(3, Uint8Array.of(1))
  net.scheduler.run({ until: 3000 })
  assert.is(net.delivered[2].length, 1)
  assert.is(net.total('hello'), 0)
  assert.ok(new MetricsRegistry().total('aodv', 'rreq') === 0)
})

test('buffer: total cap drops the oldest (reported buffer-full), the rest go undeliverable at the failure', () => {
  const net = aodvNet(2, [])
  for (let k = 0; k < 70; k++) net.node(1).send(2, Uint8Array.of(k))
  assert.equal(net.of('undeliverable').map((e) => e.payload), [1, 1, 1, 1, 1, 1], 'buffer-full is reported at once, from send()')
  net.scheduler.run({ until: 20_000 })
  const u = net.of('undeliverable')
  assert.is(u.length, 70)
  assert.equal(u.slice(0, 6).map((e) => [e.t, e.reason]), Array(6).fill([0, 'buffer-full']))
  assert.ok(u.slice(6).every((e) => e.t === 10_320 && e.reason === 'unreachable'))
  assert.is(net.value(1, 'dataDroppedBufferFull'), 6)
  assert.is(net.value(1, 'dataDroppedNoRoute'), 64)
})

test('discoveries are bounded by the buffer: one whose packets were all pushed out is abandoned', () => {
  const net = aodvNet(200, [], { config: { bufferMaxPackets: 4, bufferMaxPerDestination: 4, rreqRateLimit: 1000 } })
  for (let d = 2; d <= 101; d++) net.node(1).send(d, Uint8Array.of(d))
  net.scheduler.run({ until: 20_000 })
  assert.is(net.value(1, 'routeDiscoveries'), 100)
  assert.equal(net.of('unreachable').map((e) => e.dst), [98, 99, 100, 101], 'only the last four still had packets')
  assert.is(net.of('rreq', 1).filter((e) => (e.t as number) > 0).length, 4 * 5)
})

test('buffer: per-destination cap, then the total cap, drop oldest first; old packets time out', () => {
  const net = aodvNet(3, [], { config: { bufferMaxPerDestination: 4, bufferMaxPackets: 6, bufferTimeoutMs: 2000 } })
  const payloads: string[] = []
  net.node(1).on('undeliverable', (u) => payloads.push(`${u.dst}:${u.payload[0]}:${u.reason}`))
  for (let k = 0; k < 5; k++) net.node(1).send(2, Uint8Array.of(k))
  for (let k = 0; k < 3; k++) net.node(1).send(3, Uint8Array.of(k))
  assert.equal(payloads, ['2:0:buffer-full', '2:1:buffer-full'])
  net.scheduler.run({ until: 3500 })
  assert.equal(payloads.slice(2).sort(), ['2:2', '2:3', '2:4', '3:0', '3:1', '3:2'].map((x) => `${x}:buffer-timeout`))
  assert.ok(net.of('undeliverable').slice(2).every((e) => (e.t as number) > 2000 && (e.t as number) <= 3000), 'within one housekeeping period of the timeout')
  assert.is(net.value(1, 'dataDroppedBufferTimeout'), 6)
  const lastRreq = net.of('rreq', 1).at(-1)!.t as number
  net.scheduler.run({ until: 20_000 })
  assert.ok(lastRreq <= 3000 && net.of('rreq', 1).every((e) => (e.t as number) <= 3000), 'with nothing left to send, the discoveries stop')
  assert.equal(net.of('unreachable'), [])
})

test('close() reports buffered packets undeliverable (closed) and cancels every timer', () => {
  const net = aodvNet(2, [[1, 2]])
  net.node(2).close()
  for (let k = 0; k < 3; k++) net.node(1).send(2, Uint8Array.of(k))
  net.scheduler.run({ until: 100 })
  net.node(1).close()
  assert.equal(net.of('undeliverable').map((e) => e.reason), ['closed', 'closed', 'closed'])
  assert.is(net.value(1, 'dataDroppedClosed'), 3)
  for (const l of net.links) l.close()
  net.scheduler.run({ until: 100_000 })
  assert.is(net.scheduler.pending, 0)
  net.node(1).close() // twice is harmless
})

test('forwardFilter (black hole): relayed data is dropped, control and own/for-me packets are not', () => {
  const seen: AodvForwardCandidate[] = []
  const net = aodvNet(3, chain(3), { filter: (id) => (id === 2 ? (p) => (seen.push(p), false) : undefined) })
  net.node(1).send(3, Uint8Array.of(1))
  net.node(1).send(2, Uint8Array.of(2))
  net.node(2).send(3, Uint8Array.of(3))
  net.node(3).send(1, Uint8Array.of(4))
  net.scheduler.run({ until: 3000 })
  assert.is(net.of('route-found', 1).length, 2, 'routes through the black hole are found (it forwards control)')
  assert.equal(net.delivered[2].map((d) => d.payload[0]), [3], 'only the hole\'s own packet reaches 3')
  assert.equal(net.delivered[1].map((d) => d.payload[0]), [2], 'packets for the hole reach it')
  assert.equal(net.delivered[0].length, 0)
  assert.equal(seen.map((p) => [p.origin, p.dst, p.hops, p.payload[0]]), [[1, 3, 1, 1], [3, 1, 1, 4]])
  assert.is(net.value(2, 'dataDroppedFiltered'), 2)
  assert.is(net.value(2, 'rerr'), 0, 'silently')
})

test('sequence numbers wrap: 0 after 0xFFFFFFFF is newer for reverse routes and RREPs', () => {
  // 1 (bare) - 2 - 3 - 4 (bare)
  const net = aodvNet(4, chain(3).concat([[3, 4]]), { bare: [1, 4] })
  const at1 = inbox(net, 1)
  // RREQs asking for node 2 with a newer seq raise 2's own seq to it (RFC 6.6.1); two steps, since
  // 0xFFFFFFFE is older than 0 in signed comparison.
  net.links[0].send(BROADCAST, Proto.AODV, encodeRreq({ ...rreq, dst: 2, dstSeq: 0x7fffffff, origin: 1, id: 1 }))
  net.links[0].send(BROADCAST, Proto.AODV, encodeRreq({ ...rreq, dst: 2, dstSeq: 0xfffffffe, origin: 1, id: 2 }))
  net.scheduler.run({ until: 100 })
  assert.equal(at1.map((m) => m.type === 'rrep' && m.dstSeq), [0x7fffffff, 0xfffffffe])
  assert.is(net.node(2).seq, 0xfffffffe)
  net.node(2).send(3, Uint8Array.of(1)) // own seq → 0xFFFFFFFF
  net.scheduler.run({ until: 1000 })
  assert.is(net.node(3).route(2)!.seq, 0xffffffff)
  net.node(2).send(9, Uint8Array.of(2)) // own seq wraps → 0
  net.scheduler.run({ until: 1100 })
  assert.is(net.node(2).seq, 0)
  assert.is(net.node(3).route(2)!.seq, 0, 'the RREQ carrying 0 updated the route: 0 is newer than 0xFFFFFFFF')
  // A stale RREP (0xFFFFFFFF) does not replace the route; a newer one (1) does.
  net.node(2).close() // (its discovery for 9 would keep refreshing 3's one-hop route to it)
  const rrep = { r: false, a: false, hops: 0, dst: 2, origin: 3, lifetimeMs: 10_000 }
  net.links[3].send(3, Proto.AODV, encodeRrep({ ...rrep, dstSeq: 0xffffffff }))
  net.scheduler.run({ until: 1200 })
  assert.equal([net.node(3).route(2)!.nextHop, net.node(3).route(2)!.seq], [2, 0])
  net.links[3].send(3, Proto.AODV, encodeRrep({ ...rrep, dstSeq: 1 }))
  net.scheduler.run({ until: 1300 })
  assert.equal([net.node(3).route(2)!.nextHop, net.node(3).route(2)!.seq], [4, 1])
})

test('RERR_RATELIMIT: a relay without routes sends at most 10 RERRs per second', () => {
  const net = aodvNet(2, [[1, 2]], { bare: [1] })
  const at1 = inbox(net, 1)
  for (let d = 10; d < 25; d++) net.links[0].send(2, Proto.ROUTED_DATA, encodeRouted({ origin: 1, dst: d, seq: d, ttl: 5, hops: 0, proto: 0, payload: new Uint8Array(1) }))
  net.scheduler.run({ until: 500 })
  const rerrs = at1.filter((m) => m.type === 'rerr')
  assert.is(rerrs.length, 10, 'RFC 6.11 case ii: one RERR per packet to the previous hop, unicast')
  assert.equal(rerrs[0], { type: 'rerr', n: false, unreachable: [{ dst: 10, seq: 0 }] })
  assert.is(net.value(2, 'rerrRateLimited'), 5)
  assert.is(net.value(2, 'dataDroppedNoRoute'), 15)
})

test('the destination delivers a packet once, even if it arrives twice (all acks lost, resent)', () => {
  const net = aodvNet(2, [[1, 2]], { bare: [1] })
  const pkt = encodeRouted({ origin: 1, dst: 2, seq: 0xfffffff0, ttl: 5, hops: 0, proto: 0, payload: Uint8Array.of(7) })
  net.links[0].send(2, Proto.ROUTED_DATA, pkt)
  net.links[0].send(2, Proto.ROUTED_DATA, pkt.slice()) // a second link datagram: the link cannot tell
  net.links[0].send(2, Proto.ROUTED_DATA, encodeRouted({ origin: 1, dst: 2, seq: 0xfffffff1, ttl: 5, hops: 0, proto: 0, payload: Uint8Array.of(8) }))
  net.scheduler.run({ until: 100 })
  assert.equal(net.delivered[1].map((d) => d.payload[0]), [7, 8])
  assert.is(net.value(2, 'dataDuplicates'), 1)
  assert.is(net.value(2, 'dataDelivered'), 2)
})

test('a RREQ is answered once: duplicates by (originator, id) are dropped', () => {
  const net = aodvNet(3, [[1, 2], [2, 3]], { bare: [1] })
  const at1 = inbox(net, 1)
  const q = encodeRreq({ ...rreq, dst: 2, origin: 1, id: 77 })
  net.links[0].send(BROADCAST, Proto.AODV, q)
  net.links[0].send(BROADCAST, Proto.AODV, q.slice())
  net.scheduler.run({ until: 100 })
  assert.is(at1.filter((m) => m.type === 'rrep').length, 1)
  assert.is(net.value(2, 'rreqDuplicates'), 1)
})

test.run()
