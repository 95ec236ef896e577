/**
 * The HTML page of the anonymous-gossip reproduction: the verdict tables (per speed and per
 * (speed, seed)), then charts of delivery, loss on a log scale, the per-member delivery
 * distribution, overhead and jitter, and tables of recovery and of why packets were lost for good.
 * A pure function of the analysis: the same runs give the same page, except for the wall time.
 */
import { figure, page, paragraph, table, type Cell } from '../report/html.ts'
import { barChart, distributionChart, lineChart } from '../report/svg.ts'
import type { Analysis, CellSummary, Range, VerdictRow } from './anonymous-gossip-analysis.ts'

import type { ReportContext } from './reproduction.ts'

export type { ReportContext }

const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)} %`
const fix = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d))
const rangeText = (r: Range | null, f: (x: number) => string = (x) => x.toFixed(2)) => (r ? `${f(r.median)} [${f(r.min)}–${f(r.max)}]` : '—')
const yes = (ok: boolean, text = ok ? 'yes' : 'no'): Cell => ({ value: text, class: ok ? 'pass' : 'fail' })

function ratioText(v: VerdictRow): string {
  if (v.ratio === null) return v.candidateLoss === 0 ? 'both 0' : '— (baseline 0)'
  if (v.ratio === 0) return '0 (no loss left)'
  return `${v.ratio.toFixed(4)} (${(1 / v.ratio).toFixed(1)}× less)`
}

function verdictTable(rows: readonly VerdictRow[], a: Analysis, perSeed: boolean): string {
  const { baseline, candidate } = a.verdict
  return table(
    [
      'max speed m/s',
      ...(perSeed ? ['seed'] : []),
      `${baseline} loss`,
      `${candidate} loss`,
      `ratio ${candidate} / ${baseline}`,
      'pass (< 2 % or ≤ 1/10)',
      'goal ≤ 1/100',
      `per-member stdev ${baseline} → ${candidate}`,
      'stdev lower',
    ],
    rows.map((v) => [
      v.speed,
      ...(perSeed ? [v.seed ?? null] : []),
      pct(v.baselineLoss, 3),
      pct(v.candidateLoss, 3),
      ratioText(v),
      yes(v.pass),
      yes(v.goal100),
      `${fix(v.baselineStdev, 4)} → ${fix(v.candidateStdev, 4)}`,
      yes(v.stdevLower),
    ]),
    { class: 'verdict' },
  )
}

function cells(a: Analysis, label: string): CellSummary[] {
  return a.speeds.map((s) => a.summary.find((c) => c.protocol === label && c.speed === s)!)
}

function lineOf(a: Analysis, pick: (c: CellSummary) => { y: number | null; lo?: number | null; hi?: number | null }) {
  return a.protocols.map((p) => ({ name: p.label, points: cells(a, p.label).map((c) => ({ x: c.speed, ...pick(c) })) }))
}

function charts(a: Analysis): { delivery: string[]; members: string[]; overhead: string[]; jitter: string[] } {
  const speedsText = a.speeds.map(String)
  const pdr = lineChart({
    title: 'Packet delivery ratio vs max speed (median, min–max over seeds)',
    xTitle: 'max speed (m/s)',
    yTitle: 'PDR',
    yMin: 0,
    yMax: 1,
    series: lineOf(a, (c) => ({ y: c.pdr.median, lo: c.pdr.min, hi: c.pdr.max })),
  })
  const loss = lineChart({
    title: 'Loss rate vs max speed (pooled over seeds, min–max per seed), log scale',
    xTitle: 'max speed (m/s)',
    yTitle: 'lost / expected',
    yScale: 'log',
    series: lineOf(a, (c) => ({ y: c.lossRate.pooled, lo: c.lossRate.min, hi: c.lossRate.max })),
  })
  const hasReceivers = a.runs.some((r) => r.receivers !== null)
  const members = hasReceivers
    ? [
        figure(
          distributionChart({
            title: 'Per-member delivery ratio (every receiver of every seed)',
            xTitle: 'max speed (m/s)',
            yTitle: 'delivered / expected',
            yMax: 1,
            categories: speedsText,
            series: a.protocols.map((p) => ({
              name: p.label,
              values: a.speeds.map((s) =>
                a.runs
                  .filter((r) => r.protocol === p.label && r.speed === s)
                  .flatMap((r) => (r.receivers ?? []).filter((m) => m.expected > 0).map((m) => m.delivered / m.expected)),
              ),
            })),
          }),
          'Box: quartiles with the median as a thick line; dots: one per (receiver, seed).',
        ),
      ]
    : [paragraph('No per-receiver delivery counts in these runs (metrics JSON without delivery.receivers).')]
  members.push(table(
    ['max speed m/s', ...a.protocols.map((p) => `${p.label} per-member stdev median [min–max]`)],
    a.speeds.map((s, i) => [s, ...a.protocols.map((p) => rangeText(cells(a, p.label)[i].perMemberStdev, (x) => x.toFixed(4)))]),
  ))
  const frames = barChart({
    title: 'Frames on air per delivered packet (median, min–max over seeds)',
    xTitle: 'max speed (m/s)',
    yTitle: 'frames / delivered',
    categories: speedsText,
    series: a.protocols.map((p) => {
      const cs = cells(a, p.label)
      return { name: p.label, values: cs.map((c) => c.framesPerDelivered?.median ?? null), lo: cs.map((c) => c.framesPerDelivered?.min ?? null), hi: cs.map((c) => c.framesPerDelivered?.max ?? null) }
    }),
  })
  const hasGossip = a.summary.some((c) => c.gossipPerDelivered !== null)
  const gossip = hasGossip
    ? figure(barChart({
        title: 'Gossip messages per delivered packet (median, min–max over seeds)',
        xTitle: 'max speed (m/s)',
        yTitle: 'gossip messages / delivered',
        categories: speedsText,
        series: a.protocols.map((p) => {
          const cs = cells(a, p.label)
          return { name: p.label, values: cs.map((c) => c.gossipPerDelivered?.median ?? 0), lo: cs.map((c) => c.gossipPerDelivered?.min ?? null), hi: cs.map((c) => c.gossipPerDelivered?.max ?? null) }
        }),
      }), 'A protocol without gossip counters is drawn at 0.')
    : paragraph('No gossip counters in these runs (neither protocol gossiped).')
  const hasJitter = a.summary.some((c) => c.jitterMs !== null)
  const jitter = hasJitter
    ? figure(lineChart({
        title: 'Jitter vs max speed (median, min–max over seeds)',
        xTitle: 'max speed (m/s)',
        yTitle: 'jitter (ms)',
        series: lineOf(a, (c) => ({ y: c.jitterMs?.median ?? null, lo: c.jitterMs?.min ?? null, hi: c.jitterMs?.max ?? null })),
      }), 'Jitter: per (flow, receiver) the standard deviation of inter-arrival times of first deliveries, averaged over streams.')
    : paragraph('No jitter in these runs (metrics JSON without jitterMs).')
  return {
    delivery: [figure(pdr), figure(loss, 'Loss = (packet, receiver) pairs never delivered / pairs expected. A loss of 0 cannot be drawn on a log axis and is left out.')],
    members,
    overhead: [figure(frames, 'Every link-layer frame (control and data, acks included) per delivered packet: the cost of both protocols on the same scale.'), gossip],
    jitter: [jitter],
  }
}

function summaryTable(a: Analysis): string {
  return table(
    ['protocol', 'max speed m/s', 'PDR median [min–max]', 'loss pooled', 'frames / delivered', 'control / delivered', 'gossip msgs / delivered', 'jitter ms', 'latency p50 ms'],
    a.summary.map((c) => [
      c.protocol,
      c.speed,
      rangeText(c.pdr, (x) => pct(x, 1)),
      pct(c.lossRate.pooled, 3),
      rangeText(c.framesPerDelivered),
      rangeText(c.controlPerDelivered),
      rangeText(c.gossipPerDelivered),
      rangeText(c.jitterMs, (x) => x.toFixed(1)),
      fix(c.latencyP50Ms, 1),
    ]),
  )
}

function recoveryTable(a: Analysis): string {
  return table(
    ['protocol', 'max speed m/s', 'recovered (Σ seeds)', 'recovered latency ms mean / p50 / p95 / max', 'lost for good', 'never reached tree', 'partitioned', 'aged out', 'unrecovered'],
    a.summary.map((c) => {
      const l = c.recoveredLatencyMs
      const g = c.lostForGood
      return [
        c.protocol,
        c.speed,
        c.recovered,
        l ? `${fix(l.mean, 1)} / ${fix(l.p50, 1)} / ${fix(l.p95, 1)} / ${fix(l.max, 1)}` : null,
        g?.total, g?.neverReachedTree, g?.partitioned, g?.agedOut, g?.unrecovered,
      ]
    }),
  )
}

export function renderReport(a: Analysis, ctx: ReportContext): string {
  const v = a.verdict
  const runs = a.runs.length
  const n = v.bySpeed.length
  const count = (f: (r: VerdictRow) => boolean) => `${v.bySpeed.filter(f).length} of ${n} speeds`
  const headline = `Verdict: ${v.pass ? 'PASS' : 'FAIL'}. ${v.candidate} passes at ${count((r) => r.pass)} (pass: loss ≤ 1/10 of ${v.baseline}'s and a lower ` +
    `per-member delivery stdev, or ${v.baseline} already loses < 2 %); the 1/100 goal is met at ${count((r) => r.goal100)}; ` +
    `its per-member delivery stdev is lower at ${count((r) => r.stdevLower)}.`
  const c = charts(a)
  return page({
    title: `Anonymous gossip: ${v.candidate} vs ${v.baseline} on ${ctx.scenario}`,
    intro: [
      `${runs} runs: protocols ${a.protocols.map((p) => p.protocol).join(' and ')} × mobility.maxSpeed ${a.speeds.join(', ')} m/s × seeds ${a.seeds.join(', ')} (the same seeds for both)` +
        `${ctx.sets.length ? `, with ${ctx.sets.join(' ')}` : ''}. Wall time ${ctx.wallSeconds.toFixed(1)} s on ${ctx.jobs} worker${ctx.jobs === 1 ? '' : 's'}.`,
      headline,
      `Regenerate: ${ctx.command}`,
    ],
    sections: [
      {
        title: 'Verdict per speed (loss pooled over seeds)',
        id: 'verdict',
        body: [verdictTable(v.bySpeed, a, false), paragraph('Loss = Σ lost / Σ expected (packet, receiver) pairs over the seeds; stdev = median over seeds of the per-member delivery-ratio standard deviation.')],
      },
      { title: 'Verdict per speed and seed', id: 'verdict-seeds', body: [verdictTable(v.bySeed, a, true)] },
      { title: 'Delivery and loss', id: 'delivery', body: c.delivery },
      { title: 'Per-member delivery', id: 'members', body: c.members },
      { title: 'Overhead', id: 'overhead', body: c.overhead },
      { title: 'Jitter', id: 'jitter', body: c.jitter },
      { title: 'Recovery and losses for good', id: 'recovery', body: [recoveryTable(a), paragraph('Lost-for-good reasons (docs/METRICS.md lostForGood), summed over seeds; recovered = first deliveries that came by gossip.')] },
      { title: 'All numbers per protocol and speed', id: 'summary', body: [summaryTable(a), paragraph("Every run's numbers are in anonymous-gossip.json next to this page.")] },
    ],
    footer: `Generated by field-tests/reproduce (npm run reproduce -- anonymous-gossip). ${ctx.command}`,
  })
}
