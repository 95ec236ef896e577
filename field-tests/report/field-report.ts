/**
 * The field-test report (issue 10, `spinmesh report`): one self-contained HTML page over the
 * metrics JSON of one or more runs (metrics-result.ts: a simulated run, or a live run's collected
 * logs), side by side. Sections, in this order and with these ids: `summary`, `pdr-over-time`,
 * `pdr-per-node`, `latency-cdf`, `airtime-per-node`, `overhead`, `topology` and, with two results
 * or more, `comparison` (differences to the first). The report fields (timeline, perNode,
 * latencyCdf, topology, collect, schedule) are optional: a section a result has no data for says
 * so instead of failing.
 *
 * `parseMetricsResult` checks a file's JSON before anything is drawn and names the file and the
 * field that is wrong. Rendering is pure (same inputs, same bytes) and escapes every string that
 * comes from the input; the page has inline CSS and SVG, no scripts and no URLs.
 */
import { z } from 'zod'
import { ConfigError } from '../../core/errors.ts'
import { nodeLabel, topologyMap } from './field-charts.ts'
import { escapeHtml, figure, page, table, type Cell } from './html.ts'
import { barChart, lineChart } from './svg.ts'

const num = z.number()
const count = z.number().min(0)
const fraction = z.number().min(0).max(1)

/** What the report reads of a metrics JSON (a MetricsResult has all of it; other fields are ignored). */
const reportResultSchema = z.object({
  scenario: z.string(),
  seed: num,
  protocol: z.string(),
  source: z.enum(['simulation', 'live']).optional(),
  nodes: count,
  simSeconds: count,
  delivery: z.object({
    expected: count,
    delivered: count,
    ratio: fraction,
    receivers: z.array(z.object({ node: num, expected: count, delivered: count })).optional(),
  }),
  latencyMs: z.object({ p50: num, p95: num }),
  jitterMs: num.nullable().optional(),
  overhead: z.object({
    controlPackets: count,
    controlBytes: count,
    dataTransmissions: count,
    dataBytes: count,
    perDelivered: num.nullable(),
    framesPerDelivered: num.nullable(),
  }),
  airtime: z.object({ totalSeconds: count, maxNodeShare: count }),
  traffic: z.object({ flows: count, packetsSent: count }),
  timeline: z.object({ bucketS: z.number().positive(), points: z.array(z.object({ t: num, expected: count, delivered: count })) }).optional(),
  perNode: z
    .array(z.object({ node: num, name: z.string().optional(), sent: count, expected: count, delivered: count, txFrames: count, txBytes: count, airtimeMs: count }))
    .optional(),
  latencyCdf: z.array(z.tuple([num, fraction])).optional(),
  topology: z
    .object({
      nodes: z.array(z.object({ node: num, name: z.string().optional(), x: num.optional(), y: num.optional() })),
      links: z.array(z.object({ a: num, b: num, quality: num.optional() })),
    })
    .optional(),
  collect: z
    .object({
      files: count,
      lines: count,
      events: count,
      skipped: z.object({ truncated: count, corrupt: count, invalid: count }),
      clockOffsetsMs: z.record(z.string(), num),
      clockReference: num,
      unsynchronised: z.array(num),
      notSent: count.optional(),
      skippedBySenders: count.optional(),
      logDropped: count.optional(),
    })
    .optional(),
  schedule: z.object({ flows: count, durationS: count }).optional(),
})

/** The part of a MetricsResult (with the report fields of field-test-types.ts) the report uses. */
export type ReportResult = z.infer<typeof reportResultSchema>

const CORE_FIELDS = ['scenario', 'protocol', 'delivery', 'latencyMs', 'overhead', 'airtime']

/**
 * A metrics JSON file's text → the result, or a ConfigError naming `file` and what is wrong: not
 * JSON (a trace or event log gets a hint), not an object, a sweep result, not a metrics result at
 * all, or a field of the wrong type or range (its path, e.g. `timeline.points.3.expected`).
 */
export function parseMetricsResult(text: string, file: string): ReportResult {
  if (text.trim() === '') throw new ConfigError('', `${file} is empty, not a metrics JSON (spinmesh sim --json FILE writes one)`)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    let hint = ''
    try {
      const first: unknown = JSON.parse(text.slice(0, text.indexOf('\n')))
      if (first && typeof first === 'object' && 'ev' in first) hint = ' (it is JSON lines, like a trace or a node event log; the report reads the metrics JSON of spinmesh sim --json)'
    } catch {}
    throw new ConfigError('', `${file} is not JSON: ${(e as Error).message.split('\n')[0]}${hint}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('', `${file} is not a metrics result: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`)
  }
  if ('rows' in raw && 'axes' in raw) {
    throw new ConfigError('', `${file} is a sweep result (spinmesh sweep --json), not one run's metrics; give the report spinmesh sim --json files`)
  }
  const missing = CORE_FIELDS.filter((k) => !(k in raw))
  if (missing.length >= 3) {
    throw new ConfigError('', `${file} is not a metrics result (spinmesh sim --json writes one): it has no ${missing.join(', ')}`)
  }
  const parsed = reportResultSchema.safeParse(raw)
  if (!parsed.success) {
    const issues = parsed.error.issues
    const describe = (i: (typeof issues)[number]) => {
      const path = i.path.map(String).join('.') || '(top level)'
      const msg = /received undefined/.test(i.message) ? 'missing' : i.message.replace(/^Invalid input: /, '')
      return `${path}: ${msg}`
    }
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : ''
    throw new ConfigError('', `${file} is not a valid metrics result: ${describe(issues[0])}${more}`)
  }
  return parsed.data
}

export interface ReportInput {
  /** Where the result came from (named in labels when needed and in the footer). */
  file: string
  result: ReportResult
  /** Column and legend name (default: scenario · source · seed). */
  label?: string
}

export interface ReportOptions {
  title?: string
}

export const SECTION_IDS = ['summary', 'pdr-over-time', 'pdr-per-node', 'latency-cdf', 'airtime-per-node', 'overhead', 'topology', 'comparison'] as const
export type SectionId = (typeof SECTION_IDS)[number]

export interface RenderedReport {
  html: string
  /** The sections written, in order; `hasData` false when no result had data for it. */
  sections: Array<{ id: SectionId; title: string; hasData: boolean }>
}

/** One result with its label. */
interface Run {
  label: string
  file: string
  r: ReportResult
}

interface Body {
  body: string[]
  hasData: boolean
}

const source = (r: ReportResult) => r.source ?? 'simulation'
const basename = (f: string) => f.split(/[\\/]/).pop() || f
const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)} %`
const fixed = (x: number | null | undefined, d = 2, unit = '') => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(d)}${unit}`)
const int = (x: number) => Math.round(x).toLocaleString('en-US')
/** Inline SVG in HTML needs no namespace attribute (and then the page has no URL at all). */
const inline = (svg: string) => svg.replaceAll(' xmlns="http://www.w3.org/2000/svg"', '')
const noData = (text: string) => `<p class="no-data">${escapeHtml(`No data: ${text}`)}</p>`
const missingIn = (runs: Run[], what: string) => (runs.length ? [noData(`${runs.map((r) => r.label).join(', ')} ${runs.length === 1 ? 'has' : 'have'} no ${what}.`)] : [])

/** Labels: given, else scenario · source · seed; a label twice gets its file name, then its position. */
function labelRuns(inputs: readonly ReportInput[]): Run[] {
  const runs = inputs.map((i) => ({ label: i.label ?? `${i.result.scenario} · ${source(i.result)} · seed ${i.result.seed}`, file: i.file, r: i.result }))
  const twice = (l: string, all: string[]) => all.filter((x) => x === l).length > 1
  let labels = runs.map((x) => x.label)
  labels = labels.map((l, i) => (twice(l, labels) ? `${l} (${basename(runs[i].file)})` : l))
  labels = labels.map((l, i) => (twice(l, labels) ? `${l} #${i + 1}` : l))
  return runs.map((x, i) => ({ ...x, label: labels[i] }))
}

const CSS = `
svg { max-width: 100%; height: auto; }
figcaption { max-width: none; }
.no-data { color: #7a5d00; background: #fdf6dc; padding: .3em .6em; border-left: 3px solid #e0c060; }
.row { display: flex; flex-wrap: wrap; gap: 0 1.5em; align-items: flex-start; }
.row figure { margin: .8em 0; }
.better { background: #e3f5e1; } .worse { background: #fbe3e1; }
table.summary td { text-align: left; }
`

function summarySection(runs: Run[]): Body {
  const anyLive = runs.some((x) => source(x.r) === 'live' || x.r.collect)
  const row = (name: string, f: (x: Run) => Cell): Cell[] => [name, ...runs.map(f)]
  const rows: Cell[][] = [
    row('source', (x) => source(x.r)),
    row('file', (x) => x.file),
    row('scenario', (x) => x.r.scenario),
    row('protocol', (x) => x.r.protocol),
    row('seed', (x) => x.r.seed),
    row('nodes', (x) => x.r.nodes),
    row('duration', (x) => `${fixed(x.r.simSeconds, x.r.simSeconds % 1 ? 1 : 0)} s`),
    row('traffic', (x) => `${x.r.traffic.flows} flow${x.r.traffic.flows === 1 ? '' : 's'}, ${int(x.r.traffic.packetsSent)} packets sent`),
    row('PDR', (x) => (x.r.delivery.expected ? `${pct(x.r.delivery.ratio)} (${int(x.r.delivery.delivered)} / ${int(x.r.delivery.expected)})` : 'nothing expected')),
    row('latency p50 / p95', (x) => (x.r.delivery.delivered ? `${fixed(x.r.latencyMs.p50, 1)} / ${fixed(x.r.latencyMs.p95, 1)} ms` : 'no deliveries')),
    row('jitter', (x) => fixed(x.r.jitterMs, 1, ' ms')),
    row('control packets per delivered', (x) => fixed(x.r.overhead.perDelivered)),
    row('frames per delivered', (x) => fixed(x.r.overhead.framesPerDelivered)),
    row('airtime total', (x) => fixed(x.r.airtime.totalSeconds, 2, ' s')),
    row('busiest node airtime share', (x) => pct(x.r.airtime.maxNodeShare, 2)),
  ]
  if (anyLive) {
    const live = (f: (c: NonNullable<ReportResult['collect']>) => string) => (x: Run): Cell =>
      x.r.collect ? f(x.r.collect) : { value: source(x.r) === 'live' ? 'no data' : 'n/a (simulation)', class: 'na' }
    rows.push(
      row('logs collected', live((c) => `${c.files} file${c.files === 1 ? '' : 's'}, ${int(c.lines)} lines, ${int(c.events)} events`)),
      row('lines skipped', live((c) => `${c.skipped.truncated} truncated, ${c.skipped.corrupt} corrupt, ${c.skipped.invalid} invalid`)),
      row('clock offsets', live((c) => {
        const v = Object.values(c.clockOffsetsMs)
        if (!v.length) return 'none estimated'
        return `${fixed(Math.min(...v), 1)} … ${fixed(Math.max(...v), 1)} ms vs node ${nodeLabel(c.clockReference)} (${v.length} node${v.length === 1 ? '' : 's'})`
      })),
      row('scheduled packets not sent', live((c) => (c.notSent === undefined ? 'not recorded' : `${int(c.notSent)}${c.skippedBySenders ? ` (${int(c.skippedBySenders)} skipped by late senders)` : ''}${c.logDropped ? `; ${int(c.logDropped)} log lines dropped` : ''}`))),
      row('unsynchronised nodes', live((c) => (c.unsynchronised.length ? `${c.unsynchronised.length}: ${c.unsynchronised.map((n) => nodeLabel(n)).join(', ')} (offset 0 assumed)` : 'none'))),
    )
  }
  return { body: [table(['', ...runs.map((x) => x.label)], rows, { class: 'summary' })], hasData: true }
}

function pdrOverTimeSection(runs: Run[]): Body {
  const have = runs.filter((x) => x.r.timeline && x.r.timeline.points.length)
  const body: string[] = []
  if (have.length) {
    const buckets = [...new Set(have.map((x) => x.r.timeline!.bucketS))]
    const dense = have.some((x) => x.r.timeline!.points.length > 40)
    body.push(figure(inline(lineChart({
      title: 'Packet delivery ratio by send time',
      xTitle: 'send time, s from the start of the run (bucket start)',
      yTitle: 'PDR, %',
      width: 960,
      yMin: 0,
      yMax: 100,
      markers: !dense,
      dodge: false,
      series: have.map((x) => ({
        name: x.label,
        points: x.r.timeline!.points.map((p) => ({ x: p.t, y: p.expected ? (p.delivered / p.expected) * 100 : null })),
      })),
    })), `Deliveries made / expected for the packets sent in each ${buckets.map((b) => `${b} s`).join(' or ')} bucket; a gap is a bucket in which nothing was sent.`))
  }
  body.push(...missingIn(runs.filter((x) => !have.includes(x)), 'delivery timeline (timeline)'))
  return { body, hasData: have.length > 0 }
}

/** Per node of a run: its name and a value, from `perNode` (or a fallback). */
type PerNode = Map<number, { name?: string; value: number }>

/** Bars per node, one series per run, over the union of nodes; runs without data are named in a note. */
function perNodeBars(runs: Run[], data: Array<PerNode | undefined>, o: { title: string; yTitle: string; what: string }): Body {
  const names = new Map<number, string | undefined>()
  for (const d of data) for (const [node, v] of d ?? []) if (!names.get(node)) names.set(node, v.name)
  const nodes = [...names.keys()].sort((a, b) => a - b)
  const have = runs.filter((_, i) => data[i]?.size)
  const body: string[] = []
  if (have.length) {
    body.push(figure(inline(barChart({
      title: o.title,
      xTitle: 'node',
      yTitle: o.yTitle,
      width: 960,
      labelEvery: Math.ceil(nodes.length / 32),
      categories: nodes.map((n) => nodeLabel(n, names.get(n))),
      series: runs.flatMap((x, i) => (data[i]?.size ? [{ name: x.label, values: nodes.map((n) => data[i]!.get(n)?.value ?? null) }] : [])),
    }))))
  }
  body.push(...missingIn(runs.filter((x) => !have.includes(x)), o.what))
  return { body, hasData: have.length > 0 }
}

function extremes(runs: Run[], data: Array<PerNode | undefined>, pick: 'min' | 'max', fmt: (v: number) => string): string {
  const parts: string[] = []
  runs.forEach((x, i) => {
    const d = data[i]
    if (!d?.size) return
    let best: [number, { name?: string; value: number }] | undefined
    for (const e of d) if (!best || (pick === 'min' ? e[1].value < best[1].value : e[1].value > best[1].value)) best = e
    parts.push(`${x.label}: node ${nodeLabel(best![0], best![1].name)} at ${fmt(best![1].value)}`)
  })
  return parts.join('; ')
}

function pdrPerNodeSection(runs: Run[]): Body {
  const data = runs.map((x): PerNode | undefined => {
    const rows = x.r.perNode ?? x.r.delivery.receivers
    if (!rows) return undefined
    return new Map(rows.filter((n) => n.expected > 0).map((n) => [n.node, { name: (n as { name?: string }).name, value: (n.delivered / n.expected) * 100 }]))
  })
  const out = perNodeBars(runs, data, { title: 'Packet delivery ratio at each receiving node', yTitle: 'PDR at the node, %', what: 'per-node deliveries (perNode or delivery.receivers)' })
  if (out.hasData) out.body.splice(1, 0, `<p>${escapeHtml(`Nodes that were expected to receive nothing are not shown. Lowest: ${extremes(runs, data, 'min', (v) => `${v.toFixed(1)} %`)}.`)}</p>`)
  return out
}

function airtimeSection(runs: Run[]): Body {
  const data = runs.map((x): PerNode | undefined => {
    if (!x.r.perNode || !(x.r.simSeconds > 0)) return undefined
    return new Map(x.r.perNode.map((n) => [n.node, { name: n.name, value: (n.airtimeMs / 1000 / x.r.simSeconds) * 100 }]))
  })
  const out = perNodeBars(runs, data, { title: 'Time on air of each node', yTitle: 'airtime, % of the run', what: 'per-node airtime (perNode)' })
  if (out.hasData) out.body.splice(1, 0, `<p>${escapeHtml(`Frames each node transmitted, as a share of the run's duration (a duty-cycle limit applies to this). Busiest: ${extremes(runs, data, 'max', (v) => `${v.toFixed(2)} %`)}.`)}</p>`)
  return out
}

function latencyCdfSection(runs: Run[]): Body {
  const have = runs.filter((x) => x.r.latencyCdf && x.r.latencyCdf.length)
  const body: string[] = []
  if (have.length) {
    // A long tail (a few deliveries after a route repair) would squash every line against the y
    // axis: cut the x axis a little past the largest 99th percentile and say how far the tail goes.
    const at = (cdf: Array<[number, number]>, f: number) => (cdf.find(([, g]) => g >= f) ?? cdf[cdf.length - 1])[0]
    const p99 = Math.max(...have.map((x) => at(x.r.latencyCdf!, 0.99)))
    const max = Math.max(...have.map((x) => x.r.latencyCdf![x.r.latencyCdf!.length - 1][0]))
    const cut = max > 1.5 * p99 && p99 > 0 ? p99 * 1.1 : Infinity
    const tail = Number.isFinite(cut)
      ? ` The x axis ends at ${cut.toFixed(0)} ms; the slowest deliveries took ${have.map((x) => `${x.r.latencyCdf![x.r.latencyCdf!.length - 1][0].toFixed(0)} ms (${x.label})`).join(', ')}.`
      : ''
    body.push(figure(inline(lineChart({
      title: 'Latency of first deliveries (CDF)',
      xTitle: 'latency, ms',
      yTitle: 'deliveries at or below, %',
      width: 960,
      yMin: 0,
      yMax: 100,
      markers: false,
      dodge: false,
      series: have.map((x) => ({ name: x.label, points: x.r.latencyCdf!.filter(([ms]) => ms <= cut).map(([ms, f]) => ({ x: ms, y: f * 100 })) })),
    })), `Each line: the share of first deliveries that took at most the latency on the x axis. ${have.map((x) => `${x.label}: p50 ${fixed(x.r.latencyMs.p50, 1)} ms, p95 ${fixed(x.r.latencyMs.p95, 1)} ms`).join('; ')}.${tail}`))
  }
  const empty = runs.filter((x) => x.r.latencyCdf && !x.r.latencyCdf.length)
  if (empty.length) body.push(noData(`${empty.map((x) => x.label).join(', ')}: nothing was delivered, so there is no latency.`))
  body.push(...missingIn(runs.filter((x) => !x.r.latencyCdf), 'latency distribution (latencyCdf)'))
  return { body, hasData: have.length > 0 }
}

function overheadSection(runs: Run[]): Body {
  const per = (x: Run, v: number) => (x.r.delivery.delivered ? v / x.r.delivery.delivered : null)
  const o = (x: Run) => x.r.overhead
  const rows: Cell[][] = runs.map((x) => {
    const frames = o(x).controlPackets + o(x).dataTransmissions
    return [
      x.label,
      int(o(x).controlPackets),
      int(o(x).controlBytes),
      int(o(x).dataTransmissions),
      int(o(x).dataBytes),
      fixed(per(x, o(x).controlPackets)),
      fixed(per(x, o(x).dataTransmissions)),
      fixed(per(x, frames)),
      fixed(per(x, o(x).controlBytes + o(x).dataBytes), 1),
      frames ? pct(o(x).controlPackets / frames) : '—',
    ]
  })
  const body = [
    table(['', 'control frames', 'control bytes', 'data frames', 'data bytes', 'control frames / delivered', 'data frames / delivered', 'all frames / delivered', 'bytes on air / delivered', 'control share of frames'], rows),
  ]
  const delivered = runs.filter((x) => x.r.delivery.delivered)
  if (delivered.length) {
    const chart = (title: string, yTitle: string, control: (x: Run) => number, data: (x: Run) => number) =>
      figure(inline(barChart({
        title,
        yTitle,
        width: 470,
        height: 320,
        categories: ['control', 'data'],
        series: delivered.map((x) => ({ name: x.label, values: [per(x, control(x)), per(x, data(x))] })),
      })))
    body.push(`<div class="row">\n${chart('Frames on air per delivered packet', 'frames per delivered', (x) => o(x).controlPackets, (x) => o(x).dataTransmissions)}\n${chart('Bytes on air per delivered packet', 'bytes per delivered', (x) => o(x).controlBytes, (x) => o(x).dataBytes)}\n</div>`)
  }
  body.push(...(runs.length > delivered.length ? [noData(`${runs.filter((x) => !x.r.delivery.delivered).map((x) => x.label).join(', ')}: nothing was delivered, so there is no cost per delivered packet.`)] : []))
  return { body, hasData: true }
}

function topologySection(runs: Run[]): Body {
  const have = runs.filter((x) => x.r.topology && x.r.topology.nodes.length)
  const body: string[] = []
  if (have.length) {
    const width = have.length === 1 ? 640 : 470
    body.push(`<div class="row">\n${have.map((x) => figure(inline(topologyMap(x.r.topology!, { title: x.label, width, height: width - 20 })))).join('\n')}\n</div>`)
    body.push(`<p>${escapeHtml('Nodes where they were at the end of the run (on a circle when positions are unknown); lines are pairs of nodes in each other\'s neighbour tables, coloured by link quality (share of beacons heard, the mean of both directions).')}</p>`)
  }
  body.push(...missingIn(runs.filter((x) => !have.includes(x)), 'topology snapshot (topology)'))
  return { body, hasData: have.length > 0 }
}

/** One comparison metric: value, how to show it and its difference, and which way is better. */
interface Metric {
  name: string
  value: (r: ReportResult) => number | null
  show: (v: number) => string
  delta: (d: number, base: number) => string
  higherIsBetter: boolean
}

const sign = (d: number, digits: number) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d).toFixed(digits)}`
const relative = (d: number, base: number) => (base !== 0 ? ` (${sign((d / Math.abs(base)) * 100, 0)} %)` : '')

const METRICS: Metric[] = [
  { name: 'PDR', value: (r) => (r.delivery.expected ? r.delivery.ratio : null), show: (v) => pct(v), delta: (d) => `${sign(d * 100, 1)} pp`, higherIsBetter: true },
  { name: 'latency p50', value: (r) => (r.delivery.delivered ? r.latencyMs.p50 : null), show: (v) => `${v.toFixed(1)} ms`, delta: (d, b) => `${sign(d, 1)} ms${relative(d, b)}`, higherIsBetter: false },
  { name: 'latency p95', value: (r) => (r.delivery.delivered ? r.latencyMs.p95 : null), show: (v) => `${v.toFixed(1)} ms`, delta: (d, b) => `${sign(d, 1)} ms${relative(d, b)}`, higherIsBetter: false },
  { name: 'jitter', value: (r) => r.jitterMs ?? null, show: (v) => `${v.toFixed(1)} ms`, delta: (d, b) => `${sign(d, 1)} ms${relative(d, b)}`, higherIsBetter: false },
  { name: 'control packets per delivered', value: (r) => r.overhead.perDelivered, show: (v) => v.toFixed(2), delta: (d, b) => `${sign(d, 2)}${relative(d, b)}`, higherIsBetter: false },
  { name: 'frames per delivered', value: (r) => r.overhead.framesPerDelivered, show: (v) => v.toFixed(2), delta: (d, b) => `${sign(d, 2)}${relative(d, b)}`, higherIsBetter: false },
  { name: 'airtime total', value: (r) => r.airtime.totalSeconds, show: (v) => `${v.toFixed(2)} s`, delta: (d, b) => `${sign(d, 2)} s${relative(d, b)}`, higherIsBetter: false },
  { name: 'busiest node airtime share', value: (r) => r.airtime.maxNodeShare, show: (v) => pct(v, 2), delta: (d) => `${sign(d * 100, 2)} pp`, higherIsBetter: false },
]

function comparisonSection(runs: Run[]): Body {
  const [first, ...rest] = runs
  const rows: Cell[][] = METRICS.map((m) => {
    const base = m.value(first.r)
    const cells: Cell[] = [m.name, base === null ? null : m.show(base)]
    for (const x of rest) {
      const v = m.value(x.r)
      cells.push(v === null ? null : m.show(v))
      if (v === null || base === null) {
        cells.push(null)
        continue
      }
      const d = v - base
      const tiny = Math.abs(d) <= 1e-9 * Math.max(1, Math.abs(base))
      cells.push(tiny ? '±0' : { value: m.delta(d, base), class: (d > 0) === m.higherIsBetter ? 'better' : 'worse' })
    }
    return cells
  })
  const headers: Cell[] = ['metric', first.label, ...rest.flatMap((x) => [x.label, 'Δ vs first'])]
  return {
    body: [
      `<p>${escapeHtml(`Differences to the first result (${first.label}); pp = percentage points. Green: better, red: worse (higher PDR, lower latency, jitter, overhead and airtime are better).`)}</p>`,
      table(headers, rows),
    ],
    hasData: true,
  }
}

/** The page for `inputs` (at least one), in the order given; the first is the baseline of the comparison. */
export function renderFieldReport(inputs: readonly ReportInput[], o: ReportOptions = {}): RenderedReport {
  if (!inputs.length) throw new RangeError('renderFieldReport: no results')
  const runs = labelRuns(inputs)
  const scenarios = [...new Set(runs.map((x) => x.r.scenario))]
  const title = o.title ?? `Field report: ${scenarios.join(', ')}`
  const built: Array<{ id: SectionId; title: string } & Body> = [
    { id: 'summary', title: 'Summary', ...summarySection(runs) },
    { id: 'pdr-over-time', title: 'PDR over time', ...pdrOverTimeSection(runs) },
    { id: 'pdr-per-node', title: 'PDR per node', ...pdrPerNodeSection(runs) },
    { id: 'latency-cdf', title: 'Latency distribution', ...latencyCdfSection(runs) },
    { id: 'airtime-per-node', title: 'Airtime per node', ...airtimeSection(runs) },
    { id: 'overhead', title: 'Overhead', ...overheadSection(runs) },
    { id: 'topology', title: 'Topology', ...topologySection(runs) },
  ]
  if (runs.length >= 2) built.push({ id: 'comparison', title: 'Comparison', ...comparisonSection(runs) })
  const sources = runs.map((x) => source(x.r))
  const kinds = [...new Set(sources)]
  const intro = [
    `${runs.length} result${runs.length === 1 ? '' : 's'} (${kinds.map((k) => `${sources.filter((s) => s === k).length} ${k === 'live' ? 'live' : 'simulated'}`).join(', ')}): ` +
      runs.map((x) => `${x.label} from ${x.file}`).join('; ') + '.',
  ]
  const markup = page({
    title,
    intro,
    css: CSS,
    sections: built.map((s) => ({ id: s.id, title: s.title, body: s.body.length ? s.body : [noData('nothing to show.')] })),
    footer: `Written by spinmesh report ${runs.map((x) => x.file).join(' ')}`,
  })
  return { html: markup, sections: built.map((s) => ({ id: s.id, title: s.title, hasData: s.hasData })) }
}
