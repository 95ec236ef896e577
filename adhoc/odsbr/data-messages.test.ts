import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError, SpinmeshError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import {
  ACK_FIXED_SIZE, DATA_FIXED_SIZE, MSG_ACK, MSG_DATA, ONION_LAYER_SIZE, ackSize, dataSize, decodeAck, decodeData, encodeAck,
  encodeData, onionProbes, pathBackFrom, type OdsbrAck, type OdsbrData,
} from './data-messages.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const path = fc.uniqueArray(node, { minLength: 2, maxLength: 12 })

const data: fc.Arbitrary<OdsbrData> = path.chain((p) => fc.record({
  type: fc.constant('data' as const),
  source: fc.constant(p[0]),
  dst: fc.constant(p[p.length - 1]),
  counter: u32,
  path: fc.constant(p),
  body: fc.uint8Array({ maxLength: 80 }),
  onion: fc.integer({ min: 0, max: Math.min(p.length - 2, 4) }).chain((k) => fc.uint8Array({ minLength: 8 + 28 * k, maxLength: 8 + 28 * k })),
}))

const ack: fc.Arbitrary<OdsbrAck> = fc.tuple(path, node).filter(([p, d]) => !p.includes(d) || d === p[0]).chain(([p, d]) => fc.record({
  type: fc.constant('ack' as const),
  // path: ackNode … source; dst is any other node (the destination acking: dst = ackNode).
  source: fc.constant(p[p.length - 1]),
  dst: fc.constant(d),
  ackNode: fc.constant(p[0]),
  counter: u32,
  path: fc.constant(p),
  enc: fc.uint8Array({ maxLength: 100 }),
  hmac: fc.uint8Array({ minLength: 8, maxLength: 8 }),
}))

const plain = (m: OdsbrData | OdsbrAck) => ({ ...m, path: [...m.path], ...('body' in m ? { body: [...m.body], onion: [...m.onion] } : { enc: [...m.enc], hmac: [...m.hmac] }) })

test('documented byte layouts and sizes', () => {
  const onion = new Uint8Array(8 + 28).fill(0xaa)
  const d = encodeData({ source: 1, dst: 3, counter: 0x01020304, path: [1, 2, 3], body: Uint8Array.of(9, 8), onion })
  assert.is(d.length, dataSize(3, 2, 1))
  assert.is(d.length, DATA_FIXED_SIZE + 12 + 2 + 2 + 36)
  assert.equal([...d.subarray(0, 31)], [MSG_DATA, 0, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3, 4, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 2, 9, 8])
  assert.equal([...d.subarray(31)], [...onion])
  const a = encodeAck({ source: 1, dst: 3, ackNode: 2, counter: 5, path: [2, 1], enc: Uint8Array.of(7), hmac: new Uint8Array(8).fill(0xbb) })
  assert.is(a.length, ackSize(2, 1))
  assert.is(a.length, ACK_FIXED_SIZE + 8 + 2 + 1 + 8)
  assert.equal([...a], [MSG_ACK, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 5, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 7, ...new Array(8).fill(0xbb)])
  assert.is(ONION_LAYER_SIZE, 28)
  assert.equal([8, 36, 64, 9, 7, 35].map(onionProbes), [0, 1, 2, -1, -1, -1])
  assert.equal(pathBackFrom([1, 2, 3, 4], 2), [3, 2, 1])
})

test('encoders refuse what decoders would refuse', () => {
  const ok = { source: 1, dst: 3, counter: 1, path: [1, 2, 3], body: new Uint8Array(0), onion: new Uint8Array(8) }
  const bad = (f: () => unknown, what: RegExp) => assert.throws(f, (e: unknown) => e instanceof SpinmeshError && what.test(e.message))
  bad(() => encodeData({ ...ok, path: [1, 3] , onion: new Uint8Array(36) }), /onion of 36 bytes/)
  bad(() => encodeData({ ...ok, onion: new Uint8Array(9) }), /onion of 9 bytes/)
  bad(() => encodeData({ ...ok, path: [1, 2, 2, 3] }), /visits 2 twice/)
  bad(() => encodeData({ ...ok, path: [2, 3] }), /starts at 2/)
  bad(() => encodeData({ ...ok, counter: 2 ** 32 }), /counter/)
  bad(() => encodeData({ ...ok, body: new Uint8Array(0x10000) }), /body/)
  const ack = { source: 1, dst: 3, ackNode: 2, counter: 1, path: [2, 1], enc: new Uint8Array(0), hmac: new Uint8Array(8) }
  bad(() => encodeAck({ ...ack, hmac: new Uint8Array(4) }), /hmac/)
  bad(() => encodeAck({ ...ack, path: [2, 5] }), /ends at 5/)
  bad(() => encodeAck({ ...ack, dst: 1 }), /dst 1/)
})

test('DATA and ACK round-trip', () => {
  fc.assert(fc.property(data, (m) => assert.equal(plain(decodeData(encodeData(m))), plain(m))), { seed: 61, numRuns: 1000 })
  fc.assert(fc.property(ack, (m) => assert.equal(plain(decodeAck(encodeAck(m))), plain(m))), { seed: 62, numRuns: 1000 })
})

test('decoders reject malformed fields with a DecodeError naming them', () => {
  const d = encodeData({ source: 1, dst: 3, counter: 1, path: [1, 2, 3], body: new Uint8Array(0), onion: new Uint8Array(8) })
  const err = (b: Uint8Array, dec: (b: Uint8Array) => unknown, what: RegExp) => {
    const e = decodeOrError(dec, b)
    assert.instance(e, DecodeError)
    assert.match((e as DecodeError).message, what)
  }
  const m = (b: Uint8Array, at: number, v: number) => { const c = b.slice(); c[at] = v; return c }
  err(m(d, 0, 3), decodeData, /type 3/)
  err(m(d, 1, 1), decodeData, /flag/)
  err(m(d, 5, 0), decodeData, /source 0 is not a node address/)
  err(m(d, 14, 1), decodeData, /at least 2 nodes/)
  err(m(d, 22, 1), decodeData, /visits 1 twice/)
  err(m(d, 26, 4), decodeData, /ends at 4/)
  err(d.subarray(0, d.length - 1), decodeData, /onion of 7 bytes/)
  // An onion of one probe on a 3-node path is fine; of two is not.
  const two = new Uint8Array(d.length + 56)
  two.set(d)
  err(two, decodeData, /2 probes does not fit a 3-node path/)
  const a = encodeAck({ source: 1, dst: 3, ackNode: 2, counter: 5, path: [2, 1], enc: new Uint8Array(0), hmac: new Uint8Array(8) })
  err(m(a, 0, 1), decodeAck, /type 1/)
  err(m(a, 9, 1), decodeAck, /dst is the source/)
  err(m(a, 13, 3), decodeAck, /starts at 2, not 3/)
  err(a.subarray(0, a.length - 1), decodeAck, /truncated/)
  const longer = new Uint8Array(a.length + 1)
  longer.set(a)
  err(longer, decodeAck, /trailing/)
})

test('decoders are total: arbitrary and mutated bytes give a message or a DecodeError', () => {
  checkDecoderProperties({ decode: decodeData, valid: data, encode: encodeData, typeBytes: [MSG_DATA], numRuns: 1500 })
  checkDecoderProperties({ decode: decodeAck, valid: ack, encode: encodeAck, typeBytes: [MSG_ACK], numRuns: 1500 })
})

test('decoded body, onion, enc and hmac are views of the input; paths are fresh', () => {
  const b = encodeData({ source: 1, dst: 3, counter: 1, path: [1, 2, 3], body: Uint8Array.of(5), onion: new Uint8Array(8) })
  const d = decodeData(b)
  assert.is(d.body.buffer, b.buffer)
  assert.is(d.onion.buffer, b.buffer)
  d.path[0] = 9
  assert.is(decodeData(b).path[0], 1)
  // dataSize and ackSize agree with the encoders.
  fc.assert(fc.property(data, (m) => encodeData(m).length === dataSize(m.path.length, m.body.length, onionProbes(m.onion.length))), { seed: 63, numRuns: 200 })
  fc.assert(fc.property(ack, (m) => encodeAck(m).length === ackSize(m.path.length, m.enc.length)), { seed: 64, numRuns: 200 })
})

test.run()
