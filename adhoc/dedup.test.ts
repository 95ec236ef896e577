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

test('late copies behind the window never rewind it, even three increasing ones (the false-resync bug)', () => {
  for (const [bits, window] of [[16, 64], [32, 128]] as const) {
    const d = new SeqWindows({ bits, window, maxOrigins: 4, resyncAfter: 3 })
    for (let s = 1000; s <= 1300; s++) assert.ok(d.accept(5, s))
    for (const s of [1010, 1050, 1100]) assert.not.ok(d.accept(5, s), `late copy ${s}`)
    for (const s of [1101, 1102, 1103]) assert.not.ok(d.accept(5, s), `late consecutive copy ${s}`)
    for (let s = 1101; s <= 1300; s++) assert.not.ok(d.accept(5, s), `${s} was seen`)
    assert.is(d.resyncs, 0)
    assert.ok(d.accept(5, 1301))
  }
})

test('a restarted origin: far behind and strictly consecutive re-synchronises; scattered far copies do not', () => {
  const d = new SeqWindows({ bits: 16, window: 64, maxOrigins: 4, resyncAfter: 3 })
  assert.is(d.resyncDistance, 1024)
  for (let s = 10_000; s < 10_010; s++) d.accept(5, s)
  const r = 10_010 - 5000 // restarted 5000 behind: far, but less than a quarter of the space
  assert.not.ok(d.accept(5, r), 'first of the run: dropped')
  assert.not.ok(d.accept(5, r + 1))
  assert.ok(d.accept(5, r + 2), 'third consecutive: the origin restarted')
  assert.is(d.resyncs, 1)
  assert.ok(d.accept(5, r + 3))
  assert.not.ok(d.accept(5, r + 2))
  assert.ok(d.accept(5, r), 'the run\'s first numbers were never accepted: a later copy of them is')
  assert.not.ok(d.accept(5, r))
  // Far but not consecutive, or interrupted by the live stream: no resync.
  const e = new SeqWindows({ bits: 16, window: 64, maxOrigins: 4, resyncAfter: 3 })
  for (let s = 10_000; s < 10_010; s++) e.accept(5, s)
  for (const s of [2000, 2002, 2003, 2005, 2004, 2006]) assert.not.ok(e.accept(5, s), `scattered ${s}`)
  for (const s of [3000, 3001]) assert.not.ok(e.accept(5, s))
  assert.ok(e.accept(5, 10_010), 'the live stream goes on')
  assert.not.ok(e.accept(5, 3002), 'the run was broken by the live stream')
  assert.is(e.resyncs, 0)
  const never = new SeqWindows({ bits: 16, window: 32, maxOrigins: 4, resyncAfter: 0 })
  never.accept(1, 20_000)
  for (let s = 0; s < 100; s++) assert.not.ok(never.accept(1, s))
})

test('a restart a quarter of the space or more behind is taken at once: no datagram lost', () => {
  const d = new SeqWindows({ bits: 16, window: 64, maxOrigins: 4 })
  for (let s = 1000; s <= 1300; s++) d.accept(5, s)
  const r = (1300 + 40_000) & 0xffff // 25 536 behind in serial arithmetic
  assert.ok(d.accept(5, r))
  assert.ok(d.accept(5, r + 1))
  assert.is(d.resyncs, 1)
  const e = new SeqWindows({ bits: 32, window: 128, maxOrigins: 4 })
  assert.is(e.resyncDistance, 65_536)
  e.accept(5, 0x8000_0000)
  assert.ok(e.accept(5, 0x4000_0000), 'exactly a quarter behind')
  assert.not.ok(e.accept(5, 0x4000_0000 - 70_000), 'far: starts a run')
  assert.ok(e.accept(5, 0x4000_0001), 'ahead of the new top')
})

test('seen() agrees with accept() without changing anything', () => {
  const d = new SeqWindows({ bits: 16, window: 64, maxOrigins: 4, resyncAfter: 2 })
  for (let s = 10_000; s < 10_010; s++) d.accept(5, s)
  for (const s of [10_005, 10_011, 9_000, 3000, 3001, 3002, 40_000]) {
    const predicted = !d.seen(5, s)
    assert.is(d.seen(5, s), !predicted, 'no side effect')
    assert.is(d.accept(5, s), predicted, `seq ${s}`)
  }
})

test('property: a monotone stream interleaved with late re-offers of accepted numbers is accepted exactly once', () => {
  const step = fc.oneof(
    fc.record({ fresh: fc.integer({ min: 1, max: 200 }) }),
    fc.record({ back: fc.nat(), run: fc.integer({ min: 1, max: 6 }) }),
  )
  fc.assert(
    fc.property(
      fc.constantFrom<[16 | 32, number]>([16, 32], [16, 64], [32, 32], [32, 128]),
      fc.nat(),
      fc.integer({ min: 1, max: 4 }),
      fc.array(step, { maxLength: 400 }),
      ([bits, window], start, resyncAfter, steps) => {
        const space = 2 ** bits
        const d = new SeqWindows({ bits, window, maxOrigins: 2, resyncAfter })
        // Offsets from `start`, increasing: every re-offer is within resyncDistance of the top.
        const accepted: number[] = []
        let top = 0
        const seqOf = (off: number): number => (start + off) % space
        for (const s of steps) {
          if ('fresh' in s) {
            // Mostly consecutive numbers (so late re-offers can be consecutive runs), sometimes a gap.
            top += s.fresh > 150 ? s.fresh : 1
            assert.ok(d.accept(1, seqOf(top)), `fresh ${top}`)
            accepted.push(top)
            continue
          }
          const inHistory = accepted.filter((off) => top - off < d.resyncDistance)
          if (inHistory.length === 0) continue
          const i = s.back % inHistory.length
          for (const off of inHistory.slice(i, i + s.run)) assert.not.ok(d.accept(1, seqOf(off)), `re-offer ${off} (top ${top})`)
        }
        assert.is(d.resyncs, 0)
      },
    ),
    { seed: 23, numRuns: 400 },
  )
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
