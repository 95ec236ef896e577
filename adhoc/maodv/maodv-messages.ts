/**
 * MAODV control messages (docs/WIRE.md §10), carried in link DATA frames with proto MAODV (4).
 * Fixed big-endian layouts, the first byte the message type. Our type codes keep RFC 3561's RREQ = 1
 * and RREP = 2, and skip 3–5: 3 and 4 are RERR and RREP-ACK in RFC 3561, while the MAODV draft
 * numbered MACT 4 and GRPH 5 (it predates RREP-ACK), so a trace reader never has to guess.
 *
 *   RREQ   1   25 bytes   join / repair / merge request (flooded, or unicast for a merge)
 *   RREP   2   28 bytes   reply from a tree node, unicast back along the reverse path
 *   MACT   6   28 bytes   multicast activation: J activate, P prune, G leadership, U update, R refuse/lost
 *   GRPH   7   16 bytes   group hello from the group leader, flooded
 *   HELLO  8   12 + 5n    tree keepalive to the tree neighbours (one link broadcast), listing them,
 *                         each with the sender's distance to its nearest member away from that neighbour
 *
 * In an authenticated network the three messages that travel several hops are signed by their
 * origin (control-signing.ts says what is signed and by whom) and take their own type numbers: the
 * plain layout (its type byte replaced) followed by a 64-byte Ed25519 signature.
 *
 *   RREQ-S  9   89 bytes   RREQ ‖ signature of `origin`
 *   RREP-S 10   92 bytes   RREP ‖ signature of `replier`
 *   GRPH-S 11   80 bytes   GRPH ‖ signature of `leader`
 *
 * A decoded RREQ-S is an `Rreq` (type MsgType.RREQ) with `signature` set, and so on: handlers see
 * one message kind, and relays that re-encode `{ ...msg, hops }` keep the signed layout.
 *
 * Decoders are total: any input gives a message or a `DecodeError`. They reject unknown types,
 * reserved bits, lengths other than the exact size, addresses of the wrong kind and flag
 * combinations that mean nothing; they allocate only the result (the hello's list is bounded by
 * MAX_HELLO_NEIGHBOURS).
 */
import { isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'

export const MsgType = { RREQ: 1, RREP: 2, MACT: 6, GRPH: 7, HELLO: 8 } as const
/** Wire type numbers of the signed layouts (authenticated networks). */
export const SignedType = { RREQ: 9, RREP: 10, GRPH: 11 } as const
/** Bytes of the Ed25519 signature ending a signed layout. */
export const CONTROL_SIGNATURE_SIZE = 64

export const RREQ_SIZE = 25
export const RREP_SIZE = 28
export const MACT_SIZE = 28
export const GRPH_SIZE = 16
export const RREQ_S_SIZE = RREQ_SIZE + CONTROL_SIGNATURE_SIZE
export const RREP_S_SIZE = RREP_SIZE + CONTROL_SIGNATURE_SIZE
export const GRPH_S_SIZE = GRPH_SIZE + CONTROL_SIGNATURE_SIZE
export const HELLO_BASE_SIZE = 12
export const MAX_HELLO_NEIGHBOURS = 64
/** Bytes per listed neighbour in a HELLO: address u32, nearestMember u8. */
export const HELLO_ENTRY_SIZE = 5
/** nearestMember when no member is known that way. */
export const UNKNOWN_DISTANCE = 255

/** RREQ flags. */
export const RREQ_J = 0x80
export const RREQ_R = 0x40
export const RREQ_K = 0x20
/** RREP flags. */
export const RREP_R = 0x80
/** MACT flags. */
export const MACT_J = 0x80
export const MACT_P = 0x40
export const MACT_G = 0x20
export const MACT_U = 0x10
export const MACT_R = 0x08
/** HELLO flags. */
export const HELLO_M = 0x80

export interface Rreq {
  type: typeof MsgType.RREQ
  /** J join (always set by this implementation), R merge towards `leader`, K `groupSeq` is valid. */
  join: boolean
  merge: boolean
  seqKnown: boolean
  /** Hops the request may still travel, including the one that carried it: 1..255. */
  ttl: number
  /** Hops travelled before the transmission that carried it. */
  hops: number
  /** Only tree nodes at most this far from the leader may reply (repair: the requester's distance); 255 = any. */
  maxHopsToLeader: number
  rreqId: number
  group: Addr
  origin: Addr
  groupSeq: number
  /** The leader the requester knows (merge: the leader it merges with), 0 = none. */
  leader: Addr
  /** RREQ-S (type 9): `origin`'s signature. Absent: the open layout. */
  signature?: Uint8Array
}

export interface Rrep {
  type: typeof MsgType.RREP
  /** Reply to a merge request. */
  merge: boolean
  /** Hops from the replying tree node to the node that sent this copy. */
  hops: number
  /** The replier's hops to the group leader. */
  hopsToLeader: number
  group: Addr
  groupSeq: number
  leader: Addr
  /** The requester. */
  origin: Addr
  rreqId: number
  /** The tree node that replied. */
  replier: Addr
  /** RREP-S (type 10): `replier`'s signature. Absent: the open layout. */
  signature?: Uint8Array
}

export interface Mact {
  type: typeof MsgType.MACT
  /** One of J, P, G, G|P, U, R (MACT_* bits). */
  flags: number
  /** U/G: the sender's hops to the leader. */
  hopsToLeader: number
  group: Addr
  groupSeq: number
  /** U/G: the group leader (0 allowed otherwise). */
  leader: Addr
  /** J: the joiner; otherwise the sender. */
  origin: Addr
  /** J: the request whose un-activated next hops to activate. */
  rreqId: number
  /** J: the tree node whose reply the joiner chose; otherwise 0. */
  replier: Addr
}

export interface Grph {
  type: typeof MsgType.GRPH
  ttl: number
  hops: number
  group: Addr
  leader: Addr
  groupSeq: number
  /** GRPH-S (type 11): `leader`'s signature. Absent: the open layout. */
  signature?: Uint8Array
}

export interface Hello {
  type: typeof MsgType.HELLO
  member: boolean
  hopsToLeader: number
  group: Addr
  leader: Addr
  /** The sender's activated tree neighbours for `group`. */
  neighbours: Addr[]
  /**
   * Per listed neighbour (same order): tree hops from the sender to the nearest member it reaches
   * through its other tree links, split horizon: 0 when the sender is a member itself,
   * UNKNOWN_DISTANCE (255) when none is known. The receiver adds one hop: anonymous gossip's
   * `nearestMember` for its link to the sender.
   */
  nearestMember: number[]
}

export type MaodvMessage = Rreq | Rrep | Mact | Grph | Hello

const MACT_COMBOS = new Set([MACT_J, MACT_P, MACT_G, MACT_G | MACT_P, MACT_U, MACT_R])

/** A writer for the plain layout of `size` bytes, or the signed one (type byte `signedType`) when `signature` is given. */
function start(size: number, plainType: number, signedType: number, signature: Uint8Array | undefined, what: string): ByteWriter {
  if (signature === undefined) return new ByteWriter(size).u8(plainType)
  if (signature.length !== CONTROL_SIGNATURE_SIZE) throw new RangeError(`a ${what} signature is ${CONTROL_SIGNATURE_SIZE} bytes, got ${signature.length}`)
  return new ByteWriter(size + CONTROL_SIGNATURE_SIZE).u8(signedType)
}

function finish(w: ByteWriter, signature: Uint8Array | undefined): Uint8Array {
  return (signature === undefined ? w : w.raw(signature)).done()
}

export function encodeRreq(m: Omit<Rreq, 'type'>): Uint8Array {
  const flags = (m.join ? RREQ_J : 0) | (m.merge ? RREQ_R : 0) | (m.seqKnown ? RREQ_K : 0)
  const w = start(RREQ_SIZE, MsgType.RREQ, SignedType.RREQ, m.signature, 'RREQ')
    .u8(flags).u8(m.ttl).u8(m.hops).u8(m.maxHopsToLeader)
    .u32(m.rreqId).u32(m.group).u32(m.origin).u32(m.groupSeq).u32(m.leader)
  return finish(w, m.signature)
}

export function encodeRrep(m: Omit<Rrep, 'type'>): Uint8Array {
  const w = start(RREP_SIZE, MsgType.RREP, SignedType.RREP, m.signature, 'RREP')
    .u8(m.merge ? RREP_R : 0).u8(m.hops).u8(m.hopsToLeader)
    .u32(m.group).u32(m.groupSeq).u32(m.leader).u32(m.origin).u32(m.rreqId).u32(m.replier)
  return finish(w, m.signature)
}

export function encodeMact(m: Omit<Mact, 'type'>): Uint8Array {
  return new ByteWriter(MACT_SIZE)
    .u8(MsgType.MACT).u8(m.flags).u8(m.hopsToLeader).u8(0)
    .u32(m.group).u32(m.groupSeq).u32(m.leader).u32(m.origin).u32(m.rreqId).u32(m.replier)
    .done()
}

export function encodeGrph(m: Omit<Grph, 'type'>): Uint8Array {
  const w = start(GRPH_SIZE, MsgType.GRPH, SignedType.GRPH, m.signature, 'GRPH').u8(0).u8(m.ttl).u8(m.hops).u32(m.group).u32(m.leader).u32(m.groupSeq)
  return finish(w, m.signature)
}

export function encodeHello(m: Omit<Hello, 'type'>): Uint8Array {
  if (m.neighbours.length > MAX_HELLO_NEIGHBOURS) throw new RangeError(`a hello lists at most ${MAX_HELLO_NEIGHBOURS} neighbours, got ${m.neighbours.length}`)
  if (m.nearestMember.length !== m.neighbours.length) throw new RangeError(`a hello needs one nearestMember per neighbour: ${m.nearestMember.length} for ${m.neighbours.length}`)
  const w = new ByteWriter(HELLO_BASE_SIZE + HELLO_ENTRY_SIZE * m.neighbours.length)
    .u8(MsgType.HELLO).u8(m.member ? HELLO_M : 0).u8(m.hopsToLeader).u8(m.neighbours.length).u32(m.group).u32(m.leader)
  m.neighbours.forEach((n, i) => w.u32(n).u8(m.nearestMember[i]))
  return w.done()
}

function node(r: ByteReader, field: string): Addr {
  const a = r.u32(field)
  if (!isNodeAddr(a)) r.fail(`${field} ${a} is not a node address`)
  return a
}

function nodeOrZero(r: ByteReader, field: string): Addr {
  const a = r.u32(field)
  if (a !== 0 && !isNodeAddr(a)) r.fail(`${field} ${a} is neither 0 nor a node address`)
  return a
}

function group(r: ByteReader): Addr {
  const g = r.u32('group')
  if (!isGroupAddr(g)) r.fail(`group ${g} is not a group address`)
  return g
}

function exact(r: ByteReader, bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length !== size) r.fail(`${what} must be exactly ${size} bytes, got ${bytes.length}`)
}

/** The signature ending a signed layout (a copy), after its plain fields were read. */
function signature(r: ByteReader): Uint8Array {
  return r.bytesView(CONTROL_SIGNATURE_SIZE, 'signature').slice()
}

function decodeRreq(bytes: Uint8Array, r: ByteReader, signed: boolean): Rreq {
  exact(r, bytes, signed ? RREQ_S_SIZE : RREQ_SIZE, signed ? 'RREQ-S' : 'RREQ')
  r.u8('type')
  const flags = r.u8('flags')
  if (flags & 0x1f) r.fail(`reserved RREQ flag bits set: 0x${flags.toString(16)}`)
  const merge = (flags & RREQ_R) !== 0
  const join = (flags & RREQ_J) !== 0
  if (merge && !join) r.fail('RREQ flag R without J')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  const maxHopsToLeader = r.u8('maxHopsToLeader')
  const rreqId = r.u32('rreqId')
  const g = group(r)
  const origin = node(r, 'origin')
  const groupSeq = r.u32('groupSeq')
  const leader = merge ? node(r, 'leader') : nodeOrZero(r, 'leader')
  const m: Rreq = { type: MsgType.RREQ, join, merge, seqKnown: (flags & RREQ_K) !== 0, ttl, hops, maxHopsToLeader, rreqId, group: g, origin, groupSeq, leader }
  if (signed) m.signature = signature(r)
  return m
}

function decodeRrep(bytes: Uint8Array, r: ByteReader, signed: boolean): Rrep {
  exact(r, bytes, signed ? RREP_S_SIZE : RREP_SIZE, signed ? 'RREP-S' : 'RREP')
  r.u8('type')
  const flags = r.u8('flags')
  if (flags & ~RREP_R & 0xff) r.fail(`reserved RREP flag bits set: 0x${flags.toString(16)}`)
  const hops = r.u8('hops')
  const hopsToLeader = r.u8('hopsToLeader')
  const g = group(r)
  const groupSeq = r.u32('groupSeq')
  const leader = node(r, 'leader')
  const origin = node(r, 'origin')
  const rreqId = r.u32('rreqId')
  const replier = node(r, 'replier')
  const m: Rrep = { type: MsgType.RREP, merge: flags === RREP_R, hops, hopsToLeader, group: g, groupSeq, leader, origin, rreqId, replier }
  if (signed) m.signature = signature(r)
  return m
}

function decodeMact(bytes: Uint8Array, r: ByteReader): Mact {
  exact(r, bytes, MACT_SIZE, 'MACT')
  r.u8('type')
  const flags = r.u8('flags')
  if (!MACT_COMBOS.has(flags)) r.fail(`MACT flags 0x${flags.toString(16)} are not one of J, P, G, G+P, U, R`)
  const hopsToLeader = r.u8('hopsToLeader')
  if (r.u8('reserved') !== 0) r.fail('reserved MACT byte is not 0')
  const g = group(r)
  const groupSeq = r.u32('groupSeq')
  const leader = flags === MACT_U || (flags & MACT_G) !== 0 ? node(r, 'leader') : nodeOrZero(r, 'leader')
  const origin = node(r, 'origin')
  const rreqId = r.u32('rreqId')
  const replier = flags === MACT_J ? node(r, 'replier') : nodeOrZero(r, 'replier')
  return { type: MsgType.MACT, flags, hopsToLeader, group: g, groupSeq, leader, origin, rreqId, replier }
}

function decodeGrph(bytes: Uint8Array, r: ByteReader, signed: boolean): Grph {
  exact(r, bytes, signed ? GRPH_S_SIZE : GRPH_SIZE, signed ? 'GRPH-S' : 'GRPH')
  r.u8('type')
  if (r.u8('flags') !== 0) r.fail('reserved GRPH flags set')
  const ttl = r.u8('ttl')
  if (ttl === 0) r.fail('ttl 0')
  const hops = r.u8('hops')
  const g = group(r)
  const leader = node(r, 'leader')
  const groupSeq = r.u32('groupSeq')
  const m: Grph = { type: MsgType.GRPH, ttl, hops, group: g, leader, groupSeq }
  if (signed) m.signature = signature(r)
  return m
}

function decodeHello(bytes: Uint8Array, r: ByteReader): Hello {
  r.u8('type')
  const flags = r.u8('flags')
  if (flags & ~HELLO_M & 0xff) r.fail(`reserved HELLO flag bits set: 0x${flags.toString(16)}`)
  const hopsToLeader = r.u8('hopsToLeader')
  const count = r.u8('count')
  if (count > MAX_HELLO_NEIGHBOURS) r.fail(`HELLO lists ${count} neighbours, at most ${MAX_HELLO_NEIGHBOURS}`)
  exact(r, bytes, HELLO_BASE_SIZE + HELLO_ENTRY_SIZE * count, 'HELLO')
  const g = group(r)
  const leader = node(r, 'leader')
  const neighbours: Addr[] = []
  const nearestMember: number[] = []
  for (let i = 0; i < count; i++) {
    neighbours.push(node(r, 'neighbour'))
    nearestMember.push(r.u8('nearestMember'))
  }
  return { type: MsgType.HELLO, member: flags === HELLO_M, hopsToLeader, group: g, leader, neighbours, nearestMember }
}

/** Decode one MAODV control message. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeMaodv(bytes: Uint8Array): MaodvMessage {
  const r = new ByteReader(bytes, 'MAODV message')
  if (bytes.length === 0) r.fail('empty')
  switch (bytes[0]) {
    case MsgType.RREQ: return decodeRreq(bytes, r, false)
    case MsgType.RREP: return decodeRrep(bytes, r, false)
    case MsgType.MACT: return decodeMact(bytes, r)
    case MsgType.GRPH: return decodeGrph(bytes, r, false)
    case MsgType.HELLO: return decodeHello(bytes, r)
    case SignedType.RREQ: return decodeRreq(bytes, r, true)
    case SignedType.RREP: return decodeRrep(bytes, r, true)
    case SignedType.GRPH: return decodeGrph(bytes, r, true)
    default: return r.fail(`unknown message type ${bytes[0]}`)
  }
}
