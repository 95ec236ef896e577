/**
 * AODV control messages (docs/wire-aodv.md), the payload of link DATA frames with proto AODV (2).
 * RFC 3561 fields in our own compact layout: 4-byte addresses, big-endian, first byte = message
 * type (RFC numbers 1–4; HELLO, an RFC "RREP with TTL 1", gets its own type 5 and layout because
 * our link frames carry no IP TTL). A new layout takes a new type number; unknown types are
 * rejected.
 *
 *   RREQ      type 1 | flags J R G D U | hops u8 | ttl u8 | rreqId u32 | dst u32 | dstSeq u32 | origin u32 | originSeq u32   24 bytes
 *   RREP      type 2 | flags R A       | hops u8 | dst u32 | dstSeq u32 | origin u32 | lifetime u32 ms                    19 bytes
 *   RERR      type 3 | flags N         | count u8 (1..255) | count × (dst u32 | dstSeq u32)                            3 + 8·count
 *   RREP-ACK  type 4                                                                                                   1 byte
 *   HELLO     type 5 | addr u32 | seq u32 | lifetime u32 ms                                                            13 bytes
 *   RREQ-S    type 6 | the RREQ's 23 bytes after its type | signature 64                                              88 bytes
 *   RREP-S    type 7 | the RREP's 18 bytes after its type | signature 64                                              83 bytes
 *
 * RREQ-S and RREP-S are the layouts of a secured network (signing.ts): the same fields plus the
 * origin's Ed25519 signature (the RREQ's originator, the RREP's destination). A decoded message
 * carries `signature` only when it had one; encoding a message with `signature` gives the signed
 * layout, without it the plain one (unchanged bytes).
 * Decoders are total: a message or a `DecodeError`, nothing else; reserved flag bits must be 0,
 * addresses must be node addresses, trailing bytes are rejected. Allocation is bounded by the
 * input (a RERR's list has at most 255 entries).
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'

export const MSG_RREQ = 1
export const MSG_RREP = 2
export const MSG_RERR = 3
export const MSG_RREP_ACK = 4
export const MSG_HELLO = 5
export const MSG_RREQ_S = 6
export const MSG_RREP_S = 7

export const RREQ_SIZE = 24
export const RREP_SIZE = 19
export const RERR_HEADER_SIZE = 3
export const RERR_ENTRY_SIZE = 8
export const RERR_MAX_ENTRIES = 255
export const RREP_ACK_SIZE = 1
export const HELLO_SIZE = 13
/** Ed25519 signature bytes (crypto/origin-auth.ts SIGNATURE_BYTES; a test keeps them equal). */
export const AODV_SIGNATURE_SIZE = 64
export const RREQ_S_SIZE = RREQ_SIZE + AODV_SIGNATURE_SIZE
export const RREP_S_SIZE = RREP_SIZE + AODV_SIGNATURE_SIZE

export interface Rreq {
  type: 'rreq'
  /** Join flag (multicast; carried, not used by unicast AODV). */
  j: boolean
  /** Repair flag (multicast; carried, not used by unicast AODV). */
  r: boolean
  /** Gratuitous RREP flag: an intermediate replier also tells the destination. */
  g: boolean
  /** Destination only: no intermediate replies. */
  d: boolean
  /** Unknown sequence number: `dstSeq` means nothing. */
  u: boolean
  /** Hops from the originator to the node that sent this copy. */
  hops: number
  /** Hops the RREQ may still make, counting the one that brought it: 1..255. */
  ttl: number
  id: number
  dst: Addr
  dstSeq: number
  origin: Addr
  originSeq: number
  /** RREQ-S only: the originator's signature (signing.ts), forwarded unchanged by relays. */
  signature?: Uint8Array
}

export interface Rrep {
  type: 'rrep'
  /** Repair flag (multicast; carried, not used by unicast AODV). */
  r: boolean
  /** Acknowledgment required: answer with a RREP-ACK. */
  a: boolean
  /** Hops from the sender of this copy to `dst`. */
  hops: number
  /** The destination the route leads to. */
  dst: Addr
  dstSeq: number
  /** The node that asked (the RREQ's originator): where the RREP travels. */
  origin: Addr
  /** Route lifetime, ms from reception. */
  lifetimeMs: number
  /** RREP-S only: the destination's signature (signing.ts), forwarded unchanged by relays. */
  signature?: Uint8Array
}

export interface RerrEntry {
  dst: Addr
  seq: number
}

export interface Rerr {
  type: 'rerr'
  /** No delete: a local repair is under way; upstream nodes keep the route. */
  n: boolean
  unreachable: RerrEntry[]
}

export interface RrepAck {
  type: 'rrep-ack'
}

export interface Hello {
  type: 'hello'
  /** The sender (must equal the link-level sender). */
  addr: Addr
  /** The sender's own sequence number. */
  seq: number
  /** How long receivers may consider the sender a neighbour, ms. */
  lifetimeMs: number
}

export type AodvMessage = Rreq | Rrep | Rerr | RrepAck | Hello

const bit = (b: boolean, n: number): number => (b ? 1 << n : 0)

function signature(s: Uint8Array | undefined): Uint8Array | undefined {
  if (s !== undefined && s.length !== AODV_SIGNATURE_SIZE) throw new RangeError(`a signature is ${AODV_SIGNATURE_SIZE} bytes, got ${s.length}`)
  return s
}

/** RREQ (type 1), or RREQ-S (type 6) when `m.signature` is given. */
export function encodeRreq(m: Omit<Rreq, 'type'>): Uint8Array {
  const sig = signature(m.signature)
  const flags = bit(m.j, 7) | bit(m.r, 6) | bit(m.g, 5) | bit(m.d, 4) | bit(m.u, 3)
  const w = new ByteWriter(sig ? RREQ_S_SIZE : RREQ_SIZE)
    .u8(sig ? MSG_RREQ_S : MSG_RREQ).u8(flags).u8(m.hops).u8(m.ttl).u32(m.id).u32(m.dst).u32(m.dstSeq).u32(m.origin).u32(m.originSeq)
  if (sig) w.raw(sig)
  return w.done()
}

/** RREP (type 2), or RREP-S (type 7) when `m.signature` is given. */
export function encodeRrep(m: Omit<Rrep, 'type'>): Uint8Array {
  const sig = signature(m.signature)
  const flags = bit(m.r, 7) | bit(m.a, 6)
  const w = new ByteWriter(sig ? RREP_S_SIZE : RREP_SIZE)
    .u8(sig ? MSG_RREP_S : MSG_RREP).u8(flags).u8(m.hops).u32(m.dst).u32(m.dstSeq).u32(m.origin).u32(m.lifetimeMs)
  if (sig) w.raw(sig)
  return w.done()
}

export function encodeRerr(m: Omit<Rerr, 'type'>): Uint8Array {
  const n = m.unreachable.length
  if (n < 1 || n > RERR_MAX_ENTRIES) throw new RangeError(`a RERR lists 1..${RERR_MAX_ENTRIES} destinations, got ${n}`)
  const w = new ByteWriter(RERR_HEADER_SIZE + RERR_ENTRY_SIZE * n).u8(MSG_RERR).u8(bit(m.n, 7)).u8(n)
  for (const e of m.unreachable) w.u32(e.dst).u32(e.seq)
  return w.done()
}

export function encodeRrepAck(): Uint8Array {
  return Uint8Array.of(MSG_RREP_ACK)
}

export function encodeHello(m: Omit<Hello, 'type'>): Uint8Array {
  return new ByteWriter(HELLO_SIZE).u8(MSG_HELLO).u32(m.addr).u32(m.seq).u32(m.lifetimeMs).done()
}

function nodeAddr(r: ByteReader, field: string): Addr {
  const a = r.u32(field)
  if (!isNodeAddr(a)) r.fail(`${field} ${a} is not a node address`)
  return a
}

function flags(r: ByteReader, allowed: number): number {
  const f = r.u8('flags')
  if ((f & ~allowed) !== 0) r.fail(`reserved flag bits set (0x${f.toString(16)})`)
  return f
}

function end(r: ByteReader): void {
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
}

/** Decode one control message. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeAodv(bytes: Uint8Array): AodvMessage {
  const r = new ByteReader(bytes, 'aodv message')
  const type = r.u8('type')
  switch (type) {
    case MSG_RREQ:
    case MSG_RREQ_S: {
      const f = flags(r, 0xf8)
      const hops = r.u8('hops')
      const ttl = r.u8('ttl')
      if (ttl === 0) r.fail('ttl 0')
      const id = r.u32('rreqId')
      const dst = nodeAddr(r, 'dst')
      const dstSeq = r.u32('dstSeq')
      const origin = nodeAddr(r, 'origin')
      const originSeq = r.u32('originSeq')
      const sig = type === MSG_RREQ_S ? r.bytesView(AODV_SIGNATURE_SIZE, 'signature').slice() : undefined
      end(r)
      const m: Rreq = { type: 'rreq', j: (f & 0x80) !== 0, r: (f & 0x40) !== 0, g: (f & 0x20) !== 0, d: (f & 0x10) !== 0, u: (f & 0x08) !== 0, hops, ttl, id, dst, dstSeq, origin, originSeq }
      if (sig !== undefined) m.signature = sig
      return m
    }
    case MSG_RREP:
    case MSG_RREP_S: {
      const f = flags(r, 0xc0)
      const hops = r.u8('hops')
      const dst = nodeAddr(r, 'dst')
      const dstSeq = r.u32('dstSeq')
      const origin = nodeAddr(r, 'origin')
      const lifetimeMs = r.u32('lifetime')
      const sig = type === MSG_RREP_S ? r.bytesView(AODV_SIGNATURE_SIZE, 'signature').slice() : undefined
      end(r)
      const m: Rrep = { type: 'rrep', r: (f & 0x80) !== 0, a: (f & 0x40) !== 0, hops, dst, dstSeq, origin, lifetimeMs }
      if (sig !== undefined) m.signature = sig
      return m
    }
    case MSG_RERR: {
      const f = flags(r, 0x80)
      const count = r.u8('count')
      if (count === 0) r.fail('count 0')
      if (r.remaining !== count * RERR_ENTRY_SIZE) r.fail(`count ${count} needs ${count * RERR_ENTRY_SIZE} bytes of entries, got ${r.remaining}`)
      const unreachable: RerrEntry[] = []
      for (let i = 0; i < count; i++) unreachable.push({ dst: nodeAddr(r, 'dst'), seq: r.u32('dstSeq') })
      return { type: 'rerr', n: (f & 0x80) !== 0, unreachable }
    }
    case MSG_RREP_ACK:
      end(r)
      return { type: 'rrep-ack' }
    case MSG_HELLO: {
      const addr = nodeAddr(r, 'addr')
      const seq = r.u32('seq')
      const lifetimeMs = r.u32('lifetime')
      end(r)
      return { type: 'hello', addr, seq, lifetimeMs }
    }
    default:
      return r.fail(`unknown message type ${type}`)
  }
}
