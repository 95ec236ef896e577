/**
 * The composed protocol on small authenticated networks: discovery, delivery with acks, and a
 * Byzantine relay identified and routed around.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Addr } from '../../core/addr.ts'
import type { Delivery } from '../net-protocol.ts'
import { testNetwork } from '../test-network.ts'
import { Odsbr, type OdsbrForwardCandidate } from './odsbr.ts'
import type { OdsbrConfigInput } from './odsbr-defaults.ts'
import fc from 'fast-check'
import { checkDecoderProperties } from '../../core/testing.ts'
import { Proto } from '../protocols.ts'
import { MSG_ROUTE_ERROR, decodeRouteError, encodeRouteError, routeErrorSignedBytes } from './route-error.ts'

function odsbrNet(n: number, pairs: Array<[number, number]>, o: { filter?: (id: number) => ((p: OdsbrForwardCandidate) => boolean) | undefined; config?: OdsbrConfigInput; seed?: number } = {}) {
  const net = testNetwork(n, pairs, { seed: o.seed ?? 1, security: {}, link: { beaconIntervalMs: 0 } })
  const got: Delivery[][] = []
  const nodes = net.links.map((link, i) => {
    const id = i + 1
    const p = new Odsbr({
      link, scheduler: net.scheduler, rng: net.rng.fork('odsbr', id), metrics: net.metrics.scope('odsbr', id),
      config: o.config, security: net.security[i].origin, forwardFilter: o.filter?.(id),
    })
    const mine: Delivery[] = []
    p.on('deliver', (d) => mine.push(d))
    got.push(mine)
    return p
  })
  const run = (ms: number) => net.scheduler.run({ until: net.scheduler.now() + ms })
  const total = (name: string) => net.metrics.total('odsbr', name)
  /** Send `count` packets from `src` to `dst`, one every `gapMs`. */
  const stream = (src: Addr, dst: Addr, count: number, gapMs = 50) => {
    for (let i = 0; i < count; i++) {
      nodes[src - 1].send(dst, Uint8Array.of(i & 0xff, i >> 8))
      run(gapMs)
    }
  }
  return { net, nodes, got, run, total, stream }
}

const chain = (n: number): Array<[number, number]> => Array.from({ length: n - 1 }, (_, i) => [i + 1, i + 2])

test('a 5-hop chain: the route is discovered, every packet delivered once and acked', () => {
  const t = odsbrNet(6, chain(6))
  t.stream(1, 6, 30)
  t.run(3000)
  assert.equal(t.nodes[0].route(6), [1, 2, 3, 4, 5, 6])
  assert.is(t.got[5].length, 30)
  assert.equal(t.got[5].map((d) => d.payload[0]), Array.from({ length: 30 }, (_, i) => i))
  assert.is(t.total('packetsAcked'), 30)
  assert.is(t.total('convictions'), 0)
})

test('a black hole on the lightest path is convicted (one of its links) and routed around', () => {
  // Two disjoint paths 1→6: the short one through 2-3 (3 is a black hole), a longer one via 4-5-7.
  const pairs: Array<[number, number]> = [[1, 2], [2, 3], [3, 6], [1, 4], [4, 5], [5, 7], [7, 6]]
  const t = odsbrNet(7, pairs, { filter: (id) => (id === 3 ? () => false : undefined) })
  const convicted: string[] = []
  const changes: string[] = []
  t.nodes[0].on('conviction', (e) => convicted.push(`${e.link} ${e.cause} w${e.weight}`))
  t.nodes[0].on('route-change', (e) => changes.push(`${e.via} ${e.path?.join('-') ?? ''}`))
  t.stream(1, 6, 200)
  t.run(5000)
  const route = t.nodes[0].route(6)!
  assert.not.ok(route.includes(3), `the route avoids the black hole: ${route.join('-')}`)
  assert.is(t.total('convictions'), 1)
  // 3 drops silently (no link break): fault detection pins one of its links, never 1-2.
  assert.equal(convicted, ['2-3 detection w2'])
  assert.equal(changes, ['discovery 1-2-3-6', 'spare 1-4-5-7-6'], 'the second path of the first discovery takes over, no new flood')
  assert.is(t.total('rediscoveries'), 0)
  const late = t.got[5].filter((d) => d.payload[0] + 256 * d.payload[1] >= 150).length
  assert.is(late, 50, 'after the conviction every packet arrives')
})

test('after a conviction the spare through neither end of the convicted link takes over, even if heavier', () => {
  // 1→9 over 1-2-3-9 (3 is a black hole), 1-4-3-9 (also through 3) and 1-5-6-7-9 (longer).
  const pairs: Array<[number, number]> = [[1, 2], [2, 3], [3, 9], [1, 4], [4, 3], [1, 5], [5, 6], [6, 7], [7, 9]]
  const t = odsbrNet(9, pairs, { filter: (id) => (id === 3 ? () => false : undefined) })
  const changes: string[] = []
  t.nodes[0].on('route-change', (e) => changes.push(`${e.via} ${e.path?.join('-') ?? ''}`))
  t.stream(1, 9, 40)
  t.run(3000)
  assert.equal(changes.length, 2, changes.join(' | '))
  assert.match(changes[0], /^discovery 1-[24]-3-9$/)
  assert.is(changes[1], 'spare 1-5-6-7-9', 'the lighter spare 1-x-3-9 is relayed by 3, an end of the convicted link')
  assert.is(t.total('rediscoveries'), 0)
})

test('a spare with a link convicted since its discovery is not used', () => {
  // 1→9: A = 1-2-3-9 (3 drops), B = 1-6-5-8-9 (5 drops), C = 1-7-10-2-3-9 (holds A's link 2-3).
  // A's 2-3 is convicted → B (C goes through 2 and 3); B's 6-5 is convicted → C has no end of 6-5
  // but its 2-3 weighs more than when it was discovered: a new discovery runs instead.
  const pairs: Array<[number, number]> = [[1, 2], [2, 3], [3, 9], [1, 6], [6, 5], [5, 8], [8, 9], [1, 7], [7, 10], [10, 2]]
  const t = odsbrNet(10, pairs, { filter: (id) => (id === 3 || id === 5 ? () => false : undefined) })
  const changes: string[] = []
  t.nodes[0].on('route-change', (e) => changes.push(`${e.via} ${e.path?.join('-') ?? ''}`))
  t.stream(1, 9, 40)
  t.run(3000)
  assert.equal(changes.slice(0, 3), ['discovery 1-2-3-9', 'spare 1-6-5-8-9', 'none '])
})

test('a broken link: the relay sends signed route errors, the source reroutes after the second', () => {
  // 1-2-4 and 1-3-5-4: the route goes through 2; then the 2-4 link breaks.
  const t = odsbrNet(5, [[1, 2], [2, 4], [1, 3], [3, 5], [5, 4]])
  const convicted: string[] = []
  t.nodes[0].on('conviction', (e) => convicted.push(`${e.link} ${e.cause}`))
  t.stream(1, 4, 20)
  assert.equal(t.nodes[0].route(4), [1, 2, 4])
  t.net.medium.disconnect(t.net.radios[1], t.net.radios[3])
  t.stream(1, 4, 40)
  t.run(3000)
  assert.ok(t.total('routeErrorsSent') >= 2, 'node 2 reported the break (at most one error per 250 ms)')
  assert.is(t.total('routeErrorsAccepted'), 2, 'node 1 verified two; later ones name the old route')
  assert.equal(convicted, ['2-4 link-break'], 'routeErrorsToBreak (2) failures, no acked packet between')
  assert.equal(t.nodes[0].route(4), [1, 3, 5, 4])
  // Lost: the packets on the broken link until the second error came back (≈ 300 ms at 20/s).
  assert.ok(t.got[3].length >= 52, `delivered ${t.got[3].length} of 60`)
  assert.is(t.total('convictions'), 0, 'no loss-counting conviction was needed')
})

test('a single failed frame (congestion) does not reroute; an acked packet resets the count', () => {
  const t = odsbrNet(5, [[1, 2], [2, 4], [1, 3], [3, 5], [5, 4]])
  t.stream(1, 4, 10)
  const route = t.nodes[0].route(4)!
  const relay = route[1], next = route[2]
  const convicted: string[] = []
  t.nodes[0].on('conviction', (e) => convicted.push(e.link))
  /** The relay's link fails one frame, then works again for 10 packets. */
  const blip = () => {
    t.net.medium.disconnect(t.net.radios[relay - 1], t.net.radios[next - 1])
    t.stream(1, 4, 1)
    t.run(200)
    t.net.medium.connect(t.net.radios[relay - 1], t.net.radios[next - 1])
    t.stream(1, 4, 10)
    t.run(1000)
  }
  blip()
  assert.is(t.total('routeErrorsAccepted'), 1, 'one error, no reroute')
  assert.equal(convicted, [])
  assert.equal(t.nodes[0].route(4), route)
  // A second, isolated failure later counts from 1 again (the acked packets between reset it).
  blip()
  assert.is(t.total('routeErrorsAccepted'), 2)
  assert.equal(convicted, [])
  assert.equal(t.nodes[0].route(4), route)
})

test('route errors: one not tied to a packet in flight is ignored, a forged one refused, a genuine one accepted once', () => {
  const t = odsbrNet(4, chain(4))
  t.stream(1, 4, 5)
  t.run(2000)
  assert.equal(t.nodes[0].route(4), [1, 2, 3, 4])
  const inject = (bytes: Uint8Array) => t.net.links[1].port(Proto.ODSBR).send(1, bytes)
  // No packet in flight with that counter: nothing to blame.
  inject(encodeRouteError({ source: 1, dst: 4, reporter: 2, next: 3, counter: 1, path: [2, 1], signature: new Uint8Array(64) }))
  t.run(200)
  assert.is(t.total('routeErrorsIgnored'), 1)
  // A packet in flight (its counter read from the source's state), then a forged error for it.
  t.nodes[0].send(4, Uint8Array.of(9))
  const counter = [...(t.nodes[0] as unknown as { pending: Map<number, unknown> }).pending.keys()].pop()!
  // The break is in the middle of the path (2-3): the loss falls on the interval up to the destination.
  const fields = { source: 1, dst: 4, reporter: 2, next: 3, counter, path: [2, 1] }
  inject(encodeRouteError({ ...fields, signature: new Uint8Array(64).fill(7) }))
  t.run(5)
  assert.is(t.total('routeErrorBadSignature'), 1)
  assert.equal(t.nodes[0].route(4), [1, 2, 3, 4], 'the route stays')
  // The genuine error (signed by node 2), then the same bytes again.
  t.nodes[0].send(4, Uint8Array.of(10))
  const c2 = [...(t.nodes[0] as unknown as { pending: Map<number, unknown> }).pending.keys()].pop()!
  const f2 = { ...fields, counter: c2 }
  const genuine = encodeRouteError({ ...f2, signature: t.net.security[1].origin.sign(routeErrorSignedBytes(f2)) })
  inject(genuine)
  t.run(5)
  assert.is(t.total('routeErrorsAccepted'), 1)
  t.run(2000)
  inject(genuine)
  t.run(200)
  assert.is(t.total('routeErrorsAccepted'), 1, 'a replay blames nothing')
})

test('route error codec: round trip and a total decoder', () => {
  const m = { source: 1, dst: 9, reporter: 4, next: 5, counter: 77, path: [4, 3, 2, 1], signature: new Uint8Array(64).fill(1) }
  const d = decodeRouteError(encodeRouteError(m))
  assert.equal({ ...d, signature: [...d.signature] }, { type: 'route-error', ...m, signature: [...m.signature] })
  checkDecoderProperties({
    decode: decodeRouteError,
    valid: fc.record({ counter: fc.integer({ min: 0, max: 0xffffffff }), n: fc.integer({ min: 2, max: 20 }) }).map(({ counter, n }) => ({
      source: 1000, dst: 2000, reporter: 10 + n, next: 5000, counter, path: [...Array.from({ length: n - 1 }, (_, i) => 10 + n - i), 1000], signature: new Uint8Array(64),
    })),
    encode: encodeRouteError,
    typeBytes: [MSG_ROUTE_ERROR],
  })
})

test('odsbr refuses to run without an authenticated network', () => {
  const net = testNetwork(2, [[1, 2]])
  assert.throws(() => new Odsbr({ link: net.links[0], scheduler: net.scheduler, rng: net.rng }), /authenticated network/)
})

test.run()
