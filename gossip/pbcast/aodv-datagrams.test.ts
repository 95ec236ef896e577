import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Proto } from '../../adhoc/protocols.ts'
import { aodvNet, chain } from '../../adhoc/aodv/aodv-fixtures.ts'
import { AodvDatagrams } from './aodv-datagrams.ts'
import type { DatagramRx } from './pbcast-types.ts'

/** A 4-node chain 1–2–3–4 (1 to 4 is 3 hops), a pbcast endpoint on every node. */
function chainNet() {
  const net = aodvNet(4, chain(4))
  const ends = [1, 2, 3, 4].map((id) => new AodvDatagrams({ router: net.node(id), maxPayload: 200 }))
  const got: DatagramRx[][] = ends.map((e) => {
    const rx: DatagramRx[] = []
    e.on('receive', (d) => rx.push(d))
    return rx
  })
  return { net, ends, got }
}

const plain = (d: DatagramRx) => ({ from: d.from, payload: [...d.payload] })

test('a datagram over 3 hops arrives with the right sender, both ways', () => {
  const { net, ends, got } = chainNet()
  ends[0].send(4, Uint8Array.of(1, 2, 3))
  net.scheduler.run({ until: 2000 })
  assert.equal(got[3].map(plain), [{ from: 1, payload: [1, 2, 3] }])
  assert.ok(got[3][0].at > 0 && got[3][0].at <= net.scheduler.now())
  assert.is(net.node(1).route(4)?.hops, 3)
  assert.equal([got[0].length, got[1].length, got[2].length], [0, 0, 0], 'relays do not deliver it')
  ends[3].send(1, Uint8Array.of(9))
  net.scheduler.run({ until: 4000 })
  assert.equal(got[0].map(plain), [{ from: 4, payload: [9] }])
  assert.equal(ends[0].stats, { sent: 1, received: 1 })
  assert.equal(ends[3].stats, { sent: 1, received: 1 })
})

test('routed payloads of other protocols are ignored', () => {
  const { net, ends, got } = chainNet()
  net.node(1).sendRouted(4, Proto.GOSSIP, Uint8Array.of(7))
  net.node(1).send(4, Uint8Array.of(8))
  net.scheduler.run({ until: 2000 })
  assert.is(net.value(4, 'dataDelivered'), 2, 'both arrived at node 4')
  assert.equal(got[3], [])
  assert.is(ends[3].stats.received, 0)
})

test('close stops delivery, removes only its own listener, is idempotent, and refuses sends', () => {
  const { net, ends, got } = chainNet()
  const before = net.node(4).listenerCount('routed')
  ends[3].close()
  ends[3].close()
  assert.is(net.node(4).listenerCount('routed'), before - 1)
  const other: number[] = []
  net.node(4).on('routed', (m) => other.push(m.proto))
  ends[0].send(4, Uint8Array.of(1))
  net.scheduler.run({ until: 2000 })
  assert.equal(got[3], [])
  assert.equal(other, [Proto.PBCAST], 'the router still delivers to others')
  assert.throws(() => ends[3].send(1, Uint8Array.of(1)), (e: unknown) => e instanceof SpinmeshError && e.code === ErrorCodes.CLOSED)
})

test('maxPayload is enforced and bounded by the router', () => {
  const { net, ends } = chainNet()
  ends[0].send(4, new Uint8Array(200))
  assert.throws(() => ends[0].send(4, new Uint8Array(201)), (e: unknown) => e instanceof RangeError && /exceeds maxPayload 200/.test((e as Error).message))
  assert.throws(() => ends[0].send(1, new Uint8Array(1)), RangeError)
  assert.throws(() => ends[0].send(0, new Uint8Array(1)), RangeError)
  const max = net.node(1).maxPayload
  assert.is(new AodvDatagrams({ router: net.node(1), maxPayload: max }).maxPayload, max)
  assert.throws(() => new AodvDatagrams({ router: net.node(1), maxPayload: max + 1 }), /exceeds what one routed packet carries/)
  assert.throws(() => new AodvDatagrams({ router: net.node(1), maxPayload: 0 }), /positive integer/)
  assert.is(ends[0].address, 1)
})

test('an unreachable member is a lost datagram, not an exception', () => {
  const net = aodvNet(3, [[1, 2]])
  const a = new AodvDatagrams({ router: net.node(1), maxPayload: 100 })
  const unreachable: number[] = []
  net.node(1).on('unreachable', (u) => unreachable.push(u.dst))
  a.send(3, Uint8Array.of(1))
  net.scheduler.run({ until: 60_000 })
  assert.equal(unreachable, [3])
  assert.is(a.stats.sent, 1)
})

test.run()
