import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr } from '../core/addr.ts'
import { DeliveryCollector } from './collector.ts'
import { encodeAppPacket, type Flow } from './traffic.ts'

const flow = (id: number, receivers: number[]): Flow => ({
  id, pattern: 'multicast', from: 1, dst: groupAddr(0), receivers, startMs: 0, stopMs: 1000, intervalMs: 100, size: 6,
})

test('jitter: the population stdev of inter-arrival times, averaged over streams with ≥ 3 first deliveries', () => {
  const c = new DeliveryCollector()
  c.addFlow(flow(0, [2, 3, 4]))
  for (let seq = 0; seq < 5; seq++) c.sent(0, seq, seq * 100)
  // Receiver 2: arrivals 10, 110, 230, 330 → gaps 100, 120, 100: mean 106.67, stdev √(800/9).
  for (const [seq, at] of [[0, 10], [1, 110], [2, 230], [3, 330]]) c.delivered(2, encodeAppPacket(0, seq, 6), at)
  c.delivered(2, encodeAppPacket(0, 1, 6), 400) // a duplicate is not an arrival
  // Receiver 3: perfectly regular → 0. Receiver 4: two deliveries only → not counted.
  for (const [seq, at] of [[0, 50], [1, 150], [2, 250]]) c.delivered(3, encodeAppPacket(0, seq, 6), at)
  for (const [seq, at] of [[0, 50], [4, 450]]) c.delivered(4, encodeAppPacket(0, seq, 6), at)
  const j = c.jitterMs()!
  assert.ok(Math.abs(j - Math.sqrt(800 / 9) / 2) < 1e-9, String(j))
})

test('jitter is null when no stream has 3 first deliveries', () => {
  const c = new DeliveryCollector()
  c.addFlow(flow(0, [2]))
  for (let seq = 0; seq < 2; seq++) c.sent(0, seq, seq * 100)
  c.delivered(2, encodeAppPacket(0, 0, 6), 10)
  c.delivered(2, encodeAppPacket(0, 1, 6), 110)
  assert.is(c.jitterMs(), null)
})

test('recovered first deliveries are counted with their latency; recovered duplicates are not', () => {
  const seen: Array<[number, number, number, number]> = []
  const c = new DeliveryCollector({ onFirstDelivery: (r, f, s, at) => seen.push([r, f, s, at]) })
  c.addFlow(flow(0, [2, 3]))
  for (let seq = 0; seq < 3; seq++) c.sent(0, seq, seq * 100)
  c.delivered(2, encodeAppPacket(0, 0, 6), 20)
  c.delivered(2, encodeAppPacket(0, 1, 6), 1100, true) // recovered after 1000 ms
  c.delivered(3, encodeAppPacket(0, 2, 6), 2200, true) // recovered after 2000 ms
  c.delivered(3, encodeAppPacket(0, 2, 6), 2300, true) // duplicate
  const s = c.stats()
  assert.is(s.recovered, 2)
  assert.is(s.delivered, 3)
  assert.is(s.duplicates, 1)
  assert.is(c.recoveredLatency.count, 2)
  assert.is(c.recoveredLatency.mean, 1500)
  assert.is(c.recoveredLatency.max, 2000)
  assert.equal(seen, [[2, 0, 0, 20], [2, 0, 1, 1100], [3, 0, 2, 2200]])
})

test('per-receiver deliveries, sorted by node, over every flow', () => {
  const c = new DeliveryCollector()
  c.addFlow(flow(0, [5, 2]))
  c.addFlow(flow(1, [2]))
  c.sent(0, 0, 0)
  c.sent(1, 0, 0)
  c.delivered(2, encodeAppPacket(0, 0, 6), 10)
  c.delivered(2, encodeAppPacket(1, 0, 6), 10)
  c.delivered(7, encodeAppPacket(1, 0, 6), 10) // stray
  const s = c.stats()
  assert.equal(s.receivers, [{ node: 2, expected: 2, delivered: 2 }, { node: 5, expected: 1, delivered: 0 }])
  assert.is(s.stray, 1)
  assert.equal(s.perReceiver, { min: 0, mean: 0.5, max: 1, stdev: 0.5 })
})

test('lossFlows exposes the multicast flows with send times and delivered seqs', () => {
  const c = new DeliveryCollector()
  c.addFlow(flow(0, [2]))
  c.addFlow({ ...flow(1, [3]), pattern: 'unicast', dst: 3 })
  c.sent(0, 0, 5)
  c.sent(0, 1, 105)
  c.delivered(2, encodeAppPacket(0, 1, 6), 110)
  const [f, ...rest] = c.lossFlows('multicast')
  assert.is(rest.length, 0)
  assert.is(f.id, 0)
  assert.equal(f.sentAt, [5, 105])
  assert.equal([...f.delivered(2)], [1])
  assert.equal([...f.delivered(9)], [])
})

test.run()
