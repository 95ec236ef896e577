/**
 * The link frame codec, version 1 (docs/WIRE.md §1–4). Every frame starts with
 *
 *   byte 0   version (bits 7–6, = 1) | kind (bits 5–4) | flags (bits 3–0: BCAST, ACKREQ, FRAG, AUTH)
 *   src      u32
 *   dst      u32, absent when BCAST
 *   seq      u16
 *
 * then a body by kind: DATA = proto u8, [fragment header: index u8, count u8], payload;
 * BEACON = interval u16 (10 ms units); ACK = nothing (`seq` is the acknowledged sequence number);
 * and, with AUTH, a 12-byte trailer: counter u32 ‖ 8-byte MAC (docs/WIRE.md §15, crypto/link-auth.ts).
 * Multi-byte fields are big-endian. The encoders here write frames without AUTH; the link's
 * authenticator seals them (sets AUTH, appends the trailer) on their way to the radio.
 *
 * Decoders are total: any input yields a frame or a `DecodeError`, nothing else. They allocate only
 * the returned object; `payload` is a view into the input (no copy).
 */
import { BROADCAST, isNodeAddr, type Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter, getU32 } from '../core/bytes.ts'

export const LINK_VERSION = 1

export const KIND_DATA = 0
export const KIND_BEACON = 1
export const KIND_ACK = 2

export const FLAG_BCAST = 0x08
export const FLAG_ACKREQ = 0x04
export const FLAG_FRAG = 0x02
/** The frame ends with an authentication trailer (`AUTH_TRAILER_SIZE` bytes). */
export const FLAG_AUTH = 0x01
/** counter u32 ‖ truncated MAC (8 bytes). */
export const AUTH_COUNTER_SIZE = 4
export const AUTH_TAG_SIZE = 8
export const AUTH_TRAILER_SIZE = AUTH_COUNTER_SIZE + AUTH_TAG_SIZE

/** byte 0 + src + seq: present in every frame. */
export const LINK_BASE_SIZE = 7
export const FRAG_HEADER_SIZE = 2
export const BEACON_SIZE = LINK_BASE_SIZE + 2
export const ACK_SIZE = LINK_BASE_SIZE + 4
/** A datagram is cut into at most this many fragments (the count is one byte). */
export const MAX_FRAGMENTS = 255
export const BEACON_INTERVAL_UNIT_MS = 10

export interface FragmentHeader {
  /** 0-based position of this fragment. */
  index: number
  /** Fragments in the datagram, 2..255. */
  count: number
}

export interface DataFrame {
  kind: 'data'
  src: Addr
  /** BROADCAST when the BCAST flag is set. */
  dst: Addr
  seq: number
  ackReq: boolean
  proto: number
  frag: FragmentHeader | null
  payload: Uint8Array
  /** The sender's frame counter when the frame carries an AUTH trailer, else -1. */
  authCounter: number
}

export interface BeaconFrame {
  kind: 'beacon'
  src: Addr
  /** The sender's beacon counter (not the data sequence), for loss measurement. */
  seq: number
  /** The sender's beacon interval, ms (a multiple of 10). */
  intervalMs: number
  authCounter: number
}

export interface AckFrame {
  kind: 'ack'
  /** The acknowledging node. */
  src: Addr
  /** The node whose frame is acknowledged. */
  dst: Addr
  /** Sequence number of the acknowledged frame. */
  seq: number
  authCounter: number
}

export type LinkFrame = DataFrame | BeaconFrame | AckFrame

/** Bytes before the payload of a DATA frame. Broadcast 8, unicast 12, fragments +2. */
export function dataHeaderSize(bcast: boolean, frag: boolean): number {
  return LINK_BASE_SIZE + (bcast ? 0 : 4) + 1 + (frag ? FRAG_HEADER_SIZE : 0)
}

function byte0(kind: number, flags: number): number {
  return (LINK_VERSION << 6) | (kind << 4) | flags
}

/** Encode a DATA frame. Arguments are trusted (the link layer checks them at its API boundary). */
export function encodeData(
  src: Addr,
  dst: Addr,
  seq: number,
  ackReq: boolean,
  proto: number,
  frag: FragmentHeader | null,
  payload: Uint8Array,
): Uint8Array {
  const bcast = dst === BROADCAST
  if (bcast && ackReq) throw new RangeError('a broadcast frame cannot ask for an ack')
  const flags = (bcast ? FLAG_BCAST : 0) | (ackReq ? FLAG_ACKREQ : 0) | (frag ? FLAG_FRAG : 0)
  const w = new ByteWriter(dataHeaderSize(bcast, frag !== null) + payload.length)
  w.u8(byte0(KIND_DATA, flags)).u32(src)
  if (!bcast) w.u32(dst)
  w.u16(seq).u8(proto)
  if (frag) w.u8(frag.index).u8(frag.count)
  return w.raw(payload).done()
}

export function encodeBeacon(src: Addr, seq: number, intervalMs: number): Uint8Array {
  const units = Math.round(intervalMs / BEACON_INTERVAL_UNIT_MS)
  if (units < 1 || units > 0xffff) throw new RangeError(`beacon interval ${intervalMs} ms does not fit 10 ms units in a u16`)
  return new ByteWriter(BEACON_SIZE).u8(byte0(KIND_BEACON, FLAG_BCAST)).u32(src).u16(seq).u16(units).done()
}

export function encodeAck(src: Addr, dst: Addr, seq: number): Uint8Array {
  return new ByteWriter(ACK_SIZE).u8(byte0(KIND_ACK, 0)).u32(src).u32(dst).u16(seq).done()
}

export function encodeLinkFrame(f: LinkFrame): Uint8Array {
  switch (f.kind) {
    case 'data':
      return encodeData(f.src, f.dst, f.seq, f.ackReq, f.proto, f.frag, f.payload)
    case 'beacon':
      return encodeBeacon(f.src, f.seq, f.intervalMs)
    case 'ack':
      return encodeAck(f.src, f.dst, f.seq)
  }
}

function readFragmentHeader(r: ByteReader): FragmentHeader {
  const index = r.u8('fragment index')
  const count = r.u8('fragment count')
  if (count < 2) r.fail(`fragment count ${count} < 2`)
  if (index >= count) r.fail(`fragment index ${index} >= count ${count}`)
  return { index, count }
}

/** Decode a 2-byte fragment header on its own (exactly 2 bytes). */
export function decodeFragmentHeader(bytes: Uint8Array): FragmentHeader {
  const r = new ByteReader(bytes, 'fragment header')
  const h = readFragmentHeader(r)
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  return h
}

function readBeaconInterval(r: ByteReader): number {
  const units = r.u16('beacon interval')
  if (units === 0) r.fail('beacon interval 0')
  return units * BEACON_INTERVAL_UNIT_MS
}

/** Decode a beacon body (exactly 2 bytes) on its own; returns the interval in ms. */
export function decodeBeaconBody(bytes: Uint8Array): number {
  const r = new ByteReader(bytes, 'beacon body')
  const ms = readBeaconInterval(r)
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  return ms
}

/**
 * The link addresses of a frame without decoding it (a multi-radio node learns which radio hears
 * whom, hardware/multi-radio.ts): src, and dst unless BCAST; undefined when the header is not a
 * version-1 header with node addresses. Cheap and total; it does not check the rest of the frame.
 */
export function peekLinkAddresses(bytes: Uint8Array): { src: Addr; dst?: Addr } | undefined {
  if (bytes.length < LINK_BASE_SIZE || bytes[0] >>> 6 !== LINK_VERSION) return undefined
  const src = getU32(bytes, 1)
  if (!isNodeAddr(src)) return undefined
  if ((bytes[0] & FLAG_BCAST) !== 0) return { src }
  if (bytes.length < LINK_BASE_SIZE + 4) return undefined
  const dst = getU32(bytes, 5)
  return isNodeAddr(dst) ? { src, dst } : undefined
}

/** Decode any link frame. Returns a frame or throws `DecodeError`; never throws anything else. */
export function decodeLinkFrame(bytes: Uint8Array): LinkFrame {
  const auth = bytes.length > 0 && (bytes[0] & FLAG_AUTH) !== 0
  let authCounter = -1
  if (auth) {
    if (bytes.length < LINK_BASE_SIZE + AUTH_TRAILER_SIZE) new ByteReader(bytes, 'link frame').fail(`AUTH frame of ${bytes.length} bytes is shorter than header + trailer`)
    const t = bytes.length - AUTH_TRAILER_SIZE
    authCounter = getU32(bytes, t)
    bytes = bytes.subarray(0, t)
  }
  const r = new ByteReader(bytes, 'link frame')
  const b0 = r.u8('header')
  const version = b0 >>> 6
  if (version !== LINK_VERSION) r.fail(`unknown version ${version}`)
  const kind = (b0 >>> 4) & 3
  const bcast = (b0 & FLAG_BCAST) !== 0
  const ackReq = (b0 & FLAG_ACKREQ) !== 0
  const frag = (b0 & FLAG_FRAG) !== 0
  const src = r.u32('src')
  if (!isNodeAddr(src)) r.fail(`src ${src} is not a node address`)
  let dst: Addr = BROADCAST
  if (!bcast) {
    dst = r.u32('dst')
    if (!isNodeAddr(dst)) r.fail(`dst ${dst} is not a node address (broadcast uses the BCAST flag)`)
  }
  const seq = r.u16('seq')
  switch (kind) {
    case KIND_DATA: {
      if (bcast && ackReq) r.fail('ACKREQ on a broadcast frame')
      const proto = r.u8('proto')
      const fh = frag ? readFragmentHeader(r) : null
      const payload = r.rest()
      if (fh && payload.length === 0) r.fail('empty fragment')
      return { kind: 'data', src, dst, seq, ackReq, proto, frag: fh, payload, authCounter }
    }
    case KIND_BEACON: {
      if (!bcast || ackReq || frag) r.fail('beacon flags must be BCAST only')
      const intervalMs = readBeaconInterval(r)
      if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s) after beacon`)
      return { kind: 'beacon', src, seq, intervalMs, authCounter }
    }
    case KIND_ACK: {
      if (bcast || ackReq || frag) r.fail('ack flags must be empty')
      if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s) after ack`)
      return { kind: 'ack', src, dst, seq, authCounter }
    }
    default:
      return r.fail(`unknown kind ${kind}`)
  }
}

/**
 * A number naming one of our unicast frames by (destination, reliable stream?, seq); exact for every
 * u32 destination (< 2^49). The link layer matches the radio's `sent`/`dropped` reports with it.
 */
export function txFrameKey(dst: Addr, reliable: boolean, seq: number): number {
  return (dst * 2 + (reliable ? 1 : 0)) * 65536 + seq
}

/**
 * `txFrameKey` of a unicast DATA frame sent by `self`, read from its bytes without a full decode;
 * -1 when the bytes are not such a frame.
 */
export function ownTxFrameKey(bytes: Uint8Array, self: Addr): number {
  if (bytes.length < dataHeaderSize(false, false)) return -1
  const b0 = bytes[0]
  if (b0 >>> 6 !== LINK_VERSION || ((b0 >>> 4) & 3) !== KIND_DATA || b0 & FLAG_BCAST) return -1
  if (getU32(bytes, 1) !== self) return -1
  const dst = getU32(bytes, 5)
  return txFrameKey(dst, (b0 & FLAG_ACKREQ) !== 0, (bytes[9] << 8) | bytes[10])
}

/**
 * The kind (KIND_DATA, KIND_BEACON, KIND_ACK) of a version-1 frame sent by `self`, read from byte 0
 * and `src` without a decode; -1 for anything else. The link layer classifies the frames its radio
 * reports sent with it (and `sentDataProto`, `isFragmentFrame`), so counters match the air.
 */
export function ownFrameKind(bytes: Uint8Array, self: Addr): number {
  if (bytes.length < LINK_BASE_SIZE) return -1
  const b0 = bytes[0]
  const kind = (b0 >>> 4) & 3
  if (b0 >>> 6 !== LINK_VERSION || kind > KIND_ACK) return -1
  return getU32(bytes, 1) === self ? kind : -1
}

/** `proto` of a DATA frame (byte 7 broadcast, 11 unicast); -1 when the frame is too short. */
export function sentDataProto(bytes: Uint8Array): number {
  const at = dataHeaderSize((bytes[0] & FLAG_BCAST) !== 0, false) - 1
  return at < bytes.length ? bytes[at] : -1
}

/** Whether a DATA frame carries a fragment (FRAG flag). */
export function isFragmentFrame(bytes: Uint8Array): boolean {
  return (bytes[0] & FLAG_FRAG) !== 0
}
