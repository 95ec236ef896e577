import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadScenario, parseScenario } from './scenario.ts'
import { runScenario } from './runner.ts'
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
})

test.run()
