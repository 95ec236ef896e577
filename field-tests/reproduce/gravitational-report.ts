/**
 * The HTML page of the gravitational reproduction: the verdict (two checks), then one section per
 * check with its claim, chart(s) and numbers: share vs rating (every (member, feed) row, y = x and
 * its ±0.05 band), and load vs rating (the least-squares line and R²; multi-feed members' measured
 * load against the sum of their per-feed predictions, with k·full-rate load for contrast). A pure
 * function of the analysis and the context, except the wall time. (The pbcast checks have their
 * own page, pbcast-report.ts.)
 */
import { figure, page, paragraph, table, type Cell } from '../report/html.ts'
import { median } from '../sweep.ts'
import { FULL_RATIO_BAR, PREDICTION_BAR, R2_BAR, SHARE_TOLERANCE, type Analysis } from './gravitational-analysis.ts'
import { scatterChart } from './gravitational-charts.ts'
import type { ReportContext } from './reproduction.ts'

export interface GravitationalReportContext extends ReportContext {
  settings: { duration: number }
}

const pct = (x: number, d = 1) => (Number.isFinite(x) ? `${(x * 100).toFixed(d)} %` : '—')
const fix = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d))
const verdictCell = (ok: boolean): Cell => ({ value: ok ? 'PASS' : 'FAIL', class: ok ? 'pass' : 'fail' })

function verdictSection(a: Analysis): string[] {
  const titles = { share: '1. Share vs rating', load: '2. Load vs rating' }
  return [
    table(['check', 'claim', 'measured', 'verdict'], a.verdict.checks.map((c) => [titles[c.id], c.claim, c.measured, verdictCell(c.pass)]), { class: 'verdict' }),
  ]
}

function shareSection(a: Analysis, ctx: GravitationalReportContext): string[] {
  const s = a.share
  const perSeed = a.seeds.map((seed) => {
    const rows = a.rows.filter((r) => r.seed === seed)
    const dev = rows.map((r) => Math.abs(r.share - r.rating))
    return [seed, rows.length, rows.filter((r) => Math.abs(r.share - r.rating) <= SHARE_TOLERANCE + 1e-9).length, fix(Math.max(0, ...dev), 4), fix(median(dev), 4)] as Cell[]
  })
  return [
    paragraph(`Claim (PROTOCOLS.md §6): every member receives the share of a feed equal to its rating, within ±${SHARE_TOLERANCE}. ` +
      `Measured on ${ctx.scenario} (300 gateways, 20 PMU-like feeds of 30 samples/s, 40 subscribers each, 1 % datagram loss) for ${ctx.settings.duration} s per run ` +
      `(traffic stops 1 s before the end), seeds ${a.seeds.join(', ')}; share = first deliveries / samples published on the feed. Verdict: ${s.pass ? 'PASS' : 'FAIL'}.`),
    figure(scatterChart({
      title: 'Delivered share vs rating, every (member, feed), all seeds',
      xTitle: 'rating', yTitle: 'share of the feed delivered', xMin: 0, xMax: 1, yMin: 0, yMax: 1.05,
      series: [{ name: `(member, feed) rows (${s.rows})`, points: a.rows.map((r) => ({ x: r.rating, y: r.share })) }],
      lines: [{ name: `y = x ± ${SHARE_TOLERANCE}`, a: 0, b: 1, band: SHARE_TOLERANCE }],
    }), `Every point should sit in the shaded band. ${s.within} of ${s.rows} do; the largest deviation is ${fix(s.maxAbsDev, 4)}` +
      (s.worst ? ` (seed ${s.worst.seed}, node ${s.worst.node}, feed ${s.worst.feed}: rating ${fix(s.worst.rating, 3)}, share ${fix(s.worst.share, 3)})` : '') + '.'),
    table(['seed', 'rows', `within ±${SHARE_TOLERANCE}`, 'max |share − rating|', 'median |share − rating|'], perSeed),
    paragraph(`Mean |share − rating| over all rows: ${fix(s.meanAbsDev, 4)}.`),
  ]
}

function loadSection(a: Analysis): string[] {
  const f = a.load.fit
  const mf = a.multiFeed.check
  const nodes = a.multiFeed.nodes
  const ks = [...new Set(nodes.map((x) => x.k))].sort((x, y) => x - y)
  const byK: Cell[][] = ks.map((k) => {
    const g = nodes.filter((x) => x.k === k)
    return [k, g.length, fix(median(g.map((x) => x.measured)), 0), fix(median(g.map((x) => x.predicted)), 0), fix(median(g.map((x) => x.full)), 0), pct(median(g.map((x) => x.relError))), fix(median(g.map((x) => x.fullRatio)), 3)]
  })
  return [
    paragraph(`Claim: a member's load for a feed is proportional to its rating (R² ≥ ${R2_BAR} for the least-squares line), so a member in several feeds pays the sum of its ratings' loads, ` +
      `not k full subscriptions (median |measured − predicted| / predicted ≤ ${pct(PREDICTION_BAR, 0)}, median measured / k·full ≤ ${FULL_RATIO_BAR}). ` +
      `Load = pbcast bytes sent + received per simulated second; a feed's share counts its DATA and its entries in digests and solicitations (gravitational.members feedLoadBytesPerS). ` +
      `Verdict: ${a.load.pass && mf.pass ? 'PASS' : 'FAIL'}.`),
    figure(scatterChart({
      title: 'Feed load vs rating, every (member, feed), all seeds',
      xTitle: 'rating', yTitle: 'feed load, bytes/s (sent + received)', xMin: 0, xMax: 1, yMin: 0,
      series: [{ name: `(member, feed) rows (${f.points})`, points: a.rows.map((r) => ({ x: r.rating, y: r.feedLoadBytesPerS })) }],
      lines: [{ name: `fit ${fix(f.a, 0)} + ${fix(f.b, 0)}·r, R² ${fix(f.r2, 4)}`, a: f.a, b: f.b }],
    }), `Least squares over ${f.points} rows: load ≈ ${fix(f.a, 1)} + ${fix(f.b, 1)} × rating bytes/s, R² = ${fix(f.r2, 4)} (bar ${R2_BAR}): ${a.load.pass ? 'PASS' : 'FAIL'}.`),
    figure(scatterChart({
      title: `Members in k ≥ 2 feeds (publishers excluded): measured vs predicted load`,
      xTitle: 'predicted Σ (a + b·rating), bytes/s', yTitle: 'bytes/s', xMin: 0, yMin: 0,
      series: [
        { name: `measured (${nodes.length} members)`, points: nodes.map((x) => ({ x: x.predicted, y: x.measured })) },
        { name: 'k·full rate, k·(a + b)', points: nodes.map((x) => ({ x: x.predicted, y: x.full })) },
      ],
      lines: [{ name: 'y = x (prediction)', a: 0, b: 1, dashed: true }],
    }), `Measured total load (loadBytesPerS, all the member's feeds) against the sum of the per-feed predictions of the single fit; the second series is what the same members would pay if rated 1 in every feed. ` +
      `Median error ${pct(mf.medianRelError)} (90th percentile ${pct(mf.p90RelError)}), median measured / k·full ${fix(mf.medianFullRatio, 3)}: ${mf.pass ? 'PASS' : 'FAIL'}.`),
    table(['feeds k', 'members (Σ seeds)', 'median measured B/s', 'median predicted B/s', 'median k·full B/s', 'median |error|', 'median measured / k·full'], byK),
  ]
}

export function renderReport(a: Analysis, ctx: GravitationalReportContext): string {
  const v = a.verdict
  const headline = `Verdict: ${v.pass ? 'PASS' : 'FAIL'}. ${v.checks.map((c) => `${c.id}: ${c.pass ? 'PASS' : 'FAIL'} (${c.measured})`).join('; ')}.`
  return page({
    title: 'Gravitational gossip on grid-feeds: share and load vs rating',
    intro: [
      `Two checks of PROTOCOLS.md §6 on ${ctx.scenario} (protocol gravitational), seeds ${a.seeds.join(', ')}, each run shortened to ${ctx.settings.duration} s with ${ctx.sets.join(' ')} ` +
        `(the scenario's own is 60 s; --duration changes it; a 60-s run takes about a minute on one core). ` +
        'The bimodal multicast (pbcast) checks, load per member as the group grows and bimodal delivery, are the pbcast reproduction\'s (pbcast.html).',
      `Wall time ${ctx.wallSeconds.toFixed(1)} s for the grid-feeds runs on ${ctx.jobs} worker${ctx.jobs === 1 ? '' : 's'}.`,
      headline,
      `Regenerate: ${ctx.command}`,
    ],
    sections: [
      { title: 'Verdict', id: 'verdict', body: verdictSection(a) },
      { title: '1. Share vs rating', id: 'share', body: shareSection(a, ctx) },
      { title: '2. Load vs rating', id: 'load', body: loadSection(a) },
    ],
    footer: `Generated by field-tests/reproduce (npm run reproduce -- gravitational). Every number is in gravitational.json next to this page. ${ctx.command}`,
  })
}
