/**
 * Bimodal multicast wire messages (docs/WIRE.md, pbcast section). Fixed big-endian layouts, the
 * first byte the message type, the second its flags:
 *
 *   DATA     1   16 + len              one message: first dissemination (flags 0) or a
 *                                      retransmission / push (flag R)
 *   DIGEST   2   3 + Σ(7 + 6·nRanges)  the ids a member holds and the receiver wants; flag C =
 *                                      complete (nothing was cut), which allows the receiver to push
 *   SOLICIT  3   3 + Σ(7 + 6·nRanges)  the ids a digest receiver asks the digest sender for
 *
 * No timestamps travel (clocks of real gateways differ): DATA carries its `age` in 1/256 rounds
 * as the sender estimates it from its own clock (the origin sends 0), and the receiver estimates
 * origination as now − age/256·roundMs in its own clock. Sub-round precision keeps estimates from
 * drifting hop by hop with the members' round phases (whole rounds drifted up to one per hop).
 *
 * Id lists are entries of (origin, stream) with ranges of consecutive seqs. Canonical form only:
 * entries distinct, ranges sorted, non-empty, non-overlapping and non-adjacent (a gap of at least
 * one seq), no range past 2^32 − 1. Decoders are total: any input gives a message or a
 * `DecodeError`; they allocate only the result (bodies are views into the input, lists are bounded
 * by their count bytes: ≤ 255 entries of ≤ 255 ranges), and never enumerate ids.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { DecodeError } from '../../core/errors.ts'
import type { MessageId } from './pbcast-types.ts'

export const PbcastMsgType = { DATA: 1, DIGEST: 2, SOLICIT: 3 } as const

/** DATA flag: a retransmission (answer to a SOLICIT) or a push, not the first dissemination. */
export const DATA_R = 0x01
/** DIGEST flag: complete, nothing held and wanted by the receiver was left out. */
export const DIGEST_C = 0x01

/** DATA without its body: type, flags, origin u32, stream u16, seq u32, age u16, len u16. */
export const DATA_HEADER_SIZE = 16
/** DIGEST / SOLICIT without entries: type, flags, nEntries u8. */
export const ID_LIST_BASE_SIZE = 3
/** Per entry before its ranges: origin u32, stream u16, nRanges u8. */
export const ID_ENTRY_SIZE = 7
/** Per range: first u32, count u16. */
export const ID_RANGE_SIZE = 6
export const MAX_ENTRIES = 255
export const MAX_RANGES = 255
export const MAX_RANGE_COUNT = 0xffff
export const MAX_BODY = 0xffff
/** Largest age, in 1/256 rounds (255.99 rounds). */
export const MAX_AGE = 0xffff
/** Age units per round. */
export const AGE_UNITS_PER_ROUND = 256

export interface IdRange {
  first: number
  /** Consecutive seqs from `first`, 1..65535. */
  count: number
}

export interface IdEntry {
  origin: Addr
  stream: number
  ranges: IdRange[]
}

export interface PbData {
  type: typeof PbcastMsgType.DATA
  retransmission: boolean
  origin: Addr
  stream: number
  seq: number
  /** Rounds since origination as the sender estimates it (0 from the origin), saturating at 255. */
  age: number
  body: Uint8Array
}

export interface PbDigest {
  type: typeof PbcastMsgType.DIGEST
  complete: boolean
  entries: IdEntry[]
}

export interface PbSolicit {
  type: typeof PbcastMsgType.SOLICIT
  entries: IdEntry[]
}

export type PbcastWireMessage = PbData | PbDigest | PbSolicit

function checkInt(v: number, max: number, what: string, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${v}`)
}

export function dataSize(bodyLength: number): number {
  return DATA_HEADER_SIZE + bodyLength
}

export function encodeData(m: Omit<PbData, 'type'>): Uint8Array {
  if (!isNodeAddr(m.origin)) throw new RangeError(`origin ${m.origin} is not a node address`)
  checkInt(m.stream, 0xffff, 'stream')
  checkInt(m.seq, 0xffffffff, 'seq')
  checkInt(m.age, MAX_AGE, 'age')
  if (m.body.length > MAX_BODY) throw new RangeError(`a DATA body is at most ${MAX_BODY} bytes, got ${m.body.length}`)
  return new ByteWriter(dataSize(m.body.length))
    .u8(PbcastMsgType.DATA).u8(m.retransmission ? DATA_R : 0)
    .u32(m.origin).u16(m.stream).u32(m.seq).u16(m.age).u16(m.body.length).raw(m.body).done()
}

/** Encoded size of a DIGEST or SOLICIT with these entries. */
export function idListSize(entries: readonly { ranges: readonly unknown[] }[]): number {
  let n = ID_LIST_BASE_SIZE
  for (const e of entries) n += ID_ENTRY_SIZE + ID_RANGE_SIZE * e.ranges.length
  return n
}

function checkEntries(entries: readonly IdEntry[]): void {
  if (entries.length > MAX_ENTRIES) throw new RangeError(`an id list has at most ${MAX_ENTRIES} entries, got ${entries.length}`)
  const seen = new Set<number>()
  for (const e of entries) {
    if (!isNodeAddr(e.origin)) throw new RangeError(`origin ${e.origin} is not a node address`)
    checkInt(e.stream, 0xffff, 'stream')
    const k = e.origin * 65536 + e.stream
    if (seen.has(k)) throw new RangeError(`(origin ${e.origin}, stream ${e.stream}) is listed twice`)
    seen.add(k)
    checkInt(e.ranges.length, MAX_RANGES, 'ranges per entry', 1)
    let end = -1 // first seq after the previous range
    for (const r of e.ranges) {
      checkInt(r.first, 0xffffffff, 'range first')
      checkInt(r.count, MAX_RANGE_COUNT, 'range count', 1)
      if (r.first + r.count - 1 > 0xffffffff) throw new RangeError(`range ${r.first}+${r.count} passes 2^32 − 1`)
      if (r.first <= end) throw new RangeError(`ranges of (${e.origin}, ${e.stream}) must be sorted, disjoint and non-adjacent: ${r.first} after end ${end}`)
      end = r.first + r.count
    }
  }
}

function encodeIdList(type: number, flags: number, entries: readonly IdEntry[]): Uint8Array {
  checkEntries(entries)
  const w = new ByteWriter(idListSize(entries)).u8(type).u8(flags).u8(entries.length)
  for (const e of entries) {
    w.u32(e.origin).u16(e.stream).u8(e.ranges.length)
    for (const r of e.ranges) w.u32(r.first).u16(r.count)
  }
  return w.done()
}

export function encodeDigest(m: Omit<PbDigest, 'type'>): Uint8Array {
  return encodeIdList(PbcastMsgType.DIGEST, m.complete ? DIGEST_C : 0, m.entries)
}

export function encodeSolicit(m: Omit<PbSolicit, 'type'>): Uint8Array {
  return encodeIdList(PbcastMsgType.SOLICIT, 0, m.entries)
}

/**
 * Ids (any order, duplicates allowed) as canonical entries: sorted by (origin, stream), ranges of
 * maximal runs of consecutive seqs. The result may exceed the codec's limits (more than 255
 * entries or ranges, a run longer than 65535): `fitIds` cuts to what encodes.
 */
export function idsToEntries(ids: readonly MessageId[]): IdEntry[] {
  const sorted = [...ids].sort((a, b) => a.origin - b.origin || a.stream - b.stream || a.seq - b.seq)
  const out: IdEntry[] = []
  let cur: IdEntry | undefined
  let last: IdRange | undefined
  for (const id of sorted) {
    if (cur === undefined || cur.origin !== id.origin || cur.stream !== id.stream) {
      cur = { origin: id.origin, stream: id.stream, ranges: [] }
      out.push(cur)
      last = undefined
    }
    if (last !== undefined && id.seq < last.first + last.count) continue // duplicate
    if (last !== undefined && id.seq === last.first + last.count) {
      last.count++
      continue
    }
    last = { first: id.seq, count: 1 }
    cur.ranges.push(last)
  }
  return out
}

/** Whether entries fit the codec's count limits (entries, ranges per entry, range length). */
function withinLimits(entries: readonly IdEntry[]): boolean {
  if (entries.length > MAX_ENTRIES) return false
  for (const e of entries) {
    if (e.ranges.length > MAX_RANGES) return false
    for (const r of e.ranges) if (r.count > MAX_RANGE_COUNT) return false
  }
  return true
}

/**
 * The longest prefix of `ids` (in the caller's priority order) that encodes as an id list of at
 * most `maxBytes` within the codec's limits, and whether that is all of them.
 */
export function fitIds(ids: readonly MessageId[], maxBytes: number): { entries: IdEntry[]; all: boolean } {
  const fits = (k: number): IdEntry[] | undefined => {
    const e = idsToEntries(ids.slice(0, k))
    return withinLimits(e) && idListSize(e) <= maxBytes ? e : undefined
  }
  const whole = fits(ids.length)
  if (whole !== undefined) return { entries: whole, all: true }
  let lo = 0, hi = ids.length - 1 // fits(lo) holds (the empty list fits any maxBytes ≥ 3), fits(hi + 1) does not
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (fits(mid) !== undefined) lo = mid
    else hi = mid - 1
  }
  return { entries: fits(lo) ?? [], all: false }
}

/** Every id of the entries, in order, at most `limit` of them. */
export function* entryIds(entries: readonly IdEntry[], limit = Infinity): Generator<MessageId> {
  let n = 0
  for (const e of entries) {
    for (const r of e.ranges) {
      for (let i = 0; i < r.count; i++) {
        if (n++ >= limit) return
        yield { origin: e.origin, stream: e.stream, seq: r.first + i }
      }
    }
  }
}

/** Whether seq lies in one of the (sorted) ranges. */
export function rangesHave(ranges: readonly IdRange[], seq: number): boolean {
  let lo = 0, hi = ranges.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const r = ranges[mid]
    if (seq < r.first) hi = mid - 1
    else if (seq >= r.first + r.count) lo = mid + 1
    else return true
  }
  return false
}

function decodeData(r: ByteReader, flags: number): PbData {
  if (flags & ~DATA_R) r.fail(`reserved DATA flag bits set: 0x${flags.toString(16)}`)
  const origin = r.nodeAddr('origin')
  const stream = r.u16('stream')
  const seq = r.u32('seq')
  const age = r.u16('age')
  const len = r.u16('len')
  const body = r.bytesView(len, 'body')
  if (r.remaining !== 0) r.fail(`DATA has ${r.remaining} trailing byte(s) after a ${len}-byte body`)
  return { type: PbcastMsgType.DATA, retransmission: flags === DATA_R, origin, stream, seq, age, body }
}

function decodeEntries(r: ByteReader, what: string): IdEntry[] {
  const n = r.u8('nEntries')
  const entries: IdEntry[] = []
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    const origin = r.nodeAddr('origin')
    const stream = r.u16('stream')
    const k = origin * 65536 + stream
    if (seen.has(k)) r.fail(`(origin ${origin}, stream ${stream}) listed twice`)
    seen.add(k)
    const nRanges = r.u8('nRanges')
    if (nRanges === 0) r.fail(`entry (${origin}, ${stream}) with no range`)
    const ranges: IdRange[] = []
    let end = -1
    for (let j = 0; j < nRanges; j++) {
      const first = r.u32('first')
      const count = r.u16('count')
      if (count === 0) r.fail(`empty range at ${first} of (${origin}, ${stream})`)
      if (first + count - 1 > 0xffffffff) r.fail(`range ${first}+${count} of (${origin}, ${stream}) passes 2^32 − 1`)
      if (first <= end) r.fail(`ranges of (${origin}, ${stream}) not sorted, disjoint and non-adjacent: ${first} after end ${end}`)
      end = first + count
      ranges.push({ first, count })
    }
    entries.push({ origin, stream, ranges })
  }
  if (r.remaining !== 0) r.fail(`${what} has ${r.remaining} trailing byte(s) after ${n} entr${n === 1 ? 'y' : 'ies'}`)
  return entries
}

/** Decode one pbcast datagram. Returns it or throws `DecodeError`; never throws anything else. */
export function decodePbcast(bytes: Uint8Array): PbcastWireMessage {
  const r = new ByteReader(bytes, 'pbcast message')
  if (bytes.length === 0) throw new DecodeError('pbcast message: empty', 0)
  const type = r.u8('type')
  if (type !== PbcastMsgType.DATA && type !== PbcastMsgType.DIGEST && type !== PbcastMsgType.SOLICIT) r.fail(`unknown message type ${type}`)
  const flags = r.u8('flags')
  switch (type) {
    case PbcastMsgType.DATA:
      return decodeData(r, flags)
    case PbcastMsgType.DIGEST:
      if (flags & ~DIGEST_C) r.fail(`reserved DIGEST flag bits set: 0x${flags.toString(16)}`)
      return { type: PbcastMsgType.DIGEST, complete: flags === DIGEST_C, entries: decodeEntries(r, 'DIGEST') }
    case PbcastMsgType.SOLICIT:
      if (flags !== 0) r.fail(`reserved SOLICIT flag bits set: 0x${flags.toString(16)}`)
      return { type: PbcastMsgType.SOLICIT, entries: decodeEntries(r, 'SOLICIT') }
    default:
      return r.fail(`unknown message type ${type}`)
  }
}

/**
 * Split a well-formed message's bytes among the streams it is about (per-stream load accounting):
 * DATA all to its stream; DIGEST and SOLICIT each entry's bytes to its stream, the 3-byte header to
 * the first entry's (nothing for an empty list). Only for bytes this module encoded or decoded.
 */
export function streamShares(bytes: Uint8Array, add: (stream: number, n: number) => void): void {
  if (bytes[0] === PbcastMsgType.DATA) return add((bytes[6] << 8) | bytes[7], bytes.length)
  let at = ID_LIST_BASE_SIZE
  for (let e = 0; e < bytes[2]; e++) {
    const stream = (bytes[at + 4] << 8) | bytes[at + 5]
    const size = ID_ENTRY_SIZE + ID_RANGE_SIZE * bytes[at + 6]
    add(stream, size + (e === 0 ? ID_LIST_BASE_SIZE : 0))
    at += size
  }
}