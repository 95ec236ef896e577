/**
 * ODSBR data-path messages (seed 003 §4.2, figure 4; docs/WIRE.md §16): the source-routed DATA
 * packet with its onion-encrypted probe list (proto ODSBR_DATA = 7, type 1) and the aggregated
 * ACK (proto ODSBR = 6, type 3; types 1 and 2 are discovery-messages.ts). Only the byte layouts
 * and their total decoders live here; what the MACs and layers mean is probes.ts.
 * Big-endian, 4-byte addresses, first byte = type, flags reserved (must be 0).
 *
 *   DATA  type 1 | flags u8 | source u32 | dst u32 | counter u32 | nPath u8 | nPath × u32 |
 *         bodyLen u16 | body | onion                        17 + 4·nPath + bodyLen + 8 + 28·probes
 *   ACK   type 3 | flags u8 | source u32 | dst u32 | ackNode u32 | counter u32 | nPath u8 |
 *         nPath × u32 | encLen u16 | enc | hmac 8                          29 + 4·nPath + encLen
 *
 * DATA's path runs source … dst (2..255 distinct node addresses, path[0] = source, last = dst).
 * Its onion is the rest of the packet: `8 + 28·k` bytes while k probes remain (k ≤ nPath − 2):
 * a layer is probeId u32 ‖ hmac 8 ‖ sealed (the next layer + a 16-byte AEAD tag), and the innermost
 * 8 bytes are the destination's HMAC. The body is the application payload in the clear: ODSBR
 * authenticates it (every probe and the destination check an HMAC over it) but does not encrypt it.
 *
 * ACK's path is the way back: ackNode … source (2..255 distinct nodes, path[0] = ackNode, last =
 * source). `enc` is empty (the destination's ack, or a probe's ack after its timer ran out) or the
 * next probe's ack sealed by this probe (probes.ts); `dst` names the flow, since counters are per
 * (source, dst).
 *
 * Decoders are total: a message or a `DecodeError`, nothing else; they reject other types, flags,
 * non-node addresses, malformed paths, an onion whose length is not 8 + 28·k (k ≤ nPath − 2) and
 * trailing bytes. Decoded `path`s are fresh arrays; `body`, `onion`, `enc` and `hmac` are VIEWS into
 * the input (copy them to keep them past the input's lifetime).
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import type { Path } from './odsbr-types.ts'

export const MSG_DATA = 1
export const MSG_ACK = 3
/** HMACs (HMAC-SHA256) are truncated to 8 bytes. */
export const ODSBR_TAG_SIZE = 8
/** ChaCha20-Poly1305 tag. */
export const ODSBR_AEAD_TAG_SIZE = 16
/** Bytes one probe adds to the onion: probe id, its HMAC, the AEAD tag around the rest. */
export const ONION_LAYER_SIZE = 4 + ODSBR_TAG_SIZE + ODSBR_AEAD_TAG_SIZE
/** The innermost layer: the destination's HMAC. */
export const ONION_BASE_SIZE = ODSBR_TAG_SIZE
/** type, flags, source, dst, counter, nPath. */
export const DATA_FIXED_SIZE = 15
/** type, flags, source, dst, ackNode, counter, nPath. */
export const ACK_FIXED_SIZE = 19
export const MAX_PATH_NODES = 255
export const MAX_BODY_SIZE = 0xffff
export const MAX_ENC_SIZE = 0xffff
/** Offset of the flags byte: DATA's MACed header starts here (probes.ts). */
export const DATA_FLAGS_OFFSET = 1

export interface OdsbrData {
  type: 'data'
  source: Addr
  dst: Addr
  /** Per (source, dst), increasing. */
  counter: number
  /** source … dst. */
  path: Addr[]
  /** Application payload (a view into the decoded bytes). */
  body: Uint8Array
  /** The probe onion (a view): 8 + 28·k bytes while k probes remain. */
  onion: Uint8Array
}

export interface OdsbrAck {
  type: 'ack'
  source: Addr
  dst: Addr
  /** The node whose ack this is (outermost layer): a probe or the destination. */
  ackNode: Addr
  counter: number
  /** The way back: ackNode … source. */
  path: Addr[]
  /** The next probe's ack sealed by ackNode, or empty (a view). */
  enc: Uint8Array
  /** HMAC of ackNode's ack, 8 bytes (a view). */
  hmac: Uint8Array
}

/** Bytes of a DATA packet with these sizes. */
export function dataSize(pathNodes: number, bodyBytes: number, probes: number): number {
  return DATA_FIXED_SIZE + 4 * pathNodes + 2 + bodyBytes + ONION_BASE_SIZE + ONION_LAYER_SIZE * probes
}

/** Bytes of an ACK with these sizes (an ack aggregating j acks below it has encLen = 32·j). */
export function ackSize(pathNodes: number, encBytes: number): number {
  return ACK_FIXED_SIZE + 4 * pathNodes + 2 + encBytes + ODSBR_TAG_SIZE
}

/** Probes remaining in an onion of this length, or -1 if no onion has this length. */
export function onionProbes(onionBytes: number): number {
  const d = onionBytes - ONION_BASE_SIZE
  return d >= 0 && d % ONION_LAYER_SIZE === 0 ? d / ONION_LAYER_SIZE : -1
}

const arg = (msg: string): SpinmeshError => new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, msg)

/** Why `path` is not a valid ODSBR path from `first` to `last`, or null. */
export function pathProblem(path: readonly number[], first: Addr, last: Addr): string | null {
  if (path.length < 2 || path.length > MAX_PATH_NODES) return `a path has 2..${MAX_PATH_NODES} nodes, got ${path.length}`
  const seen = new Set<number>()
  for (const a of path) {
    if (!isNodeAddr(a)) return `path entry ${a} is not a node address`
    if (seen.has(a)) return `path visits ${a} twice`
    seen.add(a)
  }
  if (path[0] !== first) return `the path starts at ${path[0]}, not ${first}`
  if (path[path.length - 1] !== last) return `the path ends at ${path[path.length - 1]}, not ${last}`
  return null
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw arg(`${name} must be a u32, got ${v}`)
}

/** Encode a DATA packet (the onion is built by probes.ts). Throws INVALID_ARGUMENT on bad fields. */
export function encodeData(m: Omit<OdsbrData, 'type'>): Uint8Array {
  checkU32('counter', m.counter)
  const bad = pathProblem(m.path, m.source, m.dst)
  if (bad) throw arg(`ODSBR DATA: ${bad}`)
  if (m.body.length > MAX_BODY_SIZE) throw arg(`ODSBR DATA: the body is at most ${MAX_BODY_SIZE} bytes, got ${m.body.length}`)
  const k = onionProbes(m.onion.length)
  if (k < 0 || k > m.path.length - 2) throw arg(`ODSBR DATA: an onion of ${m.onion.length} bytes does not fit a ${m.path.length}-node path`)
  const w = new ByteWriter(DATA_FIXED_SIZE + 4 * m.path.length + 2 + m.body.length + m.onion.length)
    .u8(MSG_DATA).u8(0).u32(m.source).u32(m.dst).u32(m.counter).u8(m.path.length)
  for (const a of m.path) w.u32(a)
  return w.u16(m.body.length).raw(m.body).raw(m.onion).done()
}

/** Encode an ACK. Throws INVALID_ARGUMENT on bad fields. */
export function encodeAck(m: Omit<OdsbrAck, 'type'>): Uint8Array {
  checkU32('counter', m.counter)
  if (!isNodeAddr(m.dst) || m.dst === m.source) throw arg(`ODSBR ACK: dst ${m.dst} is not a node address other than the source`)
  const bad = pathProblem(m.path, m.ackNode, m.source)
  if (bad) throw arg(`ODSBR ACK: ${bad}`)
  if (m.enc.length > MAX_ENC_SIZE) throw arg(`ODSBR ACK: enc is at most ${MAX_ENC_SIZE} bytes, got ${m.enc.length}`)
  if (m.hmac.length !== ODSBR_TAG_SIZE) throw arg(`ODSBR ACK: the hmac is ${ODSBR_TAG_SIZE} bytes, got ${m.hmac.length}`)
  const w = new ByteWriter(ackSize(m.path.length, m.enc.length))
    .u8(MSG_ACK).u8(0).u32(m.source).u32(m.dst).u32(m.ackNode).u32(m.counter).u8(m.path.length)
  for (const a of m.path) w.u32(a)
  return w.u16(m.enc.length).raw(m.enc).raw(m.hmac).done()
}

function header(r: ByteReader, type: number): void {
  const t = r.u8('type')
  if (t !== type) r.fail(`type ${t} is not ${type}`)
  const f = r.u8('flags')
  if (f !== 0) r.fail(`reserved flag bits set (0x${f.toString(16)})`)
}

function path(r: ByteReader, first: Addr, last: Addr): Addr[] {
  const n = r.u8('nPath')
  if (n < 2) r.fail(`a path has at least 2 nodes, got ${n}`)
  const p: Addr[] = []
  for (let i = 0; i < n; i++) p.push(r.u32('path'))
  const bad = pathProblem(p, first, last)
  if (bad) r.fail(bad)
  return p
}

/** Decode a DATA packet (proto ODSBR_DATA). Returns it or throws `DecodeError`; never anything else. */
export function decodeData(bytes: Uint8Array): OdsbrData {
  const r = new ByteReader(bytes, 'odsbr data')
  header(r, MSG_DATA)
  const source = r.nodeAddr('source')
  const dst = r.nodeAddr('dst')
  const counter = r.u32('counter')
  const p = path(r, source, dst)
  const body = r.bytesView(r.u16('bodyLen'), 'body')
  const onion = r.rest()
  const k = onionProbes(onion.length)
  if (k < 0) r.fail(`an onion of ${onion.length} bytes is not 8 + 28·k`)
  if (k > p.length - 2) r.fail(`an onion of ${k} probes does not fit a ${p.length}-node path`)
  return { type: 'data', source, dst, counter, path: p, body, onion }
}

/** Decode an ACK (proto ODSBR, type 3). Returns it or throws `DecodeError`; never anything else. */
export function decodeAck(bytes: Uint8Array): OdsbrAck {
  const r = new ByteReader(bytes, 'odsbr ack')
  header(r, MSG_ACK)
  const source = r.nodeAddr('source')
  const dst = r.nodeAddr('dst')
  if (dst === source) r.fail('dst is the source')
  const ackNode = r.nodeAddr('ackNode')
  const counter = r.u32('counter')
  const p = path(r, ackNode, source)
  const enc = r.bytesView(r.u16('encLen'), 'enc')
  const hmac = r.bytesView(ODSBR_TAG_SIZE, 'hmac')
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  return { type: 'ack', source, dst, ackNode, counter, path: p, enc, hmac }
}

/** The way back along `path` from index `i` to the source: path[i], path[i-1], …, path[0]. */
export function pathBackFrom(path: Path, i: number): Addr[] {
  const out: Addr[] = []
  for (let j = i; j >= 0; j--) out.push(path[j])
  return out
}
