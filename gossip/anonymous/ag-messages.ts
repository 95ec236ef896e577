/**
 * Anonymous gossip wire messages (docs/WIRE.md §12). Fixed big-endian layouts, the first byte the
 * message type:
 *
 *   DATA    1   7 + payload           the AG header inside an MAODV multicast data packet (§11):
 *                                     the origin's per-group AG sequence number and stream index
 *   GOSSIP  2   15 + Σ(9 + 2·count)   a walk on the multicast tree (link unicast between tree
 *                                     neighbours, proto GOSSIP), or with C a cached gossip routed
 *                                     straight to one member: per source the next expected seq and
 *                                     the missing seqs as 16-bit offsets back from it
 *   REPLY   3   10 + Σ(10 + len)      the messages the accepting member sends back (routed unicast)
 *                                     with `S` (authenticated networks) 10 + Σ(80 + len): each
 *                                     message also carries its MAODV seq, its stream index and its
 *                                     origin's signature, so the receiver verifies it exactly like
 *                                     a packet the tree delivered (WIRE.md §12.4)
 *                                     with `S`+`B` (batch mode, §12.5) 11 + Σ(74 + body) + Σ(16 + len):
 *                                     the signed DIGESTs that list the carried packets (MAODV
 *                                     §11.2), then each message with its MAODV seq and stream
 *                                     index; the receiver checks each message's hash against a
 *                                     DIGEST it verified (here or earlier, from the tree)
 *
 * Missing sequence numbers travel as offsets `next − seq` (1..65535, strictly increasing, so
 * newest missing first): 2 bytes instead of 4, and no duplicate can be encoded. Decoders are total:
 * any input gives a message or a `DecodeError`; they reject unknown types, reserved bits, address
 * fields of the wrong kind, inconsistent flags and lengths other than the exact size, and allocate
 * only the result (payloads are views into the input; lists are bounded by the count bytes).
 */
import { isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { SIGNATURE_BYTES } from '../../crypto/origin-auth.ts'

export const AgMsgType = { DATA: 1, GOSSIP: 2, REPLY: 3 } as const

/** DATA: type u8, seq u32, index u16. */
export const AG_DATA_HEADER_SIZE = 7
/** DATA `index` saturates here. */
export const MAX_STREAM_INDEX = 0xffff
/** GOSSIP without its source entries. */
export const GOSSIP_BASE_SIZE = 15
/** Per source entry, before its offsets (2 bytes each): source u32, next u32, count u8. */
export const GOSSIP_SOURCE_SIZE = 9
/** GOSSIP-REPLY without its messages. */
export const REPLY_BASE_SIZE = 10
/** Per carried message, before its payload: origin u32, seq u32, len u16. */
export const REPLY_MESSAGE_SIZE = 10
/** Per carried message of a signed reply, before its payload: + mseq u32, index u16, signature (64). */
export const SIGNED_REPLY_MESSAGE_SIZE = REPLY_MESSAGE_SIZE + 6 + SIGNATURE_BYTES
/** GOSSIP-REPLY flag: the messages carry their proofs (signed layout). */
export const REPLY_S = 0x80
/** GOSSIP-REPLY flag (with S): batch layout, proofs are the DIGESTs carried before the messages. */
export const REPLY_B = 0x40
/** Batch layout: the base and the DIGEST count. */
export const BATCH_REPLY_BASE_SIZE = REPLY_BASE_SIZE + 1
/** Per carried DIGEST, before its body: origin u32, seq u32, len u16, signature (64). */
export const REPLY_DIGEST_SIZE = 10 + SIGNATURE_BYTES
/** Per carried message of a batch reply, before its payload: origin u32, seq u32, mseq u32, index u16, len u16. */
export const BATCH_REPLY_MESSAGE_SIZE = REPLY_MESSAGE_SIZE + 6
export const MAX_REPLY_DIGESTS = 255
export const MAX_GOSSIP_SOURCES = 32
export const MAX_MISSING_PER_SOURCE = 255
/** The farthest a missing seq can lie behind `next`. */
export const MAX_MISSING_OFFSET = 65535
/** The largest payload a GOSSIP-REPLY message can carry (its `len` is u16). */
export const MAX_REPLY_PAYLOAD = 65535
export const MAX_REPLY_MESSAGES = 255

/** GOSSIP flags. */
export const GOSSIP_C = 0x80

export interface AgData {
  type: typeof AgMsgType.DATA
  /** The origin's AG sequence number for the group (u32, random start, +1 per packet, wraps). */
  seq: number
  /**
   * Packets the origin sent to the group before this one, saturating at 65535: a member hearing a
   * stream for the first time knows how many came before (sequence numbers start at random).
   */
  index: number
  payload: Uint8Array
}

export interface GossipSource {
  source: Addr
  /** The initiator's next expected seq from `source` (highest received + 1). */
  next: number
  /** Missing seqs, each within [next − 65535, next − 1] (serial arithmetic). Decoded: newest first. */
  missing: number[]
}

export interface Gossip {
  type: typeof AgMsgType.GOSSIP
  /** Addressed to one member (routed unicast), which always accepts. */
  cached: boolean
  /** Tree hops the walk has made (0 as sent by the initiator; 0 for cached). */
  hops: number
  /** Hops the walk may still make, 1..255; 0 when cached. */
  ttl: number
  /** Round id chosen by the initiator, echoed by the reply (u16). */
  id: number
  group: Addr
  initiator: Addr
  sources: GossipSource[]
}

/**
 * What lets a receiver verify a recovered message like one from the tree: the MAODV packet's
 * sequence number, the AG stream index, and either the origin's signature over that packet
 * (adhoc/maodv/data-frame.ts dataSignedBytes over the AG DATA bytes) or, in batch mode, the signed
 * DIGEST that lists its hash. On the wire a signed reply carries `signature`; a batch reply
 * carries neither (its DIGESTs travel beside the messages); `digest` is what a history keeps.
 */
export interface MessageProof {
  mseq: number
  index: number
  signature?: Uint8Array
  digest?: ReplyDigest
}

/** A signed DIGEST of multicast batch mode (adhoc/maodv/batch-frame.ts SignedDigest without its group: the reply's). */
export interface ReplyDigest {
  origin: Addr
  /** The DIGEST packet's MAODV seq. */
  seq: number
  body: Uint8Array
  signature: Uint8Array
}

export interface ReplyMessage {
  origin: Addr
  seq: number
  payload: Uint8Array
  /** Present on every message of a signed reply, on none of an open one. */
  proof?: MessageProof
}

export interface GossipReply {
  type: typeof AgMsgType.REPLY
  /** Tree hops the walk made to reach the replier (0 for cached gossip). */
  walkHops: number
  id: number
  group: Addr
  /** Batch layout only (flags S+B): the DIGESTs proving the messages; messages then carry `proof` without `signature`. */
  digests?: ReplyDigest[]
  messages: ReplyMessage[]
}

export type AgMessage = AgData | Gossip | GossipReply

/** Encoded size of a GOSSIP listing these sources. */
export function gossipSize(sources: readonly { missing: readonly unknown[] }[]): number {
  let n = GOSSIP_BASE_SIZE
  for (const s of sources) n += GOSSIP_SOURCE_SIZE + 2 * s.missing.length
  return n
}

/** Bytes one message adds to a GOSSIP-REPLY (`signed`: with its signature; `batch`: in the batch layout). */
export function replyMessageSize(payloadLength: number, signed = false, batch = false): number {
  return (batch ? BATCH_REPLY_MESSAGE_SIZE : signed ? SIGNED_REPLY_MESSAGE_SIZE : REPLY_MESSAGE_SIZE) + payloadLength
}

/** Bytes one DIGEST adds to a batch GOSSIP-REPLY. */
export function replyDigestSize(d: { body: Uint8Array }): number {
  return REPLY_DIGEST_SIZE + d.body.length
}

function checkInt(v: number, max: number, what: string, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${v}`)
}

function checkNode(a: Addr, what: string): void {
  if (!isNodeAddr(a)) throw new RangeError(`${what} ${a} is not a node address`)
}

function checkGroup(a: Addr): void {
  if (!isGroupAddr(a)) throw new RangeError(`group ${a} is not a group address`)
}

export function encodeAgData(seq: number, index: number, payload: Uint8Array): Uint8Array {
  checkInt(seq, 0xffffffff, 'seq')
  checkInt(index, MAX_STREAM_INDEX, 'index')
  return new ByteWriter(AG_DATA_HEADER_SIZE + payload.length).u8(AgMsgType.DATA).u32(seq).u16(index).raw(payload).done()
}

function checkWalk(cached: boolean, hops: number, ttl: number): void {
  checkInt(hops, 255, 'hops')
  if (cached) {
    if (ttl !== 0) throw new RangeError(`a cached GOSSIP has ttl 0, got ${ttl}`)
  } else {
    checkInt(ttl, 255, 'a walking GOSSIP ttl', 1)
    if (hops + ttl > 255) throw new RangeError(`a walk's hops + ttl must be at most 255, got ${hops} + ${ttl}`)
  }
}

/** Encode a GOSSIP; `missing` are sequence numbers, turned into sorted offsets from `next`. */
export function encodeGossip(m: Omit<Gossip, 'type'>): Uint8Array {
  checkWalk(m.cached, m.hops, m.ttl)
  checkInt(m.id, 0xffff, 'id')
  checkGroup(m.group)
  checkNode(m.initiator, 'initiator')
  if (m.sources.length > MAX_GOSSIP_SOURCES) throw new RangeError(`a GOSSIP lists at most ${MAX_GOSSIP_SOURCES} sources, got ${m.sources.length}`)
  const seen = new Set<Addr>()
  const offsets: number[][] = []
  for (const s of m.sources) {
    checkNode(s.source, 'source')
    if (seen.has(s.source)) throw new RangeError(`source ${s.source} is listed twice`)
    seen.add(s.source)
    checkInt(s.next, 0xffffffff, `next of source ${s.source}`)
    if (s.missing.length > MAX_MISSING_PER_SOURCE) {
      throw new RangeError(`at most ${MAX_MISSING_PER_SOURCE} missing seqs per source, got ${s.missing.length} for source ${s.source}`)
    }
    const o: number[] = []
    for (const seq of s.missing) {
      checkInt(seq, 0xffffffff, `missing seq of source ${s.source}`)
      const off = (s.next - seq) >>> 0
      if (off < 1 || off > MAX_MISSING_OFFSET) {
        throw new RangeError(`missing seq ${seq} of source ${s.source} is not within [next − ${MAX_MISSING_OFFSET}, next − 1] (next ${s.next})`)
      }
      o.push(off)
    }
    o.sort((a, b) => a - b)
    for (let i = 1; i < o.length; i++) {
      if (o[i] === o[i - 1]) throw new RangeError(`missing seq ${(s.next - o[i]) >>> 0} of source ${s.source} is listed twice`)
    }
    offsets.push(o)
  }
  const w = new ByteWriter(gossipSize(m.sources))
    .u8(AgMsgType.GOSSIP).u8(m.cached ? GOSSIP_C : 0).u8(m.hops).u8(m.ttl).u16(m.id).u32(m.group).u32(m.initiator).u8(m.sources.length)
  m.sources.forEach((s, i) => {
    w.u32(s.source).u32(s.next).u8(offsets[i].length)
    for (const off of offsets[i]) w.u16(off)
  })
  return w.done()
}

export function encodeReply(m: Omit<GossipReply, 'type'>): Uint8Array {
  checkInt(m.walkHops, 255, 'walkHops')
  checkInt(m.id, 0xffff, 'id')
  checkGroup(m.group)
  if (m.digests !== undefined) return encodeBatchReply(m, m.digests)
  checkInt(m.messages.length, MAX_REPLY_MESSAGES, 'a GOSSIP-REPLY message count', 1)
  const signed = m.messages[0].proof !== undefined
  let size = REPLY_BASE_SIZE
  for (const x of m.messages) {
    checkNode(x.origin, 'origin')
    checkInt(x.seq, 0xffffffff, 'seq')
    if (x.payload.length > MAX_REPLY_PAYLOAD) throw new RangeError(`a GOSSIP-REPLY payload is at most ${MAX_REPLY_PAYLOAD} bytes, got ${x.payload.length}`)
    if ((x.proof !== undefined) !== signed) throw new RangeError('a GOSSIP-REPLY carries proofs on all its messages or on none')
    if (x.proof !== undefined) {
      checkInt(x.proof.mseq, 0xffffffff, 'mseq')
      checkInt(x.proof.index, MAX_STREAM_INDEX, 'index')
      if (x.proof.signature?.length !== SIGNATURE_BYTES) throw new RangeError(`a signature is ${SIGNATURE_BYTES} bytes, got ${x.proof.signature?.length ?? 'none'}`)
    }
    size += replyMessageSize(x.payload.length, signed)
  }
  const w = new ByteWriter(size).u8(AgMsgType.REPLY).u8(signed ? REPLY_S : 0).u8(m.walkHops).u8(m.messages.length).u16(m.id).u32(m.group)
  for (const x of m.messages) {
    w.u32(x.origin).u32(x.seq)
    if (x.proof !== undefined) w.u32(x.proof.mseq).u16(x.proof.index)
    w.u16(x.payload.length)
    if (x.proof !== undefined) w.raw(x.proof.signature!)
    w.raw(x.payload)
  }
  return w.done()
}

function encodeBatchReply(m: Omit<GossipReply, 'type'>, digests: readonly ReplyDigest[]): Uint8Array {
  checkInt(m.messages.length, MAX_REPLY_MESSAGES, 'a batch GOSSIP-REPLY message count')
  checkInt(digests.length, MAX_REPLY_DIGESTS, 'a batch GOSSIP-REPLY DIGEST count')
  if (m.messages.length + digests.length === 0) throw new RangeError('a batch GOSSIP-REPLY carries at least one message or DIGEST')
  let size = BATCH_REPLY_BASE_SIZE
  for (const d of digests) {
    checkNode(d.origin, 'DIGEST origin')
    checkInt(d.seq, 0xffffffff, 'DIGEST seq')
    if (d.body.length > MAX_REPLY_PAYLOAD) throw new RangeError(`a DIGEST body is at most ${MAX_REPLY_PAYLOAD} bytes, got ${d.body.length}`)
    if (d.signature.length !== SIGNATURE_BYTES) throw new RangeError(`a DIGEST signature is ${SIGNATURE_BYTES} bytes, got ${d.signature.length}`)
    size += replyDigestSize(d)
  }
  for (const x of m.messages) {
    checkNode(x.origin, 'origin')
    checkInt(x.seq, 0xffffffff, 'seq')
    if (x.payload.length > MAX_REPLY_PAYLOAD) throw new RangeError(`a GOSSIP-REPLY payload is at most ${MAX_REPLY_PAYLOAD} bytes, got ${x.payload.length}`)
    if (x.proof === undefined || x.proof.signature !== undefined) throw new RangeError('a batch GOSSIP-REPLY message carries its mseq and index and no signature')
    checkInt(x.proof.mseq, 0xffffffff, 'mseq')
    checkInt(x.proof.index, MAX_STREAM_INDEX, 'index')
    size += replyMessageSize(x.payload.length, true, true)
  }
  const w = new ByteWriter(size).u8(AgMsgType.REPLY).u8(REPLY_S | REPLY_B).u8(m.walkHops).u8(m.messages.length).u16(m.id).u32(m.group).u8(digests.length)
  for (const d of digests) w.u32(d.origin).u32(d.seq).u16(d.body.length).raw(d.signature).raw(d.body)
  for (const x of m.messages) w.u32(x.origin).u32(x.seq).u32(x.proof!.mseq).u16(x.proof!.index).u16(x.payload.length).raw(x.payload)
  return w.done()
}

/**
 * A copy of an encoded walking GOSSIP with `hops` and `ttl` (bytes 2–3) rewritten, for forwarding
 * a walk without re-encoding it.
 */
export function withHops(gossipBytes: Uint8Array, hops: number, ttl: number): Uint8Array {
  if (gossipBytes.length < GOSSIP_BASE_SIZE || gossipBytes[0] !== AgMsgType.GOSSIP) {
    throw new RangeError('withHops needs an encoded GOSSIP')
  }
  checkWalk((gossipBytes[1] & GOSSIP_C) !== 0, hops, ttl)
  const out = gossipBytes.slice()
  out[2] = hops
  out[3] = ttl
  return out
}

function node(r: ByteReader, field: string): Addr {
  const a = r.u32(field)
  if (!isNodeAddr(a)) r.fail(`${field} ${a} is not a node address`)
  return a
}

function group(r: ByteReader): Addr {
  const g = r.u32('group')
  if (!isGroupAddr(g)) r.fail(`group ${g} is not a group address`)
  return g
}

function decodeData(r: ByteReader): AgData {
  r.u8('type')
  const seq = r.u32('seq')
  const index = r.u16('index')
  return { type: AgMsgType.DATA, seq, index, payload: r.rest() }
}

function decodeGossip(r: ByteReader): Gossip {
  r.u8('type')
  const flags = r.u8('flags')
  if (flags & ~GOSSIP_C & 0xff) r.fail(`reserved GOSSIP flag bits set: 0x${flags.toString(16)}`)
  const cached = flags === GOSSIP_C
  const hops = r.u8('hops')
  const ttl = r.u8('ttl')
  if (cached && ttl !== 0) r.fail(`cached GOSSIP with ttl ${ttl} (must be 0)`)
  if (!cached && ttl === 0) r.fail('walking GOSSIP with ttl 0')
  // A walk starts with hops 0 and ttl ≤ 255 and each hop moves one from ttl to hops.
  if (hops + ttl > 255) r.fail(`walking GOSSIP with hops ${hops} + ttl ${ttl} > 255`)
  const id = r.u16('id')
  const g = group(r)
  const initiator = node(r, 'initiator')
  const n = r.u8('nSources')
  if (n > MAX_GOSSIP_SOURCES) r.fail(`GOSSIP lists ${n} sources, at most ${MAX_GOSSIP_SOURCES}`)
  const sources: GossipSource[] = []
  for (let i = 0; i < n; i++) {
    const source = node(r, 'source')
    for (const s of sources) if (s.source === source) r.fail(`source ${source} listed twice`)
    const next = r.u32('next')
    const count = r.u8('count')
    const missing: number[] = []
    let prev = 0
    for (let j = 0; j < count; j++) {
      const off = r.u16('offset')
      if (off === 0) r.fail(`missing offset 0 for source ${source}`)
      if (off <= prev) r.fail(`missing offsets of source ${source} not strictly increasing: ${off} after ${prev}`)
      prev = off
      missing.push((next - off) >>> 0)
    }
    sources.push({ source, next, missing })
  }
  if (r.remaining !== 0) r.fail(`GOSSIP has ${r.remaining} trailing byte(s) after ${n} source(s)`)
  return { type: AgMsgType.GOSSIP, cached, hops, ttl, id, group: g, initiator, sources }
}

function decodeReply(r: ByteReader): GossipReply {
  r.u8('type')
  const flags = r.u8('flags')
  if (flags !== 0 && flags !== REPLY_S && flags !== (REPLY_S | REPLY_B)) r.fail(`reserved GOSSIP-REPLY flags set: 0x${flags.toString(16)}`)
  const signed = flags === REPLY_S
  const walkHops = r.u8('walkHops')
  const count = r.u8('count')
  const id = r.u16('id')
  const g = group(r)
  if (flags === (REPLY_S | REPLY_B)) return decodeBatchReply(r, walkHops, count, id, g)
  if (count === 0) r.fail('GOSSIP-REPLY with count 0')
  const messages: ReplyMessage[] = []
  for (let i = 0; i < count; i++) {
    const origin = node(r, 'origin')
    const seq = r.u32('seq')
    if (!signed) {
      const len = r.u16('len')
      messages.push({ origin, seq, payload: r.bytesView(len, 'payload') })
      continue
    }
    const mseq = r.u32('mseq')
    const index = r.u16('index')
    const len = r.u16('len')
    const signature = r.bytesView(SIGNATURE_BYTES, 'signature')
    messages.push({ origin, seq, payload: r.bytesView(len, 'payload'), proof: { mseq, index, signature } })
  }
  if (r.remaining !== 0) r.fail(`GOSSIP-REPLY has ${r.remaining} trailing byte(s) after ${count} message(s)`)
  return { type: AgMsgType.REPLY, walkHops, id, group: g, messages }
}

function decodeBatchReply(r: ByteReader, walkHops: number, count: number, id: number, g: Addr): GossipReply {
  const nDigests = r.u8('nDigests')
  if (count + nDigests === 0) r.fail('batch GOSSIP-REPLY with no message and no DIGEST')
  const digests: ReplyDigest[] = []
  for (let i = 0; i < nDigests; i++) {
    const origin = node(r, 'DIGEST origin')
    const seq = r.u32('DIGEST seq')
    const len = r.u16('DIGEST len')
    const signature = r.bytesView(SIGNATURE_BYTES, 'DIGEST signature')
    digests.push({ origin, seq, body: r.bytesView(len, 'DIGEST body'), signature })
  }
  const messages: ReplyMessage[] = []
  for (let i = 0; i < count; i++) {
    const origin = node(r, 'origin')
    const seq = r.u32('seq')
    const mseq = r.u32('mseq')
    const index = r.u16('index')
    const len = r.u16('len')
    messages.push({ origin, seq, payload: r.bytesView(len, 'payload'), proof: { mseq, index } })
  }
  if (r.remaining !== 0) r.fail(`batch GOSSIP-REPLY has ${r.remaining} trailing byte(s)`)
  return { type: AgMsgType.REPLY, walkHops, id, group: g, digests, messages }
}

/** Decode one anonymous-gossip message. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeAg(bytes: Uint8Array): AgMessage {
  const r = new ByteReader(bytes, 'AG message')
  if (bytes.length === 0) r.fail('empty')
  switch (bytes[0]) {
    case AgMsgType.DATA: return decodeData(r)
    case AgMsgType.GOSSIP: return decodeGossip(r)
    case AgMsgType.REPLY: return decodeReply(r)
    default: return r.fail(`unknown message type ${bytes[0]}`)
  }
}
