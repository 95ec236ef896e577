import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EventEmitter } from 'node:events'
import fc from 'fast-check'
import type { MqttClient } from 'mqtt'
import { ConfigError } from '../core/errors.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { Mosquitto } from './mosquitto.ts'
import { validateMqttSinkConfig } from './mqtt-defaults.ts'
import { AckWindow, MqttSink, type MqttSinkOptions } from './mqtt-sink.ts'
import { appendStream, everyRecordScenario, FakeCursor, outageScenario, samplePayload, sleep, streamKey, Subscriber, waitFor } from './mqtt-test-support.ts'

// ---- the sink's logic, against a fake MQTT.js client in virtual time ----

interface Sent {
  topic: string
  payload: Buffer
  opts: { qos?: number; retain?: boolean }
  cb: (err?: Error) => void
}

class FakeClient extends EventEmitter {
  readonly sent: Sent[] = []
  ended: boolean | undefined
  constructor(readonly opts: Record<string, unknown>) {
    super()
  }
  publish(topic: string, payload: Buffer, opts: Sent['opts'], cb: Sent['cb']): this {
    this.sent.push({ topic, payload, opts, cb })
    return this
  }
  end(force: boolean, _opts: object, cb: () => void): this {
    this.ended = force
    cb()
    return this
  }
  /** PUBACK the publish of record `offset`. */
  puback(offset: number): void {
    const s = this.sent.find((x) => (JSON.parse(x.payload.toString()) as { seq: number }).seq === offset)!
    s.cb()
  }
  offsets(): number[] {
    return this.sent.map((x) => (JSON.parse(x.payload.toString()) as { seq: number }).seq)
  }
}

function rig(o: Partial<MqttSinkOptions> = {}) {
  const sched = new SimScheduler()
  const cursor = new FakeCursor()
  const clients: FakeClient[] = []
  const sink = new MqttSink({
    cursor,
    url: 'mqtt://127.0.0.1:1883',
    prefix: 'spinmesh/net1',
    clientId: 'gw-1',
    scheduler: sched,
    connect: (_url, opts) => {
      const c = new FakeClient(opts as Record<string, unknown>)
      clients.push(c)
      return c as unknown as MqttClient
    },
    ...o,
  })
  const events: string[] = []
  sink.on('connected', () => events.push('connected'))
  sink.on('disconnected', ({ reason }) => events.push(`disconnected: ${reason}`))
  sink.on('error', (e) => events.push(`error: ${e.message}`))
  const last = () => clients[clients.length - 1]
  return { sched, cursor, clients, sink, events, last }
}

const tick = () => new Promise<void>((r) => queueMicrotask(r))

test('sink: QoS 1 to <prefix>/<key>, events not retained, at most `window` unacked, only contiguous prefixes acked', async () => {
  const { cursor, sink, last } = rig({ window: 4 })
  for (let i = 0; i < 10; i++) appendStream(cursor, i)
  sink.start()
  const c = last()
  assert.equal(c.opts.reconnectPeriod, 0, 'MQTT.js reconnect is off')
  assert.equal(c.opts.clean, true)
  assert.equal(c.opts.clientId, 'gw-1')
  assert.is(c.sent.length, 0, 'nothing is published before CONNACK')
  c.emit('connect')
  assert.equal(c.offsets(), [0, 1, 2, 3])
  assert.is(c.sent[0].topic, `spinmesh/net1/${streamKey(0)}`)
  assert.equal(c.sent[0].opts, { qos: 1, retain: true })
  c.puback(2)
  await tick()
  assert.is(cursor.acked, 0, 'a PUBACK after a gap is not acked')
  assert.is(c.sent.length, 4, 'the window counts records not yet acked to the cursor')
  c.puback(0)
  await tick()
  assert.is(cursor.acked, 1)
  assert.equal(c.offsets(), [0, 1, 2, 3, 4])
  c.puback(1)
  await tick()
  assert.is(cursor.acked, 3, '0..2 done: acked up to 2')
  assert.equal(c.offsets(), [0, 1, 2, 3, 4, 5, 6])
  for (const o of [3, 4, 5, 6]) c.puback(o)
  for (const o of [7, 8, 9]) c.puback(o)
  await tick()
  assert.is(cursor.acked, 10)
  const ev = c.sent.find((s) => s.topic.endsWith('/_events/route-change'))!
  assert.is(ev.opts.retain, false, 'network events are not retained')
  appendStream(cursor, 10)
  assert.equal(c.offsets().slice(-1), [10], 'an append wakes the sink')
  assert.equal(sink.stats(), { published: 11, acked: 10, inFlight: 1, reconnects: 0, connected: true, lastError: null, rejected: 0 })
  assert.equal(cursor.violations, [])
})

test('sink: a lost connection rewinds to the last ack, reconnects after jittered exponential backoff, ignores the old client', async () => {
  const { sched, cursor, clients, sink, events, last } = rig({ window: 4, backoff: { minMs: 200, maxMs: 1000 } })
  for (let i = 0; i < 6; i++) appendStream(cursor, i)
  sink.start()
  const first = last()
  first.emit('connect')
  first.puback(0)
  first.puback(1)
  await tick()
  first.emit('close')
  assert.is(first.ended, true, 'the old client is ended (forced)')
  assert.is(cursor.acked, 2)
  assert.equal(events, ['connected', 'disconnected: connection closed'])
  first.puback(2) // a late PUBACK from the dropped client
  await tick()
  assert.is(cursor.acked, 2, 'callbacks of a dropped client are ignored')
  // Broker down: every attempt fails; delays double from minMs (±25 %) up to maxMs.
  const delays: number[] = []
  let t = sched.now()
  for (let attempt = 0; attempt < 6; attempt++) {
    sched.run({ maxEvents: 1 })
    assert.is(clients.length, attempt + 2)
    delays.push(sched.now() - t)
    t = sched.now()
    last().emit('error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' }))
    last().emit('close')
  }
  const nominal = [200, 400, 800, 1000, 1000, 1000]
  delays.forEach((d, i) => assert.ok(d >= Math.min(1000, nominal[i] * 0.75) && d <= Math.min(1000, nominal[i] * 1.25), `delay ${i} ${d} ~ ${nominal[i]}`))
  assert.ok(new Set(delays.slice(0, 3).map(Math.round)).size > 1, 'jittered')
  assert.match(sink.stats().lastError!, /ECONNREFUSED/)
  sched.run({ maxEvents: 1 })
  const again = last()
  again.emit('connect')
  assert.equal(again.offsets(), [2, 3, 4, 5], 'what was not PUBACKed is sent again')
  for (const o of [2, 3, 4, 5]) again.puback(o)
  await tick()
  assert.is(cursor.acked, 6)
  assert.is(sink.stats().reconnects, 1)
  assert.equal(cursor.violations, [])
  await sink.close()
})

test('sink: a key that cannot be a topic is reported and acked without publishing', async () => {
  const { cursor, sink, events, last } = rig()
  cursor.append('voltage/+', samplePayload('voltage/+', 0))
  appendStream(cursor, 1)
  sink.start()
  last().emit('connect')
  assert.equal(last().offsets(), [1])
  last().puback(1)
  await tick()
  assert.is(cursor.acked, 2)
  assert.is(sink.stats().rejected, 1)
  assert.ok(events.some((e) => /record 0 not published: its key contains a wildcard/.test(e)))
})

test('sink: close() waits for in-flight PUBACKs (up to closeDrainMs), acks them, then disconnects', async () => {
  const { cursor, sink, events, last } = rig({ closeDrainMs: 1000 })
  for (let i = 0; i < 3; i++) appendStream(cursor, i)
  sink.start()
  const c = last()
  c.emit('connect')
  const closed = sink.close()
  appendStream(cursor, 3)
  assert.is(c.sent.length, 3, 'nothing new is read while closing')
  c.puback(0)
  c.puback(1)
  c.puback(2)
  await closed
  assert.is(cursor.acked, 3)
  assert.is(c.ended, false, 'a graceful DISCONNECT once nothing is in flight')
  assert.equal(events.slice(-1), ['disconnected: closed'])
  // And a PUBACK that never comes: close() gives up after closeDrainMs.
  const r = rig({ closeDrainMs: 1000 })
  appendStream(r.cursor, 0)
  r.sink.start()
  r.last().emit('connect')
  const closing = r.sink.close()
  r.sched.run()
  await closing
  assert.is(r.sched.now(), 1000)
  assert.is(r.cursor.acked, 0)
  assert.is(r.last().ended, true)
})

test('sink: bad broker URLs and options are ConfigErrors naming the field', () => {
  const cursor = new FakeCursor()
  const bad = (o: Partial<MqttSinkOptions>, path: string, re: RegExp) => {
    try {
      new MqttSink({ cursor, url: 'mqtt://127.0.0.1:1883', prefix: 'spinmesh/net1', ...o })
    } catch (e) {
      assert.instance(e, ConfigError)
      assert.is((e as ConfigError).path, path)
      assert.match((e as Error).message, re)
      return
    }
    assert.unreachable(`expected a ConfigError for ${JSON.stringify(o)}`)
  }
  bad({ url: 'not a url' }, 'mqtt.broker', /mqtt\.broker: cannot parse "not a url"/)
  bad({ url: 'http://broker:1883' }, 'mqtt.broker', /unsupported protocol "http:".*mqtt:\/\//)
  bad({ url: '127.0.0.1:1883' }, 'mqtt.broker', /no scheme: write mqtt:\/\/host:port/)
  bad({ url: 'localhost:1883' }, 'mqtt.broker', /unsupported protocol "localhost:".*no scheme/)
  bad({ url: 'ftp://user:secret@host' }, 'mqtt.broker', /user:\*\*\*@host/)
  bad({ url: '' }, 'mqtt.broker', /must be a broker URL/)
  bad({ prefix: 'spinmesh/#' }, 'mqtt.prefix', /wildcard/)
  bad({ prefix: 'spinmesh/' }, 'mqtt.prefix', /must not end with "\/"/)
  bad({ window: 0 }, 'mqtt.window', /must be >= 1, got 0/)
  bad({ backoff: { minMs: 5000, maxMs: 1000 } }, 'mqtt.backoff.maxMs', /must be >= minMs/)
  assert.throws(() => validateMqttSinkConfig({ brokr: 'mqtt://x' } as never), /mqtt\.brokr: unknown field/)
  const c = validateMqttSinkConfig({ broker: 'mqtts://broker.example:8883', prefix: 'spinmesh/net1' })
  assert.equal(c.backoff, { minMs: 500, maxMs: 10_000 })
  assert.is(c.window, 64)
})

test('AckWindow: the ack is always the end of the longest done prefix, whatever the PUBACK order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 60 }).chain((gaps) =>
        fc.tuple(fc.constant(gaps), fc.shuffledSubarray([...gaps.keys()], { minLength: gaps.length, maxLength: gaps.length })),
      ),
      ([gaps, order]) => {
        const offsets: number[] = []
        gaps.reduce((o, g) => (offsets.push(o + g), o + g), 0)
        const w = new AckWindow()
        for (const o of offsets) w.add(o)
        const done = new Set<number>()
        let acked = -1
        for (const i of order) {
          done.add(i)
          const r = w.complete(offsets[i])
          let prefix = 0
          while (done.has(prefix)) prefix++
          const expect = prefix > 0 ? offsets[prefix - 1] : -1
          if (expect !== acked) {
            if (r !== expect) return false
            acked = expect
          } else if (r !== undefined) return false
          if (w.size !== offsets.length - prefix || w.inFlight !== offsets.length - done.size) return false
        }
        return w.size === 0
      },
    ),
  )
})

// ---- against a real mosquitto ----

test('mosquitto is installed (.ci/run installs it; apt-get install mosquitto)', () => {
  assert.ok(Mosquitto.available(), 'mosquitto not found on PATH or in /usr/sbin: install it (apt-get install mosquitto)')
})

test('mosquitto: every record once on its topic, latest sample of each feed retained for a late subscriber', async () => {
  const m = await Mosquitto.start()
  try {
    await everyRecordScenario(m.url)
  } finally {
    await m.dispose()
  }
})

test('mosquitto: stopped for 10 s mid-stream and restarted on the same port, the subscriber ends with every record', async () => {
  const m = await Mosquitto.start({ persistence: true })
  try {
    const r = await outageScenario({ url: m.url, down: () => m.stop(), up: () => m.start() })
    assert.ok(r.records > 1000)
    console.log(`  mosquitto outage: ${r.records} records, ${r.duplicates} duplicates, ${r.reconnects} reconnects`)
  } catch (e) {
    console.error(m.log)
    throw e
  } finally {
    await m.dispose()
  }
})

test('mosquitto: a broker that is down at start is retried; records wait in the spool and arrive once it is up', async () => {
  const m = await Mosquitto.start({ persistence: true })
  const prefix = 'spinmesh/late-broker'
  const sub = await Subscriber.connect(m.url, prefix, 'spinmesh-test-late-broker')
  await m.stop() // the subscriber's session is saved; it keeps retrying
  const cursor = new FakeCursor()
  const sink = new MqttSink({ cursor, url: m.url, prefix, backoff: { minMs: 100, maxMs: 500 } })
  const errors: string[] = []
  sink.on('error', (e) => errors.push(e.message))
  try {
    sink.start()
    for (let i = 0; i < 200; i++) appendStream(cursor, i)
    await sleep(1500)
    assert.ok(errors.length >= 2, `connection attempts failed and were reported (${errors.length})`)
    assert.match(errors[0], /ECONNREFUSED/)
    assert.is(sink.stats().connected, false)
    assert.is(cursor.acked, 0, 'records wait in the spool')
    await m.start()
    await waitFor(() => sub.counts().size === 200 && cursor.acked === 200, 15_000, '200 records', () => `(got ${sub.counts().size})`)
    await sleep(200)
    assert.is(sub.received.length, 200, 'each once')
    assert.is(sink.stats().reconnects, 0, 'the first successful connection is not a reconnect')
    assert.equal(cursor.violations, [])
  } finally {
    await sink.close()
    await sub.end()
    await m.dispose()
  }
})

test.run()
