import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../core/rng.ts'
import { configError } from '../core/testing.ts'
import { assignAdversaries, SEQ_LEAP } from './adversaries.ts'
import type { Aodv } from '../adhoc/aodv/aodv.ts'
import type { MetricsResult } from './metrics-result.ts'
import { buildSimulation, runSimulation, type Simulation } from './runner.ts'
import { parseScenario, type Scenario } from './scenario.ts'
import { decodeAppHeader, encodeAppPacket } from './traffic.ts'

const pkt = { origin: 1, dst: 2, seq: 0, hops: 1, payload: new Uint8Array(6) }

/** The field path of the ConfigError `fn` throws. */
const err = (fn: () => unknown): string => configError(fn).path

test('a fraction of non-endpoint nodes is chosen, deterministically', () => {
  const trusted = new Set([1, 2, 3])
  const a = assignAdversaries([{ model: 'blackhole', fraction: 0.2, dropProbability: 0.5 }], 20, trusted, new SeededRng(4))
  const b = assignAdversaries([{ model: 'blackhole', fraction: 0.2, dropProbability: 0.5 }], 20, trusted, new SeededRng(4))
  assert.equal([...a.keys()], [...b.keys()])
  assert.is(a.size, 4)
  for (const id of a.keys()) assert.not.ok(trusted.has(id))
  for (const beh of a.values()) assert.not.ok(beh.forwardFilter(pkt))
})

test('a grey hole drops about its drop probability', () => {
  const m = assignAdversaries([{ model: 'greyhole', nodes: [7], dropProbability: 0.3 }], 10, new Set(), new SeededRng(1))
  const g = m.get(7)!
  let forwarded = 0
  for (let i = 0; i < 10_000; i++) if (g.forwardFilter(pkt)) forwarded++
  assert.ok(Math.abs(forwarded / 10_000 - 0.7) < 0.02, `forwarded ${forwarded}`)
})

test('impossible or unavailable requests are ConfigErrors naming the field', () => {
  assert.is(err(() => assignAdversaries([{ model: 'wormhole', nodes: [4, 5, 6], dropProbability: 0.5 }], 10, new Set(), new SeededRng(1))), 'adversaries.0.nodes')
  assert.is(err(() => assignAdversaries([{ model: 'blackhole', nodes: [1], dropProbability: 0.5 }], 10, new Set([1]), new SeededRng(1))), 'adversaries.0.nodes')
  assert.is(err(() => assignAdversaries([{ model: 'blackhole', fraction: 1, dropProbability: 0.5 }], 10, new Set([1]), new SeededRng(1))), 'adversaries.0.fraction')
})

test('wormholes pair their colluders; an overlay joins all of them; dropData switches the dropping', () => {
  const m = assignAdversaries([
    { model: 'wormhole', nodes: [4, 9, 5, 8], dropProbability: 0.5 },
    { model: 'overlay-wormhole', nodes: [10, 11, 12], dropProbability: 0.5, dropData: false },
  ], 12, new Set(), new SeededRng(1))
  assert.equal(m.get(4)!.tunnelPeers, [9])
  assert.equal(m.get(9)!.tunnelPeers, [4])
  assert.equal(m.get(5)!.tunnelPeers, [8])
  assert.equal(m.get(11)!.tunnelPeers, [10, 12])
  assert.not.ok(m.get(4)!.forwardFilter(pkt))
  assert.ok(m.get(10)!.forwardFilter(pkt))
  // a fraction chooses whole pairs: 0.3 of 10 nodes → 2·round(1.5) = 4 colluders, paired among themselves
  const f = assignAdversaries([{ model: 'wormhole', fraction: 0.3, dropProbability: 0.5 }], 10, new Set([1]), new SeededRng(3))
  assert.is(f.size, 4)
  for (const [id, b] of f) assert.is(f.get(b.tunnelPeers![0])!.tunnelPeers![0], id)
})

test('rushing overrides the flood jitter; modification flips the last payload byte in place; forged replies claim a much newer seq', () => {
  const m = assignAdversaries([
    { model: 'flood-rushing', nodes: [2], dropProbability: 0.5 },
    { model: 'modification', nodes: [3], dropProbability: 0.5 },
    { model: 'forged-replies', nodes: [4], dropProbability: 0.5, dropData: false },
  ], 10, new Set(), new SeededRng(1))
  assert.equal(m.get(2)!.configOverrides, { floodJitterMs: 0 })
  assert.not.ok(m.get(2)!.forwardFilter(pkt))
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 0x0f, 9])
  const c = { ...pkt, payload: bytes.subarray(2, 8) }
  assert.ok(m.get(3)!.forwardFilter(c))
  assert.equal([...bytes], [1, 2, 3, 4, 5, 6, 7, 0xf0, 9])
  const forge = m.get(4)!.forgeReply!
  const q = { type: 'rreq', j: false, r: false, g: false, d: false, u: false, hops: 1, ttl: 5, id: 1, dst: 9, dstSeq: 7, origin: 1, originSeq: 3 } as const
  assert.equal(forge(q, undefined), { hops: 1, dstSeq: 7 + SEQ_LEAP })
  assert.equal(forge(q, 20), { hops: 1, dstSeq: 20 + SEQ_LEAP })
  assert.equal(forge({ ...q, u: true }, undefined), { hops: 1, dstSeq: SEQ_LEAP })
  assert.equal(forge({ ...q, dstSeq: 0xffffffff }, undefined)!.dstSeq, SEQ_LEAP - 1, 'wraps around')
  assert.ok(m.get(4)!.forwardFilter(pkt))
})

test('model-specific errors name the field', () => {
  const rng = new SeededRng(1)
  assert.is(err(() => assignAdversaries([{ model: 'overlay-wormhole', nodes: [4], dropProbability: 0.5 }], 10, new Set(), rng)), 'adversaries.0.nodes')
  assert.is(err(() => assignAdversaries([{ model: 'overlay-wormhole', fraction: 0.1, dropProbability: 0.5 }], 10, new Set(), rng)), 'adversaries.0.fraction')
  assert.is(err(() => assignAdversaries([{ model: 'wormhole', nodes: [4, 4], dropProbability: 0.5 }], 10, new Set(), rng)), 'adversaries.0.nodes')
  assert.is(err(() => assignAdversaries([{ model: 'greyhole', nodes: [4], dropProbability: 0.5, dropData: false }], 10, new Set(), rng)), 'adversaries.0.dropData')
  assert.is(err(() => assignAdversaries([{ model: 'wormhole', fraction: 1, dropProbability: 0.5 }], 10, new Set([1]), rng)), 'adversaries.0.fraction')
  assert.throws(() => parseScenario('duration: 1\nnodes: { count: 4 }\nfield: { width: 10, height: 10 }\nadversaries: [{ model: wormhole, nodes: [2], dropData: maybe }]'), /adversaries\.0\.dropData/)
})

// ---- each model on a small scenario ----------------------------------------------------------

const scenario = (positions: Array<[number, number]>, traffic: string, extra: string) => parseScenario(`
name: adversary
duration: 12
nodes: { count: ${positions.length}, placement: explicit, positions: ${JSON.stringify(positions)} }
field: { width: 500, height: 200 }
radio: { range: 150 }
protocol: aodv
traffic: [${traffic}]
${extra}`)

/** Node `from`'s AODV route to `to`. */
const routeOf = (sim: Simulation, from: number, to: number) => (sim.protocols.get(from) as Aodv).route(to)

const aodv = (sim: Simulation, id: number, name: string) => sim.metrics.value('aodv', id, name)

/** Build and run; the simulation (for its protocols and counters) and the metrics. */
function run(s: Scenario, seed = 1): { sim: Simulation; r: MetricsResult } {
  const sim = buildSimulation(s, { seed })
  const r = runSimulation(sim)
  return { sim, r }
}

// S = 1, two relays 2 (above) and 3 (below) that cannot hear each other, D = 4.
const DIAMOND: Array<[number, number]> = [[0, 100], [100, 180], [100, 20], [200, 100]]
const DIAMOND_FLOW = '{ pattern: unicast, from: 1, to: 4, start: 1, stop: 11, rate: 5, size: 64 }'

test('flood rushing: the rusher ends on the path every time (a plain black hole only sometimes), then drops', () => {
  let blackholeCaught = 0
  for (let seed = 1; seed <= 8; seed++) {
    const rushing = run(scenario(DIAMOND, DIAMOND_FLOW, 'adversaries: [{ model: flood-rushing, nodes: [3] }]'), seed)
    assert.is(routeOf(rushing.sim, 1, 4)?.nextHop, 3, `seed ${seed}: the route goes through the rusher`)
    assert.is(rushing.r.delivery.delivered, 0, `seed ${seed}`)
    const black = run(scenario(DIAMOND, DIAMOND_FLOW, 'adversaries: [{ model: blackhole, nodes: [3] }]'), seed)
    if (routeOf(black.sim, 1, 4)?.nextHop === 3) blackholeCaught++
  }
  assert.ok(blackholeCaught < 8, `without rushing the other relay wins some discoveries (black hole on the path ${blackholeCaught} of 8)`)
  // dropData: false: it only rushes, and relays
  const honest = run(scenario(DIAMOND, DIAMOND_FLOW, 'adversaries: [{ model: flood-rushing, nodes: [3], dropData: false }]'))
  assert.is(routeOf(honest.sim, 1, 4)?.nextHop, 3)
  assert.ok(honest.r.delivery.ratio > 0.95, String(honest.r.delivery.ratio))
})

// A 5-hop chain 1..6; colluders 7 (near 1) and 8 (near 6), 500 m apart, tunnelled.
const CHAIN: Array<[number, number]> = [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0], [500, 0], [0, 100], [500, 100]]
const CHAIN_FLOW = '{ pattern: unicast, from: 1, to: 6, start: 1, stop: 11, rate: 5, size: 64 }'

test('wormhole: routes go through the tunnel (authenticated network: the colluders are insiders), and die there', () => {
  const { sim, r } = run(scenario(CHAIN, CHAIN_FLOW, 'adversaries: [{ model: wormhole, nodes: [7, 8] }]'))
  assert.equal(sim.medium.tunnelPeers(7), [8])
  const route = routeOf(sim, 1, 6)
  assert.is(route?.nextHop, 7, 'the source routes into the wormhole')
  assert.is(route?.hops, 3, '1 → 7 ⇒ 8 → 6')
  assert.is(r.delivery.delivered, 0)
  assert.ok(aodv(sim, 7, 'dataDroppedFiltered') > 0)
  // a relaying wormhole delivers, over the short path
  const relaying = run(scenario(CHAIN, CHAIN_FLOW, 'adversaries: [{ model: wormhole, nodes: [7, 8], dropData: false }]'))
  assert.is(routeOf(relaying.sim, 1, 6)?.hops, 3)
  assert.ok(relaying.r.delivery.ratio > 0.95, String(relaying.r.delivery.ratio))
  assert.ok(aodv(relaying.sim, 8, 'dataForwarded') > 0)
  // without the wormhole the route is the chain's 5 hops
  const plain = run(scenario(CHAIN, CHAIN_FLOW, ''))
  assert.is(routeOf(plain.sim, 1, 6)?.hops, 5)
})

test('overlay wormhole: three colluders tunnelled to each other attract the route', () => {
  const pts: Array<[number, number]> = [...CHAIN, [250, 100]]
  const { sim, r } = run(scenario(pts, CHAIN_FLOW, 'adversaries: [{ model: overlay-wormhole, nodes: [7, 8, 9] }]'))
  assert.equal(sim.medium.tunnelPeers(9), [7, 8])
  assert.is(routeOf(sim, 1, 6)?.nextHop, 7)
  assert.is(r.delivery.delivered, 0)
})

const LINE: Array<[number, number]> = [[0, 0], [100, 0], [200, 0]]
const LINE_FLOW = '{ pattern: unicast, from: 1, to: 3, start: 1, stop: 11, rate: 5, size: 64 }'

test('modification: an authenticated destination refuses every altered packet; an open one delivers the altered bytes', () => {
  const secured = run(scenario(LINE, LINE_FLOW, 'adversaries: [{ model: modification, nodes: [2] }]'))
  assert.is(secured.r.delivery.delivered, 0)
  assert.ok(aodv(secured.sim, 3, 'dataDroppedBadAuth') >= secured.r.traffic.packetsSent - 1, String(aodv(secured.sim, 3, 'dataDroppedBadAuth')))
  const open = buildSimulation(scenario(LINE, LINE_FLOW, 'adversaries: [{ model: modification, nodes: [2] }]\nsecurity: { mode: open }'))
  const got: Uint8Array[] = []
  open.protocols.get(3)!.on('deliver', (d) => got.push(d.payload.slice()))
  const r = runSimulation(open)
  assert.ok(r.delivery.ratio > 0.95, String(r.delivery.ratio))
  assert.ok(got.length > 0)
  for (const p of got) {
    const sent = encodeAppPacket(0, decodeAppHeader(p).seq, 64)
    assert.is(p[63], sent[63] ^ 0xff, 'the last byte is flipped')
    assert.equal([...p.subarray(0, 63)], [...sent.subarray(0, 63)], 'the rest is intact')
  }
})

// A line 1–2–3–4 and a forger 5 next to 1 and 2 only.
const FORGE: Array<[number, number]> = [[0, 0], [100, 0], [200, 0], [300, 0], [50, 100]]
const FORGE_FLOW = '{ pattern: unicast, from: 1, to: 4, start: 1, stop: 11, rate: 5, size: 64 }'

test('forged replies: in an open network the forger attracts the route and drops the data', () => {
  const { sim, r } = run(scenario(FORGE, FORGE_FLOW, 'adversaries: [{ model: forged-replies, nodes: [5] }]\nsecurity: { mode: open }'))
  const route = routeOf(sim, 1, 4)
  assert.is(route?.nextHop, 5)
  assert.ok(route!.seq! >= SEQ_LEAP, `a much newer sequence number: ${route!.seq}`)
  assert.is(r.delivery.delivered, 0)
  assert.ok(aodv(sim, 5, 'dataDroppedFiltered') > 0)
  const honest = run(scenario(FORGE, FORGE_FLOW, 'security: { mode: open }'))
  assert.is(routeOf(honest.sim, 1, 4)?.nextHop, 2)
})

test('forged replies: in an authenticated network the forged RREP fails its signature and the route is honest', () => {
  const { sim, r } = run(scenario(FORGE, FORGE_FLOW, 'adversaries: [{ model: forged-replies, nodes: [5] }]'))
  assert.ok(aodv(sim, 1, 'rrepBadSignature') > 0, 'the source refuses the forged reply')
  assert.is(routeOf(sim, 1, 4)?.nextHop, 2)
  assert.ok(r.delivery.ratio > 0.95, String(r.delivery.ratio))
})

test.run()
