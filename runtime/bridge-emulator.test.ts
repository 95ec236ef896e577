/**
 * BridgeEmulator on a socat pty, driven message by message from a raw host side: the handshake,
 * TX on air with the air radio's airtime, RX with RSSI/SNR, heartbeats, STATUS, RESET, and the
 * transmitter paced at the bitrate (asserted on the emulator's own clock, lower bounds only).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RealScheduler } from '../core/scheduler.ts'
import { Emitter } from '../core/events.ts'
import {
  BridgeMsgType as M, MAX_MESSAGE_SIZE, TxErrorReason, decodeRadioMessage, encodeBridge, type HostMessage, type RadioMessage,
} from '../firmware-bridge/bridge-messages.ts'
import { InstantAir } from '../hardware/instant-air.ts'
import { MockMedium } from '../hardware/mock-radio.ts'
import type { RxFrame } from '../hardware/radio.ts'
import { cobsFraming } from '../hardware/serial-framing.ts'
import { SerialLink } from '../hardware/serial-link.ts'
import { SocatPair } from '../hardware/socat.ts'
import { untilState } from '../hardware/state-wait.ts'
import { BridgeEmulator } from './bridge-emulator.ts'

/** The radio message(s) whose type field admits `T` (HEARTBEAT-ACK types are a union). */
type Of<T> = RadioMessage extends infer U ? (U extends RadioMessage ? (T extends U['type'] ? U : never) : never) : never

async function rig(o: { instantAir?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-be-'))
  const scheduler = new RealScheduler({ unref: true })
  const medium = new MockMedium({ scheduler })
  const air = o.instantAir ? new InstantAir(scheduler, 2000) : medium.radio({ name: 'air', mtu: 200, bitrate: 50_000 })
  const far = medium.radio({ name: 'far' })
  const pair = new SocatPair(join(dir, 'host'), join(dir, 'dev'))
  await pair.start()
  const link = (path: string) => new SerialLink({ match: { path }, baudRate: 115200, scheduler, backoff: { initialMs: 10, maxMs: 10 } })
  const device = link(pair.b)
  const emu = new BridgeEmulator({ serial: device, air, scheduler })
  const host = link(pair.a)
  host.on('error', () => {})
  const framing = cobsFraming(MAX_MESSAGE_SIZE)
  const decoder = framing.decoder()
  const inbox = new Emitter<{ msg: (m: RadioMessage) => void }>()
  host.on('data', (chunk) => {
    for (const ev of decoder.push(chunk)) if (ev.kind === 'frame') inbox.emit('msg', decodeRadioMessage(ev.payload.slice()))
  })
  host.start()
  // Both ends open before anything is written: a frame written before the emulator's side is open
  // could be lost in the pty.
  await Promise.all([untilState(host, 'up'), untilState(device, 'up')])
  /** Send `m`, resolve with the first message of `type` that follows. */
  const ask = <T extends RadioMessage['type']>(m: HostMessage | undefined, type: T, ms = 3000): Promise<Of<T>> => {
    const p = new Promise<Of<T>>((resolve, reject) => {
      const t = setTimeout(() => {
        inbox.off('msg', on)
        reject(new Error(`no message 0x${type.toString(16)} within ${ms} ms`))
      }, ms)
      const on = (x: RadioMessage) => {
        if (x.type !== type) return
        clearTimeout(t)
        inbox.off('msg', on)
        resolve(x as Of<T>)
      }
      inbox.on('msg', on)
    })
    if (m) tell(m)
    return p
  }
  /** Write messages in one go (one pty write, so they arrive together). */
  function tell(...ms: HostMessage[]): void {
    const frames = ms.map((m) => framing.encode(encodeBridge(m)))
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
    frames.reduce((at, f) => (all.set(f, at), at + f.length), 0)
    assert.ok(host.write(all), 'written')
  }
  /** Every message of `type` from now on. */
  const collect = <T extends RadioMessage['type']>(type: T): Array<Of<T>> => {
    const got: Array<Of<T>> = []
    inbox.on('msg', (x) => {
      if (x.type === type) got.push(x as Of<T>)
    })
    return got
  }
  /** Resolves once `cond()` holds, checked on every message; rejects after `ms`. */
  const until = (cond: () => boolean, what: string, ms = 3000): Promise<void> => new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      inbox.off('msg', on)
      reject(new Error(`${what}: not within ${ms} ms`))
    }, ms)
    const on = () => {
      if (!cond()) return
      clearTimeout(t)
      inbox.off('msg', on)
      resolve()
    }
    inbox.on('msg', on)
    on()
  })
  const hello = (nonce: number): HostMessage => ({ type: M.HELLO, minVersion: 1, maxVersion: 1, nonce, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3500, host: 'test' })
  const config: HostMessage = { type: M.CONFIG, id: 9, frequencyHz: 868_100_000, bandwidthHz: 125_000, spreadingFactor: 7, codingRate: 5,
    txPowerDbm: 14, preambleLength: 8, dutyCyclePermille: 10, syncWord: new Uint8Array([0x12]) }
  const cleanup = async () => {
    await host.close()
    await emu.close()
    await pair.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  return { emu, device, far, ask, tell, collect, until, hello, config, cleanup }
}

function heard(r: { on(e: 'frame', f: (x: RxFrame) => void): unknown; off(e: 'frame', f: (x: RxFrame) => void): unknown }, ms = 3000): Promise<RxFrame> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`nothing heard within ${ms} ms`)), ms)
    const on = (f: RxFrame) => {
      clearTimeout(t)
      r.off('frame', on)
      resolve(f)
    }
    r.on('frame', on)
  })
}

test('handshake, TX on air with its airtime, RX with RSSI/SNR, heartbeat, STATUS, RESET', async () => {
  const r = await rig()
  try {
    const early = await r.ask({ type: M.TX, id: 1, urgent: false, payload: Uint8Array.of(1) }, M.ERROR)
    assert.is(early.code, 4, 'TX before HELLO is UNEXPECTED')
    const ack = await r.ask(r.hello(0xdeadbeef), M.HELLO_ACK)
    assert.is(ack.nonce, 0xdeadbeef)
    assert.is(ack.version, 1)
    assert.is(ack.firmware, 'spinmesh-emulator')
    assert.is(ack.mtu, 200)
    assert.is(ack.txQueue, 4)
    const nc = await r.ask({ type: M.TX, id: 2, urgent: false, payload: Uint8Array.of(1) }, M.TX_ERROR)
    assert.equal([nc.id, nc.reason], [2, TxErrorReason.NOT_CONFIGURED])
    const cack = await r.ask(r.config, M.CONFIG_ACK)
    assert.equal([cack.id, cack.bitrate, cack.overheadUs, cack.frequencyHz], [9, 50_000, 0, 868_100_000])
    const onAir = heard(r.far)
    const done = await r.ask({ type: M.TX, id: 3, urgent: false, payload: Uint8Array.of(5, 6, 7, 8, 9) }, M.TX_DONE)
    assert.equal([done.id, done.airtimeUs], [3, 800], '5 bytes at 50 kbit/s')
    assert.equal([...(await onAir).bytes], [5, 6, 7, 8, 9])
    const rx = r.ask(undefined, M.RX)
    r.far.send(Uint8Array.of(0xaa, 0xbb))
    const got = await rx
    assert.equal([[...got.payload], got.rssi, got.snr], [[0xaa, 0xbb], -60, 10])
    const hb = await r.ask({ type: M.HEARTBEAT, seq: 42 }, M.RADIO_HEARTBEAT_ACK)
    assert.is(hb.seq, 42)
    const st = await r.ask({ type: M.STATUS_REQUEST, id: 7, periodS: 0 }, M.STATUS)
    assert.equal([st.id, st.periodic, st.txOk, st.txErrors, st.rxOk, st.queueDepth], [7, false, 1, 1, 1, 0])
    r.emu.failTx = TxErrorReason.DUTY_CYCLE
    const dc = await r.ask({ type: M.TX, id: 4, urgent: false, payload: Uint8Array.of(1) }, M.TX_ERROR)
    assert.equal([dc.id, dc.reason], [4, TxErrorReason.DUTY_CYCLE])
    r.emu.failTx = undefined
    assert.ok(r.emu.ready)
    const afterReset = r.ask({ type: M.RESET, hard: false }, M.ERROR)
    await r.ask({ type: M.TX, id: 5, urgent: false, payload: Uint8Array.of(1) }, M.ERROR)
    assert.is((await afterReset).ref, M.TX, 'after RESET the session is gone')
    assert.not.ok(r.emu.ready)
  } finally {
    await r.cleanup()
  }
})

test('silent: no answers at all, until it speaks again', async () => {
  const r = await rig()
  try {
    r.emu.silent = true
    const nonces: number[] = []
    const acks = r.ask(undefined, M.HELLO_ACK)
    // The emulator's own data listener runs before this one: once it fires, HELLO 1 was handled.
    const handled = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('HELLO 1 not received within 3000 ms')), 3000)
      r.device.once('data', () => {
        clearTimeout(t)
        resolve()
      })
    })
    r.tell(r.hello(1))
    await handled
    assert.is(r.emu.stats.fromHost, 1)
    r.emu.silent = false
    r.tell(r.hello(2))
    const ack = await acks
    nonces.push(ack.nonce)
    assert.equal(nonces, [2], 'the HELLO sent while silent got no answer')
  } finally {
    await r.cleanup()
  }
})

test('one transmitter paced at the bitrate: TX-DONEs one airtime apart on the radio clock; queue depth, BUSY past txQueue, urgent first', async () => {
  const r = await rig({ instantAir: true })
  try {
    await r.ask(r.hello(1), M.HELLO_ACK)
    await r.ask(r.config, M.CONFIG_ACK)
    const c0 = (await r.ask({ type: M.HEARTBEAT, seq: 1 }, M.RADIO_HEARTBEAT_ACK)).clockUs // before any TX arrives
    const airUs = 200_000 // 50 bytes at 2 kbit/s
    const tx = (id: number, urgent = false): HostMessage => ({ type: M.TX, id, urgent, payload: new Uint8Array(50).fill(id) })
    const dones = r.collect(M.TX_DONE)
    const busy = r.ask(undefined, M.TX_ERROR)
    const status = r.ask(undefined, M.STATUS)
    r.tell(tx(1), tx(2), tx(3), tx(4, true), tx(5), { type: M.STATUS_REQUEST, id: 1, periodS: 0 })
    const b = await busy
    assert.equal([b.id, b.reason], [5, TxErrorReason.BUSY], 'txQueue 4: the fifth is refused')
    assert.is((await status).queueDepth, 4, 'the one on air and three waiting')
    await r.until(() => dones.length === 4, 'four TX-DONE')
    assert.equal(dones.map((d) => d.id), [1, 4, 2, 3], 'the urgent TX goes ahead of the waiting ones, not of the one on air')
    assert.ok(dones.every((d) => d.airtimeUs === airUs), 'airtime of each')
    dones.forEach((d, k) => assert.ok(d.timestampUs - c0 >= (k + 1) * airUs,
      `TX-DONE ${k + 1} at ${d.timestampUs - c0} µs, no earlier than ${k + 1} airtimes (${(k + 1) * airUs} µs)`))
    assert.is(r.emu.stats.txOk, 4)
  } finally {
    await r.cleanup()
  }
})

test.run()
