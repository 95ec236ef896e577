/**
 * What a running node writes to its event log (config `log:`, runtime/event-log.ts): the events a
 * simulation trace has (field-tests/trace.ts), so the same tools read both. Per radio: `tx` (link
 * header + airtimeMs), `rx` (+ rssi, snr when the radio reports them), `radio-drop` (+ code),
 * `radio-state` (the state at attach time too); with several radios each line names its `radio`
 * (index in the config's list). From the link layer `neighbour-up/-down` and `tx-failed`; from
 * AODV and MAODV the traced protocol events (route-found, rerr, leader, …); `undeliverable` from
 * the layers whose deliveries are the node's; and `app-deliver {origin, flow, seq, hops}` for each
 * delivery carrying a traffic header (field-tests/traffic.ts). `app-send` is node-flows.ts's.
 */
import { tryDecode } from '../core/errors.ts'
import type { Radio } from '../hardware/radio.ts'
import type { LinkLayer } from '../adhoc/link.ts'
import type { Delivery } from '../adhoc/net-protocol.ts'
import { frameFields, plain, TRACED_PROTOCOL_EVENTS } from '../field-tests/trace.ts'
import { decodeAppHeader } from '../field-tests/traffic.ts'
import type { EventSink } from './event-log.ts'
import type { NodeTraffic } from './traffic.ts'

export interface NodeLogParts {
  /** The node's radios in config order (not a MultiRadio over them). */
  radios: readonly Radio[]
  link: LinkLayer
  traffic: NodeTraffic
}

type Listener = (x: never) => void
interface Emitter {
  on(ev: string, fn: Listener): unknown
  off(ev: string, fn: Listener): unknown
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/** Send the node's events to `sink`; returns what detaches every listener again. */
export function attachNodeLog(parts: NodeLogParts, sink: EventSink): () => void {
  const attached: Array<[Emitter, string, Listener]> = []
  // The emitters are typed per event; here every listener is registered the same way.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const on = (target: unknown, ev: string, fn: (x: any) => void) => {
    const e = target as Emitter
    e.on(ev, fn)
    attached.push([e, ev, fn])
  }
  const several = parts.radios.length > 1
  parts.radios.forEach((radio, i) => {
    const which = several ? { radio: i } : {}
    on(radio, 'sent', (s: { bytes: Uint8Array; airtimeMs: number }) => sink('tx', { ...frameFields(s.bytes), airtimeMs: round(s.airtimeMs, 3), ...which }))
    on(radio, 'frame', (f: { bytes: Uint8Array; rssi?: number; snr?: number }) =>
      sink('rx', { ...frameFields(f.bytes), ...(f.rssi !== undefined ? { rssi: round(f.rssi, 1) } : {}), ...(f.snr !== undefined ? { snr: round(f.snr, 1) } : {}), ...which }))
    on(radio, 'dropped', (d: { bytes: Uint8Array; code: string }) => sink('radio-drop', { code: d.code, ...frameFields(d.bytes), ...which }))
    on(radio, 'state', (s: { state: string; reason: string }) => sink('radio-state', { state: s.state, reason: s.reason, ...which }))
    sink('radio-state', { state: radio.state, reason: 'event log attached', ...which })
  })
  const link = parts.link
  on(link, 'neighbour-up', (n: { addr: number }) => sink('neighbour-up', { neighbour: n.addr }))
  on(link, 'neighbour-down', (n: { addr: number }) => sink('neighbour-down', { neighbour: n.addr }))
  on(link, 'tx-failed', (f: { to: number; proto: number; code: string }) => sink('tx-failed', { to: f.to, proto: f.proto, code: f.code }))
  const layers = parts.traffic.layers()
  for (const proto of [layers.router, layers.tree, layers.gossip]) {
    if (proto === undefined) continue
    for (const ev of TRACED_PROTOCOL_EVENTS) if (ev !== 'undeliverable') on(proto, ev, (x: unknown) => sink(ev, plain(x)))
  }
  // Anonymous gossip passes on the router's and the tree's: only the top layers' are the node's.
  for (const source of layers.sources) on(source, 'undeliverable', (u: unknown) => sink('undeliverable', plain(u)))
  on(parts.traffic, 'payload', (d: Delivery) => {
    const h = tryDecode(decodeAppHeader, d.payload)
    if (h) sink('app-deliver', { origin: d.origin, flow: h.flow, seq: h.seq, hops: d.hops })
  })
  return () => {
    for (const [e, ev, fn] of attached) e.off(ev, fn)
    attached.length = 0
  }
}
