import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ReceiveState, type GiveUpReason, type ReceiveStateOptions } from './receive-state.ts'

type GiveUp = [number, number, GiveUpReason]

function make(o: Partial<ReceiveStateOptions> = {}): { rs: ReceiveState; given: GiveUp[] } {
  const given: GiveUp[] = []
  const rs = new ReceiveState({
    maxSources: 8, maxMissing: 100, maxGap: 50, backfill: 0, resyncDistance: 1000, missingMaxAgeMs: 10_000,
    onGiveUp: (o, s, r) => given.push([o, s, r]), ...o,
  })
  return { rs, given }
}

test('the first arrival sets next, without a gap; in-order arrivals are new', () => {
  const { rs } = make()
  assert.is(rs.next(1), undefined)
  assert.equal(rs.arrive(1, 500, 0), { kind: 'new', gaps: 0 })
  assert.is(rs.next(1), 501)
  assert.equal(rs.arrive(1, 501, 0), { kind: 'new', gaps: 0 })
  assert.is(rs.next(1), 502)
  assert.is(rs.missingCount, 0)
})

test('gaps are detected and filled; duplicates are recognised', () => {
  const { rs, given } = make()
  rs.arrive(1, 10, 0)
  assert.equal(rs.arrive(1, 14, 1), { kind: 'new', gaps: 3 })
  assert.is(rs.missingCount, 3)
  assert.ok(rs.isMissing(1, 11) && rs.isMissing(1, 12) && rs.isMissing(1, 13))
  assert.not.ok(rs.isMissing(1, 14))
  assert.not.ok(rs.isMissing(2, 11))
  assert.equal(rs.arrive(1, 12, 2), { kind: 'gap-filled', gaps: 0 })
  assert.equal(rs.arrive(1, 12, 2), { kind: 'duplicate', gaps: 0 }, 'a second copy')
  assert.equal(rs.arrive(1, 14, 2), { kind: 'duplicate', gaps: 0 })
  assert.equal(rs.arrive(1, 10, 2), { kind: 'duplicate', gaps: 0 })
  assert.is(rs.missingCount, 2)
  assert.equal(rs.arrive(1, 11, 3).kind, 'gap-filled')
  assert.equal(rs.arrive(1, 13, 3).kind, 'gap-filled')
  assert.is(rs.missingCount, 0)
  assert.equal(given, [])
})

test('wrap-around at 2^32', () => {
  const { rs } = make()
  rs.arrive(1, 0xfffffffd, 0)
  assert.equal(rs.arrive(1, 1, 0), { kind: 'new', gaps: 3 })
  assert.is(rs.next(1), 2)
  assert.ok(rs.isMissing(1, 0xfffffffe) && rs.isMissing(1, 0xffffffff) && rs.isMissing(1, 0))
  assert.equal(rs.digest(1, 10), [{ source: 1, next: 2, missing: [0xfffffffe, 0xffffffff, 0] }])
  assert.equal(rs.arrive(1, 0xffffffff, 1).kind, 'gap-filled')
  assert.equal(rs.arrive(1, 0xfffffffd, 1).kind, 'duplicate')
  rs.arrive(2, 0xffffffff, 0)
  assert.equal(rs.arrive(2, 0, 0), { kind: 'new', gaps: 0 })
  assert.is(rs.next(2), 1)
})

test('restart ahead: a jump of more than maxGap records no gap and gives up the source missing', () => {
  const { rs, given } = make({ maxGap: 5 })
  rs.arrive(1, 100, 0)
  assert.equal(rs.arrive(1, 103, 0), { kind: 'new', gaps: 2 })
  assert.equal(rs.arrive(1, 109, 0), { kind: 'new', gaps: 5 }, 'exactly maxGap is a gap')
  rs.arrive(2, 7, 0)
  rs.arrive(2, 9, 0)
  assert.is(rs.missingCount, 8)
  assert.equal(rs.arrive(1, 116, 0), { kind: 'new', gaps: 0 }, 'maxGap + 1 ahead: a restart')
  assert.is(rs.next(1), 117)
  assert.equal(given, [[1, 101, 'restart'], [1, 102, 'restart'], [1, 104, 'restart'], [1, 105, 'restart'], [1, 106, 'restart'], [1, 107, 'restart'], [1, 108, 'restart']])
  assert.is(rs.missingCount, 1, 'the other source keeps its missing')
  assert.ok(rs.isMissing(2, 8))
})

test('restart behind: an arrival resyncDistance or more behind next', () => {
  const { rs, given } = make({ resyncDistance: 100 })
  rs.arrive(1, 1000, 0)
  rs.arrive(1, 1003, 0)
  assert.equal(rs.arrive(1, 905, 0), { kind: 'duplicate', gaps: 0 }, '99 behind next (1004): a late copy')
  assert.equal(rs.arrive(1, 904, 0), { kind: 'new', gaps: 0 }, '100 behind: a new stream')
  assert.is(rs.next(1), 905)
  assert.equal(given, [[1, 1001, 'restart'], [1, 1002, 'restart']])
  assert.equal(rs.arrive(1, 905, 0), { kind: 'new', gaps: 0 })
  // Across the wrap.
  rs.arrive(3, 50, 0)
  assert.equal(rs.arrive(3, (51 - 100) >>> 0, 0), { kind: 'new', gaps: 0 })
  assert.is(rs.next(3), (52 - 100) >>> 0)
})

test('an old missing entry far behind next is still filled, not taken for a restart', () => {
  const { rs } = make({ resyncDistance: 20, maxGap: 50 })
  rs.arrive(1, 0, 0)
  rs.arrive(1, 2, 0)
  rs.arrive(1, 40, 0)
  assert.equal(rs.arrive(1, 1, 0).kind, 'gap-filled', '40 behind next but missing')
})

test('maxMissing: the oldest-detected are given up', () => {
  const { rs, given } = make({ maxMissing: 4 })
  rs.arrive(1, 0, 0)
  rs.arrive(2, 0, 0)
  rs.arrive(1, 3, 1) // 1, 2 missing
  rs.arrive(2, 3, 2) // 2:1, 2:2 missing
  assert.is(rs.missingCount, 4)
  rs.arrive(1, 5, 3) // 1:4 missing → 1:1 given up
  assert.equal(given, [[1, 1, 'full']])
  rs.arrive(2, 2, 3) // fill 2:2
  rs.arrive(2, 7, 4) // 2:4..6 missing → 1:2, 2:1 given up (2:2 already filled)
  assert.equal(given, [[1, 1, 'full'], [1, 2, 'full'], [2, 1, 'full']])
  assert.is(rs.missingCount, 4)
  assert.equal(rs.arrive(1, 1, 5).kind, 'duplicate', 'a given-up seq is not delivered')
})

test('maxSources: the least recently heard source is forgotten', () => {
  const { rs, given } = make({ maxSources: 2 })
  rs.arrive(1, 0, 0)
  rs.arrive(1, 2, 0)
  rs.arrive(2, 0, 0)
  rs.arrive(1, 3, 0) // 1 heard again: 2 is now the least recent
  rs.arrive(2, 5, 0) // 2 heard again, 4 missing: 1 is least recent
  rs.arrive(3, 0, 0)
  assert.equal(given, [[1, 1, 'full']])
  assert.is(rs.next(1), undefined)
  assert.is(rs.next(2), 6)
  assert.is(rs.missingCount, 4)
  assert.equal(rs.arrive(1, 9, 0), { kind: 'new', gaps: 0 }, 'a forgotten source starts over')
  assert.equal(given.slice(1), [[2, 1, 'full'], [2, 2, 'full'], [2, 3, 'full'], [2, 4, 'full']])
})

test('expire gives up entries older than missingMaxAgeMs', () => {
  const { rs, given } = make({ missingMaxAgeMs: 1000 })
  rs.arrive(1, 0, 0)
  rs.arrive(1, 2, 100) // 1 at 100
  rs.arrive(2, 0, 200)
  rs.arrive(2, 3, 500) // 2:1, 2:2 at 500
  rs.arrive(2, 1, 600) // filled
  assert.is(rs.expire(1100), 0, 'exactly missingMaxAgeMs old: kept')
  assert.is(rs.expire(1101), 1)
  assert.equal(given, [[1, 1, 'aged']])
  assert.is(rs.expire(1501), 1)
  assert.equal(given, [[1, 1, 'aged'], [2, 2, 'aged']])
  assert.is(rs.missingCount, 0)
  assert.is(rs.expire(99999), 0)
})

test('digest: sources with missing first, then the most recently heard; caps and the 65535 window', () => {
  const { rs } = make({ maxGap: 70_000, maxMissing: 100_000 })
  rs.arrive(1, 0, 0)
  rs.arrive(2, 0, 0)
  rs.arrive(3, 0, 0)
  rs.arrive(4, 0, 0)
  rs.arrive(2, 4, 0) // 2: 1, 2, 3 missing
  rs.arrive(3, 1, 0) // 3 heard
  rs.arrive(4, 3, 0) // 4: 1, 2 missing, most recent
  assert.equal(rs.digest(10, 10), [
    { source: 4, next: 4, missing: [1, 2] },
    { source: 2, next: 5, missing: [1, 2, 3] },
    { source: 3, next: 2, missing: [] },
    { source: 1, next: 1, missing: [] },
  ])
  assert.equal(rs.digest(3, 2), [
    { source: 4, next: 4, missing: [1, 2] },
    { source: 2, next: 5, missing: [1, 2] },
    { source: 3, next: 2, missing: [] },
  ], 'oldest missing first, capped')
  assert.equal(rs.digest(0, 5), [])
  // Source 5: missing 1..66000; only those within 65535 of next are listed.
  rs.arrive(5, 0, 0)
  rs.arrive(5, 66_001, 0)
  const d = rs.digest(1, 3)
  assert.equal(d, [{ source: 5, next: 66_002, missing: [467, 468, 469] }])
})

test('property: bounds hold under any arrival sequence, and every gap is accounted for', () => {
  fc.assert(fc.property(
    fc.record({
      maxSources: fc.integer({ min: 1, max: 4 }), maxMissing: fc.integer({ min: 1, max: 30 }), maxGap: fc.integer({ min: 0, max: 40 }),
      resyncDistance: fc.integer({ min: 1, max: 200 }), missingMaxAgeMs: fc.integer({ min: 1, max: 50 }), backfill: fc.integer({ min: 0, max: 40 }),
    }).map((o) => ({ ...o, backfill: Math.min(o.backfill, o.maxGap) })),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0xffffffc0, max: 0xffffffff })), fc.boolean(), fc.integer({ min: 0, max: 70 })), { maxLength: 300 }),
    (opts, steps) => {
      let gaps = 0, filled = 0, givenUp = 0
      const rs = new ReceiveState({ ...opts, onGiveUp: () => givenUp++ })
      const origins = new Set<number>()
      steps.forEach(([o, s, ex, index], t) => {
        if (ex) rs.expire(t)
        const r = rs.arrive(o, s, t, index)
        origins.add(o)
        gaps += r.gaps
        if (r.kind === 'gap-filled') filled++
        assert.ok(rs.missingCount <= opts.maxMissing)
        let tracked = 0
        for (const x of origins) if (rs.next(x) !== undefined) tracked++
        assert.ok(tracked <= opts.maxSources)
        assert.is(rs.sourceCount, tracked)
        if (r.kind === 'new') assert.is(rs.next(o), (s + 1) >>> 0)
        assert.is(gaps, filled + givenUp + rs.missingCount)
        assert.not.ok(rs.isMissing(o, s), 'what just arrived is not missing')
      })
    },
  ), { numRuns: 500 })
})

test('a long lossy run keeps the internal queue compact', () => {
  const { rs } = make({ maxMissing: 50, maxGap: 10, missingMaxAgeMs: 100 })
  let seq = 0
  for (let t = 0; t < 20_000; t++) {
    seq += 1 + (t % 7 === 0 ? 3 : 0)
    rs.arrive(1 + (t % 3), seq, t)
    if (t % 5 === 0) rs.arrive(1 + (t % 3), seq - 2, t)
    if (t % 50 === 0) rs.expire(t)
    assert.ok(rs.missingCount <= 50)
  }
  const q = (rs as unknown as { queue: unknown[]; head: number })
  assert.ok(q.queue.length - q.head <= 2 * 50 + 256, `queue ${q.queue.length - q.head}`)
})

test('options are checked', () => {
  const base = { maxSources: 1, maxMissing: 1, maxGap: 1, backfill: 0, resyncDistance: 1, missingMaxAgeMs: 1 }
  assert.throws(() => new ReceiveState({ ...base, maxSources: 0 }), /maxSources/)
  assert.throws(() => new ReceiveState({ ...base, maxMissing: 0 }), /maxMissing/)
  assert.throws(() => new ReceiveState({ ...base, maxGap: -1 }), /maxGap/)
  assert.throws(() => new ReceiveState({ ...base, resyncDistance: 0 }), /resyncDistance/)
  assert.throws(() => new ReceiveState({ ...base, missingMaxAgeMs: 0 }), /missingMaxAgeMs/)
  assert.throws(() => new ReceiveState({ ...base, backfill: 2 }), /backfill/)
})

test('the first packet of a source marks min(index, backfill) earlier numbers missing', () => {
  const { rs } = make({ backfill: 10 })
  assert.equal(rs.arrive(1, 100, 0, 4), { kind: 'new', gaps: 4 })
  assert.equal([96, 97, 98, 99].map((q) => rs.isMissing(1, q)), [true, true, true, true])
  assert.not.ok(rs.isMissing(1, 95))
  assert.equal(rs.arrive(1, 97, 1, 1), { kind: 'gap-filled', gaps: 0 }, 'index matters only for a new source')
  assert.equal(rs.arrive(2, 5, 0, 500), { kind: 'new', gaps: 10 }, 'a late joiner asks for the last `backfill` only')
  assert.equal(rs.arrive(3, 1, 0, 3), { kind: 'new', gaps: 3 }, 'wraps below 0')
  assert.ok(rs.isMissing(3, 0xffffffff) && rs.isMissing(3, 0) && rs.isMissing(3, 0xfffffffe))
  assert.throws(() => make({ backfill: 51 }), /backfill/)
})

test.run()
