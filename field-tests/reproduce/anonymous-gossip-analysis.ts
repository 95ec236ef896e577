/**
 * The numbers of the anonymous-gossip reproduction (issue 4's must-show), as pure functions of the
 * runs' metrics: each run's key numbers, per (protocol, speed) summaries over seeds, and the
 * verdict comparing a baseline (MAODV) with a candidate (MAODV + anonymous gossip).
 *
 * Loss is counted as (packet, receiver) pairs never delivered: per run lost / expected, and per
 * (protocol, speed) pooled over seeds as Σ lost / Σ expected (a mean of ratios would let short runs
 * weigh as much as long ones). The verdict passes a speed when MAODV already loses < 2 % or the
 * candidate loses at most a tenth of what MAODV loses; the goal of a hundredth is reported
 * beside it.
 *
 * Metrics JSON written before the delivery-distribution, jitter, recovery and gossip fields
 * existed is read too: missing fields become null and their charts say there is no data.
 */
import { round6, type MetricsResult } from '../metrics-result.ts'
import { median } from '../sweep.ts'

/** A protocol as compared here; `label` is unique even when the same protocol is run twice. */
export interface ProtocolArm {
  label: string
  protocol: string
}

export interface Range {
  median: number
  min: number
  max: number
}

export interface ReceiverCount {
  node: number
  expected: number
  delivered: number
}

export interface RecoveredLatency {
  count: number
  mean: number
  p50: number
  p95: number
  max: number
}

export interface LostForGood {
  total: number
  neverReachedTree: number
  partitioned: number
  agedOut: number
  unrecovered: number
}

/** The numbers of one run this reproduction looks at. */
export interface RunKeys {
  protocol: string
  speed: number
  seed: number
  expected: number
  delivered: number
  lost: number
  /** lost / expected (0 when nothing was expected). */
  lossRate: number
  pdr: number
  perMemberStdev: number
  receivers: ReceiverCount[] | null
  jitterMs: number | null
  latencyP50Ms: number
  controlPerDelivered: number | null
  framesPerDelivered: number | null
  gossipMessages: number | null
  gossipPerDelivered: number | null
  recovered: number | null
  recoveredLatencyMs: RecoveredLatency | null
  lostForGood: LostForGood | null
  wallSeconds: number
}

/** The newer metrics fields, all optional: older JSON lacks them. */
interface Extras {
  delivery?: { recovered?: number; receivers?: ReceiverCount[] }
  jitterMs?: number | null
  recoveredLatencyMs?: RecoveredLatency
  lostForGood?: LostForGood
  gossip?: { messages?: number; perDelivered?: number | null; recovered?: number }
  overhead?: { framesPerDelivered?: number | null }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** Pick a run's key numbers out of its metrics JSON. */
export function keyNumbers(r: MetricsResult, protocol: string, speed: number): RunKeys {
  const x = r as unknown as Extras
  const d = r.delivery
  const lost = d.expected - d.delivered
  const frames = num(x.overhead?.framesPerDelivered) ??
    (d.delivered ? round6((r.overhead.controlPackets + r.overhead.dataTransmissions) / d.delivered) : null)
  const receivers = Array.isArray(x.delivery?.receivers) ? x.delivery.receivers.map((v) => ({ node: v.node, expected: v.expected, delivered: v.delivered })) : null
  return {
    protocol,
    speed,
    seed: r.seed,
    expected: d.expected,
    delivered: d.delivered,
    lost,
    lossRate: d.expected ? round6(lost / d.expected) : 0,
    pdr: d.ratio,
    perMemberStdev: d.perReceiver.stdev,
    receivers,
    jitterMs: num(x.jitterMs),
    latencyP50Ms: r.latencyMs.p50,
    controlPerDelivered: r.overhead.perDelivered,
    framesPerDelivered: frames,
    gossipMessages: num(x.gossip?.messages),
    gossipPerDelivered: num(x.gossip?.perDelivered),
    recovered: num(x.delivery?.recovered) ?? num(x.gossip?.recovered),
    recoveredLatencyMs: x.recoveredLatencyMs ? { ...x.recoveredLatencyMs } : null,
    lostForGood: x.lostForGood ? { ...x.lostForGood } : null,
    wallSeconds: r.wallSeconds,
  }
}

function range(xs: readonly number[]): Range | null {
  if (!xs.length) return null
  return { median: round6(median(xs)), min: round6(Math.min(...xs)), max: round6(Math.max(...xs)) }
}

const present = <T>(xs: ReadonlyArray<T | null>): T[] => xs.filter((v): v is T => v !== null)

/** One protocol at one speed, over seeds. */
export interface CellSummary {
  protocol: string
  speed: number
  seeds: number[]
  expected: number
  lost: number
  pdr: Range
  /** Σ lost / Σ expected over seeds, and the per-seed extremes. */
  lossRate: { pooled: number; min: number; max: number }
  perMemberStdev: Range
  jitterMs: Range | null
  latencyP50Ms: number
  controlPerDelivered: Range | null
  framesPerDelivered: Range | null
  gossipMessages: Range | null
  gossipPerDelivered: Range | null
  recovered: number | null
  /** Over the recovered deliveries of every seed: count and mean pooled, p50/p95 the median over seeds that recovered any, max the max. */
  recoveredLatencyMs: RecoveredLatency | null
  /** Summed over seeds. */
  lostForGood: LostForGood | null
}

export function summariseCell(protocol: string, speed: number, runs: readonly RunKeys[]): CellSummary {
  if (!runs.length) throw new RangeError(`no runs for ${protocol} at speed ${speed}`)
  const expected = runs.reduce((a, r) => a + r.expected, 0)
  const lost = runs.reduce((a, r) => a + r.lost, 0)
  const lossRates = runs.map((r) => r.lossRate)
  const rec = present(runs.map((r) => r.recoveredLatencyMs))
  const withRec = rec.filter((l) => l.count > 0)
  const recCount = rec.reduce((a, l) => a + l.count, 0)
  const lfg = present(runs.map((r) => r.lostForGood))
  const recovered = present(runs.map((r) => r.recovered))
  return {
    protocol,
    speed,
    seeds: runs.map((r) => r.seed),
    expected,
    lost,
    pdr: range(runs.map((r) => r.pdr))!,
    lossRate: { pooled: expected ? round6(lost / expected) : 0, min: Math.min(...lossRates), max: Math.max(...lossRates) },
    perMemberStdev: range(runs.map((r) => r.perMemberStdev))!,
    jitterMs: range(present(runs.map((r) => r.jitterMs))),
    latencyP50Ms: round6(median(runs.map((r) => r.latencyP50Ms))),
    controlPerDelivered: range(present(runs.map((r) => r.controlPerDelivered))),
    framesPerDelivered: range(present(runs.map((r) => r.framesPerDelivered))),
    gossipMessages: range(present(runs.map((r) => r.gossipMessages))),
    gossipPerDelivered: range(present(runs.map((r) => r.gossipPerDelivered))),
    recovered: recovered.length ? recovered.reduce((a, b) => a + b, 0) : null,
    recoveredLatencyMs: rec.length
      ? {
          count: recCount,
          mean: recCount ? round6(rec.reduce((a, l) => a + l.mean * l.count, 0) / recCount) : 0,
          p50: withRec.length ? round6(median(withRec.map((l) => l.p50))) : 0,
          p95: withRec.length ? round6(median(withRec.map((l) => l.p95))) : 0,
          max: withRec.length ? Math.max(...withRec.map((l) => l.max)) : 0,
        }
      : null,
    lostForGood: lfg.length
      ? {
          total: lfg.reduce((a, l) => a + l.total, 0),
          neverReachedTree: lfg.reduce((a, l) => a + l.neverReachedTree, 0),
          partitioned: lfg.reduce((a, l) => a + l.partitioned, 0),
          agedOut: lfg.reduce((a, l) => a + l.agedOut, 0),
          unrecovered: lfg.reduce((a, l) => a + l.unrecovered, 0),
        }
      : null,
  }
}

/** Baseline against candidate at one speed (seed undefined: pooled over seeds) or one (speed, seed). */
export interface VerdictRow {
  speed: number
  seed?: number
  baselineLoss: number
  candidateLoss: number
  /** candidate loss / baseline loss; null when the baseline lost nothing. */
  ratio: number | null
  /** Baseline loss < 2 %, or candidate loss ≤ baseline loss / 10. */
  lossPass: boolean
  /** The must-show: baseline loss < 2 %, or (loss ≤ 1/10 of the baseline's and per-member stdev lower). */
  pass: boolean
  /** Candidate loss ≤ baseline loss / 100 (the goal). */
  goal100: boolean
  baselineStdev: number
  candidateStdev: number
  /** Candidate's per-member delivery stdev is lower (or both are 0: nothing to even out). */
  stdevLower: boolean
}

/** Threshold under which the baseline's loss is already too small to demand a tenfold cut. */
export const SMALL_LOSS = 0.02

export function verdictRow(speed: number, seed: number | undefined, baselineLoss: number, candidateLoss: number, baselineStdev: number, candidateStdev: number): VerdictRow {
  const small = baselineLoss < SMALL_LOSS
  const lossPass = small || candidateLoss <= baselineLoss / 10
  const stdevLower = candidateStdev < baselineStdev || (candidateStdev === 0 && baselineStdev === 0)
  return {
    speed,
    ...(seed === undefined ? {} : { seed }),
    baselineLoss,
    candidateLoss,
    ratio: baselineLoss > 0 ? round6(candidateLoss / baselineLoss) : null,
    lossPass,
    pass: small || (lossPass && stdevLower),
    goal100: candidateLoss <= baselineLoss / 100,
    baselineStdev,
    candidateStdev,
    stdevLower,
  }
}

export interface Analysis {
  protocols: ProtocolArm[]
  speeds: number[]
  seeds: number[]
  runs: RunKeys[]
  summary: CellSummary[]
  verdict: {
    baseline: string
    candidate: string
    bySpeed: VerdictRow[]
    bySeed: VerdictRow[]
    /** Every speed passes. */
    pass: boolean
    /** Every speed meets the 1/100 goal. */
    goal100: boolean
    /** The candidate's median per-member stdev is lower at every speed. */
    stdevLower: boolean
  }
}

/**
 * Summaries and verdict from every run. `arms[0]` is the baseline, `arms[1]` the candidate;
 * `runs` holds each run's key numbers with `protocol` set to its arm's label.
 */
export function analyse(arms: readonly ProtocolArm[], speeds: readonly number[], seeds: readonly number[], runs: readonly RunKeys[]): Analysis {
  if (arms.length !== 2) throw new RangeError(`the comparison needs exactly two protocols (baseline, candidate), got ${arms.length}`)
  const cell = (label: string, speed: number) => runs.filter((r) => r.protocol === label && r.speed === speed)
  const summary = speeds.flatMap((speed) => arms.map((a) => summariseCell(a.label, speed, cell(a.label, speed))))
  const find = (label: string, speed: number) => summary.find((s) => s.protocol === label && s.speed === speed)!
  const [base, cand] = arms
  const bySpeed = speeds.map((speed) => {
    const b = find(base.label, speed)
    const c = find(cand.label, speed)
    return verdictRow(speed, undefined, b.lossRate.pooled, c.lossRate.pooled, b.perMemberStdev.median, c.perMemberStdev.median)
  })
  const bySeed = speeds.flatMap((speed) =>
    seeds.map((seed) => {
      const b = cell(base.label, speed).find((r) => r.seed === seed)
      const c = cell(cand.label, speed).find((r) => r.seed === seed)
      if (!b || !c) throw new RangeError(`missing run for speed ${speed} seed ${seed}`)
      return verdictRow(speed, seed, b.lossRate, c.lossRate, b.perMemberStdev, c.perMemberStdev)
    }),
  )
  return {
    protocols: arms.map((a) => ({ ...a })),
    speeds: [...speeds],
    seeds: [...seeds],
    runs: [...runs],
    summary,
    verdict: {
      baseline: base.label,
      candidate: cand.label,
      bySpeed,
      bySeed,
      pass: bySpeed.every((v) => v.pass),
      goal100: bySpeed.every((v) => v.goal100),
      stdevLower: bySpeed.every((v) => v.stdevLower),
    },
  }
}

/** Unique labels for the protocols compared: a name used twice gets ` #2`, ` #3`, ... */
export function armsFor(protocols: readonly string[]): ProtocolArm[] {
  const seen = new Map<string, number>()
  return protocols.map((protocol) => {
    const n = (seen.get(protocol) ?? 0) + 1
    seen.set(protocol, n)
    return { label: n === 1 ? protocol : `${protocol} #${n}`, protocol }
  })
}
