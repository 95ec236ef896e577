/**
 * ODSBR (PROTOCOLS.md §4; seed 003 §4): on-demand routing that keeps two trusted endpoints
 * talking as long as one fault-free path exists, whatever the relays do. The protocol composes the
 * three sans-IO parts:
 *
 * - route discovery with fault avoidance (discovery.ts): signed REQUEST flood, RESPONSE flood with
 *   a signature per hop, least-weight forwarding under the source's weight list;
 * - Byzantine fault detection (probes.ts, detection.ts): source-routed data with an onion of probes,
 *   acks aggregated from the destination back, losses attributed to the interval after the last
 *   valid ack, binary-search probe insertion, interval counters and probe retirement, threshold τ;
 * - link weight management (weights.ts): a convicted link's weight doubles, its counter drains by
 *   1/m per good packet, the weight halves at zero; a conviction triggers a new discovery.
 *
 * This node is a source (flows, pending packets and their ack timers), a relay (forwarding along
 * the path a packet carries; as a probe it owes an ack within the round-trip bound to the
 * destination) and a destination (delivery once per (source, counter), its ack back along the
 * path). ODSBR needs an authenticated network: its probes and acks are keyed by certificates.
 *
 * Counters (scope 'odsbr', besides discovery's): dataOriginated, dataForwarded, dataDelivered,
 * dataDuplicates, dataDropped<Reason> (the relayData reasons, plus Filtered, NoKey, BufferFull,
 * Unreachable), acksSent, acksWrapped, ackTimeouts, acksForwarded, acksIgnored, packetsAcked,
 * packetsLost, faults, probesAdded, probesRetired, convictions, rediscoveries, spareRoutesUsed, and the
 * route-error ones (routeErrorsSent/Forwarded/Accepted/Ignored, routeErrorBadSignature, linkBreaks).
 */
import { BROADCAST, isNodeAddr, type Addr } from '../../core/addr.ts'
import { getU32 } from '../../core/bytes.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { OriginAuth } from '../../crypto/origin-auth.ts'
import { ReplayWindows } from '../../crypto/replay.ts'
import type { Link, LinkPort, LinkRx } from '../link-types.ts'
import type { NetProtocol, NetProtocolEvents } from '../net-protocol.ts'
import { Proto } from '../protocols.ts'
import { MSG_ACK, decodeData, pathBackFrom } from './data-messages.ts'
import { FaultDetector } from './detection.ts'
import { RouteDiscovery } from './discovery.ts'
import { validateOdsbrConfig, type OdsbrConfig, type OdsbrConfigInput } from './odsbr-defaults.ts'
import type { PacketOutcome, Path } from './odsbr-types.ts'
import {
  acceptsAck, ackTimeoutMs, buildData, destinationAck, relayAck, relayData, timeoutAck, timeoutOutcome, verifyAck, wrapAck, type ProbeDuty,
} from './probes.ts'
import { LinkWeights } from './weights.ts'
import { MSG_ROUTE_ERROR, decodeRouteError, encodeRouteError, routeErrorSignedBytes } from './route-error.ts'
import { linkEnds, linkKey, pathLinks, samePath, type LinkKey } from './odsbr-types.ts'
import { tryDecode } from '../../core/errors.ts'

/**
 * Largest payload a DATA packet carries within `maxDatagram` on the longest path `maxHops` allows,
 * with every relay a probe (docs/WIRE.md §16: 17 + 4·nodes + 8 + 28·probes bytes of overhead).
 */
export function odsbrMaxPayload(maxDatagram: number, config: OdsbrConfig): number {
  const nodes = config.maxHops + 1
  return maxDatagram - (17 + 4 * nodes + 8 + 28 * (nodes - 2))
}

/** Destinations a node keeps routes and detection state for; the oldest is forgotten first. */
const MAX_FLOWS = 4096

/** A relay sends at most one ROUTE-ERROR per (source, destination, next hop) in this time. */
const ROUTE_ERROR_INTERVAL_MS = 250

/** The pairwise-key label of source–probe (and source–destination) keys. */
export const PROBE_KEY_LABEL = 'odsbr-probe'

/** A relayed data packet as an adversary behaviour sees it (field-tests/adversaries.ts). */
export interface OdsbrForwardCandidate {
  origin: Addr
  dst: Addr
  seq: number
  hops: number
  payload: Uint8Array
}

export interface OdsbrOptions {
  link: Link
  scheduler: Scheduler
  rng: Rng
  metrics?: MetricsScope
  config?: OdsbrConfigInput
  configPath?: string
  /** Origin authentication of this node (required: ODSBR runs in authenticated networks only). */
  security?: OriginAuth
  /** Adversary behaviours: false = this node silently does not relay the data packet. */
  forwardFilter?: (p: OdsbrForwardCandidate) => boolean
}

const COUNTERS = [
  'dataOriginated', 'dataForwarded', 'dataDelivered', 'dataDuplicates', 'acksSent', 'acksWrapped', 'ackTimeouts', 'acksForwarded',
  'acksIgnored', 'packetsAcked', 'packetsLost', 'faults', 'probesAdded', 'probesRetired', 'convictions', 'rediscoveries',
  'routeErrorsSent', 'routeErrorsForwarded', 'routeErrorsAccepted', 'routeErrorsIgnored', 'routeErrorBadSignature', 'linkBreaks',
  'spareRoutesUsed',
] as const
type CounterName = (typeof COUNTERS)[number]

/** A destination this node sends to. */
interface Flow {
  dst: Addr
  path: Path | null
  detector: FaultDetector | null
  buffered: Uint8Array[]
  /** The other paths of the latest discovery (lightest first) and when it ended. */
  spares: Array<{ path: Path; weight: number }>
  sparesAt: number
  /** Link breaks reported on the current path since its last acked packet, by link. */
  breaks: Map<LinkKey, number>
}

/** A packet this node originated, waiting for its ack. */
interface Pending {
  flow: Flow
  path: Path
  probes: number[]
  epoch: number
  timer: Timer
}

export interface OdsbrEvents {
  /**
   * This source weighed a link of its route to `dst` as faulty: `detection` (fault detection
   * pinned a fault on it; `losses` = μ) or `link-break` (route errors or its own link layer
   * reported `routeErrorsToBreak` failures on it). `weight` is the link's new weight.
   */
  conviction: (e: { dst: Addr; link: LinkKey; cause: 'detection' | 'link-break'; losses: number; weight: number }) => void
  /** The route to `dst` changed: from a discovery, to a spare path, or none (a rediscovery is running). */
  'route-change': (e: { dst: Addr; path: Path | null; via: 'discovery' | 'spare' | 'none' }) => void
}

export class Odsbr extends Emitter<NetProtocolEvents & OdsbrEvents> implements NetProtocol {
  readonly name = 'odsbr'
  readonly address: Addr
  readonly config: OdsbrConfig
  readonly weights: LinkWeights
  readonly discovery: RouteDiscovery
  private readonly auth: OriginAuth
  private readonly control: LinkPort
  private readonly data: LinkPort
  private readonly scheduler: Scheduler
  private readonly metrics: MetricsScope
  private readonly m: Record<CounterName, Counter>
  private readonly dropCounters = new Map<string, Counter>()
  private readonly forwardFilter: OdsbrOptions['forwardFilter']
  private readonly flows = new Map<Addr, Flow>()
  private readonly pending = new Map<number, Pending>()
  /** Probe duties: acks this node owes, by `${source}/${counter}`. */
  private readonly duties = new Map<string, { duty: ProbeDuty; timer: Timer }>()
  /** Destination: (source, counter) already delivered. */
  private readonly delivered: ReplayWindows
  /** Probe: (source, counter) of packets this node already owed an ack for. */
  private readonly dutiesTaken: ReplayWindows
  private counter: number
  private readonly timers = new Set<Timer>()
  /** Route errors sent, by `${source}/${dst}/${next}`, for a one-per-second limit. */
  private readonly errorsSent = new Map<string, number>()
  private closed = false

  constructor(o: OdsbrOptions) {
    super()
    if (o.security === undefined) {
      throw new SpinmeshError(ErrorCodes.CONFIG, 'odsbr needs an authenticated network (security.mode: authenticated): its probes and acks are keyed by certificates')
    }
    this.config = validateOdsbrConfig(o.config ?? {}, o.configPath ?? 'odsbr')
    this.address = o.link.address
    this.auth = o.security
    this.scheduler = o.scheduler
    this.forwardFilter = o.forwardFilter
    this.metrics = o.metrics ?? new MetricsRegistry().scope('odsbr', o.link.address)
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, this.metrics.counter(n)])) as Record<CounterName, Counter>
    this.control = o.link.port(Proto.ODSBR)
    this.data = o.link.port(Proto.ODSBR_DATA)
    this.weights = new LinkWeights(this.config)
    this.delivered = new ReplayWindows({ windowBits: 256, maxOrigins: 1024 })
    this.dutiesTaken = new ReplayWindows({ windowBits: 256, maxOrigins: 1024 })
    this.counter = o.rng.int(0x4000_0000)
    this.discovery = new RouteDiscovery({
      self: this.address,
      auth: o.security,
      config: this.config,
      scheduler: o.scheduler,
      rng: o.rng,
      metrics: this.metrics,
      send: (payload, delayMs) => this.later(delayMs, () => this.control.send(BROADCAST, payload)),
      weightList: () => this.weights.list(this.config.maxWeightListEntries),
      suspicion: (path) => suspicion(this.weights.suspects(), path),
    })
    this.discovery.on('route', (dst, path, _weight, spares) => this.routeFound(dst, path, spares))
    this.discovery.on('unreachable', (dst) => this.unreachable(dst))
    this.control.on('receive', (rx) => this.onControl(rx))
    this.data.on('receive', (rx) => this.onData(rx))
    // Only an unanswered frame means the neighbour is gone; a full queue is congestion, not a break.
    if (this.config.routeErrors) this.data.on('tx-failed', (f) => f.code === ErrorCodes.NO_ACK && this.linkFailed(f.to, f.payload))
  }

  // ---- API -------------------------------------------------------------------------------------

  send(dst: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'odsbr is closed')
    if (!isNodeAddr(dst) || dst === this.address) throw new RangeError(`odsbr sends to another node's address, got ${dst}`)
    let flow = this.flows.get(dst)
    if (flow === undefined) {
      if (this.flows.size >= MAX_FLOWS) this.flows.delete(this.flows.keys().next().value as Addr) // its pending packets just time out
      this.flows.set(dst, (flow = { dst, path: null, detector: null, buffered: [], spares: [], sparesAt: 0, breaks: new Map() }))
    }
    if (flow.path !== null) return this.sendData(flow, payload)
    if (flow.buffered.length >= this.config.maxBuffered) {
      this.dropped('BufferFull')
      this.emit('undeliverable', { dst, payload, reason: 'buffer-full' })
    } else flow.buffered.push(payload)
    this.discovery.discover(dst)
  }

  /** ODSBR is unicast only. */
  join(): void {
    throw new SpinmeshError(ErrorCodes.UNSUPPORTED, 'odsbr routes unicast only; use maodv for groups')
  }

  leave(): void {}

  /**
   * The NetProtocol view of the event names (eventemitter3's typing cannot widen to OdsbrEvents'
   * extra events); at run time the list may also hold OdsbrEvents names.
   */
  override eventNames(): Array<keyof NetProtocolEvents> {
    return super.eventNames() as Array<keyof NetProtocolEvents>
  }

  /** The route in use to `dst`, if any (tests, status). */
  route(dst: Addr): Path | null {
    return this.flows.get(dst)?.path ?? null
  }

  /** The probes currently asked for on the route to `dst` (path indices, destination last). */
  probes(dst: Addr): number[] {
    return this.flows.get(dst)?.detector?.probes() ?? []
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) t.cancel()
    for (const p of this.pending.values()) p.timer.cancel()
    for (const d of this.duties.values()) d.timer.cancel()
    this.timers.clear()
    this.pending.clear()
    this.duties.clear()
    this.errorsSent.clear()
    this.discovery.close()
    for (const flow of this.flows.values()) {
      for (const payload of flow.buffered) this.emit('undeliverable', { dst: flow.dst, payload, reason: 'closed' })
      flow.buffered = []
    }
  }

  // ---- source ----------------------------------------------------------------------------------

  private key(peer: Addr, from: Addr, to: Addr): Uint8Array | null {
    return this.auth.pairwise(peer, PROBE_KEY_LABEL, { from, to })
  }

  private sendData(flow: Flow, payload: Uint8Array): void {
    const path = flow.path!
    const detector = flow.detector!
    const probes = detector.probes().filter((i) => i < path.length - 1)
    const keys = new Map<Addr, Uint8Array>()
    for (const i of [...probes, path.length - 1]) {
      const k = this.key(path[i], this.address, path[i])
      if (k === null) {
        this.dropped('NoKey')
        this.emit('undeliverable', { dst: flow.dst, payload, reason: 'no-key' })
        return
      }
      keys.set(path[i], k)
    }
    const counter = this.counter++
    const bytes = buildData({ source: this.address, dst: flow.dst, counter, path, body: payload, probes, key: (n) => keys.get(n)! })
    // The source waits one more ackTimeoutPerHopMs per hop than the round-trip bound, so a probe's
    // own timeout ack (its bound is shorter) comes back before the source gives up on the packet.
    const hops = path.length - 1
    const wait = ackTimeoutMs(this.config, hops) + this.config.ackTimeoutPerHopMs * hops
    const timer = this.scheduler.at(wait, () => this.settle(counter, timeoutOutcome(path, probes)))
    this.pending.set(counter, { flow, path, probes, epoch: detector.epoch, timer })
    this.m.dataOriginated.inc()
    this.data.send(path[1], bytes)
  }

  /** The outcome of packet `counter`: feed the detector, the weights, and rediscover after a conviction. */
  private settle(counter: number, outcome: PacketOutcome): void {
    const p = this.pending.get(counter)
    if (p === undefined) return
    this.pending.delete(counter)
    p.timer.cancel()
    const flow = p.flow
    if (outcome.kind === 'acked') {
      this.m.packetsAcked.inc()
      this.weights.goodPacket()
      if (flow.path === p.path) flow.breaks.clear()
    } else this.m.packetsLost.inc()
    const detector = flow.detector
    // Outcomes of packets sent on another path, or with another probe list, say nothing now.
    if (detector === null || flow.path !== p.path || (outcome.kind === 'lost' && detector.epoch !== p.epoch)) return
    for (const e of detector.outcome(outcome)) {
      if (e.kind === 'fault') this.m.faults.inc()
      else if (e.kind === 'probe-added') this.m.probesAdded.inc()
      else if (e.kind === 'probe-retired') this.m.probesRetired.inc()
      else {
        this.m.convictions.inc()
        const weight = this.weights.convict(e.link, e.losses)
        this.emit('conviction', { dst: flow.dst, link: e.link, cause: 'detection', losses: e.losses, weight })
        return this.reroute(flow, e.link)
      }
    }
  }

  /**
   * The route to `flow.dst` is faulty (a link convicted, or broken). The lightest spare path of
   * the latest discovery takes over if that discovery is at most `spareRouteMs` old and none of
   * the spare's links has grown heavier since; otherwise new packets wait (buffered, as before
   * the first route) for a rediscovery rather than follow the faulty path.
   */
  private reroute(flow: Flow, faulty: LinkKey): void {
    let pick: { path: Path; weight: number } | null = null
    let pickWeight = Infinity, pickSuspicion = Infinity
    if (this.scheduler.now() - flow.sparesAt <= this.config.spareRouteMs) {
      const suspects = this.weights.suspects()
      const [a, b] = linkEnds(faulty)
      for (const s of flow.spares) {
        // Either end of the faulty link may be the culprit: a spare relayed by it waits for a
        // discovery that weighs it.
        if (s.path.indexOf(a, 1) > 0 && s.path.indexOf(a, 1) < s.path.length - 1) continue
        if (s.path.indexOf(b, 1) > 0 && s.path.indexOf(b, 1) < s.path.length - 1) continue
        let w = 0
        for (const l of pathLinks(s.path)) w += this.weights.weight(l)
        if (w > s.weight) continue
        const sus = suspicion(suspects, s.path)
        if (w < pickWeight || (w === pickWeight && sus < pickSuspicion)) (pick = s), (pickWeight = w), (pickSuspicion = sus)
      }
    }
    if (pick !== null) {
      flow.spares = flow.spares.filter((s) => s !== pick)
      flow.path = pick.path
      flow.detector = new FaultDetector(pick.path, this.config)
      flow.breaks.clear()
      this.m.spareRoutesUsed.inc()
      this.emit('route-change', { dst: flow.dst, path: pick.path, via: 'spare' })
      return
    }
    flow.path = null
    flow.detector = null
    flow.spares = []
    this.m.rediscoveries.inc()
    this.emit('route-change', { dst: flow.dst, path: null, via: 'none' })
    this.discovery.discover(flow.dst)
  }

  private routeFound(dst: Addr, path: Path, spares: ReadonlyArray<{ path: Path; weight: number }>): void {
    const flow = this.flows.get(dst)
    if (flow === undefined) return
    flow.spares = [...spares]
    flow.sparesAt = this.scheduler.now()
    if (flow.path === null || !samePath(flow.path, path)) {
      flow.breaks.clear()
      flow.path = path
      flow.detector = new FaultDetector(path, this.config)
      this.emit('route-change', { dst, path, via: 'discovery' })
    }
    const queued = flow.buffered
    flow.buffered = []
    for (const payload of queued) this.sendData(flow, payload)
  }

  private unreachable(dst: Addr): void {
    const flow = this.flows.get(dst)
    if (flow === undefined || flow.path !== null) return
    for (const payload of flow.buffered) {
      this.dropped('Unreachable')
      this.emit('undeliverable', { dst, payload, reason: 'unreachable' })
    }
    flow.buffered = []
  }

  // ---- relay and destination -------------------------------------------------------------------

  private onData(rx: LinkRx): void {
    if (this.closed) return
    const self = this.address
    const r = relayData(self, rx.from, rx.payload, (source) => this.key(source, source, self))
    if (r.action === 'drop') return this.dropped(pascal(r.reason))
    if (r.action === 'deliver') {
      if (this.delivered.accept(r.source, r.counter) !== 'fresh') {
        this.m.dataDuplicates.inc()
      } else {
        this.m.dataDelivered.inc()
        this.emit('deliver', { origin: r.source, dst: self, payload: r.body, hops: r.path.length - 1, at: rx.at })
      }
      // Ack every copy: the first ack may have been lost.
      const key = this.key(r.source, r.source, self)
      if (key === null) return this.dropped('NoKey')
      this.m.acksSent.inc()
      this.control.send(r.pathBack[1], destinationAck({ source: r.source, dst: self, counter: r.counter, pathBack: r.pathBack, key }))
      return
    }
    if (this.forwardFilter !== undefined) {
      // relayData decoded the header: source at offset 2, dst at 6, counter at 10 (docs/WIRE.md §16).
      // The candidate's payload is a view of the body in the bytes about to be forwarded (an
      // adversary model may alter it): nPath at 14, bodyLen at 15 + 4·nPath, body at 17 + 4·nPath.
      const b = r.bytes
      const at = 17 + 4 * b[14]
      const body = b.subarray(at, at + ((b[at - 2] << 8) | b[at - 1]))
      const candidate = { origin: getU32(b, 2), dst: getU32(b, 6), seq: getU32(b, 10), hops: 0, payload: body }
      if (!this.forwardFilter(candidate)) return this.dropped('Filtered')
    }
    this.m.dataForwarded.inc()
    this.data.send(r.to, r.bytes)
    // A probe owes one ack per packet, ever: a repeated packet (a replay, or a copy) starts no
    // second wait, which would seal a second ack under the same key and nonce (probes.ts).
    if (r.probe !== null && this.dutiesTaken.accept(r.probe.source, r.probe.counter) === 'fresh') {
      const duty = r.probe
      const id = `${duty.source}/${duty.counter}`
      const timer = this.scheduler.at(ackTimeoutMs(this.config, duty.hopsToDst), () => this.dutyTimeout(id))
      this.duties.set(id, { duty, timer })
    }
  }

  private dutyTimeout(id: string): void {
    const d = this.duties.get(id)
    if (d === undefined) return
    this.duties.delete(id)
    const key = this.key(d.duty.source, d.duty.source, this.address)
    if (key === null) return
    this.m.ackTimeouts.inc()
    this.m.acksSent.inc()
    this.control.send(d.duty.pathBack[1], timeoutAck({ duty: d.duty, key }))
  }

  private onControl(rx: LinkRx): void {
    if (this.closed || rx.payload.length === 0) return
    if (rx.payload[0] === MSG_ROUTE_ERROR) return this.onRouteError(rx)
    if (rx.payload[0] !== MSG_ACK) return this.discovery.receive(rx.from, rx.payload)
    const r = relayAck(this.address, rx.from, rx.payload)
    if (r.action === 'drop') {
      this.m.acksIgnored.inc()
      return
    }
    if (r.action === 'arrived') {
      const p = this.pending.get(r.ack.counter)
      if (p === undefined || !acceptsAck({ path: p.path, index: 0, counter: r.ack.counter }, rx.from, r.ack)) {
        this.m.acksIgnored.inc()
        return
      }
      const keys = (n: Addr) => this.key(n, this.address, n) ?? new Uint8Array(32)
      return this.settle(r.ack.counter, verifyAck({ source: this.address, path: p.path, probes: p.probes, counter: r.ack.counter, ack: rx.payload, key: keys }))
    }
    const id = `${r.ack.source}/${r.ack.counter}`
    const owed = this.duties.get(id)
    if (owed === undefined && this.dutiesTaken.check(r.ack.source, r.ack.counter) !== 'fresh') {
      // This node was a probe for that packet and has answered already (wrapped or timed out):
      // a later ack of it never goes on unwrapped.
      this.m.acksIgnored.inc()
      return
    }
    if (owed !== undefined) {
      // A probe never passes on its packet's acks unwrapped: it wraps the one it accepts, and
      // anything else (forged, or from off its path) is dropped; its timer covers the rest.
      const key = this.key(owed.duty.source, owed.duty.source, this.address)
      if (key === null || !acceptsAck({ path: owed.duty.path, index: owed.duty.index, counter: owed.duty.counter }, rx.from, r.ack)) {
        this.m.acksIgnored.inc()
        return
      }
      owed.timer.cancel()
      this.duties.delete(id)
      this.m.acksWrapped.inc()
      this.control.send(owed.duty.pathBack[1], wrapAck({ duty: owed.duty, next: r.ack, key }))
      return
    }
    this.m.acksForwarded.inc()
    this.control.send(r.to, r.bytes)
  }

  // ---- link breaks -----------------------------------------------------------------------------

  /**
   * The link layer gave up on a DATA frame to `to` (no ack after its retries). The source takes
   * the link out of its route at once; a relay tells the source with a signed ROUTE-ERROR.
   */
  private linkFailed(to: Addr, bytes: Uint8Array): void {
    if (this.closed) return
    const d = tryDecode(decodeData, bytes)
    if (!d) return
    const i = d.path.indexOf(this.address)
    if (i < 0 || d.path[i + 1] !== to) return
    this.m.linkBreaks.inc()
    if (i === 0) {
      // Only a failure on the route in use says anything (frames of an old route may still fail).
      const route = this.flows.get(d.dst)?.path
      if (route && samePath(route, d.path)) this.routeBroken(d.dst, linkKey(this.address, to))
      return
    }
    const key = `${d.source}/${d.dst}/${to}`
    const last = this.errorsSent.get(key)
    if (last !== undefined && this.scheduler.now() - last < ROUTE_ERROR_INTERVAL_MS) return
    if (this.errorsSent.size >= 1024) this.errorsSent.delete(this.errorsSent.keys().next().value as string)
    this.errorsSent.delete(key)
    this.errorsSent.set(key, this.scheduler.now())
    const fields = { source: d.source, dst: d.dst, reporter: this.address, next: to, counter: d.counter, path: pathBackFrom(d.path, i) }
    const signature = this.auth.sign(routeErrorSignedBytes(fields))
    this.m.routeErrorsSent.inc()
    this.control.send(fields.path[1], encodeRouteError({ ...fields, signature }))
  }

  private onRouteError(rx: LinkRx): void {
    const e = tryDecode(decodeRouteError, rx.payload)
    const i = e ? e.path.indexOf(this.address) : -1
    if (!e || i <= 0 || e.path[i - 1] !== rx.from) {
      this.m.routeErrorsIgnored.inc()
      return
    }
    if (i < e.path.length - 1) {
      this.m.routeErrorsForwarded.inc()
      this.control.send(e.path[i + 1], rx.payload)
      return
    }
    // This node is the source. The error must name a packet still waiting for its ack, sent on the
    // route in use, whose path has (reporter, next) and runs back from the reporter exactly as the
    // error's path does; accepting it settles that packet, so a replay finds nothing to blame.
    const p = this.pending.get(e.counter)
    const flow = this.flows.get(e.dst)
    const k = p ? p.path.indexOf(e.reporter) : -1
    if (p === undefined || flow === undefined || p.flow !== flow || p.path !== flow.path || k < 0 || p.path[k + 1] !== e.next ||
      e.path.length !== k + 1 || e.path.some((a, j) => a !== p.path[k - j])) {
      this.m.routeErrorsIgnored.inc()
      return
    }
    const v = this.auth.verify(e.reporter, routeErrorSignedBytes(e), e.signature, rx.from, () => this.closed || this.onRouteError(rx))
    if (v === 'pending') return
    if (v === 'bad') {
      this.m.routeErrorBadSignature.inc()
      return
    }
    this.m.routeErrorsAccepted.inc()
    // The packet was lost on the interval holding the broken link: before the first probe point
    // (or the destination) at or after `next`.
    const lostBefore = [...p.probes, p.path.length - 1].find((i) => i >= k + 1)!
    this.settle(e.counter, { kind: 'lost', lostBefore })
    // That loss may have convicted a link and rerouted already: the error is about the old path.
    if (flow.path !== p.path) return
    this.routeBroken(e.dst, linkKey(e.reporter, e.next))
  }

  /**
   * A link of the route to `dst` failed a frame. After `routeErrorsToBreak` failures with no acked
   * packet between (one lost frame is usually congestion) it is weighed as faulty and the flow
   * reroutes.
   */
  private routeBroken(dst: Addr, link: LinkKey): void {
    const flow = this.flows.get(dst)
    if (flow === undefined || flow.path === null) return
    const n = (flow.breaks.get(link) ?? 0) + 1
    flow.breaks.set(link, n)
    if (n < this.config.routeErrorsToBreak) return
    flow.breaks.clear()
    const weight = this.weights.convict(link, 1)
    this.emit('conviction', { dst, link, cause: 'link-break', losses: 1, weight })
    this.reroute(flow, link)
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private dropped(reason: string): void {
    let c = this.dropCounters.get(reason)
    if (c === undefined) this.dropCounters.set(reason, (c = this.metrics.counter(`dataDropped${reason}`)))
    c.inc()
  }

  private later(delayMs: number, fn: () => void): void {
    if (this.closed) return
    if (delayMs <= 0) return fn()
    const t = this.scheduler.at(delayMs, () => {
      this.timers.delete(t)
      if (!this.closed) fn()
    })
    this.timers.add(t)
  }
}

/** Convicted links touching the relays of `path` (its source and destination are trusted). */
function suspicion(suspects: Map<Addr, number>, path: Path): number {
  let n = 0
  for (let i = 1; i < path.length - 1; i++) n += suspects.get(path[i]) ?? 0
  return n
}

/** 'wrong-previous-hop' → 'WrongPreviousHop'. */
function pascal(s: string): string {
  return s.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())
}
