import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from './rng.ts'

test('same seed, same sequence; different seeds differ', () => {
  const a = new SeededRng(42), b = new SeededRng(42), c = new SeededRng(43)
  const xs = Array.from({ length: 5 }, () => a.float())
  assert.equal(Array.from({ length: 5 }, () => b.float()), xs)
  assert.not.equal(Array.from({ length: 5 }, () => c.float()), xs)
})

test('forks are independent of how much the parent or siblings consumed', () => {
  const a = new SeededRng(7)
  const first = a.fork('node', 3).float()
  const b = new SeededRng(7)
  for (let i = 0; i < 100; i++) b.float()
  b.fork('node', 1).float()
  assert.is(b.fork('node', 3).float(), first)
  assert.is.not(a.fork('node', 4).float(), first)
})

test('float is uniform in [0,1), int in [0,n), normal has the right moments', () => {
  const r = new SeededRng('moments')
  const N = 100_000
  let sum = 0, min = 1, max = 0
  const bins = new Array(10).fill(0)
  for (let i = 0; i < N; i++) {
    const x = r.float()
    sum += x
    min = Math.min(min, x)
    max = Math.max(max, x)
    bins[r.int(10)]++
  }
  assert.ok(min >= 0 && max < 1)
  assert.ok(Math.abs(sum / N - 0.5) < 0.01)
  for (const b of bins) assert.ok(Math.abs(b / N - 0.1) < 0.01, `bin ${b}`)
  let s1 = 0, s2 = 0
  for (let i = 0; i < N; i++) {
    const x = r.normal(3, 2)
    s1 += x
    s2 += x * x
  }
  const mean = s1 / N
  assert.ok(Math.abs(mean - 3) < 0.03)
  assert.ok(Math.abs(Math.sqrt(s2 / N - mean * mean) - 2) < 0.03)
})

test('bad arguments are RangeErrors', () => {
  const r = new SeededRng(1)
  assert.throws(() => r.int(0), RangeError)
  assert.throws(() => r.int(2.5), RangeError)
  assert.throws(() => r.pick([]), RangeError)
})

test.run()
