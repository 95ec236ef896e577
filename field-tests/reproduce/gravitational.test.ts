import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SeededRng } from '../../core/rng.ts'
import { deliveryDistribution } from '../../gossip/pbcast/analysis.ts'
import {
  analyse, crashCheck, linearFit, loadCheck, multiFeedCheck, multiFeedNodes, samplingNoiseTv, scalingCheck, shareCheck, type MemberRow,
} from './gravitational-analysis.ts'
import { scatterChart } from './gravitational-charts.ts'
import { crashTrial, modelParams, scalingRun, type CrashParams, type ScalingRun } from './gravitational-pbcast.ts'
import { renderReport } from './gravitational-report.ts'
import { gravitational, plan, type GravitationalOptions } from './gravitational.ts'

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

function scaling(n: number, mean: number): ScalingRun {
  return { n, rounds: 200, perRound: { mean, min: mean - 1, max: mean + 1 }, bytesPerRound: { mean: 300, min: 250, max: 350 }, publisherPerRound: mean + 6, completeMembers: n - 1, deliveryRatio: 1, wallSeconds: 0.1 }
}

const SMALL_CRASH: CrashParams = { n: 10, loss: 0.3, firstFanout: 1, fanout: 3, gcRounds: 8 }

/** Receiver counts drawn from the model itself (deterministic). */
function fromModel(p: CrashParams, trials: number, seed: string): number[] {
  const d = deliveryDistribution(modelParams(p))
  const rng = new SeededRng(seed)
  return Array.from({ length: trials }, () => {
    let u = rng.float(), k = 0
    while (k < d.length - 1 && u >= d[k]) u -= d[k++]
    return k
  })
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

test('scalingCheck: spread = largest mean / smallest − 1, bar 15 %', () => {
  const a = scalingCheck([scaling(50, 10), scaling(500, 11), scaling(2000, 11.4)])
  assert.equal([a.spread, a.pass], [0.14, true])
  const b = scalingCheck([scaling(50, 10), scaling(2000, 12)])
  assert.equal([b.spread, b.pass], [0.2, false])
  assert.not.ok(scalingCheck([scaling(50, 10)]).pass, 'one size shows nothing')
})

test('crashCheck: a sample of the model passes; a unimodal histogram fails; the noise floor is the sample TV', () => {
  const p: CrashParams = { n: 50, loss: 0.3, firstFanout: 1, fanout: 3, gcRounds: 15 }
  const good = crashCheck(p, fromModel(p, 2000, 'model-sample'))
  assert.ok(good.pass && good.tv < 0.1 && good.bimodal.pass, JSON.stringify([good.tv, good.bimodal]))
  assert.equal([good.model.rounds, good.model.pushAfterRounds, good.model.solicitOnce, good.model.originCrashes], [14, Infinity, true, true])
  assert.is(good.counts.reduce((s, x) => s + x, 0), 2000)
  assert.ok(good.tvNoise > 0.005 && good.tvNoise < 0.05, `noise ${good.tvNoise}`)
  assert.ok(Math.abs(good.tv - good.tvNoise) < 0.04)
  const middle = crashCheck(p, Array.from({ length: 500 }, (_, i) => 20 + (i % 10)))
  assert.equal([middle.bimodal.pass, middle.pass], [false, false])
  assert.not.ok(crashCheck(p, fromModel(p, 200, 'x'), false).pass, 'a contrast is never judged')
  assert.equal(samplingNoiseTv([0, 1], 10), { median: 0, p95: 0 }, 'a point mass has no noise')
})

test('the report renders the verdict and all four sections, with SVG charts and nothing external', () => {
  const rows: MemberRow[] = []
  for (let node = 1; node <= 12; node++) for (const feed of [0, 1]) {
    const rating = 0.1 + ((node * 7 + feed * 3) % 10) / 11
    rows.push(row(node, feed, rating, { share: rating + 0.01, feeds: 2, loadBytesPerS: 200 + 1000 * rating * 2 }))
  }
  const a = analyse({
    seeds: [1], rows, scaling: [scaling(50, 9.5), scaling(100, 9.7)],
    crash: { params: SMALL_CRASH, receivers: fromModel(SMALL_CRASH, 100, 'r') },
    crashContrast: [{ params: { ...SMALL_CRASH, fanout: 2 }, receivers: fromModel({ ...SMALL_CRASH, fanout: 2 }, 100, 'c') }],
  })
  assert.equal(a.verdict.checks.map((c) => c.id), ['share', 'load', 'scaling', 'bimodal'])
  const html = renderReport(a, {
    scenario: 'tiny.yaml', command: 'npm run reproduce -- gravitational', sets: ['duration=30'], wallSeconds: 1, jobs: 1,
    walls: { grid: 0.5, scaling: 0.3, crash: 0.2 }, settings: { duration: 30, scaling: { rate: 10, seconds: 20, loss: 0.01, firstFanout: 3, size: 64 }, trials: 100 },
  })
  for (const id of ['verdict', 'share', 'load', 'scaling', 'bimodal']) assert.match(html, `<section id="${id}">`)
  assert.is((html.match(/<svg /g) ?? []).length, 6, 'share, load, multi-feed, scaling, histogram, contrast')
  assert.match(html, a.verdict.pass ? 'Verdict: PASS' : 'Verdict: FAIL')
  assert.match(html, 'contrast (not judged)')
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

test('pbcast experiments: load per round over the window; crash trials deterministic and bounded', () => {
  const r = scalingRun({ n: 12, rate: 10, seconds: 2, loss: 0.01, firstFanout: 3, size: 32, seed: 't' })
  assert.is(r.rounds, 20)
  assert.is(r.deliveryRatio, 1)
  assert.ok(r.perRound.min <= r.perRound.mean && r.perRound.mean <= r.perRound.max && r.publisherPerRound > r.perRound.mean, JSON.stringify(r))
  const a = crashTrial(SMALL_CRASH, 's/1'), b = crashTrial(SMALL_CRASH, 's/1')
  assert.is(a, b)
  assert.ok(a >= 0 && a <= SMALL_CRASH.n - 1)
  assert.is(crashTrial({ ...SMALL_CRASH, loss: 0 }, 's/2'), SMALL_CRASH.n - 1, 'no loss: everyone')
  assert.is(modelParams(SMALL_CRASH).rounds, SMALL_CRASH.gcRounds - 1)
})

test('the plan: 3 seeds by default, duration overrides, gravitational only', () => {
  const o: GravitationalOptions = { seeds: 5, seedsDefaulted: true, jobs: 1, out: '.', log: () => {} }
  const jobs = plan(o, 'tiny', TINY)
  assert.equal(jobs.map((j) => j.seed), [1, 2, 3])
  assert.equal(jobs[0].sets, ['security.mode=open', 'duration=30', 'traffic.0.stop=29'])
  assert.is(plan({ ...o, seedsDefaulted: false, seeds: 2, duration: 10 }, 'tiny', TINY).length, 2)
  assert.throws(() => plan({ ...o, duration: 2 }, 'tiny', TINY), /--duration/)
  assert.throws(() => plan(o, 'tiny', TINY.replace('protocol: gravitational', 'protocol: aodv')), /protocol gravitational/)
})

test('a tiny configuration runs end to end and writes the report (temp dir)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gravitational-repro-'))
  try {
    const logs: string[] = []
    const o: GravitationalOptions = {
      seeds: 2, jobs: 1, out, log: (l) => logs.push(l), scenario: 'tiny', text: TINY, duration: 4,
      sizes: [10, 20], scalingSeconds: 2, trials: 30, crash: SMALL_CRASH, crashContrast: [{ ...SMALL_CRASH, fanout: 2 }],
    }
    const res = await gravitational.run(o)
    assert.equal(res.files.map((f) => f.slice(out.length + 1)), ['gravitational.json', 'gravitational.html'])
    assert.match(res.verdict, /^(PASS|FAIL): share (pass|FAIL), load (pass|FAIL), scaling (pass|FAIL), bimodal (pass|FAIL) \(/)
    const json = JSON.parse(readFileSync(join(out, 'gravitational.json'), 'utf8'))
    assert.equal(json.seeds, [1, 2])
    assert.ok(json.rows.length > 20 && json.rows.every((r: MemberRow) => r.seed === 1 || r.seed === 2))
    assert.equal(json.scaling.runs.map((r: ScalingRun) => r.n), [10, 20])
    assert.is(json.crash.trials, 30)
    assert.is(json.crashContrast.length, 1)
    assert.equal(Object.keys(json.walls), ['grid', 'scaling', 'crash'])
    assert.is(json.verdict.checks.length, 4)
    const html = readFileSync(join(out, 'gravitational.html'), 'utf8')
    for (const id of ['verdict', 'share', 'load', 'scaling', 'bimodal']) assert.match(html, `<section id="${id}">`)
    assert.is(logs.filter((l) => l.startsWith('[')).length, 2)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
