/**
 * SerialRadio's queue against a fake port (virtual time): a write the port never confirms is a
 * stall (the link reconnects, the frame goes again); frames behind it still expire by TTL while
 * the link is up; urgent frames keep their order when one is put back.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimScheduler } from '../core/scheduler.ts'
import { SerialLink, type SerialPortHandle } from './serial-link.ts'
import { SerialRadio, type SerialFraming } from './serial-radio.ts'

const identity: SerialFraming = { encode: (p) => p, decoder: () => ({ push: () => [] }) }

/**
 * Ports whose writes hang (`hang`) or succeed; closing a port fails its pending writes, as real
 * ports do — unless `silentClose`: then a closed port never calls them back (seen with ptys whose
 * other end vanished).
 */
function fakePorts(s: SimScheduler, hang: () => boolean, silentClose = false) {
  const written: number[] = []
  let opened = 0
  const open = async (): Promise<SerialPortHandle> => {
    opened++
    const pending: Array<(err?: Error | null) => void> = []
    return {
      write: (b, done) => {
        if (hang()) pending.push(done)
        else {
          written.push(b[0])
          s.at(1, () => done())
        }
      },
      close: (done) => {
        const waiting = pending.splice(0)
        if (!silentClose) for (const p of waiting) p(new Error('Canceled'))
        done()
      },
      on: () => undefined,
    }
  }
  return { open, written, opens: () => opened }
}

async function advance(s: SimScheduler, ms: number): Promise<void> {
  const end = s.now() + ms
  while (s.now() < end) {
    s.run({ until: Math.min(end, s.now() + 10) })
    for (let i = 0; i < 5; i++) await Promise.resolve()
  }
}

test('a stalled write: the frames behind it expire by TTL while up, the link reconnects, the stalled frame goes again', async () => {
  const s = new SimScheduler()
  let hanging = true
  const ports = fakePorts(s, () => hanging)
  const link = new SerialLink({ match: { path: '/dev/fake' }, baudRate: 9600, scheduler: s, open: ports.open, exists: () => true, backoff: { initialMs: 10, maxMs: 10 } })
  const radio = new SerialRadio({ link, framing: identity, scheduler: s, mtu: 64, bitrate: 9600, frameTtlMs: 1000 })
  radio.on('error', () => {})
  const dropped: Array<[number, string]> = []
  const sent: number[] = []
  radio.on('dropped', (d) => dropped.push([d.bytes[0], d.code]))
  radio.on('sent', (d) => sent.push(d.bytes[0]))
  await advance(s, 50)
  assert.is(radio.state, 'up')
  radio.send(Uint8Array.of(1)) // its write hangs
  radio.send(Uint8Array.of(2))
  radio.send(Uint8Array.of(3))
  await advance(s, 1500)
  assert.equal(dropped, [[2, 'ERR_EXPIRED'], [3, 'ERR_EXPIRED']], 'waiting behind a stalled write, they still expire')
  hanging = false
  await advance(s, 5000) // the stall watchdog reconnects; frame 1 went past its TTL meanwhile
  assert.ok(ports.opens() >= 2, 'reconnected')
  assert.equal(dropped.map((d) => d[0]).sort(), [1, 2, 3], 'every accepted frame ends in one event')
  radio.send(Uint8Array.of(4))
  await advance(s, 100)
  assert.equal(sent, [4])
  await radio.close()
})

test('urgent frames keep their order when a failed write puts one back', async () => {
  const s = new SimScheduler()
  let hanging = true
  const ports = fakePorts(s, () => hanging)
  const link = new SerialLink({ match: { path: '/dev/fake' }, baudRate: 9600, scheduler: s, open: ports.open, exists: () => true, backoff: { initialMs: 10, maxMs: 10 } })
  const radio = new SerialRadio({ link, framing: identity, scheduler: s, mtu: 64, bitrate: 9600, frameTtlMs: 60_000 })
  radio.on('error', () => {})
  await advance(s, 50)
  radio.send(Uint8Array.of(10)) // normal, in flight, hangs
  await advance(s, 5)
  radio.send(Uint8Array.of(1), { urgent: true })
  radio.send(Uint8Array.of(2), { urgent: true })
  link.reconnect('test: the write fails') // frame 10 goes back to the head of the normal class
  radio.send(Uint8Array.of(3), { urgent: true })
  hanging = false
  await advance(s, 200)
  assert.equal(ports.written, [1, 2, 3, 10])
  await radio.close()
})

test('a write its closed port never calls back: after the reconnect the frame goes again at once, not after the stall timeout', async () => {
  const s = new SimScheduler()
  let hanging = true
  const ports = fakePorts(s, () => hanging, true)
  const link = new SerialLink({ match: { path: '/dev/fake' }, baudRate: 9600, scheduler: s, open: ports.open, exists: () => true, backoff: { initialMs: 10, maxMs: 10 } })
  const radio = new SerialRadio({ link, framing: identity, scheduler: s, mtu: 64, bitrate: 9600, frameTtlMs: 10_000 })
  radio.on('error', () => {})
  const sent: number[] = []
  radio.on('sent', (d) => sent.push(d.bytes[0]))
  await advance(s, 50)
  radio.send(Uint8Array.of(7)) // its write hangs, and the port will never call it back
  await advance(s, 20)
  hanging = false
  link.reconnect('unplugged') // the device went away and came back
  await advance(s, 100)
  assert.equal(sent, [7], 'written again right after the reconnect')
  assert.is(ports.written.filter((b) => b === 7).length, 1)
  await radio.close()
})

test('closing while a write hangs on a port that never calls back: the frame is reported dropped', async () => {
  const s = new SimScheduler()
  const ports = fakePorts(s, () => true, true)
  const link = new SerialLink({ match: { path: '/dev/fake' }, baudRate: 9600, scheduler: s, open: ports.open, exists: () => true, backoff: { initialMs: 10, maxMs: 10 } })
  const radio = new SerialRadio({ link, framing: identity, scheduler: s, mtu: 64, bitrate: 9600 })
  radio.on('error', () => {})
  const dropped: string[] = []
  radio.on('dropped', (d) => dropped.push(d.code))
  await advance(s, 50)
  radio.send(Uint8Array.of(1))
  await advance(s, 10)
  await radio.close()
  assert.equal(dropped, ['ERR_CLOSED'])
})

test.run()
