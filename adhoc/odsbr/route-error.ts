/**
 * ODSBR ROUTE-ERROR (proto ODSBR = 6, type 4; docs/WIRE.md §16.3): the optimised topology-change
 * detector of seed 003 §4.2. A relay whose link to the next node on a packet's path fails (the link
 * layer gave up on it) tells the source at once, instead of letting the loss count up to a fault:
 *
 *   type 4 | flags u8 (0) | source u32 | dst u32 | reporter u32 | next u32 | counter u32 |
 *   nPath u8 | path (reporter … source, nPath × u32) | signature 64                 88 + 4·nPath
 *
 * Signed by the reporter over "spinmesh/odsbr/route-error/v1" ‖ every byte before the signature
 * except nothing mutable (the message does not change on the way). The source checks that
 * (reporter, next) is a link of the route it uses, verifies the signature, and hands the link to
 * weight management: a Byzantine reporter can only incriminate one of its own links, which it
 * could do by dropping anyway (paper §4.2), so the message does not weaken the model.
 * The decoder is total; `path` is a fresh array, `signature` a view.
 */
import type { Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter, concatBytes } from '../../core/bytes.ts'

export const MSG_ROUTE_ERROR = 4
export const ROUTE_ERROR_DOMAIN = 'spinmesh/odsbr/route-error/v1'
const SIGNATURE_BYTES = 64

export interface RouteError {
  type: 'route-error'
  source: Addr
  dst: Addr
  /** The node whose link failed, and the next node it could not reach. */
  reporter: Addr
  next: Addr
  /** The counter of the DATA packet that failed. */
  counter: number
  /** reporter … source: the way back. */
  path: Addr[]
  signature: Uint8Array
}

function body(m: Omit<RouteError, 'type' | 'signature'>): Uint8Array {
  const w = new ByteWriter(23 + 4 * m.path.length).u8(MSG_ROUTE_ERROR).u8(0).u32(m.source).u32(m.dst).u32(m.reporter).u32(m.next).u32(m.counter).u8(m.path.length)
  for (const a of m.path) w.u32(a)
  return w.done()
}

/** The bytes the reporter signs. */
export function routeErrorSignedBytes(m: Omit<RouteError, 'type' | 'signature'>): Uint8Array {
  return concatBytes(new TextEncoder().encode(ROUTE_ERROR_DOMAIN), body(m))
}

export function encodeRouteError(m: Omit<RouteError, 'type'>): Uint8Array {
  if (m.signature.length !== SIGNATURE_BYTES) throw new RangeError(`a route error signature is ${SIGNATURE_BYTES} bytes, got ${m.signature.length}`)
  if (m.path.length < 2 || m.path.length > 255) throw new RangeError(`a route error path has 2..255 nodes, got ${m.path.length}`)
  return concatBytes(body(m), m.signature)
}

export function decodeRouteError(bytes: Uint8Array): RouteError {
  const r = new ByteReader(bytes, 'odsbr route error')
  const type = r.u8('type')
  if (type !== MSG_ROUTE_ERROR) r.fail(`type ${type} is not a route error`)
  if (r.u8('flags') !== 0) r.fail('reserved flags set')
  const source = r.nodeAddr('source')
  const dst = r.nodeAddr('dst')
  const reporter = r.nodeAddr('reporter')
  const next = r.nodeAddr('next')
  const counter = r.u32('counter')
  const n = r.u8('path length')
  if (n < 2) r.fail(`path of ${n} nodes`)
  const path: Addr[] = []
  for (let i = 0; i < n; i++) path.push(r.nodeAddr('path node'))
  if (new Set(path).size !== n) r.fail('a node appears twice on the path')
  if (path[0] !== reporter || path[n - 1] !== source) r.fail('the path must run from the reporter to the source')
  if (next === reporter || path.includes(next)) r.fail('next must be a node after the reporter')
  const signature = r.bytesView(SIGNATURE_BYTES, 'signature')
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  return { type: 'route-error', source, dst, reporter, next, counter, path, signature }
}
