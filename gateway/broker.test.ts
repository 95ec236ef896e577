import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'mqtt'
import { EmbeddedBroker } from './broker.ts'
import { everyRecordScenario, outageScenario, rejects, Subscriber, waitFor } from './mqtt-test-support.ts'

test('embedded broker: listens on a free port of 127.0.0.1 and frees it on stop', async () => {
  const b = await EmbeddedBroker.start({ host: '127.0.0.1', port: 0 })
  assert.ok(b.port > 0)
  assert.is(b.url, `mqtt://127.0.0.1:${b.port}`)
  await b.stop()
  const again = await EmbeddedBroker.start({ port: b.port })
  assert.is(again.port, b.port, 'the port is free again after stop()')
  await rejects(EmbeddedBroker.start({ port: b.port }), /cannot listen on 127\.0\.0\.1:\d+/)
  await again.stop()
})

test('embedded broker: every record once on its topic, latest sample of each feed retained', async () => {
  const b = await EmbeddedBroker.start()
  try {
    await everyRecordScenario(b.url)
  } finally {
    await b.stop()
  }
})

test('embedded broker: a clean:false QoS 1 subscriber gets, after a pause/resume, what was published while it was away', async () => {
  const b = await EmbeddedBroker.start()
  const sub = await Subscriber.connect(b.url, 'spinmesh/away', 'spinmesh-test-away')
  try {
    await b.pause()
    assert.is(b.listening, false)
    await b.resume()
    // The publisher connects first; the subscriber is still away (it retries every 300 ms).
    const pub = connect(b.url, { clientId: 'spinmesh-test-pub', reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => {
      pub.once('connect', () => resolve())
      pub.once('error', reject)
    })
    for (let i = 0; i < 5; i++) await pub.publishAsync('spinmesh/away/voltage/0000002a', JSON.stringify({ key: 'voltage/0000002a', seq: i }), { qos: 1 })
    await pub.endAsync()
    await waitFor(() => sub.received.length === 5, 5000, '5 messages queued in the session')
    assert.equal(sub.received.map((r) => r.seq), [0, 1, 2, 3, 4])
  } finally {
    await sub.end()
    await b.stop()
  }
})

test('embedded broker: paused 10 s mid-stream and resumed, the subscriber ends with every record', async () => {
  const b = await EmbeddedBroker.start()
  try {
    const r = await outageScenario({ url: b.url, down: () => b.pause(), up: () => b.resume() })
    assert.ok(r.records > 1000)
    console.log(`  embedded broker outage: ${r.records} records, ${r.duplicates} duplicates, ${r.reconnects} reconnects`)
  } finally {
    await b.stop()
  }
})

test('embedded broker: resume() after stop() is refused', async () => {
  const b = await EmbeddedBroker.start()
  await b.stop()
  await rejects(b.resume(), /stopped/)
})

test.run()
