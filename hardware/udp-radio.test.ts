// UdpRadio on 127.0.0.1 multicast: the shared Radio contract and the UDP-specific behaviour. Real
// sockets: every wait is on an event, with a failing timeout, never a sleep.
import { createSocket, type Socket } from 'node:dgram'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { settler, until } from './state-wait.ts'
import { configError, checkDecoderProperties } from '../core/testing.ts'
import { RealScheduler } from '../core/scheduler.ts'
import type { RxFrame } from './radio.ts'
import { radioContract } from './radio-contract.ts'
import { validateUdpRadioConfig } from './udp-defaults.ts'
import { UdpRadio, decodeUdpRadioDatagram, encodeUdpRadioDatagram, type UdpRadioOptions } from './udp-radio.ts'

const LO = '127.0.0.1'
const GROUP = '239.72.83.77'

async function freePort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, LO, resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}



async function udpPair(extra: UdpRadioOptions = {}): Promise<{ a: UdpRadio; b: UdpRadio; port: number }> {
  const port = await freePort()
  const opts = { port, interface: LO, queueLimit: 64, ...extra }
  const a = await UdpRadio.open(opts)
  const b = await UdpRadio.open(opts)
  return { a, b, port }
}

/** Probe: can this machine loop multicast back on 127.0.0.1? */
async function multicastWorks(): Promise<string | null> {
  let p: { a: UdpRadio; b: UdpRadio } | undefined
  try {
    p = await udpPair()
    const got = new Promise<void>((resolve) => p!.b.once('frame', () => resolve()))
    p.a.send(Uint8Array.of(1))
    await Promise.race([got, new Promise((_, reject) => setTimeout(() => reject(new Error('no frame within 1 s')), 1000))])
    return null
  } catch (e) {
    return (e as Error).message
  } finally {
    await p?.a.close()
    await p?.b.close()
  }
}

const unavailable = await multicastWorks()
if (unavailable !== null) {
  console.log(`SKIP UdpRadio socket tests: IPv4 multicast on 127.0.0.1 is not available here (${unavailable})`)
} else {
  radioContract('UdpRadio', async () => {
    const { a, b } = await udpPair()
    return { a, b, settle: settler(a, b, () => a.pending), queueLimit: 64, cleanup: async () => void (await Promise.all([a.close(), b.close()])) }
  })

  test('UdpRadio: up with a reason naming group and interface; frames carry no RSSI; the header is 7 bytes', async () => {
    const port = await freePort()
    const a = new UdpRadio({ port, interface: LO })
    assert.is(a.state, 'connecting')
    const states: string[] = []
    a.on('state', (s) => states.push(`${s.state}: ${s.reason}`))
    await a.whenUp()
    assert.equal(states, [`up: joined ${GROUP}:${port} on ${LO}`])
    const b = await UdpRadio.open({ port, interface: LO })
    const raw = createSocket({ type: 'udp4', reuseAddr: true })
    await new Promise<void>((resolve) => raw.bind(port, () => resolve()))
    raw.addMembership(GROUP, LO)
    const seen = new Promise<Buffer>((resolve) => raw.on('message', (m) => resolve(m)))
    const heard = new Promise<RxFrame>((resolve) => b.once('frame', resolve))
    a.send(Uint8Array.of(7, 8))
    const f = await heard
    assert.equal([...f.bytes], [7, 8])
    assert.is(f.rssi, undefined)
    assert.is(f.snr, undefined)
    const dgram = await seen
    assert.is(dgram.length, 9)
    assert.equal([...dgram.subarray(0, 3)], [0x53, 0x4d, 1])
    assert.is(dgram.readUInt32BE(3), a.instanceId)
    raw.close()
    await a.close()
    await b.close()
  })

  test('UdpRadio: foreign datagrams that do not decode, or exceed the mtu, are counted and ignored', async () => {
    const { a, b, port } = await udpPair({ mtu: 100 })
    const raw: Socket = createSocket('udp4')
    await new Promise<void>((resolve) => raw.bind(0, LO, () => resolve()))
    raw.setMulticastInterface(LO)
    const send = (bytes: Uint8Array): Promise<void> => new Promise((resolve) => raw.send(bytes, port, GROUP, () => resolve()))
    const heard: number[][] = []
    b.on('frame', (f) => heard.push([...f.bytes]))
    await send(Uint8Array.of(0x53, 0x4d, 2, 0, 0, 0, 1, 9)) // version 2
    await send(Uint8Array.of(1, 2, 3))
    await send(encodeUdpRadioDatagram(42, new Uint8Array(101))) // over b's mtu
    const last = new Promise<void>((resolve) => b.once('frame', () => resolve()))
    await send(encodeUdpRadioDatagram(42, Uint8Array.of(5))) // one socket's datagrams stay in order on loopback
    await last
    assert.equal(heard, [[5]])
    assert.is(b.stats.ignored, 3)
    raw.close()
    await a.close()
    await b.close()
  })

  test('UdpRadio: a frame longer than the whole duty-cycle budget is dropped ERR_DUTY_CYCLE, after send returns', async () => {
    // 0.1 % of 1 s = 1 ms of airtime; 1,400 bytes at 1 Mbit/s = 11.2 ms.
    const { a, b } = await udpPair({ dutyCycle: 0.001, dutyCycleWindowMs: 1000, queueLimit: 8 })
    const codes: string[] = []
    const dropped = new Promise<void>((resolve) => a.on('dropped', (d) => {
      codes.push(d.code)
      resolve()
    }))
    a.send(new Uint8Array(1400))
    assert.equal(codes, [])
    await dropped
    assert.equal(codes, ['ERR_DUTY_CYCLE'])
    await a.close()
    await b.close()
  })

  test('UdpRadio: joining on an address this host does not have fails: open rejects, the radio is down', async () => {
    const port = await freePort()
    const r = new UdpRadio({ port, interface: '198.51.100.7' })
    const errors: string[] = []
    r.on('error', (e) => errors.push(e.code))
    try {
      await r.whenUp()
      assert.unreachable('should not come up')
    } catch (e) {
      assert.match((e as Error).message, /cannot join 239\.72\.83\.77 on 198\.51\.100\.7/)
    }
    assert.is(r.state, 'down')
    assert.equal(errors, ['ERR_CLOSED'])
    await r.close()
  })

  test('UdpRadio: frames sent while connecting wait and go out once up', async () => {
    const port = await freePort()
    const b = await UdpRadio.open({ port, interface: LO })
    const a = new UdpRadio({ port, interface: LO, scheduler: new RealScheduler() })
    a.send(Uint8Array.of(1))
    a.send(Uint8Array.of(2))
    const got: number[] = []
    b.on('frame', (f) => got.push(f.bytes[0]))
    await until(() => got.length === 2, [[b, 'frame']], 'two frames')
    assert.equal(got, [1, 2])
    await a.close()
    await b.close()
  })
}

test('udp radio datagram decoder is total; encode/decode round-trips', () => {
  const d = decodeUdpRadioDatagram(encodeUdpRadioDatagram(0xdeadbeef, Uint8Array.of(1, 2)))
  assert.equal([d.instance, [...d.frame]], [0xdeadbeef, [1, 2]])
  assert.throws(() => decodeUdpRadioDatagram(encodeUdpRadioDatagram(1, new Uint8Array(0))), /empty frame/)
  checkDecoderProperties({
    decode: decodeUdpRadioDatagram,
    valid: fc.record({ instance: fc.nat({ max: 0xffffffff }), frame: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
    encode: (m) => encodeUdpRadioDatagram(m.instance, m.frame),
    open: () => true,
    numRuns: 500,
  })
})

test('udp radio config: defaults, and errors naming the field', () => {
  const c = validateUdpRadioConfig()
  assert.equal([c.group, c.port, c.ttl, c.mtu, c.bitrate, c.interface], [GROUP, 4277, 1, 1400, 1_000_000, null])
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ group: '10.1.2.3' }, 'udp.group', /multicast/],
    [{ interface: 'eth0' }, 'udp.interface', /IPv4 address literal/],
    [{ port: 0 }, 'udp.port', />= 1/],
    [{ ttl: 256 }, 'udp.ttl', /<= 255/],
    [{ mtu: 70_000 }, 'udp.mtu', /<= 65497/],
    [{ queueLimit: 0 }, 'udp.queueLimit', />= 1/],
    [{ loopback: 1 }, 'udp.loopback', /true or false/],
    [{ groop: 1 }, 'udp.groop', /unknown field/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validateUdpRadioConfig(input))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
  assert.throws(() => new UdpRadio({ mtu: 0 }), /udp\.mtu/)
})

test.run()
