/**
 * BridgeRadio ↔ BridgeEmulator over socat pty pairs: two hosts, two emulators whose air radios
 * share a MockMedium. The Radio contract, RSSI/SNR, TX-ERROR codes, heartbeat silence, an
 * unplugged device, and frames queued meanwhile. Every wait is on events, with a failing deadline.
 * The session rules of PROTOCOL.md §5.2/§7 that hinge on timing (a refused CONFIG or version, a
 * missed TX deadline, the emulator's paced transmitter) run in virtual time on an in-memory line.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, SpinmeshError } from '../core/errors.ts'
import { SeededRng } from '../core/rng.ts'
import { RealScheduler, SimScheduler } from '../core/scheduler.ts'
import { ConfigErrorReason, TxErrorReason } from '../firmware-bridge/bridge-messages.ts'
import { BridgeEmulator, type BridgeEmulatorOptions } from '../runtime/bridge-emulator.ts'
import { BridgeRadio } from './bridge-radio.ts'
import { InstantAir } from './instant-air.ts'
import { MockMedium } from './mock-radio.ts'
import type { Radio, RxFrame } from './radio.ts'
import { radioContract } from './radio-contract.ts'
import { SerialLink, type SerialPortHandle } from './serial-link.ts'
import { SocatPair } from './socat.ts'
import { untilState } from './state-wait.ts'

const TIMING = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400, replyTimeoutMs: 300, statusPeriodS: 0 }

/** Resolves once `cond()` holds, checked now and after each of the events; rejects after `ms`. */
export function until(cond: () => boolean, on: Array<{ on(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown }>,
  events: string[], what: string, ms = 5000): Promise<void> {
  if (cond()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!cond()) return
      done()
      resolve()
    }
    const done = () => {
      clearTimeout(t)
      for (const x of on) for (const e of events) x.off(e, check)
    }
    const t = setTimeout(() => {
      done()
      reject(new Error(`${what}: not within ${ms} ms`))
    }, ms)
    for (const x of on) for (const e of events) x.on(e, check)
  })
}

async function rig(o: { ttlMs?: number; retryMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-br-'))
  const scheduler = new RealScheduler({ unref: true })
  const medium = new MockMedium({ scheduler })
  const backoff = { initialMs: o.retryMs ?? 10, maxMs: o.retryMs ?? 10 }
  const link = (path: string) => new SerialLink({ match: { path }, baudRate: 115200, scheduler, backoff })
  const pairs = [new SocatPair(join(dir, 'hostA'), join(dir, 'devA')), new SocatPair(join(dir, 'hostB'), join(dir, 'devB'))]
  await Promise.all(pairs.map((p) => p.start()))
  const [emuA, emuB] = pairs.map((p, i) => new BridgeEmulator({ serial: link(p.b), air: medium.radio({ name: `air${i}`, mtu: 200, bitrate: 50_000 }), scheduler }))
  const [a, b] = pairs.map((p, i) => new BridgeRadio({
    link: link(p.a), scheduler, rng: new SeededRng(i + 1), mtu: 255, queueLimit: 16, frameTtlMs: o.ttlMs, timing: TIMING,
    config: { frequencyHz: 868_100_000, bandwidthHz: 125_000, spreadingFactor: 7, codingRate: 5, txPowerDbm: 14 },
  }))
  for (const r of [a, b]) r.on('error', () => {})
  await Promise.all([untilState(a, 'up'), untilState(b, 'up')])
  const cleanup = async () => {
    for (const x of [a, b, emuA, emuB]) await x.close()
    await Promise.all(pairs.map((p) => p.kill()))
    rmSync(dir, { recursive: true, force: true })
  }
  return { a, b, emuA, emuB, pairs, cleanup }
}

function collect(r: Radio): RxFrame[] {
  const got: RxFrame[] = []
  r.on('frame', (f) => got.push(f))
  return got
}

function nextDrop(r: BridgeRadio, ms = 5000): Promise<{ bytes: Uint8Array; code: string; reason: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no dropped event within ${ms} ms`)), ms)
    r.once('dropped', (d) => {
      clearTimeout(t)
      resolve(d)
    })
  })
}

radioContract('BridgeRadio over socat, BridgeEmulator on a MockMedium', async () => {
  const { a, b, emuB, cleanup } = await rig()
  let pendingA = 0
  let atB = 0
  a.on('sent', () => pendingA--)
  a.on('dropped', () => pendingA--)
  b.on('frame', () => atB++)
  const send = a.send.bind(a)
  a.send = (f, o) => {
    send(f, o)
    pendingA++
  }
  return {
    a, b, queueLimit: 16, cleanup,
    // Every frame a accepted is reported, and every RX emulator B wrote has reached b.
    settle: () => until(() => pendingA === 0 && atB === emuB.stats.rxOk, [a, b], ['sent', 'dropped', 'frame'], 'settle'),
  }
})

test('RX carries RSSI and SNR; sent carries the radio\'s airtime; status() holds the last STATUS', async () => {
  const r = await rig()
  try {
    assert.is(r.a.mtu, 200, 'mtu from HELLO-ACK (air mtu 200 < option 255)')
    assert.is(r.a.bitrate, 50_000, 'bitrate from CONFIG-ACK')
    assert.is(r.a.firmware?.name, 'spinmesh-emulator')
    const got = collect(r.b)
    let airtime = 0
    r.a.on('sent', (s) => (airtime = s.airtimeMs))
    r.a.send(Uint8Array.of(1, 2, 3, 4, 5))
    await until(() => got.length === 1 && airtime > 0, [r.a, r.b], ['frame', 'sent'], 'frame at b')
    assert.equal([...got[0].bytes], [1, 2, 3, 4, 5])
    assert.is(got[0].rssi, -60)
    assert.is(got[0].snr, 10)
    assert.is(airtime, 0.8, '5 bytes at 50 kbit/s')
    // STATUS-REQUEST went before the TX, so its answer came before the TX-DONE.
    const st = r.a.status()
    assert.ok(st !== undefined, 'a STATUS arrived')
    assert.is(st!.queueDepth, 0)
  } finally {
    await r.cleanup()
  }
})

test('TX-ERROR reasons become dropped codes', async () => {
  const r = await rig()
  try {
    const cases: Array<[number, string]> = [[TxErrorReason.DUTY_CYCLE, 'ERR_DUTY_CYCLE'], [TxErrorReason.BUSY, 'ERR_CHANNEL_BUSY'],
      [TxErrorReason.CHANNEL_BUSY_TIMEOUT, 'ERR_CHANNEL_BUSY'], [TxErrorReason.TOO_LONG, 'ERR_FRAME_TOO_LARGE'], [TxErrorReason.ABORTED, 'ERR_IO']]
    for (const [reason, code] of cases) {
      r.emuA.failTx = reason
      const d = nextDrop(r.a)
      r.a.send(Uint8Array.of(reason))
      const got = await d
      assert.is(got.code, code, `reason ${reason}`)
      assert.is(got.bytes[0], reason)
    }
    assert.is(r.a.state, 'up', 'TX errors do not end the session')
  } finally {
    await r.cleanup()
  }
})

test('heartbeat silence: reconnecting, then up again after a fresh handshake once the radio answers', async () => {
  const r = await rig()
  try {
    const sessions = r.emuA.stats.sessions
    const reasons: string[] = []
    r.a.on('state', (c) => reasons.push(`${c.state}: ${c.reason}`))
    const lost = untilState(r.a, 'reconnecting')
    r.emuA.silent = true
    await lost
    assert.match(reasons[0], /^reconnecting: heartbeat silence/)
    r.emuA.silent = false
    await untilState(r.a, 'up')
    assert.ok(r.emuA.stats.sessions > sessions, 'a new HELLO/CONFIG session')
    const got = collect(r.b)
    r.a.send(Uint8Array.of(7))
    await until(() => got.length === 1, [r.b], ['frame'], 'frame after recovery')
  } finally {
    await r.cleanup()
  }
})

test('the pty killed and restarted: up again after HELLO/CONFIG; frames queued meanwhile delivered or ERR_EXPIRED', async () => {
  const r = await rig({ ttlMs: 2500, retryMs: 100 })
  try {
    const sessions = r.a.stats.sessions
    const gone = untilState(r.a, 'reconnecting')
    await r.pairs[0].kill()
    await gone
    const dropped: Array<[number, string]> = []
    r.a.on('dropped', (d) => dropped.push([d.bytes[0], d.code]))
    for (const k of [1, 2, 3]) r.a.send(Uint8Array.of(k))
    await until(() => dropped.length === 3, [r.a], ['dropped'], 'three expired', 10_000)
    assert.equal(dropped, [[1, 'ERR_EXPIRED'], [2, 'ERR_EXPIRED'], [3, 'ERR_EXPIRED']])
    for (const k of [4, 5, 6]) r.a.send(Uint8Array.of(k))
    const got = collect(r.b)
    await r.pairs[0].start()
    await untilState(r.a, 'up', 10_000)
    assert.ok(r.a.stats.sessions > sessions, 'a fresh session')
    await until(() => got.length === 3, [r.b], ['frame'], 'queued frames delivered', 10_000)
    assert.equal(got.map((f) => f.bytes[0]), [4, 5, 6])
    assert.is(r.a.stats.expired, 3)
  } finally {
    await r.cleanup()
  }
})

// ---- virtual time ---------------------------------------------------------------------------

const CONFIG = { frequencyHz: 868_100_000, bandwidthHz: 125_000, spreadingFactor: 7, codingRate: 5, txPowerDbm: 14 }

/** Two ends of a serial line in memory: bytes written at one end arrive at the other 1 ms later. */
function simLine(s: SimScheduler) {
  const readers: Array<((chunk: Uint8Array) => void) | undefined> = [undefined, undefined]
  const open = (end: 0 | 1) => async (): Promise<SerialPortHandle> => {
    let reader: ((chunk: Uint8Array) => void) | undefined
    const port = {
      write: (bytes: Uint8Array, done: (err?: Error | null) => void) => {
        const copy = bytes.slice()
        s.at(1, () => {
          readers[1 - end]?.(copy)
          done()
        })
      },
      close: (done: () => void) => {
        if (readers[end] === reader) readers[end] = undefined
        done()
      },
      on: (event: string, fn: (chunk: Uint8Array) => void) => {
        if (event === 'data') readers[end] = reader = fn
        return port
      },
    }
    return port as SerialPortHandle
  }
  return (end: 0 | 1) => new SerialLink({ match: { path: `/dev/sim${end}` }, baudRate: 115200, scheduler: s, open: open(end), exists: () => true,
    backoff: { initialMs: 10, maxMs: 10 } })
}

/** Run virtual time for `ms`, letting the links' async opens settle between steps. */
async function advance(s: SimScheduler, ms: number): Promise<void> {
  const end = s.now() + ms
  while (s.now() < end) {
    s.run({ until: Math.min(end, s.now() + 10) })
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function simRig(o: { emu?: Partial<BridgeEmulatorOptions>; instantAir?: boolean; ttlMs?: number } = {}) {
  const s = new SimScheduler()
  const line = simLine(s)
  const medium = new MockMedium({ scheduler: s })
  const air = o.instantAir ? new InstantAir(s) : medium.radio({ name: 'air', mtu: 200, bitrate: 50_000 })
  const far = medium.radio({ name: 'far' })
  const emu = new BridgeEmulator({ serial: line(1), air, scheduler: s, ...o.emu })
  const radio = new BridgeRadio({ link: line(0), scheduler: s, rng: new SeededRng(7), queueLimit: 16, frameTtlMs: o.ttlMs, timing: TIMING, config: CONFIG })
  const errors: SpinmeshError[] = []
  const states: string[] = []
  const dropped: Array<[number, string, string]> = []
  const sent: Array<{ id: number; at: number; airtimeMs: number }> = []
  radio.on('error', (e) => errors.push(e))
  radio.on('state', (c) => states.push(`${c.state}: ${c.reason}`))
  radio.on('dropped', (d) => dropped.push([d.bytes[0], d.code, d.reason]))
  radio.on('sent', (x) => sent.push({ id: x.bytes[0], at: x.at, airtimeMs: x.airtimeMs }))
  const heard = collect(far)
  return { s, emu, radio, errors, states, dropped, sent, heard, advance: (ms: number) => advance(s, ms) }
}

test('virtual time: a CONFIG the radio refuses takes the radio down for good, naming each field; frames dropped, send throws', async () => {
  const r = await simRig({ emu: { refuseConfig: [
    { field: 1, reason: ConfigErrorReason.OUT_OF_RANGE }, { field: 5, reason: ConfigErrorReason.NOT_ALLOWED }] } })
  r.radio.send(Uint8Array.of(1)) // accepted while connecting
  r.radio.send(Uint8Array.of(2))
  await r.advance(500)
  assert.is(r.radio.state, 'down')
  assert.is(r.errors.length, 1, `errors: ${r.errors.map((e) => e.message)}`)
  const e = r.errors[0]
  assert.instance(e, ConfigError)
  assert.is((e as ConfigError).path, 'radio.frequencyHz')
  assert.match(e.message, 'radio.frequencyHz: out of range')
  assert.match(e.message, 'radio.txPowerDbm: not allowed')
  assert.match(r.states.at(-1)!, /^down: configuration refused by the radio: radio\.frequencyHz: out of range; radio\.txPowerDbm: not allowed$/)
  assert.equal(r.dropped.map((d) => [d[0], d[1]]), [[1, 'ERR_CLOSED'], [2, 'ERR_CLOSED']], 'every accepted frame reported')
  try {
    r.radio.send(Uint8Array.of(3))
    assert.unreachable('send on a down radio')
  } catch (err) {
    assert.is((err as SpinmeshError).code, 'ERR_CLOSED')
    assert.match((err as Error).message, 'down: configuration refused')
  }
  const hellos = r.emu.stats.fromHost
  await r.advance(5000)
  assert.is(r.emu.stats.sessions, 1, 'no retry of a refused configuration')
  assert.ok(r.emu.stats.fromHost <= hellos + 1, 'nothing more from the host (a RESET at most)')
  assert.is(r.radio.state, 'down')
  const n = r.states.length
  await r.radio.close()
  assert.is(r.states.length, n, 'close() after down: no further state change')
  await r.emu.close()
})

test('virtual time: HELLO-ACK version 0 takes the radio down ("no common version"), no retry', async () => {
  const r = await simRig({ emu: { versions: { min: 2, max: 3 } } })
  r.radio.send(Uint8Array.of(1))
  await r.advance(3000)
  assert.is(r.radio.state, 'down')
  assert.equal(r.errors.map((e) => e.code), ['ERR_UNSUPPORTED'])
  assert.is(r.states.at(-1), 'down: no common version (host 1..1, radio 2..3)')
  assert.equal(r.dropped.map((d) => [d[0], d[1]]), [[1, 'ERR_CLOSED']])
  assert.throws(() => r.radio.send(Uint8Array.of(2)), (err: SpinmeshError) => err.code === 'ERR_CLOSED' && /no common version/.test(err.message))
  assert.is(r.emu.stats.sessions, 0)
  assert.ok(r.emu.stats.fromHost <= 2, `one HELLO (and a RESET), got ${r.emu.stats.fromHost} messages`)
  await r.radio.close()
  await r.emu.close()
})

test('virtual time: TX deadline missed, radio queue empty (TX lost on the line): dropped ERR_IO, STATUS asked, the session carries on', async () => {
  const r = await simRig()
  await r.advance(100)
  assert.is(r.radio.state, 'up')
  const states = r.states.length
  r.emu.loseTx = true
  r.radio.send(Uint8Array.of(1))
  r.radio.send(Uint8Array.of(2))
  await r.advance(1000) // deadline: airtime × 1.25 + 500 ms
  assert.equal(r.dropped.map((d) => [d[0], d[1]]), [[1, 'ERR_IO'], [2, 'ERR_IO']])
  assert.match(r.dropped[0][2], 'TX deadline')
  assert.is(r.radio.stats.txTimeouts, 1)
  assert.is(r.radio.status()?.queueDepth, 0, 'the STATUS that answered the probe')
  assert.is(r.radio.state, 'up')
  assert.is(r.states.length, states, `no session loss: ${r.states.slice(states)}`)
  assert.is(r.emu.stats.sessions, 1)
  r.emu.loseTx = false
  r.radio.send(Uint8Array.of(3))
  await r.advance(100)
  assert.equal(r.sent.map((x) => x.id), [3])
  assert.equal(r.heard.map((f) => f.bytes[0]), [3])
  await r.radio.close()
  await r.emu.close()
})

test('virtual time: TX deadline missed with TX still queued in the radio (stuck transmitter): dropped ERR_IO, then session loss and recovery', async () => {
  const r = await simRig()
  await r.advance(100)
  r.emu.stuckTx = true
  r.radio.send(Uint8Array.of(1))
  r.radio.send(Uint8Array.of(2))
  await r.advance(600)
  assert.equal(r.dropped.map((d) => [d[0], d[1]]), [[1, 'ERR_IO'], [2, 'ERR_IO']])
  assert.ok(r.states.some((x) => /^reconnecting: transmitter stuck: TX deadline missed with 2 TX still queued/.test(x)), `states: ${r.states}`)
  r.emu.stuckTx = false
  await r.advance(500)
  assert.is(r.radio.state, 'up')
  assert.is(r.emu.stats.sessions, 2, 'a fresh HELLO/CONFIG session')
  r.radio.send(Uint8Array.of(3))
  await r.advance(100)
  assert.equal(r.heard.map((f) => f.bytes[0]), [3])
  assert.is(r.dropped.length, 2)
  await r.radio.close()
  await r.emu.close()
})

test('virtual time: the emulator paces its transmitter at the bitrate: a flood is answered one airtime apart, never faster', async () => {
  const r = await simRig({ instantAir: true })
  await r.advance(100)
  assert.is(r.radio.bitrate, 1000)
  const t0 = r.s.now()
  const n = 6
  for (let k = 1; k <= n; k++) r.radio.send(new Uint8Array(25).fill(k)) // 200 ms each at 1 kbit/s
  await r.advance(2000)
  assert.equal(r.sent.map((x) => x.id), [1, 2, 3, 4, 5, 6])
  assert.ok(r.sent.every((x) => x.airtimeMs === 200), 'TX-DONE airtime')
  const total = r.sent.reduce((sum, x) => sum + x.airtimeMs, 0)
  assert.ok(r.sent[n - 1].at - t0 >= total, `last TX-DONE ${r.sent[n - 1].at - t0} ms after the first send, airtime ${total} ms`)
  for (let k = 1; k < n; k++) assert.ok(r.sent[k].at - r.sent[k - 1].at >= 200, `TX-DONE ${k} and ${k + 1} one airtime apart: ${r.sent.map((x) => x.at)}`)
  assert.is(r.radio.stats.txTimeouts, 0)
  assert.is(r.emu.stats.sessions, 1)
  await r.radio.close()
  await r.emu.close()
})

test.run()
