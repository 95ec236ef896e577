/**
 * The numbers of the gravitational reproduction, as pure functions of what the grid-feeds runs
 * measured (PROTOCOLS.md §6), and its two checks with their bars:
 * 1. share vs rating: every (member, feed) row of every grid-feeds seed has |share − rating| ≤ 0.05;
 * 2. load vs rating: the least-squares line of feedLoadBytesPerS on rating, pooled over seeds, has
 *    R² ≥ 0.95; and for subscribers in k ≥ 2 feeds that publish nothing, the measured total load
 *    (loadBytesPerS) is predicted by Σ over their feeds of (a + b·rating) with median relative
 *    error ≤ 0.25, and is well below the k·(a + b) a full-rate subscription to every feed would cost
 *    (median measured / k·full ≤ 0.8);
 * The bars were fixed before the reproduction was run; they are the issue's. The pbcast checks
 * (load per member as the group grows, bimodal delivery) are the pbcast reproduction's
 * (pbcast-analysis.ts).
 */
import type { MetricsResult } from '../metrics-result.ts'
import { median } from '../sweep.ts'

export const SHARE_TOLERANCE = 0.05
export const R2_BAR = 0.95
export const PREDICTION_BAR = 0.25
/** "Well below k·full": the median measured / k·(a + b) at most this. */
export const FULL_RATIO_BAR = 0.8

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

export interface Check {
  id: 'share' | 'load'
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
  verdict: { checks: Check[]; pass: boolean }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`

export interface AnalysisInput {
  seeds: number[]
  rows: readonly MemberRow[]
}

export function analyse(i: AnalysisInput): Analysis {
  const share = shareCheck(i.rows)
  const load = loadCheck(i.rows)
  const nodes = multiFeedNodes(i.rows, load.fit)
  const mf = multiFeedCheck(nodes)
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
  ]
  return { seeds: [...i.seeds], rows: [...i.rows], share, load, multiFeed: { check: mf, nodes }, verdict: { checks, pass: checks.every((c) => c.pass) } }
}
