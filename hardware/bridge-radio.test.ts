/**
 * BridgeRadio ↔ BridgeEmulator over socat pty pairs: two hosts, two emulators whose air radios
 * share a MockMedium. The Radio contract, RSSI/SNR, TX-ERROR codes, heartbeat silence, an
 * unplugged device, and frames queued meanwhile. Every wait is on events, with a failing deadline.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SeededRng } from '../core/rng.ts'
import { RealScheduler } from '../core/scheduler.ts'
import { TxErrorReason } from '../firmware-bridge/bridge-messages.ts'
import { BridgeEmulator } from '../runtime/bridge-emulator.ts'
import { BridgeRadio } from './bridge-radio.ts'
import { MockMedium } from './mock-radio.ts'
import type { RxFrame } from './radio.ts'
import { radioContract } from './radio-contract.ts'
import { SerialLink } from './serial-link.ts'
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

function collect(r: BridgeRadio): RxFrame[] {
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

test('a CONFIG the radio refuses is an error naming the field, and a reconnect', async () => {
  const r = await rig()
  try {
    r.emuA.refuseConfig = [{ field: 1, reason: 1 }]
    const errors: string[] = []
    r.a.on('error', (e) => errors.push(e.message))
    const lost = untilState(r.a, 'reconnecting')
    r.emuA.silent = true // make a reconnect: the next session meets the refusal
    await lost
    r.emuA.silent = false
    await until(() => errors.some((m) => m.startsWith('radio.frequencyHz: refused by the radio')), [r.a], ['error'], 'config error')
    r.emuA.refuseConfig = undefined
    await untilState(r.a, 'up')
  } finally {
    await r.cleanup()
  }
})

test.run()
