import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { History, type HistoryEntry } from './history.ts'

const P = Uint8Array.of(1)

function seqsOf(es: HistoryEntry[]): number[] {
  return es.map((e) => e.seq)
}

test('add, get, duplicates refused', () => {
  const h = new History({ maxMessages: 10, maxAgeMs: 1000 })
  assert.ok(h.add(1, 5, P, 0))
  assert.not.ok(h.add(1, 5, Uint8Array.of(2), 1), 'same (origin, seq) again')
  assert.ok(h.add(2, 5, P, 1), 'another origin, same seq')
  assert.is(h.size, 2)
  assert.equal(h.get(1, 5), { origin: 1, seq: 5, payload: P, at: 0 })
  assert.is(h.get(1, 6), undefined)
  assert.is(h.get(3, 5), undefined)
  assert.equal(h.origins().sort(), [1, 2])
})

test('the size bound evicts the oldest-arrived first, onEvict once each', () => {
  const evicted: Array<[number, number]> = []
  const h = new History({ maxMessages: 3, maxAgeMs: 1e9, onEvict: (e) => evicted.push([e.origin, e.seq]) })
  h.add(1, 10, P, 0)
  h.add(2, 20, P, 1)
  h.add(1, 11, P, 2)
  h.add(3, 30, P, 3)
  assert.equal(evicted, [[1, 10]])
  h.add(3, 31, P, 4)
  assert.equal(evicted, [[1, 10], [2, 20]])
  assert.is(h.size, 3)
  assert.equal(h.origins().sort(), [1, 3], 'an origin without entries is dropped')
  assert.is(h.get(1, 10), undefined)
  assert.ok(h.add(1, 10, P, 5), 'an evicted message can be added again')
})

test('property: size ≤ maxMessages, held = added − evicted, every eviction reported once', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 30 })), { maxLength: 600 }),
    (max, adds) => {
      const evicted = new Map<string, number>()
      const h = new History({ maxMessages: max, maxAgeMs: 1e9, onEvict: (e) => evicted.set(`${e.origin}:${e.seq}`, (evicted.get(`${e.origin}:${e.seq}`) ?? 0) + 1) })
      const held = new Set<string>()
      const fifo: string[] = []
      adds.forEach(([o, s], t) => {
        const key = `${o}:${s}`
        const before = evicted.size
        const added = h.add(o, s, P, t)
        assert.is(added, !held.has(key))
        if (added) {
          held.add(key)
          fifo.push(key)
          evicted.delete(key)
        }
        if (held.size > max) {
          const out = fifo.shift()!
          held.delete(out)
          assert.is(evicted.get(out), 1, 'the oldest-arrived was evicted, once')
        }
        assert.ok(evicted.size <= before + 1)
        assert.ok(h.size <= max)
        assert.is(h.size, held.size)
      })
      for (const k of held) {
        const [o, s] = k.split(':').map(Number)
        assert.ok(h.get(o, s))
      }
    },
  ), { numRuns: 300 })
})

test('the age bound: expire evicts what arrived before now − maxAgeMs', () => {
  const evicted: number[] = []
  const h = new History({ maxMessages: 100, maxAgeMs: 1000, onEvict: (e) => evicted.push(e.seq) })
  for (let i = 0; i < 10; i++) h.add(1, i, P, i * 100)
  assert.is(h.expire(1000), 0, 'seq 0 arrived exactly maxAgeMs ago: kept')
  assert.is(h.expire(1101), 2)
  assert.equal(evicted, [0, 1])
  assert.is(h.expire(1101), 0, 'nothing twice')
  assert.is(h.expire(10_000), 8)
  assert.is(h.size, 0)
  assert.equal(evicted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.equal(h.origins(), [])
})

test('a long run stays bounded and keeps FIFO order across compactions', () => {
  let evictions = 0
  let lastEvicted = -1
  const h = new History({ maxMessages: 50, maxAgeMs: 1e9, onEvict: (e) => {
    assert.is(e.seq, lastEvicted + 1)
    lastEvicted = e.seq
    evictions++
  } })
  for (let i = 0; i < 10_000; i++) h.add(7, i, P, i)
  assert.is(h.size, 50)
  assert.is(evictions, 10_000 - 50)
  assert.equal(seqsOf(h.since(7, 0)), Array.from({ length: 50 }, (_, i) => 9950 + i))
  assert.ok((h as unknown as { order: unknown[] }).order.length <= 2 * 50 + 256, 'the arrival array is compacted')
})

test('since(): serial order, wrap-around at 2^32, other origins excluded', () => {
  const h = new History({ maxMessages: 100, maxAgeMs: 1e9 })
  for (const s of [3, 0xfffffffe, 1, 0xffffffff, 0, 0x7fff0000]) h.add(1, s, P, 0)
  h.add(2, 0xffffffff, P, 0)
  assert.equal(seqsOf(h.since(1, 0xfffffffe)), [0xfffffffe, 0xffffffff, 0, 1, 3, 0x7fff0000])
  assert.equal(seqsOf(h.since(1, 0xffffffff)), [0xffffffff, 0, 1, 3, 0x7fff0000])
  assert.equal(seqsOf(h.since(1, 1)), [1, 3, 0x7fff0000], 'the numbers just before the wrap are behind 1')
  assert.equal(seqsOf(h.since(1, 4)), [0x7fff0000])
  assert.equal(seqsOf(h.since(1, 0x80000000)), [0xfffffffe, 0xffffffff], 'half the space away: 0..3 and 0x7fff0000 are behind')
  assert.equal(h.since(9, 0), [])
})

test('clear() forgets everything without onEvict', () => {
  let evicted = 0
  const h = new History({ maxMessages: 5, maxAgeMs: 1000, onEvict: () => evicted++ })
  for (let i = 0; i < 4; i++) h.add(1, i, P, 0)
  h.clear()
  assert.is(h.size, 0)
  assert.is(evicted, 0)
  assert.equal(h.origins(), [])
  assert.ok(h.add(1, 0, P, 0))
  assert.is(h.expire(5000), 1)
  assert.is(evicted, 1)
})

test('options are checked', () => {
  assert.throws(() => new History({ maxMessages: 0, maxAgeMs: 1 }), /maxMessages/)
  assert.throws(() => new History({ maxMessages: 1.5, maxAgeMs: 1 }), /maxMessages/)
  assert.throws(() => new History({ maxMessages: 1, maxAgeMs: 0 }), /maxAgeMs/)
})

test.run()
