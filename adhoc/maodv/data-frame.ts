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
 * the fields no relay changes; `ttl` and `hops` stay mutable. Batch mode (§11.2, batch-frame.ts)
 * adds two `auth` kinds to the same layout family:
 *
 *   auth 2 (batched)  origin | group | seq | ttl | hops | auth u8 = 2 | payload          (15 + payload)
 *   auth 3 (DIGEST)   origin | group | seq | ttl | hops | auth u8 = 3 | signature (64) | body
 *
 * A batched packet carries no signature: a later DIGEST lists its hash. A DIGEST's signature covers
 * `DIGEST_SIGN_DOMAIN ‖ origin ‖ group ‖ seq ‖ body`. Other `auth` values are rejected.
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
/** The `auth` byte of a batched packet (no signature; a DIGEST lists its hash). */
export const AUTH_BATCHED = 2
/** The `auth` byte of a DIGEST (signature, then the body of batch-frame.ts). */
export const AUTH_DIGEST = 3
export type AuthKind = typeof AUTH_SIGNED | typeof AUTH_BATCHED | typeof AUTH_DIGEST
/** Header of a batched packet: the plain header and `auth`. */
export const BATCHED_DATA_HEADER_SIZE = DATA_HEADER_SIZE + 1
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
  /** For a DIGEST (auth 3): its body. */
  payload: Uint8Array
  /** The origin's signature (auth 1: over the packet; auth 3: over the DIGEST). */
  signature?: Uint8Array
  /** The authenticated layouts' `auth` kind; absent in the open layout (and, when encoding, 1 if `signature` is present). */
  auth?: AuthKind
}

/** Encode; the open layout without `auth` and `signature`, else the authenticated layout of kind `auth` (default 1). */
export function encodeData(h: DataHeader): Uint8Array {
  const auth = h.auth ?? (h.signature === undefined ? undefined : AUTH_SIGNED)
  if (auth === undefined) {
    return new ByteWriter(DATA_HEADER_SIZE + h.payload.length).u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).raw(h.payload).done()
  }
  if (auth === AUTH_BATCHED) {
    if (h.signature !== undefined) throw new RangeError('a batched multicast packet (auth 2) carries no signature')
    return new ByteWriter(BATCHED_DATA_HEADER_SIZE + h.payload.length).u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).u8(auth).raw(h.payload).done()
  }
  if (auth !== AUTH_SIGNED && auth !== AUTH_DIGEST) throw new RangeError(`unknown multicast auth kind ${String(auth)}`)
  if (h.signature === undefined || h.signature.length !== SIGNATURE_BYTES) {
    throw new RangeError(`a multicast signature is ${SIGNATURE_BYTES} bytes, got ${h.signature?.length ?? 'none'}`)
  }
  return new ByteWriter(SIGNED_DATA_HEADER_SIZE + h.payload.length)
    .u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).u8(auth).raw(h.signature).raw(h.payload).done()
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

/**
 * Decode a multicast data packet of an authenticated network (§11.1–11.2): signed, batched or a
 * DIGEST, with `auth` set. Returns it or throws `DecodeError`; never throws anything else. A DIGEST's
 * body is decoded by the member that verifies it (batch-frame.ts decodeDigestBody).
 */
export function decodeSignedData(bytes: Uint8Array): DataHeader {
  const r = new ByteReader(bytes, 'signed multicast data header')
  const h = decodeFixed(r)
  const auth = r.u8('auth')
  if (auth === AUTH_BATCHED) return { ...h, auth, payload: r.rest() }
  if (auth !== AUTH_SIGNED && auth !== AUTH_DIGEST) r.fail(`unknown auth kind ${auth}`)
  const signature = r.bytesView(SIGNATURE_BYTES, 'signature')
  return { ...h, auth: auth as AuthKind, signature, payload: r.rest() }
}
