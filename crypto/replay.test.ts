import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SpinmeshError } from '../core/errors.ts'
import { ReplayWindows, type ReplayVerdict } from './replay.ts'

/** The naive model: every counter seen, per origin, least recently updated dropped at the limit. */
class Model {
  private readonly o = new Map<number, { top: number; floor: number; seen: Set<number> }>()
  constructor(private readonly bits: number, private readonly max: number) {}
  get size() { return this.o.size }
  has(origin: number) { return this.o.has(origin) }
  check(origin: number, c: number): ReplayVerdict {
    const s = this.o.get(origin)
    if (!s || c > s.top) return 'fresh'
    if (c <= s.top - this.bits) return 'too-old'
    return c <= s.floor || s.seen.has(c) ? 'replay' : 'fresh'
  }
  private put(origin: number, s: { top: number; floor: number; seen: Set<number> }) {
    if (!this.o.delete(origin) && this.o.size >= this.max) this.o.delete(this.o.keys().next().value as number)
    this.o.set(origin, s)
  }
  accept(origin: number, c: number): ReplayVerdict {
    const v = this.check(origin, c)
    if (v !== 'fresh') return v
    const s = this.o.get(origin) ?? { top: c, floor: -1, seen: new Set<number>() }
    s.seen.add(c)
    s.top = Math.max(s.top, c)
    this.put(origin, s)
    return v
  }
  reset(origin: number, c: number) { this.put(origin, { top: c, floor: c, seen: new Set() }) }
  forget(origin: number) { this.o.delete(origin) }
}

type Op = { op: 'accept' | 'check' | 'reset' | 'forget'; origin: number; delta: number }

function runModel(bits: number, max: number, start: number, ops: Op[]): void {
  const w = new ReplayWindows({ windowBits: bits, maxOrigins: max })
  const m = new Model(bits, max)
  const last = new Map<number, number>()
  for (const { op, origin, delta } of ops) {
    // Counters wander around each origin's latest one: mostly near it, sometimes far ahead or behind.
    const base = last.get(origin) ?? start
    const c = Math.min(0xffffffff, Math.max(0, base + delta))
    last.set(origin, Math.max(base, c))
    switch (op) {
      case 'accept': assert.is(w.accept(origin, c), m.accept(origin, c), `accept(${origin}, ${c})`); break
      case 'check': assert.is(w.check(origin, c), m.check(origin, c), `check(${origin}, ${c})`); break
      case 'reset': w.reset(origin, c); m.reset(origin, c); break
      case 'forget': w.forget(origin); m.forget(origin); break
    }
    assert.is(w.size, m.size)
    for (let o = 1; o <= 6; o++) assert.is(w.has(o), m.has(o))
  }
  for (const [o, top] of last) for (let d = -2 * bits - 3; d <= 3; d++) {
    const c = top + d
    if (c >= 0 && c <= 0xffffffff) assert.is(w.check(o, c), m.check(o, c), `final check(${o}, ${c})`)
  }
}

const opArb = (bits: number) => fc.record({
  op: fc.constantFrom<Op['op']>('accept', 'accept', 'accept', 'accept', 'check', 'check', 'reset', 'forget'),
  origin: fc.integer({ min: 1, max: 6 }),
  delta: fc.oneof(fc.integer({ min: -bits - 40, max: 40 }), fc.integer({ min: -3 * bits, max: 3 * bits })),
})

test('ReplayWindows agrees with a naive Set-based model', () => {
  for (const bits of [32, 64, 96, 128, 1024]) {
    fc.assert(fc.property(fc.constantFrom(0, 1000, 0xffffffff - 200), fc.integer({ min: 1, max: 7 }), fc.array(opArb(bits), { maxLength: 300 }), (start, max, ops) => {
      runModel(bits, max, start, ops)
    }), { numRuns: bits === 1024 ? 40 : 150 })
  }
})

test('sliding: every alignment and jump size over a full window (word-wise clearing)', () => {
  for (const bits of [32, 64, 96]) {
    for (let offset = 0; offset < 32; offset++) {
      for (let jump = 1; jump <= bits + 1; jump++) {
        const w = new ReplayWindows({ windowBits: bits })
        const m = new Model(bits, 1)
        const base = 1000 + offset
        for (let c = base; c < base + bits; c++) { w.accept(1, c); m.accept(1, c) }
        const top = base + bits - 1 + jump
        assert.is(w.accept(1, top), m.accept(1, top))
        for (let c = top - bits - 1; c <= top + 1; c++) if (w.check(1, c) !== m.check(1, c)) assert.is(w.check(1, c), m.check(1, c), `W ${bits}, offset ${offset}, jump ${jump}: check(${c})`)
      }
    }
  }
})

test('fresh, replay and too-old; check does not change state', () => {
  const w = new ReplayWindows()
  assert.is(w.check(7, 100), 'fresh')
  assert.not.ok(w.has(7))
  assert.is(w.accept(7, 100), 'fresh')
  assert.is(w.accept(7, 100), 'replay')
  assert.is(w.accept(7, 99), 'fresh', 'within the window, not seen')
  assert.is(w.accept(7, 37), 'fresh', 'the lowest counter of a 64-bit window')
  assert.is(w.accept(7, 36), 'too-old')
  assert.is(w.accept(7, 200), 'fresh')
  assert.is(w.check(7, 136), 'too-old', 'the window slid')
  assert.is(w.check(7, 137), 'fresh')
  assert.is(w.check(7, 137), 'fresh', 'check did not record')
  assert.is(w.check(7, 100), 'too-old')
  assert.is(w.accept(7, 0xffffffff), 'fresh', 'the largest counter')
  assert.is(w.accept(7, 0xffffffff), 'replay')
  w.reset(9, 1000)
  assert.is(w.check(9, 1000), 'replay', 'reset counts the counter itself as seen')
  assert.is(w.check(9, 999), 'replay')
  assert.is(w.check(9, 936), 'too-old')
  assert.is(w.accept(9, 1001), 'fresh')
  w.forget(9)
  assert.is(w.accept(9, 5), 'fresh', 'forgotten: unknown again')
})

test('bounded origins: the least recently updated origin is dropped', () => {
  const w = new ReplayWindows({ maxOrigins: 3, windowBits: 32 })
  w.accept(1, 10); w.accept(2, 10); w.accept(3, 10)
  w.accept(1, 11) // 1 is now the most recent; 2 the least
  assert.is(w.accept(1, 11), 'replay', 'a replay does not count as an update')
  w.accept(4, 10)
  assert.is(w.size, 3)
  assert.not.ok(w.has(2))
  assert.ok(w.has(1) && w.has(3) && w.has(4))
  const big = new ReplayWindows({ maxOrigins: 1024 })
  for (let o = 1; o <= 5000; o++) big.accept(o, o)
  assert.is(big.size, 1024)
  assert.ok(big.has(5000) && !big.has(3976) && big.has(3977))
})

test('bad arguments are refused, naming what is wrong', () => {
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_INVALID_ARGUMENT' && re.test(e.message))
  bad(() => new ReplayWindows({ windowBits: 48 }), /windowBits must be a multiple of 32 in 32\.\.4096, got 48/)
  bad(() => new ReplayWindows({ windowBits: 4128 }), /windowBits/)
  bad(() => new ReplayWindows({ windowBits: 0 }), /windowBits/)
  bad(() => new ReplayWindows({ maxOrigins: 0 }), /maxOrigins/)
  const w = new ReplayWindows({ windowBits: 4096 })
  bad(() => w.accept(1, -1), /counter must be a u32, got -1/)
  bad(() => w.check(1, 2 ** 32), /counter/)
  bad(() => w.accept(1, 1.5), /counter/)
  bad(() => w.reset(-3, 1), /origin must be a u32/)
})

test.run()
