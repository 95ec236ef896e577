// HubRadio against a real Hub on 127.0.0.1: the shared Radio contract, the wire codec, and
// connecting / reconnecting / TTL. Every wait is on an event with a failing timeout, never a sleep.
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { settler, until } from './state-wait.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import { checkDecoderProperties, configError } from '../core/testing.ts'
import { Hub } from './hub.ts'
import { HubRadio, decodeHubMessage, encodeHubMessage, type HubMessage, type HubRadioOptions } from './hub-radio.ts'
import { chain, validateHubTopology } from './hub-topology.ts'
import type { Radio } from './radio.ts'
import { radioContract } from './radio-contract.ts'
import { validateHubRadioConfig } from './udp-defaults.ts'



const state = (r: Radio, s: string, ms = 2000): Promise<void> => until(() => r.state === s, [[r, 'state']], `state ${s}`, ms)

const FAST = { helloIntervalMs: 10, keepaliveIntervalMs: 10, keepaliveTimeoutMs: 40 }

async function twoNodes(extra: Partial<HubRadioOptions> = {}, schedulerOfA?: Scheduler): Promise<{ hub: Hub; a: HubRadio; b: HubRadio }> {
  const hub = await Hub.open({ topology: chain(2, { bitrate: 10_000_000 }), port: 0 })
  const o = { hubPort: hub.port, ...FAST, ...extra }
  const [a, b] = await Promise.all([HubRadio.open({ node: 1, ...o, scheduler: schedulerOfA }), HubRadio.open({ node: 2, ...o })])
  return { hub, a, b }
}

/** Real time whose timers can be held back (run when released): orders events without sleeping. */
class GatedScheduler implements Scheduler {
  private readonly real = new RealScheduler()
  private holding = false
  private readonly held: Array<() => void> = []
  now(): number {
    return this.real.now()
  }
  at(delayMs: number, fn: () => void): Timer {
    let cancelled = false
    const t = this.real.at(delayMs, () => {
      if (cancelled) return
      if (this.holding) this.held.push(() => void (cancelled || fn()))
      else fn()
    })
    return { cancel: () => { cancelled = true; t.cancel() } }
  }
  hold(): void {
    this.holding = true
  }
  release(): void {
    this.holding = false
    for (const f of this.held.splice(0)) f()
  }
}

radioContract('HubRadio', async () => {
  const { hub, a, b } = await twoNodes({ queueLimit: 64 })
  return {
    a, b, settle: settler(a, b, () => a.pending), queueLimit: 64,
    cleanup: async () => {
      await Promise.all([a.close(), b.close()])
      await hub.close()
    },
  }
})

test('HubRadio: connecting until WELCOME, then up; frames carry the link RSSI/SNR', async () => {
  const hub = await Hub.open({ topology: chain(2, { spacing: 100 }), port: 0 })
  const a = new HubRadio({ node: 1, hubPort: hub.port, ...FAST })
  assert.is(a.state, 'connecting')
  const reasons: string[] = []
  a.on('state', (s) => reasons.push(`${s.state}: ${s.reason}`))
  await a.whenUp()
  assert.equal(reasons, [`up: hub 127.0.0.1:${hub.port} accepted node 1`])
  const b = await HubRadio.open({ node: 2, hubPort: hub.port, ...FAST })
  const got = new Promise<{ rssi?: number; snr?: number }>((resolve) => b.once('frame', resolve))
  a.send(Uint8Array.of(1))
  const f = await got
  // 20 dBm − 40.05 dB − 30·log10(100 m) = −80.05 dBm; SNR against −94 dBm = 13.95 dB (0.01 dB on the wire).
  assert.is(f.rssi, -80.05)
  assert.is(f.snr, 13.95)
  await Promise.all([a.close(), b.close()])
  await hub.close()
})

test('HubRadio: a node not in the topology is refused: ERR_CONFIG, down, open rejects', async () => {
  const hub = await Hub.open({ topology: chain(2), port: 0 })
  try {
    await HubRadio.open({ node: 9, hubPort: hub.port, ...FAST })
    assert.unreachable('should be refused')
  } catch (e) {
    assert.match((e as Error).message, /refused node 9: it is not in the hub's topology/)
  }
  const r = new HubRadio({ node: 9, hubPort: hub.port, ...FAST })
  const codes: string[] = []
  r.on('error', (e) => codes.push(e.code))
  await state(r, 'down')
  assert.equal(codes, ['ERR_CONFIG'])
  assert.is(hub.stats.refused, 2)
  await r.close()
  await hub.close()
})

test('HubRadio: reconnecting when the hub goes away, up again with a new hub on the same port; held frames are delivered', async () => {
  // a's timers are gated so that b is registered with the new hub before a's HELLO reaches it
  // (the hub forwards only to registered nodes): a deterministic order without sleeping.
  const gate = new GatedScheduler()
  const { hub, a, b } = await twoNodes({}, gate)
  let hub2: Hub | undefined
  try {
    const port = hub.port
    const log: string[] = []
    a.on('state', (s) => log.push(s.state))
    await hub.close()
    await Promise.all([state(a, 'reconnecting'), state(b, 'reconnecting')])
    a.send(Uint8Array.of(1, 1))
    a.send(Uint8Array.of(2, 2))
    assert.is(a.pending, 2, 'held while reconnecting')
    const heard: number[] = []
    b.on('frame', (f) => heard.push(f.bytes[0]))
    gate.hold()
    hub2 = await Hub.open({ topology: chain(2), port })
    await state(b, 'up')
    assert.is(a.state, 'reconnecting')
    gate.release()
    await state(a, 'up')
    await until(() => heard.length === 2, [[b, 'frame']], 'the held frames')
    assert.equal(heard, [1, 2])
    assert.equal(log, ['reconnecting', 'up'])
  } finally {
    await Promise.all([a.close(), b.close()])
    await hub2?.close()
  }
})

test('HubRadio: a restarted hub is noticed by REFUSE not-registered before any timeout', async () => {
  // Keepalive timeout far beyond the test: only the refusal can explain 'reconnecting'.
  const { hub, a, b } = await twoNodes({ keepaliveTimeoutMs: 60_000 })
  const port = hub.port
  await hub.close()
  const hub2 = await Hub.open({ topology: chain(2), port })
  const reasons: string[] = []
  a.on('state', (s) => reasons.push(`${s.state}: ${s.reason}`))
  await state(a, 'reconnecting')
  await state(a, 'up')
  assert.equal(reasons, [`reconnecting: hub 127.0.0.1:${port} does not know node 1 (it restarted)`, `up: hub 127.0.0.1:${port} accepted node 1`])
  await Promise.all([a.close(), b.close()])
  await hub2.close()
})

test('HubRadio: frames held while reconnecting are dropped ERR_EXPIRED at their TTL', async () => {
  const { hub, a, b } = await twoNodes({ queueTtlMs: 30 })
  await hub.close()
  await state(a, 'reconnecting')
  const dropped: string[] = []
  let inSend = true
  a.on('dropped', (d) => dropped.push(`${d.code} ${d.bytes[0]}${inSend ? ' (inside send)' : ''}`))
  a.send(Uint8Array.of(7))
  a.send(Uint8Array.of(8), { urgent: true })
  inSend = false
  await until(() => dropped.length === 2, [[a, 'dropped']], 'two TTL drops')
  assert.equal(dropped, ['ERR_EXPIRED 8', 'ERR_EXPIRED 7'])
  assert.is(a.pending, 0)
  assert.is(a.state, 'reconnecting')
  await Promise.all([a.close(), b.close()])
})

test('hub wire codec: round-trips, byte sizes, and a total decoder', () => {
  const msgs: HubMessage[] = [
    { type: 'hello', node: 5, session: 0xfeedbeef },
    { type: 'welcome', node: 5, session: 1 },
    { type: 'refuse', code: 'unknown-node', node: 9 },
    { type: 'refuse', code: 'not-registered', node: 9 },
    { type: 'frame', frame: Uint8Array.of(1, 2, 3) },
    { type: 'deliver', from: 3, rssi: -80.05, snr: 13.95, frame: Uint8Array.of(4) },
    { type: 'ping', node: 5, session: 2 },
    { type: 'pong', node: 5, session: 2 },
    { type: 'bye' },
  ]
  const sizes = msgs.map((m) => encodeHubMessage(m).length)
  assert.equal(sizes, [10, 10, 7, 7, 5, 11, 10, 10, 2])
  for (const m of msgs) {
    const back = decodeHubMessage(encodeHubMessage(m)) as Record<string, unknown>
    const norm = (x: Record<string, unknown>): unknown => ({ ...x, frame: x.frame ? [...(x.frame as Uint8Array)] : undefined })
    assert.equal(norm(back), norm(m as Record<string, unknown>))
  }
  assert.equal([...encodeHubMessage(msgs[0])], [1, 1, 0, 0, 0, 5, 0xfe, 0xed, 0xbe, 0xef])
  assert.throws(() => decodeHubMessage(Uint8Array.of(2, 8)), /unsupported version 2/)
  assert.throws(() => decodeHubMessage(Uint8Array.of(1, 4)), /empty frame/)
  assert.throws(() => decodeHubMessage(Uint8Array.of(1, 1, 0, 0, 0, 0, 0, 0, 0, 1)), /not a node address/)
  const node = fc.integer({ min: 1, max: 0x7fffffff })
  const u32 = fc.nat({ max: 0xffffffff })
  const frame = fc.uint8Array({ minLength: 1, maxLength: 40 })
  const db = fc.integer({ min: -32768, max: 32767 }).map((c) => c / 100)
  checkDecoderProperties<HubMessage>({
    decode: decodeHubMessage,
    valid: fc.oneof(
      fc.record({ type: fc.constantFrom('hello' as const, 'welcome' as const, 'ping' as const, 'pong' as const), node, session: u32 }),
      fc.record({ type: fc.constant('refuse' as const), code: fc.constantFrom('unknown-node' as const, 'not-registered' as const), node }),
      fc.record({ type: fc.constant('frame' as const), frame }),
      fc.record({ type: fc.constant('deliver' as const), from: node, rssi: db, snr: db, frame }),
      fc.constant({ type: 'bye' as const }),
    ),
    encode: encodeHubMessage,
    typeBytes: [1, 2, 3, 4, 5, 6, 7, 8],
    open: (m) => m.type === 'frame' || m.type === 'deliver',
    numRuns: 500,
  })
})

test('hub radio config: keepalive timeout must exceed the interval; errors name the field', () => {
  assert.is(configError(() => validateHubRadioConfig({ keepaliveIntervalMs: 100, keepaliveTimeoutMs: 100 })).path, 'hubRadio.keepaliveTimeoutMs')
  assert.is(configError(() => validateHubRadioConfig({ hubHost: 'localhost' })).path, 'hubRadio.hubHost')
  assert.is(configError(() => validateHubRadioConfig({ queueTtlMs: 0 })).path, 'hubRadio.queueTtlMs')
  assert.throws(() => new HubRadio({ node: 0 }), /node must be a node address/)
  validateHubTopology({ nodes: [{ id: 1, position: [0, 0] }], range: 1 })
})

test.run()
