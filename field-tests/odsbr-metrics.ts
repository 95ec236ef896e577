/**
 * ODSBR metrics of a run (the `odsbr` section of the metrics JSON, docs/METRICS.md; issue 6):
 * link convictions split into true and false, what the protocol's messages cost on air by kind
 * (REQUEST, RESPONSE, ACK, ROUTE-ERROR, DATA headers and probes, signatures), and how long flows
 * take to route around the adversaries.
 *
 * Two levels, because the runner gives no hook into a run (RunJob has none):
 * - Always (any odsbr run, from the state at the end): the protocol's counters and every source's
 *   weight list at the end (links still above base weight), split true/false.
 * - When the simulation was instrumented before it ran (`instrumentOdsbr(sim)`, what the ODSBR
 *   reproduction's workers do): every conviction as it happens (the protocol's `conviction` event,
 *   with its cause: fault detection, or a link break reported by the link layer or by
 *   ROUTE-ERRORs), every frame on air
 *   decoded by kind, and every app packet with the route it was sent on (read from the source's
 *   `route(dst)` at the instant the traffic generator hands it over, through `sim.traceApp`).
 *
 * A conviction is TRUE when one end of the convicted link is an adversary, FALSE otherwise. In
 * mobile runs most false convictions are links that broke by movement: benign faults, convicted by
 * design (the protocol cannot tell them from a drop).
 *
 * Time to route around (per flow, first episode): from the send time of the flow's first packet
 * that was sent on a route through an adversary (as a relay) and never delivered, to the send time
 * of the first later packet sent on a route that avoids every adversary. Resolution: the flow's
 * packet interval (250 ms in `byzantine`). A flow whose episode is still open when the run ends
 * is counted in `notRoutedAround` and left out of the quantiles (which are then optimistic; the
 * count says by how much). Later episodes (rehabilitated links lead back through an adversary,
 * movement) are summarised apart in `episodes`.
 */
import type { Addr } from '../core/addr.ts'
import { tryDecode } from '../core/errors.ts'
import { decodeLinkFrame } from '../adhoc/link-frame.ts'
import { Proto } from '../adhoc/protocols.ts'
import { MSG_ACK, MSG_DATA, decodeData } from '../adhoc/odsbr/data-messages.ts'
import { MSG_REQUEST, MSG_RESPONSE } from '../adhoc/odsbr/discovery-messages.ts'
import { Odsbr } from '../adhoc/odsbr/odsbr.ts'
import { linkEnds, type Path } from '../adhoc/odsbr/odsbr-types.ts'
import { MSG_ROUTE_ERROR } from '../adhoc/odsbr/route-error.ts'
import type { Simulation } from './runner.ts'

/** Ed25519 signature size (REQUEST, RESPONSE per hop, ROUTE-ERROR). */
export const SIGNATURE_BYTES = 64

export interface ConvictionEvent {
  /** Virtual ms. */
  t: number
  /** The source that convicted the link. */
  source: Addr
  a: Addr
  b: Addr
  /** `detection`: fault detection (loss counting); `link-break`: tx failure or ROUTE-ERROR. */
  cause: 'detection' | 'link-break'
}

export interface TrueFalse {
  total: number
  /** One end of the link is an adversary. */
  true: number
  false: number
}

/** An app packet as its source handed it to ODSBR, with the route in use at that instant (null: none, it waits for a discovery). */
export interface SendRecord {
  t: number
  flow: number
  src: Addr
  dst: Addr
  seq: number
  route: Path | null
}

export interface RouteAroundEpisode {
  flow: number
  src: Addr
  dst: Addr
  startMs: number
  /** null: still on an adversarial route (or none) when the run ended. */
  endMs: number | null
  ms: number | null
}

export interface RouteAroundSummary {
  /** Flows that sent anything. */
  flows: number
  /** Flows that lost a packet sent on a route through an adversary. */
  attacked: number
  routedAround: number
  notRoutedAround: number
  /** Over the routed-around flows' first episodes; null when none. */
  medianMs: number | null
  p90Ms: number | null
  maxMs: number | null
  /** Every episode of every flow (a flow can be led back through an adversary). */
  episodes: { total: number; closed: number; medianMs: number | null; p90Ms: number | null }
  /** First episode per attacked flow. */
  perFlow: RouteAroundEpisode[]
}

export interface FrameCount {
  frames: number
  bytes: number
}

/** ODSBR frames on air (link header and trailer included), by message kind. */
export interface OdsbrOverhead {
  requests: FrameCount
  responses: FrameCount
  acks: FrameCount
  routeErrors: FrameCount
  /** DATA frames; `headerBytes`: everything but the app payload (link header, ODSBR header, path, probe onion, trailer). */
  data: FrameCount & { headerBytes: number }
  /** Fragments after the first, or undecodable: kind unknown. */
  other: FrameCount
  /** Signatures carried on air (REQUEST 1, RESPONSE 1 + hops, ROUTE-ERROR 1). */
  signatures: { count: number; bytes: number }
  /** Control (REQUEST + RESPONSE + ACK + ROUTE-ERROR) and DATA header cost per delivered packet; null when nothing was delivered. */
  perDelivered: { controlFrames: number; controlBytes: number; dataHeaderBytes: number } | null
}

export interface OdsbrMetrics {
  /** Whether the run was instrumented (`instrumentOdsbr`); the fields marked so are null otherwise. */
  instrumented: boolean
  /** Every conviction as it happened (instrumented only). */
  convictions: (TrueFalse & { detection: TrueFalse; linkBreak: TrueFalse }) | null
  /** (source, link) pairs still above base weight in the sources' weight lists at the end. */
  weightListsAtEnd: TrueFalse
  /** Instrumented only. */
  routeAround: RouteAroundSummary | null
  /** Instrumented only. */
  overhead: OdsbrOverhead | null
  /** Totals over nodes of the protocol's counters (scope 'odsbr'). */
  counters: Record<string, number>
}

const isOdsbr = (p: unknown): p is Odsbr => p instanceof Odsbr

const r6 = (x: number) => Math.round(x * 1e6) / 1e6

/** Linear-interpolation quantile (R type 7) of sorted values; null for none. */
export function quantileOf(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null
  const pos = (sorted.length - 1) * q
  const i = Math.floor(pos)
  const f = pos - i
  return r6(i + 1 < sorted.length ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i])
}

/** True when either end is an adversary. */
export function isTrueConviction(a: Addr, b: Addr, adversaries: ReadonlySet<Addr>): boolean {
  return adversaries.has(a) || adversaries.has(b)
}

export function classifyLinks(links: Iterable<{ a: Addr; b: Addr }>, adversaries: ReadonlySet<Addr>): TrueFalse {
  const out: TrueFalse = { total: 0, true: 0, false: 0 }
  for (const l of links) {
    out.total++
    if (isTrueConviction(l.a, l.b, adversaries)) out.true++
    else out.false++
  }
  return out
}

export function classifyConvictions(events: readonly ConvictionEvent[], adversaries: ReadonlySet<Addr>): TrueFalse & { detection: TrueFalse; linkBreak: TrueFalse } {
  return {
    ...classifyLinks(events, adversaries),
    detection: classifyLinks(events.filter((e) => e.cause === 'detection'), adversaries),
    linkBreak: classifyLinks(events.filter((e) => e.cause === 'link-break'), adversaries),
  }
}

/** A route with an adversary among its relays (endpoints are trusted and never adversaries). */
export function throughAdversary(route: Path, adversaries: ReadonlySet<Addr>): boolean {
  for (let i = 1; i + 1 < route.length; i++) if (adversaries.has(route[i])) return true
  return false
}

/**
 * Episodes of every flow (see the file comment): `sends` in time order; `delivered(flow, seq)`
 * says whether the packet reached its destination.
 */
export function routeAroundEpisodes(sends: readonly SendRecord[], delivered: (flow: number, seq: number) => boolean, adversaries: ReadonlySet<Addr>): RouteAroundEpisode[] {
  const open = new Map<number, RouteAroundEpisode>()
  const out: RouteAroundEpisode[] = []
  for (const s of sends) {
    const ep = open.get(s.flow)
    if (ep === undefined) {
      if (s.route !== null && throughAdversary(s.route, adversaries) && !delivered(s.flow, s.seq)) {
        const e: RouteAroundEpisode = { flow: s.flow, src: s.src, dst: s.dst, startMs: r6(s.t), endMs: null, ms: null }
        open.set(s.flow, e)
        out.push(e)
      }
    } else if (s.route !== null && !throughAdversary(s.route, adversaries)) {
      ep.endMs = r6(s.t)
      ep.ms = r6(ep.endMs - ep.startMs)
      open.delete(s.flow)
    }
  }
  return out
}

export function summariseRouteAround(sends: readonly SendRecord[], delivered: (flow: number, seq: number) => boolean, adversaries: ReadonlySet<Addr>): RouteAroundSummary {
  const episodes = routeAroundEpisodes(sends, delivered, adversaries)
  const firsts = new Map<number, RouteAroundEpisode>()
  for (const e of episodes) if (!firsts.has(e.flow)) firsts.set(e.flow, e)
  const perFlow = [...firsts.values()].sort((x, y) => x.flow - y.flow)
  const done = perFlow.filter((e) => e.ms !== null).map((e) => e.ms!).sort((x, y) => x - y)
  const all = episodes.filter((e) => e.ms !== null).map((e) => e.ms!).sort((x, y) => x - y)
  return {
    flows: new Set(sends.map((s) => s.flow)).size,
    attacked: perFlow.length,
    routedAround: done.length,
    notRoutedAround: perFlow.length - done.length,
    medianMs: quantileOf(done, 0.5),
    p90Ms: quantileOf(done, 0.9),
    maxMs: done.length ? done[done.length - 1] : null,
    episodes: { total: episodes.length, closed: all.length, medianMs: quantileOf(all, 0.5), p90Ms: quantileOf(all, 0.9) },
    perFlow,
  }
}

const zero = (): FrameCount => ({ frames: 0, bytes: 0 })

/** Counts ODSBR frames by kind from the bytes a radio put on air. */
export class OverheadCounter {
  readonly requests = zero()
  readonly responses = zero()
  readonly acks = zero()
  readonly routeErrors = zero()
  readonly data = { ...zero(), headerBytes: 0 }
  readonly other = zero()
  readonly signatures = { count: 0, bytes: 0 }

  /** One frame on air (any protocol; frames not ODSBR's are ignored). */
  frame(bytes: Uint8Array): void {
    const f = tryDecode(decodeLinkFrame, bytes)
    if (f === undefined || f.kind !== 'data' || (f.proto !== Proto.ODSBR && f.proto !== Proto.ODSBR_DATA)) return
    const p = f.payload
    const add = (c: FrameCount) => {
      c.frames++
      c.bytes += bytes.length
    }
    if (f.frag !== null && f.frag.index > 0) return add(this.other)
    const whole = f.frag === null
    if (f.proto === Proto.ODSBR_DATA) {
      if (p[0] !== MSG_DATA) return add(this.other)
      add(this.data)
      const d = whole ? tryDecode(decodeData, p) : undefined
      // A first fragment's body continues in the next ones: count its whole frame as header.
      this.data.headerBytes += bytes.length - (d ? d.body.length : 0)
      return
    }
    let sigs = 0
    if (p[0] === MSG_REQUEST) {
      add(this.requests)
      sigs = 1
    } else if (p[0] === MSG_RESPONSE) {
      add(this.responses)
      const h = p.length > 14 ? 15 + 10 * p[14] : -1
      sigs = 1 + (whole && h >= 0 && p.length > h + 64 ? p[h + 64] : 0)
    } else if (p[0] === MSG_ACK) add(this.acks)
    else if (p[0] === MSG_ROUTE_ERROR) {
      add(this.routeErrors)
      sigs = 1
    } else add(this.other)
    this.signatures.count += sigs
    this.signatures.bytes += sigs * SIGNATURE_BYTES
  }

  result(delivered: number): OdsbrOverhead {
    const copy = (c: FrameCount) => ({ frames: c.frames, bytes: c.bytes })
    const control = [this.requests, this.responses, this.acks, this.routeErrors]
    const cf = control.reduce((s, c) => s + c.frames, 0)
    const cb = control.reduce((s, c) => s + c.bytes, 0)
    return {
      requests: copy(this.requests),
      responses: copy(this.responses),
      acks: copy(this.acks),
      routeErrors: copy(this.routeErrors),
      data: { ...copy(this.data), headerBytes: this.data.headerBytes },
      other: copy(this.other),
      signatures: { ...this.signatures },
      perDelivered: delivered > 0 ? { controlFrames: r6(cf / delivered), controlBytes: r6(cb / delivered), dataHeaderBytes: r6(this.data.headerBytes / delivered) } : null,
    }
  }
}

/** What an instrumented run recorded. */
export class OdsbrRecorder {
  readonly convictions: ConvictionEvent[] = []
  readonly sends: SendRecord[] = []
  readonly overhead = new OverheadCounter()
  private readonly delivered = new Map<number, Set<number>>()

  constructor(private readonly sim: Simulation) {
    for (const [id, p] of sim.protocols) {
      if (!isOdsbr(p)) continue
      p.on('conviction', (e) => {
        const [a, b] = linkEnds(e.link)
        this.convictions.push({ t: sim.scheduler.now(), source: id, a, b, cause: e.cause })
      })
      sim.medium.radio(id).on('sent', (s) => this.overhead.frame(s.bytes))
    }
    const prev = sim.traceApp
    sim.traceApp = (e) => {
      prev?.(e)
      this.app(e)
    }
  }

  private app(e: Record<string, unknown>): void {
    const flow = e.flow
    const seq = e.seq
    if (typeof flow !== 'number' || typeof seq !== 'number') return
    if (e.ev === 'app-send') {
      const src = e.node as Addr
      const dst = e.dst as Addr
      const p = this.sim.protocols.get(src)
      this.sends.push({ t: e.t as number, flow, src, dst, seq, route: isOdsbr(p) ? p.route(dst) : null })
    } else if (e.ev === 'app-deliver') {
      let s = this.delivered.get(flow)
      if (s === undefined) this.delivered.set(flow, (s = new Set()))
      s.add(seq)
    }
  }

  isDelivered(flow: number, seq: number): boolean {
    return this.delivered.get(flow)?.has(seq) === true
  }
}

const recorders = new WeakMap<Simulation, OdsbrRecorder>()

/**
 * Instrument a built, not yet run, simulation (see the file comment). Harmless for other
 * protocols (nothing to wrap); results do not change (only reads, and timers are not added).
 */
export function instrumentOdsbr(sim: Simulation): OdsbrRecorder {
  let r = recorders.get(sim)
  if (r === undefined) recorders.set(sim, (r = new OdsbrRecorder(sim)))
  return r
}

/** Counters reported in the section (totals over nodes; absent ones are 0). */
export const REPORTED_COUNTERS = [
  'requestsSent', 'requestsForwarded', 'responsesSent', 'responsesForwarded', 'routesFound', 'discoveryFailures',
  'dataOriginated', 'dataForwarded', 'dataDelivered', 'dataDroppedFiltered', 'acksSent', 'acksWrapped', 'ackTimeouts', 'acksForwarded',
  'packetsAcked', 'packetsLost', 'faults', 'probesAdded', 'probesRetired', 'convictions', 'rediscoveries', 'spareRoutesUsed', 'linkBreaks', 'routeErrorsSent', 'routeErrorsAccepted',
] as const

/** The `odsbr` section of a run's metrics; null when no node runs ODSBR. */
export function odsbrMetrics(sim: Simulation, delivered: number): OdsbrMetrics | null {
  const nodes = [...sim.protocols.values()].filter(isOdsbr)
  if (nodes.length === 0) return null
  const adversaries = new Set(sim.adversaries)
  const listed: Array<{ a: Addr; b: Addr }> = []
  for (const p of nodes) listed.push(...p.weights.list(Number.MAX_SAFE_INTEGER))
  const totals = sim.metrics.totals().odsbr ?? {}
  const counters = Object.fromEntries(REPORTED_COUNTERS.map((n) => [n, totals[n] ?? 0]))
  const r = recorders.get(sim)
  return {
    instrumented: r !== undefined,
    convictions: r ? classifyConvictions(r.convictions, adversaries) : null,
    weightListsAtEnd: classifyLinks(listed, adversaries),
    routeAround: r ? summariseRouteAround(r.sends, (f, s) => r.isDelivered(f, s), adversaries) : null,
    overhead: r ? r.overhead.result(delivered) : null,
    counters,
  }
}
