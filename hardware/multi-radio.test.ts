/**
 * MultiRadio: the Radio contract over two media (MockRadio and SimRadio), then learning, fallback,
 * composite state, send accounting and a bridge between two segments. Frames in the specific tests
 * carry a toy link header: byte 0 = src, byte 1 = dst (0 = broadcast).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SpinmeshError } from '../core/errors.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { StaticMobility } from './mobility.ts'
import { MockMedium, type MockRadio } from './mock-radio.ts'
import { MultiRadio, compositeState, type FrameAddresses } from './multi-radio.ts'
import type { Radio, RadioState, RxFrame } from './radio.ts'
import { radioContract } from './radio-contract.ts'
import { SimMedium } from './sim-medium.ts'

// The contract pair: two gateways sharing segment 1, each with its own second segment (a LAN of its
// own), so b hears each of a's frames once. (A pair on the same two media hears every frame twice,
// by design: see 'a frame reaching both of a node's media is heard twice'.)
radioContract('MultiRadio of two MockRadios', async () => {
  const scheduler = new SimScheduler()
  const [m1, m2, m3] = [1, 2, 3].map(() => new MockMedium({ scheduler }))
  const a = new MultiRadio({ radios: [m1.radio(), m2.radio()], names: ['lora', 'lan-a'] })
  const b = new MultiRadio({ radios: [m1.radio(), m3.radio()], names: ['lora', 'lan-b'] })
  return { a, b, settle: async () => scheduler.run(), queueLimit: 64 }
})

radioContract('MultiRadio of two SimRadios', async () => {
  const scheduler = new SimScheduler()
  const [m1, m2, m3] = [1, 2, 3].map((k) => new SimMedium({ scheduler, rng: new SeededRng(`multi-${k}`) }))
  const at = (x: number) => new StaticMobility({ x, y: 0 })
  const a0 = m1.addNode(1, at(0))
  const a = new MultiRadio({ radios: [a0, m2.addNode(1, at(0))] })
  const b = new MultiRadio({ radios: [m1.addNode(2, at(100)), m3.addNode(2, at(100))] })
  return { a, b, settle: async () => scheduler.run(), queueLimit: a0.config.queueLimit }
})

const peek = (f: Uint8Array): FrameAddresses | undefined =>
  f.length < 2 ? undefined : { src: f[0], dst: f[1] === 0 ? undefined : f[1] }

function collect(r: Radio): RxFrame[] {
  const got: RxFrame[] = []
  r.on('frame', (f) => got.push(f))
  return got
}

/** Stands in for the link layer: accepts every frame it can read a source from (so `b` learns). */
function acceptAll(b: MultiRadio): void {
  b.on('frame', (x) => {
    const a = peek(x.bytes)
    if (a) b.sourceAccepted(a.src, x)
  })
}

function setState(r: MockRadio, state: RadioState, reason: string): void {
  r.state = state
  r.emit('state', { state, reason })
}

/** A (node 1) alone on medium 1, C (node 3) alone on medium 2, B (node 2) a MultiRadio on both. */
function bridge(radio: { queueLimit?: number[]; bitrate?: number[] } = {}) {
  const scheduler = new SimScheduler()
  const m1 = new MockMedium({ scheduler })
  const m2 = new MockMedium({ scheduler })
  const a = m1.radio({ name: 'a' })
  const c = m2.radio({ name: 'c' })
  const b0 = m1.radio({ name: 'b0', queueLimit: radio.queueLimit?.[0], bitrate: radio.bitrate?.[0] })
  const b1 = m2.radio({ name: 'b1', queueLimit: radio.queueLimit?.[1], bitrate: radio.bitrate?.[1] })
  const b = new MultiRadio({ radios: [b0, b1], names: ['lora', 'lan'], addresses: peek })
  acceptAll(b)
  return { scheduler, a, b, c, b0, b1, atA: collect(a), atB: collect(b), atC: collect(c) }
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof SpinmeshError, `expected a SpinmeshError, got ${String(e)}`)
    return e.code
  }
  return undefined
}

test('mtu and bitrate are the smallest of the radios, airtimeMs the largest', () => {
  const m = new MockMedium({ scheduler: new SimScheduler() })
  const r = new MultiRadio({ radios: [m.radio({ mtu: 255, bitrate: 5_000 }), m.radio({ mtu: 1400, bitrate: 1_000_000, preambleMs: 1 })] })
  assert.is(r.mtu, 255)
  assert.is(r.bitrate, 5_000)
  assert.is(r.airtimeMs(100), r.radios[0].airtimeMs(100))
  assert.is(r.airtimeMs(1), Math.max(r.radios[0].airtimeMs(1), r.radios[1].airtimeMs(1)))
  assert.is(codeOf(() => r.send(new Uint8Array(256))), 'ERR_FRAME_TOO_LARGE')
})

test('options are checked with messages naming what is wrong', () => {
  const m = new MockMedium({ scheduler: new SimScheduler() })
  const r = m.radio()
  assert.throws(() => new MultiRadio({ radios: [] }), (e: Error) => e instanceof RangeError && /non-empty/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r], names: ['a', 'b'] }), (e: Error) => e instanceof RangeError && /one name per radio \(1\), got 2/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r, r] }), (e: Error) => e instanceof RangeError && /radios\[1\] is the same radio as radios\[0\]/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r, {} as Radio] }), (e: Error) => e instanceof TypeError && /radios\[1\] is not a Radio/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r], names: [''] }), (e: Error) => e instanceof TypeError && /names\[0\]/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r], learnLimit: 0 }), (e: Error) => e instanceof RangeError && /learnLimit/.test(e.message))
  assert.throws(() => new MultiRadio({ radios: [r], addresses: 3 as never }), (e: Error) => e instanceof TypeError && /addresses/.test(e.message))
})

test('a frame sent on a two-radio node reaches nodes on both media', () => {
  const f = bridge()
  f.b.send(new Uint8Array([2, 0, 42]))
  f.scheduler.run()
  assert.equal(f.atA.map((x) => [...x.bytes]), [[2, 0, 42]])
  assert.equal(f.atC.map((x) => [...x.bytes]), [[2, 0, 42]])
})

test('a frame reaching both of a node\'s media is passed once; a repeat on the same radio passes (a retransmission)', () => {
  const scheduler = new SimScheduler()
  const [m1, m2] = [new MockMedium({ scheduler }), new MockMedium({ scheduler })]
  const a = new MultiRadio({ radios: [m1.radio(), m2.radio()] })
  const b = new MultiRadio({ radios: [m1.radio(), m2.radio()], duplicateWindowMs: 1000 })
  const atB = collect(b)
  a.send(new Uint8Array([7]))
  scheduler.run()
  assert.equal(atB.map((x) => [x.bytes[0], x.radio]), [[7, 0]])
  assert.is(b.duplicatesDropped, 1)
  a.radios[0].send(new Uint8Array([7])) // the same bytes again on radio 0 only: a retransmission
  scheduler.run()
  assert.equal(atB.map((x) => [x.bytes[0], x.radio]), [[7, 0], [7, 0]])
  scheduler.run({ until: scheduler.now() + 2000 })
  a.radios[1].send(new Uint8Array([7])) // outside the window: a new frame
  scheduler.run()
  assert.equal(atB.map((x) => x.radio), [0, 0, 1])
})

test('learning only from frames the link layer accepted: a forged frame on another segment moves nothing', () => {
  const scheduler = new SimScheduler()
  const [m1, m2] = [new MockMedium({ scheduler }), new MockMedium({ scheduler })]
  const lora = m1.radio(), lan = m2.radio()
  const b = new MultiRadio({ radios: [m1.radio(), m2.radio()], addresses: peek })
  // The "link layer" accepts only frames whose last byte is 0xaa (stands in for a valid MAC).
  b.on('frame', (x) => {
    if (x.bytes[x.bytes.length - 1] === 0xaa) b.sourceAccepted(peek(x.bytes)!.src, x)
  })
  lora.send(new Uint8Array([5, 0, 0xaa]))
  scheduler.run()
  assert.is(b.learnedRadio(5), 0)
  lan.send(new Uint8Array([5, 0, 0x00])) // claims to be node 5, fails authentication
  scheduler.run()
  assert.is(b.learnedRadio(5), 0, 'still on the radio that really reaches it')
  const atLan = collect(lan)
  b.send(new Uint8Array([2, 5, 1]))
  scheduler.run()
  assert.is(atLan.length, 0, 'the unicast to 5 stayed on radio 0')
  b.sourceAccepted(5, { bytes: new Uint8Array([5]), at: 0 }) // no radio index: ignored
  assert.is(b.learnedRadio(5), 0)
})

test('learning: a unicast to a source heard on radio 0 goes only on radio 0, and on all radios once radio 0 is down', () => {
  const f = bridge()
  f.a.send(new Uint8Array([1, 0, 1])) // A broadcasts: B learns 1 → radio 0
  f.scheduler.run()
  assert.is(f.b.learnedRadio(1), 0)
  f.b.send(new Uint8Array([2, 1, 2])) // unicast to A
  f.b.send(new Uint8Array([2, 9, 3])) // unicast to an unknown node: everywhere
  f.b.send(new Uint8Array([2, 0, 4])) // broadcast: everywhere
  f.scheduler.run()
  assert.equal(f.atA.map((x) => x.bytes[2]), [2, 3, 4])
  assert.equal(f.atC.map((x) => x.bytes[2]), [3, 4], 'the unicast to A stayed off medium 2')
  setState(f.b0, 'down', 'unplugged')
  const sent: number[] = []
  f.b.on('sent', (s) => sent.push(s.bytes[2]))
  f.b.send(new Uint8Array([2, 1, 5])) // radio 0 down: all radios; radio 0 refuses, radio 1 carries it
  f.scheduler.run()
  assert.equal(f.atC.map((x) => x.bytes[2]), [3, 4, 5])
  assert.equal(sent, [5])
  setState(f.b1, 'down', 'cable out')
  assert.is(codeOf(() => f.b.send(new Uint8Array([2, 1, 6]))), 'ERR_CLOSED', 'every radio refused: the first refusal is rethrown')
})

test('the learning table is bounded: the least recently heard source is evicted', () => {
  const scheduler = new SimScheduler()
  const m = new MockMedium({ scheduler })
  const peers = [m.radio(), m.radio(), m.radio()]
  const b = new MultiRadio({ radios: [m.radio()], addresses: peek, learnLimit: 2 })
  acceptAll(b)
  for (const [k, src] of [[0, 1], [1, 2], [0, 1], [2, 3]]) {
    peers[k].send(new Uint8Array([src, 0]))
    scheduler.run()
  }
  assert.is(b.learnedRadio(1), 0, 'heard again: kept')
  assert.is(b.learnedRadio(2), undefined, 'least recently heard: evicted')
  assert.is(b.learnedRadio(3), 0)
})

test('composite state: up > reconnecting > connecting > down, emitted only on change, naming the radio', () => {
  assert.is(compositeState(['down', 'connecting']), 'connecting')
  assert.is(compositeState(['connecting', 'reconnecting']), 'reconnecting')
  assert.is(compositeState(['down', 'down']), 'down')
  const m = new MockMedium({ scheduler: new SimScheduler() })
  const [r0, r1] = [m.radio(), m.radio()]
  r0.state = 'down'
  r1.state = 'connecting'
  const multi = new MultiRadio({ radios: [r0, r1], names: ['serial', 'lan'] })
  assert.is(multi.state, 'connecting')
  const log: string[] = []
  multi.on('state', (c) => log.push(`${c.state} | ${c.reason}`))
  setState(r1, 'up', 'ready')
  setState(r0, 'connecting', 'opening') // still up
  setState(r0, 'up', 'ready') // still up
  setState(r1, 'reconnecting', 'link lost') // r0 is up
  setState(r0, 'reconnecting', 'unplugged')
  setState(r1, 'connecting', 'retrying') // r0 still reconnecting
  setState(r0, 'down', 'gave up')
  setState(r1, 'down', 'closed')
  assert.equal(log, [
    'up | radio 1 (lan): ready',
    'reconnecting | radio 0 (serial): unplugged',
    'connecting | radio 0 (serial): gave up',
    'down | radio 1 (lan): closed',
  ])
  assert.is(multi.state, 'down')
})

test('sent fires once, for the first copy on air; dropped only when every copy was dropped', () => {
  // Radio 0 is fast with room for 1 waiting frame; radio 1 slow with room for 5.
  const f = bridge({ bitrate: [1_000_000, 10_000], queueLimit: [1, 5] })
  let inSend = false
  const log: string[] = []
  f.b.on('sent', (s) => log.push(`sent ${s.bytes[2]} ${s.airtimeMs}${inSend ? ' IN SEND' : ''}`))
  f.b.on('dropped', (d) => log.push(`dropped ${d.bytes[2]} ${d.code}${inSend ? ' IN SEND' : ''}`))
  for (let k = 0; k < 4; k++) {
    inSend = true
    f.b.send(new Uint8Array([2, 0, k, 0, 0, 0, 0, 0, 0, 0]))
    inSend = false
  }
  assert.equal(log, [])
  f.scheduler.run()
  const fastAir = f.b0.airtimeMs(10)
  const slowAir = f.b1.airtimeMs(10)
  // Frames 2 and 3 never went out on the fast radio: their first copy is the slow one.
  assert.equal(log, [`sent 0 ${fastAir}`, `sent 1 ${fastAir}`, `sent 2 ${slowAir}`, `sent 3 ${slowAir}`])
  assert.is(f.atA.length, 2)
  assert.is(f.atC.length, 4)

})

test('a frame every radio dropped is dropped once, with every radio\'s reason', () => {
  const f = bridge({ queueLimit: [1, 1] })
  const log: string[] = []
  f.b.on('sent', (s) => log.push(`sent ${s.bytes[2]}`))
  f.b.on('dropped', (d) => log.push(`dropped ${d.bytes[2]} ${d.code} | ${d.reason}`))
  for (let k = 0; k < 4; k++) f.b.send(new Uint8Array([2, 0, k]))
  f.scheduler.run()
  const why = 'radio 0 (lora): tx queue full (1 frames); radio 1 (lan): tx queue full (1 frames)'
  assert.equal(log, [`dropped 2 ERR_QUEUE_FULL | ${why}`, `dropped 3 ERR_QUEUE_FULL | ${why}`, 'sent 0', 'sent 1'])
})

test('the frame is copied: a reused buffer is still matched and reported with the bytes sent', () => {
  const f = bridge()
  const sent: number[][] = []
  f.b.on('sent', (s) => sent.push([...s.bytes]))
  const buf = new Uint8Array([2, 0, 7])
  f.b.send(buf)
  buf.fill(9)
  f.scheduler.run()
  assert.equal(sent, [[2, 0, 7]])
})

test('a bridge: A on medium 1, B on both, C on medium 2; B reaches both and relays A→C onto medium 2 only', () => {
  const f = bridge()
  f.a.send(new Uint8Array([1, 0, 1])) // A's hello
  f.c.send(new Uint8Array([3, 0, 2])) // C's hello
  f.scheduler.run()
  assert.equal(f.atB.map((x) => x.bytes[2]), [1, 2], 'B hears both segments')
  assert.is(f.b.learnedRadio(1), 0)
  assert.is(f.b.learnedRadio(3), 1)
  assert.is(f.atC.length, 0, 'C does not hear A directly')
  // B relays every frame from A addressed to C (the node above MultiRadio forwards; this is its part).
  f.b.on('frame', (x) => {
    if (x.bytes[0] === 1 && x.bytes[1] === 3) f.b.send(x.bytes)
  })
  f.a.send(new Uint8Array([1, 3, 3]))
  f.b.send(new Uint8Array([2, 1, 4]))
  f.b.send(new Uint8Array([2, 3, 5]))
  f.scheduler.run()
  assert.equal(f.atC.map((x) => x.bytes[2]), [5, 3], 'C gets B\'s unicast and A\'s relayed frame')
  assert.equal(f.atA.map((x) => x.bytes[2]), [4], 'nothing for C is echoed back onto medium 1')
})

test('close closes every radio, reports the frame on air as sent and the waiting ones dropped, then lets go', async () => {
  const f = bridge()
  const log: string[] = []
  f.b.on('sent', (s) => log.push(`sent ${s.bytes[2]}`))
  f.b.on('dropped', (d) => log.push(`${d.code} ${d.bytes[2]}`))
  f.b.on('state', (c) => log.push(`${c.state} ${c.reason}`))
  f.b.send(new Uint8Array([2, 0, 1]))
  f.b.send(new Uint8Array([2, 0, 2]))
  await f.b.close()
  assert.is(f.b0.state, 'down')
  assert.is(f.b1.state, 'down')
  assert.is(f.b.state, 'down')
  f.scheduler.run()
  assert.equal(log, ['ERR_CLOSED 2', 'down closed', 'sent 1'])
  for (const r of [f.b0, f.b1]) {
    for (const ev of ['frame', 'state', 'error', 'sent', 'dropped'] as const) assert.is(r.listenerCount(ev), 0, `${ev} listener left`)
  }
  assert.is(codeOf(() => f.b.send(new Uint8Array([1]))), 'ERR_CLOSED')
})

test('errors of every radio are forwarded', () => {
  const f = bridge()
  const got: string[] = []
  f.b.on('error', (e) => got.push(e.message))
  f.b1.emit('error', new SpinmeshError('ERR_IO', 'socket gone'))
  assert.equal(got, ['socket gone'])
})

test('property: every accepted send ends in exactly one sent or dropped, never inside send(), whatever the mix', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ tag: fc.integer({ min: 0, max: 3 }), dst: fc.constantFrom(0, 1, 3), urgent: fc.boolean(), gap: fc.boolean() }), { maxLength: 40 }),
    fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean(),
    (ops, q0, q1, closeMidway) => {
      const f = bridge({ queueLimit: [q0, q1] })
      f.a.send(new Uint8Array([1, 0]))
      f.c.send(new Uint8Array([3, 0]))
      f.scheduler.run()
      let inSend = false
      let events = 0
      let accepted = 0
      const onEvent = (): void => {
        assert.not.ok(inSend, 'event inside send()')
        events++
      }
      f.b.on('sent', onEvent)
      f.b.on('dropped', onEvent)
      ops.forEach((op, k) => {
        if (closeMidway && k === ops.length >> 1) void f.b.close()
        inSend = true
        try {
          f.b.send(new Uint8Array([2, op.dst, op.tag]), { urgent: op.urgent }) // equal bytes are common
          accepted++
        } catch (e) {
          assert.ok(e instanceof SpinmeshError)
        } finally {
          inSend = false
        }
        if (op.gap) f.scheduler.run({ until: f.scheduler.now() + 0.1 })
      })
      f.scheduler.run()
      assert.is(events, accepted)
    },
  ), { seed: 8, numRuns: 300 })
})

test.run()
