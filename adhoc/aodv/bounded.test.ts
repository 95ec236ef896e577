import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimScheduler } from '../../core/scheduler.ts'
import { HelloMonitor } from './hello-monitor.ts'
import { PacketBuffer } from './packet-buffer.ts'
import { RateLimiter } from './rate-limit.ts'
import { RreqCache } from './rreq-cache.ts'
import type { RoutedPacket } from './routed-frame.ts'

const pkt = (dst: number, seq: number): RoutedPacket => ({ origin: 1, dst, seq, ttl: 35, hops: 0, proto: 0, payload: new Uint8Array(0) })
const seqs = (ps: RoutedPacket[]) => ps.map((p) => `${p.dst}:${p.seq}`)

test('packet buffer: per-destination cap drops that destination\'s oldest', () => {
  const b = new PacketBuffer({ maxTotal: 10, maxPerDst: 3, timeoutMs: 1000 })
  for (let s = 0; s < 3; s++) assert.equal(b.push(pkt(2, s), 0), [])
  assert.equal(seqs(b.push(pkt(2, 3), 0)), ['2:0'])
  assert.equal(seqs(b.push(pkt(3, 0), 0)), [])
  assert.is(b.size, 4)
  assert.equal(seqs(b.take(2)), ['2:1', '2:2', '2:3'], 'in order')
  assert.is(b.size, 1)
  assert.is(b.has(2), false)
})

test('packet buffer: total cap drops the oldest packet of any destination', () => {
  const b = new PacketBuffer({ maxTotal: 4, maxPerDst: 4, timeoutMs: 1000 })
  b.push(pkt(2, 0), 0)
  b.push(pkt(3, 0), 1)
  b.push(pkt(2, 1), 2)
  b.push(pkt(3, 1), 3)
  assert.equal(seqs(b.push(pkt(4, 0), 4)), ['2:0'])
  assert.equal(seqs(b.push(pkt(4, 1), 5)), ['3:0'])
  assert.is(b.size, 4)
  assert.equal(seqs(b.clear()), ['2:1', '3:1', '4:0', '4:1'])
  assert.is(b.size, 0)
})

test('packet buffer: packets older than the timeout expire', () => {
  const b = new PacketBuffer({ maxTotal: 10, maxPerDst: 10, timeoutMs: 30_000 })
  b.push(pkt(2, 0), 0)
  b.push(pkt(2, 1), 10_000)
  b.push(pkt(3, 0), 20_000)
  assert.equal(b.expire(30_000), [])
  assert.equal(seqs(b.expire(30_001)), ['2:0'])
  assert.equal(seqs(b.expire(50_001)), ['2:1', '3:0'])
  assert.is(b.size, 0)
  assert.is(b.has(2), false)
})

test('rate limiter: a sliding one-second window', () => {
  const r = new RateLimiter(3)
  assert.ok(r.tryTake(0) && r.tryTake(100) && r.tryTake(200))
  assert.not.ok(r.tryTake(999))
  assert.is(r.allowedAt(500), 1000)
  assert.ok(r.tryTake(1000))
  assert.not.ok(r.tryTake(1050))
  assert.is(r.allowedAt(1050), 1100)
  assert.ok(r.tryTake(1100) && r.tryTake(1200))
  assert.not.ok(r.tryTake(1999))
})

test('RREQ cache: duplicates within PATH_DISCOVERY_TIME, bounded', () => {
  const c = new RreqCache(5600, 3)
  assert.not.ok(c.check(1, 7, 0))
  assert.ok(c.check(1, 7, 5599))
  assert.not.ok(c.check(1, 7, 5600), 'forgotten after the lifetime')
  assert.not.ok(c.check(2, 0, 5600))
  assert.not.ok(c.check(3, 0, 5600))
  assert.not.ok(c.check(4, 0, 5600), 'full: the oldest (1/7) goes')
  assert.is(c.size, 3)
  assert.not.ok(c.check(1, 7, 5601))
  assert.not.ok(c.check(0x7fffffff, 0xffffffff, 5601))
  assert.ok(c.check(0x7fffffff, 0xffffffff, 5602))
})

test('hello monitor: silence is a loss only while the neighbour is expected active', () => {
  const s = new SimScheduler()
  const lost: Array<[number, number]> = []
  const expect = new Map<number, number>()
  const m = new HelloMonitor(s, 2500, (n) => lost.push([s.now(), n]), (n) => expect.get(n) ?? -Infinity)
  m.hello(2)
  m.hello(3)
  expect.set(2, 10_000) // we exchange data with 2 until 10 s
  s.run({ until: 2000 })
  m.heard(2)
  s.run({ until: 20_000 })
  assert.equal(lost, [[4500, 2]], '2 was expected to hello: lost 2.5 s after last heard; 3 went idle, forgotten')
  assert.is(m.size, 0)
  // An idle neighbour whose traffic resumes gets a full window from then.
  m.hello(4)
  s.run({ until: 22_000 })
  expect.set(4, 30_000)
  m.restart(4)
  s.run({ until: 24_400 })
  assert.is(lost.length, 1)
  s.run({ until: 30_000 })
  assert.equal(lost[1], [24_500, 4])
  m.close()
})

test.run()
