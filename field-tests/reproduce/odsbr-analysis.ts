/**
 * The numbers of the ODSBR reproduction (issue 6's must-show), as pure functions of the runs'
 * metrics: each run's key numbers, per (protocol, adversary model, fraction) summaries over seeds,
 * and the verdict.
 *
 * PDR is pooled over seeds (Σ delivered / Σ expected, as docs/RESULTS.md reports it); the per-seed
 * extremes go beside it. Adversary-free runs (fraction 0) are the same whatever the model, so one
 * set of them (model `none`) is every model's 0 point. The verdict: at every black-hole fraction
 * above 0, ODSBR's pooled PDR is at least `RATIO_BAR` (0.8) of its own adversary-free pooled PDR;
 * AODV's ratio is reported beside it, never judged.
 */
import { round6, type MetricsResult } from '../metrics-result.ts'
import type { OdsbrMetrics, TrueFalse } from '../odsbr-metrics.ts'
import { quantileOf } from '../odsbr-metrics.ts'
import { median } from '../sweep.ts'

/** The must-show bar: ODSBR keeps at least this share of its own adversary-free PDR. */
export const RATIO_BAR = 0.8
/** The model of adversary-free runs. */
export const NO_ADVERSARY = 'none'
/** The model the verdict is about. */
export const VERDICT_MODEL = 'blackhole'

export interface Range {
  median: number
  min: number
  max: number
}

/** What the ODSBR-only part of a run says (from its metrics' `odsbr` section). */
export interface OdsbrKeys {
  /** Convictions as they happened (null: the run was not instrumented). */
  convictions: (TrueFalse & { detection: TrueFalse; linkBreak: TrueFalse }) | null
  /** The `convictions` counter (fault-detection convictions). */
  convictionsCounter: number
  weightListsAtEnd: TrueFalse
  /** Time to route around: first episode per attacked flow (ms; null = not routed around by the end). */
  routeAroundMs: Array<number | null> | null
  /** Control frames and bytes by kind, data header bytes and signatures, summed over the run. */
  overhead: { requestBytes: number; responseBytes: number; ackBytes: number; routeErrorBytes: number; dataHeaderBytes: number; signatureBytes: number; signatures: number; controlFrames: number } | null
}

/** The numbers of one run this reproduction looks at. */
export interface RunKeys {
  protocol: string
  model: string
  fraction: number
  seed: number
  adversaries: number
  expected: number
  delivered: number
  pdr: number
  /** Every frame on air (control + data, link acks included) per delivered packet. */
  framesPerDelivered: number | null
  /** Every byte on air per delivered packet. */
  bytesPerDelivered: number | null
  controlPackets: number
  controlBytes: number
  latencyP50Ms: number
  odsbr: OdsbrKeys | null
  wallSeconds: number
}

/** Pick a run's key numbers out of its metrics JSON. */
export function keyNumbers(r: MetricsResult, model: string, fraction: number): RunKeys {
  const d = r.delivery
  const o = r.odsbr as OdsbrMetrics | undefined
  const ov = o?.overhead
  const bytes = r.overhead.controlBytes + r.overhead.dataBytes
  return {
    protocol: r.protocol,
    model,
    fraction,
    seed: r.seed,
    adversaries: r.adversaries.length,
    expected: d.expected,
    delivered: d.delivered,
    pdr: d.ratio,
    framesPerDelivered: r.overhead.framesPerDelivered,
    bytesPerDelivered: d.delivered ? round6(bytes / d.delivered) : null,
    controlPackets: r.overhead.controlPackets,
    controlBytes: r.overhead.controlBytes,
    latencyP50Ms: r.latencyMs.p50,
    odsbr: o
      ? {
          convictions: o.convictions,
          convictionsCounter: o.counters.convictions ?? 0,
          weightListsAtEnd: o.weightListsAtEnd,
          routeAroundMs: o.routeAround ? o.routeAround.perFlow.map((e) => e.ms) : null,
          overhead: ov
            ? {
                requestBytes: ov.requests.bytes,
                responseBytes: ov.responses.bytes,
                ackBytes: ov.acks.bytes,
                routeErrorBytes: ov.routeErrors.bytes,
                dataHeaderBytes: ov.data.headerBytes,
                signatureBytes: ov.signatures.bytes,
                signatures: ov.signatures.count,
                controlFrames: ov.requests.frames + ov.responses.frames + ov.acks.frames + ov.routeErrors.frames,
              }
            : null,
        }
      : null,
    wallSeconds: r.wallSeconds,
  }
}

function range(xs: readonly number[]): Range | null {
  if (!xs.length) return null
  return { median: round6(median(xs)), min: round6(Math.min(...xs)), max: round6(Math.max(...xs)) }
}

const present = <T>(xs: ReadonlyArray<T | null>): T[] => xs.filter((v): v is T => v !== null)
const sumTf = (xs: readonly TrueFalse[]): TrueFalse => ({
  total: xs.reduce((a, x) => a + x.total, 0),
  true: xs.reduce((a, x) => a + x.true, 0),
  false: xs.reduce((a, x) => a + x.false, 0),
})

/** ODSBR's part of a cell: sums over seeds, and time to route around pooled over every seed's attacked flows. */
export interface OdsbrCell {
  convictions: (TrueFalse & { detection: TrueFalse; linkBreak: TrueFalse }) | null
  convictionsCounter: number
  weightListsAtEnd: TrueFalse
  routeAround: { attacked: number; routedAround: number; notRoutedAround: number; medianMs: number | null; p90Ms: number | null } | null
  /** Per delivered packet, pooled (Σ bytes / Σ delivered). */
  overheadPerDelivered: { requestBytes: number; responseBytes: number; ackBytes: number; routeErrorBytes: number; dataHeaderBytes: number; signatureBytes: number; signatures: number; controlFrames: number } | null
}

/** One protocol, one adversary model, one fraction, over seeds. */
export interface CellSummary {
  protocol: string
  model: string
  fraction: number
  seeds: number[]
  adversaries: Range
  expected: number
  delivered: number
  /** Σ delivered / Σ expected. */
  pdrPooled: number
  pdr: Range
  framesPerDelivered: Range | null
  bytesPerDelivered: Range | null
  latencyP50Ms: number
  odsbr: OdsbrCell | null
}

function odsbrCell(runs: readonly RunKeys[], delivered: number): OdsbrCell | null {
  const os = present(runs.map((r) => r.odsbr))
  if (!os.length) return null
  const conv = present(os.map((o) => o.convictions))
  const ra = present(os.map((o) => o.routeAroundMs))
  const flows = ra.flat()
  const done = present(flows).sort((a, b) => a - b)
  const ovs = present(os.map((o) => o.overhead))
  const per = (pick: (x: NonNullable<OdsbrKeys['overhead']>) => number) => (delivered ? round6(ovs.reduce((a, x) => a + pick(x), 0) / delivered) : 0)
  return {
    convictions: conv.length === os.length
      ? { ...sumTf(conv), detection: sumTf(conv.map((c) => c.detection)), linkBreak: sumTf(conv.map((c) => c.linkBreak)) }
      : null,
    convictionsCounter: os.reduce((a, o) => a + o.convictionsCounter, 0),
    weightListsAtEnd: sumTf(os.map((o) => o.weightListsAtEnd)),
    routeAround: ra.length === os.length
      ? { attacked: flows.length, routedAround: done.length, notRoutedAround: flows.length - done.length, medianMs: quantileOf(done, 0.5), p90Ms: quantileOf(done, 0.9) }
      : null,
    overheadPerDelivered: ovs.length === os.length
      ? {
          requestBytes: per((x) => x.requestBytes),
          responseBytes: per((x) => x.responseBytes),
          ackBytes: per((x) => x.ackBytes),
          routeErrorBytes: per((x) => x.routeErrorBytes),
          dataHeaderBytes: per((x) => x.dataHeaderBytes),
          signatureBytes: per((x) => x.signatureBytes),
          signatures: per((x) => x.signatures),
          controlFrames: per((x) => x.controlFrames),
        }
      : null,
  }
}

export function summariseCell(protocol: string, model: string, fraction: number, runs: readonly RunKeys[]): CellSummary {
  if (!runs.length) throw new RangeError(`no runs for ${protocol}, ${model} at fraction ${fraction}`)
  const expected = runs.reduce((a, r) => a + r.expected, 0)
  const delivered = runs.reduce((a, r) => a + r.delivered, 0)
  return {
    protocol,
    model,
    fraction,
    seeds: runs.map((r) => r.seed),
    adversaries: range(runs.map((r) => r.adversaries))!,
    expected,
    delivered,
    pdrPooled: expected ? round6(delivered / expected) : 0,
    pdr: range(runs.map((r) => r.pdr))!,
    framesPerDelivered: range(present(runs.map((r) => r.framesPerDelivered))),
    bytesPerDelivered: range(present(runs.map((r) => r.bytesPerDelivered))),
    latencyP50Ms: round6(median(runs.map((r) => r.latencyP50Ms))),
    odsbr: odsbrCell(runs, delivered),
  }
}

/** One black-hole fraction of the verdict. */
export interface VerdictRow {
  fraction: number
  aodvPdr: number
  odsbrPdr: number
  /** ODSBR's PDR / its own adversary-free PDR (null when that is 0). */
  odsbrRatio: number | null
  aodvRatio: number | null
  pass: boolean
}

export interface Analysis {
  /** Protocols compared: baseline (AODV) first, then ODSBR. */
  protocols: string[]
  /** Adversary models, `none` excluded; each model's fractions (0 = the shared adversary-free runs). */
  models: Array<{ model: string; fractions: number[]; seeds: number[] }>
  baselineSeeds: number[]
  runs: RunKeys[]
  summary: CellSummary[]
  verdict: {
    model: string
    bar: number
    rows: VerdictRow[]
    pass: boolean
    /** Convictions in the adversary-free ODSBR runs (all false by definition). */
    adversaryFree: { runs: number; convictions: OdsbrCell['convictions']; convictionsCounter: number; weightListsAtEnd: TrueFalse } | null
  }
}

/** A cell, with fraction 0 read from the shared adversary-free runs. */
export function findCell(a: Pick<Analysis, 'summary'>, protocol: string, model: string, fraction: number): CellSummary | undefined {
  const m = fraction === 0 ? NO_ADVERSARY : model
  return a.summary.find((c) => c.protocol === protocol && c.model === m && c.fraction === fraction)
}

/**
 * Summaries and verdict. `protocols` = [baseline, candidate]; `runs` carry their model and
 * fraction (adversary-free ones: model `none`, fraction 0).
 */
export function analyse(protocols: readonly string[], runs: readonly RunKeys[]): Analysis {
  if (protocols.length !== 2) throw new RangeError(`the comparison needs two protocols (baseline, candidate), got ${protocols.length}`)
  const keys = new Map<string, RunKeys[]>()
  for (const r of runs) {
    const k = `${r.protocol}|${r.model}|${r.fraction}`
    const list = keys.get(k)
    if (list) list.push(r)
    else keys.set(k, [r])
  }
  const summary = [...keys.values()].map((rs) => summariseCell(rs[0].protocol, rs[0].model, rs[0].fraction, rs))
  summary.sort((x, y) => (x.model === y.model ? x.fraction - y.fraction || protocols.indexOf(x.protocol) - protocols.indexOf(y.protocol) : x.model < y.model ? -1 : 1))
  const modelNames = [...new Set(runs.map((r) => r.model))].filter((m) => m !== NO_ADVERSARY)
  modelNames.sort((x, y) => (x === VERDICT_MODEL ? -1 : y === VERDICT_MODEL ? 1 : x < y ? -1 : 1))
  const baselineSeeds = [...new Set(runs.filter((r) => r.model === NO_ADVERSARY).map((r) => r.seed))].sort((x, y) => x - y)
  const models = modelNames.map((model) => {
    const rs = runs.filter((r) => r.model === model)
    return {
      model,
      fractions: [...(baselineSeeds.length ? [0] : []), ...[...new Set(rs.map((r) => r.fraction))].sort((x, y) => x - y)],
      seeds: [...new Set(rs.map((r) => r.seed))].sort((x, y) => x - y),
    }
  })
  const [base, cand] = protocols
  const free = (p: string) => findCell({ summary }, p, NO_ADVERSARY, 0)
  const ratio = (c: CellSummary | undefined, z: CellSummary | undefined) => (c && z && z.pdrPooled > 0 ? round6(c.pdrPooled / z.pdrPooled) : null)
  const vm = models.find((m) => m.model === VERDICT_MODEL)
  const rows: VerdictRow[] = (vm?.fractions ?? []).filter((f) => f > 0).map((fraction) => {
    const b = findCell({ summary }, base, VERDICT_MODEL, fraction)
    const c = findCell({ summary }, cand, VERDICT_MODEL, fraction)
    const odsbrRatio = ratio(c, free(cand))
    return {
      fraction,
      aodvPdr: b?.pdrPooled ?? NaN,
      odsbrPdr: c?.pdrPooled ?? NaN,
      odsbrRatio,
      aodvRatio: ratio(b, free(base)),
      pass: odsbrRatio !== null && odsbrRatio >= RATIO_BAR,
    }
  })
  const z = free(cand)
  return {
    protocols: [...protocols],
    models,
    baselineSeeds,
    runs: [...runs],
    summary,
    verdict: {
      model: VERDICT_MODEL,
      bar: RATIO_BAR,
      rows,
      pass: rows.length > 0 && rows.every((r) => r.pass),
      adversaryFree: z?.odsbr
        ? { runs: z.seeds.length, convictions: z.odsbr.convictions, convictionsCounter: z.odsbr.convictionsCounter, weightListsAtEnd: z.odsbr.weightListsAtEnd }
        : null,
    },
  }
}
