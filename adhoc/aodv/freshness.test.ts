import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import { Proto } from '../protocols.ts'
import type { RouteInfo } from '../routing.ts'
import { aodvNet, type AodvNet } from './aodv-fixtures.ts'
import { decodeAodv, encodeHello, encodeRerr, encodeRrep, encodeRreq, type AodvMessage } from './aodv-messages.ts'

// RFC 3561 §6.2: a route is updated only by a newer sequence number, or the same one with fewer
// hops, or when the stored one is unknown (RFC 6.7 adds: the same one while the route is invalid).
// Node 1 runs AODV; 2, 3 and 4 are bare link layers around it that inject route offers.

const rreq = { j: false, r: false, g: false, d: false, u: true, ttl: 1, dstSeq: 0 }

function star(): AodvNet {
  return aodvNet(4, [[1, 2], [1, 3], [1, 4]], { bare: [2, 3, 4] })
}

function inject(net: AodvNet, from: Addr, bytes: Uint8Array, to: Addr = BROADCAST): void {
  net.links[from - 1].send(to, Proto.AODV, bytes)
  net.scheduler.run({ until: net.scheduler.now() + 30 })
}

function inbox(net: AodvNet, id: Addr): AodvMessage[] {
  const got: AodvMessage[] = []
  net.links[id - 1].port(Proto.AODV).on('receive', (rx) => got.push(decodeAodv(rx.payload)))
  return got
}

const show = (r: RouteInfo | undefined) => r && [r.nextHop, r.hops, r.seq, r.valid]

test('reverse route: a RREQ with an older originator seq over another path changes nothing', () => {
  const net = star()
  inject(net, 2, encodeRreq({ ...rreq, hops: 2, id: 1, dst: 8, origin: 9, originSeq: 10 }))
  assert.equal(show(net.node(1).route(9)), [2, 3, 10, true])
  // Older (8) and shorter, via 3: before the fix the next hop and hop count were taken from it
  // while the newer seq (10) was kept — an old path labelled with a new number.
  inject(net, 3, encodeRreq({ ...rreq, hops: 0, id: 2, dst: 8, origin: 9, originSeq: 8 }))
  assert.equal(show(net.node(1).route(9)), [2, 3, 10, true])
  assert.is(net.value(1, 'routeInfoStale'), 1)
  // The same seq with more hops: no change either.
  inject(net, 4, encodeRreq({ ...rreq, hops: 5, id: 3, dst: 8, origin: 9, originSeq: 10 }))
  assert.equal(show(net.node(1).route(9)), [2, 3, 10, true])
})

test('reverse route: the same originator seq with fewer hops, or a newer one with more, replaces it', () => {
  const net = star()
  inject(net, 2, encodeRreq({ ...rreq, hops: 2, id: 1, dst: 8, origin: 9, originSeq: 10 }))
  inject(net, 3, encodeRreq({ ...rreq, hops: 0, id: 2, dst: 8, origin: 9, originSeq: 10 }))
  assert.equal(show(net.node(1).route(9)), [3, 1, 10, true])
  inject(net, 4, encodeRreq({ ...rreq, hops: 6, id: 3, dst: 8, origin: 9, originSeq: 11 }))
  assert.equal(show(net.node(1).route(9)), [4, 7, 11, true])
  assert.is(net.value(1, 'routeInfoStale'), 0)
})

test('reverse route: a stale RREQ whose reverse route is unusable is not relayed and gets no gratuitous RREP', () => {
  const net = star()
  const at3 = inbox(net, 3)
  const at4 = inbox(net, 4)
  inject(net, 2, encodeRreq({ ...rreq, hops: 1, id: 1, dst: 8, origin: 9, originSeq: 10 }))
  inject(net, 2, encodeRerr({ n: false, unreachable: [{ dst: 9, seq: 10 }] }), 1) // route to 9 invalid, seq 10 kept
  assert.equal(show(net.node(1).route(9)), [2, 2, 10, false])
  inject(net, 3, encodeHello({ addr: 3, seq: 4, lifetimeMs: 10_000 })) // a fresh route to 3
  at3.length = 0
  at4.length = 0
  // Originator seq 9 < 10: no reverse route. Node 1 may still answer for 3 (the RREP goes to 2,
  // which has its own reverse route), but must not send 3 a gratuitous RREP for 9, and does not
  // relay a RREQ whose reply could not come back through it.
  inject(net, 2, encodeRreq({ ...rreq, g: true, hops: 1, ttl: 5, id: 2, dst: 3, origin: 9, originSeq: 9 }))
  assert.equal(show(net.node(1).route(9)), [2, 2, 10, false])
  assert.equal(at3.filter((m) => m.type === 'rrep'), [], 'no gratuitous RREP with a route we do not have')
  inject(net, 2, encodeRreq({ ...rreq, hops: 1, ttl: 5, id: 3, dst: 8, origin: 9, originSeq: 9 }))
  assert.equal(at4.filter((m) => m.type === 'rreq'), [], 'not relayed')
  assert.is(net.value(1, 'routeInfoStale'), 2)
})

test('forward route (RREP), route to the previous hop and hello keep the newest seq', () => {
  const net = star()
  const rrep = { r: false, a: false, origin: 1, lifetimeMs: 10_000 }
  inject(net, 3, encodeRrep({ ...rrep, hops: 1, dst: 2, dstSeq: 5 }), 1)
  assert.equal(show(net.node(1).route(2)), [3, 2, 5, true])
  // 2 is heard directly: a one-hop route to it, which keeps the known seq (before, it lost it and
  // any stale offer could then replace the direct route).
  inject(net, 2, encodeRreq({ ...rreq, hops: 0, id: 1, dst: 8, origin: 7, originSeq: 1 }))
  assert.equal(show(net.node(1).route(2)), [2, 1, 5, true])
  inject(net, 4, encodeRrep({ ...rrep, hops: 0, dst: 2, dstSeq: 4 }), 1)
  assert.equal(show(net.node(1).route(2)), [2, 1, 5, true], 'a stale RREP does not replace it')
  // A hello with an older seq than the stored one: the direct route stands, the seq stays.
  inject(net, 2, encodeHello({ addr: 2, seq: 3, lifetimeMs: 10_000 }))
  assert.equal(show(net.node(1).route(2)), [2, 1, 5, true])
  inject(net, 2, encodeHello({ addr: 2, seq: 6, lifetimeMs: 10_000 }))
  assert.equal(show(net.node(1).route(2)), [2, 1, 6, true], 'a newer one is taken')
  inject(net, 4, encodeRrep({ ...rrep, hops: 3, dst: 2, dstSeq: 7 }), 1)
  assert.equal(show(net.node(1).route(2)), [4, 4, 7, true], 'a newer seq wins even with more hops (RFC 6.2 i)')
})

// ---- property: random sequences of route offers ----------------------------------------------

type Offer =
  | { kind: 'rreq'; from: Addr; origin: Addr; seq: number; hops: number; ttl: number }
  | { kind: 'rrep'; from: Addr; dst: Addr; seq: number; hops: number; lifetimeMs: number; origin: Addr }
  | { kind: 'hello'; from: Addr; seq: number; lifetimeMs: number }
  | { kind: 'rerr'; from: Addr; dst: Addr; seq: number; n: boolean }
  | { kind: 'wait'; ms: number }

const neighbour = fc.constantFrom(2, 3, 4)
const target = fc.constantFrom(9, 2) // a distant node, and neighbour 2 (direct routes, hellos)
const delta = fc.integer({ min: 0, max: 6 })
const hops = fc.integer({ min: 0, max: 8 })
const offer = fc.oneof(
  fc.record({ kind: fc.constant('rreq' as const), from: neighbour, origin: target, seq: delta, hops, ttl: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('rrep' as const), from: neighbour, dst: target, seq: delta, hops, lifetimeMs: fc.integer({ min: 200, max: 12_000 }), origin: fc.constantFrom(1, 7) }),
  fc.record({ kind: fc.constant('hello' as const), from: neighbour, seq: delta, lifetimeMs: fc.integer({ min: 200, max: 4000 }) }),
  fc.record({ kind: fc.constant('rerr' as const), from: neighbour, dst: target, seq: delta, n: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
) as fc.Arbitrary<Offer>

test('property: over any sequence of offers the stored seq never goes back, and at the same seq a valid route never gets longer', () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 100, 0x7ffffffd, 0xfffffffd), fc.array(offer, { minLength: 1, maxLength: 40 }), (base, offers) => {
      const net = star()
      let id = 0
      for (const o of offers) {
        if (o.kind === 'wait') {
          net.scheduler.run({ until: net.scheduler.now() + o.ms })
          continue
        }
        const before = [9, 2].map((d) => net.node(1).route(d))
        const seq = (base + o.seq) >>> 0
        switch (o.kind) {
          case 'rreq': inject(net, o.from, encodeRreq({ ...rreq, hops: o.hops, ttl: o.ttl, id: id++, dst: 8, origin: o.origin, originSeq: seq })); break
          case 'rrep': inject(net, o.from, encodeRrep({ r: false, a: false, hops: o.hops, dst: o.dst, dstSeq: seq, origin: o.origin, lifetimeMs: o.lifetimeMs }), 1); break
          case 'hello': inject(net, o.from, encodeHello({ addr: o.from, seq, lifetimeMs: o.lifetimeMs })); break
          case 'rerr': inject(net, o.from, encodeRerr({ n: o.n, unreachable: [{ dst: o.dst, seq }] }), 1); break
        }
        const now = net.scheduler.now()
        ;[9, 2].forEach((d, k) => {
          const b = before[k]
          const a = net.node(1).route(d)
          if (b === undefined || b.seq === undefined || a === undefined) return
          if (!b.valid && b.expiresAt <= now) return // deleted after DELETE_PERIOD meanwhile: forgotten
          const what = `route to ${d} after ${JSON.stringify(o)}: ${JSON.stringify(b)} → ${JSON.stringify(a)}`
          assert.ok(a.seq !== undefined && seqDiff32(a.seq, b.seq) >= 0, `seq went back: ${what}`)
          if (a.seq === b.seq && b.valid && a.valid) assert.ok(a.hops <= b.hops, `longer at the same seq: ${what}`)
        })
      }
      for (const l of net.links) l.close()
      net.node(1).close()
    }),
    { seed: 71, numRuns: 300 },
  )
})

test.run()
