import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { crc32 as zlibCrc32 } from 'node:zlib'
import { CRC32_RESIDUE, crc32, getCrc32LE, putCrc32LE } from './crc32.ts'

const ascii = (s: string) => new TextEncoder().encode(s)

test('CRC-32/ISO-HDLC check value and known vectors', () => {
  assert.is(crc32(ascii('123456789')), 0xcbf43926)
  assert.is(crc32(new Uint8Array(0)), 0)
  assert.is(crc32(ascii('The quick brown fox jumps over the lazy dog')), 0x414fa339)
  assert.is(crc32(Uint8Array.of(0)), 0xd202ef8d)
})

test('matches node:zlib and is incremental', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), (b, cut) => {
    const c = crc32(b)
    assert.is(c, zlibCrc32(b) >>> 0)
    const at = b.length === 0 ? 0 : cut % (b.length + 1)
    assert.is(crc32(b.subarray(at), crc32(b.subarray(0, at))), c)
  }), { seed: 1, numRuns: 500 })
})

test('appended little-endian, the CRC of the whole is the residue 0x2144DF1C', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
    const framed = new Uint8Array(b.length + 4)
    framed.set(b)
    putCrc32LE(framed, b.length, crc32(b))
    assert.is(getCrc32LE(framed, b.length), crc32(b))
    assert.is(crc32(framed), CRC32_RESIDUE)
  }), { seed: 2, numRuns: 300 })
  const check = new Uint8Array(4)
  putCrc32LE(check, 0, 0xcbf43926)
  assert.equal([...check], [0x26, 0x39, 0xf4, 0xcb])
})

test.run()
