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
  t.stream(1, 6, 200)
  t.run(5000)
  const route = t.nodes[0].route(6)!
  assert.not.ok(route.includes(3), `the route avoids the black hole: ${route.join('-')}`)
  assert.ok(t.total('convictions') >= 1)
  const convicted = t.nodes[0].weights.list(10).map((e) => `${e.a}-${e.b}`)
  assert.ok(convicted.some((l) => l === '2-3' || l === '3-6'), `a link of node 3 is heavy: ${convicted.join(', ')}`)
  assert.not.ok(convicted.includes('1-2'), 'never the honest 1-2 link')
  const late = t.got[5].filter((d) => d.payload[0] + 256 * d.payload[1] >= 150).length
  assert.is(late, 50, 'after the conviction every packet arrives')
})

test('odsbr refuses to run without an authenticated network', () => {
  const net = testNetwork(2, [[1, 2]])
  assert.throws(() => new Odsbr({ link: net.links[0], scheduler: net.scheduler, rng: net.rng }), /authenticated network/)
})

test.run()
