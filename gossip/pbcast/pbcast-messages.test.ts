import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import {
  DATA_HEADER_SIZE, ID_ENTRY_SIZE, ID_LIST_BASE_SIZE, ID_RANGE_SIZE, PbcastMsgType,
  dataSize, decodePbcast, encodeData, encodeDigest, encodeSolicit, entryIds, fitIds, idListSize, idsToEntries, rangesHave, streamShares,
  type IdEntry, type PbcastWireMessage,
} from './pbcast-messages.ts'
import type { MessageId } from './pbcast-types.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })

/** Canonical ranges: sorted, non-empty, gaps of at least one seq, inside [0, 2^32). */
const ranges = fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 0xffff })), { minLength: 1, maxLength: 12 })
  .chain((parts) => u32.map((start) => {
    let at = start
    const out: { first: number; count: number }[] = []
    for (const [gap, count] of parts) {
      const first = at + (out.length ? gap : 0)
      if (first + count - 1 > 0xffffffff) break
      out.push({ first, count })
      at = first + count
    }
    return out.length ? out : [{ first: 0, count: 1 }]
  }))
const entries = fc.uniqueArray(fc.record({ origin: node, stream: u16, ranges }).map((e) => ({ ...e })), { maxLength: 20, selector: (e) => e.origin * 65536 + e.stream })

const data = fc.record({ retransmission: fc.boolean(), origin: node, stream: u16, seq: u32, age: fc.integer({ min: 0, max: 0xffff }), body: fc.uint8Array({ maxLength: 60 }) })
  .map((m) => ({ type: PbcastMsgType.DATA, ...m }) as const)
const digest = fc.record({ complete: fc.boolean(), entries }).map((m) => ({ type: PbcastMsgType.DIGEST, ...m }) as const)
const solicit = entries.map((e) => ({ type: PbcastMsgType.SOLICIT, entries: e }) as const)
const message: fc.Arbitrary<PbcastWireMessage> = fc.oneof(data, digest, solicit)

function encode(m: PbcastWireMessage): Uint8Array {
  switch (m.type) {
    case PbcastMsgType.DATA: return encodeData(m)
    case PbcastMsgType.DIGEST: return encodeDigest(m)
    case PbcastMsgType.SOLICIT: return encodeSolicit(m)
  }
}

test('every message round-trips, with the documented size', () => {
  fc.assert(fc.property(message, (m) => {
    const b = encode(m)
    assert.equal(decodePbcast(b), m)
    assert.is(b.length, m.type === PbcastMsgType.DATA ? dataSize(m.body.length) : idListSize(m.entries))
  }), { numRuns: 2000 })
  assert.equal([DATA_HEADER_SIZE, ID_LIST_BASE_SIZE, ID_ENTRY_SIZE, ID_RANGE_SIZE], [16, 3, 7, 6])
})

test('the decoder is total: arbitrary bytes, and valid messages changed, cut or extended', () => {
  checkDecoderProperties({ decode: decodePbcast, valid: message, encode, typeBytes: [1, 2, 3], numRuns: 4000 })
})

test('DATA layout byte by byte; the body is a view into the input', () => {
  const b = encodeData({ retransmission: true, origin: 0x01020304, stream: 0x0506, seq: 0x0708090a, age: 0x0b0c, body: Uint8Array.of(0xaa, 0xbb) })
  assert.equal([...b], [1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 2, 0xaa, 0xbb])
  const d = decodePbcast(b)
  assert.is(d.type, PbcastMsgType.DATA)
  assert.is((d as { body: Uint8Array }).body.buffer, b.buffer)
})

test('DIGEST layout byte by byte', () => {
  const b = encodeDigest({ complete: true, entries: [{ origin: 7, stream: 1, ranges: [{ first: 5, count: 7 }, { first: 13, count: 1 }] }] })
  assert.equal([...b], [2, 1, 1, 0, 0, 0, 7, 0, 1, 2, 0, 0, 0, 5, 0, 7, 0, 0, 0, 13, 0, 1])
  assert.is(encodeSolicit({ entries: [] }).length, 3)
})

function reject(b: Uint8Array | number[], what: RegExp): void {
  const r = decodeOrError(decodePbcast, b instanceof Uint8Array ? b : Uint8Array.from(b))
  assert.instance(r, DecodeError)
  assert.match((r as DecodeError).message, what)
}

test('the decoder rejects what it does not understand', () => {
  reject([], /empty/)
  reject([4, 0], /unknown message type 4/)
  reject([0], /unknown message type 0/)
  reject([1, 2, ...new Array(13).fill(0)], /reserved DATA flag/)
  const data = [...encodeData({ retransmission: false, origin: 1, stream: 0, seq: 0, age: 0, body: Uint8Array.of(1) })]
  reject([...data, 0], /trailing/)
  reject(data.slice(0, -1), /truncated/)
  reject([1, 0, 0, 0, 0, 0, ...data.slice(6)], /origin 0 is not a node/)
  reject([1, 0, 0x80, 0, 0, 0, ...data.slice(6)], /not a node/)
  reject([2, 2, 0], /reserved DIGEST flag/)
  reject([3, 1, 0], /reserved SOLICIT flag/)
  const e = (ranges: number[][]): number[] => [2, 0, 1, 0, 0, 0, 9, 0, 0, ranges.length, ...ranges.flatMap(([f, c]) => [f >>> 24, (f >>> 16) & 255, (f >>> 8) & 255, f & 255, c >> 8, c & 255])]
  assert.not.instance(decodeOrError(decodePbcast, Uint8Array.from(e([[1, 2], [4, 1]]))), DecodeError)
  reject(e([]), /no range/)
  reject(e([[1, 0]]), /empty range/)
  reject(e([[1, 2], [3, 1]]), /non-adjacent/)
  reject(e([[5, 1], [1, 1]]), /not sorted/)
  reject(e([[0xffffffff, 2]]), /passes 2\^32/)
  const one = e([[1, 1]]).slice(3)
  reject([2, 0, 2, ...one, ...one], /listed twice/)
  reject([2, 0, 2, ...one], /truncated/)
  reject([...e([[1, 1]]), 0], /trailing/)
})

test('encoders refuse what the decoder would reject', () => {
  const entry = (ranges: { first: number; count: number }[]): IdEntry[] => [{ origin: 1, stream: 0, ranges }]
  assert.throws(() => encodeDigest({ complete: true, entries: entry([]) }), RangeError)
  assert.throws(() => encodeDigest({ complete: true, entries: entry([{ first: 1, count: 1 }, { first: 2, count: 1 }]) }), /non-adjacent/)
  assert.throws(() => encodeDigest({ complete: true, entries: entry([{ first: 1, count: 0x10000 }]) }), RangeError)
  assert.throws(() => encodeSolicit({ entries: [...entry([{ first: 1, count: 1 }]), ...entry([{ first: 5, count: 1 }])] }), /twice/)
  assert.throws(() => encodeData({ retransmission: false, origin: 0, stream: 0, seq: 0, age: 0, body: new Uint8Array() }), /node address/)
  assert.throws(() => encodeData({ retransmission: false, origin: 1, stream: 0, seq: 0, age: 0x10000, body: new Uint8Array() }), /age/)
})

const ids = fc.array(fc.record({ origin: fc.integer({ min: 1, max: 4 }), stream: fc.integer({ min: 0, max: 2 }), seq: fc.integer({ min: 0, max: 60 }) }), { maxLength: 120 })
const key = (id: MessageId): string => `${id.origin}/${id.stream}/${id.seq}`

test('idsToEntries: canonical ranges holding exactly the ids; entryIds and rangesHave agree', () => {
  fc.assert(fc.property(ids, (list) => {
    const entries = idsToEntries(list)
    encodeDigest({ complete: true, entries }) // canonical: the encoder accepts it
    const back = [...entryIds(entries)].map(key)
    assert.equal(back, [...new Set(list.map(key))].sort((a, b) => {
      const [x, y] = [a, b].map((s) => s.split('/').map(Number))
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]
    }))
    for (const e of entries) for (let s = 0; s <= 61; s++) assert.is(rangesHave(e.ranges, s), list.some((i) => i.origin === e.origin && i.stream === e.stream && i.seq === s))
    assert.is([...entryIds(entries, 3)].length, Math.min(3, back.length))
  }), { numRuns: 500 })
})

test('fitIds keeps the longest prefix (priority order) that fits the byte budget', () => {
  const list: MessageId[] = Array.from({ length: 100 }, (_, i) => ({ origin: 1 + i, stream: 0, seq: i }))
  const all = fitIds(list, 1400)
  assert.ok(all.all)
  assert.is(idListSize(all.entries), 3 + 100 * 13)
  const cut = fitIds(list, 3 + 10 * 13)
  assert.not.ok(cut.all)
  assert.equal([...entryIds(cut.entries)].map((i) => i.seq).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  // More than 255 (origin, stream) pairs never fit one list, whatever the budget.
  const many = Array.from({ length: 300 }, (_, i) => ({ origin: i + 1, stream: 0, seq: 0 }))
  const capped = fitIds(many, 1e6)
  assert.is(capped.entries.length, 255)
  assert.not.ok(capped.all)
  assert.equal(fitIds([], 3), { entries: [], all: true })
})

test('streamShares splits every byte of a message among its streams', () => {
  fc.assert(fc.property(message, (m) => {
    const bytes = encode(m)
    const shares = new Map<number, number>()
    streamShares(bytes, (stream, n) => shares.set(stream, (shares.get(stream) ?? 0) + n))
    const total = [...shares.values()].reduce((a, b) => a + b, 0)
    const streams = m.type === PbcastMsgType.DATA ? [m.stream] : m.entries.map((e) => e.stream)
    assert.is(total, streams.length === 0 ? 0 : bytes.length)
    for (const s of shares.keys()) assert.ok(streams.includes(s))
  }))
})

test.run()
