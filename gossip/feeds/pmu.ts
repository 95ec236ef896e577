/**
 * A PMU-like generator (phasor measurement unit): `rate` reports per second of frequency (Hz),
 * voltage phase angle (degrees) and voltage magnitude (V), in the order of `PMU_SCHEMA`
 * (sample.ts). The model and every tunable are in feeds-defaults.ts.
 *
 * Sans-IO: report k is due at start + k·1000/rate on the injected Scheduler (no drift: each delay
 * is computed from the start, not from the previous report), randomness comes only from the
 * injected Rng (same seed, same values), and the timestamp from the injected wall `clock` (ms since
 * the Unix epoch, rounded to an integer; a PMU's GPS clock, or the scheduler plus an epoch in a
 * simulation).
 */
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import { validatePmuConfig, type PmuConfig } from './feeds-defaults.ts'

export interface PmuGeneratorOptions extends Partial<PmuConfig> {
  scheduler: Scheduler
  rng: Rng
  /** Wall clock, ms since the Unix epoch (the report's timestamp). */
  clock: () => number
}

/** Called per report: [frequency Hz, phase angle deg, voltage V] (a fresh array each time) and the timestamp. */
export type PmuSampleHandler = (values: Float64Array, ts: number) => void

/** Wrap an angle in degrees into (−180, 180]. */
export function wrapDegrees(deg: number): number {
  let x = deg % 360
  if (x > 180) x -= 360
  else if (x <= -180) x += 360
  return x
}

export class PmuGenerator {
  readonly config: Readonly<PmuConfig>
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly clock: () => number
  private readonly periodMs: number
  /** e^(−θ·dt): the frequency deviation's memory from one report to the next. */
  private readonly decay: number
  private readonly innovation: number
  private timer: Timer | null = null
  private handler: PmuSampleHandler | null = null
  private startedAt = 0
  private k = 0
  /** Current frequency deviation from nominal, Hz. */
  private dev: number
  private angle: number
  /** Scheduler time the current sag ends (−Infinity: none under way), and its depth. */
  private sagUntil = -Infinity
  private sagDepth = 0
  /** Reports generated since construction. */
  samples = 0
  /** Sags started since construction. */
  sags = 0

  constructor(o: PmuGeneratorOptions) {
    const { scheduler, rng, clock, ...config } = o
    if (!scheduler || typeof scheduler.at !== 'function') throw new TypeError('PmuGenerator needs a scheduler')
    if (!rng || typeof rng.float !== 'function') throw new TypeError('PmuGenerator needs an rng')
    if (typeof clock !== 'function') throw new TypeError('PmuGenerator needs a clock: () => wall ms')
    this.config = Object.freeze(validatePmuConfig(config, 'pmu'))
    this.scheduler = scheduler
    this.rng = rng
    this.clock = clock
    const c = this.config
    this.periodMs = 1000 / c.rate
    const dt = 1 / c.rate
    this.decay = Math.exp(-c.freqReversionPerS * dt)
    this.innovation = c.freqStdDevHz * Math.sqrt(1 - this.decay * this.decay)
    // Start in the stationary distribution (no warm-up) with a random angle.
    this.dev = this.clampDev(c.freqStdDevHz * this.normal())
    this.angle = wrapDegrees(360 * rng.float() - 180)
  }

  get running(): boolean {
    return this.timer !== null
  }

  /** Time between reports, ms. */
  get intervalMs(): number {
    return this.periodMs
  }

  /** Start reporting: the first report now (as a scheduled event), then every 1000/rate ms. */
  start(onSample: PmuSampleHandler): void {
    if (typeof onSample !== 'function') throw new TypeError('start(onSample) needs a function')
    if (this.timer !== null) throw new Error('PmuGenerator already started')
    this.handler = onSample
    this.startedAt = this.scheduler.now()
    this.k = 0
    this.timer = this.scheduler.at(0, () => this.tick())
  }

  /** Stop reporting (harmless when stopped). The model keeps its state for a later start. */
  stop(): void {
    this.timer?.cancel()
    this.timer = null
    this.handler = null
  }

  private tick(): void {
    const handler = this.handler
    if (handler === null) return
    this.k++
    const due = this.startedAt + this.k * this.periodMs
    this.timer = this.scheduler.at(Math.max(0, due - this.scheduler.now()), () => this.tick())
    handler(this.next(), Math.round(this.clock()))
  }

  /** The next report's values (advances the model by one report interval). */
  private next(): Float64Array {
    const c = this.config
    const rng = this.rng
    this.dev = this.clampDev(this.dev * this.decay + this.innovation * this.normal())
    const f = c.nominalHz + this.dev
    this.angle = wrapDegrees(this.angle + 360 * this.dev / c.rate)
    const now = this.scheduler.now()
    if (now >= this.sagUntil && rng.float() < c.sagProbability) {
      this.sags++
      this.sagDepth = c.sagDepthMin + (c.sagDepthMax - c.sagDepthMin) * rng.float()
      this.sagUntil = now + c.sagDurationMinMs + (c.sagDurationMaxMs - c.sagDurationMinMs) * rng.float()
    }
    const retained = now < this.sagUntil ? 1 - this.sagDepth : 1
    const noise = c.voltageNoise * (2 * rng.float() - 1)
    const v = c.nominalVoltage * retained * (1 + noise)
    this.samples++
    const out = new Float64Array(3)
    out[0] = f
    out[1] = this.angle
    out[2] = v
    return out
  }

  private clampDev(d: number): number {
    const m = this.config.freqMaxDeviationHz
    return d > m ? m : d < -m ? -m : d
  }

  /** Standard normal from the injected Rng (Box–Muller, one value per call). */
  private normal(): number {
    let u = 0
    while (u === 0) u = this.rng.float()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.float())
  }
}
