/**
 * ODSBR's probing (seed 003 §4.2, figure 4) as pure functions: the source builds a source-routed
 * DATA packet carrying an onion-encrypted probe list; relays forward it, probes peel their layer
 * and owe an ack; the destination verifies and acks; acks are aggregated back (each probe seals the
 * next probe's ack inside its own) and the source reads the chain to learn on which interval a
 * packet was lost. Byte layouts are data-messages.ts; timers and state (who waits for which ack)
 * are the caller's: these functions say what to send and what to schedule.
 *
 * Keys: k(s, n) = pairwiseKey(…, 'odsbr-probe', networkId, {from: s, to: n}), 32 bytes, shared by
 * the source s and each node n (crypto/pairwise.ts). Both HMAC-SHA256 (truncated to 8 bytes) and
 * ChaCha20-Poly1305 use it.
 *
 *   M            = "spinmesh/odsbr/data/v1" ‖ DATA bytes from flags to the end of the body
 *                  (flags, source, dst, counter, nPath, path, bodyLen, body)
 *   nonce        = dst u32 ‖ counter u32 ‖ 0x00000000
 *   layer_{k+1}  = HMAC(k(s, dst), M)                                              8 bytes
 *   layer_i      = id_i u32 ‖ HMAC(k(s, p_i), M) ‖ Seal(k(s, p_i), nonce, layer_{i+1})   + 28 bytes
 *   onion        = layer_1 (p_1 … p_k the probes in path order; the destination is not one)
 *
 *   ack MAC      = HMAC(k(s, n), "spinmesh/odsbr/ack/v1" ‖ source ‖ dst ‖ ackNode ‖ counter ‖ enc)
 *   ack nonce    = dst u32 ‖ counter u32 ‖ 0x00000001
 *   enc          = empty (the destination; a probe whose timer ran out), or
 *                  Seal(k(s, n), ack nonce, next.ackNode ‖ next.counter ‖ next.enc ‖ next.hmac)
 *
 * A probe checks its HMAC before peeling, so a relay that alters the body, the path or the counter,
 * strips, truncates or replaces the onion, or removes a layer, makes the next probe (or the
 * destination) drop the packet: the loss lands on an interval holding one of that relay's links.
 * The onion hides from relays which later nodes are probes; sealed acks hide which nodes acked.
 *
 * Nonces: the key binds the source and the node, so (dst, counter) must never repeat for a source:
 * a counter serves ONE transmission (a re-sent packet takes a new counter), and a probe wraps at
 * most one ack per (source, dst, counter) (its `waiting` state; a replayed DATA must not start a
 * second wait), or one key would seal two plaintexts under one nonce. Other users of the
 * 'odsbr-probe' key must not seal with a nonce ending in 0 or 1.
 *
 * Accepting acks (`acceptsAck`): a probe at path index i (the source: i = 0) takes an ack only
 * from its next hop path[i+1], for its packet, from a node further down the path, travelling the
 * data path back (ack path = path[j], path[j-1], …, path[0]). With link-layer authentication of
 * `from`, an ack that reaches node i was made by a node in (i, j]: a forged one incriminates an
 * interval holding its maker, never an honest interval.
 */
import type { Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { constantTimeEqual, open, seal, symmetric } from '../../crypto/aead.ts'
import {
  DATA_FLAGS_OFFSET, ODSBR_TAG_SIZE, ONION_LAYER_SIZE, decodeAck, decodeData, encodeAck, encodeData, onionProbes,
  pathBackFrom, pathProblem, type OdsbrAck,
} from './data-messages.ts'
import type { OdsbrConfig } from './odsbr-defaults.ts'
import type { PacketOutcome, Path } from './odsbr-types.ts'

export { MSG_ACK, MSG_DATA, decodeAck, decodeData, type OdsbrAck, type OdsbrData } from './data-messages.ts'

export const DATA_DOMAIN = 'spinmesh/odsbr/data/v1'
export const ACK_DOMAIN = 'spinmesh/odsbr/ack/v1'
/** Bytes of an ACK's plaintext header inside a sealed enc: ackNode, counter (then enc, hmac). */
const INNER_HEADER = 8
const NONCE_DATA = 0
const NONCE_ACK = 1

const text = new TextEncoder()
const DATA_PREFIX = text.encode(DATA_DOMAIN)
const ACK_PREFIX = text.encode(ACK_DOMAIN)

const arg = (msg: string): SpinmeshError => new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, msg)

function nonce(dst: Addr, counter: number, purpose: number): Uint8Array {
  const n = new Uint8Array(12)
  const v = new DataView(n.buffer)
  v.setUint32(0, dst)
  v.setUint32(4, counter)
  v.setUint32(8, purpose)
  return n
}

function tag(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return symmetric().hmac(key, ...parts).slice(0, ODSBR_TAG_SIZE)
}

function u32s(...vs: number[]): Uint8Array {
  const b = new Uint8Array(4 * vs.length)
  const v = new DataView(b.buffer)
  vs.forEach((x, i) => v.setUint32(4 * i, x))
  return b
}

function ackTag(key: Uint8Array, source: Addr, dst: Addr, ackNode: Addr, counter: number, enc: Uint8Array): Uint8Array {
  return tag(key, ACK_PREFIX, u32s(source, dst, ackNode, counter), enc)
}

/** What a probe owes after peeling its layer: an ack for this packet, within `ackTimeoutMs(hopsToDst)`. */
export interface ProbeDuty {
  source: Addr
  dst: Addr
  counter: number
  /** The whole data path (source … dst) and this probe's index on it. */
  path: Addr[]
  index: number
  /** This probe … source: the ACK's path. */
  pathBack: Addr[]
  /** Hops from this probe to the destination. */
  hopsToDst: number
}

export type DataDropReason = 'not-on-path' | 'wrong-previous-hop' | 'bad-hmac' | 'bad-layer' | 'decode' | 'no-key'

export type RelayDataResult =
  /** Send `bytes` to `to`; `probe` non-null: this node peeled its layer and owes an ack. */
  | { action: 'forward'; to: Addr; bytes: Uint8Array; probe: ProbeDuty | null }
  /** This node is the destination and the HMAC verified: deliver `body` and send `destinationAck`. */
  | { action: 'deliver'; source: Addr; dst: Addr; counter: number; body: Uint8Array; path: Addr[]; pathBack: Addr[] }
  | { action: 'drop'; reason: DataDropReason }

export type RelayAckResult =
  /** Pass `bytes` on to `to` (a probe waiting for `ack` wraps it instead: `acceptsAck`, `wrapAck`). */
  | { action: 'forward'; to: Addr; bytes: Uint8Array; ack: OdsbrAck }
  /** This node is the ack's source: `acceptsAck`, then `verifyAck`. */
  | { action: 'arrived'; ack: OdsbrAck }
  | { action: 'drop'; reason: 'not-on-path' | 'wrong-previous-hop' | 'decode' }

/** The ack timeout of a probe (or the source) `hopsToDst` hops from the destination: the round-trip bound. */
export function ackTimeoutMs(cfg: Pick<OdsbrConfig, 'ackTimeoutPerHopMs' | 'ackTimeoutBaseMs'>, hopsToDst: number): number {
  return cfg.ackTimeoutBaseMs + 2 * cfg.ackTimeoutPerHopMs * hopsToDst
}

/** The outcome when the source's ack timer runs out: lost before the first probe (or the destination). */
export function timeoutOutcome(path: Path, probes: readonly number[]): PacketOutcome {
  return { kind: 'lost', lostBefore: probes.length ? probes[0] : path.length - 1 }
}

function checkProbes(path: Path, probes: readonly number[]): void {
  let prev = 0
  for (const p of probes) {
    if (!Number.isInteger(p) || p <= prev || p >= path.length - 1) {
      throw arg(`probes must be ascending path indices strictly between 0 and ${path.length - 1}, got [${probes.join(', ')}]`)
    }
    prev = p
  }
}

/**
 * Source: build a DATA packet for `path` with `probes` (path indices of the probes, ascending,
 * excluding source and destination). `key(node)` is k(source, node). Throws INVALID_ARGUMENT for
 * a bad path, counter, body or probe list.
 */
export function buildData(o: { source: Addr; dst: Addr; counter: number; path: Path; body: Uint8Array; probes: readonly number[]; key: (node: Addr) => Uint8Array }): Uint8Array {
  const bad = pathProblem(o.path, o.source, o.dst)
  if (bad) throw arg(`buildData: ${bad}`)
  checkProbes(o.path, o.probes)
  const k = o.probes.length
  const onionLen = ODSBR_TAG_SIZE + ONION_LAYER_SIZE * k
  const bytes = encodeData({ source: o.source, dst: o.dst, counter: o.counter, path: [...o.path], body: o.body, onion: new Uint8Array(onionLen) })
  const m = bytes.subarray(DATA_FLAGS_OFFSET, bytes.length - onionLen)
  const n = nonce(o.dst, o.counter, NONCE_DATA)
  let tail = tag(o.key(o.dst), DATA_PREFIX, m)
  for (let i = k - 1; i >= 0; i--) {
    const node = o.path[o.probes[i]]
    const key = o.key(node)
    const sealed = seal(key, n, tail)
    const layer = new Uint8Array(4 + ODSBR_TAG_SIZE + sealed.length)
    new DataView(layer.buffer).setUint32(0, node)
    layer.set(tag(key, DATA_PREFIX, m), 4)
    layer.set(sealed, 4 + ODSBR_TAG_SIZE)
    tail = layer
  }
  bytes.set(tail, bytes.length - onionLen)
  return bytes
}

/**
 * Any node: what to do with a DATA packet received from `from`. `keyFromSource(source)` is
 * k(source, self), or null when this node has no key for that source (drop 'no-key'). A relay
 * that is not a probe forwards the bytes unchanged (the same array); it drops a packet whose next
 * probe is not further down the path ('bad-layer': a layer was removed or replaced).
 */
export function relayData(self: Addr, from: Addr, bytes: Uint8Array, keyFromSource: (source: Addr) => Uint8Array | null): RelayDataResult {
  let d
  try {
    d = decodeData(bytes)
  } catch {
    return { action: 'drop', reason: 'decode' }
  }
  const i = d.path.indexOf(self)
  const last = d.path.length - 1
  if (i <= 0) return { action: 'drop', reason: 'not-on-path' }
  if (d.path[i - 1] !== from) return { action: 'drop', reason: 'wrong-previous-hop' }
  const probesLeft = onionProbes(d.onion.length)
  const headerEnd = bytes.length - d.onion.length
  const m = bytes.subarray(DATA_FLAGS_OFFSET, headerEnd)
  if (i === last) {
    if (probesLeft !== 0) return { action: 'drop', reason: 'bad-layer' }
    const key = keyFromSource(d.source)
    if (key === null) return { action: 'drop', reason: 'no-key' }
    if (!constantTimeEqual(tag(key, DATA_PREFIX, m), d.onion)) return { action: 'drop', reason: 'bad-hmac' }
    return { action: 'deliver', source: d.source, dst: d.dst, counter: d.counter, body: d.body.slice(), path: d.path, pathBack: pathBackFrom(d.path, i) }
  }
  const to = d.path[i + 1]
  if (probesLeft === 0) return { action: 'forward', to, bytes, probe: null }
  const id = (d.onion[0] * 0x1000000) + ((d.onion[1] << 16) | (d.onion[2] << 8) | d.onion[3])
  if (id !== self) {
    const j = d.path.indexOf(id)
    // The next probe must lie ahead, before the destination, with room for the probes after it.
    if (j <= i || last - j < probesLeft) return { action: 'drop', reason: 'bad-layer' }
    return { action: 'forward', to, bytes, probe: null }
  }
  if (last - i < probesLeft) return { action: 'drop', reason: 'bad-layer' }
  const key = keyFromSource(d.source)
  if (key === null) return { action: 'drop', reason: 'no-key' }
  if (!constantTimeEqual(tag(key, DATA_PREFIX, m), d.onion.subarray(4, 4 + ODSBR_TAG_SIZE))) return { action: 'drop', reason: 'bad-hmac' }
  const inner = open(key, nonce(d.dst, d.counter, NONCE_DATA), d.onion.subarray(4 + ODSBR_TAG_SIZE))
  if (inner === null) return { action: 'drop', reason: 'bad-layer' }
  const k = onionProbes(inner.length)
  if (k < 0 || k !== probesLeft - 1) return { action: 'drop', reason: 'bad-layer' }
  const out = new Uint8Array(headerEnd + inner.length)
  out.set(bytes.subarray(0, headerEnd))
  out.set(inner, headerEnd)
  const probe: ProbeDuty = { source: d.source, dst: d.dst, counter: d.counter, path: d.path, index: i, pathBack: pathBackFrom(d.path, i), hopsToDst: last - i }
  return { action: 'forward', to, bytes: out, probe }
}

function checkPathBack(fn: string, self: Addr, source: Addr, pathBack: Path): void {
  const bad = pathProblem(pathBack, self, source)
  if (bad) throw arg(`${fn}: pathBack: ${bad}`)
}

/** The ack of `self` with an empty enc (the destination's, or a probe's whose timer ran out). */
function leafAck(fn: string, o: { source: Addr; dst: Addr; self: Addr; counter: number; pathBack: Path; key: Uint8Array }): Uint8Array {
  checkPathBack(fn, o.self, o.source, o.pathBack)
  const enc = new Uint8Array(0)
  const hmac = ackTag(o.key, o.source, o.dst, o.self, o.counter, enc)
  return encodeAck({ source: o.source, dst: o.dst, ackNode: o.self, counter: o.counter, path: [...o.pathBack], enc, hmac })
}

/** Destination: the ack of a delivered packet (`pathBack` and `counter` from relayData's 'deliver'; key = k(source, dst)). */
export function destinationAck(o: { source: Addr; dst: Addr; counter: number; pathBack: Path; key: Uint8Array }): Uint8Array {
  return leafAck('destinationAck', { ...o, self: o.dst })
}

/** Probe whose ack timer ran out: its own ack with an empty enc ("lost before the next probe"). key = k(source, self). */
export function timeoutAck(o: { duty: ProbeDuty; key: Uint8Array }): Uint8Array {
  const d = o.duty
  return leafAck('timeoutAck', { source: d.source, dst: d.dst, self: d.path[d.index], counter: d.counter, pathBack: d.pathBack, key: o.key })
}

/** Probe: wrap the next probe's ack `next` (accepted with `acceptsAck`) in its own ack. key = k(source, self). */
export function wrapAck(o: { duty: ProbeDuty; next: OdsbrAck; key: Uint8Array }): Uint8Array {
  const { duty: d, next } = o
  if (next.source !== d.source || next.dst !== d.dst || next.counter !== d.counter) {
    throw arg(`wrapAck: the ack is for (${next.source}→${next.dst}, #${next.counter}), this probe waits for (${d.source}→${d.dst}, #${d.counter})`)
  }
  const self = d.path[d.index]
  checkPathBack('wrapAck', self, d.source, d.pathBack)
  const plain = new Uint8Array(INNER_HEADER + next.enc.length + ODSBR_TAG_SIZE)
  const v = new DataView(plain.buffer)
  v.setUint32(0, next.ackNode)
  v.setUint32(4, next.counter)
  plain.set(next.enc, INNER_HEADER)
  plain.set(next.hmac, INNER_HEADER + next.enc.length)
  const enc = seal(o.key, nonce(d.dst, d.counter, NONCE_ACK), plain)
  const hmac = ackTag(o.key, d.source, d.dst, self, d.counter, enc)
  return encodeAck({ source: d.source, dst: d.dst, ackNode: self, counter: d.counter, path: [...d.pathBack], enc, hmac })
}

/** Any node: what to do with an ACK received from `from` (it travels the path it carries). */
export function relayAck(self: Addr, from: Addr, bytes: Uint8Array): RelayAckResult {
  let ack: OdsbrAck
  try {
    ack = decodeAck(bytes)
  } catch {
    return { action: 'drop', reason: 'decode' }
  }
  const i = ack.path.indexOf(self)
  if (i <= 0) return { action: 'drop', reason: 'not-on-path' }
  if (ack.path[i - 1] !== from) return { action: 'drop', reason: 'wrong-previous-hop' }
  if (i === ack.path.length - 1) return { action: 'arrived', ack }
  return { action: 'forward', to: ack.path[i + 1], bytes, ack }
}

/**
 * Whether node `index` of the data `path` (a probe: its duty's path and index; the source: 0) takes
 * `ack`, received from `from`, as the ack of its packet #`counter`: it came from path[index + 1],
 * its ackNode is further down the path, and it travelled the data path back from there.
 */
export function acceptsAck(o: { path: Path; index: number; counter: number }, from: Addr, ack: OdsbrAck): boolean {
  const { path, index } = o
  const last = path.length - 1
  if (ack.source !== path[0] || ack.dst !== path[last] || ack.counter !== o.counter) return false
  if (index + 1 > last || from !== path[index + 1]) return false
  const j = path.indexOf(ack.ackNode)
  if (j <= index || ack.path.length !== j + 1) return false
  for (let t = 0; t <= j; t++) if (ack.path[t] !== path[j - t]) return false
  return true
}

/**
 * Source: read the ack chain of a packet sent over `path` with `probes` (figure 4 lines 27–47):
 * `acked` when every probe's and the destination's ack verify, else lost before the first probe
 * (or the destination) whose ack is missing or invalid. `key(node)` is k(source, node). An ack
 * that is not this packet's at all (other source, destination or counter) or whose outer layer
 * fails gives lost before the first probe: only `acceptsAck`-ed acks should be given.
 */
export function verifyAck(o: { source: Addr; path: Path; probes: readonly number[]; counter: number; ack: Uint8Array; key: (node: Addr) => Uint8Array }): PacketOutcome {
  const { path, probes, source, counter } = o
  checkProbes(path, probes)
  const last = path.length - 1
  const dst = path[last]
  const indices = [...probes, last]
  const lost = (t: number): PacketOutcome => ({ kind: 'lost', lostBefore: indices[t] })
  let ack: OdsbrAck
  try {
    ack = decodeAck(o.ack)
  } catch {
    return lost(0)
  }
  if (ack.source !== source || ack.dst !== dst || ack.counter !== counter || ack.ackNode !== path[indices[0]]) return lost(0)
  let keyPrev = o.key(ack.ackNode)
  if (!constantTimeEqual(ackTag(keyPrev, source, dst, ack.ackNode, counter, ack.enc), ack.hmac)) return lost(0)
  let enc = ack.enc
  const n = nonce(dst, counter, NONCE_ACK)
  for (let t = 1; t < indices.length; t++) {
    if (enc.length === 0) return lost(t)
    const plain = open(keyPrev, n, enc)
    if (plain === null || plain.length < INNER_HEADER + ODSBR_TAG_SIZE) return lost(t)
    const v = new DataView(plain.buffer, plain.byteOffset, plain.byteLength)
    const ackNode = v.getUint32(0)
    const innerCounter = v.getUint32(4)
    const expected = path[indices[t]]
    if (ackNode !== expected || innerCounter !== counter) return lost(t)
    const innerEnc = plain.subarray(INNER_HEADER, plain.length - ODSBR_TAG_SIZE)
    const key = o.key(expected)
    if (!constantTimeEqual(ackTag(key, source, dst, ackNode, counter, innerEnc), plain.subarray(plain.length - ODSBR_TAG_SIZE))) return lost(t)
    keyPrev = key
    enc = innerEnc
  }
  return { kind: 'acked' }
}
