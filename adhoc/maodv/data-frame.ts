/**
 * The multicast data header (docs/WIRE.md §11), carried in link DATA frames with proto
 * MULTICAST_DATA (5), sent by link broadcast to every activated tree neighbour at once (or unicast
 * when there is exactly one):
 *
 *   origin u32 | group u32 | seq u32 | ttl u8 | hops u8 | payload      (14 bytes + payload)
 *
 * In an authenticated network (a network-wide mode: every node runs MAODV with `security`, and the
 * link admits no other node) the packet carries its origin's Ed25519 signature (§11.1):
 *
 *   origin u32 | group u32 | seq u32 | ttl u8 | hops u8 | auth u8 = 1 | signature (64) | payload
 *
 * (79 bytes + payload). The signature covers `DATA_SIGN_DOMAIN ‖ origin ‖ group ‖ seq ‖ payload`,
 * the fields no relay changes; `ttl` and `hops` stay mutable. `auth` values other than 1 are
 * rejected (reserved for amortised modes).
 *
 * The previous hop is the link frame's `src`: a receiver accepts the packet only when that node is
 * one of its activated tree neighbours for `group`, so nodes that overhear a tree broadcast
 * without being on that branch ignore it. Duplicates are suppressed per (`origin`, `seq`). The
 * decoders are total and allocate only the result; `payload` and `signature` are views into the
 * input.
 */
import { isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { SIGNATURE_BYTES } from '../../crypto/origin-auth.ts'

export const DATA_HEADER_SIZE = 14
/** The `auth` byte of a per-packet signed packet. */
export const AUTH_SIGNED = 1
/** Header of a signed packet: the plain header, `auth`, the signature. */
export const SIGNED_DATA_HEADER_SIZE = DATA_HEADER_SIZE + 1 + SIGNATURE_BYTES
/** What the origin's signature of a multicast packet starts with (domain separation). */
export const DATA_SIGN_DOMAIN = new TextEncoder().encode('spinmesh/maodv-data/1\0')

export interface DataHeader {
  /** The node that originated the packet. */
  origin: Addr
  group: Addr
  /** The origin's sequence number, u32, starting at a random value. */
  seq: number
  /** Hops the packet may still make including the one that carried it, 1..255. */
  ttl: number
  /** Radio hops made before the transmission that carried it. */
  hops: number
  payload: Uint8Array
  /** The origin's signature (signed layout only). */
  signature?: Uint8Array
}

/** Encode; the signed layout when `h.signature` is present. */
export function encodeData(h: DataHeader): Uint8Array {
  if (h.signature === undefined) {
    return new ByteWriter(DATA_HEADER_SIZE + h.payload.length).u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).raw(h.payload).done()
  }
  if (h.signature.length !== SIGNATURE_BYTES) throw new RangeError(`a multicast signature is ${SIGNATURE_BYTES} bytes, got ${h.signature.length}`)
  return new ByteWriter(SIGNED_DATA_HEADER_SIZE + h.payload.length)
    .u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).u8(AUTH_SIGNED).raw(h.signature).raw(h.payload).done()
}

/** The bytes an origin signs for a multicast packet (its immutable fields). */
export function dataSignedBytes(origin: Addr, group: Addr, seq: number, payload: Uint8Array): Uint8Array {
  return new ByteWriter(DATA_SIGN_DOMAIN.length + 12 + payload.length).raw(DATA_SIGN_DOMAIN).u32(origin).u32(group).u32(seq).raw(payload).done()
}

function decodeFixed(r: ByteReader): Omit<DataHeader, 'payload'> {
  const origin = r.u32('origin')
  if (!isNodeAddr(origin)) r.fail(`origin ${origin} is not a node address`)
  const group = r.u32('group')
  if (!isGroupAddr(group)) r.fail(`group ${group} is not a group address`)
  const seq = r.u32('seq')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  return { origin, group, seq, ttl, hops }
}

/** Decode a multicast data packet. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeData(bytes: Uint8Array): DataHeader {
  const r = new ByteReader(bytes, 'multicast data header')
  const h = decodeFixed(r)
  return { ...h, payload: r.rest() }
}

/** Decode a signed multicast data packet (§11.1). Returns it or throws `DecodeError`; never throws anything else. */
export function decodeSignedData(bytes: Uint8Array): DataHeader {
  const r = new ByteReader(bytes, 'signed multicast data header')
  const h = decodeFixed(r)
  const auth = r.u8('auth')
  if (auth !== AUTH_SIGNED) r.fail(`unknown auth kind ${auth}`)
  const signature = r.bytesView(SIGNATURE_BYTES, 'signature')
  return { ...h, signature, payload: r.rest() }
}
