/**
 * Anonymous gossip over MAODV batch mode (WIRE.md §11.2, §12.5): batch GOSSIP-REPLYs carry the
 * signed DIGESTs of the packets they recover; a member verifies each recovered packet's hash
 * against a DIGEST (from the tree, or carried by the reply) before delivering it.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr } from '../../core/addr.ts'
import { checkDecoderProperties } from '../../core/testing.ts'
import { LOSSY_MEMBERS as MEMBERS, lossyBranch, lyingReplier, receivedBytes, upTo, type AgNetOptions } from './ag-fixtures.ts'

/** The secured batch-mode network of the lossy-branch tests. */
const BATCH: Omit<AgNetOptions, 'filter'> = { seed: 3, security: {}, maodv: { signEvery: 4 }, gossip: { pAnonymous: 1, cacheOrigins: false } }
import {
  AgMsgType, BATCH_REPLY_BASE_SIZE, REPLY_B, REPLY_S, decodeAg, encodeReply, replyDigestSize, replyMessageSize, type GossipReply, type ReplyMessage,
} from './ag-messages.ts'
import { packReplies } from './replies.ts'

const G = groupAddr(1)
const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const message = fc.record({ origin: node, seq: u32, payload: fc.uint8Array({ maxLength: 30 }), proof: fc.record({ mseq: u32, index: fc.integer({ min: 0, max: 0xffff }) }) })
  .map((m) => ({ ...m, proof: { ...m.proof } }))
const rdigest = fc.record({ origin: node, seq: u32, body: fc.uint8Array({ minLength: 1, maxLength: 60 }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }).map((d) => ({ ...d }))
const batchReply = fc.record({
  walkHops: fc.integer({ min: 0, max: 255 }), id: fc.integer({ min: 0, max: 0xffff }), group,
  digests: fc.array(rdigest, { maxLength: 3 }), messages: fc.array(message, { maxLength: 6 }),
}).filter((m) => m.digests.length + m.messages.length > 0).map((m) => ({ type: AgMsgType.REPLY, ...m }) as GossipReply)

test('batch GOSSIP-REPLY: flags S+B, 11 + Σ(74 + body) + Σ(16 + len), round trip, total decoder', () => {
  fc.assert(fc.property(batchReply, (m) => {
    const { type: _t, ...body } = m
    const b = encodeReply(body)
    assert.is(b[1], REPLY_S | REPLY_B)
    assert.is(b.length, BATCH_REPLY_BASE_SIZE + m.digests!.reduce((n, d) => n + 74 + d.body.length, 0) + m.messages.reduce((n, x) => n + 16 + x.payload.length, 0))
    assert.equal(decodeAg(b), { ...m })
  }), { numRuns: 300 })
  checkDecoderProperties({ decode: decodeAg, valid: batchReply, encode: ({ type: _t, ...m }) => encodeReply(m), typeBytes: [3] })
  assert.throws(() => encodeReply({ walkHops: 0, id: 1, group: G, digests: [], messages: [] }), /at least one/)
  const signedMsg: ReplyMessage = { origin: 1, seq: 1, payload: new Uint8Array(0), proof: { mseq: 1, index: 0, signature: new Uint8Array(64) } }
  assert.throws(() => encodeReply({ walkHops: 0, id: 1, group: G, digests: [], messages: [signedMsg] }), /no signature/)
})

test('packReplies: each batch message travels with its DIGEST (once per reply); too large together, the DIGEST goes first alone', () => {
  const d1 = { origin: 1, seq: 10, body: new Uint8Array(41), signature: new Uint8Array(64) }
  const d2 = { origin: 1, seq: 20, body: new Uint8Array(41), signature: new Uint8Array(64) }
  const m = (seq: number, d: typeof d1, len = 4): ReplyMessage => ({ origin: 1, seq, payload: new Uint8Array(len), proof: { mseq: seq, index: 0, digest: d } })
  const sig: ReplyMessage = { origin: 2, seq: 1, payload: new Uint8Array(4), proof: { mseq: 1, index: 0, signature: new Uint8Array(64) } }
  const out = packReplies([m(1, d1), sig, m(2, d1), m(3, d2)], 1000)
  assert.is(out.length, 2)
  assert.equal(out[0].messages, [sig])
  assert.is(out[0].digests, undefined)
  assert.equal(out[1].digests, [d1, d2])
  assert.equal(out[1].messages.map((x) => [x.seq, x.proof?.digest, x.proof?.signature]), [[1, undefined, undefined], [2, undefined, undefined], [3, undefined, undefined]])
  const small = BATCH_REPLY_BASE_SIZE + replyDigestSize(d1) + replyMessageSize(50, true, true) - 1
  const split = packReplies([m(1, d1, 50)], small)
  assert.equal(split.map((r) => [r.digests?.length, r.messages.length]), [[1, 0], [0, 1]])
})


test('batch mode: packets lost on a branch are recovered and verified by hash against the DIGESTs the tree delivered', () => {
  const { net, dropped } = lossyBranch(BATCH)
  assert.ok(dropped.size >= 9, `relay 3 dropped ${dropped.size} packets`)
  for (const id of MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  assert.ok(net.total('maodv', 'dataBatched') >= 30)
  assert.is(net.total('maodv', 'dataSigned'), 0)
  assert.ok(net.total('ag', 'recoveredVerified') >= 2 * dropped.size)
  assert.is(net.total('ag', 'recoveredVerified'), net.total('ag', 'recovered'), 'every recovery was verified')
  assert.is(net.total('ag', 'recoveredBadSignature') + net.total('ag', 'recoveredUnverifiable'), 0)
  assert.is(net.total('maodv', 'dataUnauthenticatedExpired'), 0)
})

test('batch mode: members that lost packets AND every DIGEST recover them from gossip with the DIGESTs, verified', () => {
  const { net } = lossyBranch(BATCH, { dropDigests: true })
  for (const id of [5, 6]) {
    assert.ok(net.metrics.value('maodv', id, 'dataUnauthenticatedExpired') > 0, `member ${id} dropped what it could not verify`)
    assert.is(net.metrics.value('maodv', id, 'digestsVerified') > 0, true, `member ${id} verified DIGESTs carried by gossip`)
  }
  for (const id of MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  assert.is(net.total('ag', 'recoveredBadSignature') + net.total('ag', 'recoveredUnverifiable'), 0)
  assert.is(net.total('ag', 'recoveredVerified'), net.total('ag', 'recovered'))
})


test('batch mode: a gossip partner that modifies or invents packets is refused, nothing unverified is delivered', () => {
  const tampered = lyingReplier(7, (m) => ({ ...m, payload: Uint8Array.of(m.payload[0], 0xee, 0, 0) }))
  const { net, dropped } = lossyBranch(BATCH, { tamper: tampered })
  for (const id of [5, 6]) {
    assert.ok(net.metrics.value('ag', id, 'recoveredBadSignature') >= dropped.size, `member ${id} refused the modified packets`)
    assert.is(net.got[id - 1].filter((d) => d.payload[1] !== 0).length, 0)
    assert.is(receivedBytes(net, id).length, 30 - dropped.size)
  }
  const invent = lyingReplier(7, (m) => ({ ...m, seq: (m.seq + 1000) >>> 0, proof: { ...m.proof!, mseq: (m.proof!.mseq + 1000) >>> 0 } }))
  const b = lossyBranch(BATCH, { tamper: invent })
  assert.ok(b.net.total('ag', 'recoveredUnverifiable') > 0, 'no DIGEST lists an invented packet')
  assert.is(b.net.total('ag', 'recovered'), 0)
})

test.run()
