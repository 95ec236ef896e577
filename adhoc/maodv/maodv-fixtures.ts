/**
 * Test fixtures for MAODV (used by adhoc/maodv/*.test.ts; not exported by index.ts): a network of
 * nodes 1..n on a MockMedium with explicit links, each with a link layer and a Maodv instance, and
 * a checker of the tree invariants over every node's view.
 */
import type { Addr } from '../../core/addr.ts'
import type { Logger } from '../../core/logger.ts'
import { MetricsRegistry } from '../../core/metrics.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../../hardware/mock-radio.ts'
import { LinkLayer } from '../link.ts'
import type { LinkConfigInput } from '../link-defaults.ts'
import type { Delivery } from '../net-protocol.ts'
import type { TreeInfo } from '../routing.ts'
import type { MaodvContext, MaodvForwardCandidate } from './context.ts'
import type { MaodvConfig } from './maodv-defaults.ts'
import { testNetwork } from '../test-network.ts'
import type { NodeSecurity } from '../../crypto/sim-network.ts'
import { Maodv } from './maodv.ts'

export interface MaodvNet {
  scheduler: SimScheduler
  medium: MockMedium
  radios: MockRadio[]
  metrics: MetricsRegistry
  links: LinkLayer[]
  nodes: Maodv[]
  /** got[id - 1]: deliveries at node id. */
  got: Delivery[][]
  node(id: number): Maodv
  connect(a: number, b: number): void
  disconnect(a: number, b: number): void
  /** Run virtual time forward by `ms`. */
  run(ms: number): void
  total(name: string): number
  /** With `security`: node i+1's keys and authenticators at index i. */
  security: NodeSecurity[]
}

export interface NetOptions {
  config?: Partial<MaodvConfig>
  link?: LinkConfigInput
  seed?: number
  loss?: number
  /** A forward filter per node (adversary models). */
  filter?: (id: number) => ((p: MaodvForwardCandidate) => boolean) | undefined
  /** A logger per node (e.g. to trace one run). */
  logger?: (id: number) => Logger
  /** An authenticated network (crypto/sim-network.ts fields, e.g. `{}`): links MAC frames, MAODV signs. */
  security?: Record<string, unknown>
}

export function maodvNet(n: number, pairs: Array<[number, number]>, o: NetOptions = {}): MaodvNet {
  const { scheduler, rng, medium, metrics, radios, links, security } = testNetwork(n, pairs, { seed: o.seed, loss: o.loss, link: o.link, security: o.security })
  const nodes: Maodv[] = []
  const got: Delivery[][] = []
  links.forEach((link, i) => {
    const id = i + 1
    const node = new Maodv({ link, scheduler, rng: rng.fork('maodv', id), metrics: metrics.scope('maodv', id), config: o.config, logger: o.logger?.(id), forwardFilter: o.filter?.(id), security: security[i]?.origin })
    const mine: Delivery[] = []
    node.on('deliver', (d) => mine.push(d))
    nodes.push(node)
    got.push(mine)
  })
  return {
    scheduler, medium, radios, metrics, links, nodes, got, security,
    node: (id) => nodes[id - 1],
    connect: (a, b) => medium.connect(radios[a - 1], radios[b - 1]),
    disconnect: (a, b) => medium.disconnect(radios[a - 1], radios[b - 1]),
    run: (ms) => scheduler.run({ until: scheduler.now() + ms }),
    total: (name) => metrics.total('maodv', name),
  }
}

export function chain(n: number, from = 1): Array<[number, number]> {
  return Array.from({ length: n - 1 }, (_, i) => [from + i, from + i + 1] as [number, number])
}

export function grid(w: number, h: number): Array<[number, number]> {
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

export interface TreeCheck {
  /** Nodes on the tree (any node that reports the group in tree()). */
  nodes: Addr[]
  /** Undirected activated links "a-b" with a < b. */
  edges: string[]
  leaders: Addr[]
}

/**
 * The union of every node's activated links for `group` (restricted to `among`, default every
 * node) must be symmetric, acyclic and connected, contain every member in `members`, have exactly
 * one leader that every tree node agrees on, and upstream pointers must lead to it with matching
 * hop counts. Returns a description of the first violation, or the tree.
 */
export function checkTree(nodes: Maodv[], group: Addr, members: Addr[], among?: Addr[]): TreeCheck | string {
  const ids = among ?? nodes.map((m) => m.address)
  const info = new Map(ids.map((id) => [id, nodes[id - 1].tree(group)] as const).filter(([, t]) => t !== undefined) as Array<[Addr, NonNullable<ReturnType<Maodv['tree']>>]>)
  const edges = new Set<string>()
  for (const [a, t] of info) {
    for (const l of t.links) {
      const other = info.get(l.neighbour)
      if (!other || !other.links.some((x) => x.neighbour === a)) return `asymmetric link ${a} -> ${l.neighbour}`
      edges.add(a < l.neighbour ? `${a}-${l.neighbour}` : `${l.neighbour}-${a}`)
    }
  }
  for (const m of members) if (!info.has(m)) return `member ${m} is not on the tree`
  const leaders = [...info].filter(([id, t]) => t.leader === id).map(([id]) => id)
  if (leaders.length !== 1) return `expected one leader, got [${leaders.join(', ')}]`
  const leader = leaders[0]
  for (const [id, t] of info) if (t.leader !== leader) return `node ${id} thinks the leader is ${t.leader}, not ${leader}`
  if (edges.size !== info.size - 1) return `${info.size} tree nodes but ${edges.size} links: not a tree`
  const adj = new Map<Addr, Addr[]>()
  for (const e of edges) {
    const [a, b] = e.split('-').map(Number)
    adj.set(a, [...(adj.get(a) ?? []), b])
    adj.set(b, [...(adj.get(b) ?? []), a])
  }
  const depth = new Map<Addr, number>([[leader, 0]])
  const queue = [leader]
  while (queue.length > 0) {
    const x = queue.shift()!
    for (const y of adj.get(x) ?? []) {
      if (depth.has(y)) continue
      depth.set(y, depth.get(x)! + 1)
      queue.push(y)
    }
  }
  if (depth.size !== info.size) return `tree not connected: ${depth.size} of ${info.size} nodes reach the leader`
  for (const [id, t] of info) {
    const up = t.links.filter((l) => l.upstream)
    if (id === leader ? up.length !== 0 : up.length !== 1) return `node ${id} has ${up.length} upstream links`
    if (id !== leader && depth.get(up[0].neighbour) !== depth.get(id)! - 1) return `node ${id}'s upstream ${up[0].neighbour} is not towards the leader`
    if (t.hopsToLeader !== depth.get(id)) return `node ${id} says ${t.hopsToLeader} hops to the leader, the tree says ${depth.get(id)}`
  }
  return { nodes: [...info.keys()].sort((a, b) => a - b), edges: [...edges].sort(), leaders }
}

/**
 * A cycle of upstream pointers over every node's view of `group` (each tree node's upstream link,
 * followed node to node), as the list of nodes on it; undefined when there is none. Views need
 * not agree for this: a node that names a neighbour its upstream counts, whatever the neighbour
 * thinks.
 */
export function upstreamCycle(nodes: Array<{ address: Addr; tree(group: Addr): TreeInfo | undefined }>, group: Addr): Addr[] | undefined {
  const up = new Map<Addr, Addr>()
  for (const n of nodes) {
    const u = n.tree(group)?.links.find((l) => l.upstream)
    if (u !== undefined) up.set(n.address, u.neighbour)
  }
  for (const start of up.keys()) {
    const path: Addr[] = []
    let x: Addr | undefined = start
    while (x !== undefined && !path.includes(x)) {
      path.push(x)
      x = up.get(x)
    }
    if (x !== undefined) return path.slice(path.indexOf(x))
  }
  return undefined
}

/** White-box, for tests: ms since `node` last saw (sent or received) data of `group`; Infinity: never. */
export function dataAge(node: Maodv, group: Addr): number {
  const c = (node as unknown as { c: MaodvContext }).c
  return c.now() - (c.groups.get(group)?.lastDataAt ?? -Infinity)
}
