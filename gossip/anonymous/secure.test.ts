/**
 * Anonymous gossip in an authenticated network: signed GOSSIP-REPLYs (WIRE.md §12.4) carry each
 * recovered packet's origin signature, and a member verifies a recovered packet exactly like one
 * the tree delivered — a gossip partner cannot hand over a modified or invented packet.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr } from '../../core/addr.ts'
import { checkDecoderProperties } from '../../core/testing.ts'
import { LOSSY_MEMBERS as MEMBERS, lossyBranch, lyingReplier, receivedBytes, upTo } from './ag-fixtures.ts'
import {
  AgMsgType, REPLY_BASE_SIZE, REPLY_S, SIGNED_REPLY_MESSAGE_SIZE, decodeAg, encodeReply, replyMessageSize, type GossipReply, type ReplyMessage,
} from './ag-messages.ts'
import { maodvAgMaxPayload } from './maodv-ag.ts'
import { ROUTED_HEADER_SIZE } from '../../adhoc/aodv/index.ts'

const G = groupAddr(1)
const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const signedMessage = fc.record({
  origin: node, seq: u32, payload: fc.uint8Array({ maxLength: 30 }),
  proof: fc.record({ mseq: u32, index: fc.integer({ min: 0, max: 0xffff }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
}).map((m) => ({ ...m, proof: { ...m.proof } }))
const signedReply = fc.record({ walkHops: fc.integer({ min: 0, max: 255 }), id: fc.integer({ min: 0, max: 0xffff }), group, messages: fc.array(signedMessage, { minLength: 1, maxLength: 8 }) })
  .map((m) => ({ type: AgMsgType.REPLY, ...m }) as GossipReply)

test('signed GOSSIP-REPLY: flag S, 80 + len per message, round trip, total decoder', () => {
  fc.assert(fc.property(signedReply, (m) => {
    const { type: _t, ...body } = m
    const b = encodeReply(body)
    assert.is(b[1], REPLY_S)
    assert.is(b.length, REPLY_BASE_SIZE + m.messages.reduce((n, x) => n + SIGNED_REPLY_MESSAGE_SIZE + x.payload.length, 0))
    assert.equal(decodeAg(b), { ...m })
  }), { numRuns: 300 })
  assert.is(SIGNED_REPLY_MESSAGE_SIZE, 80)
  assert.is(replyMessageSize(5, true), 85)
  checkDecoderProperties({ decode: decodeAg, valid: signedReply, encode: ({ type: _t, ...m }) => encodeReply(m), typeBytes: [3] })
  const plain: ReplyMessage = { origin: 1, seq: 1, payload: new Uint8Array(0) }
  const proved: ReplyMessage = { ...plain, proof: { mseq: 1, index: 0, signature: new Uint8Array(64) } }
  assert.throws(() => encodeReply({ walkHops: 0, id: 1, group: G, messages: [proved, plain] }), /all its messages or on none/)
  assert.throws(() => encodeReply({ walkHops: 0, id: 1, group: G, messages: [{ ...plain, proof: { mseq: 1, index: 0, signature: new Uint8Array(3) } }] }), /64 bytes/)
})

test('maodvAgMaxPayload: signed layouts cost 65 bytes on the tree, 70 + the routed trailer on replies', () => {
  assert.is(maodvAgMaxPayload(1000), Math.min(1000 - 14 - 7, 1000 - ROUTED_HEADER_SIZE - 10 - 10))
  assert.is(maodvAgMaxPayload(1000, 12), Math.min(1000 - 79 - 7, 1000 - ROUTED_HEADER_SIZE - 12 - 10 - 80))
})


test('secured walks alone: packets lost on one branch are recovered, each verified before delivery', () => {
  const { net, dropped } = lossyBranch({ seed: 3, security: {}, gossip: { pAnonymous: 1, cacheOrigins: false } })
  assert.ok(dropped.size >= 9, `relay 3 dropped ${dropped.size} packets`)
  for (const id of MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  assert.ok(net.total('ag', 'recoveredVerified') >= 2 * dropped.size)
  assert.is(net.total('ag', 'recoveredVerified'), net.total('ag', 'recovered'), 'every recovery was verified')
  assert.is(net.total('ag', 'recoveredBadSignature'), 0)
  assert.is(net.total('maodv', 'dataBadSignature'), 0)
  assert.ok(net.metrics.value('ag', 7, 'replyMessages') >= dropped.size)
})


test('a member answering gossip with modified packets: refused, counted, never delivered', () => {
  const tampered = lyingReplier(7, (m) => ({ ...m, payload: Uint8Array.of(m.payload[0], 0xee, 0, 0) }))
  const { net, dropped } = lossyBranch({ seed: 3, security: {}, gossip: { pAnonymous: 1, cacheOrigins: false } }, { tamper: tampered })
  assert.ok(dropped.size >= 9)
  for (const id of [5, 6]) {
    assert.ok(net.metrics.value('ag', id, 'recoveredBadSignature') >= dropped.size, `member ${id} refused the modified packets`)
    assert.is(net.got[id - 1].filter((d) => d.payload[1] !== 0).length, 0, `member ${id} delivered nothing modified`)
    assert.is(receivedBytes(net, id).length, 30 - dropped.size, `member ${id} still misses what only 7 holds`)
  }
})

test('invented packets and unsigned replies are refused too', () => {
  const invent = lyingReplier(7, (m) => ({ ...m, seq: (m.seq + 1000) >>> 0 }))
  const a = lossyBranch({ seed: 3, security: {}, gossip: { pAnonymous: 1, cacheOrigins: false } }, { tamper: invent })
  assert.ok(a.net.total('ag', 'recoveredBadSignature') > 0)
  assert.is(a.net.total('ag', 'recovered'), 0)
  const strip = lyingReplier(7, ({ proof: _p, ...m }) => m)
  const b = lossyBranch({ seed: 3, security: {}, gossip: { pAnonymous: 1, cacheOrigins: false } }, { tamper: strip })
  assert.ok(b.net.total('ag', 'repliesUnsigned') > 0)
  assert.is(b.net.total('ag', 'recovered'), 0)
})

test('roster: false — certificates are fetched, delivery and recovery still work', () => {
  const { net, dropped } = lossyBranch({ seed: 3, security: { roster: false }, gossip: { pAnonymous: 1, cacheOrigins: false } })
  assert.ok(dropped.size >= 9)
  for (const id of MEMBERS) assert.equal(receivedBytes(net, id), upTo(30), `member ${id} has every packet once`)
  assert.ok(net.metrics.total('sec', 'certFetches') >= 1)
  assert.is(net.total('ag', 'recoveredBadSignature'), 0)
})

test.run()
