/**
 * MAODV's multi-hop control messages in an authenticated network (control-signing.ts, WIRE.md
 * §10.6): the signed layouts, what the signatures cover, a secured tree forming, insiders that
 * alter relayed RREQs, RREPs and GRPHs caught at the next hop, the network-wide mode, and
 * certificates fetched hop by hop without a roster.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST, groupAddr, type Addr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import { Proto } from '../protocols.ts'
import { grphSignedBytes, rrepSignedBytes, rreqSignedBytes } from './control-signing.ts'
import { chain, checkTree, maodvNet, type MaodvNet } from './maodv-fixtures.ts'
import {
  GRPH_SIZE, GRPH_S_SIZE, MsgType, RREP_SIZE, RREP_S_SIZE, RREQ_SIZE, RREQ_S_SIZE, SignedType,
  decodeMaodv, encodeGrph, encodeRrep, encodeRreq, type Grph, type MaodvMessage, type Rrep, type Rreq,
} from './maodv-messages.ts'

const G = groupAddr(3)
const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u8 = fc.integer({ min: 0, max: 255 })
const sig = fc.uint8Array({ minLength: 64, maxLength: 64 })

const rreq = fc.record({
  join: fc.constant(true), merge: fc.boolean(), seqKnown: fc.boolean(), ttl: fc.integer({ min: 1, max: 255 }), hops: u8, maxHopsToLeader: u8,
  rreqId: u32, group, origin: node, groupSeq: u32, leader: node, signature: sig,
}).map((m) => ({ type: MsgType.RREQ, ...m }) as const)
const rrep = fc.record({ merge: fc.boolean(), hops: u8, hopsToLeader: u8, group, groupSeq: u32, leader: node, origin: node, rreqId: u32, replier: node, signature: sig })
  .map((m) => ({ type: MsgType.RREP, ...m }) as const)
const grph = fc.record({ ttl: fc.integer({ min: 1, max: 255 }), hops: u8, group, leader: node, groupSeq: u32, signature: sig })
  .map((m) => ({ type: MsgType.GRPH, ...m }) as const)
const signed: fc.Arbitrary<Rreq | Rrep | Grph> = fc.oneof(rreq, rrep, grph)

function encode(m: MaodvMessage): Uint8Array {
  switch (m.type) {
    case MsgType.RREQ: return encodeRreq(m)
    case MsgType.RREP: return encodeRrep(m)
    case MsgType.GRPH: return encodeGrph(m)
    default: throw new Error('not a signed message')
  }
}

const SIZES = { [MsgType.RREQ]: [RREQ_S_SIZE, RREQ_SIZE, SignedType.RREQ], [MsgType.RREP]: [RREP_S_SIZE, RREP_SIZE, SignedType.RREP], [MsgType.GRPH]: [GRPH_S_SIZE, GRPH_SIZE, SignedType.GRPH] }

test('signed layouts: round trip, types 9/10/11, the plain layout followed by 64 bytes, total decoder', () => {
  assert.equal([RREQ_S_SIZE, RREP_S_SIZE, GRPH_S_SIZE], [89, 92, 80])
  fc.assert(fc.property(signed, (m) => {
    const b = encode(m)
    const [size, plainSize, type] = SIZES[m.type]
    assert.is(b.length, size)
    assert.is(b[0], type)
    assert.equal(decodeMaodv(b), m)
    const { signature, ...plain } = m
    const open = encode(plain)
    assert.is(open.length, plainSize)
    assert.equal([...b.subarray(1, plainSize)], [...open.subarray(1)], 'the fields are laid out as in the plain layout')
    assert.equal([...b.subarray(plainSize)], [...signature!])
    assert.equal(decodeMaodv(open), plain, 'the plain layout decodes without a signature')
  }), { numRuns: 1000 })
  checkDecoderProperties({ decode: decodeMaodv, valid: signed, encode, typeBytes: [9, 10, 11], numRuns: 3000 })
})

test('signed layouts: a cut signature, a plain message with a signed type byte, a 63-byte signature are refused', () => {
  const m = { join: true, merge: false, seqKnown: true, ttl: 3, hops: 0, maxHopsToLeader: 255, rreqId: 7, group: G, origin: 5, groupSeq: 9, leader: 0 }
  const b = encodeRreq({ ...m, signature: new Uint8Array(64) })
  const err = (x: Uint8Array): string => (decodeOrError(decodeMaodv, x) as DecodeError).message
  assert.match(err(b.subarray(0, b.length - 1)), /RREQ-S must be exactly 89 bytes/)
  assert.match(err(Uint8Array.of(SignedType.RREQ, ...encodeRreq(m).subarray(1))), /exactly 89 bytes/)
  assert.match(err(Uint8Array.of(SignedType.GRPH, ...encodeGrph({ ttl: 1, hops: 0, group: G, leader: 1, groupSeq: 0 }).subarray(1))), /GRPH-S must be exactly 80/)
  assert.instance(decodeOrError(decodeMaodv, Uint8Array.of(12, ...b.subarray(1))), DecodeError)
  assert.throws(() => encodeRreq({ ...m, signature: new Uint8Array(63) }), /64 bytes, got 63/)
  assert.throws(() => encodeRrep({ merge: false, hops: 0, hopsToLeader: 0, group: G, groupSeq: 0, leader: 1, origin: 2, rreqId: 0, replier: 1, signature: new Uint8Array(65) }), /64 bytes/)
})

test('the signed bytes: domain-separated, cover every field except those relays rewrite', () => {
  const q = { join: true, merge: false, seqKnown: true, ttl: 9, hops: 2, maxHopsToLeader: 255, rreqId: 7, group: G, origin: 5, groupSeq: 9, leader: 0 }
  const qb = rreqSignedBytes(q)
  assert.equal(new TextDecoder().decode(qb.subarray(0, 22)), 'spinmesh/maodv/rreq/v1')
  assert.is(qb.length, 22 + RREQ_SIZE)
  assert.is(qb[22], SignedType.RREQ)
  assert.equal(rreqSignedBytes({ ...q, ttl: 1, hops: 200 }), qb, 'ttl and hops are not signed')
  assert.equal(rreqSignedBytes({ ...q, signature: new Uint8Array(64).fill(1) }), qb)
  for (const change of [{ maxHopsToLeader: 3 }, { rreqId: 8 }, { origin: 6 }, { groupSeq: 10 }, { leader: 4 }, { seqKnown: false }, { merge: true, leader: 4 }, { group: G + 1 }]) {
    assert.not.equal(rreqSignedBytes({ ...q, ...change }), qb, JSON.stringify(change))
  }
  const p = { merge: false, hops: 3, hopsToLeader: 2, group: G, groupSeq: 4, leader: 1, origin: 5, rreqId: 7, replier: 2 }
  const pb = rrepSignedBytes(p)
  assert.equal(new TextDecoder().decode(pb.subarray(0, 22)), 'spinmesh/maodv/rrep/v1')
  assert.equal(rrepSignedBytes({ ...p, hops: 0 }), pb, 'hops is not signed')
  for (const change of [{ merge: true }, { hopsToLeader: 1 }, { groupSeq: 5 }, { leader: 3 }, { origin: 6 }, { rreqId: 8 }, { replier: 3 }]) {
    assert.not.equal(rrepSignedBytes({ ...p, ...change }), pb, JSON.stringify(change))
  }
  const h = { ttl: 35, hops: 4, group: G, leader: 1, groupSeq: 9 }
  const hb = grphSignedBytes(h)
  assert.equal(new TextDecoder().decode(hb.subarray(0, 22)), 'spinmesh/maodv/grph/v1')
  assert.equal(grphSignedBytes({ ...h, ttl: 1, hops: 0 }), hb, 'ttl and hops are not signed')
  for (const change of [{ leader: 2 }, { groupSeq: 10 }, { group: G + 1 }]) assert.not.equal(grphSignedBytes({ ...h, ...change }), hb)
  // A RREQ's signature is never good for another message kind.
  assert.not.equal(rreqSignedBytes(q).subarray(22), rrepSignedBytes(p).subarray(22))
})

// ---- secured networks ---------------------------------------------------------------------------

const v = (t: MaodvNet, id: number, name: string): number => t.metrics.value('maodv', id, name) ?? 0

function secured(n: number, o: { roster?: boolean } = {}): MaodvNet {
  return maodvNet(n, chain(n), { seed: 5, security: o.roster === false ? { roster: false } : {} })
}

/** Every MAODV control message node `id` receives, decoded. */
function tap(t: MaodvNet, id: number, fn: (from: Addr, m: MaodvMessage) => void): void {
  t.links[id - 1].port(Proto.MAODV).on('receive', (rx) => {
    const m = decodeOrError(decodeMaodv, rx.payload)
    if (!(m instanceof DecodeError)) fn(rx.from, m)
  })
}

function sendSome(t: MaodvNet, from: number, count: number): void {
  for (let k = 0; k < count; k++) t.scheduler.at(k * 100, () => t.node(from).send(G, Uint8Array.of(0xaa, k)))
  t.run(5000)
}
const got = (t: MaodvNet, id: number): number[] => t.got[id - 1].filter((d) => d.payload[0] === 0xaa).map((d) => d.payload[1])
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

test('a secured tree forms: every RREQ, RREP and GRPH on the air is signed, verified at each hop; data flows', () => {
  const t = secured(6)
  const kinds = new Map<string, number>()
  for (let id = 1; id <= 6; id++) {
    t.links[id - 1].port(Proto.MAODV).on('receive', (rx) => {
      const k = String(rx.payload[0])
      kinds.set(k, (kinds.get(k) ?? 0) + 1)
    })
  }
  for (const id of [1, 3, 6]) t.node(id).join(G)
  t.run(20_000)
  const tree = checkTree(t.nodes, G, [1, 3, 6])
  assert.type(tree, 'object', String(tree))
  for (const plain of [MsgType.RREQ, MsgType.RREP, MsgType.GRPH]) assert.is(kinds.get(String(plain)), undefined, `no plain type ${plain}`)
  for (const s of [SignedType.RREQ, SignedType.GRPH]) assert.ok((kinds.get(String(s)) ?? 0) > 0, `type ${s} seen`)
  assert.ok(t.total('controlSigned') > 0)
  assert.ok(t.total('controlVerified') >= t.total('controlSigned'), 'each signed message is verified at least once')
  for (const bad of ['rreqBadSignature', 'rrepBadSignature', 'grphBadSignature', 'controlWrongMode']) assert.is(t.total(bad), 0, bad)
  // The leader signs every GRPH it sends; no relay signs what it relays.
  const leader = (tree as { leaders: Addr[] }).leaders[0]
  for (let id = 1; id <= 6; id++) if (id !== leader && ![1, 3, 6].includes(id)) assert.is(v(t, id, 'controlSigned'), 0, `relay ${id} signs nothing`)
  assert.ok(v(t, leader, 'controlSigned') >= v(t, leader, 'grph') - 1)
  sendSome(t, 1, 5)
  assert.equal(got(t, 3), range(5))
  assert.equal(got(t, 6), range(5))
})

test('an open network registers none of the control security counters', () => {
  const t = maodvNet(3, chain(3), { seed: 5 })
  t.node(1).join(G)
  t.node(3).join(G)
  t.run(10_000)
  const names = Object.keys(t.metrics.totals().maodv)
  for (const name of ['controlSigned', 'controlVerified', 'controlVerifyPending', 'controlWrongMode', 'rreqBadSignature', 'rrepBadSignature', 'grphBadSignature']) {
    assert.not.ok(names.includes(name), name)
  }
  assert.ok(names.includes('grph'))
})

test('an insider that alters a relayed RREQ: dropped at the next hop, the genuine copy still answered', () => {
  // Tree 1-2-3; node 5 joins through 4 (an admitted insider) to 3.
  const t = secured(5)
  t.node(1).join(G)
  t.node(3).join(G)
  t.run(20_000)
  let altered = 0
  tap(t, 4, (from, m) => {
    if (from !== 5 || m.type !== MsgType.RREQ) return
    // The insider sends the tree node an altered copy first (claiming node 5 is close to the
    // leader, and a far newer sequence number), then relays as usual.
    altered++
    t.links[3].port(Proto.MAODV).send(3 as Addr, encodeRreq({ ...m, hops: m.hops + 1, ttl: m.ttl - 1, maxHopsToLeader: 0, groupSeq: (m.groupSeq + 1000) >>> 0 }))
  })
  const rrepsBefore = v(t, 3, 'rrep')
  t.node(5).join(G)
  t.run(20_000)
  assert.ok(altered >= 1)
  assert.ok(v(t, 3, 'rreqBadSignature') >= 1, 'node 3 refused the altered RREQ')
  assert.ok(v(t, 3, 'rrep') > rrepsBefore, 'and answered the genuine one with the same (origin, rreqId)')
  const tree = checkTree(t.nodes, G, [1, 3, 5])
  assert.type(tree, 'object', String(tree))
})

test('an insider that alters a relayed RREP: dropped at the next hop, the joiner attaches through the genuine one', () => {
  const t = secured(5)
  t.node(1).join(G)
  t.node(3).join(G)
  t.run(20_000)
  let altered = 0
  tap(t, 4, (from, m) => {
    if (from !== 3 || m.type !== MsgType.RREP) return
    altered++
    // Claim the replier is the leader itself, with a newer sequence number.
    t.links[3].port(Proto.MAODV).send(5 as Addr, encodeRrep({ ...m, hops: m.hops + 1, hopsToLeader: 0, groupSeq: (m.groupSeq + 1000) >>> 0 }))
  })
  t.node(5).join(G)
  t.run(20_000)
  assert.ok(altered >= 1)
  assert.ok(v(t, 5, 'rrepBadSignature') >= 1, 'node 5 refused the altered RREP')
  const tree = checkTree(t.nodes, G, [1, 3, 5])
  assert.type(tree, 'object', String(tree))
  const leader = (tree as { leaders: Addr[] }).leaders[0]
  assert.is(t.node(5).tree(G)?.hopsToLeader, 5 - leader, 'the true distance, not the claimed one')
  // A RREP naming a replier that did not sign it (a forged reply "from" node 1).
  t.links[3].port(Proto.MAODV).send(5 as Addr, encodeRrep({ merge: false, hops: 0, hopsToLeader: 0, group: G, groupSeq: 1, leader: 1, origin: 5, rreqId: 1, replier: 1, signature: new Uint8Array(64).fill(9) }))
  t.run(100)
  assert.ok(v(t, 5, 'rrepBadSignature') >= 2)
})

test('an insider that alters a relayed GRPH: dropped; a forged high sequence number does not shut out the leader', () => {
  const t = secured(5)
  for (const id of [1, 5]) t.node(id).join(G)
  t.run(20_000)
  const tree = checkTree(t.nodes, G, [1, 5])
  assert.type(tree, 'object', String(tree))
  const leader = (tree as { leaders: Addr[] }).leaders[0]
  const [insider, victim] = leader === 1 ? [2, 3] : [4, 3]
  let grph: Grph | undefined
  tap(t, insider, (_from, m) => {
    if (m.type === MsgType.GRPH && m.leader === leader) grph = m
  })
  t.run(6000)
  assert.ok(grph !== undefined)
  const relayedBefore = v(t, victim, 'grph')
  // A far newer sequence number (would suppress the leader's next 1000 GRPHs), and another leader.
  const port = t.links[insider - 1].port(Proto.MAODV)
  port.send(BROADCAST, encodeGrph({ ...grph!, hops: grph!.hops + 1, groupSeq: (grph!.groupSeq + 1000) >>> 0 }))
  port.send(BROADCAST, encodeGrph({ ...grph!, hops: grph!.hops + 1, leader: victim === 3 ? 4 : 2, groupSeq: (grph!.groupSeq + 1) >>> 0 }))
  t.run(100)
  assert.is(v(t, victim, 'grphBadSignature'), 2)
  assert.is(v(t, victim, 'grph'), relayedBefore, 'nothing relayed')
  t.run(12_000)
  assert.ok(v(t, victim, 'grph') >= relayedBefore + 2, 'the leader\'s next GRPHs are accepted and relayed')
  assert.type(checkTree(t.nodes, G, [1, 5]), 'object')
  assert.is(t.total('merges'), 0, 'no merge towards the invented leader')
})

test('network-wide mode: a secured node refuses unsigned RREQ/RREP/GRPH, an open node signed ones', () => {
  const t = secured(3)
  t.node(1).join(G)
  t.run(10_000)
  const port = t.links[1].port(Proto.MAODV)
  port.send(3 as Addr, encodeGrph({ ttl: 5, hops: 0, group: G, leader: 2, groupSeq: 77 }))
  port.send(3 as Addr, encodeRreq({ join: true, merge: false, seqKnown: false, ttl: 5, hops: 0, maxHopsToLeader: 255, rreqId: 1, group: G, origin: 2, groupSeq: 0, leader: 0 }))
  port.send(3 as Addr, encodeRrep({ merge: false, hops: 0, hopsToLeader: 0, group: G, groupSeq: 0, leader: 1, origin: 3, rreqId: 1, replier: 2 }))
  t.run(100)
  assert.is(v(t, 3, 'controlWrongMode'), 3)
  assert.is(v(t, 3, 'controlVerified') > 0, true)

  const o = maodvNet(3, chain(3), { seed: 5 })
  o.node(1).join(G)
  o.run(10_000)
  const before = o.total('grph')
  o.links[1].port(Proto.MAODV).send(3 as Addr, encodeGrph({ ttl: 5, hops: 0, group: G, leader: 2, groupSeq: 77, signature: new Uint8Array(64) }))
  o.run(100)
  assert.is(o.total('grph'), before, 'dropped, not relayed')
  assert.is(o.total('decodeErrors'), 0)
})

test('roster: false — the tree forms, signers\' certificates fetched hop by hop; data flows', () => {
  const t = secured(5, { roster: false })
  for (const id of [1, 5]) t.node(id).join(G)
  t.run(20_000)
  const tree = checkTree(t.nodes, G, [1, 5])
  assert.type(tree, 'object', String(tree))
  assert.ok(t.total('controlVerifyPending') >= 1, 'some control message waited for a certificate')
  assert.ok(t.metrics.total('sec', 'certFetches') >= 1)
  for (const bad of ['rreqBadSignature', 'rrepBadSignature', 'grphBadSignature']) assert.is(t.total(bad), 0, bad)
  sendSome(t, 1, 5)
  assert.equal(got(t, 5), range(5))
})

test('deterministic: the same seed gives the same counters', () => {
  const run = (): number[] => {
    const t = secured(4)
    for (const id of [1, 4]) t.node(id).join(G)
    t.run(15_000)
    return ['controlSigned', 'controlVerified', 'grph', 'rreq', 'rrep'].map((n) => t.total(n))
  }
  assert.equal(run(), run())
})

test.run()
