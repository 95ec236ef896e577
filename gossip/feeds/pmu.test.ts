import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { configError } from '../../core/testing.ts'
import { DEFAULT_PMU_CONFIG, validatePmuConfig, type PmuConfig } from './feeds-defaults.ts'
import { PmuGenerator, wrapDegrees } from './pmu.ts'
import { decodeSampleBody, encodeSampleBody, PMU_FREQUENCY, PMU_PHASE_ANGLE, PMU_VOLTAGE } from './sample.ts'

const EPOCH = 1_700_000_000_000

interface Report { values: Float64Array; ts: number; at: number }

function run(seed: string | number, samples: number, config: Partial<PmuConfig> = {}): { reports: Report[]; gen: PmuGenerator } {
  const scheduler = new SimScheduler()
  const gen = new PmuGenerator({ scheduler, rng: new SeededRng(seed), clock: () => EPOCH + scheduler.now(), ...config })
  const reports: Report[] = []
  gen.start((values, ts) => {
    reports.push({ values, ts, at: scheduler.now() })
    if (reports.length === samples) gen.stop()
  })
  scheduler.run()
  return { reports, gen }
}

test('rate honoured in virtual time: rate reports per second, evenly spaced, no drift', () => {
  for (const rate of [10, 12.5, 25, 30, 50, 60]) {
    const scheduler = new SimScheduler()
    const gen = new PmuGenerator({ scheduler, rng: new SeededRng(1), rate, clock: () => EPOCH + scheduler.now() })
    const at: number[] = []
    const ts: number[] = []
    gen.start((_, t) => { at.push(scheduler.now()); ts.push(t) })
    scheduler.run({ until: 100_000 - 1e-6 })
    gen.stop()
    assert.is(at.length, 100 * rate, `rate ${rate}`)
    assert.is(at[0], 0)
    for (let k = 0; k < at.length; k++) assert.ok(Math.abs(at[k] - (k * 1000) / rate) < 1e-6, `report ${k} at ${at[k]}`)
    for (let k = 0; k < ts.length; k++) assert.is(ts[k], Math.round(EPOCH + (k * 1000) / rate))
    assert.is(gen.intervalMs, 1000 / rate)
    assert.is(scheduler.pending, 0, 'stop cancels the timer')
  }
})

test('stop and restart; start twice throws', () => {
  const scheduler = new SimScheduler()
  const gen = new PmuGenerator({ scheduler, rng: new SeededRng(2), rate: 10, clock: () => scheduler.now() })
  let n = 0
  gen.start(() => n++)
  assert.throws(() => gen.start(() => {}), /already started/)
  scheduler.run({ until: 999 })
  assert.is(n, 10)
  gen.stop()
  gen.stop()
  assert.not.ok(gen.running)
  scheduler.run({ until: 5000 })
  assert.is(n, 10)
  gen.start(() => n++)
  scheduler.run({ until: 5999 })
  assert.is(n, 20)
  assert.is(gen.samples, 20)
})

test('10,000 reports stay within physical bounds; frequency mostly within ±0.05 Hz of nominal', () => {
  for (const [nominalHz, nominalVoltage] of [[50, 230_000], [60, 345_000]]) {
    const { reports, gen } = run(`bounds-${nominalHz}`, 10_000, { nominalHz, nominalVoltage, sagProbability: 0.002 })
    assert.is(reports.length, 10_000)
    const c = gen.config
    let within = 0, sagged = 0
    for (const { values } of reports) {
      assert.is(values.length, 3)
      const f = values[PMU_FREQUENCY], a = values[PMU_PHASE_ANGLE], v = values[PMU_VOLTAGE]
      assert.ok(Math.abs(f - nominalHz) <= c.freqMaxDeviationHz + 1e-12, `frequency ${f}`)
      assert.ok(a > -180 && a <= 180, `angle ${a}`)
      assert.ok(v >= nominalVoltage * (1 - c.sagDepthMax) * (1 - c.voltageNoise) && v <= nominalVoltage * (1 + c.voltageNoise), `voltage ${v}`)
      if (Math.abs(f - nominalHz) <= 0.05) within++
      if (v < nominalVoltage * (1 - c.voltageNoise)) sagged++
    }
    // Stationary σ = 0.02 Hz: 98.8 % within ±0.05 Hz in the long run; 200 s is a few time constants.
    assert.ok(within / reports.length > 0.9, `within ±0.05 Hz: ${within}`)
    // 0.002 per report → ~20 sags of 40–500 ms (2–25 reports each).
    assert.ok(gen.sags >= 5 && gen.sags <= 40, `sags ${gen.sags}`)
    assert.ok(sagged >= gen.sags && sagged < 1000, `reports in a sag ${sagged}`)
    // Every report fits the f32 body with the frequency intact to 4 µHz.
    const d = decodeSampleBody(encodeSampleBody({ ts: reports[0].ts, values: reports[0].values })).values
    assert.ok(Math.abs(d[0] - reports[0].values[0]) < 4e-6)
  }
})

test('the phase angle advances by 360·(f − f0)·dt and wraps into (−180, 180]', () => {
  const rate = 50
  const { reports } = run('phase', 10_000, { rate, freqStdDevHz: 0.2, freqMaxDeviationHz: 1 })
  let wraps = 0
  for (let k = 1; k < reports.length; k++) {
    const prev = reports[k - 1].values[PMU_PHASE_ANGLE]
    const cur = reports[k].values[PMU_PHASE_ANGLE]
    const f = reports[k].values[PMU_FREQUENCY]
    const expected = wrapDegrees(prev + (360 * (f - 50)) / rate)
    assert.ok(Math.abs(cur - expected) < 1e-9, `report ${k}: ${cur} vs ${expected}`)
    if (Math.abs(cur - prev) > 180) wraps++
  }
  assert.ok(wraps >= 5, `wraps ${wraps}`)
  assert.is(wrapDegrees(180), 180)
  assert.is(wrapDegrees(-180), 180)
  assert.is(wrapDegrees(190), -170)
  assert.is(wrapDegrees(-190), 170)
  assert.is(wrapDegrees(540), 180)
  assert.is(wrapDegrees(-721), -1)
  assert.is(wrapDegrees(0), 0)
})

test('deterministic for a seed; another seed gives other values', () => {
  const a = run('same', 500).reports.map((r) => [...r.values])
  const b = run('same', 500).reports.map((r) => [...r.values])
  const c = run('other', 500).reports.map((r) => [...r.values])
  assert.equal(a, b)
  assert.not.equal(a, c)
})

test('config: defaults, errors naming the field, cross-field rules', () => {
  assert.equal(validatePmuConfig(), { ...DEFAULT_PMU_CONFIG })
  assert.ok(Object.isFrozen(DEFAULT_PMU_CONFIG))
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ rate: 9 }, 'pmu.rate', /must be >= 10, got 9/],
    [{ rate: 61 }, 'pmu.rate', /must be <= 60, got 61/],
    [{ rate: NaN }, 'pmu.rate', /must be a number/],
    [{ nominalHz: 55 }, 'pmu.nominalHz', /50 or 60/],
    [{ nominalVoltage: 0 }, 'pmu.nominalVoltage', /> 0/],
    [{ voltageNoise: 0.5 }, 'pmu.voltageNoise', /<= 0.1/],
    [{ sagProbability: -0.1 }, 'pmu.sagProbability', />= 0/],
    [{ sagDepthMin: 0.6 }, 'pmu.sagDepthMin', /<= sagDepthMax \(0.5\)/],
    [{ sagDurationMinMs: 600 }, 'pmu.sagDurationMinMs', /<= sagDurationMaxMs/],
    [{ sagDepth: 0.2 }, 'pmu.sagDepth', /unknown field/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validatePmuConfig(input))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
  const scheduler = new SimScheduler()
  const e = configError(() => new PmuGenerator({ scheduler, rng: new SeededRng(1), clock: () => 0, rate: 100 }))
  assert.is(e.path, 'pmu.rate')
  assert.throws(() => new PmuGenerator({ scheduler, rng: new SeededRng(1) } as never), /clock/)
})

test.run()
