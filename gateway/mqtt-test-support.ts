/**
 * Test support shared by mqtt-sink.test.ts (against a real mosquitto) and broker.test.ts (against
 * the embedded broker): an in-memory `SpoolCursor` that checks how it is used, an MQTT.js
 * subscriber that records what it receives, and the two end-to-end scenarios both brokers must pass
 * — every record once, and a broker outage mid-stream without loss.
 */
import * as assert from 'uvu/assert'
import { connect, type MqttClient } from 'mqtt'
import { MqttSink, type MqttSinkOptions } from './mqtt-sink.ts'
import type { SpoolCursor, SpoolRecord } from './stream-types.ts'

/** An in-memory spool with one cursor. Misuse (acking what was not read, acking backwards) is recorded in `violations`. */
export class FakeCursor implements SpoolCursor {
  readonly name = 'test'
  readonly records: SpoolRecord[] = []
  readonly violations: string[] = []
  private ackedTo = 0
  private readPos = 0
  private readonly listeners = new Set<() => void>()

  get acked(): number {
    return this.ackedTo
  }

  get pending(): number {
    return this.records.length - this.ackedTo
  }

  append(key: string, payload: Uint8Array): SpoolRecord {
    const r = { offset: this.records.length, key, payload, appendedAt: Date.now() }
    this.records.push(r)
    for (const fn of [...this.listeners]) fn()
    return r
  }

  read(max: number): SpoolRecord[] {
    const out = this.records.slice(this.readPos, this.readPos + max)
    this.readPos += out.length
    return out
  }

  ack(offset: number): void {
    if (offset >= this.readPos) this.violations.push(`ack(${offset}) of a record not read (read up to ${this.readPos - 1})`)
    if (offset + 1 < this.ackedTo) this.violations.push(`ack(${offset}) goes back (acked up to ${this.ackedTo - 1})`)
    this.ackedTo = Math.max(this.ackedTo, offset + 1)
  }

  rewind(): void {
    this.readPos = this.ackedTo
  }

  onAppend(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
}

/** The payload the gateway would publish for sample `seq` of `key`. */
export function samplePayload(key: string, seq: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ key, seq, value: seq * 0.5 }))
}

export interface Received {
  topic: string
  key: string
  seq: number
  retain: boolean
}

/** An MQTT.js subscriber to `<prefix>/#` at QoS 1 that keeps every message (it reconnects by itself). */
export class Subscriber {
  readonly received: Received[] = []

  private constructor(readonly client: MqttClient) {}

  static async connect(url: string, prefix: string, clientId: string, clean = false): Promise<Subscriber> {
    // resubscribe: false — a re-SUBSCRIBE after a reconnect would be sent the retained messages again.
    const client = connect(url, { clientId, clean, reconnectPeriod: 300, resubscribe: false, connectTimeout: 5000 })
    const sub = new Subscriber(client)
    client.on('error', () => {}) // connection refused while the broker is down: it retries
    client.on('message', (topic, payload, packet) => {
      const m = JSON.parse(payload.toString()) as { key: string; seq: number }
      sub.received.push({ topic, key: m.key, seq: m.seq, retain: packet.retain })
    })
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    await client.subscribeAsync(`${prefix}/#`, { qos: 1 })
    return sub
  }

  /** How often each `key#seq` arrived. */
  counts(): Map<string, number> {
    const m = new Map<string, number>()
    for (const r of this.received) m.set(`${r.key}#${r.seq}`, (m.get(`${r.key}#${r.seq}`) ?? 0) + 1)
    return m
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()))
  }
}

/** Poll `pred` every 25 ms until true; fails naming `what` (and `detail()`) after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > end) assert.unreachable(`timed out after ${timeoutMs} ms waiting for ${what} ${detail()}`)
    await sleep(25)
  }
}

/** `promise` rejects with a message matching `re`. */
export async function rejects(promise: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await promise
  } catch (e) {
    assert.match((e as Error).message, re)
    return
  }
  assert.unreachable(`expected a rejection matching ${re}`)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const FEEDS = ['voltage/0000002a', 'voltage/0000002b', 'temp/0000002a', 'humidity/00000101']

/** The key of the `i`-th record of a test stream: samples of 4 feeds/nodes, every 10th a network event. */
export function streamKey(i: number): string {
  return i % 10 === 9 ? '_events/route-change' : FEEDS[i % FEEDS.length]
}

/** Append record `i` of the test stream. */
export function appendStream(cursor: FakeCursor, i: number): void {
  const key = streamKey(i)
  cursor.append(key, samplePayload(key, i))
}

function assertNoViolations(cursor: FakeCursor): void {
  assert.equal(cursor.violations, [], 'the sink used the cursor correctly')
}

/**
 * Every record is received once on `<prefix>/<key>`; a late subscriber gets the latest sample
 * of each feed/node, retained (network events are not retained).
 */
export async function everyRecordScenario(url: string, sinkOptions: Partial<MqttSinkOptions> = {}): Promise<void> {
  const prefix = 'spinmesh/every'
  const n = 400
  const sub = await Subscriber.connect(url, prefix, 'spinmesh-test-every')
  const cursor = new FakeCursor()
  const sink = new MqttSink({ cursor, url, prefix, window: 16, ...sinkOptions })
  try {
    for (let i = 0; i < 100; i++) appendStream(cursor, i) // before start: a backlog
    sink.start()
    for (let i = 100; i < n; i++) {
      appendStream(cursor, i)
      if (i % 50 === 0) await sleep(5)
    }
    await waitFor(() => sub.counts().size === n && cursor.acked === n, 20_000, `${n} records`, () => `(got ${sub.counts().size}, acked ${cursor.acked})`)
    await sleep(200) // any duplicate would show up now
    const counts = sub.counts()
    for (let i = 0; i < n; i++) assert.is(counts.get(`${streamKey(i)}#${i}`), 1, `record ${i} received once`)
    assert.is(sub.received.length, n)
    for (const r of sub.received) assert.is(r.topic, `${prefix}/${r.key}`)
    const st = sink.stats()
    assert.is(st.published, n)
    assert.is(st.acked, n)
    assert.is(st.inFlight, 0)
    assert.is(st.connected, true)
    assert.is(st.reconnects, 0)
    assertNoViolations(cursor)

    const late = await Subscriber.connect(url, prefix, 'spinmesh-test-late', true)
    await waitFor(() => late.received.length >= FEEDS.length, 5000, 'retained messages')
    await sleep(200)
    const latest = new Map<string, number>()
    for (let i = 0; i < n; i++) if (!streamKey(i).startsWith('_events/')) latest.set(streamKey(i), i)
    assert.is(late.received.length, FEEDS.length, 'one retained message per feed/node, none for events')
    for (const r of late.received) {
      assert.ok(r.retain, `${r.topic} is retained`)
      assert.is(r.seq, latest.get(r.key), `${r.key}: the latest sample is retained`)
    }
    await late.end()
  } finally {
    await sink.close()
    await sub.end()
  }
}

export interface OutageOptions {
  url: string
  /** Take the broker down (stop mosquitto / pause the embedded broker). */
  down: () => Promise<void>
  /** Bring it back on the same port. */
  up: () => Promise<void>
  outageMs?: number
  window?: number
}

/**
 * A stream of records, one every 10 ms; the broker goes down for `outageMs` mid-stream while records
 * keep being appended, then comes back: the subscriber ends with every record, with at most
 * `window` duplicates (the records in flight when the connection was lost).
 */
export async function outageScenario(o: OutageOptions): Promise<{ records: number; duplicates: number; reconnects: number }> {
  const prefix = 'spinmesh/outage'
  const window = o.window ?? 64
  const sub = await Subscriber.connect(o.url, prefix, 'spinmesh-test-outage')
  const cursor = new FakeCursor()
  const sink = new MqttSink({ cursor, url: o.url, prefix, window, backoff: { minMs: 200, maxMs: 2000 } })
  const disconnects: string[] = []
  sink.on('disconnected', ({ reason }) => disconnects.push(reason))
  sink.on('error', () => {}) // connection refused while the broker is down
  let n = 0
  const producer = setInterval(() => appendStream(cursor, n++), 10)
  try {
    sink.start()
    await waitFor(() => sub.counts().size >= 100, 10_000, '100 records before the outage')
    await o.down()
    const appendedAtDown = n
    await sleep(o.outageMs ?? 10_000)
    assert.ok(n > appendedAtDown + 100, 'records kept being appended during the outage')
    assert.is(sink.stats().connected, false, 'the sink noticed the outage')
    await o.up()
    await sleep(1000)
    clearInterval(producer)
    await waitFor(() => sub.counts().size === n && cursor.acked === n, 30_000, `all ${n} records after the outage`, () => `(got ${sub.counts().size}, acked ${cursor.acked})`)
    await sleep(300)
    const counts = sub.counts()
    let duplicates = 0
    for (let i = 0; i < n; i++) {
      const c = counts.get(`${streamKey(i)}#${i}`) ?? 0
      assert.ok(c >= 1, `record ${i} received`)
      duplicates += c - 1
    }
    assert.is(counts.size, n, 'nothing but the stream was received')
    assert.ok(duplicates <= window, `duplicates ${duplicates} <= window ${window}`)
    for (const r of sub.received) assert.is(r.topic, `${prefix}/${r.key}`)
    assert.ok(disconnects.length >= 1, 'the sink reported the disconnection')
    const st = sink.stats()
    assert.ok(st.reconnects >= 1, 'the sink reconnected')
    assert.is(st.connected, true)
    assertNoViolations(cursor)
    return { records: n, duplicates, reconnects: st.reconnects }
  } finally {
    clearInterval(producer)
    await sink.close()
    await sub.end()
  }
}
