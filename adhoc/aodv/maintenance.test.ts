import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST } from '../../core/addr.ts'
import { decodeLinkFrame } from '../link-frame.ts'
import { Proto } from '../protocols.ts'
import { aodvNet, cbr, chain, type AodvNet } from './aodv-fixtures.ts'
import { decodeAodv, encodeRrep, encodeRreq, type AodvMessage } from './aodv-messages.ts'
import { decodeRouted, encodeRouted } from './routed-frame.ts'

const pick = (e: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, e[k]]))

/** AODV control frames each node put on air: [node, 'bcast' | dst, message]. */
function controlOnAir(net: AodvNet): Array<[number, number | 'bcast', AodvMessage]> {
  const out: Array<[number, number | 'bcast', AodvMessage]> = []
  net.radios.forEach((r, i) =>
    r.on('sent', (s) => {
      const f = decodeLinkFrame(s.bytes)
      if (f.kind === 'data' && f.proto === Proto.AODV) out.push([i + 1, f.dst === BROADCAST ? 'bcast' : f.dst, decodeAodv(f.payload)])
    }),
  )
  return out
}

test('RERR fan-out: unicast to a single precursor, broadcast to several; every upstream route is lost', () => {
  //  1 ─┐
  //     3 ─ 4 ─ 5
  //  2 ─┘
  const net = aodvNet(5, [[1, 3], [2, 3], [3, 4], [4, 5]])
  const air = controlOnAir(net)
  cbr(net, 1, 5, 40, 250)
  cbr(net, 2, 5, 40, 250)
  net.scheduler.run({ until: 3000 })
  assert.is(net.delivered[4].length, 24)
  net.disconnect(4, 5)
  net.scheduler.run({ until: 3600 })
  const rerrs = air.filter(([, , m]) => m.type === 'rerr')
  assert.equal(rerrs.map(([node, to, m]) => [node, to, m.type === 'rerr' && m.unreachable.map((u) => u.dst)]), [
    [4, 3, [5]], // 4's route to 5 has one precursor (3): unicast
    [3, 'bcast', [5]], // 3's has two (1 and 2): broadcast
  ])
  const lost = net.of('route-lost').map((e) => pick(e, 'node', 'dst', 'reason'))
  assert.equal(lost, [
    { node: 4, dst: 5, reason: 'tx-failed' },
    { node: 3, dst: 5, reason: 'rerr' },
    { node: 1, dst: 5, reason: 'rerr' },
    { node: 2, dst: 5, reason: 'rerr' },
  ])
  assert.equal(net.of('rerr').map((e) => e.node), [4, 3])
  const r = net.node(4).route(5)!
  assert.is(r.valid, false)
  const seqBefore = net.node(5).seq
  assert.is(r.seq, (seqBefore + 1) >>> 0, 'the stored seq of a destination behind a broken link is incremented')
  assert.is(net.node(1).route(5)!.seq, r.seq, 'and the RERR carries it upstream')
  // The sources rediscover (and, with 5 cut off, eventually give up).
  assert.ok(net.of('rreq', 1).length > 1 && net.of('rreq', 2).length > 1)
})

test('route lifetimes: MY_ROUTE_TIMEOUT from the RREP, extended by use, invalid on expiry, deleted after DELETE_PERIOD', () => {
  const net = aodvNet(3, chain(3))
  net.node(1).send(3, Uint8Array.of(1))
  net.scheduler.run({ until: 1000 })
  const found = net.of('route-found', 1)[0].t as number
  const r = net.node(1).route(3)!
  assert.is(r.expiresAt, found + 11_200)
  net.scheduler.run({ until: found + 11_199 })
  assert.ok(net.node(1).route(3)!.valid)
  net.scheduler.run({ until: found + 11_200 })
  const dead = net.node(1).route(3)!
  assert.is(dead.valid, false)
  assert.is(dead.expiresAt, found + 11_200 + 15_000)
  net.scheduler.run({ until: found + 26_300 })
  assert.is(net.node(1).route(3), undefined)
  assert.equal(net.node(1).routes(), [])
  assert.is(net.of('route-lost').length, 0, 'expiry is silent: no route-lost, no RERR')
  assert.is(net.total('rerr'), 0)
  net.scheduler.run()
  assert.is(net.scheduler.pending, 0, 'an idle network runs out of timers')

  // Use extends a route to at least now + ACTIVE_ROUTE_TIMEOUT (RFC 6.2).
  const net2 = aodvNet(3, chain(3))
  cbr(net2, 1, 3, 60, 250) // 15 s of traffic
  net2.scheduler.run({ until: 15_000 })
  const r2 = net2.node(1).route(3)!
  assert.ok(r2.valid)
  assert.ok(Math.abs(r2.expiresAt - (14_750 + 3000)) < 1, `last send at 14 750 + 3 000, got ${r2.expiresAt}`)
  assert.ok(net2.node(2).route(1)!.valid, 'the relay keeps the reverse route alive too')
})

test('link break from hello loss (no link acks): RERR upstream within ALLOWED_HELLO_LOSS intervals', () => {
  const net = aodvNet(3, chain(3), { link: { reliableUnicast: false } })
  cbr(net, 1, 3, 40, 250)
  net.scheduler.run({ until: 3000 })
  assert.ok(net.total('hello') > 0)
  net.disconnect(2, 3)
  net.scheduler.run({ until: 7000 })
  const lost = net.of('route-lost', 2)
  assert.equal(lost.map((e) => pick(e, 'dst', 'reason')), [{ dst: 3, reason: 'hello-loss' }])
  const t = lost[0].t as number
  assert.ok(t > 4500 && t <= 5600, `lost at ${t}: (2 + 0.5) s after 3's last hello`)
  assert.equal(net.of('route-lost', 1).map((e) => pick(e, 'dst', 'reason')), [{ dst: 3, reason: 'rerr' }])
})

test('link break from the link layer\'s neighbour-down (link beacons on, AODV hellos off)', () => {
  const net = aodvNet(3, chain(3), { link: { reliableUnicast: false, beaconIntervalMs: 1000 }, config: { helloIntervalMs: 0 } })
  cbr(net, 1, 3, 40, 250)
  net.scheduler.run({ until: 3000 })
  net.disconnect(2, 3)
  net.scheduler.run({ until: 8000 })
  assert.equal(net.of('route-lost').map((e) => pick(e, 'node', 'dst', 'reason')), [
    { node: 2, dst: 3, reason: 'neighbour-down' },
    { node: 1, dst: 3, reason: 'rerr' },
  ])
  assert.is(net.total('hello'), 0)
})

test('an idle neighbour going quiet is not a link break: no route-lost, no RERR', () => {
  const net = aodvNet(5, chain(5))
  cbr(net, 1, 5, 20, 250)
  net.scheduler.run({ until: 60_000 })
  assert.is(net.delivered[4].length, 20)
  assert.equal(net.of('route-lost'), [])
  assert.is(net.total('rerr'), 0)
  assert.ok(net.total('hello') > 0, 'hellos ran while data flowed')
  assert.is(net.scheduler.pending, 0, 'and stopped after')
})

test('gratuitous RREP: an intermediate reply also gives the destination a route to the originator', () => {
  const net = aodvNet(4, chain(4))
  net.node(2).send(4, Uint8Array.of(1)) // 2 learns a fresh route to 4
  net.scheduler.run({ until: 2000 })
  net.node(1).send(4, Uint8Array.of(2))
  net.scheduler.run({ until: 3000 })
  assert.equal(net.of('rreq', 1).map((e) => e.ttl), [1], 'answered within the first ring, by node 2')
  assert.equal(pick(net.of('route-found', 1)[0], 'dst', 'hops'), { dst: 4, hops: 3 })
  assert.is(net.value(2, 'rrepGratuitous'), 1)
  const back = net.node(4).route(1)!
  assert.equal([back.valid, back.nextHop, back.hops], [true, 3, 3])
  net.node(4).send(1, Uint8Array.of(3))
  net.scheduler.run({ until: 3500 })
  assert.equal(net.delivered[0].map((d) => d.payload[0]), [3])
  assert.is(net.of('rreq', 4).length, 0, '4 needed no discovery of its own')
})

test('destination-only flag: no intermediate replies', () => {
  const net = aodvNet(4, chain(4), { config: { destinationOnly: true } })
  net.node(2).send(4, Uint8Array.of(1))
  net.scheduler.run({ until: 2000 })
  net.node(1).send(4, Uint8Array.of(2))
  net.scheduler.run({ until: 3000 })
  assert.equal(net.of('rreq', 1).map((e) => e.ttl), [1, 3])
  assert.is(net.total('rrepGratuitous'), 0)
})

test('RREP-ACK: acknowledged hop by hop when asked; a silent neighbour is blacklisted for BLACKLIST_TIMEOUT', () => {
  const net = aodvNet(3, chain(3), { config: { rrepAck: true } })
  net.node(1).send(3, Uint8Array.of(1))
  net.scheduler.run({ until: 2000 })
  assert.is(net.total('rrepAck'), 2)
  assert.is(net.total('rrepAckTimeouts'), 0)

  // 1 is a bare link layer: it asks node 2 for a route and never acknowledges the RREP.
  const net2 = aodvNet(2, [[1, 2]], { bare: [1], config: { rrepAck: true } })
  const got: AodvMessage[] = []
  net2.links[0].port(Proto.AODV).on('receive', (rx) => got.push(decodeAodv(rx.payload)))
  const ask = (id: number) => net2.links[0].send(BROADCAST, Proto.AODV, encodeRreq({ j: false, r: false, g: false, d: false, u: true, hops: 0, ttl: 1, id, dst: 2, dstSeq: 0, origin: 1, originSeq: id }))
  ask(1)
  net2.scheduler.run({ until: 100 })
  assert.equal(got.map((m) => m.type === 'rrep' && m.a), [true])
  assert.is(net2.value(2, 'rrepAckTimeouts'), 1)
  ask(2)
  net2.scheduler.run({ until: 5000 })
  assert.is(got.length, 1, 'RREQs from a blacklisted neighbour are ignored')
  assert.is(net2.value(2, 'rreqBlacklisted'), 1)
  net2.scheduler.run({ until: 5700 })
  ask(3)
  net2.scheduler.run({ until: 5800 })
  assert.is(got.length, 2, 'answered again after BLACKLIST_TIMEOUT (5.6 s)')
})

function repairNet(localRepair: boolean): AodvNet {
  const net = aodvNet(6, chain(5), { config: { localRepair } })
  cbr(net, 1, 5, 40, 250)
  net.scheduler.run({ until: 3000 })
  net.disconnect(4, 5) // 4 loses 5; 6 bridges 4 and 5 from now on
  net.connect(4, 6)
  net.connect(6, 5)
  net.scheduler.run({ until: 12_000 })
  return net
}

test('local repair (enabled): the node upstream of the break rediscovers; the source never notices', () => {
  const net = repairNet(true)
  assert.is(net.value(4, 'localRepairs'), 1)
  assert.equal(net.of('route-lost').map((e) => pick(e, 'node', 'dst', 'reason')), [
    { node: 4, dst: 5, reason: 'repairing' },
    { node: 5, dst: 1, reason: 'hello-loss' }, // 5's reverse route via 4 really is broken
  ])
  assert.equal(net.of('rreq', 4).map((e) => e.ttl), [3], 'TTL max(1 hop, ⌊3/2⌋) + LOCAL_ADD_TTL')
  assert.equal(pick(net.of('route-found', 4)[0], 'dst', 'hops'), { dst: 5, hops: 2 })
  // The new route is longer: a RERR with N goes upstream, and nobody deletes the route.
  assert.equal(net.of('rerr').map((e) => e.node), [4, 3, 2])
  assert.equal(net.of('rreq', 1).length, 3, 'only the initial discovery (rings 1, 3, 5)')
  assert.is(net.delivered[4].length, 40, 'every packet arrives: the one that failed waited for the repair')
  assert.equal(net.node(4).route(5)!.nextHop, 6)
})

test('local repair through the origin: packets that come back to it are re-routed, not dropped as loops', () => {
  // 1 - 2 - 3 - 4 - 5, 1 sends to 5. At 3 s the link 3–4 breaks and 6 appears next to 1 and 5: 3's
  // repair (TTL max(2, ⌊2/2⌋) + 2 = 4) finds 3 → 2 → 1 → 6 → 5, back through the origin, which
  // learns 1 → 6 → 5 from the same RREP. What 3 buffered meanwhile reaches 1 from 2.
  const net = aodvNet(6, chain(5), { config: { localRepair: true } })
  cbr(net, 1, 5, 40, 250)
  net.scheduler.run({ until: 3000 })
  net.disconnect(3, 4)
  net.connect(1, 6)
  net.connect(6, 5)
  net.scheduler.run({ until: 12_000 })
  assert.is(net.value(3, 'localRepairs'), 1)
  assert.equal(pick(net.of('route-found', 3)[0], 'dst', 'hops'), { dst: 5, hops: 4 })
  assert.ok(net.value(1, 'dataReturned') > 0, 'packets came back to their origin')
  assert.is(net.total('dataDroppedLoop'), 0, 'and were not taken for loops')
  assert.equal(net.of('undeliverable'), [])
  assert.is(net.delivered[4].length, 40)
})

test('a packet back at its origin: sent on over another next hop, buffered without a route, a loop only straight back or at TTL 1', () => {
  // 2 and 3 are bare neighbours of 1; 1 learns a route to 9 via 3 and one to 8 via 2.
  const net = aodvNet(3, [[1, 2], [1, 3]], { bare: [2, 3] })
  const at3: Array<{ dst: number; ttl: number; hops: number }> = []
  net.links[2].port(Proto.ROUTED_DATA).on('receive', (rx) => at3.push(pick(decodeRouted(rx.payload) as unknown as Record<string, unknown>, 'dst', 'ttl', 'hops') as never))
  const rrep = { r: false, a: false, hops: 1, dstSeq: 1, origin: 1, lifetimeMs: 10_000 }
  net.links[2].send(1, Proto.AODV, encodeRrep({ ...rrep, dst: 9 }))
  net.links[1].send(1, Proto.AODV, encodeRrep({ ...rrep, dst: 8 }))
  net.scheduler.run({ until: 50 })
  const back = (dst: number, ttl: number, seq: number) =>
    net.links[1].send(1, Proto.ROUTED_DATA, encodeRouted({ origin: 1, dst, seq, ttl, hops: 4, proto: 0, payload: Uint8Array.of(seq) }))
  back(9, 5, 1) // on to 3
  back(8, 5, 2) // 1's route to 8 leads straight back to 2: a loop
  back(9, 1, 3) // TTL spent
  back(7, 5, 4) // no route: buffered, discovered
  net.scheduler.run({ until: 100 })
  assert.equal(at3, [{ dst: 9, ttl: 4, hops: 5 }])
  assert.is(net.value(1, 'dataReturned'), 2)
  assert.is(net.value(1, 'dataDroppedLoop'), 2)
  assert.equal(net.of('undeliverable').map((e) => [e.dst, e.reason]), [[8, 'loop'], [9, 'loop']])
  assert.equal(net.of('rreq', 1).map((e) => e.ttl), [1], 'a discovery for 7')
})

test('local repair (disabled): RERR to the source, which rediscovers', () => {
  const net = repairNet(false)
  assert.is(net.total('localRepairs'), 0)
  assert.equal(net.of('route-lost').map((e) => pick(e, 'node', 'reason')), [
    { node: 4, reason: 'tx-failed' },
    { node: 3, reason: 'rerr' },
    { node: 2, reason: 'rerr' },
    { node: 1, reason: 'rerr' },
    { node: 5, reason: 'hello-loss' },
  ])
  assert.ok(net.of('rreq', 1).length > 3)
  assert.is(net.of('route-found', 1).length, 2)
  assert.ok(net.delivered[4].length >= 38, `delivered ${net.delivered[4].length}`)
})

test.run()
