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

/** Topics whose newest ts, and late offsets, are tracked (least recent forgotten). */
const MAX_TRACKED = 65_536

export interface GatewayOptions {
  config: GatewayConfig
  /** This gateway's node address (in every message as `gateway`). */
  address: Addr
  mesh?: () => MeshView
  scheduler?: Scheduler
  /** The MQTT client id of the sink (default: `spinmesh-gw-<address>-<network>`, stable across restarts). */
  clientId?: string
  /**
   * Client ids of this process's own subscribers on the embedded broker (the demo's): their
   * SUBSCRIBE does not end the wait after a restart, which is for subscribers coming back from outside.
   */
  ownSubscribers?: readonly string[]
}

export interface GatewayStats {
  /** Samples appended to the spool. */
  accepted: number
  /** Samples refused (unknown feed, a full spool under whenFull: refuse, a disk error). */
  refused: number
  /** Appends that failed with a disk error (also emitted as 'error'). */
  diskErrors: number
  /** Records the broker confirmed (samples, schemas and events). */
  streamed: number
  /** Records waiting in the spool for the broker. */
  spooled: number
  brokerConnected: boolean
  /** Whether a restarted gateway still holds its stream (the replay, new samples) for a subscriber to come back (embedded broker). */
  replayWaiting: boolean
}

/** After a restart, how long the stream waits after the first subscriber is back for others reconnecting with it, ms. */
export const REPLAY_SETTLE_MS = 1000

export interface GatewayEvents {
  /** A sample was accepted (spooled); the message as subscribers get it. */
  sample: (m: SampleMessage) => void
  /** A part reported trouble (broker unreachable, a rejected record); the gateway keeps going. */
  error: (e: SpinmeshError | Error) => void
  broker: (state: { connected: boolean; reason?: string }) => void
}

export class Gateway extends Emitter<GatewayEvents> {
  private readonly feeds: Map<number, FeedSchema>
  private readonly counts = { accepted: 0, refused: 0, diskErrors: 0 }
  /** Newest sample ts per topic, and the offsets of late samples (published, not retained). */
  private readonly newestTs = new Map<string, number>()
  private readonly late = new Set<number>()
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
      await gw.startParts(o.clientId ?? o.config.mqtt?.clientId ?? `spinmesh-gw-${formatNodeAddress(o.address)}-${o.config.network}`, o.ownSubscribers ?? [])
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

  /** The embedded broker, or null (an external broker, or no MQTT): e.g. paused and resumed as a broker outage. */
  get embeddedBroker(): EmbeddedBroker | null {
    return this.broker ?? null
  }

  /** The dashboard's URL, or null without HTTP. */
  get httpUrl(): string | null {
    return this.http?.url ?? null
  }

  private async startParts(clientId: string, ownSubscribers: readonly string[]): Promise<void> {
    const m = this.config.mqtt
    if (m) {
      // A restart: this spool streamed to MQTT before (its cursor exists), whether or not records
      // are left to replay — the samples accepted from now on are as much at risk of going out
      // before the old subscribers are back.
      const restarted = this.spool.stats().cursors.mqtt !== undefined
      if (m.broker === 'embedded') this.broker = await EmbeddedBroker.start({ host: m.embeddedHost, port: m.embeddedPort })
      // No await from here to startAfterGrace: no client can subscribe before its listener is on.
      this.cursor = this.spool.cursor('mqtt')
      const sink = new MqttSink({
        cursor: this.cursor, url: this.broker?.url ?? m.broker, prefix: m.prefix, clientId, retain: (key, rec) => retainedKey(key) && !this.late.has(rec.offset), window: m.window,
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
      if (this.broker && restarted && m.replayGraceMs > 0) this.startAfterGrace(sink, [clientId, ...ownSubscribers], m.prefix, m.replayGraceMs)
      else sink.start()
    }
    if (this.config.http) {
      this.http = await GatewayHttp.start({ host: this.config.http.host, port: this.config.http.port, ...(this.config.http.allowedHosts ? { allowedHosts: this.config.http.allowedHosts } : {}), state: () => this.dashboardState() })
    }
  }

  /**
   * The embedded broker lost every session with the old process: hold the sink — the replay and
   * what is accepted meanwhile — until a subscriber from outside (not `ignore`) subscribes to
   * topics under `prefix` (it reconnected; the broker delivers to it from then on), and
   * REPLAY_SETTLE_MS more for others reconnecting at the same time; or until the grace period
   * ends. Subscribers that come back later miss what went out before them.
   */
  private startAfterGrace(sink: MqttSink, ignore: readonly string[], prefix: string, graceMs: number): void {
    const aedes = this.broker!.aedes
    const go = (): void => {
      aedes.removeListener('subscribe', onSubscribe)
      this.graceTimer?.cancel()
      this.graceTimer = null
      if (!this.closed) sink.start()
    }
    const graceEnd = this.scheduler.now() + graceMs
    const onSubscribe = (subs: ReadonlyArray<{ topic: string }>, client: { id?: string } | null): void => {
      if (ignore.includes(client?.id ?? '') || !subs.some((s) => filterReaches(s.topic, prefix))) return
      aedes.removeListener('subscribe', onSubscribe)
      this.graceTimer?.cancel()
      this.graceTimer = this.scheduler.at(Math.max(0, Math.min(REPLAY_SETTLE_MS, graceEnd - this.scheduler.now())), go)
    }
    aedes.on('subscribe', onSubscribe)
    this.graceTimer = this.scheduler.at(graceMs, go)
  }

  /**
   * Append one sample; false when it is refused (unknown feed, a full spool under `whenFull:
   * refuse`, a disk error: counted, and the disk error emitted as 'error').
   */
  accept(sample: FeedSample & { hops?: number }): boolean {
    if (this.closed) return false
    const schema = this.feeds.get(sample.feed)
    if (schema === undefined) {
      this.counts.refused++
      return false
    }
    const r = sampleRecord(schema, sample, this.address, this.config.mqtt?.format ?? 'json')
    // A sample older than the newest of its sensor and feed is published but not retained, so the
    // broker's retained value stays the newest. Marked before the append: the sink may publish
    // the record from inside it (its cursor's onAppend).
    const newest = this.newestTs.get(r.key)
    const late = newest !== undefined && sample.ts < newest
    const next = this.spool.nextOffset
    if (late) {
      this.late.add(next)
      if (this.late.size > MAX_TRACKED) this.late.delete(this.late.values().next().value!)
    }
    if (this.append(r.key, r.payload) === null) {
      this.late.delete(next)
      this.counts.refused++
      return false
    }
    if (!late) {
      this.newestTs.delete(r.key)
      this.newestTs.set(r.key, sample.ts)
      if (this.newestTs.size > MAX_TRACKED) this.newestTs.delete(this.newestTs.keys().next().value!)
    }
    this.counts.accepted++
    this.http?.publish({ feed: schema.name, origin: r.message.origin, seq: sample.seq, ts: sample.ts, values: [...sample.values] })
    this.emit('sample', r.message)
    return true
  }

  /** Stream a network event (spooled for MQTT, shown on the dashboard); false if the spool refused it. */
  event(e: NetworkEvent): boolean {
    if (this.closed) return false
    const r = eventRecord(e, this.config.mqtt?.format ?? 'json')
    this.http?.event(e)
    return this.append(r.key, r.payload) !== null
  }

  /** spool.append; a disk error (full disk, I/O error) is counted and emitted, not thrown into the mesh. */
  private append(key: string, payload: Uint8Array): number | null {
    try {
      return this.spool.append(key, payload)
    } catch (e) {
      this.counts.diskErrors++
      this.emit('error', e as Error)
      return null
    }
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

/** Whether the MQTT topic filter `filter` matches some topic below `prefix` (`<prefix>/…`). */
export function filterReaches(filter: string, prefix: string): boolean {
  const f = filter.split('/')
  const p = prefix.split('/')
  for (let i = 0; i < p.length; i++) {
    if (f[i] === '#') return true
    if (f[i] === undefined || (f[i] !== '+' && f[i] !== p[i])) return false
  }
  return f.length > p.length
}
