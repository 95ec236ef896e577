import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyse, linearFit, loadCheck, multiFeedCheck, multiFeedNodes, shareCheck, type MemberRow } from './gravitational-analysis.ts'
import { scatterChart } from './gravitational-charts.ts'
import { renderReport } from './gravitational-report.ts'
import { command, gravitational, plan, type GravitationalOptions } from './gravitational.ts'

// 30 gateways, 3 feeds of 10 subscribers for 4 s: a fraction of a second per run.
const TINY = `name: tiny-feeds
seed: 1
duration: 4
nodes: { count: 30, placement: uniform }
field: { width: 10000, height: 10000 }
protocol: gravitational
protocolConfig:
  transport: ip
  ip: { loss: 0.01, minLatencyMs: 5, maxLatencyMs: 30 }
traffic:
  - pattern: multicast
    groups: 3
    senders: 1
    receivers: 10
    fullRated: 2
    ratings: { min: 0.1, max: 1.0 }
    start: [0.5, 1]
    stop: 3
    rate: 30
    size: 26
`

function row(node: number, feed: number, rating: number, o: Partial<MemberRow> = {}): MemberRow {
  return { seed: 1, node, feed, rating, share: rating, feedLoadBytesPerS: 100 + 1000 * rating, loadBytesPerS: 0, feeds: 1, publishes: 0, ...o }
}

test('linearFit: exact line, noisy points, R², argument checks', () => {
  const exact = linearFit([0, 0.5, 1], [100, 600, 1100])
  assert.equal([exact.a, exact.b, exact.r2, exact.points], [100, 1000, 1, 3])
  // y = 1 + 2x with residuals ±1 at x = 0..3: b = 1.8, a = 1.3, SSres = 3.2, SStot = 19.4.
  const noisy = linearFit([0, 1, 2, 3], [2, 2, 6, 6])
  assert.ok(Math.abs(noisy.b - 1.6) < 1e-12 && Math.abs(noisy.a - 1.6) < 1e-12, JSON.stringify(noisy))
  assert.ok(Math.abs(noisy.r2 - (1 - 3.2 / 16)) < 1e-12, `R² ${noisy.r2}`)
  assert.is(linearFit([0, 1], [5, 5]).r2, 1, 'a constant y fitted exactly')
  assert.throws(() => linearFit([1, 1, 1], [1, 2, 3]), /every x is the same/)
  assert.throws(() => linearFit([1], [1]), /at least 2/)
  assert.throws(() => linearFit([1, 2], [1]), /2 x and 1 y/)
})

test('shareCheck: every row within ±0.05 passes; one row outside fails and is named', () => {
  const ok = [row(1, 0, 0.2, { share: 0.24 }), row(2, 0, 0.9, { share: 0.86 }), row(3, 1, 1, { share: 1 })]
  const a = shareCheck(ok)
  assert.equal([a.rows, a.within, a.maxAbsDev, a.pass], [3, 3, 0.04, true])
  const b = shareCheck([...ok, row(4, 2, 0.5, { share: 0.43, seed: 2 })])
  assert.equal([b.within, b.maxAbsDev, b.pass], [3, 0.07, false])
  assert.equal(b.worst, { seed: 2, node: 4, feed: 2, rating: 0.5, share: 0.43 })
  assert.ok(shareCheck([row(1, 0, 0.5, { share: 0.55 })]).pass, 'exactly 0.05 is within')
  assert.not.ok(shareCheck([]).pass, 'no rows: nothing shown')
})

test('loadCheck: R² ≥ 0.95 passes; scattered loads fail', () => {
  const rows = [0.1, 0.3, 0.5, 0.7, 0.9].map((r, i) => row(i + 1, 0, r))
  const good = loadCheck(rows)
  assert.equal([good.fit.a, good.fit.b, good.fit.r2, good.pass], [100, 1000, 1, true])
  const bad = loadCheck(rows.map((x, i) => ({ ...x, feedLoadBytesPerS: [900, 100, 800, 200, 1000][i] })))
  assert.ok(bad.fit.r2 < 0.95 && !bad.pass, `R² ${bad.fit.r2}`)
})

test('multi-feed members: Σ (a + b·rating) predicted, k·(a + b) full; publishers and single-feed members left out', () => {
  const fit = { a: 100, b: 1000 }
  const rows = [
    // node 1: two feeds, measured exactly the prediction 100 + 200 + 100 + 600 = 1000
    row(1, 0, 0.2, { feeds: 2, loadBytesPerS: 1000 }), row(1, 1, 0.6, { feeds: 2, loadBytesPerS: 1000 }),
    // node 2: three feeds, 20 % above the prediction 3·100 + 1000·(0.1 + 0.1 + 0.3) = 800
    row(2, 0, 0.1, { feeds: 3, loadBytesPerS: 960 }), row(2, 1, 0.1, { feeds: 3, loadBytesPerS: 960 }), row(2, 2, 0.3, { feeds: 3, loadBytesPerS: 960 }),
    // node 3 publishes; node 4 is in one feed; node 1 in another seed counts apart
    row(3, 0, 0.5, { feeds: 2, publishes: 1, loadBytesPerS: 5000 }), row(3, 2, 0.5, { feeds: 2, publishes: 1, loadBytesPerS: 5000 }),
    row(4, 1, 0.9, { loadBytesPerS: 700 }),
    row(1, 0, 1, { seed: 2, feeds: 2, loadBytesPerS: 1100 }), row(1, 1, 1, { seed: 2, feeds: 2, loadBytesPerS: 1100 }),
  ]
  const nodes = multiFeedNodes(rows, fit)
  assert.equal(nodes.map((x) => [x.seed, x.node, x.k, x.predicted, x.full, x.relError, x.fullRatio]), [
    [1, 1, 2, 1000, 2200, 0, 0.454545],
    [1, 2, 3, 800, 3300, 0.2, 0.290909],
    [2, 1, 2, 2200, 2200, 0.5, 0.5],
  ])
  const c = multiFeedCheck(nodes)
  assert.equal([c.nodes, c.medianRelError, c.medianFullRatio, c.pass], [3, 0.2, 0.454545, true])
  assert.not.ok(multiFeedCheck(nodes.map((x) => ({ ...x, relError: 0.3 }))).pass, 'prediction error above 25 %')
  assert.not.ok(multiFeedCheck(nodes.map((x) => ({ ...x, fullRatio: 0.9 }))).pass, 'not well below k·full')
  assert.not.ok(multiFeedCheck([]).pass)
})

test('the report renders the verdict and its two sections (no pbcast ones), with SVG charts and nothing external', () => {
  const rows: MemberRow[] = []
  for (let node = 1; node <= 12; node++) for (const feed of [0, 1]) {
    const rating = 0.1 + ((node * 7 + feed * 3) % 10) / 11
    rows.push(row(node, feed, rating, { share: rating + 0.01, feeds: 2, loadBytesPerS: 200 + 1000 * rating * 2 }))
  }
  const a = analyse({ seeds: [1], rows })
  assert.equal(a.verdict.checks.map((c) => c.id), ['share', 'load'])
  assert.equal(Object.keys(a), ['seeds', 'rows', 'share', 'load', 'multiFeed', 'verdict'])
  const html = renderReport(a, {
    scenario: 'tiny.yaml', command: 'npm run reproduce -- gravitational', sets: ['duration=30'], wallSeconds: 1, jobs: 1, settings: { duration: 30 },
  })
  for (const id of ['verdict', 'share', 'load']) assert.match(html, `<section id="${id}">`)
  for (const id of ['scaling', 'bimodal']) assert.not.match(html, `<section id="${id}">`)
  assert.is((html.match(/<svg /g) ?? []).length, 3, 'share, load, multi-feed')
  assert.match(html, a.verdict.pass ? 'Verdict: PASS' : 'Verdict: FAIL')
  assert.match(html, 'pbcast.html')
  assert.not.match(html, /NaN|Infinity|undefined/)
  assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org)/)
})

test('scatterChart: deterministic, escaped, non-finite points counted not drawn', () => {
  const o = { title: 'a < b', series: [{ name: 's', points: [{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: NaN, y: 1 }] }], lines: [{ name: 'y = x', a: 0, b: 1, band: 0.1 }] }
  const svg = scatterChart(o)
  assert.is(svg, scatterChart(o))
  assert.match(svg, 'a &lt; b')
  assert.match(svg, '1 point not finite')
  assert.is((svg.match(/<circle cx/g) ?? []).length, 2 + 1, 'two points and a legend dot')
  assert.not.match(svg, /NaN|Infinity/)
})

test('the plan: 3 seeds by default, duration overrides, gravitational only', () => {
  const o: GravitationalOptions = { seeds: 5, seedsDefaulted: true, jobs: 1, out: '.', log: () => {} }
  const jobs = plan(o, 'tiny', TINY)
  assert.equal(jobs.map((j) => j.seed), [1, 2, 3])
  assert.equal(jobs[0].sets, ['security.mode=open', 'duration=30', 'traffic.0.stop=29'])
  assert.is(plan({ ...o, seedsDefaulted: false, seeds: 2, duration: 10 }, 'tiny', TINY).length, 2)
  assert.throws(() => plan({ ...o, duration: 2 }, 'tiny', TINY), /--duration/)
  assert.throws(() => plan(o, 'tiny', TINY.replace('protocol: gravitational', 'protocol: aodv')), /protocol gravitational/)
  assert.is(command(o), 'npm run reproduce -- gravitational')
  assert.is(command({ ...o, seedsDefaulted: false, seeds: 2, duration: 10, sizes: [5] } as GravitationalOptions), 'npm run reproduce -- gravitational --seeds 2 --duration 10', 'pbcast options are not its own')
})

test('a tiny configuration runs end to end and writes the report (temp dir)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gravitational-repro-'))
  try {
    const logs: string[] = []
    const o: GravitationalOptions = { seeds: 2, jobs: 1, out, log: (l) => logs.push(l), scenario: 'tiny', text: TINY, duration: 4 }
    const res = await gravitational.run(o)
    assert.equal(res.files.map((f) => f.slice(out.length + 1)), ['gravitational.json', 'gravitational.html'])
    assert.match(res.verdict, /^(PASS|FAIL): share (pass|FAIL), load (pass|FAIL) \(max \|share − rating\| [\d.]+; load R² [\d.-]+, multi-feed median error [\d.]+ %, measured \/ k·full [\d.]+\)$/)
    const json = JSON.parse(readFileSync(join(out, 'gravitational.json'), 'utf8'))
    assert.equal(json.meta, { name: 'gravitational', verdict: res.verdict, pass: res.pass, command: 'npm run reproduce -- gravitational --seeds 2 --duration 4', wallSeconds: json.meta.wallSeconds })
    assert.equal(json.seeds, [1, 2])
    assert.ok(json.rows.length > 20 && json.rows.every((r: MemberRow) => r.seed === 1 || r.seed === 2))
    for (const gone of ['scaling', 'crash', 'crashContrast', 'walls']) assert.is(json[gone], undefined, gone)
    assert.equal(json.settings, { duration: 4 })
    assert.is(json.verdict.checks.length, 2)
    const html = readFileSync(join(out, 'gravitational.html'), 'utf8')
    for (const id of ['verdict', 'share', 'load']) assert.match(html, `<section id="${id}">`)
    assert.not.match(html, /<section id="(scaling|bimodal)">/)
    assert.is(logs.filter((l) => l.startsWith('[')).length, 2)
    assert.not.ok(logs.some((l) => /pbcast|crash trials/.test(l)), 'no pbcast part')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
