import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { DutyCycleBudget } from './duty-cycle.ts'
import { StaticMobility } from './mobility.ts'
import { LORA_SIM_RADIO } from './sim-defaults.ts'
import { SimMedium } from './sim-medium.ts'

/** The largest airtime any window of length `w` holds, exactly (it is attained where a window starts at a transmission start or ends at a transmission end). */
function maxWindowAirtime(tx: Array<[number, number]>, w: number): number {
  const busy = (a: number) => {
    let sum = 0
    for (const [s, e] of tx) sum += Math.max(0, Math.min(e, a + w) - Math.max(s, a))
    return sum
  }
  let max = 0
  for (const [s, e] of tx) max = Math.max(max, busy(s), busy(e - w))
  return max
}

test('no sliding window ever holds more than the budget, and waits are as short as the rule allows', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.01, max: 0.5, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 300, noNaN: true }), fc.double({ min: 0.1, max: 60, noNaN: true })), { minLength: 1, maxLength: 60 }),
      (fraction, reqs) => {
        const w = 1000
        const b = new DutyCycleBudget(fraction, w)
        const tx: Array<[number, number]> = []
        let now = 0
        for (const [gap, d] of reqs) {
          now += gap
          const t = b.earliestStart(now, d)
          if (!b.fits(d)) {
            assert.is(t, Infinity)
            continue
          }
          assert.ok(t >= now)
          if (t > now + 1e-6) assert.not.ok(b.canStart(t - 1e-6, d), 'earliestStart is the earliest')
          assert.ok(b.canStart(t, d))
          b.record(t, d)
          tx.push([t, t + d])
          now = t + d
        }
        assert.ok(maxWindowAirtime(tx, w) <= fraction * w + 1e-6)
      },
    ),
    { numRuns: 300, seed: 42 },
  )
})

test('budget bookkeeping: unlimited never waits, memory stays bounded, bad arguments are refused', () => {
  const u = new DutyCycleBudget(1, 1000)
  for (let i = 0; i < 100; i++) u.record(i * 10, 10)
  assert.is(u.earliestStart(1000, 10), 1000)
  assert.is(u.records, 0)
  const b = new DutyCycleBudget(0.1, 1000)
  for (let t = 0; t < 100_000; t = b.earliestStart(t, 5) + 5) b.record(b.earliestStart(t, 5), 5)
  assert.ok(b.records <= 21, `records ${b.records}`)
  assert.ok(b.usedMs(100_000) <= 100 + 1e-9)
  assert.throws(() => new DutyCycleBudget(0, 1000), /fraction must be in \(0, 1\], got 0/)
  assert.throws(() => new DutyCycleBudget(0.5, -1), /window must be/)
})

test('a LoRa radio at 1 % under heavy traffic for 3 hours never exceeds 36 s in any hour, and uses nearly all of it', () => {
  const scheduler = new SimScheduler()
  const medium = new SimMedium({ scheduler, rng: new SeededRng('dc'), radio: LORA_SIM_RADIO })
  const r = medium.addNode(1, new StaticMobility({ x: 0, y: 0 }))
  medium.addNode(2, new StaticMobility({ x: 500, y: 0 }))
  const tx: Array<[number, number]> = []
  const drops = new Map<string, number>()
  r.on('sent', (s) => tx.push([s.at - s.airtimeMs, s.at]))
  r.on('dropped', (d) => drops.set(d.code, (drops.get(d.code) ?? 0) + 1))
  const end = 3 * 3_600_000
  const offer = () => {
    r.send(new Uint8Array(200 + (tx.length % 56)))
    if (scheduler.now() < end) scheduler.at(2000, offer)
  }
  scheduler.at(0, offer)
  scheduler.run({ until: end })
  const hour = 3_600_000
  const max = maxWindowAirtime(tx, hour)
  assert.ok(max <= 36_000 + 1e-6, `max airtime in an hour ${max} ms`)
  const total = tx.reduce((s, [a, b]) => s + b - a, 0)
  assert.ok(total >= 0.97 * 3 * 36_000, `total airtime ${total} ms of ${3 * 36_000}`)
  assert.ok((drops.get('ERR_QUEUE_FULL') ?? 0) > 1000)
  assert.ok(medium.metrics.value('medium', 1, 'dutyCycleWaits') > 100)
})

test.run()
