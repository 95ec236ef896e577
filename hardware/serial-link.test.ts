/**
 * The serial supervisor on real ptys (socat): a device missing at start, data both ways, an
 * unplug (socat killed) seen as reconnecting, the device back at the same path seen as up again.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RealScheduler } from '../core/scheduler.ts'
import { untilState } from './state-wait.ts'
import { SerialLink } from './serial-link.ts'
import { SocatPair } from './socat.ts'


function nextData(link: SerialLink, ms = 5000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no data within ${ms} ms`)), ms)
    link.once('data', (d) => {
      clearTimeout(t)
      resolve(d)
    })
  })
}

test('missing at start, up when the device appears, reconnecting on unplug, up again when it is back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-pty-'))
  const pair = new SocatPair(join(dir, 'radioA'), join(dir, 'radioB'))
  const scheduler = new RealScheduler({ unref: true })
  const backoff = { initialMs: 20, maxMs: 100 }
  const a = new SerialLink({ match: { path: pair.a }, baudRate: 115200, scheduler, backoff })
  const b = new SerialLink({ match: { path: pair.b }, baudRate: 115200, scheduler, backoff })
  const states: string[] = []
  a.on('state', (c) => states.push(c.state))
  if (process.env.DEBUG_SERIAL) for (const [n, l] of [['a', a], ['b', b]] as const) l.on('state', (c) => console.log(n, c))
  a.on('error', () => {}) // expected on the unplug
  b.on('error', () => {})
  try {
    a.start()
    b.start()
    assert.is(a.state, 'connecting')
    assert.is(a.write(Uint8Array.of(1)), false, 'nothing to write to yet: the caller keeps its bytes')
    await pair.start()
    await Promise.all([untilState(a, 'up'), untilState(b, 'up')])
    const got = nextData(b)
    assert.ok(a.write(Uint8Array.of(0xc0, 1, 2, 3, 0xc0)))
    assert.equal([...(await got)], [0xc0, 1, 2, 3, 0xc0])

    // Unplug: socat goes away, the ptys with it.
    const lost = Promise.all([untilState(a, 'reconnecting'), untilState(b, 'reconnecting')])
    await pair.kill()
    // A reader notices the hang-up (a close with `disconnected`) or, if it was not reading, its
    // next write fails (EIO): either way it reconnects.
    a.write(Uint8Array.of(9))
    b.write(Uint8Array.of(9))
    await lost
    assert.is(a.write(Uint8Array.of(9)), false)

    // Plugged back: a new pty at the same path.
    await pair.start()
    await Promise.all([untilState(a, 'up'), untilState(b, 'up')])
    const again = nextData(a)
    assert.ok(b.write(Uint8Array.of(7, 7)))
    assert.equal([...(await again)], [7, 7])
    const changes = states.filter((x, i) => i === 0 || x !== states[i - 1])
    assert.equal(changes, ['connecting', 'up', 'reconnecting', 'up'])
  } finally {
    await a.close()
    await b.close()
    await pair.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  assert.is(a.state, 'down')
})

test('a device named by serial number is looked for among the listed ports; bad options are refused', async () => {
  const scheduler = new RealScheduler({ unref: true })
  const opened: string[] = []
  let listed = 0
  const link = new SerialLink({
    match: { serialNumber: 'A10K7XYZ' }, baudRate: 9600, scheduler, backoff: { initialMs: 5, maxMs: 5 },
    list: () => (++listed === 1 ? [] : [{ path: '/dev/ttyUSB3', serialNumber: 'A10K7XYZ' }]),
    open: async (path) => {
      opened.push(path)
      if (opened.length === 1) throw new Error('EACCES')
      return { write: (_b, done) => done(), close: (done) => done(), on: () => undefined }
    },
  })
  const reasons: string[] = []
  link.on('state', (c) => reasons.push(`${c.state}: ${c.reason}`))
  link.start()
  await untilState(link, 'up')
  assert.match(reasons[1], /device not found \(serialNumber A10K7XYZ\)/)
  assert.is(link.devicePath, '/dev/ttyUSB3')
  await link.close()
  assert.throws(() => link.write(Uint8Array.of(1)), /closed/)
  assert.throws(() => new SerialLink({ match: {}, baudRate: 9600, scheduler }), /path, a serial number/)
  assert.throws(() => new SerialLink({ match: { path: '/dev/x' }, baudRate: 0, scheduler }), /baudRate/)
})

test.run()
