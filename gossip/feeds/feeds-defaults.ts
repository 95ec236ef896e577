/**
 * Every tunable of the feed generators (gossip/feeds/) in one place, with its trade-off, and the
 * validator that fills defaults and names the field of any bad value
 * (`pmu.rate: must be <= 60, got 120`); unknown fields are errors.
 *
 * The PMU generator (pmu.ts) models what a phasor measurement unit on a transmission bus reports,
 * close enough for load and timeliness experiments (not for power-system studies):
 *
 * - Frequency: nominal + d, where d is an Ornstein–Uhlenbeck process (a mean-reverting random walk)
 *   with stationary standard deviation `freqStdDevHz` and reversion rate `freqReversionPerS`,
 *   sampled exactly at each report (d' = d·a + σ·√(1 − a²)·N(0, 1), a = e^(−θ·dt)) and clamped to
 *   ±`freqMaxDeviationHz`. With the defaults |d| < 0.05 Hz 98.8 % of the time, as in a healthy
 *   interconnection (continental Europe keeps ±0.05 Hz most of the day).
 * - Phase angle: the voltage phasor's angle against a reference turning at exactly the nominal
 *   frequency, so it advances by 360·(f − f0)·dt degrees per report, wrapped into (−180, 180].
 * - Voltage: nominal × (1 + n), n uniform in ±`voltageNoise`; at each report a sag starts with
 *   probability `sagProbability` (defaults: 2·10⁻⁴ per report, one sag per 100 s at 50 reports/s),
 *   lasting U[`sagDurationMinMs`, `sagDurationMaxMs`] during which the voltage is nominal ×
 *   (1 − depth) × (1 + n) with depth U[`sagDepthMin`, `sagDepthMax`] drawn once per sag (IEEE 1159
 *   calls a drop to 10–90 % retained voltage for half a cycle to a minute a sag). Sags do not
 *   overlap.
 *
 * So over any run: frequency ∈ nominalHz ± freqMaxDeviationHz; angle ∈ (−180, 180]; voltage ∈
 * [nominal·(1 − sagDepthMax)·(1 − voltageNoise), nominal·(1 + voltageNoise)].
 */
import { ConfigError } from '../../core/errors.ts'
import { fieldPath, validateFields, type FieldRule } from '../../core/validate.ts'

export interface PmuConfig {
  /**
   * Reports per second, 10–60 (IEEE C37.118 rates: 10, 25, 50 on 50 Hz grids; 10, 12, 15, 20, 30,
   * 60 on 60 Hz). More: finer dynamics, proportionally more gossip load.
   */
  rate: number
  /** The grid's nominal frequency, Hz: 50 or 60. */
  nominalHz: number
  /** Nominal RMS voltage of the bus, V (e.g. 230,000 for a 230 kV line; ≤ 1,200,000). */
  nominalVoltage: number
  /** Stationary standard deviation of the frequency deviation, Hz. Larger: a less stable grid. */
  freqStdDevHz: number
  /** Mean reversion rate of the frequency deviation, 1/s (time constant 1/θ). Larger: faster, jumpier changes. */
  freqReversionPerS: number
  /** Hard bound on |f − nominal|, Hz (under-frequency load shedding starts near 1 Hz below 50). */
  freqMaxDeviationHz: number
  /** Relative half-width of the uniform voltage noise (0.01 = ±1 %). */
  voltageNoise: number
  /** Probability that a sag starts at a given report (while none is under way). 0 = no sags. */
  sagProbability: number
  /** Smallest share of the nominal voltage a sag takes away. */
  sagDepthMin: number
  /** Largest share of the nominal voltage a sag takes away (≤ 0.9: a sag retains ≥ 10 %). */
  sagDepthMax: number
  /** Shortest sag, ms (about 2 cycles). */
  sagDurationMinMs: number
  /** Longest sag, ms. */
  sagDurationMaxMs: number
}

export const DEFAULT_PMU_CONFIG: Readonly<PmuConfig> = Object.freeze({
  rate: 50,
  nominalHz: 50,
  nominalVoltage: 230_000,
  freqStdDevHz: 0.02,
  freqReversionPerS: 0.5,
  freqMaxDeviationHz: 0.5,
  voltageNoise: 0.01,
  sagProbability: 2e-4,
  sagDepthMin: 0.1,
  sagDepthMax: 0.5,
  sagDurationMinMs: 40,
  sagDurationMaxMs: 500,
})

export type PmuConfigInput = Partial<PmuConfig> | Readonly<Record<string, unknown>>

const RULES: Record<keyof PmuConfig, FieldRule> = {
  rate: { min: 10, max: 60 },
  nominalHz: (path, v) => {
    if (v !== 50 && v !== 60) throw new ConfigError(path, `must be 50 or 60 (Hz), got ${String(v)}`)
  },
  nominalVoltage: { gt: 0, max: 1_200_000 },
  freqStdDevHz: { min: 0, max: 1 },
  freqReversionPerS: { gt: 0, max: 100 },
  freqMaxDeviationHz: { gt: 0, max: 5 },
  voltageNoise: { min: 0, max: 0.1 },
  sagProbability: { min: 0, max: 1 },
  sagDepthMin: { min: 0, max: 0.9 },
  sagDepthMax: { min: 0, max: 0.9 },
  sagDurationMinMs: { gt: 0, max: 60_000 },
  sagDurationMaxMs: { gt: 0, max: 60_000 },
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validatePmuConfig(partial: PmuConfigInput = {}, path = 'pmu'): PmuConfig {
  const c = validateFields(path, partial, DEFAULT_PMU_CONFIG, RULES)
  if (c.sagDepthMin > c.sagDepthMax) {
    throw new ConfigError(fieldPath(path, 'sagDepthMin'), `must be <= sagDepthMax (${c.sagDepthMax}), got ${c.sagDepthMin}`)
  }
  if (c.sagDurationMinMs > c.sagDurationMaxMs) {
    throw new ConfigError(fieldPath(path, 'sagDurationMinMs'), `must be <= sagDurationMaxMs (${c.sagDurationMaxMs}), got ${c.sagDurationMinMs}`)
  }
  return c
}
