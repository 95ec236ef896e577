/**
 * SerialRadio on real ptys (socat): the Radio contract, and frames accepted while the device is
 * unplugged delivered after it is back, or reported failed when their TTL runs out.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RealScheduler } from '../core/scheduler.ts'
import type { RxFrame } from './radio.ts'
import { untilState } from './state-wait.ts'
import { radioContract } from './radio-contract.ts'
import { SerialLink } from './serial-link.ts'
import { SerialRadio, type SerialFraming } from './serial-radio.ts'
import { cobsFraming, kissFraming } from './serial-framing.ts'
import { SocatPair } from './socat.ts'

/** A minimal framing for this test (2-byte length prefix); the real ones are in firmware-bridge/. */
const lengthPrefixed: SerialFraming = {
  encode: (p) => Uint8Array.of(p.length >> 8, p.length & 255, ...p),
  decoder() {
    let buf = new Uint8Array(0)
    return {
      push(chunk) {
        const joined = new Uint8Array(buf.length + chunk.length)
        joined.set(buf)
        joined.set(chunk, buf.length)
        const out: Array<{ kind: 'frame'; payload: Uint8Array }> = []
        let at = 0
        while (joined.length - at >= 2) {
          const n = (joined[at] << 8) | joined[at + 1]
          if (joined.length - at - 2 < n) break
          out.push({ kind: 'frame', payload: joined.slice(at + 2, at + 2 + n) })
          at += 2 + n
        }
        buf = joined.slice(at)
        return out
      },
    }
  },
}

function radios(dir: string, o: { ttlMs?: number; retryA?: number; framing?: SerialFraming } = {}) {
  const pair = new SocatPair(join(dir, 'rA'), join(dir, 'rB'))
  const scheduler = new RealScheduler({ unref: true })
  const make = (path: string, retryMs: number) => new SerialRadio({
    link: new SerialLink({ match: { path }, baudRate: 115200, scheduler, backoff: { initialMs: retryMs, maxMs: retryMs } }),
    framing: o.framing ?? cobsFraming(240), scheduler, mtu: 240, bitrate: 9600, queueLimit: 16, frameTtlMs: o.ttlMs,
  })
  const a = make(pair.a, o.retryA ?? 10), b = make(pair.b, 10)
  a.on('error', () => {})
  b.on('error', () => {})
  return { pair, a, b }
}


function frames(r: SerialRadio, n: number, ms = 5000): Promise<RxFrame[]> {
  const got: RxFrame[] = []
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${got.length} of ${n} frames within ${ms} ms`)), ms)
    r.on('frame', (f) => {
      got.push(f)
      if (got.length === n) {
        clearTimeout(t)
        resolve(got)
      }
    })
  })
}

for (const [name, framing] of [['COBS + CRC-32', cobsFraming(240)], ['KISS', kissFraming(240)], ['a bare length prefix', lengthPrefixed]] as const) {
radioContract(`SerialRadio over a socat pty pair, ${name} framing`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-sr-'))
  const { pair, a, b } = radios(dir, { framing })
  await pair.start()
  await Promise.all([untilState(a, 'up'), untilState(b, 'up')])
  // Real I/O: settle waits until every frame each side accepted has been reported, and every frame
  // that went out has arrived at the other end (a pty pair loses nothing), up to 3 s.
  let pending = 0
  const sent = [0, 0], heard = [0, 0]
  ;[a, b].forEach((r, i) => {
    r.on('sent', () => (pending--, sent[i]++))
    r.on('dropped', () => pending--)
    r.on('frame', () => heard[1 - i]++)
    const send = r.send.bind(r)
    r.send = (f, o) => {
      send(f, o)
      pending++
    }
  })
  return {
    a, b, queueLimit: 16,
    settle: async () => {
      const end = Date.now() + 3000
      while (Date.now() < end && (pending > 0 || heard[0] < sent[0] || heard[1] < sent[1])) await new Promise((r) => setTimeout(r, 2))
      await new Promise((r) => setTimeout(r, 5))
    },
    cleanup: async () => {
      await a.close()
      await b.close()
      await pair.kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
}

test('frames sent while the device is unplugged go out after it is back; those past their TTL are reported dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-sr-'))
  // The far end (b, retrying every 10 ms) is back well before a (every second) after the replug:
  // what a writes after its reconnect has a reader (a pty with no reader loses what is written;
  // a real radio module is always reading). The TTL (2.5 s) outlasts a's reconnect.
  const { pair, a, b } = radios(dir, { ttlMs: 2500, retryA: 1000 })
  try {
    await pair.start()
    await Promise.all([untilState(a, 'up'), untilState(b, 'up')])
    // Unplug, and make both sides notice.
    const gone = Promise.all([untilState(a, 'reconnecting'), untilState(b, 'reconnecting')])
    await pair.kill()
    a.send(Uint8Array.of(0))
    b.send(Uint8Array.of(0))
    await gone
    const dropped: Array<[number, string]> = []
    const threeExpired = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`expired: ${JSON.stringify(dropped)}`)), 8000)
      a.on('dropped', (d) => {
        if (d.bytes[0] > 0) dropped.push([d.bytes[0], d.code])
        if (dropped.length === 3) {
          clearTimeout(t)
          resolve()
        }
      })
    })
    // Three frames wait out their TTL (2.5 s) while the device is away; three more, sent after
    // that, are delivered once it is back.
    for (const k of [1, 2, 3]) a.send(Uint8Array.of(k))
    await threeExpired
    assert.equal(dropped, [[1, 'ERR_EXPIRED'], [2, 'ERR_EXPIRED'], [3, 'ERR_EXPIRED']], 'reported, not lost silently')
    for (const k of [4, 5, 6]) a.send(Uint8Array.of(k))
    const arrive = frames(b, 3)
    const log: string[] = []
    const t0 = Date.now()
    for (const [n, r] of [['a', a], ['b', b]] as const) {
      r.on('state', (c) => log.push(`${Date.now() - t0} ${n} ${c.state} ${c.reason}`))
      r.on('sent', (x) => log.push(`${Date.now() - t0} ${n} sent ${x.bytes[0]}`))
      r.on('dropped', (x) => log.push(`${Date.now() - t0} ${n} dropped ${x.bytes[0]} ${x.code}`))
    }
    await pair.start()
    const got = await arrive.catch((e) => {
      throw new Error(`${(e as Error).message}; ${log.join(' | ')}`)
    })
    assert.equal(got.map((f) => f.bytes[0]), [4, 5, 6])
    assert.is(a.stats.expired >= 3, true)
  } finally {
    await a.close()
    await b.close()
    await pair.kill()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
