/**
 * MAODV batch mode (WIRE.md §11.2; batch-frame.ts, batch-origin.ts, batch.ts): unsigned packets
 * (auth 2) plus a signed DIGEST every k packets; members deliver a packet only once a verified
 * DIGEST lists its hash, a modified packet is refused, one lost DIGEST is covered by the next, and
 * a packet whose DIGEST never comes is dropped after `batchHoldMs`, never delivered.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, configError, decodeOrError } from '../../core/testing.ts'
import { Proto } from '../protocols.ts'
import { DIGEST_ENTRY_SIZE, decodeDigestBody, digestBodySize, digestSignedBytes, encodeDigestBody, packetHash, type DigestEntry } from './batch-frame.ts'
import { batchSize } from './batch-origin.ts'
import type { MulticastDelivery } from './context.ts'
import {
  AUTH_BATCHED, AUTH_DIGEST, BATCHED_DATA_HEADER_SIZE, DATA_HEADER_SIZE, SIGNED_DATA_HEADER_SIZE, dataSignedBytes, decodeSignedData, encodeData, type DataHeader,
} from './data-frame.ts'
import { validateMaodvConfig } from './maodv-defaults.ts'
import { chain, maodvNet, type MaodvNet, type NetOptions } from './maodv-fixtures.ts'

const G = groupAddr(3)
const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const entries: fc.Arbitrary<DigestEntry[]> = fc.uniqueArray(fc.record({ seq: u32, hash: fc.uint8Array({ minLength: 16, maxLength: 16 }) }), { minLength: 1, maxLength: 40, selector: (e) => e.seq })
  .map((es) => es.map((e) => ({ seq: e.seq, hash: e.hash })))
const fixed = { origin: node, group, seq: u32, ttl: fc.integer({ min: 1, max: 255 }), hops: fc.integer({ min: 0, max: 255 }) }
const batched: fc.Arbitrary<DataHeader> = fc.record({ ...fixed, payload: fc.uint8Array({ maxLength: 40 }) }).map((h) => ({ ...h, auth: AUTH_BATCHED }))
const digest: fc.Arbitrary<DataHeader> = fc.record({ ...fixed, payload: entries.map(encodeDigestBody), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) })
  .map((h) => ({ ...h, auth: AUTH_DIGEST }))

test('DIGEST body: 1 + 20 per entry, round trip, total decoder; empty, duplicate and bad hashes refused', () => {
  fc.assert(fc.property(entries, (e) => {
    const b = encodeDigestBody(e)
    assert.is(b.length, digestBodySize(e.length))
    assert.is(b.length, 1 + DIGEST_ENTRY_SIZE * e.length)
    assert.equal(decodeDigestBody(b), e)
  }), { numRuns: 300 })
  checkDecoderProperties({ decode: decodeDigestBody, valid: entries, encode: encodeDigestBody })
  assert.instance(decodeOrError(decodeDigestBody, Uint8Array.of(0)), DecodeError, 'no entry')
  const two = encodeDigestBody([{ seq: 5, hash: new Uint8Array(16) }, { seq: 6, hash: new Uint8Array(16) }])
  two[1 + DIGEST_ENTRY_SIZE + 3] = 5
  assert.match((decodeOrError(decodeDigestBody, two) as DecodeError).message, /listed twice/)
  assert.throws(() => encodeDigestBody([]), /1\.\.255/)
  assert.throws(() => encodeDigestBody([{ seq: 1, hash: new Uint8Array(16) }, { seq: 1, hash: new Uint8Array(16) }]), /twice/)
  assert.throws(() => encodeDigestBody([{ seq: 1, hash: new Uint8Array(15) }]), /16 bytes/)
})

test('batched (15-byte header) and DIGEST (79 + body) layouts: round trip, total decoder', () => {
  fc.assert(fc.property(batched, digest, (b, d) => {
    const eb = encodeData(b)
    assert.is(eb.length, BATCHED_DATA_HEADER_SIZE + b.payload.length)
    assert.is(eb[DATA_HEADER_SIZE], AUTH_BATCHED)
    assert.equal(decodeSignedData(eb), b)
    const ed = encodeData(d)
    assert.is(ed.length, SIGNED_DATA_HEADER_SIZE + d.payload.length)
    assert.is(ed[DATA_HEADER_SIZE], AUTH_DIGEST)
    assert.equal(decodeSignedData(ed), d)
  }), { numRuns: 300 })
  checkDecoderProperties({ decode: decodeSignedData, valid: fc.oneof(batched, digest), encode: encodeData, open: () => true })
  assert.throws(() => encodeData({ origin: 1, group: G, seq: 1, ttl: 1, hops: 0, payload: new Uint8Array(0), auth: AUTH_BATCHED, signature: new Uint8Array(64) }), /no signature/)
  assert.throws(() => encodeData({ origin: 1, group: G, seq: 1, ttl: 1, hops: 0, payload: new Uint8Array(0), auth: AUTH_DIGEST }), /64 bytes/)
})

test('hashes cover what a per-packet signature covers; DIGEST signatures are domain-separated', () => {
  const h = packetHash(1, G, 7, Uint8Array.of(1, 2))
  assert.is(h.length, 16)
  for (const other of [packetHash(2, G, 7, Uint8Array.of(1, 2)), packetHash(1, G + 1, 7, Uint8Array.of(1, 2)), packetHash(1, G, 8, Uint8Array.of(1, 2)), packetHash(1, G, 7, Uint8Array.of(1, 3))]) {
    assert.not.equal(other, h)
  }
  assert.not.equal(digestSignedBytes(1, G, 7, Uint8Array.of(1, 2)), dataSignedBytes(1, G, 7, Uint8Array.of(1, 2)))
})

test('config: signEvery, batchMaxDelayMs, batchHoldMs validated; the batch size fits a DIGEST in a datagram', () => {
  const c = validateMaodvConfig()
  assert.equal([c.signEvery, c.batchMaxDelayMs, c.batchHoldMs, c.batchMaxHeld], [1, 500, 2000, 256])
  assert.is(configError(() => validateMaodvConfig({ signEvery: 0 })).path, 'maodv.signEvery')
  assert.is(configError(() => validateMaodvConfig({ signEvery: 1.5 })).path, 'maodv.signEvery')
  assert.is(configError(() => validateMaodvConfig({ batchMaxDelayMs: 0 })).path, 'maodv.batchMaxDelayMs')
  const e = configError(() => validateMaodvConfig({ batchMaxDelayMs: 900, batchHoldMs: 800 }))
  assert.is(e.path, 'maodv.batchHoldMs')
  assert.match(e.message, /batchMaxDelayMs/)
  assert.is(batchSize(1, 1500), 1)
  assert.is(batchSize(8, 1500), 8)
  // 200-byte datagrams: (200 − 80) / 20 = 6 entries, so batches of 3 at most.
  assert.is(batchSize(8, 200), 3)
  assert.is(batchSize(8, 100), 1, 'no room for two entries twice: per-packet signatures')
})

type Filter = NetOptions['filter']

/** A secured network in batch mode (k = 4) with `members` joined. */
function batchNet(n: number, pairs: Array<[number, number]>, members: number[], filter?: Filter, config = {}): MaodvNet {
  const t = maodvNet(n, pairs, { seed: 5, security: {}, filter, config: { signEvery: 4, ...config } })
  for (const id of members) t.node(id).join(G)
  t.run(20_000)
  return t
}

function sendSome(t: MaodvNet, from: number, count: number, gapMs = 100): void {
  for (let k = 0; k < count; k++) t.scheduler.at(k * gapMs, () => t.node(from).send(G, Uint8Array.of(0xaa, k)))
  t.run(10_000)
}

/** What member `id` delivered, sorted (a DIGEST overtaking packets of its batch delivers them out of order). */
const got = (t: MaodvNet, id: number): number[] => t.got[id - 1].filter((d) => d.payload[0] === 0xaa).map((d) => d.payload[1]).sort((a, b) => a - b)
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
const c = (t: MaodvNet, id: number, name: string): number => t.metrics.value('maodv', id, name) ?? 0

/** Every delivery at the members is checked, as it happens, against a DIGEST their MAODV verified. */
function checkProofs(t: MaodvNet, members: number[]): { unproved: number } {
  const out = { unproved: 0 }
  for (const id of members) {
    t.node(id).on('deliver', (d) => {
      const auth = (d as MulticastDelivery).auth
      const known = auth?.digest && t.node(id).batch?.lookup(G, d.origin, auth.seq)
      if (!known || known.digest !== auth.digest || auth.signature !== undefined) out.unproved++
    })
  }
  return out
}

const TREE: Array<[number, number]> = [[1, 2], [2, 3], [2, 4], [3, 5], [3, 6], [4, 7]]

test('batch mode on a chain and a tree: every member delivers every packet once, each after its DIGEST verified', () => {
  const t = batchNet(6, chain(6), [1, 3, 6])
  const proofs = checkProofs(t, [3, 6])
  const signedEvents: Array<{ seq: number; digest?: unknown }> = []
  t.node(1).on('signed', (e) => signedEvents.push(e))
  sendSome(t, 1, 10)
  assert.equal(got(t, 3), range(10))
  assert.equal(got(t, 6), range(10))
  assert.is(proofs.unproved, 0)
  assert.is(c(t, 1, 'dataBatched'), 10)
  assert.is(c(t, 1, 'dataSigned'), 0, 'no per-packet signature')
  // Batches of 4, 4 and 2 (the last after batchMaxDelayMs), then one tail DIGEST.
  assert.is(c(t, 1, 'digestsSent'), 4)
  assert.is(signedEvents.length, 10)
  assert.ok(signedEvents.every((e) => e.digest !== undefined))
  for (const id of [3, 6]) {
    assert.is(c(t, id, 'dataVerified'), 10)
    assert.is(c(t, id, 'digestsVerified'), 4)
    assert.is(c(t, id, 'dataUnauthenticatedExpired'), 0)
  }
  for (const relay of [2, 4, 5]) assert.is(c(t, relay, 'digestsVerified'), 0, `relay ${relay} verifies nothing`)
  assert.is(t.total('dataBadSignature'), 0)

  const tree = batchNet(7, TREE, [5, 6, 7])
  const treeProofs = checkProofs(tree, [5, 6, 7])
  sendSome(tree, 1, 13, 37)
  for (const id of [5, 6, 7]) assert.equal(got(tree, id), range(13), `member ${id}`)
  assert.is(treeProofs.unproved, 0)
  assert.is(tree.total('dataBadSignature'), 0)
})

test('a relay that modifies unsigned packets: refused at the members (dataBadSignature), never delivered', () => {
  const t = batchNet(4, chain(4), [1, 4], (id) => (id === 2 ? (p) => (p.digest || (p.payload[1] ^= 0x40), true) : undefined))
  sendSome(t, 1, 8)
  assert.equal(got(t, 4), [])
  assert.is(c(t, 4, 'dataBadSignature'), 8)
  assert.is(c(t, 4, 'dataDelivered'), 0)
  assert.is(c(t, 4, 'digestsVerified'), 3, 'the DIGESTs themselves are genuine')
})

test('one lost DIGEST is covered by the next one (it lists the previous batch again)', () => {
  let digests = 0
  const t = batchNet(4, chain(4), [1, 4], (id) => (id === 2 ? (p) => !(p.digest && digests++ === 0) : undefined))
  sendSome(t, 1, 8)
  assert.equal(got(t, 4), range(8))
  assert.is(c(t, 4, 'dataUnauthenticatedExpired'), 0)
  assert.is(c(t, 4, 'dataBadSignature'), 0)
  assert.is(c(t, 4, 'digestsVerified'), 2, 'the second and the tail DIGEST')
})

test('the last batch of a burst: its lost DIGEST is covered by the tail DIGEST', () => {
  let digests = 0
  const t = batchNet(4, chain(4), [1, 4], (id) => (id === 2 ? (p) => !(p.digest && digests++ === 1) : undefined))
  sendSome(t, 1, 8)
  assert.equal(got(t, 4), range(8))
  assert.is(c(t, 4, 'dataUnauthenticatedExpired'), 0)
})

test('a packet whose DIGEST never comes is dropped after batchHoldMs, counted, never delivered', () => {
  const t = batchNet(4, chain(4), [1, 4], (id) => (id === 2 ? (p) => !p.digest : undefined))
  sendSome(t, 1, 6)
  assert.equal(got(t, 4), [])
  assert.is(c(t, 4, 'dataHeld'), 6)
  assert.is(c(t, 4, 'dataUnauthenticatedExpired'), 6)
  assert.is(c(t, 4, 'dataDelivered'), 0)
})

test('batchMaxHeld bounds what a member holds (oldest dropped, counted)', () => {
  const t = batchNet(4, chain(4), [1, 4], (id) => (id === 2 ? (p) => !p.digest : undefined), { batchMaxHeld: 2 })
  sendSome(t, 1, 5)
  assert.is(c(t, 4, 'dataHeld'), 5)
  assert.is(c(t, 4, 'dataUnauthenticatedExpired'), 5)
  assert.equal(got(t, 4), [])
})

test('a forged batched copy arriving first does not shut the genuine packet out', () => {
  const t = batchNet(3, chain(3), [1, 3])
  const seqs: number[] = []
  t.node(1).on('signed', (e) => seqs.push(e.seq))
  sendSome(t, 1, 1)
  assert.equal(got(t, 3), [0])
  // Node 1's next data packet takes seq last + 2 (a DIGEST took the one after the first packet).
  const next = (seqs[0] + 3) >>> 0
  const forged = encodeData({ origin: 1, group: G, seq: next, ttl: 30, hops: 1, payload: Uint8Array.of(0xaa, 99), auth: AUTH_BATCHED })
  t.links[1].port(Proto.MULTICAST_DATA).send(3, forged)
  t.run(100)
  assert.is(c(t, 3, 'dataHeld'), 2)
  t.node(1).send(G, Uint8Array.of(0xaa, 1))
  t.run(3000)
  assert.is(seqs[1], next)
  assert.equal(got(t, 3), [0, 1], 'the genuine copy is delivered, the forged one refused')
  assert.is(c(t, 3, 'dataBadSignature'), 1)
})

test.run()
