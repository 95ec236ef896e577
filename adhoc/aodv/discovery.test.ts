import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { aodvNet, chain } from './aodv-fixtures.ts'
import { DEFAULT_AODV_CONFIG, aodvTiming } from './aodv-defaults.ts'

const pick = (e: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, e[k]]))

test('derived timers follow RFC 3561 with the defaults', () => {
  const t = aodvTiming(DEFAULT_AODV_CONFIG)
  assert.equal([1, 3, 5, 7].map((ttl) => t.ringTraversalTimeMs(ttl)), [240, 400, 560, 720])
  assert.is(t.netTraversalTimeMs, 2800)
  assert.is(t.pathDiscoveryTimeMs, 5600)
  assert.is(t.blacklistTimeoutMs, 5600)
  assert.is(t.nextHopWaitMs, 50)
  assert.is(t.maxRepairTtl, 10)
  assert.is(t.helloLifetimeMs, 2000)
  assert.is(DEFAULT_AODV_CONFIG.myRouteTimeoutMs, 11_200)
})

test('discovery timeline to an unreachable node: expanding ring, NET_DIAMETER with backoff, unreachable at 10 320 ms', () => {
  const net = aodvNet(2, []) // node 2 exists but nobody hears it
  const a = net.node(1)
  const send = (at: number, tag: number) => net.scheduler.at(at, () => a.send(2, Uint8Array.of(tag)))
  send(0, 1)
  send(100, 2)
  send(5000, 3)
  net.scheduler.run({ until: 20_000 })
  assert.equal(
    net.of('rreq', 1).map((e) => pick(e, 't', 'ttl', 'id')),
    [
      { t: 0, ttl: 1, id: 0 },
      { t: 240, ttl: 3, id: 1 },
      { t: 640, ttl: 5, id: 2 },
      { t: 1200, ttl: 7, id: 3 },
      { t: 1920, ttl: 35, id: 4 },
      { t: 4720, ttl: 35, id: 5 },
    ],
  )
  assert.equal(net.of('unreachable').map((e) => pick(e, 't', 'node', 'dst')), [{ t: 10_320, node: 1, dst: 2 }])
  assert.equal(
    net.of('undeliverable').map((e) => pick(e, 't', 'dst', 'payload', 'reason')),
    [1, 2, 3].map(() => ({ t: 10_320, dst: 2, payload: 1, reason: 'unreachable' })),
    'every buffered packet is reported, with its payload',
  )
  assert.is(net.value(1, 'routeDiscoveries'), 1)
  assert.is(net.value(1, 'discoveryFailures'), 1)
  assert.is(net.value(1, 'dataDroppedNoRoute'), 3)
  assert.is(net.value(1, 'dataDropped'), 3)
  assert.is(net.value(1, 'rreq'), 6)
  assert.is(net.value(1, 'hello'), 0, 'a node on no active route sends no hellos')
  assert.is(a.seq, 6, 'own sequence number incremented before each RREQ')

  // A new packet after the failure starts a new discovery from TTL_START.
  net.scheduler.at(0, () => a.send(2, Uint8Array.of(4)))
  net.scheduler.run({ until: 20_001 })
  assert.equal(pick(net.of('rreq', 1).at(-1)!, 't', 'ttl'), { t: 20_000, ttl: 1 })
  assert.is(net.value(1, 'routeDiscoveries'), 2)
})

test('the expanding ring stops at the ring where the destination answers', () => {
  const net = aodvNet(5, chain(5))
  net.node(1).send(5, Uint8Array.of(1))
  net.scheduler.run({ until: 5000 })
  assert.equal(net.of('rreq', 1).map((e) => e.ttl), [1, 3, 5])
  const found = net.of('route-found', 1)
  assert.is(found.length, 1)
  assert.is(found[0].hops, 4)
  assert.ok((found[0].latencyMs as number) > 640 && (found[0].latencyMs as number) < 700, `latency ${found[0].latencyMs}`)
  assert.is(net.delivered[4].length, 1)
  assert.is(net.delivered[4][0].hops, 4)
  const h = net.metrics.mergedHistogram('aodv', 'discoveryLatencyMs')
  assert.is(h.count, 1)
})

test('a rediscovery starts at the last known hop count + TTL_INCREMENT', () => {
  const net = aodvNet(4, chain(4))
  net.node(1).send(4, Uint8Array.of(1))
  net.scheduler.run({ until: 2000 })
  assert.is(net.node(1).route(4)!.hops, 3)
  net.disconnect(3, 4)
  net.node(1).send(4, Uint8Array.of(2)) // fails at 3 → RERR → route lost at 1
  net.scheduler.run({ until: 3000 })
  assert.is(net.node(1).route(4)!.valid, false)
  net.node(1).send(4, Uint8Array.of(3))
  net.scheduler.run({ until: 3001 })
  assert.equal(net.of('rreq', 1).at(-1)!.ttl, 5, '3 hops + 2')
})

test('RREQ_RATELIMIT: at most 10 RREQs originated per second; the rest wait for the window', () => {
  const net = aodvNet(20, [])
  const a = net.node(1)
  for (let d = 2; d <= 16; d++) a.send(d, Uint8Array.of(d)) // 15 discoveries at t = 0
  net.scheduler.run({ until: 1100 })
  const times = net.of('rreq', 1).map((e) => e.t as number)
  assert.is(times.filter((t) => t === 0).length, 10)
  // TTL-1 timeouts of the first ten (240 ms) also wait: the window frees at 1 000 ms.
  assert.ok(times.every((t) => t === 0 || t >= 1000), `times ${times}`)
  assert.ok(net.value(1, 'rreqRateLimited') >= 5)
  const inAnySecond = (t0: number) => times.filter((t) => t >= t0 && t < t0 + 1000).length
  for (const t0 of times) assert.ok(inAnySecond(t0) <= 10)
})

test.run()
