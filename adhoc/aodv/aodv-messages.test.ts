import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { GROUP_BASE } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import {
  HELLO_SIZE, RREP_SIZE, RREQ_SIZE, decodeAodv, encodeHello, encodeRerr, encodeRrep, encodeRrepAck, encodeRreq,
  type AodvMessage,
} from './aodv-messages.ts'
import { ROUTED_HEADER_SIZE, decodeRouted, encodeRouted, relayRouted } from './routed-frame.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u8 = fc.integer({ min: 0, max: 255 })

const rreq = fc.record({
  type: fc.constant('rreq' as const), j: fc.boolean(), r: fc.boolean(), g: fc.boolean(), d: fc.boolean(), u: fc.boolean(),
  hops: u8, ttl: fc.integer({ min: 1, max: 255 }), id: u32, dst: node, dstSeq: u32, origin: node, originSeq: u32,
})
const rrep = fc.record({ type: fc.constant('rrep' as const), r: fc.boolean(), a: fc.boolean(), hops: u8, dst: node, dstSeq: u32, origin: node, lifetimeMs: u32 })
const rerr = fc.record({
  type: fc.constant('rerr' as const), n: fc.boolean(),
  unreachable: fc.array(fc.record({ dst: node, seq: u32 }), { minLength: 1, maxLength: 255 }),
})
const hello = fc.record({ type: fc.constant('hello' as const), addr: node, seq: u32, lifetimeMs: u32 })
const message: fc.Arbitrary<AodvMessage> = fc.oneof(rreq, rrep, rerr, hello, fc.constant({ type: 'rrep-ack' as const }))

function encode(m: AodvMessage): Uint8Array {
  switch (m.type) {
    case 'rreq': return encodeRreq(m)
    case 'rrep': return encodeRrep(m)
    case 'rerr': return encodeRerr(m)
    case 'rrep-ack': return encodeRrepAck()
    case 'hello': return encodeHello(m)
  }
}

function total(decode: (b: Uint8Array) => unknown) {
  return (b: Uint8Array): void => {
    try {
      decode(b)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw new Error(`threw a non-DecodeError: ${String(e)}`)
    }
  }
}

function mutate<T>(arb: fc.Arbitrary<T>, enc: (x: T) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(arb, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 3 }), fc.nat({ max: 12 })).map(([x, flips, cut]) => {
    const b = enc(x).slice()
    for (const [i, v] of flips) b[i % b.length] = v
    return b.subarray(0, Math.max(0, b.length - cut))
  })
}

test('documented sizes and byte layouts', () => {
  const q = encodeRreq({ j: false, r: false, g: true, d: false, u: true, hops: 2, ttl: 5, id: 0x01020304, dst: 9, dstSeq: 0xfffffffe, origin: 1, originSeq: 7 })
  assert.is(q.length, RREQ_SIZE)
  assert.equal([...q], [1, 0x28, 2, 5, 1, 2, 3, 4, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0, 0, 0, 7])
  const p = encodeRrep({ r: false, a: true, hops: 3, dst: 9, dstSeq: 4, origin: 1, lifetimeMs: 11_200 })
  assert.is(p.length, RREP_SIZE)
  assert.equal([...p], [2, 0x40, 3, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0x2b, 0xc0])
  assert.equal([...encodeRerr({ n: true, unreachable: [{ dst: 5, seq: 6 }] })], [3, 0x80, 1, 0, 0, 0, 5, 0, 0, 0, 6])
  assert.equal([...encodeRrepAck()], [4])
  const h = encodeHello({ addr: 3, seq: 1, lifetimeMs: 2000 })
  assert.is(h.length, HELLO_SIZE)
  assert.equal([...h], [5, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0x07, 0xd0])
  assert.throws(() => encodeRerr({ n: false, unreachable: [] }), RangeError)
})

test('control messages round-trip', () => {
  const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) // fast-check builds null-prototype records
  fc.assert(fc.property(message, (m) => assert.equal(decodeAodv(encode(m)), plain(m))), { seed: 41, numRuns: 2000 })
})

test('arbitrary and mutated bytes decode to a control message or a DecodeError, nothing else', () => {
  const t = total(decodeAodv)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), t), { seed: 42, numRuns: 5000 })
  // Arbitrary bodies behind every valid type byte, so each branch is exercised.
  fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 40 }), (type, body) => t(Uint8Array.of(type, ...body))), { seed: 43, numRuns: 5000 })
  fc.assert(fc.property(mutate(message, encode), t), { seed: 44, numRuns: 5000 })
})

test('invalid control messages are refused', () => {
  const q = { j: false, r: false, g: false, d: false, u: false, hops: 0, ttl: 1, id: 0, dst: 2, dstSeq: 0, origin: 1, originSeq: 0 }
  const bad = (b: Uint8Array, re: RegExp) => assert.throws(() => decodeAodv(b), (e: unknown) => e instanceof DecodeError && re.test((e as Error).message))
  bad(new Uint8Array(0), /truncated/)
  bad(Uint8Array.of(9), /unknown message type 9/)
  bad(encodeRreq({ ...q, ttl: 0 }), /ttl 0/)
  bad(encodeRreq({ ...q, dst: GROUP_BASE }), /dst .* not a node address/)
  bad(encodeRreq({ ...q, origin: 0 }), /origin 0/)
  const reserved = encodeRreq(q).slice()
  reserved[1] = 0x01
  bad(reserved, /reserved flag/)
  bad(Uint8Array.of(...encodeRreq(q), 0), /trailing/)
  bad(encodeRreq(q).subarray(0, RREQ_SIZE - 1), /truncated/)
  bad(Uint8Array.of(3, 0, 0), /count 0/)
  bad(Uint8Array.of(3, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1), /count 2 needs 16 bytes/)
  bad(Uint8Array.of(4, 0), /trailing/)
  bad(encodeHello({ addr: 0xffffffff, seq: 0, lifetimeMs: 0 }), /addr .* not a node address/)
})

const routed = fc.record({
  origin: node, dst: node, seq: u32, ttl: fc.integer({ min: 1, max: 255 }), hops: u8,
  proto: u8, payload: fc.uint8Array({ maxLength: 100 }),
})

test('routed data header: 15 bytes, round trip, relay rewrite', () => {
  assert.is(ROUTED_HEADER_SIZE, 15)
  const b = encodeRouted({ origin: 1, dst: 0x01020304, seq: 0xabcdef01, ttl: 35, hops: 0, proto: 0, payload: Uint8Array.of(7) })
  assert.equal([...b], [0, 0, 0, 1, 1, 2, 3, 4, 0xab, 0xcd, 0xef, 0x01, 35, 0, 0, 7])
  fc.assert(
    fc.property(routed, (p) => {
      const back = decodeRouted(encodeRouted(p))
      assert.equal({ ...back, payload: [...back.payload] }, { ...p, payload: [...p.payload] })
      if (p.ttl > 1) {
        const r = decodeRouted(relayRouted(encodeRouted(p)))
        assert.equal([r.ttl, r.hops], [p.ttl - 1, Math.min(255, p.hops + 1)])
      }
    }),
    { seed: 45, numRuns: 1000 },
  )
})

test('routed header: arbitrary and mutated bytes give a packet or a DecodeError', () => {
  const t = total(decodeRouted)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 30 }), t), { seed: 46, numRuns: 5000 })
  fc.assert(fc.property(mutate(routed, encodeRouted), t), { seed: 47, numRuns: 5000 })
  const ok = { origin: 1, dst: 2, seq: 0, ttl: 1, hops: 0, proto: 0, payload: new Uint8Array(0) }
  assert.throws(() => decodeRouted(encodeRouted({ ...ok, ttl: 0 })), /ttl 0/)
  assert.throws(() => decodeRouted(encodeRouted({ ...ok, dst: 0xffffffff })), /dst .* not a node/)
  assert.throws(() => decodeRouted(encodeRouted(ok).subarray(0, 14)), /truncated/)
})

test.run()
