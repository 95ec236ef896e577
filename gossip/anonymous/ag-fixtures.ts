/**
 * Test fixtures for anonymous gossip (used by gossip/anonymous/*.test.ts; not exported by
 * index.ts): nodes 1..n on a MockMedium with explicit links, each with a link layer, AODV, MAODV
 * and anonymous gossip as the `maodv+ag` stack builds them, deliveries recorded per node, and
 * every walk hop recorded as it arrives.
 */
import { groupAddr, type Addr } from '../../core/addr.ts'
import { tryDecode } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import type { SimScheduler } from '../../core/scheduler.ts'
import { Aodv } from '../../adhoc/aodv/index.ts'
import type { LinkLayer } from '../../adhoc/link.ts'
import type { MaodvForwardCandidate } from '../../adhoc/maodv/index.ts'
import { Maodv } from '../../adhoc/maodv/index.ts'
import type { Delivery } from '../../adhoc/net-protocol.ts'
import { Proto } from '../../adhoc/protocols.ts'
import { testNetwork } from '../../adhoc/test-network.ts'
import type { MockMedium } from '../../hardware/mock-radio.ts'
import type { AgConfig } from './ag-defaults.ts'
import { AgMsgType, decodeAg, encodeReply, type ReplyMessage } from './ag-messages.ts'
import { AnonymousGossip } from './anonymous-gossip.ts'
import { validateMaodvAgConfig } from './maodv-ag.ts'

export interface WalkHop {
  at: number
  from: Addr
  to: Addr
  initiator: Addr
  id: number
  hops: number
}

export interface AgNet {
  scheduler: SimScheduler
  medium: MockMedium
  metrics: MetricsRegistry
  links: LinkLayer[]
  nodes: AnonymousGossip[]
  maodv: Maodv[]
  routers: Aodv[]
  /** got[id - 1]: deliveries at node id. */
  got: Delivery[][]
  /** Every walk hop received, in order. */
  walkHops: WalkHop[]
  node(id: number): AnonymousGossip
  run(ms: number): void
  total(layer: string, name: string): number
}

export interface AgNetOptions {
  gossip?: Partial<AgConfig>
  /** MAODV fields (e.g. `{ signEvery: 4 }` for batch mode). */
  maodv?: Record<string, unknown>
  seed?: number
  loss?: number
  /** MAODV forward filter per node: false = do not relay that multicast packet. */
  filter?: (id: number) => ((p: MaodvForwardCandidate) => boolean) | undefined
  /** An authenticated network (crypto/sim-network.ts fields, e.g. `{}`): links MAC, MAODV and gossip sign. */
  security?: Record<string, unknown>
}

export function agNet(n: number, pairs: Array<[number, number]>, o: AgNetOptions = {}): AgNet {
  const { scheduler, rng, medium, metrics, links, security } = testNetwork(n, pairs, { seed: o.seed, loss: o.loss, security: o.security })
  const cfg = validateMaodvAgConfig({ gossip: o.gossip ?? {}, maodv: o.maodv ?? {} }, 'protocolConfig')
  const nodes: AnonymousGossip[] = []
  const maodv: Maodv[] = []
  const routers: Aodv[] = []
  const got: Delivery[][] = []
  const walkHops: WalkHop[] = []
  links.forEach((link, i) => {
    const id = i + 1
    const router = new Aodv({ link, scheduler, rng: rng.fork('aodv', id), metrics: metrics.scope('aodv', id), config: cfg.aodv })
    const tree = new Maodv({ link, scheduler, rng: rng.fork('maodv', id), metrics: metrics.scope('maodv', id), config: cfg.maodv, forwardFilter: o.filter?.(id), security: security[i]?.origin })
    const node = new AnonymousGossip({ link, tree, router, scheduler, rng: rng.fork('ag', id), metrics: metrics.scope('ag', id), config: cfg.gossip, security: security[i]?.origin })
    const mine: Delivery[] = []
    node.on('deliver', (d) => mine.push(d))
    link.port(Proto.GOSSIP).on('receive', (rx) => {
      const m = tryDecode(decodeAg, rx.payload)
      if (m?.type === AgMsgType.GOSSIP) walkHops.push({ at: rx.at, from: rx.from, to: id, initiator: m.initiator, id: m.id, hops: m.hops })
    })
    nodes.push(node)
    maodv.push(tree)
    routers.push(router)
    got.push(mine)
  })
  return {
    scheduler, medium, metrics, links, nodes, maodv, routers, got, walkHops,
    node: (id) => nodes[id - 1],
    run: (ms) => scheduler.run({ until: scheduler.now() + ms }),
    total: (layer, name) => metrics.total(layer, name),
  }
}

// ---- the lossy-branch scenario shared by the recovery tests ------------------------------------

/** A 7-node tree: 1 (source) – 2 – {3 – {5, 6}, 4 – 7}; members 5, 6, 7 (of group `groupAddr(1)`). */
export const LOSSY_TREE: Array<[number, number]> = [[1, 2], [2, 3], [2, 4], [3, 5], [3, 6], [4, 7]]
export const LOSSY_MEMBERS = [5, 6, 7]
const LOSSY_GROUP = groupAddr(1)

/** The anonymous-gossip DATA seq of a multicast payload, if it is one. */
export function agSeq(payload: Uint8Array): number | undefined {
  const m = tryDecode(decodeAg, payload)
  return m?.type === AgMsgType.DATA ? m.seq : undefined
}

/** 0..n-1. */
export const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** The first payload byte of everything node `id` delivered, sorted (the tests send i, 0, 0, 0). */
export const receivedBytes = (net: AgNet, id: number): number[] => net.got[id - 1].map((d) => d.payload[0]).sort((a, b) => a - b)

/**
 * Relay 3 drops every third data packet, so members 5 and 6 both miss them and of the members only
 * 7 holds them (`dropDigests`: in batch mode it also drops every DIGEST). Members join, the tree
 * forms (20 s), node 1 sends 30 packets 500 ms apart, then 30 s for recovery. `tamper` runs after
 * the network is built (e.g. to make a node lie).
 */
export function lossyBranch(o: Omit<AgNetOptions, 'filter'>, opts: { dropDigests?: boolean; tamper?: (net: AgNet) => void } = {}): { net: AgNet; dropped: Set<number> } {
  const dropped = new Set<number>()
  const net = agNet(7, LOSSY_TREE, {
    ...o,
    filter: (id) => (id === 3 ? (p) => {
      if (p.digest) return !opts.dropDigests
      const seq = agSeq(p.payload)
      if (seq === undefined || seq % 3 !== 0) return true
      dropped.add(seq)
      return false
    } : undefined),
  })
  opts.tamper?.(net)
  for (const id of LOSSY_MEMBERS) net.node(id).join(LOSSY_GROUP)
  net.run(20_000)
  for (let i = 0; i < 30; i++) {
    net.node(1).send(LOSSY_GROUP, Uint8Array.of(i, 0, 0, 0))
    net.run(500)
  }
  net.run(30_000)
  return { net, dropped }
}

/** Make node `id`'s router rewrite every GOSSIP-REPLY it originates with `edit` (a lying gossip partner). */
export function lyingReplier(id: number, edit: (m: ReplyMessage) => ReplyMessage): (net: AgNet) => void {
  return (net) => {
    const r = net.routers[id - 1]
    const send = r.sendRouted.bind(r)
    r.sendRouted = (to: Addr, proto: number, bytes: Uint8Array) => {
      const m = tryDecode(decodeAg, bytes)
      if (m?.type === AgMsgType.REPLY) bytes = encodeReply({ walkHops: m.walkHops, id: m.id, group: m.group, digests: m.digests, messages: m.messages.map(edit) })
      return send(to, proto, bytes)
    }
  }
}
