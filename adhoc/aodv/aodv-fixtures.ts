/**
 * Test fixtures for AODV (used by adhoc/aodv/*.test.ts; not exported by index.ts): nodes 1..n on a
 * MockMedium with explicit links (exact topologies, no collisions), each with a LinkLayer (no
 * beacons by default) and an Aodv instance, and a trace of every AODV event. With `security` (the
 * fields of crypto/sim-network.ts, e.g. `{}` or `{ roster: false }`) the network is authenticated
 * and every Aodv gets its node's origin authentication.
 */
import type { Addr } from '../../core/addr.ts'
import { MetricsRegistry } from '../../core/metrics.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../../hardware/mock-radio.ts'
import type { LinkConfigInput } from '../link-defaults.ts'
import { LinkLayer } from '../link.ts'
import type { Delivery } from '../net-protocol.ts'
import type { NodeSecurity } from '../../crypto/sim-network.ts'
import { testNetwork } from '../test-network.ts'
import { Aodv, type AodvForwardCandidate } from './aodv.ts'
import type { AodvConfig } from './aodv-defaults.ts'

export interface TraceEvent {
  t: number
  node: Addr
  ev: string
  [field: string]: unknown
}

export const TRACED = ['route-found', 'route-lost', 'unreachable', 'rreq', 'rerr', 'undeliverable'] as const

export interface AodvNet {
  scheduler: SimScheduler
  medium: MockMedium
  metrics: MetricsRegistry
  radios: MockRadio[]
  links: LinkLayer[]
  /** With `security`: security[id - 1] is node id's (empty otherwise). */
  security: NodeSecurity[]
  /** nodes[id - 1]; undefined for bare nodes (a link layer only, for injecting messages). */
  nodes: Array<Aodv | undefined>
  events: TraceEvent[]
  delivered: Delivery[][]
  node(id: Addr): Aodv
  /** Sum of an aodv counter over nodes. */
  total(name: string): number
  value(id: Addr, name: string): number
  /** Sum of a counter of another layer (e.g. 'sec', 'link') over nodes. */
  layerTotal(layer: string, name: string): number
  connect(a: Addr, b: Addr): void
  disconnect(a: Addr, b: Addr): void
  /** Events of one kind (optionally at one node). */
  of(ev: string, node?: Addr): TraceEvent[]
}

export interface AodvNetOptions {
  config?: Partial<AodvConfig>
  /** Per-node overrides of `config`. */
  configFor?: (id: Addr) => Partial<AodvConfig> | undefined
  link?: LinkConfigInput
  seed?: number
  filter?: (id: Addr) => ((p: AodvForwardCandidate) => boolean) | undefined
  /** Nodes with a link layer but no AODV. */
  bare?: Addr[]
  loss?: number
  /** An authenticated network (crypto/sim-network.ts fields); absent: open. */
  security?: Record<string, unknown>
}

function plain(x: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(x as object)) out[k] = v instanceof Uint8Array ? v.length : v
  return out
}

export function aodvNet(n: number, pairs: Array<[Addr, Addr]>, o: AodvNetOptions = {}): AodvNet {
  const { scheduler, rng, medium, metrics, radios, links, security } = testNetwork(n, pairs, {
    seed: o.seed, loss: o.loss, link: { beaconIntervalMs: 0, ...o.link }, security: o.security,
  })
  const events: TraceEvent[] = []
  const nodes: Array<Aodv | undefined> = []
  const delivered: Delivery[][] = []
  links.forEach((link, i) => {
    const id = i + 1
    const got: Delivery[] = []
    delivered.push(got)
    if (o.bare?.includes(id)) {
      nodes.push(undefined)
      return
    }
    const aodv = new Aodv({
      link,
      scheduler,
      rng: rng.fork('aodv', id),
      metrics: metrics.scope('aodv', id),
      config: { ...o.config, ...o.configFor?.(id) },
      forwardFilter: o.filter?.(id),
      security: security[i]?.origin,
    })
    aodv.on('deliver', (d) => got.push(d))
    for (const ev of TRACED) {
      ;(aodv as unknown as { on(e: string, f: (x: unknown) => void): void }).on(ev, (x) => events.push({ t: scheduler.now(), node: id, ev, ...plain(x) }))
    }
    nodes.push(aodv)
  })
  return {
    scheduler,
    medium,
    metrics,
    radios,
    links,
    security,
    nodes,
    events,
    delivered,
    node: (id) => {
      const a = nodes[id - 1]
      if (a === undefined) throw new Error(`node ${id} has no AODV`)
      return a
    },
    total: (name) => metrics.total('aodv', name),
    value: (id, name) => metrics.value('aodv', id, name),
    layerTotal: (layer, name) => metrics.total(layer, name),
    connect: (a, b) => medium.connect(radios[a - 1], radios[b - 1]),
    disconnect: (a, b) => medium.disconnect(radios[a - 1], radios[b - 1]),
    of: (ev, node) => events.filter((e) => e.ev === ev && (node === undefined || e.node === node)),
  }
}

export function chain(n: number): Array<[Addr, Addr]> {
  return Array.from({ length: n - 1 }, (_, i) => [i + 1, i + 2] as [Addr, Addr])
}

/** Send `count` packets from `from` to `dst` every `everyMs`, starting now. */
export function cbr(net: AodvNet, from: Addr, dst: Addr, count: number, everyMs: number, size = 64): void {
  for (let k = 0; k < count; k++) {
    net.scheduler.at(k * everyMs, () => {
      const p = new Uint8Array(size)
      new DataView(p.buffer).setUint32(0, k)
      net.node(from).send(dst, p)
    })
  }
}
