/**
 * The multicast data header (docs/WIRE.md §11), carried in link DATA frames with proto
 * MULTICAST_DATA (5), sent by link broadcast to every activated tree neighbour at once (or unicast
 * when there is exactly one):
 *
 *   origin u32 | group u32 | seq u32 | ttl u8 | hops u8 | payload      (14 bytes + payload)
 *
 * The previous hop is the link frame's `src`: a receiver accepts the packet only when that node is
 * one of its activated tree neighbours for `group`, so nodes that overhear a tree broadcast
 * without being on that branch ignore it. Duplicates are suppressed per (`origin`, `seq`). The
 * decoder is total and allocates only the result; `payload` is a view into the input.
 */
import { isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'

export const DATA_HEADER_SIZE = 14

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
}

export function encodeData(h: DataHeader): Uint8Array {
  return new ByteWriter(DATA_HEADER_SIZE + h.payload.length).u32(h.origin).u32(h.group).u32(h.seq).u8(h.ttl).u8(h.hops).raw(h.payload).done()
}

/** Decode a multicast data packet. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeData(bytes: Uint8Array): DataHeader {
  const r = new ByteReader(bytes, 'multicast data header')
  const origin = r.u32('origin')
  if (!isNodeAddr(origin)) r.fail(`origin ${origin} is not a node address`)
  const group = r.u32('group')
  if (!isGroupAddr(group)) r.fail(`group ${group} is not a group address`)
  const seq = r.u32('seq')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  return { origin, group, seq, ttl, hops, payload: r.rest() }
}
