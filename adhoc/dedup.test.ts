import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SeqWindows } from './dedup.ts'

test('first sight is new, the second a duplicate; reordering inside the window is fine', () => {
  const d = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4 })
  assert.ok(d.accept(1, 10))
  assert.not.ok(d.accept(1, 10))
  assert.ok(d.accept(1, 12))
  assert.ok(d.accept(1, 11), 'late but inside the window')
  assert.not.ok(d.accept(1, 11))
  assert.ok(d.accept(2, 10), 'origins are independent')
  assert.ok(d.seen(1, 12))
  assert.not.ok(d.seen(1, 13))
})

test('a jump ahead clears the numbers it passes over', () => {
  const d = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4 })
  d.accept(1, 0)
  d.accept(1, 5)
  assert.ok(d.accept(1, 40), 'jump by 35')
  assert.ok(d.accept(1, 20), '20 was never seen and is inside the window (40 − 31 … 40)')
  assert.not.ok(d.accept(1, 5), '5 is behind the window: dropped')
  assert.ok(d.accept(1, 41))
  assert.ok(d.accept(1, 39))
})

test('16-bit numbers wrap: 65535 → 0 → 1 is moving forward', () => {
  const d = new SeqWindows({ bits: 16, window: 64, maxOrigins: 4 })
  for (const s of [65530, 65534, 65535, 0, 1]) assert.ok(d.accept(7, s), `new ${s}`)
  for (const s of [65530, 65535, 0, 1]) assert.not.ok(d.accept(7, s), `duplicate ${s}`)
  assert.ok(d.accept(7, 65533), 'inside the window across the wrap')
})

test('32-bit numbers wrap too', () => {
  const d = new SeqWindows({ bits: 32, window: 64, maxOrigins: 4 })
  const top = 0xffffffff
  for (const s of [top - 2, top, 0, 3]) assert.ok(d.accept(9, s))
  for (const s of [top - 2, top, 0, 3]) assert.not.ok(d.accept(9, s))
  assert.ok(d.accept(9, top - 1))
  assert.ok(d.accept(9, 1))
})

test('LRU bound: the least recently used origin is forgotten (and its old duplicate passes once)', () => {
  const d = new SeqWindows({ bits: 32, window: 32, maxOrigins: 3 })
  d.accept(1, 100)
  d.accept(2, 100)
  d.accept(3, 100)
  d.accept(1, 101) // 1 is now most recent; 2 is the least recent
  d.accept(4, 100)
  assert.is(d.size, 3)
  assert.is(d.evictions, 1)
  assert.not.ok(d.accept(1, 100), 'origin 1 remembered')
  assert.ok(d.accept(2, 100), 'origin 2 was evicted: documented limitation')
  for (let o = 10; o < 1000; o++) d.accept(o, 1)
  assert.is(d.size, 3, 'never more than maxOrigins')
})

test('a restarted origin is re-synchronised after resyncAfter increasing frames behind the window', () => {
  const d = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4, resyncAfter: 3 })
  for (let s = 1000; s < 1010; s++) d.accept(5, s)
  assert.not.ok(d.accept(5, 7), 'behind: dropped')
  assert.not.ok(d.accept(5, 8))
  assert.ok(d.accept(5, 9), 'third in a row: the origin restarted')
  assert.is(d.resyncs, 1)
  assert.ok(d.accept(5, 10))
  assert.not.ok(d.accept(5, 9))
  // Stale duplicates in random order do not re-synchronise.
  const e = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4, resyncAfter: 3 })
  for (let s = 1000; s < 1010; s++) e.accept(5, s)
  for (const s of [20, 10, 30, 5, 6, 2]) assert.not.ok(e.accept(5, s))
  const never = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4, resyncAfter: 0 })
  never.accept(1, 1000)
  for (let s = 0; s < 100; s++) assert.not.ok(never.accept(1, s))
})

test('property: against a reference set, inside the window, any order, any start (with wrap)', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<16 | 32>(16, 32),
      fc.nat(),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 })), { maxLength: 300 }),
      (bits, start, draws) => {
        // Each origin's numbers stay within 41 of its start, so with a 64 window nothing falls behind.
        const space = bits === 16 ? 0x10000 : 0x100000000
        const d = new SeqWindows({ bits, window: 64, maxOrigins: 8 })
        const seen = new Set<string>()
        for (const [origin, off] of draws) {
          const seq = (start + off) % space
          const key = `${origin}/${seq}`
          assert.is(d.accept(origin, seq), !seen.has(key), key)
          seen.add(key)
        }
      },
    ),
    { seed: 11, numRuns: 300 },
  )
})

test('constructor checks its bounds', () => {
  assert.throws(() => new SeqWindows({ bits: 16, window: 48, maxOrigins: 1 }), RangeError)
  assert.throws(() => new SeqWindows({ bits: 16, window: 16, maxOrigins: 1 }), RangeError)
  assert.throws(() => new SeqWindows({ bits: 8 as 16, window: 32, maxOrigins: 1 }), RangeError)
  assert.throws(() => new SeqWindows({ bits: 16, window: 32, maxOrigins: 0 }), RangeError)
})

test.run()
