/**
 * The gateway (issue 9): where samples leave the mesh. `accept(sample)` appends the sample, as the
 * message a subscriber will receive, to the durable spool — only then is it accepted — and shows it
 * on the live stream; the MQTT sink publishes the spool at QoS 1 through its cursor and acks what
 * the broker confirmed. A broker outage or a gateway crash (kill -9) therefore loses nothing
 * accepted: on restart the sink resends from its last persisted ack (duplicates as QoS 1 allows,
 * never loss). Network events go the same way (`_events/<kind>`, not retained).
 *
 * Parts: spool.ts, mqtt-sink.ts (+ broker.ts for the embedded broker), http.ts (dashboard and SSE),
 * records.ts (topics and payloads). The mesh side (which node, which radios, which routes) hands
 * its view to the dashboard through `mesh()`.
 */
import type { Addr } from '../core/addr.ts'
import { formatNodeAddress } from '../core/addr.ts'
import type { SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import type { FeedSample, FeedSchema } from '../gossip/feeds/sample.ts'
import { EmbeddedBroker } from './broker.ts'
import type { DashboardLink, DashboardNode, DashboardRoute, DashboardState, DashboardTree } from './dashboard-state.ts'
import type { GatewayConfig } from './gateway-config.ts'
import { GatewayHttp } from './http.ts'
import { MqttSink } from './mqtt-sink.ts'
import { eventRecord, retainedKey, sampleRecord, schemaRecord, type NetworkEvent, type SampleMessage } from './records.ts'
import { Spool } from './spool.ts'
import type { SpoolCursor } from './stream-types.ts'

/** What the mesh shows on the dashboard (the gateway adds feeds and stream counters). */
export interface MeshView {
  nodes: DashboardNode[]
  links: DashboardLink[]
  routes: DashboardRoute[]
  trees: DashboardTree[]
}

export interface GatewayOptions {
  config: GatewayConfig
  /** This gateway's node address (in every message as `gateway`). */
  address: Addr
  mesh?: () => MeshView
  scheduler?: Scheduler
  /** The MQTT client id of the sink (default: `spinmesh-gw-<address>-<network>`, stable across restarts). */
  clientId?: string
}

export interface GatewayStats {
  /** Samples appended to the spool. */
  accepted: number
  /** Samples refused (unknown feed, or a full spool under whenFull: refuse). */
  refused: number
  /** Records the broker confirmed (samples, schemas and events). */
  streamed: number
  /** Records waiting in the spool for the broker. */
  spooled: number
  brokerConnected: boolean
  /** Whether the replay of a restarted gateway's spool still waits for a subscriber (embedded broker). */
  replayWaiting: boolean
}

export interface GatewayEvents {
  /** A sample was accepted (spooled); the message as subscribers get it. */
  sample: (m: SampleMessage) => void
  /** A part reported trouble (broker unreachable, a rejected record); the gateway keeps going. */
  error: (e: SpinmeshError | Error) => void
  broker: (state: { connected: boolean; reason?: string }) => void
}

export class Gateway extends Emitter<GatewayEvents> {
  private readonly feeds: Map<number, FeedSchema>
  private readonly counts = { accepted: 0, refused: 0 }
  private sink: MqttSink | undefined
  private cursor: SpoolCursor | undefined
  private broker: EmbeddedBroker | undefined
  private http: GatewayHttp | undefined
  private graceTimer: Timer | null = null
  private closed = false

  private constructor(
    readonly config: GatewayConfig,
    readonly address: Addr,
    readonly spool: Spool,
    private readonly scheduler: Scheduler,
    private readonly mesh: (() => MeshView) | undefined,
  ) {
    super()
    this.feeds = new Map(config.feeds.map((f) => [f.id, f]))
  }

  static async start(o: GatewayOptions): Promise<Gateway> {
    const scheduler = o.scheduler ?? new RealScheduler()
    const spool = Spool.open({ ...o.config.spool, scheduler })
    const gw = new Gateway(o.config, o.address, spool, scheduler, o.mesh)
    try {
      await gw.startParts(o.clientId ?? `spinmesh-gw-${formatNodeAddress(o.address)}-${o.config.network}`)
    } catch (e) {
      await gw.close()
      throw e
    }
    return gw
  }

  /** The broker subscribers connect to (the embedded one's actual URL), or null without MQTT. */
  get brokerUrl(): string | null {
    return this.broker?.url ?? (this.config.mqtt ? this.config.mqtt.broker : null)
  }

  /** The dashboard's URL, or null without HTTP. */
  get httpUrl(): string | null {
    return this.http?.url ?? null
  }

  private async startParts(clientId: string): Promise<void> {
    const m = this.config.mqtt
    if (m) {
      if (m.broker === 'embedded') this.broker = await EmbeddedBroker.start({ host: m.embeddedHost, port: m.embeddedPort })
      this.cursor = this.spool.cursor('mqtt')
      const restarted = this.cursor.pending > 0
      const sink = new MqttSink({
        cursor: this.cursor, url: this.broker?.url ?? m.broker, prefix: m.prefix, clientId, retain: retainedKey, window: m.window,
        backoff: m.backoff, connectTimeoutMs: m.connectTimeoutMs, keepaliveS: m.keepaliveS, closeDrainMs: m.closeDrainMs, scheduler: this.scheduler,
      })
      this.sink = sink
      sink.on('error', (e) => this.emit('error', e))
      sink.on('connected', () => this.emit('broker', { connected: true }))
      sink.on('disconnected', (d) => this.emit('broker', { connected: false, reason: d.reason }))
      for (const f of this.config.feeds) {
        const r = schemaRecord(f, m.format)
        this.spool.append(r.key, r.payload)
      }
      if (this.broker && restarted && m.replayGraceMs > 0) this.startAfterGrace(sink, clientId, m.replayGraceMs)
      else sink.start()
    }
    if (this.config.http) {
      this.http = await GatewayHttp.start({ host: this.config.http.host, port: this.config.http.port, state: () => this.dashboardState() })
    }
  }

  /**
   * The embedded broker lost every session with the old process: hold the replay until a client
   * subscribes (a subscriber reconnected) or the grace period ends.
   */
  private startAfterGrace(sink: MqttSink, clientId: string, graceMs: number): void {
    const aedes = this.broker!.aedes
    const go = (): void => {
      aedes.removeListener('subscribe', onSubscribe)
      this.graceTimer?.cancel()
      this.graceTimer = null
      if (!this.closed) sink.start()
    }
    const onSubscribe = (_subs: unknown, client: { id?: string } | null): void => {
      if (client?.id !== clientId) go()
    }
    aedes.on('subscribe', onSubscribe)
    this.graceTimer = this.scheduler.at(graceMs, go)
  }

  /** Append one sample; false when it is refused (unknown feed, full spool under `whenFull: refuse`). */
  accept(sample: FeedSample & { hops?: number }): boolean {
    if (this.closed) return false
    const schema = this.feeds.get(sample.feed)
    if (schema === undefined) {
      this.counts.refused++
      return false
    }
    const r = sampleRecord(schema, sample, this.address, this.config.mqtt?.format ?? 'json')
    if (this.spool.append(r.key, r.payload) === null) {
      this.counts.refused++
      return false
    }
    this.counts.accepted++
    this.http?.publish({ feed: schema.name, origin: r.message.origin, seq: sample.seq, ts: sample.ts, values: [...sample.values].map((v) => (Number.isFinite(v) ? v : 0)) })
    this.emit('sample', r.message)
    return true
  }

  /** Stream a network event (spooled for MQTT, shown on the dashboard); false if the spool refused it. */
  event(e: NetworkEvent): boolean {
    if (this.closed) return false
    const r = eventRecord(e, this.config.mqtt?.format ?? 'json')
    this.http?.event(e)
    return this.spool.append(r.key, r.payload) !== null
  }

  stats(): GatewayStats {
    const s = this.sink?.stats()
    return {
      ...this.counts,
      streamed: s?.acked ?? 0,
      spooled: this.cursor?.pending ?? 0,
      brokerConnected: s?.connected ?? false,
      replayWaiting: this.graceTimer !== null,
    }
  }

  dashboardState(): DashboardState {
    const mesh = this.mesh?.() ?? { nodes: [], links: [], routes: [], trees: [] }
    const st = this.stats()
    return {
      network: this.config.network,
      gateway: formatNodeAddress(this.address),
      at: Date.now(),
      ...mesh,
      feeds: this.config.feeds.map((f) => ({ id: f.id, name: f.name, fields: f.fields.map((x) => ({ name: x.name, unit: x.unit })) })),
      stream: { accepted: st.accepted, streamed: st.streamed, spooled: st.spooled, brokerConnected: st.brokerConnected, sinks: { mqtt: this.sink ? { broker: this.brokerUrl, ...this.sink.stats() } : null, spool: this.spool.stats() } },
    }
  }

  /** Stop: the dashboard, the sink (waiting briefly for PUBACKs), the broker, then the spool (fsynced). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.graceTimer?.cancel()
    this.graceTimer = null
    await this.http?.close()
    await this.sink?.close()
    await this.broker?.stop()
    this.spool.close()
  }
}
