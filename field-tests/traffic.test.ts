import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST, groupAddr } from '../core/addr.ts'
import { DecodeError } from '../core/errors.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { DeliveryCollector } from './collector.ts'
import { parseScenario } from './scenario.ts'
import { buildFlows, decodeAppHeader, encodeAppPacket, startFlow } from './traffic.ts'

const base = 'duration: 100\nnodes: { count: 30 }\nfield: { width: 100, height: 100 }\n'

test('app packets round-trip and pad to the requested size', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 6, max: 2000 }), (flow, seq, size) => {
      const p = encodeAppPacket(flow, seq, size)
      assert.is(p.length, size)
      assert.equal(decodeAppHeader(p), { flow, seq })
    }),
  )
})

test('the app header decoder is total: any bytes give a header or a DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeAppHeader(bytes)
        assert.ok(bytes.length >= 6)
      } catch (e) {
        assert.instance(e, DecodeError)
      }
    }),
  )
})

test('flows expand deterministically with distinct endpoints', () => {
  const s = parseScenario(base + `traffic:
  - { pattern: unicast, flows: 10, start: [10, 20], rate: 4, size: 512 }
  - { pattern: multicast, group: 3, senders: 2, receivers: 12, rate: 2, size: 256 }
  - { pattern: broadcast, from: 5, rate: 1, size: 64 }`)
  const a = buildFlows(s.traffic, 30, s.duration, new SeededRng(9))
  const b = buildFlows(s.traffic, 30, s.duration, new SeededRng(9))
  assert.equal(a, b)
  const uni = a.flows.filter((f) => f.pattern === 'unicast')
  assert.is(uni.length, 10)
  for (const f of uni) {
    assert.ok(f.from !== f.dst)
    assert.equal(f.receivers, [f.dst])
    assert.ok(f.startMs >= 10_000 && f.startMs <= 20_000)
    assert.is(f.intervalMs, 250)
  }
  const multi = a.flows.filter((f) => f.pattern === 'multicast')
  assert.is(multi.length, 2)
  assert.is(multi[0].dst, groupAddr(3))
  assert.equal(a.members.get(groupAddr(3))!.length, 12)
  for (const f of multi) assert.not.ok(f.receivers.includes(f.from))
  const bc = a.flows.find((f) => f.pattern === 'broadcast')!
  assert.is(bc.dst, BROADCAST)
  assert.is(bc.receivers.length, 29)
})

test('multicast flows expect every member of the group, whichever entry made it a member', () => {
  const s = parseScenario(base + `traffic:
  - { pattern: multicast, group: 0, from: 1, receivers: [2, 3], rate: 1, size: 10 }
  - { pattern: multicast, group: 0, from: 9, receivers: [7, 8], rate: 1, size: 10 }`)
  const { flows, members } = buildFlows(s.traffic, 30, s.duration, new SeededRng(1))
  assert.equal(members.get(groupAddr(0)), [2, 3, 7, 8])
  assert.equal(flows[0].receivers, [2, 3, 7, 8])
  assert.equal(flows[1].receivers, [2, 3, 7, 8])
})

test('a fixed unicast destination is never drawn as the random sender', () => {
  const s = parseScenario(base + 'traffic: [{ pattern: unicast, to: 3, flows: 5, rate: 1, size: 10 }]')
  for (let seed = 0; seed < 50; seed++) {
    for (const f of buildFlows(s.traffic, 30, s.duration, new SeededRng(seed)).flows) assert.is.not(f.from, 3)
  }
})

test('a CBR flow sends at its rate between start and stop', () => {
  const sched = new SimScheduler()
  const times: number[] = []
  const flow = { id: 0, pattern: 'unicast' as const, from: 1, dst: 2, receivers: [2], startMs: 1000, stopMs: 3000, intervalMs: 250, size: 10 }
  startFlow(flow, sched, () => times.push(sched.now()))
  sched.run({ until: 10_000 })
  assert.equal(times, [1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750])
})

test('the collector counts first deliveries per receiver, duplicates, strays and latency', () => {
  const c = new DeliveryCollector()
  c.addFlow({ id: 0, pattern: 'multicast', from: 1, dst: groupAddr(0), receivers: [2, 3], startMs: 0, stopMs: 10, intervalMs: 1, size: 6 })
  for (let seq = 0; seq < 4; seq++) c.sent(0, seq, seq * 10)
  assert.is(c.delivered(2, encodeAppPacket(0, 0, 6), 5), 5)
  c.delivered(2, encodeAppPacket(0, 1, 6), 20)
  c.delivered(2, encodeAppPacket(0, 1, 6), 21) // duplicate
  c.delivered(3, encodeAppPacket(0, 0, 6), 7)
  c.delivered(9, encodeAppPacket(0, 0, 6), 7) // not a receiver
  c.delivered(3, encodeAppPacket(7, 0, 6), 7) // unknown flow
  c.delivered(3, new Uint8Array(3), 7) // malformed
  const s = c.stats()
  assert.is(s.expected, 8)
  assert.is(s.delivered, 3)
  assert.is(s.ratio, 3 / 8)
  assert.is(s.perReceiver.min, 0.25)
  assert.is(s.perReceiver.max, 0.5)
  assert.is(s.perReceiver.stdev, 0.125)
  assert.is(s.duplicates, 1)
  assert.is(s.stray, 2)
  assert.is(s.malformed, 1)
  assert.is(c.latency.count, 3)
})

test.run()
