import { createSocket, type Socket } from 'node:dgram'
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { checkDecoderProperties } from '../core/testing.ts'
import type { DatagramRx } from '../gossip/pbcast/pbcast-types.ts'
import { UdpDatagrams, decodeUdpDatagram, encodeUdpDatagram } from './udp-datagrams.ts'
import { SeededRng } from '../core/rng.ts'
import { RealScheduler } from '../core/scheduler.ts'
import { Pbcast } from '../gossip/pbcast/pbcast.ts'
import { PlainAudience } from '../gossip/pbcast/view.ts'

const HOST = '127.0.0.1'

function nextReceive(d: UdpDatagrams): Promise<DatagramRx> {
  return new Promise((resolve) => d.once('receive', resolve))
}

/** Two members, 1 and 2, on loopback ports the OS chose, each in the other's table. */
async function pair(): Promise<[UdpDatagrams, UdpDatagrams]> {
  const a = await UdpDatagrams.open({ address: 1, bind: { host: HOST, port: 0 } })
  const b = await UdpDatagrams.open({ address: 2, bind: { host: HOST, port: 0 }, peers: { 1: a.local() } })
  a.setPeer(2, b.local())
  return [a, b]
}

/** A raw socket (not a UdpDatagrams) for forged datagrams. */
async function rawSocket(): Promise<Socket> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, HOST, resolve))
  return s
}

function rawSend(s: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, port, HOST, (e) => (e ? reject(e) : resolve())))
}

test('datagrams go both ways with the right sender', async () => {
  const [a, b] = await pair()
  try {
    const atB = nextReceive(b)
    a.send(2, Uint8Array.of(1, 2, 3))
    const d1 = await atB
    assert.equal([d1.from, [...d1.payload]], [1, [1, 2, 3]])
    assert.ok(d1.payload.constructor === Uint8Array)
    const atA = nextReceive(a)
    b.send(1, new Uint8Array(1400).fill(7))
    const d2 = await atA
    assert.is(d2.from, 2)
    assert.is(d2.payload.length, 1400)
    assert.ok(d2.payload.every((x) => x === 7))
    const empty = nextReceive(b)
    a.send(2, new Uint8Array(0))
    assert.is((await empty).payload.length, 0)
    assert.equal([a.stats.sent, a.stats.received, b.stats.sent, b.stats.received], [2, 1, 1, 2])
  } finally {
    a.close()
    b.close()
  }
})

test('forged, short, unknown and oversize datagrams are dropped and counted', async () => {
  const [a, b] = await pair()
  const raw = await rawSocket()
  try {
    const port = b.local().port
    await rawSend(raw, encodeUdpDatagram(1, Uint8Array.of(66)), port) // claims to be member 1: wrong source
    await rawSend(raw, encodeUdpDatagram(999, Uint8Array.of(66)), port) // not a member
    await rawSend(raw, Uint8Array.of(0, 0, 1), port) // shorter than the header
    await rawSend(raw, encodeUdpDatagram(1, new Uint8Array(1401)), port) // above maxPayload
    // Then a legitimate one from the same socket: loopback keeps one socket's datagrams in order.
    b.setPeer(77, { host: HOST, port: (raw.address()).port })
    const got = nextReceive(b)
    await rawSend(raw, encodeUdpDatagram(77, Uint8Array.of(5)), port)
    const d = await got
    assert.equal([d.from, [...d.payload]], [77, [5]])
    assert.equal(b.stats.dropped, { short: 1, oversize: 1, unknownSender: 1, wrongSource: 1 })
    assert.is(b.stats.received, 1)
    // Member 1's real datagrams still pass.
    const real = nextReceive(b)
    a.send(2, Uint8Array.of(9))
    assert.is((await real).from, 1)
  } finally {
    raw.close()
    a.close()
    b.close()
  }
})

test('send checks: maxPayload, unknown peer, self, closed', async () => {
  const [a, b] = await pair()
  b.close()
  assert.throws(() => a.send(2, new Uint8Array(1401)), (e: unknown) => e instanceof RangeError && /exceeds maxPayload 1400/.test((e as Error).message))
  a.send(3, new Uint8Array(1)) // unreachable: lost and counted, never thrown (the Datagrams contract)
  assert.is(a.stats.unsent.unknownPeer, 1)
  assert.throws(() => a.setPeer(1, { host: HOST, port: 9 }), /own address/)
  assert.throws(() => a.setPeer(3, { host: 'localhost', port: 9 }), /IP literal/)
  assert.throws(() => a.setPeer(3, { host: '::1', port: 9 }), /IPv6/)
  assert.equal(a.peerAddrs(), [2])
  assert.ok(a.deletePeer(2))
  a.close()
  a.close()
  assert.throws(() => a.send(2, new Uint8Array(1)), (e: unknown) => e instanceof SpinmeshError && e.code === ErrorCodes.CLOSED)
})

test('a port in use gives a clear error naming host:port', async () => {
  const a = await UdpDatagrams.open({ address: 1, bind: { host: HOST, port: 0 } })
  const { port } = a.local()
  try {
    await UdpDatagrams.open({ address: 2, bind: { host: HOST, port } }).then(
      () => assert.unreachable('bind should fail'),
      (e: unknown) => {
        assert.instance(e, SpinmeshError)
        assert.match((e as Error).message, `cannot bind ${HOST}:${port}: EADDRINUSE`)
      },
    )
  } finally {
    a.close()
  }
})

test('option checks', async () => {
  const bad = async (o: Parameters<typeof UdpDatagrams.open>[0], re: RegExp): Promise<void> => {
    await UdpDatagrams.open(o).then(() => assert.unreachable('expected a RangeError'), (e: unknown) => {
      assert.instance(e, RangeError)
      assert.match((e as Error).message, re)
    })
  }
  await bad({ address: 0, bind: { host: HOST, port: 0 } }, /node address/)
  await bad({ address: 1, bind: { host: HOST, port: 70000 } }, /port must be/)
  await bad({ address: 1, bind: { host: HOST, port: 0 }, maxPayload: 70000 }, /maxPayload/)
  await bad({ address: 1, bind: { host: HOST, port: 0 }, peers: new Map([[2, { host: HOST, port: 0 }]]) }, /port 0/)
})

test('decodeUdpDatagram is total and inverts encodeUdpDatagram', () => {
  const valid = fc.record({ from: fc.nat({ max: 0xffffffff }), payload: fc.uint8Array({ maxLength: 64 }) })
  checkDecoderProperties({ decode: decodeUdpDatagram, valid, encode: (m) => encodeUdpDatagram(m.from, m.payload), open: () => true, numRuns: 500 })
  fc.assert(fc.property(valid, (m) => {
    const d = decodeUdpDatagram(encodeUdpDatagram(m.from, m.payload))
    assert.equal([d.from, [...d.payload]], [m.from, [...m.payload]])
  }))
})

test('pbcast over real UDP: three gateways on loopback, every message delivered in order at the other two', async () => {
  const scheduler = new RealScheduler()
  const ends = await Promise.all([1, 2, 3].map((address) => UdpDatagrams.open({ address, bind: { host: HOST, port: 0 } })))
  for (const e of ends) for (const o of ends) if (o !== e) e.setPeer(o.address, o.local())
  const members = ends.map((transport, i) => new Pbcast({
    transport, scheduler, rng: new SeededRng(i), audience: new PlainAudience({ self: transport.address, members: [1, 2, 3], firstFanout: 1 }), config: { roundMs: 20 },
  }))
  try {
    const got = new Map<number, number[]>([[2, []], [3, []]])
    const all = new Promise<void>((resolve) => {
      for (const i of [1, 2]) {
        members[i].on('deliver', (d) => {
          got.get(i + 1)!.push(d.seq)
          if ([...got.values()].every((seqs) => seqs.length === 10)) resolve()
        })
      }
    })
    // The first dissemination reaches one member; the other gets each message by gossip.
    for (let k = 0; k < 10; k++) members[0].publish(0, Uint8Array.of(k))
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref())
    assert.is.not(await Promise.race([all, timeout]), 'timeout', `delivered ${JSON.stringify([...got])}`)
    for (const seqs of got.values()) assert.equal(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  } finally {
    for (const m of members) m.close()
    for (const e of ends) e.close()
  }
})

test.run()
