/**
 * MAODV in an authenticated network (data-auth.ts, WIRE.md §11.1): signed multicast data, members
 * verify before delivering, relays that modify what they relay are caught, a forged copy arriving
 * first does not shut the genuine one out, certificates are fetched hop by hop without a roster.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr, type Addr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import { Proto } from '../protocols.ts'
import {
  AUTH_SIGNED, DATA_HEADER_SIZE, SIGNED_DATA_HEADER_SIZE, dataSignedBytes, decodeData, decodeSignedData, encodeData, type DataHeader,
} from './data-frame.ts'
import { chain, maodvNet, type MaodvNet } from './maodv-fixtures.ts'

const G = groupAddr(3)
const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const signed: fc.Arbitrary<DataHeader> = fc.record({
  origin: node, group, seq: u32, ttl: fc.integer({ min: 1, max: 255 }), hops: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 40 }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
})

test('signed data layout: round trip, 79-byte header, total decoder', () => {
  fc.assert(fc.property(signed, (h) => {
    const b = encodeData(h)
    assert.is(b.length, SIGNED_DATA_HEADER_SIZE + h.payload.length)
    assert.is(b[DATA_HEADER_SIZE], AUTH_SIGNED)
    assert.equal(decodeSignedData(b), { ...h, auth: AUTH_SIGNED })
    // The open layout of the same packet is 65 bytes shorter and has no signature.
    const open = encodeData({ ...h, signature: undefined })
    assert.is(open.length, b.length - 65)
    const { signature: _sig, ...plain } = h
    assert.equal(decodeData(open), plain)
  }), { numRuns: 300 })
  checkDecoderProperties({ decode: decodeSignedData, valid: signed.map((h) => ({ ...h, auth: AUTH_SIGNED as 1 })), encode: encodeData, open: () => true })
  const b = encodeData({ origin: 1, group: G, seq: 5, ttl: 3, hops: 0, payload: Uint8Array.of(9), signature: new Uint8Array(64) })
  for (const kind of [0, 4, 255]) {
    const x = b.slice()
    x[DATA_HEADER_SIZE] = kind
    assert.instance(decodeOrError(decodeSignedData, x), DecodeError, `auth kind ${kind}`)
  }
  assert.instance(decodeOrError(decodeSignedData, b.subarray(0, SIGNED_DATA_HEADER_SIZE - 1)), DecodeError, 'a cut signature')
  assert.throws(() => encodeData({ origin: 1, group: G, seq: 5, ttl: 3, hops: 0, payload: new Uint8Array(0), signature: new Uint8Array(63) }), /64 bytes/)
})

test('the signed bytes cover origin, group, seq and payload, not ttl or hops', () => {
  const base = dataSignedBytes(1, G, 7, Uint8Array.of(1, 2))
  assert.not.equal(dataSignedBytes(2, G, 7, Uint8Array.of(1, 2)), base)
  assert.not.equal(dataSignedBytes(1, G + 1, 7, Uint8Array.of(1, 2)), base)
  assert.not.equal(dataSignedBytes(1, G, 8, Uint8Array.of(1, 2)), base)
  assert.not.equal(dataSignedBytes(1, G, 7, Uint8Array.of(1, 3)), base)
})

/** A secured chain with `members` joined and a tree formed. */
function secured(n: number, members: number[], o: { roster?: boolean; filter?: (id: number) => ((p: { payload: Uint8Array }) => boolean) | undefined } = {}): MaodvNet {
  const t = maodvNet(n, chain(n), { seed: 5, security: o.roster === false ? { roster: false } : {}, filter: o.filter })
  for (const id of members) t.node(id).join(G)
  t.run(20_000)
  return t
}

function sendSome(t: MaodvNet, from: number, count: number): void {
  for (let k = 0; k < count; k++) t.scheduler.at(k * 100, () => t.node(from).send(G, Uint8Array.of(0xaa, k)))
  t.run(5000)
}

const got = (t: MaodvNet, id: number): number[] => t.got[id - 1].filter((d) => d.payload[0] === 0xaa).map((d) => d.payload[1])
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

test('a secured chain: signed data reaches every member; members verify once per packet, relays never', () => {
  const t = secured(6, [1, 3, 6])
  assert.is(t.node(1).maxPayload, t.links[0].port(Proto.MULTICAST_DATA).maxDatagram - SIGNED_DATA_HEADER_SIZE)
  const signedEvents: number[] = []
  t.node(1).on('signed', (e) => signedEvents.push(e.seq))
  sendSome(t, 1, 10)
  assert.equal(got(t, 3), range(10))
  assert.equal(got(t, 6), range(10))
  assert.is(signedEvents.length, 10)
  const c = (id: number, name: string): number => t.metrics.value('maodv', id, name) ?? 0
  assert.is(c(1, 'dataSigned'), 10)
  assert.is(c(3, 'dataVerified'), 10)
  assert.is(c(6, 'dataVerified'), 10)
  for (const relay of [2, 4, 5]) assert.is(c(relay, 'dataVerified'), 0, `relay ${relay} does not verify`)
  assert.is(t.total('dataBadSignature'), 0)
  // Deliveries carry the proof for the layer above.
  const d = t.got[5].find((x) => x.payload[0] === 0xaa) as { auth?: { seq: number; signature: Uint8Array } }
  assert.is(d.auth?.signature.length, 64)
})

test('a relay that modifies relayed data: members below it count dataBadSignature and deliver nothing', () => {
  // Node 2 (a relay, not a member) flips a payload byte of everything it forwards: the forward
  // filter's payload is a view of the bytes it forwards.
  const t = secured(4, [1, 4], { filter: (id) => (id === 2 ? (p) => ((p.payload[1] ^= 0x40), true) : undefined) })
  sendSome(t, 1, 10)
  assert.equal(got(t, 4), [])
  assert.is(t.metrics.value('maodv', 4, 'dataBadSignature'), 10)
  assert.is(t.metrics.value('maodv', 4, 'dataDelivered'), 0)
  assert.is(t.metrics.value('maodv', 3, 'dataForwarded'), 10, 'relay 3 forwards without verifying')
})

test('without security a modifying relay goes unnoticed (the attack the signatures stop)', () => {
  const t = maodvNet(4, chain(4), { seed: 5, filter: (id) => (id === 2 ? (p) => ((p.payload[1] ^= 0x40), true) : undefined) })
  for (const id of [1, 4]) t.node(id).join(G)
  t.run(20_000)
  sendSome(t, 1, 3)
  assert.equal(got(t, 4), [0x40, 0x41, 0x42])
})

test('a forged copy arriving first does not shut out the genuine packet', () => {
  const t = secured(3, [1, 3])
  const seqs: number[] = []
  t.node(1).on('signed', (e) => seqs.push(e.seq))
  sendSome(t, 1, 1)
  assert.equal(got(t, 3), [0])
  const next = (seqs[0] + 1) >>> 0
  // Node 2 (admitted, on the tree) injects a packet claiming to be node 1's next one.
  const forged = encodeData({ origin: 1, group: G, seq: next, ttl: 30, hops: 1, payload: Uint8Array.of(0xaa, 99), signature: new Uint8Array(64).fill(7) })
  t.links[1].port(Proto.MULTICAST_DATA).send(3 as Addr, forged)
  t.run(100)
  assert.is(t.metrics.value('maodv', 3, 'dataBadSignature'), 1)
  t.node(1).send(G, Uint8Array.of(0xaa, 1))
  t.run(1000)
  assert.is(seqs[1], next)
  assert.equal(got(t, 3), [0, 1], 'the genuine packet with the same (origin, seq) is delivered')
  assert.is(t.metrics.value('maodv', 3, 'dataVerified'), 2)
  // And a replay of the genuine one later is a duplicate, not verified again.
  assert.is(t.metrics.value('maodv', 3, 'dataDuplicates'), 0)
})

test('roster: false — relays and members fetch the origin certificate hop by hop, data is delivered', () => {
  const t = secured(5, [1, 5], { roster: false })
  sendSome(t, 1, 10)
  assert.equal(got(t, 5), range(10))
  // Certificates are fetched hop by hop: during the join (signed control, control-signing.ts) or,
  // for an origin not heard yet, by the data (dataCertWaits).
  assert.ok(t.metrics.total('sec', 'certFetches') >= 1)
  assert.is(t.total('dataBadSignature'), 0)
})

test.run()
