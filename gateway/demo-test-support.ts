/**
 * Test support for the end-to-end tests of the demo's stream (stream.test.ts against mosquitto,
 * stream-embedded.test.ts against the embedded broker, dashboard-field.test.ts): a subscriber that
 * collects the demo's samples by id, the spool read offline after a crash, `spinmesh demo` as a
 * process, and in process a Gateway fed by a SensorField that a pacer advances in virtual time.
 *
 * A sample's id is `<feed>/<origin>/<seq>/<ts>` (demo.ts `sampleId`): seq restarts with a run's
 * sensors, ts (the sensor's clock) tells runs apart.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as assert from 'uvu/assert'
import { connect, type IClientOptions, type MqttClient } from 'mqtt'
import { loadScenario } from '../field-tests/scenario.ts'
import { daemon } from '../runtime/processes.ts'
import { DEMO_SCENARIO, sampleId, type DemoSummary } from './demo.ts'
import { Gateway } from './gateway.ts'
import { validateGatewayConfig } from './gateway-config.ts'
import type { SampleMessage } from './records.ts'
import { DEMO_FEEDS, SensorField } from './sensor-field.ts'
import { Spool } from './spool.ts'

export const DEMO_PREFIX = 'spinmesh/demo'

export interface CollectorOptions {
  clientId: string
  clean: boolean
  resubscribe?: boolean
  reconnectPeriod?: number
}

/** An MQTT.js subscriber to `spinmesh/demo/#` at QoS 1 counting each sample it is streamed (topics `_…` are not samples). */
export class SampleCollector {
  /** How often each sample id arrived. */
  readonly counts = new Map<string, number>()
  /** When (Date.now()) each id arrived last. */
  readonly lastAt = new Map<string, number>()
  /** Messages on sample topics that were not a sample message (should stay empty). */
  readonly garbage: string[] = []
  /** Ids delivered as retained copies (a SUBSCRIBE's, not the live stream); not in `counts`. */
  readonly retained: string[] = []
  subscribes = 0

  private constructor(readonly client: MqttClient) {}

  /** Connect (retrying every `reconnectPeriod` until the broker listens, up to `timeoutMs`) and subscribe. */
  static async connect(url: string, o: CollectorOptions, timeoutMs = 15_000): Promise<SampleCollector> {
    const opts: IClientOptions = { clientId: o.clientId, clean: o.clean, reconnectPeriod: o.reconnectPeriod ?? 200, connectTimeout: 5000, protocolVersion: 4 }
    if (o.resubscribe !== undefined) opts.resubscribe = o.resubscribe
    const client = connect(url, opts)
    const c = new SampleCollector(client)
    client.on('error', () => {}) // refused while the broker is down: MQTT.js retries
    client.on('packetreceive', (p) => {
      if (p.cmd === 'suback') c.subscribes++
    })
    client.on('message', (topic, payload, packet) => c.receive(topic, payload, packet.retain))
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`subscriber ${o.clientId} not connected to ${url} within ${timeoutMs} ms`)), timeoutMs)
      client.once('connect', () => (clearTimeout(t), resolve()))
    })
    await client.subscribeAsync(`${DEMO_PREFIX}/#`, { qos: 1 })
    return c
  }

  private receive(topic: string, payload: Buffer, retain: boolean): void {
    if (topic.slice(DEMO_PREFIX.length + 1).startsWith('_')) return
    let m: SampleMessage
    try {
      m = JSON.parse(payload.toString('utf8')) as SampleMessage
    } catch {
      this.garbage.push(topic)
      return
    }
    if (topic !== `${DEMO_PREFIX}/${m.feed}/${m.origin}`) this.garbage.push(`${topic} carried ${m.feed}/${m.origin}`)
    const id = sampleId(m)
    if (retain) {
      // A SUBSCRIBE's copy of the latest sample per topic, not the stream: kept apart.
      this.retained.push(id)
      return
    }
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
    this.lastAt.set(id, Date.now())
  }

  get size(): number {
    return this.counts.size
  }

  /** Copies beyond the first, over every id. */
  get duplicates(): number {
    let n = 0
    for (const c of this.counts.values()) n += c - 1
    return n
  }

  /** The ids in `ids` not received (at all, or since `since`). */
  missing(ids: Iterable<string>, since = 0): string[] {
    return [...ids].filter((id) => (this.lastAt.get(id) ?? -1) < since)
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()))
  }
}

/** Throws unless every id of `want` arrived, naming how many and a few that did not. */
export function assertReceivedAll(sub: SampleCollector, want: Iterable<string>, what: string, since = 0): void {
  const missing = sub.missing(want, since)
  assert.ok(missing.length === 0, `${what}: ${missing.length} not received${since ? ' after the restart' : ''}, e.g. ${missing.slice(0, 3).join(', ')}`)
}

/** What a crashed gateway left in its spool, read offline through a fresh cursor (deleted again). */
export interface SpoolContents {
  /** Sample ids of every record in the spool (keys not starting with `_`), in offset order. */
  samples: string[]
  /** The sample ids at or after the `mqtt` cursor's persisted ack: what a restart replays. */
  replay: string[]
  /** The `mqtt` cursor's persisted ack (every offset below it was confirmed by the broker). */
  mqttAcked: number
}

export function readSpool(dir: string): SpoolContents {
  const spool = Spool.open({ dir })
  try {
    const mqttAcked = spool.stats().cursors.mqtt?.acked ?? 0
    const cursor = spool.cursor('offline-check')
    const samples: string[] = []
    const replay: string[] = []
    for (let batch = cursor.read(256); batch.length > 0; batch = cursor.read(256)) {
      for (const r of batch) {
        if (r.key.startsWith('_')) continue
        const id = sampleId(JSON.parse(new TextDecoder().decode(r.payload)) as SampleMessage)
        samples.push(id)
        if (r.offset >= mqttAcked) replay.push(id)
      }
    }
    spool.deleteCursor('offline-check')
    return { samples, replay, mqttAcked }
  } finally {
    spool.close()
  }
}

export function readSummary(file: string): DemoSummary {
  return JSON.parse(readFileSync(file, 'utf8')) as DemoSummary
}

/** `spinmesh demo args…` as a process, resolved once it printed its `field:` line (its broker listens). */
export async function startDemo(args: string[]): Promise<{ proc: ChildProcess; out: string[]; exited: Promise<number | null> }> {
  const { proc, out } = await daemon(['demo', ...args], /^field: /m)
  return { proc, out, exited: exitOf(proc) }
}

/** Resolves with the exit code (null when killed by a signal), also if it already exited. */
export function exitOf(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode)
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
}

/** `p`, or a rejection naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]).finally(() => clearTimeout(t))
}

/** kill -9 and wait until it is gone. */
export async function killHard(proc: ChildProcess): Promise<void> {
  const gone = exitOf(proc)
  proc.kill('SIGKILL')
  await within(gone, 5000, 'the killed demo to exit')
}

export interface FieldGateway {
  gateway: Gateway
  field: SensorField
  /** Ids of the samples the gateway accepted, in order. */
  accepted: string[]
  close(): Promise<void>
}

export interface FieldGatewayOptions {
  spoolDir: string
  /** MQTT section of the config (default: the embedded broker on any free port; false: none). */
  mqtt?: Record<string, unknown> | false
  /** Dashboard port (false: none). */
  http?: number | false
  /** Mean time between a sensor's samples, virtual ms (default 30 s, as the demo). */
  sampleIntervalMs?: number
  /** Virtual ms per wall ms the field will be paced at (sample timestamps only). */
  speed?: number
  /** Gateway option: client ids of this process's own subscribers. */
  ownSubscribers?: string[]
}

/** The demo's field and a Gateway (network `demo`) in this process; the caller advances the field. */
export async function startFieldGateway(o: FieldGatewayOptions): Promise<FieldGateway> {
  const config = validateGatewayConfig({
    network: 'demo',
    feeds: DEMO_FEEDS.map((f) => ({ id: f.id, name: f.name, fields: f.fields.map((x) => ({ ...x })) })),
    spool: { dir: o.spoolDir },
    mqtt: o.mqtt === false ? false : (o.mqtt ?? { broker: 'embedded', embeddedPort: 0 }),
    http: o.http === undefined || o.http === false ? false : { port: o.http },
  }, 'test')
  let field: SensorField | undefined
  const gateway = await Gateway.start({ config, address: 1, mesh: () => field!.meshView(), ownSubscribers: o.ownSubscribers })
  const accepted: string[] = []
  gateway.on('sample', (m) => accepted.push(sampleId(m)))
  field = new SensorField({ scenario: loadScenario(DEMO_SCENARIO), gateway: 1, sampleIntervalMs: o.sampleIntervalMs ?? 30_000, speed: o.speed ?? 1, onSample: (s) => void gateway.accept(s) })
  return { gateway, field, accepted, close: () => gateway.close() }
}

/** Advances `field` by `stepMs` of virtual time every `everyMs` of wall time, until `endMs` (if given) or `stop()`. */
export function pace(field: SensorField, o: { stepMs: number; everyMs: number; endMs?: number }): { stop: () => void; done: Promise<void> } {
  let timer: NodeJS.Timeout | undefined
  let finish = (): void => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  const stop = (): void => {
    clearInterval(timer)
    finish()
  }
  timer = setInterval(() => {
    field.advanceTo(Math.min(o.endMs ?? Infinity, field.now + o.stepMs))
    if (o.endMs !== undefined && field.now >= o.endMs) stop()
  }, o.everyMs)
  return { stop, done }
}
