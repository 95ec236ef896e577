/**
 * The flood header codec (docs/WIRE.md §5), carried in link DATA frames with proto FLOOD (1):
 *
 *   origin u32 | dst u32 | seq u32 | ttl u8 | hops u8 | payload      (14 bytes + payload)
 *
 * Big-endian. No version field: the format is versioned by its link protocol number (a new layout
 * takes a new number in adhoc/protocols.ts). The decoder is total and allocates only the result;
 * `payload` is a view into the input.
 */
import { isNodeAddr, type Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'

export const FLOOD_HEADER_SIZE = 14

export interface FloodHeader {
  /** Node that originated the packet. */
  origin: Addr
  /** A node (unicast via flood), a group, or BROADCAST. */
  dst: Addr
  /** Per-origin sequence number, u32. */
  seq: number
  /** Hops the packet may still make, counting the one that brought it here: 1..255. */
  ttl: number
  /** Radio hops made before the transmission that carried it. */
  hops: number
  payload: Uint8Array
}

export function encodeFlood(h: FloodHeader): Uint8Array {
  return new ByteWriter(FLOOD_HEADER_SIZE + h.payload.length).u32(h.origin).u32(h.dst).u32(h.seq).u8(h.ttl).u8(h.hops).raw(h.payload).done()
}

/** Decode a flood packet. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeFlood(bytes: Uint8Array): FloodHeader {
  const r = new ByteReader(bytes, 'flood header')
  const origin = r.u32('origin')
  if (!isNodeAddr(origin)) r.fail(`origin ${origin} is not a node address`)
  const dst = r.u32('dst')
  if (dst === 0) r.fail('dst 0 is reserved')
  const seq = r.u32('seq')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  return { origin, dst, seq, ttl, hops, payload: r.rest() }
}
