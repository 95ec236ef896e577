import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from '../core/errors.ts'
import { fromHex, toHex } from '../core/bytes.ts'
import { checkDecoderProperties, decodeOrError } from '../core/testing.ts'
import { cobsDecode, cobsEncode, cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts'

const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i)
const cat = (...parts: Array<Uint8Array | number[]>) => Uint8Array.from(parts.flatMap((p) => [...p]))

// The published examples (Wikipedia "Consistent Overhead Byte Stuffing", encoded column without the
// trailing 0x00 delimiter), and the IPv4-header-like example worked through the paper's algorithm.
const EXAMPLES: Array<[string, Uint8Array, Uint8Array]> = [
  ['empty', new Uint8Array(0), Uint8Array.of(0x01)],
  ['00', Uint8Array.of(0x00), Uint8Array.of(0x01, 0x01)],
  ['00 00', Uint8Array.of(0x00, 0x00), Uint8Array.of(0x01, 0x01, 0x01)],
  ['00 11 00', Uint8Array.of(0x00, 0x11, 0x00), Uint8Array.of(0x01, 0x02, 0x11, 0x01)],
  ['11 22 00 33', Uint8Array.of(0x11, 0x22, 0x00, 0x33), Uint8Array.of(0x03, 0x11, 0x22, 0x02, 0x33)],
  ['11 22 33 44', Uint8Array.of(0x11, 0x22, 0x33, 0x44), Uint8Array.of(0x05, 0x11, 0x22, 0x33, 0x44)],
  ['11 00 00 00', Uint8Array.of(0x11, 0x00, 0x00, 0x00), Uint8Array.of(0x02, 0x11, 0x01, 0x01, 0x01)],
  ['01 … FE (254 bytes)', range(0x01, 0xfe), cat([0xff], range(0x01, 0xfe))],
  ['00 01 … FE (255 bytes)', range(0x00, 0xfe), cat([0x01, 0xff], range(0x01, 0xfe))],
  ['01 … FF (255 bytes)', range(0x01, 0xff), cat([0xff], range(0x01, 0xfe), [0x02, 0xff])],
  ['02 … FF 00 (255 bytes)', cat(range(0x02, 0xff), [0x00]), cat([0xff], range(0x02, 0xff), [0x01, 0x01])],
  ['03 … FF 00 01 (255 bytes)', cat(range(0x03, 0xff), [0x00, 0x01]), cat([0xfe], range(0x03, 0xff), [0x02, 0x01])],
  ['IPv4 header fragment', fromHex('4500002c4c79000040064f37'), fromHex('024501042c4c79010540064f37')],
]

test('published examples encode and decode exactly', () => {
  for (const [name, data, encoded] of EXAMPLES) {
    assert.is(toHex(cobsEncode(data)), toHex(encoded), `encode ${name}`)
    assert.is(toHex(cobsDecode(encoded)), toHex(data), `decode ${name}`)
    assert.ok(encoded.length <= cobsMaxEncodedLength(data.length), `bound ${name}`)
  }
})

test('round trip, no zero in the encoding, overhead within the bound', () => {
  const data = fc.oneof(fc.uint8Array({ maxLength: 1200 }), fc.uint8Array({ minLength: 250, maxLength: 800, min: 1 }), fc.array(fc.constantFrom(0, 1, 0xff), { maxLength: 600 }).map((a) => Uint8Array.from(a)))
  fc.assert(fc.property(data, (d) => {
    const e = cobsEncode(d)
    assert.ok(!e.includes(0))
    assert.ok(e.length >= d.length + 1 && e.length <= cobsMaxEncodedLength(d.length))
    assert.equal(cobsDecode(e), d)
  }), { seed: 3, numRuns: 1000 })
})

test('encodeInto writes at an offset and returns the end', () => {
  const out = new Uint8Array(10).fill(0xaa)
  const end = cobsEncodeInto(Uint8Array.of(0x11, 0x00, 0x22), out, 2)
  assert.is(end, 6)
  assert.equal([...out.subarray(0, 7)], [0xaa, 0xaa, 0x02, 0x11, 0x02, 0x22, 0xaa])
})

test('malformed encodings are DecodeErrors naming the offset', () => {
  const bad: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /empty/],
    [Uint8Array.of(0x00), /zero byte at offset 0/],
    [Uint8Array.of(0x03, 0x11, 0x00), /zero byte at offset 2/],
    [Uint8Array.of(0x05, 0x11, 0x22), /announces 4 byte\(s\), 2 left/],
    [Uint8Array.of(0x02, 0x11, 0x03, 0x22), /announces 2 byte\(s\), 1 left/],
  ]
  for (const [b, message] of bad) {
    const e = decodeOrError(cobsDecode, b)
    assert.instance(e, DecodeError, toHex(b))
    assert.match((e as DecodeError).message, message)
  }
})

test('the decoder is total', () => {
  // Data not ending in 0x00, so that dropping the last encoded byte always cuts a block short.
  const valid = fc.uint8Array({ maxLength: 600 }).filter((d) => d.length === 0 || d[d.length - 1] !== 0)
  fc.configureGlobal({ seed: 4 })
  try {
    checkDecoderProperties({ decode: cobsDecode, valid, encode: cobsEncode, numRuns: 1500 })
  } finally {
    fc.resetConfigureGlobal()
  }
})

test.run()
