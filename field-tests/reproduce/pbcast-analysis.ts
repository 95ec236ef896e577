/**
 * The numbers of the pbcast reproduction (bimodal multicast, PROTOCOLS.md §5), as pure functions
 * of what the experiments measured (pbcast-experiments.ts), and its two checks with their bars:
 * 1. per-member datagrams (sent + received) per round of a plain pbcast group: the largest mean
 *    over group sizes is within 15 % of the smallest;
 * 2. pbcast's delivery distribution with a crashed origin: bimodal (both end bands hold ≥ 5 % of
 *    the trials, the middle ≤ 5 %) and within total variation 0.1 of the analytic model.
 * The bars were fixed before the reproduction was run (1 is the issue's, 2 the brief's); they and
 * the numbers are those of the gravitational reproduction, which held both checks before pbcast
 * got its own.
 */
import { bimodality, deliveryDistribution, histogram, totalVariation, type Bimodality, type DeliveryModelParams } from '../../gossip/pbcast/analysis.ts'
import { SeededRng } from '../../core/rng.ts'
import { median } from '../sweep.ts'
import { modelParams, type CrashParams, type ScalingRun } from './pbcast-experiments.ts'

export const SCALING_SPREAD_BAR = 0.15
export const TV_BAR = 0.1
/** bimodality() band (10 % of the members at each end). */
export const BIMODAL_BAND = 0.1
/** Bimodal: at most this mass between the end bands, at least BIMODAL_MODE_MIN in each. */
export const BIMODAL_MIDDLE_MAX = 0.05
export const BIMODAL_MODE_MIN = 0.05

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6

export interface ScalingCheck {
  runs: ScalingRun[]
  /** Largest mean per-member datagrams per round over sizes / smallest − 1. */
  spread: number
  bar: number
  pass: boolean
}

export function scalingCheck(runs: readonly ScalingRun[], bar = SCALING_SPREAD_BAR): ScalingCheck {
  const means = runs.map((r) => r.perRound.mean)
  const lo = Math.min(...means), hi = Math.max(...means)
  const spread = runs.length && lo > 0 ? r6(hi / lo - 1) : Infinity
  return { runs: [...runs], spread, bar, pass: runs.length >= 2 && spread <= bar }
}

export interface CrashCheck {
  params: CrashParams
  model: DeliveryModelParams
  trials: number
  /** How many trials ended with k = 0..n−1 non-origin members holding the message. */
  counts: number[]
  measured: number[]
  predicted: number[]
  tv: number
  /**
   * TV between the model and `trials` samples drawn from the model itself (median of 100 draws):
   * what sampling noise alone gives, so a TV near it means no detectable disagreement.
   */
  tvNoise: number
  /** The 95th percentile of those draws' TV: a measured TV above it is more than sampling noise. */
  tvNoiseP95: number
  bimodal: { measured: Bimodality; model: Bimodality; pass: boolean }
  meanMeasured: number
  meanModel: number
  tvBar: number
  pass: boolean
}

function mean(p: ArrayLike<number>): number {
  let m = 0
  for (let k = 0; k < p.length; k++) m += k * p[k]
  return m
}

/** Median and 95th percentile of the TV of `trials` samples of `p` from p itself, over `draws` draws (deterministic: seeded). */
export function samplingNoiseTv(p: ArrayLike<number>, trials: number, draws = 100, seed = 'gravitational/tv-noise'): { median: number; p95: number } {
  const rng = new SeededRng(seed)
  const cdf = new Float64Array(p.length)
  let c = 0
  for (let k = 0; k < p.length; k++) cdf[k] = c += p[k]
  const tvs: number[] = []
  for (let d = 0; d < draws; d++) {
    const counts: number[] = []
    for (let t = 0; t < trials; t++) {
      const u = rng.float() * c
      let lo = 0, hi = p.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (cdf[mid] > u) hi = mid
        else lo = mid + 1
      }
      counts.push(lo)
    }
    tvs.push(totalVariation(histogram(counts, p.length), p))
  }
  tvs.sort((a, b) => a - b)
  return { median: median(tvs), p95: tvs[Math.min(tvs.length - 1, Math.ceil(0.95 * tvs.length) - 1)] }
}

const bimodalPass = (b: Bimodality) => b.middle <= BIMODAL_MIDDLE_MAX && b.low >= BIMODAL_MODE_MIN && b.high >= BIMODAL_MODE_MIN
const roundBands = (b: Bimodality): Bimodality => ({ ...b, low: r6(b.low), middle: r6(b.middle), high: r6(b.high) })

/** `receivers`: per trial, how many non-origin members delivered the message. */
export function crashCheck(params: CrashParams, receivers: readonly number[], judged = true): CrashCheck {
  const model = modelParams(params)
  const m = deliveryDistribution(model)
  const h = histogram(receivers, params.n)
  const counts = new Array<number>(params.n).fill(0)
  for (const k of receivers) counts[k]++
  const bm = bimodality(h, BIMODAL_BAND)
  const tv = totalVariation(h, m)
  const noise = samplingNoiseTv(m, receivers.length)
  const bimodal = { measured: roundBands(bm), model: roundBands(bimodality(m, BIMODAL_BAND)), pass: bimodalPass(bm) }
  return {
    params, model, trials: receivers.length, counts, measured: Array.from(h, r6), predicted: Array.from(m, (x) => Number(x.toPrecision(6))),
    tv: r6(tv), tvNoise: r6(noise.median), tvNoiseP95: r6(noise.p95), bimodal, meanMeasured: r6(mean(h)), meanModel: r6(mean(m)), tvBar: TV_BAR,
    pass: judged && receivers.length > 0 && bimodal.pass && tv <= TV_BAR,
  }
}

export interface PbcastCheck {
  id: 'scaling' | 'bimodal'
  claim: string
  measured: string
  pass: boolean
}

export interface PbcastAnalysis {
  scaling: ScalingCheck
  crash: CrashCheck
  /** The same experiment at other settings, shown for contrast and not judged. */
  crashContrast: CrashCheck[]
  verdict: { checks: PbcastCheck[]; pass: boolean }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`

export interface PbcastAnalysisInput {
  scaling: readonly ScalingRun[]
  crash: { params: CrashParams; receivers: readonly number[] }
  crashContrast?: ReadonlyArray<{ params: CrashParams; receivers: readonly number[] }>
}

export function analysePbcast(i: PbcastAnalysisInput): PbcastAnalysis {
  const scaling = scalingCheck(i.scaling)
  const crash = crashCheck(i.crash.params, i.crash.receivers)
  const crashContrast = (i.crashContrast ?? []).map((c) => crashCheck(c.params, c.receivers, false))
  const sizes = scaling.runs.map((r) => r.n)
  const checks: PbcastCheck[] = [
    {
      id: 'scaling', claim: `per-member datagrams per round within ${pct(SCALING_SPREAD_BAR)} of each other across ${sizes[0]} → ${sizes[sizes.length - 1]} members`,
      measured: `means ${scaling.runs.map((r) => r.perRound.mean.toFixed(2)).join(', ')}: spread ${pct(scaling.spread)}`, pass: scaling.pass,
    },
    {
      id: 'bimodal', claim: `crashed-origin delivery histogram bimodal and within TV ${TV_BAR} of the analytic model`,
      measured: `TV ${crash.tv.toFixed(4)} (sampling noise alone: median ${crash.tvNoise.toFixed(4)}, 95th percentile ${crash.tvNoiseP95.toFixed(4)}); bands low/middle/high ${[crash.bimodal.measured.low, crash.bimodal.measured.middle, crash.bimodal.measured.high].map(pct).join(' / ')}`,
      pass: crash.pass,
    },
  ]
  return { scaling, crash, crashContrast, verdict: { checks, pass: checks.every((c) => c.pass) } }
}
