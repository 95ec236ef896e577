import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { loadScenario, parseScenario } from './scenario.ts'
import { buildSimulation, runScenario, runSimulation } from './runner.ts'
import type { MetricsResult } from './metrics-result.ts'

const scenarios = new URL('./scenarios/', import.meta.url).pathname

function withoutWall(r: MetricsResult) {
  return { ...r, wallSeconds: 0 }
}

test('flood-grid with seed 7 delivers everything, and the same seed gives the same JSON', () => {
  const s = loadScenario(scenarios + 'flood-grid.yaml')
  const a = runScenario(s, { seed: 7 })
  assert.is(a.delivery.ratio, 1)
  assert.is(a.delivery.perReceiver.min, 1)
  assert.is(a.delivery.expected, a.traffic.packetsSent * 99)
  assert.ok(a.overhead.controlPackets > 0, 'beacons are control traffic')
  assert.ok(a.airtime.totalSeconds > 0)
  const b = runScenario(s, { seed: 7 })
  assert.equal(JSON.stringify(withoutWall(a)), JSON.stringify(withoutWall(b)))
  const c = runScenario(s, { seed: 8 })
  assert.is.not(JSON.stringify(withoutWall(a)), JSON.stringify(withoutWall(c)))
})

test('flood-grid loses at most 1 in 1000 deliveries on other seeds (collisions are real, but rare)', () => {
  const s = loadScenario(scenarios + 'flood-grid.yaml')
  for (let seed = 1; seed <= 4; seed++) {
    const r = runScenario(s, { seed })
    assert.ok(r.delivery.ratio >= 0.999, `seed ${seed}: ${r.delivery.ratio}`)
    assert.ok(r.counters.medium.rxCollisions > 0, 'the medium does model collisions')
  }
})

const chain = (extra: string) => parseScenario(`
name: chain
duration: 20
nodes: { count: 5, placement: explicit, positions: [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0]] }
field: { width: 400, height: 10 }
radio: { range: 150 }
traffic: [{ pattern: unicast, from: 1, to: 5, start: 1, stop: 19, rate: 5, size: 100 }]
${extra}`)

test('a chain delivers end to end over four hops', () => {
  const r = runScenario(chain(''))
  assert.is(r.delivery.ratio, 1)
  assert.ok(r.latencyMs.mean > 0)
})

test('a black hole in the middle of a chain cuts it; a grey hole cuts part of it', () => {
  const black = runScenario(chain('adversaries: [{ model: blackhole, nodes: [3] }]'))
  assert.is(black.delivery.delivered, 0)
  assert.equal(black.adversaries, [3])
  const grey = runScenario(chain('adversaries: [{ model: greyhole, nodes: [3], dropProbability: 0.5 }]'))
  assert.ok(grey.delivery.ratio > 0.3 && grey.delivery.ratio < 0.7, String(grey.delivery.ratio))
})

test('a scripted partition loses exactly the packets sent while the link is down', () => {
  // rate 5/s from t=1 s to 19 s = 90 packets; the 2-3 link is down for [5, 10) s = 25 packets.
  const r = runScenario(chain('links: [{ a: 2, b: 3, down: [5, 10] }]'))
  assert.is(r.traffic.packetsSent, 90)
  assert.ok(r.delivery.delivered >= 64 && r.delivery.delivered <= 66, String(r.delivery.delivered))
})

test('multicast counts each member, not the sender', () => {
  const r = runScenario(parseScenario(`
duration: 10
nodes: { count: 9, placement: grid, spacing: 100 }
field: { width: 300, height: 300 }
radio: { range: 150 }
traffic: [{ pattern: multicast, from: 1, receivers: [1, 5, 9], start: 1, stop: 9, rate: 2, size: 64 }]
`))
  assert.is(r.traffic.packetsSent, 16)
  assert.is(r.delivery.expected, 32)
  assert.is(r.delivery.ratio, 1)
  assert.is(r.delivery.stray, 0)
  assert.is(r.delivery.recovered, 0, 'MAODV recovers nothing')
  assert.equal(r.delivery.receivers, [{ node: 5, expected: 16, delivered: 16 }, { node: 9, expected: 16, delivered: 16 }])
  assert.equal(r.lostForGood, { total: 0, neverReachedTree: 0, partitioned: 0, agedOut: 0, unrecovered: 0 })
  assert.ok(r.jitterMs !== null && r.jitterMs < 50, `a 2 packet/s flow on a static grid arrives regularly: ${r.jitterMs}`)
  assert.equal(r.recoveredLatencyMs, { count: 0, mean: 0, p50: 0, p95: 0, max: 0 })
  assert.is(r.gossip, undefined)
  assert.ok(r.overhead.framesPerDelivered! > r.overhead.perDelivered!)
})

test('a multicast receiver cut off for good loses its packets as partitioned; the same seed gives the same JSON', () => {
  const s = parseScenario(`
duration: 40
nodes: { count: 5, placement: explicit, positions: [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0]] }
field: { width: 400, height: 10 }
radio: { range: 150 }
protocol: maodv
links: [{ a: 3, b: 4, down: [20, 60] }]
traffic: [{ pattern: multicast, from: 1, receivers: [1, 2, 5], start: 5, stop: 39, rate: 2, size: 64 }]
`)
  const r = runScenario(s)
  const l = r.lostForGood!
  assert.is(l.total, r.delivery.expected - r.delivery.delivered)
  assert.is(l.neverReachedTree + l.partitioned + l.agedOut + l.unrecovered, l.total)
  // Node 5 misses the ~38 packets sent from 20 s on, while node 2 gets them.
  assert.ok(l.partitioned >= 35, JSON.stringify(l))
  assert.is(l.agedOut, 0, 'MAODV keeps no history, so nothing ages out')
  assert.equal(JSON.stringify(withoutWall(r)), JSON.stringify(withoutWall(runScenario(s))))
})

test('connectivity sampling reads the medium without changing the run', () => {
  const s = parseScenario(readFileSync(scenarios + 'manet-multicast.yaml', 'utf8'), ['duration=40', 'traffic.0.start=5', 'traffic.0.stop=39'])
  const sampled = buildSimulation(s)
  const silent = buildSimulation(s)
  silent.connectivity!.sample = () => {} // same events, no reads
  const a = runSimulation(sampled)
  const b = runSimulation(silent)
  assert.ok(sampled.connectivity!.count === 41 && silent.connectivity!.count === 0)
  assert.equal(a.delivery, b.delivery)
  assert.equal(a.counters, b.counters)
  assert.is(a.events, b.events)
})

test('unicast-only scenarios have no lostForGood', () => {
  const r = runScenario(chain(''))
  assert.is(r.lostForGood, undefined)
  assert.is(r.delivery.recovered, 0)
})

test.run()
