/**
 * The HTML page of the ODSBR reproduction: the verdict table (black holes), PDR vs fraction of
 * adversaries for AODV and ODSBR with one chart per adversary model, overhead (bytes on air per
 * delivered packet for both, ODSBR's cost by message kind), convictions split true/false with the
 * adversary-free runs' false ones, and time to route around. A pure function of the analysis: the
 * same runs give the same page, except for the wall time.
 */
import { figure, page, paragraph, table, type Cell } from '../report/html.ts'
import { barChart, lineChart } from '../report/svg.ts'
import { findCell, type Analysis, type CellSummary, type Range } from './odsbr-analysis.ts'

import type { ReportContext } from './reproduction.ts'

export type { ReportContext }

const pct = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(d)} %`)
const fix = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d))
const rangeText = (r: Range | null, f: (x: number) => string = (x) => x.toFixed(2)) => (r ? `${f(r.median)} [${f(r.min)}–${f(r.max)}]` : '—')
const yes = (ok: boolean, text = ok ? 'pass' : 'FAIL'): Cell => ({ value: text, class: ok ? 'pass' : 'fail' })
const fracText = (f: number) => `${Math.round(f * 100)} %`
const secs = (ms: number | null) => (ms === null ? '—' : (ms / 1000).toFixed(2))

function verdictSection(a: Analysis): string[] {
  const v = a.verdict
  const [base, cand] = a.protocols
  const z = (p: string) => findCell(a, p, v.model, 0)
  const rows: Cell[][] = [
    ['0 %', pct(z(base)?.pdrPooled), pct(z(cand)?.pdrPooled), '1', '1', { value: 'reference', class: 'na' }],
    ...v.rows.map((r) => [fracText(r.fraction), pct(r.aodvPdr), pct(r.odsbrPdr), fix(r.aodvRatio, 3), fix(r.odsbrRatio, 3), yes(r.pass)]),
  ]
  return [
    table(['black holes', `${base} PDR`, `${cand} PDR`, `${base} / its own 0 % PDR`, `${cand} / its own 0 % PDR`, `${cand} ratio ≥ ${v.bar}`], rows, { class: 'verdict' }),
    paragraph(`PDR pooled over seeds ${a.baselineSeeds.join(', ')} (Σ delivered / Σ expected). The bar: ${cand}'s PDR at each black-hole fraction is at least ${v.bar} of its own PDR without adversaries; ${base}'s ratio is shown for comparison, not judged.`),
  ]
}

function pdrCharts(a: Analysis): string[] {
  return a.models.map((m) => {
    const series = a.protocols.map((p) => ({
      name: p,
      points: m.fractions.map((f) => {
        const c = findCell(a, p, m.model, f)
        return { x: f * 100, y: c?.pdrPooled ?? null, lo: c?.pdr.min ?? null, hi: c?.pdr.max ?? null }
      }),
    }))
    const chart = lineChart({ title: `PDR vs share of ${m.model} adversaries`, xTitle: `${m.model} nodes (% of all nodes)`, yTitle: 'PDR', yMin: 0, yMax: 1, series })
    return figure(chart, `Pooled over seeds ${m.seeds.join(', ')} (0 %: the adversary-free runs, seeds ${a.baselineSeeds.join(', ')}); bars: min–max per seed.`)
  })
}

function pdrTable(a: Analysis): string {
  const rows: Cell[][] = []
  for (const m of a.models) {
    for (const f of m.fractions.filter((x) => x > 0)) {
      const cs = a.protocols.map((p) => findCell(a, p, m.model, f))
      rows.push([m.model, fracText(f), rangeText(cs[0]?.adversaries ?? null, (x) => String(x)), cs[0]?.seeds.length ?? null, ...cs.map((c) => (c ? `${pct(c.pdrPooled)} [${pct(c.pdr.min, 1)}–${pct(c.pdr.max, 1)}]` : '—'))])
    }
  }
  return table(['model', 'fraction', 'adversaries', 'seeds', ...a.protocols.map((p) => `${p} PDR pooled [min–max]`)], rows)
}

function overheadSection(a: Analysis): string[] {
  const [, cand] = a.protocols
  const bh = a.models.find((m) => m.model === a.verdict.model)
  const out: string[] = []
  if (bh) {
    out.push(figure(barChart({
      title: 'Bytes on air per delivered packet (median, min–max over seeds)',
      xTitle: 'black holes (% of nodes)',
      yTitle: 'bytes / delivered',
      categories: bh.fractions.map(fracText),
      series: a.protocols.map((p) => {
        const cs = bh.fractions.map((f) => findCell(a, p, bh.model, f))
        return { name: p, values: cs.map((c) => c?.bytesPerDelivered?.median ?? null), lo: cs.map((c) => c?.bytesPerDelivered?.min ?? null), hi: cs.map((c) => c?.bytesPerDelivered?.max ?? null) }
      }),
    }), 'Every link-layer frame, control and data, link acks and authentication trailers included, per delivered packet.'))
  }
  const rows: Cell[][] = []
  for (const m of a.models) {
    for (const f of m.fractions) {
      if (f === 0 && m !== a.models[0]) continue
      const [b, c] = a.protocols.map((p) => findCell(a, p, m.model, f))
      const o = c?.odsbr?.overheadPerDelivered
      rows.push([f === 0 ? 'none' : m.model, fracText(f), rangeText(b?.framesPerDelivered ?? null), rangeText(c?.framesPerDelivered ?? null),
        rangeText(b?.bytesPerDelivered ?? null, (x) => x.toFixed(0)), rangeText(c?.bytesPerDelivered ?? null, (x) => x.toFixed(0)),
        fix(o?.requestBytes, 0), fix(o?.responseBytes, 0), fix(o?.ackBytes, 0), fix(o?.routeErrorBytes, 0), fix(o?.dataHeaderBytes, 0), fix(o?.signatures, 2), fix(o?.signatureBytes, 0)])
    }
  }
  out.push(table(
    ['model', 'fraction', `${a.protocols[0]} frames / delivered`, `${cand} frames / delivered`, `${a.protocols[0]} bytes / delivered`, `${cand} bytes / delivered`,
      `${cand} REQUEST B/deliv.`, 'RESPONSE B/deliv.', 'ACK B/deliv.', 'ROUTE-ERROR B/deliv.', 'DATA header+probes B/deliv.', 'signatures / deliv.', 'signature B/deliv.'],
    rows,
  ))
  out.push(paragraph(`${cand}'s cost by message kind, pooled (Σ over seeds / Σ delivered): frame bytes on air of REQUESTs, RESPONSEs, ACKs and ROUTE-ERRORs (link header and trailer included); DATA header = each DATA frame's bytes less its app payload (ODSBR header, path, probe onion, link header, trailer); signatures = Ed25519 signatures carried on air (64 bytes each; REQUEST 1, RESPONSE 1 + one per hop), a part of the REQUEST and RESPONSE bytes.`))
  return out
}

function convictionRows(a: Analysis): Cell[][] {
  const [, cand] = a.protocols
  const rows: Cell[][] = []
  const seen = new Set<CellSummary>()
  for (const m of a.models) {
    for (const f of m.fractions) {
      const c = findCell(a, cand, m.model, f)
      if (!c || seen.has(c) || !c.odsbr) continue
      seen.add(c)
      const o = c.odsbr
      rows.push([f === 0 ? 'none' : m.model, fracText(f), c.seeds.length, o.convictions?.total ?? null, o.convictions?.true ?? null, o.convictions?.false ?? null,
        o.convictions ? `${o.convictions.detection.true} / ${o.convictions.detection.false}` : null, o.convictions ? `${o.convictions.linkBreak.true} / ${o.convictions.linkBreak.false}` : null,
        o.convictionsCounter, `${o.weightListsAtEnd.true} / ${o.weightListsAtEnd.false}`])
    }
  }
  return rows
}

function convictionSection(a: Analysis): string[] {
  const free = a.verdict.adversaryFree
  const [, cand] = a.protocols
  const intro = free
    ? `Adversary-free runs (${free.runs} seeds): ${free.convictions ? `${free.convictions.false} false convictions (Σ; ${free.convictions.detection.false} by fault detection, ${free.convictions.linkBreak.false} on link-break reports)` : `${free.convictionsCounter} convictions (counter)`}, ` +
      `${free.weightListsAtEnd.false} links still above base weight in the sources' weight lists at the end.`
    : 'No adversary-free ODSBR runs.'
  return [
    paragraph(intro),
    table(['model', 'fraction', 'seeds', 'convictions (Σ seeds)', 'true', 'false', 'fault detection true / false', 'link break true / false', "'convictions' counter", 'weight lists at end true / false'], convictionRows(a)),
    paragraph(`A conviction is true when one end of the convicted link is an adversary, false otherwise; counted by ${cand}'s sources as they happen (every conviction, its link and its cause). ` +
      'Link breaks are links whose own end reported failed frames (ROUTE-ERRORs, or the source\'s link layer): with movement, almost all links that broke while in use — weighed and routed around by design, their weight drained again by good packets. ' +
      'False convictions by fault detection are honest links that lost τ or a burst of packets (congestion, or a break the link layer did not report). ' +
      'Weight lists at end: (source, link) pairs still above base weight when the run ends (rehabilitated links have left them).'),
  ]
}

function routeAroundSection(a: Analysis): string[] {
  const [, cand] = a.protocols
  const rows: Cell[][] = []
  for (const m of a.models) {
    for (const f of m.fractions.filter((x) => x > 0)) {
      const r = findCell(a, cand, m.model, f)?.odsbr?.routeAround
      if (!r) continue
      rows.push([m.model, fracText(f), r.attacked, r.routedAround, r.notRoutedAround, secs(r.medianMs), secs(r.p90Ms)])
    }
  }
  const bh = a.models.find((m) => m.model === a.verdict.model)
  const chart = bh
    ? [figure(lineChart({
        title: `${cand}: time to route around black holes (first episode per attacked flow, all seeds)`,
        xTitle: 'black holes (% of nodes)',
        yTitle: 'seconds',
        yMin: 0,
        series: [
          { name: 'median', points: bh.fractions.filter((f) => f > 0).map((f) => ({ x: f * 100, y: nullMs(findCell(a, cand, bh.model, f)?.odsbr?.routeAround?.medianMs) })) },
          { name: 'p90', points: bh.fractions.filter((f) => f > 0).map((f) => ({ x: f * 100, y: nullMs(findCell(a, cand, bh.model, f)?.odsbr?.routeAround?.p90Ms) })) },
        ],
      }))]
    : []
  return [
    ...chart,
    table(['model', 'fraction', 'attacked flows (Σ seeds)', 'routed around', 'not by the end', 'median s', 'p90 s'], rows),
    paragraph('Per flow, from the send time of its first packet that went out on a route through an adversary and was never delivered, to the send time of the first later packet that went out on a route avoiding every adversary (the route is the source\'s route(dst) when the packet is handed to ODSBR; resolution: the flow\'s packet interval). ' +
      'Quantiles over the flows that were routed around (every seed pooled); flows still exposed when the run ended are counted apart and make the quantiles optimistic.'),
  ]
}

const nullMs = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : ms / 1000)

function runsTable(a: Analysis): string {
  return table(
    ['protocol', 'model', 'fraction', 'seed', 'adversaries', 'PDR', 'frames / delivered', 'convictions true / false', 'route around median s', 'wall s'],
    a.runs.map((r) => {
      const ra = r.odsbr?.routeAroundMs ? r.odsbr.routeAroundMs.filter((x): x is number => x !== null).sort((x, y) => x - y) : null
      const med = ra && ra.length ? ra[Math.floor((ra.length - 1) / 2)] : null
      return [r.protocol, r.model, fracText(r.fraction), r.seed, r.adversaries, pct(r.pdr), fix(r.framesPerDelivered),
        r.odsbr?.convictions ? `${r.odsbr.convictions.true} / ${r.odsbr.convictions.false}` : null, secs(med), fix(r.wallSeconds, 1)]
    }),
  )
}

export function renderReport(a: Analysis, ctx: ReportContext): string {
  const v = a.verdict
  const [base, cand] = a.protocols
  const headline = `Verdict: ${v.pass ? 'PASS' : 'FAIL'}. ${cand} keeps at least ${v.bar} of its own adversary-free PDR at ${v.rows.filter((r) => r.pass).length} of ${v.rows.length} black-hole fractions ` +
    `(ratios ${v.rows.map((r) => `${fracText(r.fraction)}: ${fix(r.odsbrRatio, 2)}`).join(', ')}); ${base} keeps ${v.rows.map((r) => fix(r.aodvRatio, 2)).join(', ')} of its own.`
  return page({
    title: `ODSBR vs ${base} under Byzantine relays on ${ctx.scenario}`,
    intro: [
      `${a.runs.length} runs: ${a.protocols.join(' and ')}; ${a.models.map((m) => `${m.model} at ${m.fractions.map(fracText).join(', ')} × seeds ${m.seeds.join(', ')}`).join('; ')}; ` +
        `adversary-free runs (every model's 0 %) with seeds ${a.baselineSeeds.join(', ')}. The same seeds place the same nodes and flows for both protocols; adversaries are chosen among relays (traffic endpoints are trusted). ` +
        `With ${ctx.sets.join(' ')}. Wall time ${ctx.wallSeconds.toFixed(1)} s on ${ctx.jobs} worker${ctx.jobs === 1 ? '' : 's'}.`,
      headline,
      `Regenerate: ${ctx.command}`,
    ],
    sections: [
      { title: 'Verdict: black holes', id: 'verdict', body: verdictSection(a) },
      { title: 'PDR vs fraction of adversaries, per model', id: 'pdr', body: [...pdrCharts(a), pdrTable(a)] },
      { title: 'Overhead', id: 'overhead', body: overheadSection(a) },
      { title: 'Convictions: true and false', id: 'convictions', body: convictionSection(a) },
      { title: 'Time to route around', id: 'route-around', body: routeAroundSection(a) },
      { title: 'Every run', id: 'runs', body: [runsTable(a), paragraph('Every run\'s numbers are in odsbr.json next to this page.')] },
    ],
    footer: `Generated by field-tests/reproduce (npm run reproduce -- odsbr). ${ctx.command}`,
  })
}
