/**
 * The report fields of a simulated run's metrics JSON (issue 10): timeline, per node, latency
 * CDF, topology, schedule — consistent with the totals and deterministic.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseScenario } from './scenario.ts'
import { runScenario } from './runner.ts'
import type { MetricsResult } from './metrics-result.ts'

const grid = parseScenario(`
name: grid9
seed: 3
duration: 30
nodes: { count: 9, placement: grid, spacing: 100 }
field: { width: 200, height: 200 }
radio: { range: 150, loss: 0.05 }
mobility: { model: static }
protocol: aodv
traffic:
  - { pattern: unicast, from: 1, to: 9, start: 2, stop: 29, rate: 4, size: 64 }
  - { pattern: unicast, from: 7, to: 3, start: 3, stop: 29, rate: 2, size: 64 }
`)

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const r = runScenario(grid)

test('source and schedule', () => {
  assert.is(r.source, 'simulation')
  assert.equal(r.schedule, { flows: 2, durationS: 30 })
})

test('timeline buckets cover the run and sum to the delivery totals', () => {
  const tl = r.timeline!
  assert.is(tl.bucketS, 1)
  assert.is(tl.points.length, 30)
  tl.points.forEach((p, i) => {
    assert.is(p.t, i * tl.bucketS)
    assert.ok(p.delivered <= p.expected)
  })
  assert.is(sum(tl.points.map((p) => p.expected)), r.delivery.expected)
  assert.is(sum(tl.points.map((p) => p.delivered)), r.delivery.delivered)
  assert.is(tl.points[0].expected, 0, 'no traffic before 2 s')
  assert.is(tl.points[2].expected, 4, 'flow 0 only: 4 packets/s')
  assert.is(tl.points[10].expected, 6, 'both flows')
})

test('longer runs get wider buckets, at most 60 points', () => {
  const long = runScenario(parseScenario(`
name: long
duration: 150
nodes: { count: 2, placement: explicit, positions: [[0, 0], [50, 0]] }
field: { width: 50, height: 10 }
radio: { range: 100 }
traffic: [{ pattern: unicast, from: 1, to: 2, start: 1, stop: 149, rate: 1, size: 20 }]
`))
  assert.is(long.timeline!.bucketS, 3)
  assert.is(long.timeline!.points.length, 50)
  assert.is(sum(long.timeline!.points.map((p) => p.expected)), long.delivery.expected)
  assert.is(sum(long.timeline!.points.map((p) => p.delivered)), long.delivery.delivered)
})

test('per node sums equal the totals', () => {
  const pn = r.perNode!
  assert.equal(pn.map((n) => n.node), [1, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.is(sum(pn.map((n) => n.sent)), r.traffic.packetsSent)
  assert.ok(pn[0].sent > 0 && pn[6].sent > 0 && pn[1].sent === 0)
  assert.is(sum(pn.map((n) => n.expected)), r.delivery.expected)
  assert.is(sum(pn.map((n) => n.delivered)), r.delivery.delivered)
  for (const rec of r.delivery.receivers) {
    const n = pn.find((x) => x.node === rec.node)!
    assert.is(n.expected, rec.expected)
    assert.is(n.delivered, rec.delivered)
  }
  assert.ok(Math.abs(sum(pn.map((n) => n.airtimeMs)) - r.airtime.totalSeconds * 1000) < 1e-3)
  assert.is(sum(pn.map((n) => n.txFrames)), r.counters.medium.txFrames)
  assert.is(sum(pn.map((n) => n.txBytes)), r.counters.medium.txBytes)
  assert.ok(pn.every((n) => n.txFrames > 0), 'every node beacons')
  const maxShare = Math.max(...pn.map((n) => n.airtimeMs)) / 1000 / r.simSeconds
  assert.ok(Math.abs(maxShare - r.airtime.maxNodeShare) < 1e-6)
})

test('latency CDF: 101 points, monotone, ends at the max, median at p50', () => {
  const cdf = r.latencyCdf!
  assert.is(cdf.length, 101)
  cdf.forEach(([, f], i) => assert.is(f, i / 100))
  for (let i = 1; i < cdf.length; i++) assert.ok(cdf[i][0] >= cdf[i - 1][0], `point ${i}`)
  assert.ok(cdf[0][0] > 0)
  assert.is(cdf[100][0], r.latencyMs.max)
  assert.ok(Math.abs(cdf[50][0] - r.latencyMs.p50) <= 0.01 * r.latencyMs.p50)
  assert.ok(cdf[95][0] <= r.latencyMs.max && Math.abs(cdf[95][0] - r.latencyMs.p95) <= 0.01 * r.latencyMs.p95)
})

test('latency CDF is empty when nothing was delivered', () => {
  const cut = runScenario(parseScenario(`
name: cut
duration: 5
nodes: { count: 2, placement: explicit, positions: [[0, 0], [500, 0]] }
field: { width: 500, height: 10 }
radio: { range: 100 }
traffic: [{ pattern: unicast, from: 1, to: 2, start: 1, stop: 4, rate: 1, size: 20 }]
`))
  assert.is(cut.delivery.delivered, 0)
  assert.equal(cut.latencyCdf, [])
  assert.equal(cut.topology!.links, [])
  assert.equal(cut.perNode!.map((n) => [n.sent, n.expected, n.delivered]), [[3, 0, 0], [0, 3, 0]])
})

test('topology: every node with its position, links symmetric and within radio range', () => {
  const t = r.topology!
  assert.equal(t.nodes.map((n) => n.node), [1, 2, 3, 4, 5, 6, 7, 8, 9])
  const pos = new Map(t.nodes.map((n) => [n.node, n]))
  for (const n of t.nodes) assert.ok(typeof n.x === 'number' && typeof n.y === 'number')
  assert.equal(t.nodes[0], { node: 1, x: 0, y: 0 })
  assert.ok(t.links.length > 0)
  const seen = new Set<string>()
  for (const l of t.links) {
    assert.ok(l.a < l.b, 'each pair once, a < b')
    assert.ok(!seen.has(`${l.a}-${l.b}`))
    seen.add(`${l.a}-${l.b}`)
    const a = pos.get(l.a)!, b = pos.get(l.b)!
    assert.ok(Math.hypot(a.x! - b.x!, a.y! - b.y!) <= 150, `${l.a}-${l.b} within range`)
    assert.ok(l.quality !== undefined && l.quality > 0 && l.quality <= 1)
  }
  // 3 x 3 grid at 100 m, range 150: 12 orthogonal + 8 diagonal pairs hear each other.
  assert.is(t.links.length, 20)
})

test('same seed gives identical JSON (but wallSeconds), another seed differs', () => {
  const strip = (x: MetricsResult) => JSON.stringify({ ...x, wallSeconds: 0 })
  assert.is(strip(runScenario(grid)), strip(r))
  const other = runScenario(grid, { seed: 4 })
  assert.is.not(JSON.stringify(other.timeline) + JSON.stringify(other.perNode), JSON.stringify(r.timeline) + JSON.stringify(r.perNode))
})

test.run()
