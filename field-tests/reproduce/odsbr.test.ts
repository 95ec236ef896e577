import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyse, findCell, summariseCell, type RunKeys } from './odsbr-analysis.ts'
import { renderReport } from './odsbr-report.ts'
import { odsbr, plan, runOdsbrReproduction, type OdsbrReproOptions } from './odsbr.ts'
import { tinyByzantine } from '../tiny-byzantine.ts'

// 14 nodes, 3 flows for 20 s: each run takes a fraction of a second.
const text = tinyByzantine({ duration: 20, fraction: 0.1 })

const tf = (t: number, f: number) => ({ total: t + f, true: t, false: f })

function keys(protocol: string, model: string, fraction: number, seed: number, expected: number, delivered: number, odsbr = false): RunKeys {
  return {
    protocol, model, fraction, seed, adversaries: Math.round(fraction * 50), expected, delivered, pdr: delivered / expected,
    framesPerDelivered: 5, bytesPerDelivered: 900, controlPackets: 10, controlBytes: 1000, latencyP50Ms: 20, wallSeconds: 1,
    odsbr: odsbr
      ? {
          convictions: { ...tf(fraction ? 3 : 0, 2), detection: tf(fraction ? 3 : 0, 1), linkBreak: tf(0, 1) },
          convictionsCounter: fraction ? 4 : 1,
          weightListsAtEnd: tf(1, 1),
          routeAroundMs: fraction ? [1000, null, 3000 * seed] : [],
          overhead: { requestBytes: 100, responseBytes: 200, ackBytes: 50, routeErrorBytes: 0, dataHeaderBytes: 80, signatureBytes: 128, signatures: 2, controlFrames: 4 },
        }
      : null,
  }
}

test('PDR is pooled over seeds; route-around times pooled over every attacked flow', () => {
  const c = summariseCell('odsbr', 'blackhole', 0.2, [keys('odsbr', 'blackhole', 0.2, 1, 100, 50, true), keys('odsbr', 'blackhole', 0.2, 2, 900, 850, true)])
  assert.is(c.pdrPooled, 0.9)
  assert.equal([c.pdr.min, c.pdr.max], [0.5, 0.944444], 'per-seed extremes beside the pooled PDR')
  assert.equal(c.odsbr!.routeAround, { attacked: 6, routedAround: 4, notRoutedAround: 2, medianMs: 2000, p90Ms: 5100 })
  assert.equal(c.odsbr!.convictions!.true, 6)
  assert.is(c.odsbr!.overheadPerDelivered!.requestBytes, 0.222222)
})

test('the verdict: ODSBR ≥ 0.8 of its own adversary-free PDR at each black-hole fraction; AODV beside it', () => {
  const runs: RunKeys[] = []
  for (const seed of [1, 2]) {
    runs.push(keys('aodv', 'none', 0, seed, 100, 99), keys('odsbr', 'none', 0, seed, 100, 80, true))
    runs.push(keys('aodv', 'blackhole', 0.1, seed, 100, 75), keys('odsbr', 'blackhole', 0.1, seed, 100, 77, true))
    runs.push(keys('aodv', 'blackhole', 0.4, seed, 100, 50), keys('odsbr', 'blackhole', 0.4, seed, 100, 60, true))
    if (seed === 1) runs.push(keys('aodv', 'greyhole', 0.2, seed, 100, 70), keys('odsbr', 'greyhole', 0.2, seed, 100, 79, true))
  }
  const a = analyse(['aodv', 'odsbr'], runs)
  assert.equal(a.models.map((m) => [m.model, m.fractions, m.seeds]), [['blackhole', [0, 0.1, 0.4], [1, 2]], ['greyhole', [0, 0.2], [1]]])
  assert.equal(a.verdict.rows.map((r) => [r.fraction, r.odsbrRatio, r.pass]), [[0.1, 0.9625, true], [0.4, 0.75, false]])
  assert.is(a.verdict.rows[1].aodvRatio, 0.505051)
  assert.is(a.verdict.pass, false)
  assert.equal(a.verdict.adversaryFree!.convictions!.false, 4)
  assert.is(findCell(a, 'odsbr', 'greyhole', 0)!.model, 'none', 'every model shares the adversary-free runs')
  const html = renderReport(a, { scenario: 'x.yaml', command: 'npm run reproduce -- odsbr', sets: [], wallSeconds: 1, jobs: 1 })
  assert.match(html, 'Verdict: FAIL')
  assert.match(html, 'PDR vs share of greyhole adversaries')
})

test('the plan: both protocols, adversary-free runs once, authenticated only', () => {
  const o: OdsbrReproOptions = { seeds: 3, jobs: 1, out: '.', log: () => {}, fractions: [0.2], models: ['greyhole'], modelFractions: [0.3], modelSeeds: 1 }
  const p = plan(o, 'tiny', text)
  assert.is(p.length, 2 * 3 + 2 * 3 + 2 * 1)
  assert.ok(p.every((x) => x.job.sets!.includes('security.mode=authenticated')))
  assert.throws(() => plan({ ...o, security: 'open' }, 'tiny', text), /authenticated/)
  assert.throws(() => plan({ ...o, models: ['nonsense'] }, 'tiny', text), /model/)
})

test('a tiny configuration runs end to end and writes the report with its sections', async () => {
  const out = mkdtempSync(join(tmpdir(), 'odsbr-repro-'))
  try {
    const logs: string[] = []
    const o: OdsbrReproOptions = { seeds: 1, jobs: 1, out, log: (l) => logs.push(l), scenario: 'tiny', text, fractions: [0.2], models: ['greyhole'], modelFractions: [0.3] }
    const res = await odsbr.run(o)
    assert.equal(res.files.map((f) => f.slice(out.length + 1)), ['odsbr.json', 'odsbr.html'])
    assert.match(res.verdict, /^(PASS|FAIL): odsbr keeps ≥ 0.8/)
    const json = JSON.parse(readFileSync(join(out, 'odsbr.json'), 'utf8'))
    assert.is(json.runs.length, 6)
    assert.ok(json.runs.filter((r: RunKeys) => r.protocol === 'odsbr').every((r: RunKeys) => r.odsbr?.convictions && r.odsbr.overhead && r.odsbr.routeAroundMs))
    assert.is(json.verdict.rows.length, 1)
    const html = readFileSync(join(out, 'odsbr.html'), 'utf8')
    for (const id of ['verdict', 'pdr', 'overhead', 'convictions', 'route-around', 'runs']) assert.match(html, `<section id="${id}">`)
    assert.match(html, 'PDR vs share of blackhole adversaries')
    assert.match(html, 'PDR vs share of greyhole adversaries')
    assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org)/)
    assert.is(logs.filter((l) => l.startsWith('[')).length, 6)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('two workers give the same numbers as one', async () => {
  const o: OdsbrReproOptions = { seeds: 1, jobs: 1, out: '.', log: () => {}, scenario: 'tiny', text, fractions: [0.2], models: [] }
  const one = await runOdsbrReproduction(o)
  const two = await runOdsbrReproduction({ ...o, jobs: 2 })
  const strip = (rs: RunKeys[]) => rs.map((r) => ({ ...r, wallSeconds: 0 }))
  assert.equal(strip(two.analysis.runs), strip(one.analysis.runs))
})

test.run()
