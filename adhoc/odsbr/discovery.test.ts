import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { Proto } from '../protocols.ts'
import { testNetwork, type TestNetwork } from '../test-network.ts'
import { decodeDiscovery, encodeRequest, encodeResponse, type OdsbrRequest, type OdsbrResponse, type WeightEntry } from './discovery-messages.ts'
import { MAX_SPARE_CHECKS, RouteDiscovery } from './discovery.ts'
import { validateOdsbrConfig, type OdsbrConfig } from './odsbr-defaults.ts'
import type { Path } from './odsbr-types.ts'

interface Found {
  t: number
  node: Addr
  dst: Addr
  path: Path
  weight: number
  spares: ReadonlyArray<{ path: Path; weight: number }>
}

interface Net extends TestNetwork {
  nodes: RouteDiscovery[]
  routes: Found[]
  unreachable: Array<{ t: number; node: Addr; dst: Addr }>
  /** Sum of an odsbr counter over nodes, or one node's. */
  count(name: string, node?: Addr): number
  sec(name: string, node?: Addr): number
  /** Broadcast `payload` on node `id`'s ODSBR port now, as if node id sent it. */
  inject(id: Addr, payload: Uint8Array): void
}

interface NetOptions {
  config?: Partial<OdsbrConfig>
  security?: Record<string, unknown>
  weights?: Record<number, WeightEntry[]>
  /** Return true to keep a payload node `id` sends off the air (the test sends it itself). */
  hold?: (id: Addr, payload: Uint8Array) => boolean
  seed?: number
}

function chain(n: number): Array<[Addr, Addr]> {
  return Array.from({ length: n - 1 }, (_, i) => [i + 1, i + 2] as [Addr, Addr])
}

const WARM_UP_MS = 1000

function odsbrNet(n: number, pairs: Array<[Addr, Addr]>, o: NetOptions = {}): Net {
  const t = testNetwork(n, pairs, { seed: o.seed, link: { beaconIntervalMs: 0 }, security: o.security ?? {} })
  const config = validateOdsbrConfig(o.config ?? {})
  const routes: Found[] = []
  const unreachable: Net['unreachable'] = []
  const nodes = t.links.map((link, i) => {
    const id = i + 1
    const port = link.port(Proto.ODSBR)
    const d = new RouteDiscovery({
      self: id,
      auth: t.security[i].origin,
      config,
      scheduler: t.scheduler,
      rng: t.rng.fork('odsbr', id),
      metrics: t.metrics.scope('odsbr', id),
      send: (payload, delayMs) => {
        if (o.hold?.(id, payload)) return
        t.scheduler.at(delayMs, () => port.send(BROADCAST, payload))
      },
      weightList: () => o.weights?.[id] ?? [],
    })
    port.on('receive', (rx) => d.receive(rx.from, rx.payload))
    d.on('route', (dst, path, weight, spares) => routes.push({ t: t.scheduler.now(), node: id, dst, path, weight, spares }))
    d.on('unreachable', (dst) => unreachable.push({ t: t.scheduler.now(), node: id, dst }))
    return d
  })
  // Link security handshakes first (a frame from a stranger is refused while it starts one).
  for (const link of t.links) link.send(BROADCAST, Proto.EXPERIMENTAL, Uint8Array.of(0))
  t.scheduler.run({ until: WARM_UP_MS })
  return {
    ...t,
    nodes,
    routes,
    unreachable,
    count: (name, node) => (node === undefined ? t.metrics.total('odsbr', name) : t.metrics.value('odsbr', node, name)),
    sec: (name, node) => (node === undefined ? t.metrics.total('sec', name) : t.metrics.value('sec', node, name)),
    inject: (id, payload) => t.links[id - 1].port(Proto.ODSBR).send(BROADCAST, payload),
  }
}

const BAD = ['requestBadSignature', 'responseBadSignature', 'responseWrongSender', 'responseTooLong', 'decodeErrors', 'discoveryFailures']

function noTrouble(net: Net): void {
  for (const name of BAD) assert.is(net.count(name), 0, name)
  assert.is(net.sec('originBadSignature'), 0, 'originBadSignature')
}

test('chain 1-2-3-4-5: source 1 finds [1,2,3,4,5]; signed, verified, flooded both ways', () => {
  const net = odsbrNet(5, chain(5))
  net.nodes[0].discover(5)
  net.nodes[0].discover(5) // idempotent while running
  assert.ok(net.nodes[0].active(5))
  net.scheduler.run({ until: 5_000 })
  assert.equal(net.routes.map((r) => [r.node, r.dst, r.path, r.weight]), [[1, 5, [1, 2, 3, 4, 5], 4]])
  assert.not.ok(net.nodes[0].active(5))
  noTrouble(net)
  assert.is(net.count('requestsSent'), 1)
  assert.is(net.count('requestsForwarded'), 3, 'nodes 2, 3, 4 rebroadcast the request')
  assert.is(net.count('responsesSent', 5), 1)
  assert.is(net.count('responsesForwarded'), 3, 'nodes 4, 3, 2 rebroadcast the response')
  assert.is(net.count('routesFound', 1), 1)
  // Every relay verified the destination's signature and the hops before it, each once.
  assert.is(net.sec('originVerified', 4), 2, 'node 4: the request, the destination')
  assert.is(net.sec('originVerified', 2), 4, 'node 2: the request, the destination, hops 4 and 3')
  assert.is(net.sec('originVerified', 1), 4, 'node 1: the destination, hops 4, 3, 2')
  // The route came within responseCollectMs of the first verified response.
  assert.ok(net.routes[0].t < WARM_UP_MS + 400, `route at ${net.routes[0].t} ms`)
})

test('diamond: a heavy link in the source weight list is avoided; the lighter path wins even when it arrives later', () => {
  // 1-2-5 (two links) and 1-3-4-5 (three links); the source convicted 2-5.
  const pairs: Array<[Addr, Addr]> = [[1, 2], [2, 5], [1, 3], [3, 4], [4, 5]]
  const plainNet = odsbrNet(5, pairs)
  plainNet.nodes[0].discover(5)
  plainNet.scheduler.run({ until: 5_000 })
  assert.equal(plainNet.routes.map((r) => [r.path, r.weight]), [[[1, 2, 5], 2]])

  const net = odsbrNet(5, pairs, { weights: { 1: [{ a: 2, b: 5, weight: 4 }] } })
  const heardAt1: OdsbrResponse[] = []
  net.links[0].port(Proto.ODSBR).on('receive', (rx) => {
    const m = decodeDiscovery(rx.payload)
    if (m.type === 'response') heardAt1.push(m)
  })
  net.nodes[0].discover(5)
  net.scheduler.run({ until: 5_000 })
  assert.equal(net.routes.map((r) => [r.path, r.weight]), [[[1, 3, 4, 5], 3]])
  assert.equal(heardAt1.map((m) => m.hops.map((h) => h.node)), [[2], [4, 3]], 'the heavy short path arrived first')
  assert.equal(heardAt1[0].weights, [{ a: 2, b: 5, weight: 4 }], 'the destination echoed the weight list')
  noTrouble(net)
})

test('diamond with equal weights: the first verified response is the route, the equal one a spare', () => {
  const net = odsbrNet(4, [[1, 2], [2, 4], [1, 3], [3, 4]], { config: { floodJitterMs: 30 } })
  const heardAt1: Addr[][] = []
  net.links[0].port(Proto.ODSBR).on('receive', (rx) => {
    const m = decodeDiscovery(rx.payload)
    if (m.type === 'response') heardAt1.push(m.hops.map((h) => h.node))
  })
  net.nodes[0].discover(4)
  net.scheduler.run({ until: 5_000 })
  assert.is(heardAt1.length, 2)
  assert.equal(net.routes.map((r) => [r.path, r.weight, r.spares]), [[[1, ...heardAt1[0], 4], 2, [{ path: [1, ...heardAt1[1], 4], weight: 2 }]]])
  assert.is(net.count('responseHeavier', 1), 0, 'the source verifies equal and heavier responses too (spares)')
  noTrouble(net)
})

/** A response from 6 for source 1 as heard by node 2 on the chain 1-…-6: hops [5, 4, 3]. */
function capturedResponse(): OdsbrResponse {
  const net = odsbrNet(6, chain(6))
  let got: OdsbrResponse | undefined
  net.links[1].port(Proto.ODSBR).on('receive', (rx) => {
    const m = decodeDiscovery(rx.payload)
    if (m.type === 'response' && rx.from === 3) got = m
  })
  net.nodes[0].discover(6)
  net.scheduler.run({ until: 5_000 })
  assert.ok(got !== undefined)
  assert.equal(got.hops.map((h) => h.node), [5, 4, 3])
  return got
}

test('RESPONSE with a forged, reordered or removed hop: dropped at the next hop (responseBadSignature); the genuine one is relayed', () => {
  const captured = capturedResponse()
  // The same network keys (same seed), wired as a star around node 2 so any node can talk to it.
  const net = odsbrNet(6, [[2, 1], [2, 3], [2, 4], [2, 5], [2, 6]])
  const [h5, h4, h3] = captured.hops
  const forged = h4.signature.slice()
  forged[10] ^= 1
  const variants: Array<[string, Addr, OdsbrResponse]> = [
    ['forged hop signature', 3, { ...captured, hops: [h5, { node: 4, signature: forged }, h3] }],
    ['hop 4 signed by another key', 3, { ...captured, hops: [h5, { node: 4, signature: h3.signature }, h3] }],
    ['hops 4 and 3 reordered', 4, { ...captured, hops: [h5, h3, h4] }],
    ['hop 4 removed', 3, { ...captured, hops: [h5, h3] }],
    ['destination signature forged', 3, { ...captured, dstSignature: forged }],
    ['weight list altered', 3, { ...captured, weights: [{ a: 2, b: 3, weight: 1 }] }],
  ]
  variants.forEach(([what, via, m], i) => {
    net.inject(via, encodeResponse(m))
    net.scheduler.run({ until: net.scheduler.now() + 200 })
    assert.is(net.count('responseBadSignature', 2), i + 1, what)
    assert.is(net.count('responsesForwarded', 2), 0, what)
  })
  net.inject(3, encodeResponse(captured))
  net.scheduler.run({ until: net.scheduler.now() + 200 })
  assert.is(net.count('responsesForwarded', 2), 1, 'the genuine response is relayed')
  assert.is(net.count('responseBadSignature', 2), variants.length)
  // A copy that does not come from its last hop is refused before any verification.
  net.inject(4, encodeResponse(captured))
  net.scheduler.run({ until: net.scheduler.now() + 200 })
  assert.is(net.count('responseWrongSender', 2), 1)
})

test('the source verifies at most MAX_SPARE_CHECKS equal or heavier responses per discovery', () => {
  // 1-2-3 plus nodes 4..40 with certificates but no links. Node 2 (Byzantine) answers the
  // discovery with many made-up heavier paths 1-2-X-3: each is a new path, each signature bad.
  const net = odsbrNet(40, [[1, 2], [2, 3]], { config: { responseCollectMs: 5_000 } })
  let genuine: OdsbrResponse | undefined
  net.links[0].port(Proto.ODSBR).on('receive', (rx) => {
    const m = decodeDiscovery(rx.payload)
    if (m.type === 'response') genuine ??= m
  })
  net.nodes[0].discover(3)
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.ok(genuine !== undefined, 'the genuine response arrived and the source is collecting')
  for (let x = 4; x <= 40; x++) {
    const fake = { ...genuine, hops: [{ node: x, signature: new Uint8Array(64).fill(x) }, ...genuine.hops] }
    net.inject(2, encodeResponse(fake))
  }
  net.inject(2, encodeResponse(genuine)) // the same path again: dropped before verification
  net.scheduler.run({ until: net.scheduler.now() + 500 })
  assert.is(net.count('responseBadSignature', 1), MAX_SPARE_CHECKS)
  assert.is(net.count('responseHeavier', 1), 37 - MAX_SPARE_CHECKS + 1)
  net.scheduler.run({ until: net.scheduler.now() + 6_000 })
  assert.equal(net.routes.map((r) => [r.path, r.spares]), [[[1, 2, 3], []]])
})

test('cutting the last hops (a "virtual link") is not detected by discovery, as the paper says', () => {
  const captured = capturedResponse()
  const net = odsbrNet(6, [[2, 1], [2, 3], [2, 4], [2, 5], [2, 6]])
  net.inject(4, encodeResponse({ ...captured, hops: captured.hops.slice(0, 2) }))
  net.scheduler.run({ until: net.scheduler.now() + 200 })
  assert.is(net.count('responsesForwarded', 2), 1)
  assert.is(net.count('responseBadSignature', 2), 0)
})

test('a RESPONSE that already holds this node or is too long: dropped before verification', () => {
  const captured = capturedResponse()
  const net = odsbrNet(6, [[2, 1], [2, 3], [2, 4], [2, 5], [2, 6]], { config: { maxHops: 4 } })
  const verified = net.sec('originVerified', 2)
  net.inject(3, encodeResponse(captured)) // [5,4,3] + 2 → 1: 5 links > maxHops 4
  net.scheduler.run({ until: net.scheduler.now() + 200 })
  assert.is(net.count('responseTooLong', 2), 1)
  assert.is(net.sec('originVerified', 2), verified)
  const net2 = odsbrNet(6, [[2, 1], [2, 3], [2, 4], [2, 5], [2, 6]])
  net2.inject(3, encodeResponse({ ...captured, hops: [captured.hops[0], { node: 2, signature: captured.hops[1].signature }, captured.hops[2]] }))
  net2.scheduler.run({ until: net2.scheduler.now() + 200 })
  assert.is(net2.count('responseLoops', 2), 1)
  assert.is(net2.count('responseBadSignature', 2), 0)
})

test('a forged REQUEST is not forwarded and does not stop the genuine one with the same id', () => {
  let genuine: Uint8Array | undefined
  const net = odsbrNet(5, chain(5), {
    hold: (id, payload) => {
      if (id !== 1 || genuine !== undefined || decodeDiscovery(payload).type !== 'request') return false
      genuine = payload
      return true
    },
  })
  net.nodes[0].discover(5)
  assert.ok(genuine !== undefined)
  const q = decodeDiscovery(genuine) as OdsbrRequest
  const sig = q.signature.slice()
  sig[0] ^= 0x80
  // Node 2 is adjacent to 1 and 3: it floods two forged copies with the genuine (source, reqId) first.
  net.inject(2, encodeRequest({ ...q, signature: sig }))
  net.inject(2, encodeRequest({ ...q, dst: 4, signature: q.signature }))
  net.scheduler.run({ until: WARM_UP_MS + 50 })
  assert.is(net.count('requestBadSignature', 3), 2)
  assert.is(net.count('requestBadSignature', 4), 0, 'node 3 did not forward them')
  assert.is(net.count('requestsForwarded'), 0)
  net.inject(1, genuine)
  net.scheduler.run({ until: 5_000 })
  assert.equal(net.routes.map((r) => r.path), [[1, 2, 3, 4, 5]])
  assert.is(net.count('requestsForwarded', 3), 1)
  assert.is(net.count('requestBadSignature'), 2, 'node 1 heard the copies too: its own id, dropped unverified')
  assert.ok(net.count('requestDuplicates', 1) >= 2)
})

test('roster: false — certificates are fetched while requests and responses wait; the route is found', () => {
  const net = odsbrNet(5, chain(5), { security: { roster: false } })
  net.nodes[0].discover(5)
  net.scheduler.run({ until: 10_000 })
  assert.equal(net.routes.map((r) => r.path), [[1, 2, 3, 4, 5]])
  noTrouble(net)
  assert.ok(net.sec('certFetches') > 0)
  assert.is(net.sec('certFetchTimeouts'), 0)
  assert.ok(net.count('verifyPending', 5) >= 1, "node 5 waited for 1's certificate")
  assert.ok(net.count('verifyPending', 1) >= 1, "node 1 waited for 5's (and the hops') certificates")
})

test('retries after discoveryTimeoutMs, then unreachable; a later discovery starts afresh', () => {
  const net = odsbrNet(4, [[1, 2], [2, 3]], { config: { requestRetries: 2, discoveryTimeoutMs: 1000 } })
  net.nodes[0].discover(4)
  net.scheduler.run({ until: 10_000 })
  assert.equal(net.unreachable.map((u) => [u.node, u.dst, u.t]), [[1, 4, WARM_UP_MS + 3000]])
  assert.is(net.count('requestsSent', 1), 3)
  assert.is(net.count('discoveryFailures', 1), 1)
  assert.is(net.count('requestsForwarded'), 3 * 2, 'each attempt is a new request id')
  assert.ok(net.count('requestDuplicates', 1) >= 3, 'node 1 heard its own requests back')
  net.nodes[0].discover(3)
  net.scheduler.run({ until: 20_000 })
  assert.equal(net.routes.map((r) => r.path), [[1, 2, 3]])
})

test('maxHops bounds the request flood', () => {
  const net = odsbrNet(5, chain(5), { config: { maxHops: 3, requestRetries: 0 } })
  net.nodes[0].discover(5)
  net.nodes[0].discover(4)
  net.scheduler.run({ until: 10_000 })
  assert.equal(net.routes.map((r) => r.path), [[1, 2, 3, 4]])
  assert.equal(net.unreachable.map((u) => u.dst), [5])
})

test('malformed payloads are counted; other message types are ignored; close stops everything', () => {
  const net = odsbrNet(3, chain(3))
  net.inject(1, Uint8Array.of(1, 0, 0))
  net.inject(1, Uint8Array.of(3, 1, 2, 3))
  net.scheduler.run({ until: net.scheduler.now() + 100 })
  assert.is(net.count('decodeErrors', 2), 1)
  assert.is(net.count('ignoredMessages', 2), 1)
  net.nodes[0].discover(3)
  net.nodes[0].close()
  net.scheduler.run({ until: 10_000 })
  assert.equal(net.routes, [])
  assert.equal(net.unreachable, [])
  assert.throws(() => net.nodes[1].discover(2), /cannot discover/)
})

test('the request weight list: heaviest first, base-weight and invalid entries dropped, capped', () => {
  const list: WeightEntry[] = [
    { a: 2, b: 3, weight: 2 }, { a: 3, b: 4, weight: 16 }, { a: 4, b: 4, weight: 8 }, { a: 3, b: 2, weight: 4 },
    { a: 5, b: 6, weight: 1 }, { a: 6, b: 7, weight: 100_000 }, { a: 7, b: 8, weight: 8 },
  ]
  const sent: OdsbrRequest[] = []
  const net = odsbrNet(2, [[1, 2]], { config: { maxWeightListEntries: 3 }, weights: { 1: list }, hold: (id, p) => { sent.push(decodeDiscovery(p) as OdsbrRequest); return true } })
  net.nodes[0].discover(2)
  assert.equal(sent[0].weights, [{ a: 6, b: 7, weight: 0xffff }, { a: 3, b: 4, weight: 16 }, { a: 7, b: 8, weight: 8 }])
})

test('runs are deterministic', () => {
  const run = (): string => {
    const net = odsbrNet(6, [[1, 2], [2, 3], [3, 6], [1, 4], [4, 5], [5, 6], [2, 5]], { security: { roster: false } })
    net.nodes[0].discover(6)
    net.scheduler.run({ until: 5_000 })
    return JSON.stringify([net.routes, net.metrics.totals()])
  }
  assert.is(run(), run())
})

test.run()
