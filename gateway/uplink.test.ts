/** Sensor uplink: codec properties, sensors → gateway over AODV, and the receiver's gap/duplicate accounting. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { EventEmitter } from 'eventemitter3'
import { checkDecoderProperties } from '../core/testing.ts'
import { Proto } from '../adhoc/protocols.ts'
import type { UnicastRouter } from '../adhoc/routing.ts'
import { aodvNet, chain } from '../adhoc/aodv/aodv-fixtures.ts'
import { validateFeedSchema } from '../gossip/feeds/sample.ts'
import { UPLINK_HEADER_SIZE, UplinkReceiver, UplinkSender, decodeUplink, encodeUplink, type UplinkMessage } from './uplink.ts'

const climate = validateFeedSchema({ id: 7, name: 'climate', fields: [{ name: 'temperature', unit: 'degC' }, { name: 'humidity', unit: '%' }] })

const message: fc.Arbitrary<UplinkMessage> = fc.record({
  feed: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.nat({ max: 0xffffffff }),
  ts: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  values: fc.array(fc.float({ noNaN: true }), { maxLength: 63 }),
})

test('codec: the documented bytes, round trip, and a total decoder', () => {
  const b = encodeUplink({ feed: 7, seq: 258, ts: 1_700_000_000_000, values: [21.5, 40] })
  assert.is(b.length, UPLINK_HEADER_SIZE + 8 + 8)
  assert.equal([...b.subarray(0, 7)], [1, 0, 7, 0, 0, 1, 2])
  fc.assert(fc.property(message, (m) => {
    const d = decodeUplink(encodeUplink(m))
    assert.equal([d.feed, d.seq, d.ts, [...d.values]], [m.feed, m.seq, m.ts, [...m.values]])
  }), { numRuns: 500 })
  checkDecoderProperties({ decode: decodeUplink, valid: message, encode: (m) => encodeUplink(m), typeBytes: [1] })
  assert.throws(() => encodeUplink({ feed: 70_000, seq: 0, ts: 0, values: [] }), /u16/)
})

test('three sensors on a 4-node chain send to the gateway (node 1): every sample arrives, with its hops', () => {
  const net = aodvNet(4, chain(4))
  const rx = new UplinkReceiver(net.node(1), [climate])
  const got: Array<{ origin: number; seq: number; hops: number; values: number[] }> = []
  rx.on('sample', (s) => got.push({ origin: s.origin, seq: s.seq, hops: s.hops, values: [...s.values] }))
  const sensors = [2, 3, 4].map((id) => new UplinkSender({ router: net.node(id), gateway: 1 }))
  for (let k = 0; k < 5; k++) {
    sensors.forEach((s, i) => s.send(climate, 1_700_000_000_000 + k * 1000, [20 + i, 50 + k]))
    net.scheduler.run({ until: net.scheduler.now() + 1000 })
  }
  net.scheduler.run({ until: net.scheduler.now() + 5000 })
  assert.is(got.length, 15)
  for (const id of [2, 3, 4]) {
    const mine = got.filter((g) => g.origin === id)
    assert.equal(mine.map((g) => g.seq), [0, 1, 2, 3, 4])
    assert.ok(mine.every((g) => g.hops === id - 1), `node ${id} is ${id - 1} hops away`)
    assert.equal(mine[4].values, [20 + id - 2, 54])
  }
  assert.equal([rx.received, rx.gaps, rx.duplicates, rx.rejected], [15, 0, 0, 0])
  assert.throws(() => sensors[0].send(climate, 0, [1]), /2 fields, got 1 values/)
})

test('receiver accounting: gaps, late samples, duplicates, unknown feeds and garbage', () => {
  const router = new EventEmitter() as unknown as UnicastRouter
  const rx = new UplinkReceiver(router, [climate])
  const seqs: number[] = []
  const rejected: string[] = []
  rx.on('sample', (s) => seqs.push(s.seq))
  rx.on('rejected', (r) => rejected.push(r.reason))
  const routed = (payload: Uint8Array, proto: number = Proto.SAMPLE, origin = 9) => (router as unknown as EventEmitter).emit('routed', { origin, proto, payload, hops: 2, at: 0 })
  const sample = (seq: number, feed = 7, values = [1, 2]) => encodeUplink({ feed, seq, ts: 5, values })
  for (const s of [0, 1, 4, 2, 4, 1, 5]) routed(sample(s))
  assert.equal(seqs, [0, 1, 4, 2, 5], '4 jumps over 2 and 3; 2 arrives late; the second 4 and 1 are copies')
  assert.equal([rx.gaps, rx.duplicates], [1, 2], 'only 3 is still missing')
  routed(sample(0, 8))
  routed(sample(6, 7, [1]))
  routed(new Uint8Array([1, 2, 3]))
  routed(sample(6), Proto.DIAG)
  assert.equal(rejected, ['unknown feed id 8', 'feed climate has 2 fields, the sample 1 values', 'undecodable sample'])
  assert.is(rx.received, 5)
  assert.is(rx.restarts, 0)
  // A sensor that restarts numbers from 0 again, with newer timestamps: its samples are accepted.
  const atRestart = [rx.received, rx.duplicates]
  routed(encodeUplink({ feed: 7, seq: 0, ts: 100, values: [1, 2] }))
  routed(encodeUplink({ feed: 7, seq: 1, ts: 101, values: [1, 2] }))
  routed(encodeUplink({ feed: 7, seq: 0, ts: 100, values: [1, 2] })) // and a real copy is still one
  assert.equal([rx.received - atRestart[0], rx.duplicates - atRestart[1], rx.restarts], [2, 1, 1])
  // seq wraps around u32 without counting 4 billion gaps (another origin).
  const before = [rx.gaps, rx.received]
  routed(encodeUplink({ feed: 7, seq: 0xffffffff, ts: 0, values: [0, 0] }), Proto.SAMPLE, 10)
  routed(encodeUplink({ feed: 7, seq: 0, ts: 0, values: [0, 0] }), Proto.SAMPLE, 10)
  assert.equal([rx.gaps, rx.received], [before[0], before[1] + 2])
  rx.close()
})

test.run()
