/**
 * A running node's application traffic (issue 8): what `spinmesh send`, `join` and `leave` reach
 * through the control socket, and what the node delivers. Unicast rides the node's AODV; multicast
 * (config `multicast:`) rides MAODV trees, with anonymous gossip on top (`maodv+ag`, the default)
 * recovering what the tree lost. Deliveries are emitted and the latest ones kept for `status`.
 */
import { EventEmitter } from 'eventemitter3'
import { formatAddr, formatNodeAddress, groupAddr, isGroupAddr, isNodeAddr, parseNodeAddress, type Addr } from '../core/addr.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import type { Aodv } from '../adhoc/aodv/index.ts'
import type { LinkLayer } from '../adhoc/link.ts'
import { Maodv } from '../adhoc/maodv/index.ts'
import type { Delivery, NetProtocol } from '../adhoc/net-protocol.ts'
import type { TreeInfo } from '../adhoc/routing.ts'
import { AnonymousGossip } from '../gossip/anonymous/index.ts'
import type { NodeSecurity } from '../crypto/sim-network.ts'
import type { MulticastConfig } from './config.ts'

/** How many deliveries `status` shows. */
export const RECENT_DELIVERIES = 16

/** A destination as users type it: a node address (as printed) or `group:N`. */
export function parseDestination(s: unknown): Addr {
  if (typeof s === 'number' && (isNodeAddr(s) || isGroupAddr(s))) return s
  if (typeof s !== 'string') throw new RangeError(`a destination is a node address (8 hex digits) or group:N, got ${String(s)}`)
  const g = /^group:(\d{1,10})$/.exec(s)
  return g ? groupAddr(Number(g[1])) : parseNodeAddress(s)
}

/** A group as users type it: `group:N` or N. */
export function parseGroup(s: unknown): Addr {
  if (typeof s === 'number') return groupAddr(s)
  if (typeof s === 'string' && /^\d{1,10}$/.test(s)) return groupAddr(Number(s))
  const a = parseDestination(s)
  if (!isGroupAddr(a)) throw new RangeError(`${String(s)} is not a group (group:N)`)
  return a
}

export interface DeliveryView {
  from: string
  to: string
  bytes: number
  hops: number
  /** Recovered by gossip after the tree missed it here. */
  recovered: boolean
  /** The payload as text when it is printable UTF-8, else as hex. */
  text?: string
  hex?: string
}

function view(d: Delivery): DeliveryView {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(d.payload)
  // eslint-disable-next-line no-control-regex
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)
  return {
    from: formatNodeAddress(d.origin), to: isGroupAddr(d.dst) ? formatAddr(d.dst) : formatNodeAddress(d.dst), bytes: d.payload.length, hops: d.hops,
    recovered: d.recovered === true, ...(printable ? { text } : { hex: Buffer.from(d.payload).toString('hex') }),
  }
}

export interface TrafficOptions {
  link: LinkLayer
  router: Aodv
  scheduler: Scheduler
  rng: SeededRng
  metrics: MetricsRegistry
  security?: NodeSecurity
  multicast?: MulticastConfig
}

export interface TrafficEvents {
  deliver: (d: DeliveryView) => void
  /** The same delivery with its payload bytes (event logs read traffic packets' headers). */
  payload: (d: Delivery) => void
  /** A packet this node sent will not arrive (no route, no tree); `reason` says why. */
  undeliverable: (u: { to: string; bytes: number; reason: string }) => void
}

export class NodeTraffic extends EventEmitter<TrafficEvents> {
  private readonly tree: Maodv | undefined = undefined
  private readonly gossip: AnonymousGossip | undefined = undefined
  private readonly joined = new Set<Addr>()
  private readonly recent: DeliveryView[] = []
  private delivered = 0
  private undeliverable = 0
  private readonly onUndeliverable = (u: { dst: Addr; payload: Uint8Array; reason: string }): void => {
    this.undeliverable++
    this.emit('undeliverable', { to: isGroupAddr(u.dst) ? formatAddr(u.dst) : formatNodeAddress(u.dst), bytes: u.payload.length, reason: u.reason })
  }
  private readonly onDeliver = (d: Delivery): void => {
    this.delivered++
    const v = view(d)
    this.recent.push(v)
    if (this.recent.length > RECENT_DELIVERIES) this.recent.shift()
    this.emit('payload', d)
    this.emit('deliver', v)
  }

  constructor(private readonly o: TrafficOptions) {
    super()
    const m = o.multicast
    const address = o.link.address
    try {
      if (m !== undefined) {
        this.tree = new Maodv({ link: o.link, scheduler: o.scheduler, rng: o.rng.fork('maodv'), metrics: o.metrics.scope('maodv', address), config: m.config.maodv, configPath: 'multicast.config.maodv', security: o.security?.origin })
        if (m.protocol === 'maodv+ag') {
          this.gossip = new AnonymousGossip({ link: o.link, tree: this.tree, router: o.router, scheduler: o.scheduler, rng: o.rng.fork('ag'), metrics: o.metrics.scope('ag', address), config: m.config.gossip, configPath: 'multicast.config.gossip', security: o.security?.origin })
        }
      }
      // Anonymous gossip delivers the router's unicasts too; without it each layer delivers its own.
      for (const source of this.sources()) {
        source.on('deliver', this.onDeliver)
        source.on('undeliverable', this.onUndeliverable)
      }
      for (const g of m?.groups ?? []) this.join(groupAddr(g))
    } catch (e) {
      this.close() // nothing of a failed start keeps running (timers, link listeners)
      throw e
    }
  }

  /** Where deliveries come from: anonymous gossip (it delivers the router's unicasts too), or the router and the tree. */
  private sources(): NetProtocol[] {
    return this.gossip ? [this.gossip] : [this.o.router, ...(this.tree ? [this.tree] : [])]
  }

  /**
   * The protocol objects (their events go to the node's event log): AODV, and with `multicast:`
   * MAODV and anonymous gossip; `sources` are those whose deliveries and undeliverables are the node's.
   */
  layers(): { router: Aodv; tree?: Maodv; gossip?: AnonymousGossip; sources: NetProtocol[] } {
    return { router: this.o.router, ...(this.tree ? { tree: this.tree } : {}), ...(this.gossip ? { gossip: this.gossip } : {}), sources: this.sources() }
  }

  /** Largest payload `send` takes to `dst`. */
  maxPayload(dst: Addr): number {
    if (!isGroupAddr(dst)) return this.o.router.maxPayload
    return this.gossip?.maxPayload ?? this.tree?.maxPayload ?? 0
  }

  send(dst: Addr, payload: Uint8Array): void {
    if (isGroupAddr(dst) && this.tree === undefined) throw new RangeError(`cannot send to ${formatAddr(dst)}: this node has no multicast section in its config`)
    if (payload.length > this.maxPayload(dst)) throw new RangeError(`${payload.length} bytes exceed the ${this.maxPayload(dst)} a packet to ${formatAddr(dst)} carries here`)
    if (this.gossip) this.gossip.send(dst, payload)
    else if (isGroupAddr(dst)) this.tree!.send(dst, payload)
    else this.o.router.send(dst, payload)
  }

  join(group: Addr): void {
    if (this.tree === undefined) throw new RangeError('cannot join a group: this node has no multicast section in its config')
    if (this.gossip) this.gossip.join(group)
    else this.tree.join(group)
    this.joined.add(group)
  }

  leave(group: Addr): void {
    if (this.tree === undefined) throw new RangeError('cannot leave a group: this node has no multicast section in its config')
    if (this.gossip) this.gossip.leave(group)
    else this.tree.leave(group)
    this.joined.delete(group)
  }

  trees(): TreeInfo[] {
    return this.tree?.trees() ?? []
  }

  status(): Record<string, unknown> {
    return {
      protocol: this.o.multicast?.protocol ?? null,
      groups: [...this.joined].map(formatAddr),
      trees: this.trees().map((t) => ({
        group: formatAddr(t.group), leader: formatNodeAddress(t.leader), hopsToLeader: t.hopsToLeader, member: t.member,
        links: t.links.filter((l) => l.activated).map((l) => ({ neighbour: formatNodeAddress(l.neighbour), upstream: l.upstream, member: l.member })),
      })),
      delivered: this.delivered,
      undeliverable: this.undeliverable,
      recent: [...this.recent],
    }
  }

  /** Stops the multicast layers. Anonymous gossip closes the router under it too (the node closes it after its diagnostics anyway). */
  close(): void {
    for (const source of this.sources()) {
      source.off('deliver', this.onDeliver)
      source.off('undeliverable', this.onUndeliverable)
    }
    if (this.gossip) this.gossip.close()
    else this.tree?.close()
  }
}
