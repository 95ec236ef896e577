import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MetricsResult } from '../metrics-result.ts'
import { analyse, armsFor, keyNumbers, summariseCell, verdictRow, type RunKeys } from './anonymous-gossip-analysis.ts'
import { renderReport } from './anonymous-gossip-report.ts'
import { anonymousGossip, type AnonymousGossipOptions } from './anonymous-gossip.ts'

// 12 nodes, one multicast sender to 5 receivers for 20 s: each run takes a fraction of a second.
const text = `
name: tiny-multicast
duration: 20
nodes: { count: 12, placement: uniform }
field: { width: 600, height: 300 }
radio: { range: 250 }
mobility: { model: random-waypoint, minSpeed: 1, maxSpeed: 20, pause: 0 }
protocol: maodv
traffic: [{ pattern: multicast, group: 0, senders: 1, receivers: 5, start: [3, 4], stop: 19, rate: 4, size: 64 }]
`

function keys(protocol: string, speed: number, seed: number, expected: number, lost: number, stdev: number): RunKeys {
  return {
    protocol, speed, seed, expected, delivered: expected - lost, lost, lossRate: lost / expected, pdr: 1 - lost / expected,
    perMemberStdev: stdev, receivers: null, jitterMs: null, latencyP50Ms: 10, controlPerDelivered: 1, framesPerDelivered: 3,
    gossipMessages: null, gossipPerDelivered: null, recovered: null, recoveredLatencyMs: null, lostForGood: null, wallSeconds: 1,
  }
}

test('the verdict: < 2 % baseline loss passes, else a tenfold cut; the 1/100 goal and stdev beside it', () => {
  assert.equal(verdictRow(1, undefined, 0.015, 0.015, 0.1, 0.2).pass, true)
  const tenfold = verdictRow(5, 2, 0.1, 0.009, 0.1, 0.05)
  assert.equal([tenfold.pass, tenfold.goal100, tenfold.stdevLower, tenfold.seed], [true, false, true, 2])
  assert.is(tenfold.ratio, 0.09)
  assert.equal(verdictRow(5, undefined, 0.1, 0.02, 0.1, 0.1).pass, false)
  assert.equal(verdictRow(5, undefined, 0.1, 0.001, 0.1, 0.1).goal100, true)
  const unevened = verdictRow(5, undefined, 0.1, 0.005, 0.01, 0.02)
  assert.equal([unevened.lossPass, unevened.stdevLower, unevened.pass], [true, false, false], 'loss cut tenfold but members less even: fails')
  assert.is(verdictRow(5, undefined, 0.1, 0, 0, 0).stdevLower, true, 'both perfectly even')
  assert.equal(verdictRow(5, undefined, 0, 0, 0, 0).ratio, null)
})

test('loss is pooled over seeds (Σ lost / Σ expected), not a mean of ratios', () => {
  const c = summariseCell('maodv', 1, [keys('maodv', 1, 1, 100, 50, 0.1), keys('maodv', 1, 2, 900, 50, 0.3)])
  assert.is(c.lossRate.pooled, 0.1)
  assert.equal([c.lossRate.min, c.lossRate.max], [50 / 900, 0.5])
  assert.equal(c.perMemberStdev, { median: 0.2, min: 0.1, max: 0.3 })
  assert.is(c.jitterMs, null)
})

test('analyse compares the first protocol (baseline) with the second, per speed and per seed', () => {
  const arms = armsFor(['maodv', 'maodv'])
  assert.equal(arms.map((a) => a.label), ['maodv', 'maodv #2'])
  const runs = [1, 2].flatMap((seed) => [
    keys('maodv', 10, seed, 1000, 100, 0.1),
    keys('maodv #2', 10, seed, 1000, seed === 1 ? 2 : 15, 0.05),
  ])
  const a = analyse(arms, [10], [1, 2], runs)
  assert.is(a.verdict.bySpeed.length, 1)
  assert.is(a.verdict.bySpeed[0].candidateLoss, 0.0085)
  assert.equal(a.verdict.bySeed.map((v) => [v.seed, v.pass]), [[1, true], [2, false]])
  assert.equal([a.verdict.pass, a.verdict.goal100, a.verdict.stdevLower], [true, false, true])
  assert.throws(() => analyse([arms[0]], [10], [1], runs), /exactly two protocols/)
  const page = renderReport(a, { scenario: 's.yaml', command: 'npm run reproduce', sets: [], wallSeconds: 1, jobs: 1 })
  assert.not.match(page, /NaN|Infinity|undefined/)
  assert.match(page, /No per-receiver delivery counts/)
})

test('metrics JSON without the newer fields still gives key numbers', () => {
  const old = {
    seed: 3, wallSeconds: 1,
    delivery: { expected: 10, delivered: 8, ratio: 0.8, perReceiver: { min: 0, mean: 0, max: 0, stdev: 0.1 } },
    latencyMs: { p50: 5 },
    overhead: { controlPackets: 4, dataTransmissions: 12, perDelivered: 0.5 },
  } as unknown as MetricsResult
  const k = keyNumbers(old, 'maodv', 5)
  assert.equal([k.lost, k.lossRate, k.framesPerDelivered, k.jitterMs, k.receivers, k.gossipPerDelivered, k.lostForGood], [2, 0.2, 2, null, null, null, null])
})

test('a small reproduction writes deterministic JSON and a self-contained HTML page', async () => {
  const out = mkdtempSync(join(tmpdir(), 'spinmesh-ag-'))
  try {
    const lines: string[] = []
    const o: AnonymousGossipOptions = {
      seeds: 2, jobs: 1, out, protocols: ['maodv', 'maodv'], scenario: 'tiny.yaml', text, speeds: [1, 20], log: (l) => lines.push(l),
    }
    const res = await anonymousGossip.run(o)
    assert.equal(res.files, [join(out, 'anonymous-gossip.json'), join(out, 'anonymous-gossip.html')])
    assert.is(res.pass, false, 'the same protocol twice cannot cut its own loss tenfold')
    assert.ok(lines.some((l) => /\[8\/8\] maodv #2 speed 20 seed 2: PDR/.test(l)))
    const read = () => JSON.parse(readFileSync(res.files[0], 'utf8'), (k, v) => (k === 'wallSeconds' ? 0 : v))
    const first = read()
    assert.is(first.runs.length, 8)
    assert.equal(first.seeds, [1, 2])
    assert.is(first.verdict.bySeed.length, 4)
    assert.ok(first.runs.every((r: RunKeys) => r.protocol === 'maodv' || r.protocol === 'maodv #2'))
    const page = readFileSync(res.files[1], 'utf8')
    assert.not.match(page, /NaN|Infinity|undefined|<script/)
    assert.is((page.match(/<svg /g) ?? []).length >= 4, true)
    await anonymousGossip.run(o)
    assert.equal(read(), first, 'same runs, same JSON (but wall time)')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
