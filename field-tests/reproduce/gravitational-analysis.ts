/**
 * The numbers of the gravitational reproduction, as pure functions of what the runs measured
 * (PROTOCOLS.md §5–6), and the four checks with their bars:
 * 1. share vs rating: every (member, feed) row of every grid-feeds seed has |share − rating| ≤ 0.05;
 * 2. load vs rating: the least-squares line of feedLoadBytesPerS on rating, pooled over seeds, has
 *    R² ≥ 0.95; and for subscribers in k ≥ 2 feeds that publish nothing, the measured total load
 *    (loadBytesPerS) is predicted by Σ over their feeds of (a + b·rating) with median relative
 *    error ≤ 0.25, and is well below the k·(a + b) a full-rate subscription to every feed would cost
 *    (median measured / k·full ≤ 0.8);
 * 3. per-member datagrams (sent + received) per round of a plain pbcast group: the largest mean
 *    over group sizes is within 15 % of the smallest;
 * 4. pbcast's delivery distribution with a crashed origin: bimodal (both end bands hold ≥ 5 % of
 *    the trials, the middle ≤ 5 %) and within total variation 0.1 of the analytic model.
 * The bars were fixed before the reproduction was run; they are the (1–3) and the brief's (4).
 */
import type { MetricsResult } from '../metrics-result.ts'
import { bimodality, deliveryDistribution, histogram, totalVariation, type Bimodality, type DeliveryModelParams } from '../../gossip/pbcast/analysis.ts'
import { SeededRng } from '../../core/rng.ts'
import { median } from '../sweep.ts'
import { modelParams, type CrashParams, type ScalingRun } from './gravitational-pbcast.ts'

export const SHARE_TOLERANCE = 0.05
export const R2_BAR = 0.95
export const PREDICTION_BAR = 0.25
/** "Well below k·full": the median measured / k·(a + b) at most this. */
export const FULL_RATIO_BAR = 0.8
export const SCALING_SPREAD_BAR = 0.15
export const TV_BAR = 0.1
/** bimodality() band (10 % of the members at each end). */
export const BIMODAL_BAND = 0.1
/** Bimodal: at most this mass between the end bands, at least BIMODAL_MODE_MIN in each. */
export const BIMODAL_MIDDLE_MAX = 0.05
export const BIMODAL_MODE_MIN = 0.05

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6

/** One (member, feed) row of a grid-feeds run (its metrics' gravitational.members), with its seed. */
export interface MemberRow {
  seed: number
  node: number
  feed: number
  rating: number
  share: number
  feedLoadBytesPerS: number
  loadBytesPerS: number
  feeds: number
  publishes: number
}

/** The rows of one run; throws when the run has no gravitational section (wrong protocol). */
export function memberRows(r: MetricsResult, seed = r.seed): MemberRow[] {
  const g = r.gravitational
  if (!g) throw new RangeError(`run with seed ${seed} (protocol ${r.protocol}) has no gravitational.members section`)
  return g.members.map((m) => ({
    seed, node: m.node, feed: m.feed, rating: m.rating, share: m.share, feedLoadBytesPerS: m.feedLoadBytesPerS, loadBytesPerS: m.loadBytesPerS, feeds: m.feeds, publishes: m.publishes,
  }))
}

export interface LinearFit {
  /** y = a + b·x */
  a: number
  b: number
  r2: number
  points: number
}

/** Ordinary least squares of y on x, with R² (1 − SSres/SStot; 1 when y is constant and fitted exactly). */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length) throw new RangeError(`linearFit: ${xs.length} x and ${ys.length} y values`)
  const n = xs.length
  if (n < 2) throw new RangeError(`linearFit: needs at least 2 points, got ${n}`)
  let mx = 0, my = 0
  for (let i = 0; i < n; i++) {
    mx += xs[i]
    my += ys[i]
  }
  mx /= n
  my /= n
  let sxx = 0, sxy = 0, syy = 0
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx, dy = ys[i] - my
    sxx += dx * dx
    sxy += dx * dy
    syy += dy * dy
  }
  if (sxx === 0) throw new RangeError('linearFit: every x is the same')
  const b = sxy / sxx
  const a = my - b * mx
  let res = 0
  for (let i = 0; i < n; i++) res += (ys[i] - a - b * xs[i]) ** 2
  return { a, b, r2: syy === 0 ? (res === 0 ? 1 : 0) : 1 - res / syy, points: n }
}

export interface ShareCheck {
  rows: number
  within: number
  maxAbsDev: number
  meanAbsDev: number
  /** The row furthest from its rating. */
  worst: { seed: number; node: number; feed: number; rating: number; share: number } | null
  tolerance: number
  pass: boolean
}

export function shareCheck(rows: readonly MemberRow[], tolerance = SHARE_TOLERANCE): ShareCheck {
  let within = 0, max = -1, sum = 0
  let worst: ShareCheck['worst'] = null
  for (const x of rows) {
    const d = Math.abs(x.share - x.rating)
    sum += d
    // A hair of slack for the 6-decimal rounding of the metrics.
    if (d <= tolerance + 1e-9) within++
    if (d > max) {
      max = d
      worst = { seed: x.seed, node: x.node, feed: x.feed, rating: x.rating, share: x.share }
    }
  }
  return { rows: rows.length, within, maxAbsDev: r6(Math.max(0, max)), meanAbsDev: rows.length ? r6(sum / rows.length) : 0, worst, tolerance, pass: rows.length > 0 && within === rows.length }
}

export interface LoadCheck {
  fit: LinearFit
  bar: number
  pass: boolean
}

export function loadCheck(rows: readonly MemberRow[], bar = R2_BAR): LoadCheck {
  const f = linearFit(rows.map((x) => x.rating), rows.map((x) => x.feedLoadBytesPerS))
  const fit = { a: r6(f.a), b: r6(f.b), r2: r6(f.r2), points: f.points }
  return { fit, bar, pass: f.r2 >= bar }
}

/** A subscriber in k ≥ 2 feeds that publishes none. */
export interface MultiFeedNode {
  seed: number
  node: number
  k: number
  ratings: number[]
  /** loadBytesPerS (all its feeds). */
  measured: number
  /** Σ over its feeds of a + b·rating. */
  predicted: number
  /** k·(a + b): every feed at rating 1. */
  full: number
  relError: number
  fullRatio: number
}

export function multiFeedNodes(rows: readonly MemberRow[], fit: Pick<LinearFit, 'a' | 'b'>): MultiFeedNode[] {
  const by = new Map<string, MemberRow[]>()
  for (const x of rows) {
    if (x.publishes > 0) continue
    const key = `${x.seed}/${x.node}`
    const list = by.get(key)
    if (list) list.push(x)
    else by.set(key, [x])
  }
  const out: MultiFeedNode[] = []
  for (const list of by.values()) {
    const k = list.length
    if (k < 2) continue
    const predicted = list.reduce((s, x) => s + fit.a + fit.b * x.rating, 0)
    const full = k * (fit.a + fit.b)
    const measured = list[0].loadBytesPerS
    out.push({
      seed: list[0].seed, node: list[0].node, k, ratings: list.map((x) => x.rating), measured, predicted: r6(predicted), full: r6(full),
      relError: r6(Math.abs(measured - predicted) / predicted), fullRatio: r6(measured / full),
    })
  }
  return out.sort((x, y) => x.seed - y.seed || x.node - y.node)
}

export interface MultiFeedCheck {
  nodes: number
  medianRelError: number
  p90RelError: number
  medianFullRatio: number
  predictionBar: number
  fullRatioBar: number
  pass: boolean
}

export function multiFeedCheck(nodes: readonly MultiFeedNode[]): MultiFeedCheck {
  const rel = nodes.map((x) => x.relError).sort((a, b) => a - b)
  const medianRelError = r6(median(rel))
  const medianFullRatio = r6(median(nodes.map((x) => x.fullRatio)))
  return {
    nodes: nodes.length, medianRelError, p90RelError: rel.length ? rel[Math.min(rel.length - 1, Math.floor(0.9 * (rel.length - 1) + 0.5))] : 0, medianFullRatio,
    predictionBar: PREDICTION_BAR, fullRatioBar: FULL_RATIO_BAR,
    pass: nodes.length > 0 && medianRelError <= PREDICTION_BAR && medianFullRatio <= FULL_RATIO_BAR,
  }
}

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

export interface Check {
  id: 'share' | 'load' | 'scaling' | 'bimodal'
  claim: string
  measured: string
  pass: boolean
}

export interface Analysis {
  seeds: number[]
  rows: MemberRow[]
  share: ShareCheck
  load: LoadCheck
  multiFeed: { check: MultiFeedCheck; nodes: MultiFeedNode[] }
  scaling: ScalingCheck
  crash: CrashCheck
  /** The same experiment at other settings, shown for contrast and not judged. */
  crashContrast: CrashCheck[]
  verdict: { checks: Check[]; pass: boolean }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`

export interface AnalysisInput {
  seeds: number[]
  rows: readonly MemberRow[]
  scaling: readonly ScalingRun[]
  crash: { params: CrashParams; receivers: readonly number[] }
  crashContrast?: ReadonlyArray<{ params: CrashParams; receivers: readonly number[] }>
}

export function analyse(i: AnalysisInput): Analysis {
  const share = shareCheck(i.rows)
  const load = loadCheck(i.rows)
  const nodes = multiFeedNodes(i.rows, load.fit)
  const mf = multiFeedCheck(nodes)
  const scaling = scalingCheck(i.scaling)
  const crash = crashCheck(i.crash.params, i.crash.receivers)
  const crashContrast = (i.crashContrast ?? []).map((c) => crashCheck(c.params, c.receivers, false))
  const sizes = scaling.runs.map((r) => r.n)
  const checks: Check[] = [
    {
      id: 'share', claim: `every member's delivered share within ±${SHARE_TOLERANCE} of its rating`,
      measured: `${share.within} of ${share.rows} (member, feed) rows within; largest |share − rating| ${share.maxAbsDev.toFixed(4)}`, pass: share.pass,
    },
    {
      id: 'load', claim: `feed load linear in rating (R² ≥ ${R2_BAR}); a k-feed member's load = Σ per-feed predictions (median error ≤ ${pct(PREDICTION_BAR)}), well below k·full (median ≤ ${FULL_RATIO_BAR})`,
      measured: `R² ${load.fit.r2.toFixed(4)}; ${mf.nodes} multi-feed members: median error ${pct(mf.medianRelError)}, median measured / k·full ${mf.medianFullRatio.toFixed(3)}`,
      pass: load.pass && mf.pass,
    },
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
  return { seeds: [...i.seeds], rows: [...i.rows], share, load, multiFeed: { check: mf, nodes }, scaling, crash, crashContrast, verdict: { checks, pass: checks.every((c) => c.pass) } }
}
