import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST, groupAddr } from '../core/addr.ts'
import { ConfigError, SpinmeshError } from '../core/errors.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium } from '../hardware/mock-radio.ts'
import type { Delivery } from './net-protocol.ts'
import { testNetwork } from './test-network.ts'
import { Flood, type FloodForwardCandidate } from './flood.ts'
import { DEFAULT_FLOOD_CONFIG, validateFloodConfig, type FloodConfig } from './flood-defaults.ts'
import { LinkLayer } from './link.ts'

interface FloodNet {
  scheduler: SimScheduler
  medium: MockMedium
  metrics: MetricsRegistry
  links: LinkLayer[]
  floods: Flood[]
  got: Delivery[][]
  total(name: string): number
}

/** Nodes 1..n joined by `pairs` (undirected), each with a link layer and a flood instance. */
function floodNet(
  n: number,
  pairs: Array<[number, number]>,
  o: { config?: Partial<FloodConfig>; filter?: (id: number) => ((p: FloodForwardCandidate) => boolean) | undefined; loss?: number; seed?: number } = {},
): FloodNet {
  const { scheduler, rng, medium, metrics, links } = testNetwork(n, pairs, { seed: o.seed, loss: o.loss, link: { beaconIntervalMs: 0 } })
  const floods: Flood[] = []
  const got: Delivery[][] = []
  links.forEach((link, i) => {
    const id = i + 1
    const flood = new Flood({ link, scheduler, rng: rng.fork('flood', id), metrics: metrics.scope('flood', id), config: o.config, forwardFilter: o.filter?.(id) })
    const mine: Delivery[] = []
    flood.on('deliver', (d) => mine.push(d))
    floods.push(flood)
    got.push(mine)
  })
  return { scheduler, medium, metrics, links, floods, got, total: (name) => metrics.total('flood', name) }
}

function chain(n: number): Array<[number, number]> {
  return Array.from({ length: n - 1 }, (_, i) => [i + 1, i + 2] as [number, number])
}

function grid(w: number, h: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  const id = (x: number, y: number) => y * w + x + 1
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) out.push([id(x, y), id(x + 1, y)])
      if (y + 1 < h) out.push([id(x, y), id(x, y + 1)])
    }
  }
  return out
}

test('a broadcast flood on a 6-node chain reaches every other node once, with the hop count', () => {
  const t = floodNet(6, chain(6))
  t.floods[0].send(BROADCAST, Uint8Array.of(42))
  t.scheduler.run()
  assert.is(t.got[0].length, 0, 'the origin does not deliver to itself')
  for (let i = 1; i < 6; i++) {
    assert.is(t.got[i].length, 1, `node ${i + 1}`)
    assert.equal({ ...t.got[i][0], payload: [...t.got[i][0].payload], at: 0 }, { origin: 1, dst: BROADCAST, payload: [42], hops: i, at: 0 })
  }
  assert.is(t.total('originated'), 1)
  assert.is(t.total('forwarded'), 5, 'every node but the origin relays once (the last one too: it cannot know)')
  assert.is(t.total('delivered'), 5)
  assert.is(t.total('duplicates'), 5, 'each node hears its successor relay the packet back (the origin its own echo)')
  assert.is(t.scheduler.pending, 0)
})

test('a 5 × 5 grid: many packets from several origins, delivered to all exactly once', () => {
  const t = floodNet(25, grid(5, 5), { seed: 4 })
  const origins = [1, 13, 25]
  for (let k = 0; k < 30; k++) t.scheduler.at(k * 20, () => t.floods[origins[k % 3] - 1].send(BROADCAST, Uint8Array.of(k)))
  t.scheduler.run()
  for (let i = 0; i < 25; i++) {
    const keys = t.got[i].map((d) => `${d.origin}/${d.payload[0]}`)
    assert.is(new Set(keys).size, keys.length, `node ${i + 1}: no duplicate delivery`)
    const expected = Array.from({ length: 30 }, (_, k) => k).filter((k) => origins[k % 3] !== i + 1).length
    assert.is(keys.length, expected, `node ${i + 1} got every packet not its own`)
  }
  assert.ok(t.total('duplicates') > 0)
  const maxHops = Math.max(...t.got.flat().map((d) => d.hops))
  assert.is(maxHops, 8, 'corner to corner is 8 hops on a 5 × 5 grid')
})

test('ttl limits the reach: ttl 3 on a chain reaches 3 hops', () => {
  const t = floodNet(6, chain(6), { config: { ttl: 3 } })
  t.floods[0].send(BROADCAST, Uint8Array.of(1))
  t.scheduler.run()
  assert.equal(t.got.map((g) => g.length), [0, 1, 1, 1, 0, 0])
  assert.is(t.total('ttlExpired'), 1, 'node 4 received ttl 1 and stopped')
})

test('a black hole (forwardFilter false) cuts a chain; a grey hole on a grid is routed around', () => {
  const t = floodNet(5, chain(5), { filter: (id) => (id === 3 ? () => false : undefined) })
  t.floods[0].send(BROADCAST, Uint8Array.of(1))
  t.scheduler.run()
  assert.equal(t.got.map((g) => g.length), [0, 1, 1, 0, 0], 'the black hole still delivers to itself but relays nothing')
  assert.is(t.total('filtered'), 1)
  const seen: FloodForwardCandidate[] = []
  const g = floodNet(9, grid(3, 3), { filter: (id) => (id === 5 ? (p) => (seen.push(p), false) : undefined) })
  g.floods[0].send(groupAddr(0), Uint8Array.of(7))
  for (const f of g.floods) f.join(groupAddr(0))
  g.floods[8].leave(groupAddr(0))
  g.scheduler.run()
  assert.equal(g.got.map((x) => x.length), [0, 1, 1, 1, 1, 1, 1, 1, 0])
  assert.equal(seen.map((p) => [p.origin, p.dst, p.hops]), [[1, groupAddr(0), 2]])
})

test('unicast through a flood: the destination delivers and does not relay; others do not deliver', () => {
  const t = floodNet(5, chain(5))
  t.floods[0].send(3, Uint8Array.of(5))
  t.scheduler.run()
  assert.equal(t.got.map((g) => g.length), [0, 0, 1, 0, 0])
  assert.is(t.got[2][0].dst, 3)
  assert.is(t.total('forwarded'), 1, 'only node 2 relays; node 3 is the destination')
})

test('duplicates are never re-delivered, even when the medium drops frames and relays race', () => {
  const t = floodNet(25, grid(5, 5), { loss: 0.2, seed: 8, config: { maxJitterMs: 2 } })
  for (let k = 0; k < 40; k++) t.scheduler.at(k * 5, () => t.floods[12].send(BROADCAST, Uint8Array.of(k)))
  t.scheduler.run()
  let delivered = 0
  for (const g of t.got) {
    const keys = g.map((d) => d.payload[0])
    assert.is(new Set(keys).size, keys.length)
    delivered += keys.length
  }
  assert.ok(delivered > 24 * 40 * 0.9, `most delivered despite 20 % loss (${delivered} of 960)`)
})

test('flood packets larger than the radio MTU are fragmented by the link and still arrive', () => {
  const t = floodNet(3, chain(3))
  const big = Uint8Array.from({ length: 3000 }, (_, i) => i & 255)
  t.floods[0].send(BROADCAST, big)
  t.scheduler.run()
  assert.equal([...t.got[2][0].payload], [...big])
})

test('send() checks; close() cancels waiting rebroadcasts and detaches', () => {
  const t = floodNet(3, chain(3), { config: { maxJitterMs: 100 } })
  const f = t.floods[0]
  const code = (fn: () => void) => {
    try {
      fn()
    } catch (e) {
      return e instanceof SpinmeshError ? e.code : (e as Error).name
    }
    return 'none'
  }
  assert.is(code(() => f.send(1, Uint8Array.of(1))), 'RangeError')
  assert.is(code(() => f.send(0, Uint8Array.of(1))), 'RangeError')
  assert.is(code(() => f.send(BROADCAST, new Uint8Array(f.maxPayload + 1))), 'ERR_DATAGRAM_TOO_LARGE')
  assert.is(code(() => f.join(5)), 'RangeError')
  f.send(BROADCAST, Uint8Array.of(1))
  t.scheduler.run({ until: 5 }) // node 2 has it and waits to relay
  assert.is(t.got[1].length, 1)
  for (const x of t.floods) x.close()
  t.scheduler.run()
  assert.is(t.got[2].length, 0, 'the relay was cancelled')
  assert.is(t.scheduler.pending, 0)
  assert.is(code(() => f.send(BROADCAST, Uint8Array.of(1))), 'ERR_CLOSED')
})

test('config errors are ConfigErrors naming the field under configPath; unknown fields are errors', () => {
  const t = floodNet(1, [])
  const err = (config: Record<string, unknown>, configPath?: string): string => {
    try {
      new Flood({ link: t.links[0], scheduler: t.scheduler, rng: new SeededRng(1), config, configPath }).close()
    } catch (e) {
      assert.instance(e, ConfigError)
      return (e as Error).message
    }
    return 'none'
  }
  assert.is(err({ ttl: 0 }), 'flood.ttl: must be >= 1, got 0')
  assert.is(err({ ttl: 0 }, 'protocolConfig'), 'protocolConfig.ttl: must be >= 1, got 0')
  assert.is(err({ maxJitterMs: -1 }), 'flood.maxJitterMs: must be >= 0, got -1')
  assert.is(err({ dedupWindow: 33 }), 'flood.dedupWindow: must be a power of two, got 33')
  assert.is(err({ ttl: 1.5 }), 'flood.ttl: must be an integer, got 1.5')
  assert.match(err({ jitter: 5 }), /^flood\.jitter: unknown field/)
  assert.is(err({ ttl: 4, maxJitterMs: 0 }), 'none')
  assert.equal(validateFloodConfig({ ttl: 4 }, 'protocolConfig'), { ...DEFAULT_FLOOD_CONFIG, ttl: 4 })
})

test('a restarted origin (new random sequence start) is heard again; nothing is delivered twice', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const t = floodNet(3, chain(3), { seed })
    for (let k = 0; k < 5; k++) t.scheduler.at(k * 10, () => t.floods[0].send(BROADCAST, Uint8Array.of(k)))
    t.scheduler.run()
    t.floods[0].close()
    const again = new Flood({ link: t.links[0], scheduler: t.scheduler, rng: new SeededRng(`restart ${seed}`), metrics: t.metrics.scope('flood', 1) })
    for (let k = 0; k < 10; k++) t.scheduler.at(k * 10, () => again.send(BROADCAST, Uint8Array.of(100 + k)))
    t.scheduler.run()
    // On a chain (no second path) each hop drops its first resyncAfter − 1 before re-synchronising.
    const lost = DEFAULT_FLOOD_CONFIG.dedupResyncAfter - 1
    for (const hop of [1, 2]) {
      const after = t.got[hop].filter((d) => d.payload[0] >= 100).map((d) => d.payload[0])
      assert.is(new Set(after).size, after.length)
      assert.ok(after.length >= 10 - hop * lost, `seed ${seed}, hop ${hop}: ${after.length} of 10 after the restart`)
      assert.is(t.got[hop].length - after.length, 5)
    }
  }
})

test('same seed, same deliveries and counters', () => {
  const run = () => {
    const t = floodNet(16, grid(4, 4), { loss: 0.1, seed: 12 })
    for (let k = 0; k < 20; k++) t.scheduler.at(k * 7, () => t.floods[k % 16].send(BROADCAST, Uint8Array.of(k)))
    t.scheduler.run()
    return JSON.stringify([t.metrics.totals(), t.got.map((g) => g.map((d: Delivery) => [d.origin, d.hops, d.at]))])
  }
  assert.is(run(), run())
})

test.run()

