import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SeededRng } from '../../core/rng.ts'
import { MemberCache } from './member-cache.ts'

test('record inserts and refreshes; entries are least recently seen first', () => {
  const c = new MemberCache({ size: 4, ttlMs: 1000 })
  c.record(5, 2, 0)
  c.record(6, 3, 10)
  c.record(5, 7, 20)
  assert.equal(c.entries(20), [{ member: 6, hops: 3, lastSeen: 10 }, { member: 5, hops: 7, lastSeen: 20 }])
  assert.is(c.size(20), 2)
})

test('the size bound evicts the least recently seen', () => {
  const c = new MemberCache({ size: 3, ttlMs: 1e9 })
  c.record(1, 1, 0)
  c.record(2, 1, 1)
  c.record(3, 1, 2)
  c.record(1, 1, 3) // 1 refreshed: 2 is now the least recently seen
  c.record(4, 1, 4)
  assert.equal(c.entries(5).map((e) => e.member), [3, 1, 4])
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 200 }), (size, ms) => {
    const cc = new MemberCache({ size, ttlMs: 1e9 })
    ms.forEach((m, t) => {
      cc.record(m, 1, t)
      assert.ok(cc.size(t) <= size)
      assert.is(cc.entries(t).at(-1)!.member, m, 'the one just recorded is kept')
    })
  }))
})

test('expiry: entries not seen for more than ttlMs are removed', () => {
  const c = new MemberCache({ size: 10, ttlMs: 100 })
  c.record(1, 1, 0)
  c.record(2, 1, 50)
  assert.is(c.size(100), 2, 'exactly ttlMs old: kept')
  assert.is(c.size(101), 1)
  assert.equal(c.entries(101).map((e) => e.member), [2])
  const rng = new SeededRng(1)
  assert.is(c.pick(150, rng, 1), 2)
  assert.is(c.pick(151, rng, 1), undefined)
  assert.is(c.size(151), 0)
})

test('pick: exclude, remove, empty', () => {
  const rng = new SeededRng(2)
  const c = new MemberCache({ size: 10, ttlMs: 1000 })
  assert.is(c.pick(0, rng, 1), undefined)
  c.record(1, 3, 0)
  assert.is(c.pick(0, rng, 1, 1), undefined, 'the only member is excluded')
  c.record(2, 0, 0)
  for (let i = 0; i < 50; i++) assert.is(c.pick(0, rng, 1, 1), 2)
  c.remove(2)
  c.remove(99)
  for (let i = 0; i < 50; i++) assert.is(c.pick(0, rng, 1), 1)
})

test('weighting: max(1, hops)^exponent', () => {
  const count = (exponent: number): Map<number, number> => {
    const rng = new SeededRng(`weights-${exponent}`)
    const c = new MemberCache({ size: 10, ttlMs: 1e9 })
    c.record(1, 1, 0)
    c.record(4, 4, 0)
    c.record(7, 0, 0) // hops 0 weighs as 1
    const n = new Map<number, number>([[1, 0], [4, 0], [7, 0]])
    for (let i = 0; i < 30_000; i++) {
      const m = c.pick(0, rng, exponent)!
      n.set(m, n.get(m)! + 1)
    }
    return n
  }
  const e1 = count(1)
  const r1 = e1.get(4)! / e1.get(1)!
  assert.ok(r1 > 3.7 && r1 < 4.3, `hops 4 vs hops 1 with exponent 1: ${r1}`)
  const z1 = e1.get(7)! / e1.get(1)!
  assert.ok(z1 > 0.9 && z1 < 1.1, `hops 0 weighs as hops 1: ${z1}`)
  const e0 = count(0)
  const r0 = e0.get(4)! / e0.get(1)!
  assert.ok(r0 > 0.93 && r0 < 1.07, `exponent 0 is uniform: ${r0}`)
  const e2 = count(2)
  const r2 = e2.get(4)! / e2.get(1)!
  assert.ok(r2 > 14 && r2 < 18, `exponent 2: ${r2}`)
})

test('options are checked', () => {
  assert.throws(() => new MemberCache({ size: 0, ttlMs: 1 }), /size/)
  assert.throws(() => new MemberCache({ size: 1, ttlMs: 0 }), /ttlMs/)
})

test.run()
