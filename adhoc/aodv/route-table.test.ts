import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { isActive, isFresher, RouteTable } from './route-table.ts'

function table(): RouteTable {
  return new RouteTable(15_000, 4)
}

test('freshness uses signed 32-bit comparison: 0 is newer than 0xFFFFFFFF', () => {
  const t = table()
  const e = t.upsert(9, 0)
  e.seq = 0xffffffff
  e.validSeq = true
  t.setRoute(e, 2, 3, 10_000)
  assert.ok(isFresher(e, 0, 9, 0), 'wrapped to 0: newer even with more hops')
  assert.ok(isFresher(e, 5, 9, 0))
  assert.not.ok(isFresher(e, 0xfffffffe, 1, 0), 'older even with fewer hops')
  assert.ok(isFresher(e, 0xffffffff, 2, 0), 'same seq, fewer hops: fresher')
  assert.not.ok(isFresher(e, 0xffffffff, 4, 0), 'same seq, more hops: not fresher')
  e.seq = 0
  assert.not.ok(isFresher(e, 0xffffffff, 1, 0), '0xFFFFFFFF is older than 0')
  assert.ok(isFresher(e, 0x7fffffff, 1, 0), 'half the space ahead is still newer')
  assert.not.ok(isFresher(e, 0x80000000, 1, 0), 'more than half ahead reads as older')
})

test('same sequence number: an inactive entry is replaced, an active one only by fewer hops', () => {
  const t = table()
  const e = t.upsert(9, 0)
  e.seq = 7
  e.validSeq = true
  t.setRoute(e, 2, 3, 1000)
  assert.not.ok(isFresher(e, 7, 3, 0))
  assert.ok(isFresher(e, 7, 2, 0))
  assert.ok(isFresher(e, 7, 5, 1000), 'expired at 1000: anything with the same seq is better')
  e.validSeq = false
  assert.ok(isFresher(e, 1, 9, 0), 'no valid seq: any information is better')
  assert.ok(isFresher(undefined, 0, 1, 0))
})

test('property: exactly one of two different sequence numbers is newer', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (a, d) => {
      const t = table()
      const e = t.upsert(9, 0)
      e.seq = a
      e.validSeq = true
      t.setRoute(e, 2, 1, 10)
      const b = (a + d) >>> 0
      assert.ok(isFresher(e, b, 200, 0), `${b} newer than ${a}`)
      e.seq = b
      assert.not.ok(isFresher(e, a, 0, 0), `${a} older than ${b}`)
    }),
    { seed: 51, numRuns: 1000 },
  )
})

test('lifetimes: active until expiresAt, then invalid for DELETE_PERIOD, then gone', () => {
  const t = table()
  const e = t.upsert(9, 0)
  t.setRoute(e, 2, 1, 3000)
  assert.ok(isActive(t.get(9, 2999), 2999))
  t.refresh(9, 2000, 3000)
  assert.is(e.expiresAt, 5000, 'refresh extends to now + lifetime')
  t.refresh(9, 2000, 1000)
  assert.is(e.expiresAt, 5000, 'never shortens')
  assert.is(t.active(9, 5000), undefined)
  const dead = t.get(9, 5000)!
  assert.is(dead.valid, false)
  assert.is(dead.expiresAt, 20_000, 'deleted DELETE_PERIOD after it lapsed')
  t.refresh(9, 6000, 3000)
  assert.is(dead.valid, false, 'refresh does not revive an invalid route')
  assert.ok(t.get(9, 19_999))
  assert.is(t.get(9, 20_000), undefined)
  assert.is(t.size, 0)
})

test('invalidate keeps the entry DELETE_PERIOD; sweep applies expiry to all', () => {
  const t = table()
  const a = t.upsert(1, 0)
  t.setRoute(a, 1, 1, 3000)
  const b = t.upsert(2, 0)
  t.setRoute(b, 1, 2, 100_000)
  t.invalidate(b, 50)
  assert.is(b.expiresAt, 15_050)
  assert.equal(t.activeVia(1, 60).map((e) => e.dst), [1])
  t.sweep(15_050)
  assert.is(t.size, 1)
  t.sweep(18_000)
  assert.is(t.size, 0)
})

test('bounded: a new destination evicts an invalid route first, else the oldest', () => {
  const t = table()
  for (let d = 1; d <= 4; d++) t.setRoute(t.upsert(d, 0), d, 1, 10_000)
  t.invalidate(t.get(3, 0)!, 0)
  t.upsert(5, 0)
  assert.equal([...t.entries()].map((e) => e.dst), [1, 2, 4, 5])
  t.setRoute(t.get(5, 0)!, 5, 1, 10_000)
  t.upsert(6, 0)
  assert.equal([...t.entries()].map((e) => e.dst), [2, 4, 5, 6])
})

test('a route under local repair outlives its deletion time until the repair ends', () => {
  const t = table()
  const e = t.upsert(9, 0)
  t.setRoute(e, 2, 1, 1000)
  t.invalidate(e, 0)
  e.repairing = true
  t.sweep(100_000)
  assert.ok(t.get(9, 100_000))
  t.setRoute(e, 3, 2, 200_000)
  assert.is(e.repairing, false)
  assert.ok(t.active(9, 100_000))
})

test.run()
