/**
 * A running node's sensor samples (issue 9): with `uplink:` it reports samples (`spinmesh publish`)
 * to a gateway node, routed by AODV (gateway/uplink.ts); with `gateway:` it is that gateway: what
 * reaches it is spooled and streamed to MQTT and its dashboard (gateway/gateway.ts), and its
 * neighbour and radio changes stream as network events. A gateway's own readings (`spinmesh
 * publish` on the gateway) go straight into its Gateway.
 */
import { formatNodeAddress, type Addr } from '../core/addr.ts'
import type { Scheduler } from '../core/scheduler.ts'
import type { Aodv } from '../adhoc/aodv/index.ts'
import type { LinkLayer } from '../adhoc/link.ts'
import type { Radio } from '../hardware/radio.ts'
import type { FeedSchema } from '../gossip/feeds/sample.ts'
import { Gateway, type MeshView } from '../gateway/gateway.ts'
import { UplinkReceiver, UplinkSender } from '../gateway/uplink.ts'
import type { NodeConfig } from './config.ts'

export class NodeSamples {
  private gateway: Gateway | undefined
  private receiver: UplinkReceiver | undefined
  private sender: UplinkSender | undefined
  private readonly unsubscribe: Array<() => void> = []
  private lastError: string | null = null
  /** Seq numbers of the gateway's own readings, per feed. */
  private readonly ownSeq = new Map<number, number>()

  private constructor(private readonly config: NodeConfig, private readonly address: Addr) {}

  static async start(o: { config: NodeConfig; address: Addr; router: Aodv; link: LinkLayer; radios: readonly Radio[]; scheduler: Scheduler; mesh: () => MeshView }): Promise<NodeSamples> {
    const s = new NodeSamples(o.config, o.address)
    if (o.config.uplink) s.sender = new UplinkSender({ router: o.router, gateway: o.config.uplink.gateway })
    if (o.config.gateway) {
      s.gateway = await Gateway.start({ config: o.config.gateway, address: o.address, mesh: o.mesh, scheduler: o.scheduler })
      s.gateway.on('error', (e) => (s.lastError = e.message)) // shown in status; the node keeps running
      const gw = s.gateway
      s.receiver = new UplinkReceiver(o.router, o.config.feeds)
      s.receiver.on('sample', (x) => gw.accept(x))
      const event = (kind: string, fields: Record<string, unknown>) => gw.event({ kind, at: Date.now(), node: formatNodeAddress(o.address), ...fields })
      const up = (n: { addr: Addr }) => event('neighbour-up', { neighbour: formatNodeAddress(n.addr) })
      const down = (n: { addr: Addr }) => event('neighbour-down', { neighbour: formatNodeAddress(n.addr) })
      o.link.on('neighbour-up', up)
      o.link.on('neighbour-down', down)
      s.unsubscribe.push(() => o.link.off('neighbour-up', up), () => o.link.off('neighbour-down', down))
      o.radios.forEach((r, i) => {
        const st = (c: { state: string; reason: string }) => event('radio-state', { radio: i, state: c.state, reason: c.reason })
        r.on('state', st)
        s.unsubscribe.push(() => r.off('state', st))
      })
      event('gateway-start', { feeds: o.config.feeds.map((f) => f.name) })
    }
    return s
  }

  private feed(name: unknown): FeedSchema {
    const f = this.config.feeds.find((x) => x.name === name || x.id === name)
    if (!f) throw new RangeError(`unknown feed ${JSON.stringify(name)}; this node has ${this.config.feeds.map((x) => x.name).join(', ') || 'none (config feeds:)'}`)
    return f
  }

  /** Report one sample: to the gateway over the mesh (uplink), or straight into this node's own gateway. */
  publish(feedName: unknown, values: unknown, ts = Date.now()): { feed: string; seq: number; to: string } {
    const feed = this.feed(feedName)
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) throw new RangeError(`values must be a list of numbers, got ${JSON.stringify(values)}`)
    if (values.length !== feed.fields.length) throw new RangeError(`feed ${feed.name} has ${feed.fields.length} fields (${feed.fields.map((f) => f.name).join(', ')}), got ${values.length} values`)
    if (this.gateway) {
      const seq = this.ownSeq.get(feed.id) ?? 0
      this.ownSeq.set(feed.id, seq + 1)
      if (!this.gateway.accept({ feed: feed.id, origin: this.address, seq, ts, values: values as number[], hops: 0 })) throw new RangeError(`the gateway refused the sample (spool full under whenFull: refuse)`)
      return { feed: feed.name, seq, to: formatNodeAddress(this.address) }
    }
    if (this.sender) return { feed: feed.name, seq: this.sender.send(feed, ts, values as number[]), to: formatNodeAddress(this.config.uplink!.gateway) }
    throw new RangeError('this node has neither uplink: nor gateway: in its config')
  }

  status(): Record<string, unknown> | null {
    if (!this.gateway && !this.sender) return null
    return {
      uplink: this.sender ? { gateway: formatNodeAddress(this.config.uplink!.gateway), sent: this.sender.sent } : null,
      gateway: this.gateway
        ? { ...this.gateway.stats(), broker: this.gateway.brokerUrl, dashboard: this.gateway.httpUrl, received: this.receiver!.received, rejected: this.receiver!.rejected, gaps: this.receiver!.gaps, duplicates: this.receiver!.duplicates, restarts: this.receiver!.restarts, lastError: this.lastError }
        : null,
    }
  }

  get gatewayService(): Gateway | undefined {
    return this.gateway
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u()
    this.receiver?.close()
    await this.gateway?.close()
  }
}
