/**
 * The MQTT sink (issue 9): reads the spool through its cursor and publishes each record at QoS 1
 * to `<prefix>/<record.key>`, retained unless `retain(key)` says otherwise (by default network
 * events, `_events/…`, are not retained; the latest sample of every feed and node is), with at most
 * `window` records between the cursor's read and its ack. On each PUBACK the record is done, and the
 * cursor is acknowledged up to the highest offset below which everything is done (PUBACKs may come
 * out of order; only contiguous prefixes are acked).
 *
 * Delivery contract — at least once, in spool order per connection:
 * - a record is acked to the spool only after the broker's PUBACK, so a crash, a broker outage or a
 *   lost connection never loses one: after reconnecting the sink rewinds the cursor and resends
 *   everything after the last ack;
 * - the only duplicates are those resends: a subscriber sees a record twice only if the connection
 *   was lost between the broker receiving it and its PUBACK reaching the gateway (at most `window`
 *   records per lost connection). Payloads carry (key, seq), so subscribers can drop repeats;
 * - a broker that is down (at start or later) is retried forever with jittered exponential backoff
 *   (`backoff.minMs` … `maxMs`); nothing throws, records wait in the spool;
 * - a record whose key cannot be a topic (wildcard, NUL) is reported (`error`, `stats().rejected`)
 *   and acked: it can never be delivered and would otherwise block the cursor.
 *
 * Reconnecting is ours, not MQTT.js's: each client is created with `reconnectPeriod: 0` and
 * `clean: true`; on close or error it is dropped (`end(true)`) and a new one made after the
 * backoff. MQTT.js's own reconnect would resend its outgoing store in parallel with our rewind
 * (every in-flight record twice); a clean session keeps broker state out of the picture, the spool
 * is the only store.
 *
 * Close the sink before the spool: a cursor of a closed spool throws, which the sink reports as `error`.
 */
import { randomBytes } from 'node:crypto'
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { SeededRng, type Rng } from '../core/rng.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import { MQTT_STABLE_MS, redactUrl, topicProblem, validateMqttSinkConfig, type MqttBackoff, type MqttSinkConfig } from './mqtt-defaults.ts'
import type { SpoolCursor, SpoolRecord } from './stream-types.ts'

/** Creates an MQTT.js client (a seam for tests; default `mqtt.connect`). */
export type MqttConnect = (url: string, opts: IClientOptions) => MqttClient

export interface MqttSinkOptions {
  cursor: SpoolCursor
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` (validated as the config field `broker`). */
  url: string
  /** Topic prefix, e.g. `spinmesh/<network>`. */
  prefix: string
  clientId?: string
  /**
   * Whether a record is published retained (default: keys not starting with `_events/`). The
   * gateway also passes false for a late sample, so the retained value stays the newest.
   */
  retain?: (key: string, record: SpoolRecord) => boolean
  window?: number
  backoff?: Partial<MqttBackoff>
  connectTimeoutMs?: number
  keepaliveS?: number
  closeDrainMs?: number
  /** Timers of the reconnect backoff (default RealScheduler). */
  scheduler?: Scheduler
  /** Jitter of the backoff (default seeded by the client id, so gateways spread out). */
  rng?: Rng
  connect?: MqttConnect
}

export interface MqttSinkStats {
  /** PUBLISH packets handed to the client, resends included. */
  published: number
  /** PUBACKs received. */
  acked: number
  /** Published on the current connection, PUBACK not yet received. */
  inFlight: number
  /** Successful connections after the first. */
  reconnects: number
  connected: boolean
  lastError: string | null
  /** Records acked without publishing because their key is not a valid topic. */
  rejected: number
}

export interface MqttSinkEvents {
  connected: (info: { broker: string; clientId: string }) => void
  disconnected: (info: { reason: string }) => void
  error: (err: SpinmeshError) => void
}

export const defaultRetain = (key: string): boolean => !key.startsWith('_events/')

/**
 * The records read and not yet acknowledged to the cursor, in read (offset) order: `complete`
 * marks one done and returns the new ack offset when the done prefix grew. Sans-IO.
 */
export class AckWindow {
  private entries: Array<{ offset: number; done: boolean }> = []
  private head = 0
  private readonly byOffset = new Map<number, { offset: number; done: boolean }>()
  private open = 0

  /** Records read and not yet acked to the cursor. */
  get size(): number {
    return this.entries.length - this.head
  }

  /** Records not yet done. */
  get inFlight(): number {
    return this.open
  }

  add(offset: number): void {
    const last = this.entries.length > this.head ? this.entries[this.entries.length - 1].offset : -Infinity
    if (!(offset > last)) throw new RangeError(`ack window: offset ${offset} is not after ${last}`)
    const e = { offset, done: false }
    this.entries.push(e)
    this.byOffset.set(offset, e)
    this.open++
  }

  /** Mark `offset` done; the highest offset of the now-done prefix if it grew, else undefined. */
  complete(offset: number): number | undefined {
    const e = this.byOffset.get(offset)
    if (e === undefined || e.done) return undefined
    e.done = true
    this.open--
    let acked: number | undefined
    while (this.head < this.entries.length && this.entries[this.head].done) {
      acked = this.entries[this.head].offset
      this.byOffset.delete(acked)
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    return acked
  }

  clear(): void {
    this.entries = []
    this.head = 0
    this.byOffset.clear()
    this.open = 0
  }
}

export class MqttSink extends Emitter<MqttSinkEvents> {
  readonly config: MqttSinkConfig
  readonly clientId: string
  private readonly cursor: SpoolCursor
  private readonly retain: (key: string, record: SpoolRecord) => boolean
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly connectFn: MqttConnect
  private readonly acks = new AckWindow()
  private client: MqttClient | undefined
  /** Bumped whenever a client is dropped: callbacks and events of older clients are ignored. */
  private gen = 0
  private up = false
  private started = false
  private closing = false
  private closed = false
  private pumping = false
  private delayMs: number
  private timer: Timer | undefined
  private stableTimer: Timer | undefined
  private stopAppend: (() => void) | undefined
  /** Highest offset whose ack is waiting for the microtask that hands it to the cursor. */
  private ackDue: number | undefined
  private drained: (() => void) | undefined
  private connections = 0
  private counts = { published: 0, acked: 0, rejected: 0 }
  private lastError: string | null = null
  private closePromise: Promise<void> | undefined

  /** Throws ConfigError (`mqtt.broker: …`, `mqtt.window: …`) for bad options; never for a broker that is down. */
  constructor(o: MqttSinkOptions) {
    super()
    this.config = validateMqttSinkConfig({
      broker: o.url,
      prefix: o.prefix,
      clientId: o.clientId ?? null,
      window: o.window,
      backoff: o.backoff,
      connectTimeoutMs: o.connectTimeoutMs,
      keepaliveS: o.keepaliveS,
      closeDrainMs: o.closeDrainMs,
    })
    this.cursor = o.cursor
    this.retain = o.retain ?? defaultRetain
    this.scheduler = o.scheduler ?? new RealScheduler()
    this.clientId = this.config.clientId ?? `spinmesh-${randomBytes(4).toString('hex')}`
    this.rng = o.rng ?? new SeededRng(`mqtt-backoff/${this.clientId}`)
    this.connectFn = o.connect ?? mqttConnect
    this.delayMs = this.config.backoff.minMs
  }

  /** Connect and start publishing (a broker that is down is retried, never an error). Idempotent. */
  start(): void {
    if (this.started || this.closing) return
    this.started = true
    this.stopAppend = this.cursor.onAppend(() => this.pump())
    this.connect()
  }

  stats(): MqttSinkStats {
    return {
      ...this.counts,
      inFlight: this.up ? this.acks.inFlight : 0,
      reconnects: Math.max(0, this.connections - 1),
      connected: this.up,
      lastError: this.lastError,
    }
  }

  /**
   * Stop reading, wait up to `closeDrainMs` for the PUBACKs of what is in flight, ack what was
   * confirmed and disconnect. Unconfirmed records stay in the spool and are sent after the next start.
   */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown()
    return this.closePromise
  }

  private async shutdown(): Promise<void> {
    this.closing = true
    this.stopAppend?.()
    this.stopAppend = undefined
    this.timer?.cancel()
    this.timer = undefined
    this.stableTimer?.cancel()
    if (this.up && this.acks.inFlight > 0 && this.config.closeDrainMs > 0) {
      await new Promise<void>((resolve) => {
        const t = this.scheduler.at(this.config.closeDrainMs, () => this.drained?.())
        this.drained = () => {
          this.drained = undefined
          t.cancel()
          resolve()
        }
      })
    }
    this.closed = true
    this.flushAck()
    const client = this.client
    const wasUp = this.up
    const force = !wasUp || this.acks.inFlight > 0
    this.client = undefined
    this.up = false
    this.gen++
    this.acks.clear()
    if (client !== undefined) await endClient(client, force)
    if (wasUp) this.emit('disconnected', { reason: 'closed' })
  }

  private connect(): void {
    this.timer = undefined
    if (this.closing) return
    const gen = ++this.gen
    let client: MqttClient
    try {
      client = this.connectFn(this.config.broker, {
        clientId: this.clientId,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: this.config.connectTimeoutMs,
        keepalive: this.config.keepaliveS,
        protocolVersion: 4,
        resubscribe: false,
        queueQoSZero: false,
      })
    } catch (e) {
      this.fail(`cannot create an MQTT client for ${redactUrl(this.config.broker)}: ${(e as Error).message}`)
      this.lost((e as Error).message)
      return
    }
    this.client = client
    client.on('connect', () => {
      if (gen !== this.gen) return
      this.up = true
      this.connections++
      this.stableTimer?.cancel()
      this.stableTimer = this.scheduler.at(MQTT_STABLE_MS, () => {
        if (gen === this.gen) this.delayMs = this.config.backoff.minMs
      })
      this.emit('connected', { broker: redactUrl(this.config.broker), clientId: this.clientId })
      this.pump()
    })
    client.on('error', (err) => {
      if (gen !== this.gen) return
      this.fail(`MQTT ${redactUrl(this.config.broker)}: ${err.message}`)
      this.lost(err.message)
    })
    client.on('close', () => {
      if (gen === this.gen) this.lost('connection closed')
    })
  }

  /** Publish while there is room in the window and records in the spool. */
  private pump(): void {
    if (this.pumping || !this.up || this.closing) return
    const client = this.client!
    const gen = this.gen
    this.pumping = true
    try {
      while (gen === this.gen && !this.closing) {
        const room = this.config.window - this.acks.size
        if (room <= 0) break
        const records = this.cursor.read(room)
        if (records.length === 0) break
        for (const r of records) {
          if (gen !== this.gen) break
          this.acks.add(r.offset)
          const problem = topicProblem(r.key)
          if (problem !== undefined) {
            this.counts.rejected++
            this.fail(`record ${r.offset} not published: its key ${problem}: ${JSON.stringify(r.key.slice(0, 80))}`)
            this.done(r.offset)
            continue
          }
          this.counts.published++
          const payload = Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength)
          client.publish(`${this.config.prefix}/${r.key}`, payload, { qos: 1, retain: this.retain(r.key, r) }, (err) => {
            if (gen !== this.gen) return
            if (err) {
              this.fail(`publish of record ${r.offset} failed: ${err.message}`)
              this.lost(`publish failed: ${err.message}`)
              return
            }
            this.counts.acked++
            this.done(r.offset)
            if (this.closing) {
              if (this.acks.inFlight === 0) this.drained?.()
            } else this.pump()
          })
        }
      }
    } catch (e) {
      this.fail(`reading the spool failed: ${(e as Error).message}`) // e.g. the spool was closed before the sink
    } finally {
      this.pumping = false
    }
  }

  private done(offset: number): void {
    const ack = this.acks.complete(offset)
    if (ack === undefined) return
    // PUBACKs of one socket read arrive in one burst: the cursor (which persists) hears the last.
    if (this.ackDue === undefined) queueMicrotask(() => this.flushAck())
    this.ackDue = ack
  }

  private flushAck(): void {
    const ack = this.ackDue
    this.ackDue = undefined
    if (ack === undefined) return
    try {
      this.cursor.ack(ack)
    } catch (e) {
      this.fail(`acknowledging offset ${ack} to the spool failed: ${(e as Error).message}`)
    }
  }

  /** The connection is gone: drop the client, rewind to the last ack, reconnect after the backoff. */
  private lost(reason: string): void {
    if (this.closed) return
    const wasUp = this.up
    const client = this.client
    this.gen++
    this.client = undefined
    this.up = false
    this.stableTimer?.cancel()
    if (client !== undefined) void endClient(client, true)
    this.flushAck()
    this.acks.clear()
    try {
      this.cursor.rewind()
    } catch (e) {
      this.fail(`rewinding the spool cursor failed: ${(e as Error).message}`)
    }
    if (wasUp) this.emit('disconnected', { reason })
    this.drained?.()
    if (this.closing) return
    const delay = this.delayMs * (0.75 + 0.5 * this.rng.float())
    this.delayMs = Math.min(this.config.backoff.maxMs, this.delayMs * 2)
    this.timer?.cancel()
    this.timer = this.scheduler.at(Math.min(delay, this.config.backoff.maxMs), () => this.connect())
  }

  private fail(message: string): void {
    this.lastError = message
    this.emit('error', new SpinmeshError(ErrorCodes.IO, message))
  }
}

/** End an MQTT.js client; resolves once it is closed (its socket destroyed after 1 s if a graceful end hangs). */
function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      client.stream?.destroy()
      resolve()
    }, 1000)
    client.end(force, {}, () => {
      clearTimeout(t)
      resolve()
    })
  })
}
