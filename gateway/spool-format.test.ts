import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { concatBytes } from '../core/bytes.ts'
import { DecodeError } from '../core/errors.ts'
import {
  CURSOR_FILE_SIZE, MAX_PAYLOAD_BYTES, MAX_RECORD_SIZE, RECORD_HEADER_SIZE, decodeCursorState, decodeSpoolRecord,
  cursorFileOf, encodeCursorState, encodeSpoolRecord, scanSpoolRecords, segmentBaseOf, segmentFileName,
} from './spool-format.ts'
import type { SpoolRecord } from './stream-types.ts'

const record = fc.record({
  offset: fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  key: fc.string({ unit: 'binary', maxLength: 60 }).filter((k) => Buffer.byteLength(k) <= 255),
  payload: fc.uint8Array({ maxLength: 300 }),
  appendedAt: fc.oneof(fc.constant(1_700_000_000_000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
})

/** A stream of records with increasing offsets (gaps allowed, as after compaction). */
const stream = fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 80 })), { minLength: 1, maxLength: 12 }).map((rs) => {
  let offset = -1
  return rs.map(([step, key, payload]): SpoolRecord => ({ offset: (offset += step), key, payload, appendedAt: 1_700_000_000_000 + offset }))
})

const plain = (r: SpoolRecord) => ({ ...r, payload: [...r.payload] })

function total(f: () => unknown): void {
  try {
    f()
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`threw a non-DecodeError: ${String(e)}`)
  }
}

test('a record has the documented layout: 28-byte header, key, payload', () => {
  const b = encodeSpoolRecord({ offset: 0x1_0000_0002, key: 'k/1', payload: Uint8Array.of(7, 8), appendedAt: 0x2_0000_0003 })
  assert.is(RECORD_HEADER_SIZE, 28)
  assert.is(b.length, 28 + 3 + 2)
  assert.equal([...b.subarray(0, 2)], [0x53, 0x50]) // 'SP'
  assert.equal([...b.subarray(6, 28)], [1, 3, 0, 0, 0, 33, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3])
  assert.equal([...b.subarray(28)], [0x6b, 0x2f, 0x31, 7, 8])
  assert.is(MAX_RECORD_SIZE, 28 + 255 + 1024 * 1024)
})

test('round trip', () => {
  fc.assert(
    fc.property(record, (r) => {
      const b = encodeSpoolRecord(r)
      const d = decodeSpoolRecord(b)
      assert.is(d.size, b.length)
      assert.equal(plain(d.record), plain(r))
      // also at an offset inside a larger buffer, with bytes after it
      const inside = concatBytes(Uint8Array.of(1, 2, 3), b, Uint8Array.of(9))
      assert.equal(plain(decodeSpoolRecord(inside, 3).record), plain(r))
    }),
    { seed: 41, numRuns: 1000 },
  )
})

test('arbitrary and mutated bytes decode to a record or a DecodeError, nothing else; scanning never throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    total(() => decodeSpoolRecord(b))
    total(() => decodeCursorState(b))
    scanSpoolRecords(b)
  }), { seed: 42, numRuns: 5000 })
  const mutated = fc.tuple(record, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat({ max: 30 })).map(([r, flips, cut]) => {
    const b = encodeSpoolRecord(r).slice()
    for (const [i, v] of flips) b[i % b.length] = v
    return b.subarray(0, Math.max(0, b.length - cut))
  })
  fc.assert(fc.property(mutated, (b) => {
    total(() => decodeSpoolRecord(b))
    scanSpoolRecords(b)
  }), { seed: 43, numRuns: 5000 })
  // a huge claimed length is refused before anything is read or allocated
  const big = encodeSpoolRecord({ offset: 0, key: '', payload: new Uint8Array(0), appendedAt: 0 })
  big.set([0xff, 0xff, 0xff, 0xff], 8)
  assert.throws(() => decodeSpoolRecord(big), (e: unknown) => e instanceof DecodeError && /over the limit/.test((e as Error).message))
})

test('a stream cut at every byte boundary recovers every complete record before the cut, and reports the rest as the tail', () => {
  fc.assert(
    fc.property(stream, (recs) => {
      const parts = recs.map(encodeSpoolRecord)
      const bytes = concatBytes(...parts)
      const ends: number[] = []
      let e = 0
      for (const p of parts) ends.push((e += p.length))
      for (let cut = 0; cut <= bytes.length; cut++) {
        const s = scanSpoolRecords(bytes.subarray(0, cut))
        const complete = ends.filter((x) => x <= cut).length
        assert.is(s.records.length, complete, `cut ${cut}`)
        assert.equal(s.records.map((r) => plain(r.record)), recs.slice(0, complete).map(plain))
        assert.equal(s.skipped, [])
        assert.is(s.tail, complete === 0 ? 0 : ends[complete - 1])
        assert.is(s.tailReason === undefined, s.tail === cut)
      }
    }),
    { seed: 44, numRuns: 150 },
  )
})

test('a corrupt byte in the middle is detected: that record is skipped, the scan resynchronises on the next one', () => {
  fc.assert(
    fc.property(stream.filter((r) => r.length >= 3), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (recs, which, where, xor) => {
      const parts = recs.map(encodeSpoolRecord)
      const hit = 1 + (which % (parts.length - 2)) // not the first or the last record
      const starts: number[] = []
      let s = 0
      for (const p of parts) {
        starts.push(s)
        s += p.length
      }
      const bytes = concatBytes(...parts)
      const at = starts[hit] + (where % parts[hit].length)
      bytes[at] ^= xor
      const scan = scanSpoolRecords(bytes)
      const expected = recs.filter((_, i) => i !== hit).map(plain)
      assert.equal(scan.records.map((r) => plain(r.record)), expected)
      assert.equal(scan.skipped.map(({ at, size }) => ({ at, size })), [{ at: starts[hit], size: parts[hit].length }])
      assert.is(scan.tail, bytes.length)
    }),
    { seed: 45, numRuns: 1000 },
  )
})

test('scan refuses offsets out of order or outside the segment, as damage', () => {
  const r = (offset: number) => encodeSpoolRecord({ offset, key: 'k', payload: Uint8Array.of(offset), appendedAt: 1 })
  const bytes = concatBytes(r(5), r(5), r(6), r(4))
  const s = scanSpoolRecords(bytes)
  assert.equal(s.records.map((x) => x.record.offset), [5, 6])
  assert.is(s.skipped.length, 1)
  assert.match(s.skipped[0].reason, /out of order/)
  assert.is(s.tail, bytes.length - r(4).length)
  assert.equal(scanSpoolRecords(bytes, { after: 5 }).records.map((x) => x.record.offset), [6])
  assert.equal(scanSpoolRecords(bytes, { before: 6 }).records.map((x) => x.record.offset), [5])
})

test('encoding refuses what the format cannot hold, naming the limit', () => {
  const ok = { offset: 0, key: 'k', payload: new Uint8Array(0), appendedAt: 0 }
  assert.throws(() => encodeSpoolRecord({ ...ok, key: 'x'.repeat(256) }), (e: unknown) => e instanceof RangeError && /255 bytes/.test((e as Error).message))
  assert.throws(() => encodeSpoolRecord({ ...ok, key: 'é'.repeat(128) }), /256 bytes of UTF-8/)
  assert.throws(() => encodeSpoolRecord({ ...ok, payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) }), (e: unknown) => e instanceof RangeError && /1048576 bytes/.test((e as Error).message))
  assert.throws(() => encodeSpoolRecord({ ...ok, offset: -1 }), RangeError)
  assert.throws(() => encodeSpoolRecord({ ...ok, offset: 2 ** 53 }), RangeError)
  assert.throws(() => encodeSpoolRecord({ ...ok, key: 'a\uD800b' }), /lone surrogate/)
  assert.is(encodeSpoolRecord({ ...ok, key: 'x'.repeat(255), payload: new Uint8Array(MAX_PAYLOAD_BYTES) }).length, MAX_RECORD_SIZE)
})

test('cursor file: 16 bytes, round trip, every corruption detected', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 15 }), fc.integer({ min: 1, max: 255 }), (acked, at, xor) => {
    const b = encodeCursorState(acked)
    assert.is(b.length, CURSOR_FILE_SIZE)
    assert.is(decodeCursorState(b), acked)
    const bad = b.slice()
    bad[at] ^= xor
    assert.throws(() => decodeCursorState(bad), (e: unknown) => e instanceof DecodeError)
    assert.throws(() => decodeCursorState(b.subarray(0, at)), (e: unknown) => e instanceof DecodeError)
  }), { seed: 46, numRuns: 1000 })
})

test('file names: a segment is named by its first offset in 20 digits; a cursor by its name', () => {
  assert.is(segmentFileName(4096), '00000000000000004096.seg')
  assert.is(segmentBaseOf(segmentFileName(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
  assert.is(segmentBaseOf('4096.seg'), undefined)
  assert.is(segmentBaseOf('00000000000000004096.seg.tmp'), undefined)
  assert.is(cursorFileOf('mqtt.cursor'), 'mqtt')
  assert.is(cursorFileOf('live-1.v2.cursor'), 'live-1.v2')
  assert.is(cursorFileOf('.cursor'), undefined)
  assert.is(cursorFileOf('-x.cursor'), undefined)
  assert.is(cursorFileOf('mqtt.cursor.tmp'), undefined)
})

test.run()
