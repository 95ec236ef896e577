/**
 * `protocol: pbcast` and `protocol: gravitational` in scenarios: membership from the traffic,
 * ratings, the audience-aware delivery accounting and the pbcast / gravitational metrics sections.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configError } from '../core/testing.ts'
import { runScenario } from './runner.ts'
import { parseScenario } from './scenario.ts'

const pbcast = (extra = '') => `
name: pbcast-tiny
duration: 8
nodes: { count: 24, placement: uniform }
field: { width: 1000, height: 1000 }
protocol: pbcast
traffic:
  - { pattern: multicast, senders: 1, receivers: 15, start: 1, stop: 6, rate: 10, size: 40 }
${extra}`

test('pbcast over a simulated IP network: every member gets every message; members (only) report their load', () => {
  const r = runScenario(parseScenario(pbcast()))
  assert.is(r.delivery.ratio, 1)
  assert.is(r.delivery.expected, r.traffic.packetsSent * 15)
  assert.is(r.delivery.stray, 0, 'the publisher does not deliver its own messages')
  const p = r.pbcast!
  assert.is(p.members.length, 16, '15 receivers and the publisher; the 8 other nodes do not gossip')
  for (const m of p.members) assert.ok(m.datagramsPerRound > 0 && m.bytesPerS > 0, `member ${m.node} has load`)
  assert.ok(p.datagramsPerRound.max < 40, `datagrams per member per round ${p.datagramsPerRound.max}`)
  assert.is(r.gravitational, undefined)
})

test('pbcast over AODV on the radios delivers too', () => {
  const text = pbcast().replace('field: { width: 1000, height: 1000 }', 'field: { width: 600, height: 600 }')
    .replace('protocol: pbcast', 'protocol: pbcast\nprotocolConfig: { transport: aodv }').replace('duration: 8', 'duration: 15')
  const r = runScenario(parseScenario(text))
  assert.ok(r.delivery.ratio > 0.98, `PDR ${r.delivery.ratio}`)
  assert.ok(r.overhead.controlPackets > 0, 'gossip travels on the radios')
})

const gravitational = `
name: grav-tiny
duration: 12
nodes: { count: 40, placement: uniform }
field: { width: 1000, height: 1000 }
protocol: gravitational
protocolConfig: { pbcast: { roundMs: 200 } }
traffic:
  - { pattern: multicast, groups: 2, senders: 1, receivers: 12, fullRated: 2, ratings: [0.2, 0.5, 0.8], start: 1, stop: 11, rate: 30, size: 26 }
`

test('gravitational: each member gets its rating share, expected deliveries count only its audience, load grows with rating', () => {
  const r = runScenario(parseScenario(gravitational))
  assert.ok(r.delivery.ratio > 0.99, `PDR within audiences ${r.delivery.ratio}`)
  const rows = r.gravitational!.members
  assert.ok(rows.length >= 22 && rows.length <= 24, `${rows.length} rows: 2 feeds × 12 subscribers, less a publisher subscribed to its own feed`)
  for (const m of rows) assert.ok(Math.abs(m.share - m.rating) <= 0.05, `node ${m.node} feed ${m.feed}: share ${m.share} for rating ${m.rating}`)
  const mean = (rating: number) => {
    const xs = rows.filter((m) => Math.abs(m.rating - rating) < 1e-9 && m.publishes === 0).map((m) => m.feedLoadBytesPerS)
    return xs.reduce((a, b) => a + b, 0) / xs.length
  }
  assert.ok(mean(0.2) < mean(0.5) && mean(0.5) < mean(0.8) && mean(0.8) < mean(1), `feed load by rating ${[0.2, 0.5, 0.8, 1].map(mean).join(' < ')}`)
  assert.ok(rows.every((m) => m.feedLoadBytes <= m.loadBytes))
})

test('bad gossip configs are refused, naming the field', () => {
  assert.is(configError(() => parseScenario(pbcast().replace('rate: 10, size: 40 }', 'rate: 10, size: 40, ratings: [0.5] }'))).path, 'traffic.0.ratings')
  assert.is(configError(() => parseScenario(gravitational.replace('ratings: [0.2, 0.5, 0.8]', 'ratings: { min: 0.9, max: 0.2 }'))).path, 'traffic.0.ratings.min')
  assert.is(configError(() => parseScenario(pbcast('protocolConfig: { transport: carrier-pigeon }'))).path, 'protocolConfig.transport')
  assert.is(configError(() => parseScenario(pbcast('protocolConfig: { pbcast: { roundMs: -1 } }'))).path, 'protocolConfig.pbcast.roundMs')
  assert.is(configError(() => parseScenario(gravitational.replace('pbcast: { roundMs: 200 }', 'timelinessMs: 0'))).path, 'protocolConfig.timelinessMs')
  const twice = gravitational.replace('  - { pattern: multicast, groups: 2,', '  - { pattern: multicast, from: 3, group: 0, receivers: 5, rate: 5, size: 26 }\n  - { pattern: multicast, from: 3, groups: 2,')
  assert.match(configError(() => runScenario(parseScenario(twice))).message, /sends twice to group 0/)
  const twoGroups = pbcast().replace('senders: 1, receivers: 15', 'groups: 2, senders: 1, receivers: 15')
  assert.is(configError(() => runScenario(parseScenario(twoGroups))).path, 'traffic')
})

test.run()
