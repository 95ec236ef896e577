/**
 * ODSBR route discovery messages (seed 003 §4.1, figure 2; docs/WIRE.md §16): the payload of link
 * DATA frames with proto ODSBR (6). Type 1 is the REQUEST, type 2 the RESPONSE (type 3, the ACK
 * of the data path, is defined in data-messages.ts). Big-endian, 4-byte addresses, first byte = type.
 *
 *   REQUEST   type 1 | flags u8 (0) | ttl u8 | hops u8 | reqId u32 | source u32 | dst u32 |
 *             nWeights u8 | nWeights × (a u32 | b u32 | weight u16) | signature 64       81 + 10·nWeights
 *   RESPONSE  type 2 | flags u8 (0) | reqId u32 | source u32 | dst u32 |
 *             nWeights u8 | nWeights × (a u32 | b u32 | weight u16) | dstSignature 64 |
 *             nHops u8 | nHops × (node u32 | signature 64)                     80 + 10·nWeights + 68·nHops
 *
 * What is signed (Ed25519, crypto/origin-auth.ts):
 * - REQUEST: the source, over `"spinmesh/odsbr/request/v1"` ‖ the message without its signature,
 *   with `ttl` and `hops` zeroed (the two fields relays rewrite).
 * - RESPONSE: the destination, over `"spinmesh/odsbr/response/v1"` ‖ the header (type through the
 *   weights). Each relay hop i, over `"spinmesh/odsbr/response-hop/v1"` ‖ header ‖ dstSignature ‖
 *   every (node, signature) of hops[0..i-1] ‖ hops[i].node: a hop cannot be removed, reordered or
 *   forged without breaking a later signature (only the last hops can be cut: a "virtual link").
 *   hops[0] is the first relay after the destination, in the order the response travelled.
 *
 * Decoders are total: a message or a `DecodeError`, nothing else. They reject unknown types and
 * flags, ttl 0, addresses that are not node addresses, source = dst, a weight entry with a = b,
 * weight 0 or a link listed twice, a hop list with a repeated node or with the source or the
 * destination as a relay, and trailing bytes. Allocation is bounded by the input.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { linkKey, type LinkKey } from './odsbr-types.ts'
import type { WeightEntry } from './weights.ts'

export const MSG_REQUEST = 1
export const MSG_RESPONSE = 2
export const DISCOVERY_SIGNATURE_SIZE = 64
export const WEIGHT_ENTRY_SIZE = 10
export const RESPONSE_HOP_SIZE = 4 + DISCOVERY_SIGNATURE_SIZE
export const MAX_WEIGHT_ENTRIES = 255
export const MAX_RESPONSE_HOPS = 255
/** type, flags, ttl, hops, reqId, source, dst, nWeights. */
const REQUEST_FIXED = 17
/** type, flags, reqId, source, dst, nWeights. */
const RESPONSE_FIXED = 15
export const REQUEST_BASE_SIZE = REQUEST_FIXED + DISCOVERY_SIGNATURE_SIZE
export const RESPONSE_BASE_SIZE = RESPONSE_FIXED + DISCOVERY_SIGNATURE_SIZE + 1
const REQUEST_TTL_OFFSET = 2
const REQUEST_HOPS_OFFSET = 3

export const REQUEST_DOMAIN = 'spinmesh/odsbr/request/v1'
export const RESPONSE_DOMAIN = 'spinmesh/odsbr/response/v1'
export const RESPONSE_HOP_DOMAIN = 'spinmesh/odsbr/response-hop/v1'

const encoder = new TextEncoder()
const REQUEST_PREFIX = encoder.encode(REQUEST_DOMAIN)
const RESPONSE_PREFIX = encoder.encode(RESPONSE_DOMAIN)
const RESPONSE_HOP_PREFIX = encoder.encode(RESPONSE_HOP_DOMAIN)

/** A weight list entry on the wire: the undirected link a–b and its weight (1..65535). */
export type { WeightEntry }

export interface OdsbrRequest {
  type: 'request'
  /** Hops the REQUEST may still make, counting the one that brought it: 1..255. */
  ttl: number
  /** Hops from the source to the node that sent this copy. */
  hops: number
  reqId: number
  source: Addr
  dst: Addr
  /** The source's weight list (links not listed weigh the base weight). */
  weights: WeightEntry[]
  /** The source's signature (`requestSignedBytes`). */
  signature: Uint8Array
}

export interface ResponseHop {
  node: Addr
  /** `node`'s signature (`responseHopSignedBytes`). */
  signature: Uint8Array
}

export interface OdsbrResponse {
  type: 'response'
  reqId: number
  source: Addr
  dst: Addr
  /** The REQUEST's weight list, echoed by the destination. */
  weights: WeightEntry[]
  /** The destination's signature (`responseSignedBytes`). */
  dstSignature: Uint8Array
  /** Relays in the order the response travelled: hops[0] is the destination's neighbour. */
  hops: ResponseHop[]
}

export type DiscoveryMessage = OdsbrRequest | OdsbrResponse

function checkSignature(s: Uint8Array, what: string): void {
  if (s.length !== DISCOVERY_SIGNATURE_SIZE) throw new RangeError(`${what} is ${DISCOVERY_SIGNATURE_SIZE} bytes, got ${s.length}`)
}

function checkWeights(ws: readonly WeightEntry[]): void {
  if (ws.length > MAX_WEIGHT_ENTRIES) throw new RangeError(`a weight list has at most ${MAX_WEIGHT_ENTRIES} entries, got ${ws.length}`)
  for (const e of ws) {
    if (!Number.isInteger(e.weight) || e.weight < 1 || e.weight > 0xffff) throw new RangeError(`a link weight is an integer in 1..65535, got ${e.weight} (link ${e.a}-${e.b})`)
  }
}

function writeWeights(w: ByteWriter, ws: readonly WeightEntry[]): void {
  w.u8(ws.length)
  for (const e of ws) w.u32(e.a).u32(e.b).u16(e.weight)
}

export function encodeRequest(m: Omit<OdsbrRequest, 'type'>): Uint8Array {
  checkSignature(m.signature, 'a REQUEST signature')
  checkWeights(m.weights)
  const w = new ByteWriter(REQUEST_BASE_SIZE + WEIGHT_ENTRY_SIZE * m.weights.length)
    .u8(MSG_REQUEST).u8(0).u8(m.ttl).u8(m.hops).u32(m.reqId).u32(m.source).u32(m.dst)
  writeWeights(w, m.weights)
  return w.raw(m.signature).done()
}

/** The bytes a REQUEST's source signs (its signature, ttl and hops are ignored). */
export function requestSignedBytes(m: Omit<OdsbrRequest, 'type' | 'signature'>): Uint8Array {
  checkWeights(m.weights)
  const w = new ByteWriter(REQUEST_PREFIX.length + REQUEST_FIXED + WEIGHT_ENTRY_SIZE * m.weights.length)
    .raw(REQUEST_PREFIX).u8(MSG_REQUEST).u8(0).u8(0).u8(0).u32(m.reqId).u32(m.source).u32(m.dst)
  writeWeights(w, m.weights)
  return w.done()
}

/** A received REQUEST's bytes as a relay forwards them: ttl − 1, hops + 1, nothing else changed. */
export function relayRequest(bytes: Uint8Array, m: OdsbrRequest): Uint8Array {
  if (m.ttl < 2 || m.hops >= 255) throw new RangeError(`a REQUEST with ttl ${m.ttl} and hops ${m.hops} cannot be relayed`)
  const out = bytes.slice()
  out[REQUEST_TTL_OFFSET] = m.ttl - 1
  out[REQUEST_HOPS_OFFSET] = m.hops + 1
  return out
}

type ResponseHeader = Pick<OdsbrResponse, 'reqId' | 'source' | 'dst' | 'weights'>

function headerSize(m: ResponseHeader): number {
  return RESPONSE_FIXED + WEIGHT_ENTRY_SIZE * m.weights.length
}

function writeHeader(w: ByteWriter, m: ResponseHeader): ByteWriter {
  w.u8(MSG_RESPONSE).u8(0).u32(m.reqId).u32(m.source).u32(m.dst)
  writeWeights(w, m.weights)
  return w
}

export function encodeResponse(m: Omit<OdsbrResponse, 'type'>): Uint8Array {
  checkSignature(m.dstSignature, 'a RESPONSE dstSignature')
  checkWeights(m.weights)
  if (m.hops.length > MAX_RESPONSE_HOPS) throw new RangeError(`a RESPONSE has at most ${MAX_RESPONSE_HOPS} hops, got ${m.hops.length}`)
  for (const h of m.hops) checkSignature(h.signature, `the signature of hop ${h.node}`)
  const w = writeHeader(new ByteWriter(RESPONSE_BASE_SIZE + WEIGHT_ENTRY_SIZE * m.weights.length + RESPONSE_HOP_SIZE * m.hops.length), m)
  w.raw(m.dstSignature).u8(m.hops.length)
  for (const h of m.hops) w.u32(h.node).raw(h.signature)
  return w.done()
}

/** The bytes a RESPONSE's destination signs: domain ‖ header (type through the weights). */
export function responseSignedBytes(m: ResponseHeader): Uint8Array {
  checkWeights(m.weights)
  const w = new ByteWriter(RESPONSE_PREFIX.length + headerSize(m)).raw(RESPONSE_PREFIX)
  return writeHeader(w, m).done()
}

/**
 * The bytes relay hop `i` signs: domain ‖ header ‖ dstSignature ‖ (node, signature) of hops[0..i-1]
 * ‖ `node` (default hops[i].node; a relay appending itself passes i = hops.length and its address).
 */
export function responseHopSignedBytes(m: Omit<OdsbrResponse, 'type'>, i: number, node: Addr = m.hops[i]?.node ?? NaN): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i > m.hops.length) throw new RangeError(`hop index ${i} is outside 0..${m.hops.length}`)
  if (!isNodeAddr(node)) throw new RangeError(`hop ${i}: ${node} is not a node address`)
  checkSignature(m.dstSignature, 'a RESPONSE dstSignature')
  checkWeights(m.weights)
  const w = new ByteWriter(RESPONSE_HOP_PREFIX.length + headerSize(m) + DISCOVERY_SIGNATURE_SIZE + RESPONSE_HOP_SIZE * i + 4).raw(RESPONSE_HOP_PREFIX)
  writeHeader(w, m).raw(m.dstSignature)
  for (let j = 0; j < i; j++) {
    checkSignature(m.hops[j].signature, `the signature of hop ${m.hops[j].node}`)
    w.u32(m.hops[j].node).raw(m.hops[j].signature)
  }
  return w.u32(node).done()
}

function readWeights(r: ByteReader): WeightEntry[] {
  const n = r.u8('nWeights')
  if (r.remaining < n * WEIGHT_ENTRY_SIZE) r.fail(`nWeights ${n} needs ${n * WEIGHT_ENTRY_SIZE} bytes, ${r.remaining} left`)
  const out: WeightEntry[] = []
  const seen = new Set<LinkKey>()
  for (let i = 0; i < n; i++) {
    const a = r.nodeAddr('weight link end a')
    const b = r.nodeAddr('weight link end b')
    const weight = r.u16('weight')
    if (a === b) r.fail(`weight entry ${i} links node ${a} to itself`)
    if (weight === 0) r.fail(`weight entry ${i} (link ${a}-${b}) has weight 0`)
    const k = linkKey(a, b)
    if (seen.has(k)) r.fail(`link ${a}-${b} is listed twice in the weight list`)
    seen.add(k)
    out.push({ a, b, weight })
  }
  return out
}

function endpoints(r: ByteReader): { reqId: number; source: Addr; dst: Addr } {
  const reqId = r.u32('reqId')
  const source = r.nodeAddr('source')
  const dst = r.nodeAddr('dst')
  if (source === dst) r.fail(`source and dst are both ${source}`)
  return { reqId, source, dst }
}

function flags(r: ByteReader): void {
  const f = r.u8('flags')
  if (f !== 0) r.fail(`unknown flag bits set (0x${f.toString(16)})`)
}

function end(r: ByteReader): void {
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
}

/** Decode a REQUEST or RESPONSE. Returns it or throws `DecodeError`; never throws anything else. */
export function decodeDiscovery(bytes: Uint8Array): DiscoveryMessage {
  const r = new ByteReader(bytes, 'odsbr discovery message')
  const type = r.u8('type')
  switch (type) {
    case MSG_REQUEST: {
      flags(r)
      const ttl = r.u8('ttl')
      if (ttl === 0) r.fail('ttl 0')
      const hops = r.u8('hops')
      const { reqId, source, dst } = endpoints(r)
      const weights = readWeights(r)
      const signature = r.bytesView(DISCOVERY_SIGNATURE_SIZE, 'signature').slice()
      end(r)
      return { type: 'request', ttl, hops, reqId, source, dst, weights, signature }
    }
    case MSG_RESPONSE: {
      flags(r)
      const { reqId, source, dst } = endpoints(r)
      const weights = readWeights(r)
      const dstSignature = r.bytesView(DISCOVERY_SIGNATURE_SIZE, 'dstSignature').slice()
      const n = r.u8('nHops')
      if (r.remaining !== n * RESPONSE_HOP_SIZE) r.fail(`nHops ${n} needs ${n * RESPONSE_HOP_SIZE} bytes of hops, got ${r.remaining}`)
      const hops: ResponseHop[] = []
      const seen = new Set<Addr>()
      for (let i = 0; i < n; i++) {
        const node = r.nodeAddr('hop node')
        if (node === source || node === dst) r.fail(`hop ${i} is the ${node === source ? 'source' : 'destination'} ${node}`)
        if (seen.has(node)) r.fail(`hop ${i}: node ${node} appears twice in the path`)
        seen.add(node)
        hops.push({ node, signature: r.bytesView(DISCOVERY_SIGNATURE_SIZE, 'hop signature').slice() })
      }
      end(r)
      return { type: 'response', reqId, source, dst, weights, dstSignature, hops }
    }
    default:
      return r.fail(`unknown message type ${type}`)
  }
}
