// `spinmesh demo` as a process streaming to a real mosquitto (persistence on, unlimited queues),
// watched by a subscriber with a persistent session (clean: false, QoS 1, no resubscribe): every
// sample the gateway accepted arrives — in a plain run, across a 10 s broker outage, and across a
// kill -9 of the gateway (the spool is replayed by the next run).
//
// What QoS 1 allows: at-least-once. A subscriber sees a sample twice only when a copy was resent:
// by the gateway's sink after a lost connection (the records in flight, at most its `window`, 64)
// or after a crash (what follows the spool cursor's last persisted ack), or by the broker to the
// subscriber (messages it had sent but whose PUBACK it had not got when it stopped).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MQTT_SINK } from './mqtt-defaults.ts'
import { Mosquitto } from './mosquitto.ts'
import { sleep, waitFor } from './mqtt-test-support.ts'
import { assertReceivedAll, exitOf, killHard, readSpool, readSummary, SampleCollector, startDemo, within } from './demo-test-support.ts'

const WINDOW = DEFAULT_MQTT_SINK.window

async function setup(name: string): Promise<{ mosq: Mosquitto; sub: SampleCollector; dir: string; done: () => Promise<void> }> {
  assert.ok(Mosquitto.available(), 'mosquitto is installed (apt-get install mosquitto)')
  const mosq = await Mosquitto.start({ persistence: true })
  const dir = mkdtempSync(join(tmpdir(), `spinmesh-stream-${name}-`))
  const sub = await SampleCollector.connect(mosq.url, { clientId: `spinmesh-test-stream-${name}`, clean: false, resubscribe: false, reconnectPeriod: 200 })
  return {
    mosq, sub, dir,
    done: async () => {
      await sub.end()
      await mosq.dispose()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function sanity(sub: SampleCollector): void {
  assert.equal(sub.garbage, [], 'every message on a sample topic was that feed and origin\'s sample')
  assert.equal(sub.retained, [], 'one SUBSCRIBE on a fresh broker: no retained copies')
}

test('every sample the demo accepted reaches the subscriber (mosquitto)', async () => {
  const { mosq, sub, dir, done } = await setup('every')
  const json = join(dir, 'summary.json')
  const demo = await startDemo(['--broker', mosq.url, '--duration', '60', '--speed', '20', '--json', json, '--quiet', '--http', 'off'])
  try {
    const code = await within(demo.exited, 30_000, 'the demo to finish 60 s of field time at 20x')
    assert.is(code, 0, `demo exit code; output: ${demo.out.join('')}`)
    const s = readSummary(json)
    assert.ok(s.samples.accepted > 10, `the field produced samples (${s.samples.accepted})`)
    assert.is(s.acceptedIds.length, s.samples.accepted)
    assert.is(s.samples.spooled, 0, 'the broker confirmed everything')
    assert.is(s.samples.missing, 0, 'the demo\'s own subscriber got everything')
    await waitFor(() => sub.missing(s.acceptedIds).length === 0, 10_000, 'the test subscriber to receive every accepted sample', () => `(${sub.missing(s.acceptedIds).length} missing)`)
    const accepted = new Set(s.acceptedIds)
    assert.equal([...sub.counts.keys()].filter((id) => !accepted.has(id)), [], 'nothing the gateway did not accept')
    assert.is(sub.size, s.samples.accepted)
    assert.ok(sub.duplicates <= WINDOW, `duplicates ${sub.duplicates} <= window ${WINDOW}`)
    sanity(sub)
    console.log(`  plain run: ${s.samples.accepted} accepted, ${sub.size} received, ${sub.duplicates} duplicates, ${s.wallSeconds} s`)
  } finally {
    demo.proc.kill('SIGKILL')
    await done()
  }
})

test('mosquitto stopped for 10 s mid-run and started again: the subscriber ends with every accepted sample', async () => {
  const { mosq, sub, dir, done } = await setup('outage')
  const json = join(dir, 'summary.json')
  const demo = await startDemo(['--broker', mosq.url, '--duration', '300', '--speed', '10', '--json', json, '--quiet', '--http', 'off'])
  try {
    await waitFor(() => sub.size >= 5, 20_000, '5 samples before the outage', () => `(got ${sub.size})`)
    await mosq.stop()
    const downAt = sub.size
    await sleep(10_000) // the outage: real time passes while the field keeps reporting
    assert.is(sub.size, downAt, 'nothing arrives while the broker is down')
    await mosq.start()
    const code = await within(demo.exited, 60_000, 'the demo to finish and drain after the outage')
    assert.is(code, 0, `demo exit code (its own subscriber missed nothing); output: ${demo.out.join('')}`)
    const s = readSummary(json)
    assert.is(s.samples.spooled, 0, 'the broker confirmed everything after it came back')
    assert.ok(s.samples.accepted > downAt + 20, `samples were accepted during the outage (${s.samples.accepted} in all, ${downAt} before it)`)
    await waitFor(() => sub.missing(s.acceptedIds).length === 0, 15_000, 'the test subscriber to receive every accepted sample', () => `(${sub.missing(s.acceptedIds).length} of ${s.acceptedIds.length} missing)`)
    const accepted = new Set(s.acceptedIds)
    assert.equal([...sub.counts.keys()].filter((id) => !accepted.has(id)), [], 'nothing the gateway did not accept')
    assert.ok(sub.duplicates <= WINDOW, `duplicates ${sub.duplicates} <= the sink's window ${WINDOW}`)
    sanity(sub)
    console.log(`  outage: ${s.samples.accepted} accepted (${downAt} before the outage), ${sub.size} received, ${sub.duplicates} duplicates, ${s.wallSeconds} s`)
  } finally {
    demo.proc.kill('SIGKILL')
    await done()
  }
})

test('kill -9 of the gateway: the next run replays its spool, the subscriber has every spooled and every new sample', async () => {
  const { mosq, sub, dir, done } = await setup('crash')
  const spoolDir = join(dir, 'spool')
  const json = join(dir, 'summary.json')
  const first = await startDemo(['--broker', mosq.url, '--spool', spoolDir, '--duration', '3600', '--speed', '10', '--quiet', '--http', 'off'])
  let second: Awaited<ReturnType<typeof startDemo>> | undefined
  try {
    await waitFor(() => sub.size >= 5, 20_000, '5 samples before the kill', () => `(got ${sub.size})`)
    await killHard(first.proc)
    const spool = readSpool(spoolDir)
    assert.ok(spool.samples.length >= 5, `the spool holds the accepted samples (${spool.samples.length})`)
    const restartAt = Date.now()
    second = await startDemo(['--broker', mosq.url, '--spool', spoolDir, '--duration', '20', '--speed', '20', '--json', json, '--quiet', '--http', 'off'])
    const code = await within(second.exited, 40_000, 'the restarted demo to finish')
    assert.is(code, 0, `restarted demo exit code; output: ${second.out.join('')}`)
    const s = readSummary(json)
    const before = new Set(spool.samples)
    assert.ok(s.acceptedIds.every((id) => !before.has(id)), 'the new run\'s samples are new ones')
    await waitFor(() => sub.missing([...spool.samples, ...s.acceptedIds]).length === 0, 15_000, 'every spooled and every new sample', () => `(${sub.missing(spool.samples).length} spooled, ${sub.missing(s.acceptedIds).length} new missing)`)
    assertReceivedAll(sub, spool.replay, 'the replay (spooled after the last persisted ack)', restartAt)
    const all = new Set([...spool.samples, ...s.acceptedIds])
    assert.equal([...sub.counts.keys()].filter((id) => !all.has(id)), [], 'nothing but spooled and new samples')
    const replay = new Set(spool.replay)
    const dup = [...sub.counts].filter(([id, n]) => n > 1 && !replay.has(id))
    assert.equal(dup, [], 'only replayed samples arrive twice')
    sanity(sub)
    console.log(`  kill -9: ${spool.samples.length} samples in the spool, ${spool.replay.length} after the persisted ack (replayed), ${s.samples.accepted} new; ${sub.size} received, ${sub.duplicates} duplicates`)
  } finally {
    first.proc.kill('SIGKILL')
    second?.proc.kill('SIGKILL')
    await exitOf(first.proc)
    await done()
  }
})

test.run()
