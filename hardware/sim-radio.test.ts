import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { StaticMobility } from './mobility.ts'
import { radioContract } from './radio-contract.ts'
import { frame, staticField } from './sim-fixtures.ts'
import { SimMedium } from './sim-medium.ts'
import { MEDIUM_COUNTERS } from './sim-radio.ts'

radioContract('SimRadio', async () => {
  const scheduler = new SimScheduler()
  const medium = new SimMedium({ scheduler, rng: new SeededRng('contract') })
  const a = medium.addNode(1, new StaticMobility({ x: 0, y: 0 }))
  const b = medium.addNode(2, new StaticMobility({ x: 100, y: 0 }))
  return { a, b, settle: async () => scheduler.run(), queueLimit: a.config.queueLimit }
})

test('sent comes preamble + bytes·8/bitrate after send on an idle channel', () => {
  const f = staticField([[0, 0], [100, 0]], { bitrate: 1_000_000, preambleMs: 0.5 })
  const sent: number[] = []
  f.radios[0].on('sent', (s) => sent.push(s.at, s.airtimeMs))
  f.scheduler.run({ until: 7 })
  f.radios[0].send(frame(1, 1000))
  f.scheduler.run()
  assert.equal(sent, [7 + 0.5 + 8, 8.5])
  assert.is(f.count(1, 'airtimeMs'), 8.5)
  assert.is(f.count(1, 'txBytes'), 1000)
  assert.is(f.count(1, 'txFrames'), 1)
})

test('every counter the runner reads exists, with these exact names', () => {
  const f = staticField([[0, 0], [100, 0]])
  f.radios[0].send(frame(1))
  f.scheduler.run()
  assert.equal([...MEDIUM_COUNTERS], ['txFrames', 'txBytes', 'airtimeMs', 'rxFrames', 'rxCollisions', 'rxHalfDuplex', 'rxLost', 'csmaBackoffs', 'dropped', 'dutyCycleWaits'])
  assert.is(f.count(2, 'rxFrames'), 1)
  assert.equal(Object.keys(f.metrics.totals().medium).sort(), [...MEDIUM_COUNTERS].sort())
})

test('a full tx queue refuses with ERR_QUEUE_FULL (from a later event), and the frame on air does not count', () => {
  const f = staticField([[0, 0], [100, 0]], { queueLimit: 3 })
  const dropped: string[] = []
  f.radios[0].on('dropped', (d) => dropped.push(`${d.code} ${d.bytes[0]} ${f.scheduler.now()}`))
  f.scheduler.run({ until: 5 })
  for (let i = 0; i < 6; i++) f.radios[0].send(frame(i))
  assert.equal(dropped, [], 'not inside send()')
  f.scheduler.run({ until: 5 })
  assert.equal(dropped, ['ERR_QUEUE_FULL 4 5', 'ERR_QUEUE_FULL 5 5']) // 1 on air + 3 waiting; same instant
  f.scheduler.run()
  assert.is(f.heard[1].length, 4)
  assert.is(f.count(1, 'dropped'), 2)
})

test('a frame longer than the whole duty-cycle budget is dropped ERR_DUTY_CYCLE, after send() returns', () => {
  // 1 % of 1 s = 10 ms; 100 bytes at 50 kbit/s = 16 ms
  const f = staticField([[0, 0], [100, 0]], { bitrate: 50_000, preambleMs: 0, dutyCycle: 0.01, dutyCycleWindowMs: 1000 })
  const dropped: string[] = []
  f.radios[0].on('dropped', (d) => dropped.push(d.code))
  f.radios[0].send(frame(1, 100))
  assert.equal(dropped, [])
  f.radios[0].send(frame(2, 50)) // 8 ms: fits
  f.scheduler.run()
  assert.equal(dropped, ['ERR_DUTY_CYCLE'])
  assert.is(f.heard[1].length, 1)
})

test('a frame waiting on the duty cycle expires with ERR_EXPIRED at its TTL', () => {
  const f = staticField([[0, 0], [100, 0]], { bitrate: 8000, preambleMs: 0, dutyCycle: 0.01, dutyCycleWindowMs: 100_000, queueTtlMs: 5000 })
  const events: string[] = []
  f.radios[0].on('sent', (s) => events.push(`sent ${s.at}`))
  f.radios[0].on('dropped', (d) => events.push(`${d.code} ${f.scheduler.now()}`))
  f.radios[0].send(frame(1, 1000)) // 1 s of the 1 s budget
  f.radios[0].send(frame(2, 10)) // must wait ~100 s: expires at 5 s
  f.scheduler.run()
  assert.equal(events, ['sent 1000', 'ERR_EXPIRED 5000'])
  assert.is(f.count(1, 'dutyCycleWaits'), 1)
})

test('carrier sense gives up with ERR_CHANNEL_BUSY when the channel stays busy', () => {
  // Node 2 is a jammer without carrier sense sending back-to-back long frames.
  const f = staticField([[0, 0], [100, 0]], { bitrate: 10_000, mtu: 1500, csma: { enabled: true, slotMs: 1, minWindow: 4, maxWindow: 16, maxAttempts: 5 } })
  const jam = f.medium.addNode(3, new StaticMobility({ x: 50, y: 0 }), { bitrate: 10_000, mtu: 1500, csma: { enabled: false, slotMs: 1, minWindow: 4, maxWindow: 16, maxAttempts: 5 } })
  for (let i = 0; i < 20; i++) jam.send(frame(i, 1500))
  const dropped: string[] = []
  f.radios[0].on('dropped', (d) => dropped.push(d.code))
  f.scheduler.run({ until: 10 })
  f.radios[0].send(frame(99))
  f.scheduler.run()
  assert.equal(dropped, ['ERR_CHANNEL_BUSY'])
  assert.is(f.count(1, 'csmaBackoffs'), 4)
  assert.is(f.count(1, 'txFrames'), 0)
})

test('close drops waiting frames with ERR_CLOSED, the frame on air is still sent, and a closed radio hears nothing', async () => {
  const f = staticField([[0, 0], [100, 0]])
  const log: string[] = []
  f.radios[0].on('sent', (s) => log.push(`sent ${s.bytes[0]}`))
  f.radios[0].on('dropped', (d) => log.push(`${d.code} ${d.bytes[0]}`))
  f.radios[0].send(frame(1))
  f.radios[0].send(frame(2))
  await f.radios[0].close()
  f.scheduler.run()
  assert.equal(log, ['ERR_CLOSED 2', 'sent 1'])
  assert.is(f.heard[1].length, 1)
  await f.radios[1].close()
  const c = f.medium.addNode(3, new StaticMobility({ x: 50, y: 0 }))
  c.send(frame(3))
  f.scheduler.run()
  assert.is(f.heard[1].length, 1)
})

test('an urgent frame overtakes a frame in carrier-sense backoff, but not the frame on air or the backoff', () => {
  // Node 3 holds the channel for 80 ms; node 1 defers with frame 1, then gets an urgent frame 9.
  const f = staticField([[0, 0], [100, 0], [50, 0]], { bitrate: 100_000 })
  const log: string[] = []
  f.radios[0].on('sent', (s) => log.push(`sent ${s.bytes[0]} ${(s.at - s.airtimeMs).toFixed(2)}`))
  f.radios[2].send(frame(7, 1000)) // 80 ms on air
  f.scheduler.run({ until: 1 })
  f.radios[0].send(frame(1, 10)) // channel busy: backs off
  assert.ok(f.count(1, 'csmaBackoffs') >= 1)
  f.scheduler.run({ until: 2 })
  f.radios[0].send(frame(9, 10), { urgent: true })
  f.scheduler.run()
  assert.equal(log.map((x) => x.split(' ')[1]), ['9', '1'])
  assert.ok(Number(log[0].split(' ')[2]) >= 80, `urgent frame waited for the channel: ${log}`)
  assert.equal(f.heard[1].map((x) => x.bytes[0]), [7, 9, 1])
})

test('an urgent frame behind a duty-cycle wait is admitted as soon as its own (shorter) airtime fits', () => {
  // 10 % of 1 s = 100 ms. 80 ms used; frame 1 (80 ms) must wait, urgent frame 2 (8 ms) fits now.
  const f = staticField([[0, 0], [100, 0]], { bitrate: 10_000, preambleMs: 0, dutyCycle: 0.1, dutyCycleWindowMs: 1000, csma: { enabled: false } as never })
  const sent: string[] = []
  f.radios[0].on('sent', (s) => sent.push(`${s.bytes[0]}@${Math.round(s.at - s.airtimeMs)}`))
  f.radios[0].send(frame(0, 100))
  f.scheduler.run({ until: 100 })
  f.radios[0].send(frame(1, 100))
  f.radios[0].send(frame(2, 10), { urgent: true })
  f.scheduler.run()
  assert.equal(sent, ['0@0', '2@100', '1@1000']) // without it: 0@0, 1@1000, 2@1080
})

test('the smallest allowed slot and window still advance virtual time on a busy channel (no hang)', () => {
  // The reported hang: slotMs 1e-300 (now refused) kept re-sensing a busy channel at one instant.
  const csma = { enabled: true, slotMs: 0.001, minWindow: 2, maxWindow: 2, maxAttempts: Infinity }
  const f = staticField([[0, 0], [100, 0]], { bitrate: 10_000, csma, queueTtlMs: 1000 })
  const jam = f.medium.addNode(3, new StaticMobility({ x: 50, y: 0 }), { bitrate: 10_000, csma: { ...csma, enabled: false } })
  jam.send(frame(0, 100)) // 80 ms on air
  const log: string[] = []
  f.radios[0].on('dropped', (d) => log.push(`${d.code} ${f.scheduler.now()}`))
  f.radios[0].on('sent', (s) => log.push(`sent ${s.at}`))
  f.scheduler.run({ until: 1 })
  f.radios[0].send(frame(1, 10))
  f.scheduler.run({ maxEvents: 5_000_000 })
  assert.is(f.scheduler.pending, 0, 'the run finished')
  assert.is(log.length, 1, log.join())
  const at = Number(log[0].split(' ')[1])
  assert.ok(log[0].startsWith('sent') && at > 80 && at < 90, log[0])
  // about one backoff per half slot (0.5 µs) of the 79 ms wait
  assert.ok(f.scheduler.eventsRun < 400_000, `${f.scheduler.eventsRun} events`)
})

test('a radio stays usable after many frames: queue drains in order, each sent once', () => {
  const f = staticField([[0, 0], [100, 0], [200, 0]])
  const sent: number[] = []
  f.radios[0].on('sent', (s) => sent.push(s.bytes[0]))
  for (let i = 0; i < 40; i++) f.radios[0].send(frame(i))
  f.scheduler.run()
  assert.equal(sent, [...Array(40).keys()])
  assert.equal(f.heard[1].map((x) => x.bytes[0]), [...Array(40).keys()])
  assert.is(f.radios[0].queueLength, 0)
})

test.run()
