/**
 * Per-packet event trace of a simulation (`spinmesh sim ... --trace FILE`): one JSON object per
 * line, `{t, node, ev, ...}`, t in virtual ms. Events:
 *   tx / rx / radio-drop    every frame on air, heard, or refused by a radio (link header decoded:
 *                           kind, src, dst, proto, seq, len)
 *   app-send / app-deliver  traffic packets by flow and seq (deliver: hops, latencyMs)
 *   neighbour-up/-down, tx-failed   from each link layer
 *   undeliverable and each protocol's own events (AODV route-found, rerr, ...; MAODV leader, ...)
 * Byte payloads are written as their length. Traces are for debugging: they are large.
 */
import { DecodeError } from '../core/errors.ts'
import { decodeLinkFrame } from '../adhoc/link-frame.ts'
import type { Simulation } from './runner.ts'

export type TraceSink = (event: Record<string, unknown>) => void

/** Protocol events recorded when a protocol emits them (others are ignored). */
export const TRACED_PROTOCOL_EVENTS = [
  'undeliverable',
  'route-found',
  'route-lost',
  'unreachable',
  'rreq',
  'rerr',
  'leader',
  'tree-change',
  'joined',
  'repair',
  'merge',
] as const

/** An event's fields for a trace line: byte arrays as their length; a non-object as `{ value }`. */
export function plain(fields: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (fields === null || typeof fields !== 'object') return fields === undefined ? out : { value: fields }
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Uint8Array ? v.length : v
  return out
}

/** A frame's link header for a trace line: kind, src, dst (not beacons), proto (data), seq, len. */
export function frameFields(bytes: Uint8Array): Record<string, unknown> {
  try {
    const f = decodeLinkFrame(bytes)
    const base: Record<string, unknown> = { kind: f.kind, src: f.src, seq: f.seq, len: bytes.length }
    if (f.kind !== 'beacon') base.dst = f.dst
    if (f.kind === 'data') base.proto = f.proto
    return base
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'undecodable', len: bytes.length }
    throw e
  }
}

/** Subscribe a sink to every traced event of a built (not yet run) simulation. */
export function attachTrace(sim: Simulation, sink: TraceSink): void {
  const now = () => sim.scheduler.now()
  for (const [node, link] of sim.links) {
    const radio = sim.medium.radio(node)
    radio.on('sent', (s) => sink({ t: s.at, node, ev: 'tx', ...frameFields(s.bytes) }))
    radio.on('frame', (f) => sink({ t: f.at, node, ev: 'rx', ...frameFields(f.bytes), rssi: Math.round((f.rssi ?? 0) * 10) / 10 }))
    radio.on('dropped', (d) => sink({ t: now(), node, ev: 'radio-drop', code: d.code, ...frameFields(d.bytes) }))
    link.on('neighbour-up', (n) => sink({ t: now(), node, ev: 'neighbour-up', neighbour: n.addr }))
    link.on('neighbour-down', (n) => sink({ t: now(), node, ev: 'neighbour-down', neighbour: n.addr }))
    link.on('tx-failed', (f) => sink({ t: now(), node, ev: 'tx-failed', to: f.to, proto: f.proto, code: f.code }))
    const proto = sim.protocols.get(node)! as unknown as { on(ev: string, fn: (x: unknown) => void): void }
    for (const ev of TRACED_PROTOCOL_EVENTS) proto.on(ev, (x) => sink({ t: now(), node, ev, ...plain(x) }))
  }
  sim.traceApp = sink
}
