import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties } from '../../core/testing.ts'
import { E2E_TRAILER_BYTES, SIGNATURE_BYTES } from '../../crypto/origin-auth.ts'
import { Proto } from '../protocols.ts'
import { aodvNet, cbr, chain, type AodvNet, type AodvNetOptions } from './aodv-fixtures.ts'
import {
  AODV_SIGNATURE_SIZE, MSG_RREP_S, MSG_RREQ_S, RREP_S_SIZE, RREQ_S_SIZE, decodeAodv, encodeRrep, encodeRreq, type Rrep, type Rreq,
} from './aodv-messages.ts'
import { ROUTED_HEADER_SIZE, ROUTED_TRAILER_SIZE, decodeSecuredRouted, encodeRouted, type RoutedPacket } from './routed-frame.ts'
import { rrepSignedBytes, rreqSignedBytes } from './signing.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u8 = fc.integer({ min: 0, max: 255 })
const sig = fc.uint8Array({ minLength: 64, maxLength: 64 })
const rreqS = fc.record({
  type: fc.constant('rreq' as const), j: fc.boolean(), r: fc.boolean(), g: fc.boolean(), d: fc.boolean(), u: fc.boolean(),
  hops: u8, ttl: fc.integer({ min: 1, max: 255 }), id: u32, dst: node, dstSeq: u32, origin: node, originSeq: u32, signature: sig,
})
const rrepS = fc.record({
  type: fc.constant('rrep' as const), r: fc.boolean(), a: fc.boolean(), hops: u8, dst: node, dstSeq: u32, origin: node, lifetimeMs: u32, signature: sig,
})
const signed: fc.Arbitrary<Rreq | Rrep> = fc.oneof(rreqS, rrepS)
const encodeSigned = (m: Rreq | Rrep): Uint8Array => (m.type === 'rreq' ? encodeRreq(m) : encodeRrep(m))
const plain = (m: object): unknown => JSON.parse(JSON.stringify(m, (_, v: unknown) => (v instanceof Uint8Array ? [...v] : v)))

// ---- codecs ------------------------------------------------------------------------------------

test('RREQ-S and RREP-S: sizes, layouts, round trip', () => {
  assert.is(AODV_SIGNATURE_SIZE, SIGNATURE_BYTES)
  assert.is(ROUTED_TRAILER_SIZE, E2E_TRAILER_BYTES)
  const s = Uint8Array.from({ length: 64 }, (_, i) => i)
  const q = encodeRreq({ j: false, r: false, g: false, d: true, u: true, hops: 2, ttl: 5, id: 0x01020304, dst: 9, dstSeq: 0, origin: 1, originSeq: 7, signature: s })
  assert.is(q.length, RREQ_S_SIZE)
  assert.is(RREQ_S_SIZE, 88)
  assert.equal([...q.subarray(0, 24)], [MSG_RREQ_S, 0x18, 2, 5, 1, 2, 3, 4, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7])
  assert.equal([...q.subarray(24)], [...s])
  const p = encodeRrep({ r: false, a: true, hops: 3, dst: 9, dstSeq: 4, origin: 1, lifetimeMs: 11_200, signature: s })
  assert.is(p.length, RREP_S_SIZE)
  assert.is(RREP_S_SIZE, 83)
  assert.equal([...p.subarray(0, 19)], [MSG_RREP_S, 0x40, 3, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0x2b, 0xc0])
  fc.assert(fc.property(signed, (m) => assert.equal(plain(decodeAodv(encodeSigned(m))), plain(m))), { seed: 51, numRuns: 1000 })
  assert.throws(() => encodeRreq({ j: false, r: false, g: false, d: false, u: false, hops: 0, ttl: 1, id: 0, dst: 2, dstSeq: 0, origin: 1, originSeq: 0, signature: new Uint8Array(63) }), RangeError)
  // A plain message decodes without a signature field (open networks are unchanged).
  assert.not.ok('signature' in decodeAodv(encodeRrep({ r: false, a: false, hops: 0, dst: 2, dstSeq: 0, origin: 1, lifetimeMs: 0 })))
})

test('RREQ-S and RREP-S decoders are total', () => {
  checkDecoderProperties({ decode: decodeAodv, valid: signed, encode: encodeSigned, typeBytes: [MSG_RREQ_S, MSG_RREP_S], numRuns: 2000 })
})

test('signed bytes: domain-separated, relays may change only hops and ttl (RREQ) or hops and A (RREP)', () => {
  const q = { j: false, r: false, g: false, d: true, u: false, hops: 0, ttl: 35, id: 3, dst: 5, dstSeq: 4, origin: 1, originSeq: 9 }
  const base = rreqSignedBytes(q)
  assert.equal(new TextDecoder().decode(base.subarray(0, 21)), 'spinmesh/aodv/rreq/v1')
  assert.equal(rreqSignedBytes({ ...q, hops: 7, ttl: 2 }), base)
  for (const f of [{ dstSeq: 5 }, { originSeq: 10 }, { id: 4 }, { dst: 6 }, { origin: 2 }, { u: true }, { d: false }]) {
    assert.not.equal(rreqSignedBytes({ ...q, ...f }), base, JSON.stringify(f))
  }
  const p = { r: false, a: false, hops: 0, dst: 5, dstSeq: 4, origin: 1, lifetimeMs: 11_200 }
  const pb = rrepSignedBytes(p)
  assert.equal(new TextDecoder().decode(pb.subarray(0, 21)), 'spinmesh/aodv/rrep/v1')
  assert.equal(rrepSignedBytes({ ...p, hops: 3, a: true }), pb)
  for (const f of [{ dstSeq: 5 }, { lifetimeMs: 1 }, { dst: 6 }, { origin: 2 }, { r: true }]) assert.not.equal(rrepSignedBytes({ ...p, ...f }), pb, JSON.stringify(f))
})

test('secured routed packets: the trailer follows the payload; shorter than it is a DecodeError', () => {
  const pkt: RoutedPacket = { origin: 1, dst: 2, seq: 3, ttl: 4, hops: 0, proto: 0, payload: Uint8Array.of(9, 9), trailer: new Uint8Array(12).fill(7) }
  const b = encodeRouted(pkt)
  assert.is(b.length, ROUTED_HEADER_SIZE + 2 + 12)
  const back = decodeSecuredRouted(b)
  assert.equal([...back.payload], [9, 9])
  assert.equal([...back.trailer!], [...pkt.trailer!])
  assert.throws(() => decodeSecuredRouted(b.subarray(0, ROUTED_HEADER_SIZE + 11)), (e: unknown) => e instanceof DecodeError && /trailer/.test((e as Error).message))
  checkDecoderProperties({
    decode: decodeSecuredRouted,
    valid: fc.record({ payload: fc.uint8Array({ maxLength: 40 }), trailer: fc.uint8Array({ minLength: 12, maxLength: 12 }), seq: u32 }),
    encode: (m) => encodeRouted({ origin: 1, dst: 2, ttl: 3, hops: 0, proto: 0, ...m }),
    open: () => true,
    numRuns: 500,
  })
})

// ---- networks ----------------------------------------------------------------------------------

const sec = (net: AodvNet, id: Addr, name: string): number => net.metrics.value('sec', id, name)

/** A secured chain 1..5 whose route 1 → 5 is up (one packet delivered). */
function warmChain(o: AodvNetOptions = {}): AodvNet {
  const net = aodvNet(5, chain(5), { security: {}, ...o })
  net.node(1).send(5, new Uint8Array(8))
  net.scheduler.run({ until: 5_000 })
  assert.is(net.delivered[4].length, 1, 'warm-up packet delivered')
  return net
}

test('secured chain 1-2-3-4-5: signed discovery, data delivered end to end, counters', () => {
  const net = aodvNet(5, chain(5), { security: {} })
  const heard: Uint8Array[] = []
  net.links[2].port(Proto.AODV).on('receive', (rx) => heard.push(rx.payload.slice()))
  cbr(net, 1, 5, 5, 500)
  net.scheduler.run({ until: 10_000 })
  assert.is(net.delivered[4].length, 5)
  assert.ok(net.of('route-found', 1).some((e) => e.dst === 5 && e.hops === 4))
  for (const name of ['rreqBadSignature', 'rrepBadSignature', 'controlWrongMode', 'dataDroppedBadAuth', 'dataDroppedNoKey', 'decodeErrors']) {
    assert.is(net.total(name), 0, name)
  }
  assert.ok(sec(net, 1, 'originSigned') >= 1, 'the originator signed its RREQs')
  assert.ok(sec(net, 5, 'originSigned') >= 1, 'the destination signed its RREP')
  for (const id of [2, 3, 4, 5]) assert.ok(sec(net, id, 'originVerified') >= 1, `node ${id} verified`)
  assert.is(sec(net, 1, 'e2eSealed'), 5)
  assert.is(sec(net, 5, 'e2eOpened'), 5)
  assert.is(net.layerTotal('sec', 'originBadSignature'), 0)
  // Only signed layouts on the air; only the destination may answer.
  const msgs = heard.map((b) => decodeAodv(b))
  assert.ok(msgs.some((m) => m.type === 'rreq'))
  for (const m of msgs) {
    if (m.type === 'rreq') assert.ok(m.signature !== undefined && m.d && !m.g, 'RREQ-S, destination only, no gratuitous RREP')
    if (m.type === 'rrep') assert.ok(m.signature !== undefined && m.dst === 5)
  }
  assert.is(net.node(1).maxPayload, net.links[0].port(Proto.ROUTED_DATA).maxDatagram - ROUTED_HEADER_SIZE - E2E_TRAILER_BYTES)
})

test('an open network registers no security counters', () => {
  const net = aodvNet(3, chain(3))
  net.node(1).send(3, new Uint8Array(4))
  net.scheduler.run({ until: 3_000 })
  assert.is(net.delivered[2].length, 1)
  const names = Object.keys(net.metrics.totals().aodv)
  for (const n of ['rreqBadSignature', 'rrepBadSignature', 'controlWrongMode', 'verifyPending', 'dataDroppedBadAuth', 'dataDroppedNoKey']) {
    assert.not.ok(names.includes(n), n)
  }
  assert.is(net.node(1).maxPayload, net.links[0].port(Proto.ROUTED_DATA).maxDatagram - ROUTED_HEADER_SIZE)
})

test('a relay that alters a signed RREQ: dropped at the next hop; a forged copy first does not suppress the real one', () => {
  const net = warmChain()
  const port3 = net.links[2].port(Proto.AODV)
  const q = { j: false, r: false, g: false, d: true, u: true, hops: 2, ttl: 5, id: 1000, dst: 5, dstSeq: 0, origin: 1, originSeq: 50 }
  const signature = net.security[0].origin.sign(rreqSignedBytes(q))
  const bad4 = net.value(4, 'rreqBadSignature')
  port3.send(BROADCAST, encodeRreq({ ...q, u: false, dstSeq: 9, signature })) // raised dst seq
  port3.send(BROADCAST, encodeRreq({ ...q, originSeq: 51, signature })) // raised origin seq
  port3.send(BROADCAST, encodeRreq({ ...q, signature: new Uint8Array(64).fill(1) })) // forged signature
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.value(4, 'rreqBadSignature') - bad4, 3)
  assert.is(net.value(2, 'rreqBadSignature'), 3, 'node 2 heard the broadcasts too')
  assert.ok(net.node(4).route(1)!.seq! < 50, 'no route learnt from a bad RREQ')
  // The genuine RREQ with the same (origin, id) is still accepted, verified once, relayed and answered.
  const verified4 = sec(net, 4, 'originVerified')
  const rrep5 = net.value(5, 'rrep')
  const dup4 = net.value(4, 'rreqDuplicates')
  port3.send(BROADCAST, encodeRreq({ ...q, signature }))
  port3.send(BROADCAST, encodeRreq({ ...q, hops: 9, signature })) // a second copy: a duplicate, not verified again
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.value(4, 'rreqBadSignature') - bad4, 3)
  assert.is(net.node(4).route(1)!.seq, 50)
  assert.is(net.value(5, 'rrep') - rrep5, 1, 'the destination answered')
  assert.is(sec(net, 4, 'originVerified') - verified4, 1, 'node 4 verified the RREQ once')
  assert.ok(net.value(4, 'rreqDuplicates') - dup4 >= 1)
  // Unsigned messages are refused in a secured network.
  port3.send(BROADCAST, encodeRreq({ ...q, id: 1001 }))
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.value(4, 'controlWrongMode'), 1)
})

test('a RREP with an altered or forged signature is dropped; the genuine one is accepted once verified', () => {
  const net = warmChain()
  const port3 = net.links[2].port(Proto.AODV)
  const p = { r: false, a: false, hops: 0, dst: 5, dstSeq: 100, origin: 1, lifetimeMs: 10_000 }
  const signature = net.security[4].origin.sign(rrepSignedBytes(p))
  port3.send(2, encodeRrep({ ...p, hops: 2, dstSeq: 101, signature })) // altered seq
  port3.send(2, encodeRrep({ ...p, hops: 2, lifetimeMs: 60_000, signature })) // altered lifetime
  port3.send(2, encodeRrep({ ...p, hops: 2, dst: 4, signature })) // 5's signature claimed for 4
  port3.send(2, encodeRrep({ ...p, hops: 2, signature: net.security[2].origin.sign(rrepSignedBytes(p)) })) // signed by the relay, not dst
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.value(2, 'rrepBadSignature'), 4)
  assert.ok(net.node(2).route(5)!.seq! < 100)
  const verified2 = sec(net, 2, 'originVerified')
  port3.send(2, encodeRrep({ ...p, hops: 2, a: true, signature }))
  port3.send(2, encodeRrep({ ...p, hops: 2, signature })) // the same RREP again: not verified twice
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.value(2, 'rrepBadSignature'), 4)
  assert.is(sec(net, 2, 'originVerified') - verified2, 1)
  assert.equal([net.node(2).route(5)!.seq, net.node(2).route(5)!.hops], [100, 3])
  assert.ok(net.value(2, 'rrepAck') >= 1, 'the A flag is per hop, outside the signature')
  assert.is(net.value(1, 'rrepBadSignature'), 0, 'node 2 relayed it to 1, which verified it')
})

test('a relay that modifies routed data: the destination drops it (dataDroppedBadAuth), nothing delivered', () => {
  const net = aodvNet(5, chain(5), {
    security: {},
    // The candidate's payload is a view into the bytes node 3 forwards: flipping a bit tampers with them.
    filter: (id) => (id !== 3 ? undefined : (p) => {
      p.payload[0] ^= 0xff
      return true
    }),
  })
  cbr(net, 1, 5, 3, 300)
  net.scheduler.run({ until: 8_000 })
  assert.is(net.value(3, 'dataForwarded'), 3)
  assert.is(net.delivered[4].length, 0)
  assert.is(net.value(5, 'dataDroppedBadAuth'), 3)
  assert.is(sec(net, 5, 'e2eBadMac'), 3)
})

test('a relay that re-sends a delivered packet: rejected as a replay, not delivered twice', () => {
  const net = aodvNet(5, chain(5), { security: {} })
  const seen4: Uint8Array[] = []
  net.links[3].port(Proto.ROUTED_DATA).on('receive', (rx) => seen4.push(rx.payload.slice()))
  cbr(net, 1, 5, 2, 300)
  net.scheduler.run({ until: 8_000 })
  assert.is(net.delivered[4].length, 2)
  const port4 = net.links[3].port(Proto.ROUTED_DATA)
  port4.send(5, seen4[0])
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.delivered[4].length, 2)
  assert.is(sec(net, 5, 'e2eReplayed'), 1)
  assert.is(net.value(5, 'dataDuplicates'), 1)
  // With its seq changed to pass duplicate suppression, the MAC fails instead.
  const changed = seen4[1].slice()
  changed[8] ^= 0x80 // seq, far from the delivered ones
  port4.send(5, changed)
  // A routed packet too short to hold a trailer is malformed.
  port4.send(5, seen4[1].subarray(0, ROUTED_HEADER_SIZE + 4))
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.delivered[4].length, 2)
  assert.is(net.value(5, 'dataDroppedBadAuth'), 1)
  assert.is(net.value(5, 'decodeErrors'), 1)
})

test('roster: false — certificates are fetched hop by hop; discovery and delivery still work', () => {
  const net = aodvNet(5, chain(5), { security: { roster: false } })
  cbr(net, 1, 5, 3, 500)
  net.scheduler.run({ until: 10_000 })
  assert.is(net.delivered[4].length, 3)
  assert.ok(net.layerTotal('sec', 'certFetches') > 0)
  assert.ok(net.value(1, 'verifyPending') >= 1, "node 1 waited for 5's certificate to verify the RREP")
  assert.ok(net.value(5, 'verifyPending') >= 1, "node 5 waited for 1's certificate to verify the RREQ")
  assert.is(net.layerTotal('sec', 'certFetchTimeouts'), 0)
  assert.is(net.total('rreqBadSignature') + net.total('rrepBadSignature') + net.total('dataDroppedBadAuth'), 0)
})

test("no certificate of the destination to seal with: the packet is dropped, reported 'no-key'", () => {
  const net = warmChain()
  const reasons: string[] = []
  net.node(1).on('undeliverable', (u) => reasons.push(u.reason))
  net.security[0].origin.sealData = () => null // as if 5's certificate had been evicted
  net.node(1).send(5, new Uint8Array(4))
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.equal(reasons, ['no-key'])
  assert.is(net.value(1, 'dataDroppedNoKey'), 1)
  assert.is(net.delivered[4].length, 1)
})

test('secured runs are deterministic', () => {
  const run = (): string => {
    const net = aodvNet(5, chain(5), { security: { roster: false } })
    cbr(net, 1, 5, 3, 500)
    net.scheduler.run({ until: 6_000 })
    return JSON.stringify([net.events, net.metrics.totals()])
  }
  assert.is(run(), run())
})

test.run()
