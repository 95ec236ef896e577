import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import {
  AG_DATA_HEADER_SIZE, AgMsgType, GOSSIP_BASE_SIZE, GOSSIP_SOURCE_SIZE, MAX_GOSSIP_SOURCES, MAX_MISSING_OFFSET, MAX_MISSING_PER_SOURCE,
  REPLY_BASE_SIZE, REPLY_MESSAGE_SIZE,
  decodeAg, encodeAgData, encodeGossip, encodeReply, gossipSize, replyMessageSize, withHops,
  type AgMessage, type Gossip, type GossipReply,
} from './ag-messages.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u8 = fc.integer({ min: 0, max: 255 })

/** A source entry as the decoder returns it: missing newest first (ascending offset). */
const source = fc.record({
  next: u32,
  offsets: fc.uniqueArray(fc.integer({ min: 1, max: MAX_MISSING_OFFSET }), { maxLength: 40 }),
}).map(({ next, offsets }) => ({ next, missing: offsets.sort((a, b) => a - b).map((o) => (next - o) >>> 0) }))
const sources = fc.uniqueArray(fc.tuple(node, source), { maxLength: MAX_GOSSIP_SOURCES, selector: (t) => t[0] })
  .map((l) => l.map(([s, e]) => ({ source: s, ...e })))

const data = fc.record({ seq: u32, index: fc.integer({ min: 0, max: 0xffff }), payload: fc.uint8Array({ maxLength: 40 }) }).map((m) => ({ type: AgMsgType.DATA, ...m }) as const)
const gossip = fc.record({
  cached: fc.boolean(), hops: u8, ttl: fc.integer({ min: 1, max: 255 }), id: u16, group, initiator: node, sources,
}).map((m) => ({ type: AgMsgType.GOSSIP, ...m, hops: m.cached ? 0 : Math.min(m.hops, 255 - m.ttl), ttl: m.cached ? 0 : m.ttl }) as const)
const reply = fc.record({
  walkHops: u8, id: u16, group,
  messages: fc.array(fc.record({ origin: node, seq: u32, payload: fc.uint8Array({ maxLength: 30 }) }).map((x) => ({ ...x })), { minLength: 1, maxLength: 20 }),
}).map((m) => ({ type: AgMsgType.REPLY, ...m }) as const)
const message: fc.Arbitrary<AgMessage> = fc.oneof(data, gossip, reply)

function encode(m: AgMessage): Uint8Array {
  switch (m.type) {
    case AgMsgType.DATA: return encodeAgData(m.seq, m.index, m.payload)
    case AgMsgType.GOSSIP: return encodeGossip(m)
    case AgMsgType.REPLY: return encodeReply(m)
  }
}

const tryDecode = (b: Uint8Array): AgMessage | DecodeError => decodeOrError(decodeAg, b)
function size(m: AgMessage): number {
  switch (m.type) {
    case AgMsgType.DATA: return AG_DATA_HEADER_SIZE + m.payload.length
    case AgMsgType.GOSSIP: return gossipSize(m.sources)
    case AgMsgType.REPLY: return m.messages.reduce((n, x) => n + replyMessageSize(x.payload.length), REPLY_BASE_SIZE)
  }
}

test('every message round-trips through encode/decode', () => {
  fc.assert(fc.property(message, (m) => {
    assert.equal(decodeAg(encode(m)), m)
  }), { numRuns: 2000 })
})

test('sizes: DATA 7 + payload, GOSSIP 15 + Σ(9 + 2·count), REPLY 10 + Σ(10 + len)', () => {
  fc.assert(fc.property(message, (m) => {
    assert.is(encode(m).length, size(m))
  }), { numRuns: 1000 })
  assert.equal([AG_DATA_HEADER_SIZE, GOSSIP_BASE_SIZE, GOSSIP_SOURCE_SIZE, REPLY_BASE_SIZE, REPLY_MESSAGE_SIZE], [7, 15, 9, 10, 10])
  assert.is(gossipSize([{ missing: [1, 2] }, { missing: [] }]), 15 + 9 + 4 + 9)
  assert.is(replyMessageSize(7), 17)
})

test('GOSSIP: the encoder sorts missing seqs by offset; order of the input does not matter', () => {
  fc.assert(fc.property(gossip, fc.integer(), (m, salt) => {
    const shuffled = { ...m, sources: m.sources.map((s) => ({ ...s, missing: [...s.missing].sort((a, b) => ((a ^ salt) >>> 0) - ((b ^ salt) >>> 0)) })) }
    assert.equal(encodeGossip(shuffled), encodeGossip(m))
  }), { numRuns: 500 })
})

test('GOSSIP: missing seqs across the 2^32 wrap', () => {
  const g: Omit<Gossip, 'type'> = {
    cached: false, hops: 0, ttl: 8, id: 0xbeef, group: groupAddr(1), initiator: 7,
    sources: [{ source: 3, next: 2, missing: [0xfffffffe, 1, 0, 0xffffffff] }, { source: 4, next: 0, missing: [0xffffffff - 65534] }],
  }
  const b = encodeGossip(g)
  const d = decodeAg(b) as Gossip
  assert.equal(d.sources[0].missing, [1, 0, 0xffffffff, 0xfffffffe], 'newest first')
  assert.equal(d.sources[1].missing, [(0 - 65535) >>> 0])
  assert.equal([b[b.length - 2], b[b.length - 1]], [0xff, 0xff], 'offset 65535')
})

test('the decoder is total: arbitrary bytes, and valid messages changed, cut or extended, give a message or a DecodeError', () => {
  checkDecoderProperties({ decode: decodeAg, valid: message, encode, typeBytes: [1, 2, 3], open: (m) => m.type === AgMsgType.DATA, numRuns: 5000 })
})

test('payloads are views into the input', () => {
  const b = encodeAgData(0xfffffffe, 7, Uint8Array.of(1, 2, 3))
  assert.is(b.length, AG_DATA_HEADER_SIZE + 3)
  const d = decodeAg(b)
  assert.is(d.type, AgMsgType.DATA)
  assert.is((d as { payload: Uint8Array }).payload.buffer, b.buffer)
  const rb = encodeReply({ walkHops: 2, id: 1, group: groupAddr(0), messages: [{ origin: 1, seq: 2, payload: Uint8Array.of(9) }] })
  const r = decodeAg(rb) as GossipReply
  assert.is(r.messages[0].payload.buffer, rb.buffer)
  assert.equal([...r.messages[0].payload], [9])
})

function reject(b: Uint8Array, what: RegExp): void {
  const r = tryDecode(b)
  assert.instance(r, DecodeError)
  assert.match((r as DecodeError).message, what)
}

const G = groupAddr(3)
const baseGossip: Omit<Gossip, 'type'> = {
  cached: false, hops: 1, ttl: 5, id: 42, group: G, initiator: 9, sources: [{ source: 5, next: 100, missing: [99, 97] }, { source: 6, next: 10, missing: [] }],
}

test('GOSSIP: the decoder rejects what it does not understand', () => {
  const ok = encodeGossip(baseGossip)
  assert.is(decodeAg(ok).type, AgMsgType.GOSSIP)
  reject(new Uint8Array(0), /empty/)
  reject(Uint8Array.of(4, ...ok.subarray(1)), /unknown message type 4/)
  reject(Uint8Array.of(0, ...ok.subarray(1)), /unknown message type 0/)
  const set = (at: number, v: number) => { const c = ok.slice(); c[at] = v; return c }
  reject(set(1, 0x01), /reserved GOSSIP flag/)
  reject(set(1, 0x80), /cached GOSSIP with ttl 5/)
  reject(set(3, 0), /walking GOSSIP with ttl 0/)
  reject(set(6, 0), /group 3 is not a group address/)
  reject(set(10, 0x80), /initiator .* not a node/)
  reject(set(14, MAX_GOSSIP_SOURCES + 1), /at most 32/)
  reject(set(18, 0), /source 0 is not a node/)
  // Entry 1: offsets at 24..27 (1, 3); make them 3, 1 and 0.
  reject(set(25, 0), /offset 0/)
  reject(set(27, 1), /not strictly increasing: 1 after 1/)
  reject(set(25, 3), /not strictly increasing: 3 after 3/)
  // Second source = first.
  reject(set(31, 5), /source 5 listed twice/)
  reject(ok.subarray(0, ok.length - 1), /truncated/)
  reject(Uint8Array.of(...ok, 0), /1 trailing byte/)
  const tooFar = encodeGossip({ ...baseGossip, hops: 250, ttl: 5 })
  tooFar[2] = 251
  reject(tooFar, /hops 251 \+ ttl 5 > 255/)
  assert.throws(() => encodeGossip({ ...baseGossip, hops: 255, ttl: 2 }), /hops \+ ttl/)
  const cached = encodeGossip({ ...baseGossip, cached: true, hops: 0, ttl: 0 })
  assert.equal(decodeAg(cached), { type: AgMsgType.GOSSIP, ...baseGossip, cached: true, hops: 0, ttl: 0, sources: [{ source: 5, next: 100, missing: [99, 97] }, { source: 6, next: 10, missing: [] }] })
  const c = cached.slice()
  c[3] = 1
  reject(c, /cached GOSSIP with ttl 1/)
})

test('GOSSIP: the encoder refuses what it cannot encode', () => {
  const bad = (m: Partial<Omit<Gossip, 'type'>>, what: RegExp) => assert.throws(() => encodeGossip({ ...baseGossip, ...m }), (e: unknown) => e instanceof RangeError && what.test(e.message))
  bad({ sources: [{ source: 5, next: 100, missing: [100] }] }, /missing seq 100 .* not within/)
  bad({ sources: [{ source: 5, next: 100, missing: [(100 - 65536) >>> 0] }] }, /not within/)
  bad({ sources: [{ source: 5, next: 100, missing: [99, 99] }] }, /99 of source 5 is listed twice/)
  bad({ sources: [{ source: 5, next: 1000, missing: Array.from({ length: 256 }, (_, i) => i) }] }, /at most 255 missing/)
  bad({ sources: Array.from({ length: 33 }, (_, i) => ({ source: i + 1, next: 0, missing: [] })) }, /at most 32 sources/)
  bad({ sources: [{ source: 5, next: 1, missing: [] }, { source: 5, next: 2, missing: [] }] }, /source 5 is listed twice/)
  bad({ cached: true }, /cached GOSSIP has ttl 0/)
  bad({ ttl: 0 }, /ttl must be an integer in \[1, 255\]/)
  bad({ ttl: 256 }, /ttl/)
  bad({ id: 0x10000 }, /id/)
  bad({ group: 5 }, /not a group address/)
  bad({ initiator: G }, /initiator .* not a node/)
  assert.is(encodeGossip({ ...baseGossip, sources: [{ source: 5, next: 1000, missing: Array.from({ length: MAX_MISSING_PER_SOURCE }, (_, i) => i) }] }).length,
    GOSSIP_BASE_SIZE + GOSSIP_SOURCE_SIZE + 2 * 255)
})

test('withHops rewrites bytes 2–3 of a copy', () => {
  const b = encodeGossip(baseGossip)
  const before = decodeAg(b) as Gossip
  const f = withHops(b, 2, 4)
  assert.is.not(f, b)
  assert.equal(decodeAg(f), { ...before, hops: 2, ttl: 4 })
  assert.equal(decodeAg(b), before, 'input untouched')
  assert.throws(() => withHops(b, 2, 0), /ttl/)
  assert.throws(() => withHops(b, 256, 1), /hops/)
  assert.throws(() => withHops(encodeAgData(1, 0, new Uint8Array(20)), 1, 1), /needs an encoded GOSSIP/)
  const cached = encodeGossip({ ...baseGossip, cached: true, hops: 0, ttl: 0 })
  assert.throws(() => withHops(cached, 1, 1), /cached GOSSIP has ttl 0/)
})

test('GOSSIP-REPLY: the decoder rejects what it does not understand; the encoder refuses bad input', () => {
  const base: Omit<GossipReply, 'type'> = { walkHops: 3, id: 7, group: G, messages: [{ origin: 4, seq: 1, payload: Uint8Array.of(1, 2) }] }
  const ok = encodeReply(base)
  assert.is(ok.length, REPLY_BASE_SIZE + REPLY_MESSAGE_SIZE + 2)
  const set = (at: number, v: number) => { const c = ok.slice(); c[at] = v; return c }
  reject(set(1, 1), /reserved GOSSIP-REPLY flags/)
  reject(set(3, 0), /count 0/)
  reject(set(3, 2), /truncated/)
  reject(set(6, 0), /group .* not a group address/)
  reject(set(10, 0x80), /origin .* not a node/)
  reject(set(19, 3), /truncated: payload/)
  reject(set(19, 1), /1 trailing byte/)
  const bad = (m: Partial<Omit<GossipReply, 'type'>>, what: RegExp) => assert.throws(() => encodeReply({ ...base, ...m }), (e: unknown) => e instanceof RangeError && what.test(e.message))
  bad({ messages: [] }, /message count must be an integer in \[1, 255\]/)
  bad({ messages: new Array(256).fill(base.messages[0]) }, /message count/)
  bad({ messages: [{ origin: 0, seq: 1, payload: new Uint8Array(0) }] }, /origin 0 is not a node/)
  bad({ messages: [{ origin: 1, seq: 1, payload: new Uint8Array(65536) }] }, /at most 65535 bytes/)
  bad({ group: 1 }, /not a group address/)
  bad({ walkHops: -1 }, /walkHops/)
})

test('DATA: header only is valid; shorter is not', () => {
  assert.equal(decodeAg(Uint8Array.of(1, 0, 0, 0, 7, 0, 3)), { type: AgMsgType.DATA, seq: 7, index: 3, payload: new Uint8Array(0) })
  reject(Uint8Array.of(1, 0, 0, 0), /truncated: seq/)
  reject(Uint8Array.of(1, 0, 0, 0, 7, 0), /truncated: index/)
  assert.throws(() => encodeAgData(2 ** 32, 0, new Uint8Array(0)), /seq/)
  assert.throws(() => encodeAgData(1, 65536, new Uint8Array(0)), /index/)
})

test.run()
