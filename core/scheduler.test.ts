import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimScheduler, RealScheduler } from './scheduler.ts'

test('events run in time order, ties in scheduling order', () => {
  const s = new SimScheduler()
  const log: string[] = []
  s.at(5, () => log.push('b5'))
  s.at(1, () => log.push('a1'))
  s.at(5, () => log.push('c5'))
  s.at(0, () => log.push('z0'))
  s.run()
  assert.equal(log, ['z0', 'a1', 'b5', 'c5'])
  assert.is(s.now(), 5)
  assert.is(s.eventsRun, 4)
})

test('an event may schedule more events, including at the same instant', () => {
  const s = new SimScheduler()
  const log: number[] = []
  s.at(1, () => {
    log.push(s.now())
    s.at(0, () => log.push(s.now() + 0.5))
    s.at(2, () => log.push(s.now()))
  })
  s.run()
  assert.equal(log, [1, 1.5, 3])
})

test('cancelled timers never run, and cancelling twice is harmless', () => {
  const s = new SimScheduler()
  let ran = 0
  const t = s.at(10, () => ran++)
  t.cancel()
  t.cancel()
  s.at(20, () => ran += 10)
  s.run()
  assert.is(ran, 10)
  assert.is(s.pending, 0)
})

test('mass cancellation compacts the heap and keeps order', () => {
  const s = new SimScheduler()
  const timers = []
  const seen: number[] = []
  for (let i = 0; i < 5000; i++) timers.push(s.at(i, () => seen.push(i)))
  for (let i = 0; i < 5000; i++) if (i % 5 !== 0) timers[i].cancel()
  for (let i = 0; i < 10; i++) s.at(10_000 + i, () => seen.push(10_000 + i))
  s.run()
  assert.is(seen.length, 1000 + 10)
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1])
})

test('run(until) stops before later events and advances the clock to until', () => {
  const s = new SimScheduler()
  const log: number[] = []
  s.at(1, () => log.push(1))
  s.at(3, () => log.push(3))
  s.run({ until: 2 })
  assert.equal(log, [1])
  assert.is(s.now(), 2)
  s.run({ until: 10 })
  assert.equal(log, [1, 3])
  assert.is(s.now(), 10)
})

test('stop() ends run after the current event; maxEvents bounds a run', () => {
  const s = new SimScheduler()
  let n = 0
  const tick = () => {
    n++
    if (n === 3) s.stop()
    s.at(1, tick)
  }
  s.at(0, tick)
  s.run()
  assert.is(n, 3)
  s.run({ maxEvents: 4 })
  assert.is(n, 7)
})

test('bad delays are refused with a RangeError naming the value', () => {
  const s = new SimScheduler()
  assert.throws(() => s.at(-1, () => {}), /got -1/)
  assert.throws(() => s.at(NaN, () => {}), /got NaN/)
  assert.throws(() => new RealScheduler().at(Infinity, () => {}), /got Infinity/)
})

test('the real scheduler has a monotonic clock and cancellable timers', () => {
  const r = new RealScheduler({ unref: true })
  const a = r.now()
  const b = r.now()
  assert.ok(b >= a)
  r.at(1_000_000, () => assert.unreachable('cancelled timer ran')).cancel()
})

test.run()
