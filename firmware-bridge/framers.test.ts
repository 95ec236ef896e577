/**
 * The contract every framer keeps (framer-types.ts), run against both implementations: never
 * throws, chunking does not matter, resynchronises after damage, refuses overlong frames without
 * buffering them, and accounts for every input byte.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { toHex } from '../core/bytes.ts'
import { CobsFramer, encodeCobsFrame } from './cobs-framer.ts'
import { FEND, KissFramer, kissEncode } from './kiss-framer.ts'
import type { FrameEvent, Framer } from './framer-types.ts'

interface Spec {
  name: string
  make(maxFrame?: number): Framer
  delimiter: number
  /** Buffer bytes beyond maxFrame the framer may hold (the CRC for COBS). */
  overhead: number
  /** What a sender puts after damage so that every frame after it survives. */
  separator: number[]
  /** What opens a frame on a fresh framer (KISS ignores bytes before its first FEND). */
  open: number[]
  minPayload: number
  /** Wire bytes for any payload, maxFrame not checked. */
  wire(payload: Uint8Array): Uint8Array
}

const SPECS: Spec[] = [
  { name: 'cobs', make: (maxFrame) => new CobsFramer(maxFrame ? { maxFrame } : {}), delimiter: 0x00, overhead: 4, separator: [0x00], open: [], minPayload: 1, wire: encodeCobsFrame },
  { name: 'kiss', make: (maxFrame) => new KissFramer(maxFrame ? { maxFrame } : {}), delimiter: FEND, overhead: 0, separator: [], open: [FEND], minPayload: 0, wire: (p) => kissEncode(0, p) },
]

/** Events as comparable strings. */
function show(events: FrameEvent[]): string[] {
  return events.map((e) => (e.kind === 'frame' ? `frame ${toHex(e.payload)}` : `error ${e.code} ${e.skipped}`))
}

/** Push `stream` cut at `cuts` (sorted offsets), checking the buffer bound after every chunk. */
function pushCut(framer: Framer, stream: Uint8Array, cuts: number[], bound = Infinity): FrameEvent[] {
  const out: FrameEvent[] = []
  let at = 0
  for (const c of [...cuts, stream.length]) {
    if (c < at) continue
    out.push(...framer.push(stream.subarray(at, c)))
    assert.ok(framer.buffered <= bound, `buffered ${framer.buffered} > ${bound}`)
    at = c
  }
  return out
}

const ones = (s: Uint8Array) => Array.from({ length: s.length - 1 }, (_, i) => i + 1)
const cat = (parts: Array<Uint8Array | number[]>) => Uint8Array.from(parts.flatMap((p) => [...p]))
const count = (b: Uint8Array, v: number) => b.reduce((n, x) => n + (x === v ? 1 : 0), 0)
const SPECIAL = [0x00, 0x01, 0x02, 0xfe, 0xff, 0xc0, 0xdb, 0xdc, 0xdd, 0x42]

function arbPayload(min: number, max = 300): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ minLength: min, maxLength: max }),
    fc.array(fc.constantFrom(...SPECIAL), { minLength: min, maxLength: max }).map((a) => Uint8Array.from(a)),
  )
}

/** Random bytes, truncated frames, frames with one byte changed, frames without their last byte. */
function arbDamage(spec: Spec): fc.Arbitrary<Uint8Array> {
  const frame = arbPayload(Math.max(1, spec.minPayload), 120).map((p) => spec.wire(p))
  return fc.oneof(
    arbPayload(1, 200),
    fc.tuple(frame, fc.nat()).map(([w, c]) => w.subarray(0, 1 + (c % (w.length - 1)))),
    fc.tuple(frame, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([w, at, d]) => {
      const m = w.slice()
      m[at % m.length] = (m[at % m.length] + d) & 0xff
      return m
    }),
  )
}

/** Offsets in `stream` (sorted) from arbitrary naturals. */
const cutsOf = (raw: number[], stream: Uint8Array) => raw.map((r) => r % (stream.length + 1)).sort((a, b) => a - b)

for (const spec of SPECS) {
  const arbStream = fc.array(fc.oneof(arbPayload(spec.minPayload).map((p) => spec.wire(p)), arbDamage(spec)), { maxLength: 6 }).map(cat)

  test(`${spec.name}: arbitrary bytes never throw; every byte is a frame's, a delimiter or counted as skipped`, () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), arbStream), fc.array(fc.nat(), { maxLength: 12 }), (stream, raw) => {
      const f = spec.make(64)
      const events = pushCut(f, stream, cutsOf(raw, stream), 64 + spec.overhead)
      events.push(...f.push(Uint8Array.of(spec.delimiter)))
      const s = f.stats
      assert.is(s.bytesIn, stream.length + 1)
      assert.is(s.bytesIn - count(stream, spec.delimiter) - 1, s.frameBytes + s.bytesDiscarded)
      assert.is(events.filter((e) => e.kind === 'frame').length, s.frames)
      assert.is(events.reduce((n, e) => n + (e.kind === 'error' ? e.skipped : 0), 0), s.bytesDiscarded)
      for (const e of events) if (e.kind === 'error') assert.ok(e.skipped > 0)
    }), { seed: 11, numRuns: 1500 })
  })

  test(`${spec.name}: a frame sequence split at every boundary, or byte by byte, gives exactly its frames`, () => {
    fc.assert(fc.property(fc.array(arbPayload(spec.minPayload, 80), { minLength: 1, maxLength: 4 }), (payloads) => {
      const stream = cat(payloads.map((p) => spec.wire(p)))
      const want = payloads.map((p) => `frame ${toHex(p)}`)
      for (let k = 0; k <= stream.length; k++) assert.equal(show(pushCut(spec.make(), stream, [k])), want)
      assert.equal(show(pushCut(spec.make(), stream, ones(stream))), want)
    }), { seed: 12, numRuns: 150 })
  })

  test(`${spec.name}: events do not depend on chunking (random chunkings of mixed streams)`, () => {
    fc.assert(fc.property(arbStream, fc.array(fc.nat(), { maxLength: 20 }), (stream, raw) => {
      const whole = show(spec.make(64).push(stream))
      const cutAt = cutsOf(raw, stream)
      assert.equal(show(pushCut(spec.make(64), stream, cutAt)), whole)
      assert.equal(show(pushCut(spec.make(64), stream, ones(stream))), whole)
    }), { seed: 13, numRuns: 400 })
  })

  test(`${spec.name}: every one of the 2^(n-1) chunkings of a short damaged stream gives the same events`, () => {
    const stream = cat([[0x05, 0x11, spec.delimiter, 0xdb], spec.separator, spec.wire(Uint8Array.of(0x11)), spec.wire(Uint8Array.of(0xc0, 0x00))])
    const want = show(spec.make().push(stream))
    assert.ok(want.slice(-2).every((w) => w.startsWith('frame')), want.join())
    for (let mask = 0; mask < 2 ** (stream.length - 1); mask++) {
      const at: number[] = []
      for (let i = 0; i < stream.length - 1; i++) if (mask & (1 << i)) at.push(i + 1)
      assert.equal(show(pushCut(spec.make(), stream, at)), want)
    }
  })

  test(`${spec.name}: encode → push round trip`, () => {
    fc.assert(fc.property(arbPayload(spec.minPayload, 4096), (p) => {
      const f = spec.make()
      assert.equal(show(f.push(f.encode(p))), [`frame ${toHex(p)}`])
      assert.is(f.stats.frameBytes, f.encode(p).length - count(f.encode(p), spec.delimiter))
    }), { seed: 14, numRuns: 300 })
  })

  test(`${spec.name}: after damage the framer resynchronises and returns the next valid frames`, () => {
    fc.assert(fc.property(arbDamage(spec), fc.array(arbPayload(spec.minPayload, 100), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (damage, payloads, raw) => {
      const frames = cat(payloads.map((p) => spec.wire(p)))
      const stream = cat([damage, spec.separator, frames])
      const f = spec.make()
      const cutAt = cutsOf(raw, stream)
      const events = show(pushCut(f, stream, cutAt))
      assert.equal(events.slice(-payloads.length), payloads.map((p) => `frame ${toHex(p)}`))
      assert.is(f.stats.bytesIn - count(stream, spec.delimiter), f.stats.frameBytes + f.stats.bytesDiscarded)
      // The damage costs the same as it does alone: the valid frames lose nothing to it.
      const alone = spec.make()
      alone.push(cat([damage, spec.separator, spec.open]))
      assert.is(f.stats.bytesDiscarded, alone.stats.bytesDiscarded)
      assert.is(f.stats.frames, alone.stats.frames + payloads.length)
    }), { seed: 15, numRuns: 1000 })
  })

  test(`${spec.name}: frames longer than maxFrame are refused without buffering them`, () => {
    const max = 64
    fc.assert(fc.property(fc.integer({ min: max + 1, max: 5 * max }), fc.array(fc.nat(), { maxLength: 10 }), (n, raw) => {
      const big = spec.wire(Uint8Array.from({ length: n }, (_, i) => (i * 37 + 1) & 0xff))
      const next = Uint8Array.of(0x42, 0x00, 0x43)
      const stream = cat([big, spec.wire(next)])
      const f = spec.make(max)
      const cutAt = cutsOf(raw, stream)
      assert.equal(show(pushCut(f, stream, cutAt, max + spec.overhead)), [`error too-long ${big.length - count(big, spec.delimiter)}`, `frame ${toHex(next)}`])
      assert.is(f.stats.errors['too-long'], 1)
    }), { seed: 16, numRuns: 200 })
    // A megabyte without a delimiter: nothing buffered past the limit, one error at the end.
    const f = spec.make(max)
    f.push(Uint8Array.from(spec.open))
    const chunk = new Uint8Array(65_536).fill(0x55)
    for (let i = 0; i < 16; i++) {
      assert.equal(f.push(chunk), [])
      assert.ok(f.buffered <= max + spec.overhead)
    }
    assert.equal(show(f.push(Uint8Array.of(spec.delimiter))), [`error too-long ${16 * 65_536}`])
  })

  test(`${spec.name}: a payload of exactly maxFrame passes; encode refuses one byte more`, () => {
    const f = spec.make(100)
    const p = new Uint8Array(100).fill(0x7e)
    assert.equal(show(f.push(f.encode(p))), [`frame ${toHex(p)}`])
    try {
      f.encode(new Uint8Array(101))
      assert.unreachable('encode accepted an overlong payload')
    } catch (e) {
      assert.instance(e, SpinmeshError)
      assert.is((e as SpinmeshError).code, ErrorCodes.FRAME_TOO_LARGE)
    }
  })

  test(`${spec.name}: reset drops the frame in progress and keeps the counters`, () => {
    const f = spec.make()
    const w = spec.wire(Uint8Array.of(1, 2, 3))
    f.push(cat([spec.open, w.subarray(0, w.length - 2)]))
    assert.ok(f.buffered > 0)
    f.reset()
    assert.is(f.buffered, 0)
    assert.equal(show(f.push(w)), ['frame 010203'])
    assert.is(f.stats.frames, 1)
  })
}

test.run()
