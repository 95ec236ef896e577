import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { groupAddr } from '../../core/addr.ts'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import { DATA_HEADER_SIZE, decodeData, encodeData } from './data-frame.ts'
import {
  GRPH_SIZE, HELLO_BASE_SIZE, HELLO_ENTRY_SIZE, MACT_G, MACT_J, MACT_P, MACT_R, MACT_SIZE, MACT_U, MAX_HELLO_NEIGHBOURS, MsgType, RREP_SIZE, RREQ_SIZE,
  decodeMaodv, encodeGrph, encodeHello, encodeMact, encodeRrep, encodeRreq, type MaodvMessage,
} from './maodv-messages.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const group = fc.integer({ min: 0x80000000, max: 0xfffffffe })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u8 = fc.integer({ min: 0, max: 255 })

const rreq = fc.record({
  join: fc.constant(true), merge: fc.boolean(), seqKnown: fc.boolean(), ttl: fc.integer({ min: 1, max: 255 }), hops: u8, maxHopsToLeader: u8,
  rreqId: u32, group, origin: node, groupSeq: u32, leader: node,
}).map((m) => ({ type: MsgType.RREQ, ...m }) as const)
const rrep = fc.record({ merge: fc.boolean(), hops: u8, hopsToLeader: u8, group, groupSeq: u32, leader: node, origin: node, rreqId: u32, replier: node })
  .map((m) => ({ type: MsgType.RREP, ...m }) as const)
const mact = fc.record({
  flags: fc.constantFrom(MACT_J, MACT_P, MACT_G, MACT_G | MACT_P, MACT_U, MACT_R), hopsToLeader: u8, group, groupSeq: u32, leader: node,
  origin: node, rreqId: u32, replier: node,
}).map((m) => ({ type: MsgType.MACT, ...m }) as const)
const grph = fc.record({ ttl: fc.integer({ min: 1, max: 255 }), hops: u8, group, leader: node, groupSeq: u32 }).map((m) => ({ type: MsgType.GRPH, ...m }) as const)
const hello = fc.record({ member: fc.boolean(), hopsToLeader: u8, group, leader: node, entries: fc.array(fc.tuple(node, u8), { maxLength: MAX_HELLO_NEIGHBOURS }) })
  .map(({ entries, ...m }) => ({ type: MsgType.HELLO, ...m, neighbours: entries.map((e) => e[0]), nearestMember: entries.map((e) => e[1]) }) as const)
const message: fc.Arbitrary<MaodvMessage> = fc.oneof(rreq, rrep, mact, grph, hello)

function encode(m: MaodvMessage): Uint8Array {
  switch (m.type) {
    case MsgType.RREQ: return encodeRreq(m)
    case MsgType.RREP: return encodeRrep(m)
    case MsgType.MACT: return encodeMact(m)
    case MsgType.GRPH: return encodeGrph(m)
    case MsgType.HELLO: return encodeHello(m)
  }
}

const tryDecode = (b: Uint8Array): MaodvMessage | DecodeError => decodeOrError(decodeMaodv, b)
test('every message round-trips through encode/decode', () => {
  fc.assert(fc.property(message, (m) => {
    assert.equal(decodeMaodv(encode(m)), m)
  }), { numRuns: 2000 })
})

test('sizes: RREQ 25, RREP 28, MACT 28, GRPH 16, HELLO 12 + 5 per neighbour; data header 14', () => {
  fc.assert(fc.property(message, (m) => {
    const n = encode(m).length
    const want = { [MsgType.RREQ]: RREQ_SIZE, [MsgType.RREP]: RREP_SIZE, [MsgType.MACT]: MACT_SIZE, [MsgType.GRPH]: GRPH_SIZE }[m.type as number]
    assert.is(n, m.type === MsgType.HELLO ? HELLO_BASE_SIZE + HELLO_ENTRY_SIZE * m.neighbours.length : want)
  }))
  assert.equal([RREQ_SIZE, RREP_SIZE, MACT_SIZE, GRPH_SIZE, HELLO_BASE_SIZE, DATA_HEADER_SIZE], [25, 28, 28, 16, 12, 14])
})

test('the decoder is total: arbitrary bytes, and valid messages changed, cut or extended, give a message or a DecodeError', () => {
  checkDecoderProperties({ decode: decodeMaodv, valid: message, encode, typeBytes: [1, 2, 6, 7, 8], numRuns: 5000 })
})

test('the decoder rejects what it does not understand', () => {
  const g = groupAddr(3)
  const base = { join: true, merge: false, seqKnown: true, ttl: 3, hops: 0, maxHopsToLeader: 255, rreqId: 7, group: g, origin: 5, groupSeq: 9, leader: 0 }
  const ok = encodeRreq(base)
  assert.is(decodeMaodv(ok).type, MsgType.RREQ)
  const reject = (b: Uint8Array, what: RegExp) => {
    const r = tryDecode(b)
    assert.instance(r, DecodeError)
    assert.match((r as DecodeError).message, what)
  }
  reject(new Uint8Array(0), /empty/)
  reject(Uint8Array.of(3, ...ok.subarray(1)), /unknown message type 3/)
  reject(Uint8Array.of(4, ...ok.subarray(1)), /unknown message type 4/)
  reject(encodeRreq({ ...base, ttl: 0 }), /ttl 0/)
  reject(encodeRreq({ ...base, group: 5 }), /not a group address/)
  reject(encodeRreq({ ...base, origin: g }), /origin .* not a node/)
  reject(encodeRreq({ ...base, merge: true, leader: 0 }), /leader 0 is not a node/)
  const flags = ok.slice()
  flags[1] |= 0x01
  reject(flags, /reserved RREQ flag/)
  flags[1] = 0x40
  reject(flags, /R without J/)
  const m = encodeMact({ flags: MACT_J | MACT_P, hopsToLeader: 0, group: g, groupSeq: 0, leader: 1, origin: 1, rreqId: 0, replier: 1 })
  reject(m, /not one of J, P, G, G\+P, U, R/)
  reject(encodeMact({ flags: MACT_J, hopsToLeader: 0, group: g, groupSeq: 0, leader: 0, origin: 1, rreqId: 0, replier: 0 }), /replier 0/)
  reject(encodeMact({ flags: MACT_U, hopsToLeader: 0, group: g, groupSeq: 0, leader: 0, origin: 1, rreqId: 0, replier: 0 }), /leader 0/)
  const h = encodeHello({ member: true, hopsToLeader: 1, group: g, leader: 2, neighbours: [3, 4], nearestMember: [1, 255] })
  const tooMany = h.slice()
  tooMany[3] = MAX_HELLO_NEIGHBOURS + 1
  reject(tooMany, /at most 64/)
  reject(h.subarray(0, h.length - 2), /exactly 22 bytes/)
  assert.throws(() => encodeHello({ member: true, hopsToLeader: 1, group: g, leader: 2, neighbours: new Array(65).fill(3), nearestMember: new Array(65).fill(0) }), /at most 64/)
  assert.throws(() => encodeHello({ member: true, hopsToLeader: 1, group: g, leader: 2, neighbours: [3, 4], nearestMember: [1] }), /one nearestMember per neighbour/)
  assert.equal((decodeMaodv(h) as { nearestMember: number[] }).nearestMember, [1, 255])
})

test('data header: round trip, payload is a view, total decoder', () => {
  const payload = Uint8Array.of(1, 2, 3)
  const b = encodeData({ origin: 9, group: groupAddr(0), seq: 0xfffffffe, ttl: 32, hops: 4, payload })
  assert.is(b.length, DATA_HEADER_SIZE + 3)
  const d = decodeData(b)
  assert.equal({ ...d, payload: [...d.payload] }, { origin: 9, group: groupAddr(0), seq: 0xfffffffe, ttl: 32, hops: 4, payload: [1, 2, 3] })
  assert.is(d.payload.buffer, b.buffer, 'no copy')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (x) => {
    try {
      const r = decodeData(x)
      assert.equal(encodeData(r), x, 'what decodes re-encodes to the same bytes')
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
    }
  }), { numRuns: 5000 })
  assert.throws(() => decodeData(encodeData({ origin: 9, group: 7, seq: 0, ttl: 1, hops: 0, payload })), /not a group address/)
  assert.throws(() => decodeData(encodeData({ origin: 9, group: groupAddr(0), seq: 0, ttl: 0, hops: 0, payload })), /ttl 0/)
})

test.run()
