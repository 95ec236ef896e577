import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { fromHex, toHex } from '../core/bytes.ts'
import { CobsFramer, cobsFrameMaxLength, encodeCobsFrame } from './cobs-framer.ts'
import type { FrameEvent } from './framer-types.ts'

const ascii = (s: string) => new TextEncoder().encode(s)
const show = (events: FrameEvent[]) => events.map((e) => (e.kind === 'frame' ? `frame ${toHex(e.payload)}` : `error ${e.code} ${e.skipped}`))
const cat = (parts: Array<Uint8Array | number[]>) => Uint8Array.from(parts.flatMap((p) => [...p]))

test('wire layout: COBS(payload ‖ CRC-32 little-endian) ‖ 00', () => {
  // CRC-32("123456789") = 0xCBF43926, sent 26 39 F4 CB; 13 bytes without a zero: one block, code 0x0E.
  assert.is(toHex(encodeCobsFrame(ascii('123456789'))), '0e3132333435363738392639f4cb00')
  assert.is(toHex(encodeCobsFrame(Uint8Array.of(0x11, 0x00, 0x22))), '02110622b151c53700')
  assert.equal(show(new CobsFramer().push(fromHex('0e3132333435363738392639f4cb00'))), ['frame 313233343536373839'])
  assert.is(cobsFrameMaxLength(255), 255 + 4 + 2 + 1)
})

test('zeros between frames are idle; a leading zero starts fresh', () => {
  const f = new CobsFramer()
  const a = encodeCobsFrame(Uint8Array.of(1)), b = encodeCobsFrame(Uint8Array.of(2))
  assert.equal(show(f.push(cat([[0, 0, 0], a, [0, 0], b, [0]]))), ['frame 01', 'frame 02'])
  assert.is(f.stats.bytesDiscarded, 0)
  // A sender that gave up mid-frame sends a lone zero: its next frame survives.
  const w = encodeCobsFrame(ascii('partial frame'))
  assert.equal(show(f.push(cat([w.subarray(0, 6), [0], a]))), ['error cobs 6', 'frame 01'])
})

test('each error code, with the bytes it skipped', () => {
  const f = new CobsFramer({ maxFrame: 8 })
  assert.equal(show(f.push(fromHex('0511223300'))), ['error cobs 4'], 'block cut by a delimiter')
  assert.equal(show(f.push(fromHex('010100'))), ['error short 2'], 'decodes to 1 byte')
  assert.equal(show(f.push(fromHex('0101010101'))), [], 'in progress')
  assert.equal(show(f.push(fromHex('00'))), ['error short 5'], 'an empty payload with CRC 0 is refused, not delivered')
  const w = encodeCobsFrame(ascii('abc'))
  w[2] ^= 0x40
  assert.equal(show(f.push(w)), [`error crc ${w.length - 1}`])
  const big = encodeCobsFrame(new Uint8Array(9).fill(7))
  assert.equal(show(f.push(big)), [`error too-long ${big.length - 1}`])
  assert.equal(f.stats.errors, { crc: 1, cobs: 1, short: 2, 'too-long': 1, 'kiss-escape': 0, unframed: 0 })
})

test('every single-byte corruption of a frame is reported, never delivered', () => {
  for (const p of [ascii('hello, mesh'), Uint8Array.of(0, 0, 1, 0, 0xff), new Uint8Array(300).map((_, i) => (i * 7) & 0xff)]) {
    const w = encodeCobsFrame(p)
    const after = encodeCobsFrame(Uint8Array.of(0x99))
    for (let at = 0; at < w.length - 1; at++) {
      for (let v = 0; v < 256; v++) {
        if (v === w[at]) continue
        const m = w.slice()
        m[at] = v
        const events = new CobsFramer().push(cat([m, after]))
        assert.equal(show(events.slice(-1)), ['frame 99'], `${toHex(p).slice(0, 16)} at ${at} = ${v}`)
        const rest = events.slice(0, -1)
        assert.ok(rest.length >= 1 && rest.every((e) => e.kind === 'error'), `${at} = ${v}: ${show(rest)}`)
      }
    }
  }
})

test('without a separator a truncated frame takes the next one with it, and no more', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.array(fc.uint8Array({ minLength: 1, maxLength: 50 }), { minLength: 2, maxLength: 4 }), (p, cut, next) => {
    const w = encodeCobsFrame(p)
    const trunc = w.subarray(0, 1 + (cut % (w.length - 2)))
    const f = new CobsFramer()
    const events = f.push(cat([trunc, ...next.map(encodeCobsFrame)]))
    const [merged, ...rest] = events
    assert.ok(merged.kind === 'error' && ['cobs', 'crc', 'short', 'too-long'].includes(merged.code), show(events).join())
    assert.is(merged.kind === 'error' && merged.skipped, trunc.length + encodeCobsFrame(next[0]).length - 1)
    assert.equal(show(rest), next.slice(1).map((n) => `frame ${toHex(n)}`))
  }), { seed: 21, numRuns: 500 })
})

test('encode refuses an empty payload and one past maxFrame', () => {
  const f = new CobsFramer({ maxFrame: 10 })
  for (const [n, code] of [[0, ErrorCodes.INVALID_ARGUMENT], [11, ErrorCodes.FRAME_TOO_LARGE]] as const) {
    try {
      f.encode(new Uint8Array(n))
      assert.unreachable()
    } catch (e) {
      assert.instance(e, SpinmeshError)
      assert.is((e as SpinmeshError).code, code)
    }
  }
})

test('the buffer is allocated once: maxFrame + 4 bytes', () => {
  const f = new CobsFramer({ maxFrame: 16 })
  const p = new Uint8Array(16).fill(0xee)
  f.push(encodeCobsFrame(p).subarray(0, 20))
  assert.is(f.buffered, 19)
  assert.equal(show(f.push(encodeCobsFrame(p).subarray(20))), [`frame ${toHex(p)}`])
  assert.is(f.buffered, 0)
})

test.run()
