/**
 * The routed data header (docs/wire-aodv.md), the payload of link DATA frames with proto
 * ROUTED_DATA (3), unicast hop by hop along an AODV route:
 *
 *   origin u32 | dst u32 | seq u32 | ttl u8 | hops u8 | proto u8 | payload      (15 bytes + payload)
 *
 * `proto` 0 = application data (delivered as 'deliver'), else the protocol number the payload is
 * for (delivered as 'routed'). `seq` is the origin's per-packet counter, starting at a random value
 * (docs/WIRE.md §7): the destination suppresses duplicates by (origin, seq).
 * Versioned by its protocol number like the flood header. The decoder is total; `payload` is a view.
 *
 * In a secured network (network-wide mode, no separate protocol number: the link refuses frames of
 * the other mode) every packet ends with the origin's 12-byte end-to-end trailer
 * (crypto/origin-auth.ts: counter u32 | MAC 8 over origin, dst, seq, proto, payload and counter):
 *
 *   origin u32 | dst u32 | seq u32 | ttl u8 | hops u8 | proto u8 | payload | e2e trailer 12
 *
 * `decodeSecuredRouted` splits it off into `trailer`; `encodeRouted` appends `trailer` when set.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { DecodeError } from '../../core/errors.ts'

export const ROUTED_HEADER_SIZE = 15
/** End-to-end trailer of a secured network's packets (crypto/origin-auth.ts E2E_TRAILER_BYTES; a test keeps them equal). */
export const ROUTED_TRAILER_SIZE = 12
/** The immutable header fields the end-to-end MAC covers: origin u32 | dst u32 | seq u32 | proto u8. */
export const ROUTED_MAC_HEADER_SIZE = 13
/** Offsets of the fields a relay rewrites. */
const TTL_OFFSET = 12
const HOPS_OFFSET = 13

export interface RoutedPacket {
  origin: Addr
  dst: Addr
  /** u32, per origin. */
  seq: number
  /** Hops the packet may still make, counting the one that carries it: 1..255. */
  ttl: number
  /** Radio hops made before the transmission that carries it (0 from the origin). */
  hops: number
  /** 0 = application data; else the inner protocol number. */
  proto: number
  payload: Uint8Array
  /** Secured network only: the origin's end-to-end trailer, after the payload. */
  trailer?: Uint8Array
}

export function encodeRouted(p: RoutedPacket): Uint8Array {
  const w = new ByteWriter(ROUTED_HEADER_SIZE + p.payload.length + (p.trailer?.length ?? 0))
    .u32(p.origin).u32(p.dst).u32(p.seq).u8(p.ttl).u8(p.hops).u8(p.proto).raw(p.payload)
  if (p.trailer !== undefined) w.raw(p.trailer)
  return w.done()
}

/** The immutable header fields the end-to-end MAC covers (`ROUTED_MAC_HEADER_SIZE` bytes). */
export function routedMacHeader(p: RoutedPacket): Uint8Array {
  return new ByteWriter(ROUTED_MAC_HEADER_SIZE).u32(p.origin).u32(p.dst).u32(p.seq).u8(p.proto).done()
}

/**
 * The bytes a relay sends on: a copy of a received packet (which must have decoded, with ttl > 1)
 * with ttl − 1 and hops + 1 (saturating at 255).
 */
export function relayRouted(received: Uint8Array): Uint8Array {
  const out = received.slice()
  out[TTL_OFFSET] -= 1
  if (out[HOPS_OFFSET] < 255) out[HOPS_OFFSET] += 1
  return out
}

/** Decode a routed packet. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeRouted(bytes: Uint8Array): RoutedPacket {
  const r = new ByteReader(bytes, 'routed header')
  const origin = r.u32('origin')
  if (!isNodeAddr(origin)) r.fail(`origin ${origin} is not a node address`)
  const dst = r.u32('dst')
  if (!isNodeAddr(dst)) r.fail(`dst ${dst} is not a node address`)
  const seq = r.u32('seq')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  const proto = r.u8('proto')
  return { origin, dst, seq, ttl, hops, proto, payload: r.rest() }
}

/**
 * Decode a secured network's routed packet: the header, the payload and the 12-byte trailer
 * (fewer than 12 bytes after the header is a `DecodeError`). `payload` and `trailer` are views.
 */
export function decodeSecuredRouted(bytes: Uint8Array): RoutedPacket {
  const p = decodeRouted(bytes)
  const n = p.payload.length - ROUTED_TRAILER_SIZE
  if (n < 0) throw new DecodeError(`routed header: ${p.payload.length} byte(s) after the header, fewer than the ${ROUTED_TRAILER_SIZE}-byte end-to-end trailer`, ROUTED_HEADER_SIZE)
  p.trailer = p.payload.subarray(n)
  p.payload = p.payload.subarray(0, n)
  return p
}
