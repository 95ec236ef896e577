// The demo's stream through the gateway's embedded broker (aedes): in process, a Gateway fed by the
// simulated sensor field (advanced in virtual time) delivers every accepted sample to a subscriber
// with a session (clean: false, QoS 1) — in a plain run and across a 10 s pause of the broker; as
// a process, `spinmesh demo` killed with -9 and restarted on the same port holds its stream until
// the subscriber is back (replay grace), so the subscriber gets the whole replay and the new run.
//
// What QoS 1 allows: at-least-once. Duplicates come only from resends: the sink's records in flight
// when its connection was cut (at most `window`, 64), what follows the spool's last persisted ack
// after a crash, and aedes' redelivery of what it had sent to the subscriber unacknowledged.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'mqtt'
import { filterReaches } from './gateway.ts'
import { DEFAULT_MQTT_SINK } from './mqtt-defaults.ts'
import { freePort } from './mosquitto.ts'
import { sleep, waitFor } from './mqtt-test-support.ts'
import { assertReceivedAll, DEMO_PREFIX, exitOf, killHard, pace, readSpool, readSummary, SampleCollector, startDemo, startFieldGateway, within } from './demo-test-support.ts'

const WINDOW = DEFAULT_MQTT_SINK.window

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `spinmesh-stream-embedded-${name}-`))
}

test('in process: every sample the gateway accepted from the field reaches the subscriber (embedded broker)', async () => {
  const dir = tempDir('every')
  const fg = await startFieldGateway({ spoolDir: dir, speed: 500 })
  const sub = await SampleCollector.connect(fg.gateway.brokerUrl!, { clientId: 'spinmesh-test-embedded-every', clean: false, resubscribe: false })
  try {
    const pacer = pace(fg.field, { stepMs: 10_000, everyMs: 20, endMs: 600_000 })
    await within(pacer.done, 30_000, 'the field to run 600 s of virtual time')
    assert.ok(fg.accepted.length > 100, `the field produced samples (${fg.accepted.length})`)
    await waitFor(() => sub.missing(fg.accepted).length === 0 && fg.gateway.stats().spooled === 0, 15_000, 'every accepted sample at the subscriber and nothing left in the spool',
      () => `(${sub.missing(fg.accepted).length} of ${fg.accepted.length} missing, ${fg.gateway.stats().spooled} spooled)`)
    const accepted = new Set(fg.accepted)
    assert.equal([...sub.counts.keys()].filter((id) => !accepted.has(id)), [], 'nothing the gateway did not accept')
    assert.is(sub.size, fg.accepted.length)
    assert.is(fg.gateway.stats().accepted, fg.accepted.length)
    assert.ok(sub.duplicates <= WINDOW, `duplicates ${sub.duplicates} <= window ${WINDOW}`)
    assert.equal(sub.garbage, [])
    console.log(`  embedded, in process: ${fg.accepted.length} accepted, ${sub.size} received, ${sub.duplicates} duplicates`)
  } finally {
    await sub.end()
    await fg.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('in process: the embedded broker paused 10 s while samples keep being accepted, then resumed: nothing lost', async () => {
  const dir = tempDir('outage')
  const fg = await startFieldGateway({ spoolDir: dir, speed: 40 })
  const sub = await SampleCollector.connect(fg.gateway.brokerUrl!, { clientId: 'spinmesh-test-embedded-outage', clean: false, resubscribe: false })
  const broker = fg.gateway.embeddedBroker!
  const pacer = pace(fg.field, { stepMs: 2000, everyMs: 50 })
  try {
    await waitFor(() => sub.size >= 5, 20_000, '5 samples before the outage', () => `(got ${sub.size})`)
    await broker.pause()
    const acceptedAtDown = fg.accepted.length
    const receivedAtDown = sub.size
    await sleep(10_000) // the outage: real time passes while the field keeps reporting
    assert.ok(fg.accepted.length > acceptedAtDown + 50, `samples were accepted during the outage (${fg.accepted.length - acceptedAtDown})`)
    assert.is(sub.size, receivedAtDown, 'nothing arrives while the broker is paused')
    assert.is(fg.gateway.stats().brokerConnected, false, 'the gateway noticed the outage')
    await broker.resume()
    await waitFor(() => fg.gateway.stats().brokerConnected, 20_000, 'the gateway\'s sink to reconnect after the resume', () => JSON.stringify(fg.gateway.dashboardState().stream.sinks))
    pacer.stop()
    await waitFor(() => sub.missing(fg.accepted).length === 0 && fg.gateway.stats().spooled === 0, 20_000, 'every accepted sample after the outage',
      () => `(${sub.missing(fg.accepted).length} of ${fg.accepted.length} missing, ${fg.gateway.stats().spooled} spooled; subscriber connected ${sub.client.connected}; sink ${JSON.stringify(fg.gateway.dashboardState().stream.sinks?.mqtt)})`)
    const accepted = new Set(fg.accepted)
    assert.equal([...sub.counts.keys()].filter((id) => !accepted.has(id)), [], 'nothing the gateway did not accept')
    assert.ok(sub.duplicates <= WINDOW, `duplicates ${sub.duplicates} <= the sink's window ${WINDOW}`)
    assert.is(sub.subscribes, 1, 'the session survived the pause: no new SUBSCRIBE')
    assert.equal(sub.garbage, [])
    console.log(`  embedded outage, in process: ${fg.accepted.length} accepted (${fg.accepted.length - acceptedAtDown} from the outage on), ${sub.size} received, ${sub.duplicates} duplicates`)
  } finally {
    pacer.stop()
    await sub.end()
    await fg.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('in process: a restarted gateway holds its stream until a subscriber from outside subscribes (its own are ignored)', async () => {
  const dir = tempDir('grace')
  const port = await freePort()
  const mqtt = { broker: 'embedded', embeddedPort: port }
  const first = await startFieldGateway({ spoolDir: dir, mqtt, speed: 500 })
  // Samples accepted while the broker is away stay in the spool when the gateway stops.
  await first.gateway.embeddedBroker!.pause()
  first.field.advanceTo(300_000)
  const spooled = [...first.accepted]
  assert.ok(spooled.length > 20, `samples accepted while the broker was away (${spooled.length})`)
  await first.close()
  const second = await startFieldGateway({ spoolDir: dir, mqtt: { ...mqtt, replayGraceMs: 20_000 }, speed: 500, ownSubscribers: ['spinmesh-test-own'] })
  const own = connect(second.gateway.brokerUrl!, { clientId: 'spinmesh-test-own', reconnectPeriod: 0 })
  let sub: SampleCollector | undefined
  try {
    assert.is(second.gateway.stats().replayWaiting, true, 'the restarted gateway waits')
    second.field.advanceTo(120_000)
    const fresh = [...second.accepted]
    assert.ok(fresh.length > 0, 'the restarted gateway accepts samples while it waits')
    // Its own subscriber subscribing, or a subscription elsewhere, does not end the wait.
    await own.subscribeAsync([`${DEMO_PREFIX}/#`])
    const other = connect(second.gateway.brokerUrl!, { clientId: 'spinmesh-test-grace-other', reconnectPeriod: 0 })
    await other.subscribeAsync(['$SYS/#', 'elsewhere/#'])
    await other.endAsync()
    assert.is(second.gateway.stats().replayWaiting, true, 'still waiting after unrelated subscriptions')
    assert.is(second.gateway.stats().streamed, 0)
    sub = await SampleCollector.connect(second.gateway.brokerUrl!, { clientId: 'spinmesh-test-grace', clean: true })
    await waitFor(() => !second.gateway.stats().replayWaiting, 5000, 'the subscription to end the wait')
    await waitFor(() => sub!.missing([...spooled, ...fresh]).length === 0, 10_000, 'the replay and the samples accepted during the wait',
      () => `(${sub!.missing(spooled).length} replayed, ${sub!.missing(fresh).length} new missing)`)
    assert.equal(sub.retained, [], 'the stream went out after the subscription: nothing came as a retained copy')
  } finally {
    await own.endAsync()
    await sub?.end()
    await second.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('in process: a restarted gateway with nothing left to replay still holds the new samples until a subscriber is back', async () => {
  const dir = tempDir('grace-empty')
  const first = await startFieldGateway({ spoolDir: dir, speed: 500 })
  first.field.advanceTo(120_000)
  await waitFor(() => first.gateway.stats().spooled === 0, 10_000, 'the first gateway to stream everything')
  await first.close()
  const second = await startFieldGateway({ spoolDir: dir, mqtt: { broker: 'embedded', embeddedPort: 0, replayGraceMs: 20_000 }, speed: 500 })
  let sub: SampleCollector | undefined
  try {
    assert.is(second.gateway.stats().replayWaiting, true, 'a restart holds the stream even with nothing to replay')
    second.field.advanceTo(120_000)
    assert.ok(second.accepted.length > 0, 'samples accepted while it waits')
    sub = await SampleCollector.connect(second.gateway.brokerUrl!, { clientId: 'spinmesh-test-grace-empty', clean: true })
    await waitFor(() => sub!.missing(second.accepted).length === 0, 10_000, 'the samples accepted during the wait', () => `(${sub!.missing(second.accepted).length} missing)`)
    assert.equal(sub.retained, [], 'they were streamed to the subscriber, not left as retained copies')
  } finally {
    await sub?.end()
    await second.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('process: spinmesh demo killed with -9 and restarted on the same port: the reconnecting subscriber gets the replay and the new run', async () => {
  const dir = tempDir('crash')
  const spoolDir = join(dir, 'spool')
  const json = join(dir, 'summary.json')
  const port = await freePort()
  const url = `mqtt://127.0.0.1:${port}`
  const first = await startDemo(['--embedded-port', String(port), '--spool', spoolDir, '--duration', '3600', '--speed', '5', '--quiet', '--http', 'off'])
  let second: Awaited<ReturnType<typeof startDemo>> | undefined
  // clean: true, resubscribe (MQTT.js default): after the restart it subscribes again by itself.
  const sub = await SampleCollector.connect(url, { clientId: 'spinmesh-test-embedded-crash', clean: true, reconnectPeriod: 200 })
  try {
    await waitFor(() => sub.size >= 5, 20_000, '5 samples before the kill', () => `(got ${sub.size})`)
    await killHard(first.proc)
    const spool = readSpool(spoolDir)
    assert.ok(spool.samples.length >= 5, `the spool holds the accepted samples (${spool.samples.length})`)
    const restartAt = Date.now()
    second = await startDemo(['--embedded-port', String(port), '--spool', spoolDir, '--duration', '20', '--speed', '20', '--json', json, '--quiet', '--http', 'off'])
    const code = await within(second.exited, 45_000, 'the restarted demo to finish')
    assert.is(code, 0, `restarted demo exit code; output: ${second.out.join('')}`)
    const s = readSummary(json)
    assert.ok(s.wallSeconds < 10, `the subscriber ended the replay wait, not the 10 s grace (the run took ${s.wallSeconds} s)`)
    assert.ok(sub.subscribes >= 2, 'the subscriber subscribed again after the restart')
    assert.equal(sub.retained, [], 'no sample came only as a retained copy: the subscriber was subscribed before each went out')
    assertReceivedAll(sub, spool.samples, 'every sample in the spool after the kill')
    assertReceivedAll(sub, spool.replay, 'the replay (spooled after the last persisted ack)', restartAt)
    assertReceivedAll(sub, s.acceptedIds, 'every sample the restarted run accepted')
    const all = new Set([...spool.samples, ...s.acceptedIds])
    assert.equal([...sub.counts.keys()].filter((id) => !all.has(id)), [], 'nothing but spooled and new samples')
    const replay = new Set(spool.replay)
    assert.equal([...sub.counts].filter(([id, n]) => n > 1 && !replay.has(id)), [], 'only replayed samples arrive twice')
    assert.equal(sub.garbage, [])
    console.log(`  embedded kill -9: ${spool.samples.length} samples in the spool, ${spool.replay.length} replayed, ${s.samples.accepted} new; ${sub.size} received, ${sub.duplicates} duplicates, restarted run ${s.wallSeconds} s`)
  } finally {
    await sub.end()
    first.proc.kill('SIGKILL')
    second?.proc.kill('SIGKILL')
    await exitOf(first.proc)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('filterReaches: which subscriptions end the replay wait', () => {
  for (const f of ['#', 'spinmesh/#', 'spinmesh/demo/#', 'spinmesh/+/#', 'spinmesh/demo/climate/+', '+/demo/+/+']) assert.ok(filterReaches(f, 'spinmesh/demo'), f)
  for (const f of ['$SYS/#', 'spinmesh/demo', 'spinmesh/other/#', 'spinmesh', 'other/#']) assert.not.ok(filterReaches(f, 'spinmesh/demo'), f)
})

test.run()
