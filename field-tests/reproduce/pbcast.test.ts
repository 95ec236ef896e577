import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SeededRng } from '../../core/rng.ts'
import { deliveryDistribution } from '../../gossip/pbcast/analysis.ts'
import { analysePbcast, crashCheck, samplingNoiseTv, scalingCheck } from './pbcast-analysis.ts'
import { crashTrial, modelParams, scalingRun, type CrashParams, type ScalingRun } from './pbcast-experiments.ts'
import { renderPbcastReport } from './pbcast-report.ts'
import { command, pbcast, runPbcast, type PbcastOptions } from './pbcast.ts'

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


test('the report renders the verdict and both pbcast sections, with SVG charts and nothing external', () => {
  const a = analysePbcast({
    scaling: [scaling(50, 9.5), scaling(100, 9.7)],
    crash: { params: SMALL_CRASH, receivers: fromModel(SMALL_CRASH, 100, 'r') },
    crashContrast: [{ params: { ...SMALL_CRASH, fanout: 2 }, receivers: fromModel({ ...SMALL_CRASH, fanout: 2 }, 100, 'c') }],
  })
  assert.equal(a.verdict.checks.map((c) => c.id), ['scaling', 'bimodal'])
  assert.equal(Object.keys(a), ['scaling', 'crash', 'crashContrast', 'verdict'])
  const html = renderPbcastReport(a, {
    command: 'npm run reproduce -- pbcast', wallSeconds: 1, walls: { scaling: 0.3, crash: 0.2 },
    settings: { scaling: { rate: 10, seconds: 20, loss: 0.01, firstFanout: 3, size: 64 }, trials: 100 },
  })
  for (const id of ['verdict', 'scaling', 'bimodal']) assert.match(html, `<section id="${id}">`)
  for (const id of ['share', 'load']) assert.not.match(html, `<section id="${id}">`)
  assert.is((html.match(/<svg /g) ?? []).length, 3, 'scaling, histogram, contrast')
  assert.match(html, a.verdict.pass ? 'Verdict: PASS' : 'Verdict: FAIL')
  assert.match(html, 'contrast (not judged)')
  assert.match(html, 'gravitational.html')
  assert.not.match(html, /NaN|Infinity|undefined/)
  assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org)/)
})

test('the command names only the options given; --seeds and --jobs are not its own', () => {
  const o: PbcastOptions = { seeds: 5, jobs: 3, out: '.', log: () => {} }
  assert.is(command(o), 'npm run reproduce -- pbcast')
  assert.is(command({ ...o, sizes: [50, 100], trials: 30 }), 'npm run reproduce -- pbcast --sizes 50,100 --trials 30')
})

test('bad sizes and trials are refused before anything runs', async () => {
  const o: PbcastOptions = { seeds: 1, jobs: 1, out: '/nonexistent/never-written', log: () => {} }
  const refusal = async (bad: Partial<PbcastOptions>) => {
    try {
      await runPbcast({ ...o, ...bad })
    } catch (e) {
      return (e as Error).message
    }
    return 'ran'
  }
  assert.match(await refusal({ trials: 0 }), /--trials must be an integer >= 1, got 0/)
  assert.match(await refusal({ sizes: [10, 1] }), /--sizes are group sizes >= 2, got 1/)
})

test('a tiny configuration runs end to end and writes pbcast.json and pbcast.html, deterministically (temp dir)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pbcast-repro-'))
  try {
    const logs: string[] = []
    const o: PbcastOptions = {
      seeds: 5, jobs: 1, out, log: (l) => logs.push(l),
      sizes: [10, 20], scalingSeconds: 2, trials: 30, crash: SMALL_CRASH, crashContrast: [{ ...SMALL_CRASH, fanout: 2 }],
    }
    const res = await pbcast.run(o)
    assert.equal(res.files.map((f) => f.slice(out.length + 1)), ['pbcast.json', 'pbcast.html'])
    assert.match(res.verdict, /^(PASS|FAIL): scaling (pass|FAIL), bimodal (pass|FAIL) \(load spread [\d.]+ % over 10\/20; crash TV [\d.]+, middle [\d.]+ %\)$/)
    const read = () => JSON.parse(readFileSync(join(out, 'pbcast.json'), 'utf8'), (k, v) => (k === 'wallSeconds' || k === 'walls' ? 0 : v))
    const json = read()
    assert.equal(json.meta, { name: 'pbcast', verdict: res.verdict, pass: res.pass, command: 'npm run reproduce -- pbcast --sizes 10,20 --trials 30', wallSeconds: 0 })
    assert.is(json.reproduction, 'pbcast')
    assert.equal(json.scaling.runs.map((r: ScalingRun) => r.n), [10, 20])
    assert.is(json.crash.trials, 30)
    assert.is(json.crashContrast.length, 1)
    assert.equal(json.settings, { scaling: { rate: 10, seconds: 2, loss: 0.01, firstFanout: 3, size: 64 }, trials: 30 })
    assert.equal(json.verdict.checks.map((c: { id: string }) => c.id), ['scaling', 'bimodal'])
    for (const gone of ['rows', 'share', 'load', 'multiFeed']) assert.is(json[gone], undefined, gone)
    assert.equal(Object.keys(JSON.parse(readFileSync(join(out, 'pbcast.json'), 'utf8')).walls), ['scaling', 'crash'])
    const html = readFileSync(join(out, 'pbcast.html'), 'utf8')
    for (const id of ['verdict', 'scaling', 'bimodal']) assert.match(html, `<section id="${id}">`)
    assert.not.match(html, /NaN|Infinity|undefined|<script/)
    assert.ok(logs.some((l) => /pbcast n = 20:/.test(l)) && logs.some((l) => /crash trials \(judged/.test(l)))
    await pbcast.run(o)
    assert.equal(read(), json, 'same settings, same JSON (but wall time)')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
