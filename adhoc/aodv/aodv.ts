/**
 * AODV (RFC 3561): on-demand unicast routing, as a sans-IO core over a `Link` (DESIGN.md §2).
 * Control messages travel on link proto AODV (aodv-messages.ts), data on ROUTED_DATA
 * (routed-frame.ts), unicast hop by hop with the link's acks. This file is the public face
 * (NetProtocol + UnicastRouter) and the data plane; control.ts holds the control plane and
 * aodv-defaults.ts every timer and bound.
 *
 * Data plane:
 * - `send`/`sendRouted` with an active route: out at once. Without: the packet waits in a bounded
 *   buffer (packet-buffer.ts) while a discovery runs; sent when a route comes up, reported
 *   'undeliverable' (reason 'unreachable') when the discovery fails. A discovery whose packets were
 *   all pushed out of the buffer or timed out is abandoned, so at most bufferMaxPackets run at once.
 * - A relay refreshes the routes to the destination, the origin, the next and the previous hop
 *   (RFC 6.2), records the previous hop as a precursor of the route it uses (so a later break
 *   reaches it by RERR), and forwards with TTL − 1. Without a route it drops the packet and sends
 *   the previous hop a RERR (RFC 6.11 case ii), unless it is repairing that destination (then it
 *   buffers). `forwardFilter` (adversary models) is asked only about packets this node would relay.
 * - The destination suppresses duplicates by (origin, seq) before delivering: a packet whose link
 *   acks were all lost is resent (below) although it arrived.
 * - A packet that comes back to its origin (a local repair's route may run through it) goes on over
 *   the origin's current route, or waits for its discovery; it is dropped as a loop only when that
 *   route leads straight back to the neighbour it came from or its TTL is spent.
 * - When the link reports a data packet 'tx-failed' ERR_NO_ACK, the next hop is taken as lost
 *   (control.linkBreak); the packet goes out again at once if another active route exists, waits
 *   for a rediscovery if this node originated it or for a local repair if one started, and is
 *   dropped otherwise.
 *
 * Secured network (option `security`, signing.ts): RREQs and RREPs are signed by their origin
 * (control.ts), and every routed packet carries its origin's 12-byte end-to-end trailer. The
 * origin seals a packet when it first leaves (after its discovery, so the destination's
 * certificate, learnt with the verified RREP, is known; without it the packet is dropped
 * NoKey); relays forward the trailer untouched; the destination checks it before duplicate
 * suppression and delivery (a modified, forged or replayed packet is dropped BadAuth, a copy of a
 * packet already delivered counts as a duplicate), waiting if the origin's certificate is being
 * fetched. `maxPayload` is 12 bytes smaller.
 *
 * Only packets this node originated with `send` (application data) are reported 'undeliverable'
 * (the routed payloads of other protocols are dropped with the same counters); a packet pushed out
 * of a full buffer is reported from inside the `send` call that pushed it out.
 */
import { BROADCAST, isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { tryDecode, ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import type { Logger } from '../../core/logger.ts'
import { MetricsRegistry, type Histogram, type MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { OriginAuth } from '../../crypto/origin-auth.ts'
import type { Link, LinkPort, LinkRx, NeighbourInfo, TxFailure } from '../link-types.ts'
import type { NetProtocol, NetProtocolEvents } from '../net-protocol.ts'
import { Proto } from '../protocols.ts'
import type { RouteInfo, UnicastRouter, UnicastRouterEvents } from '../routing.ts'
import { aodvTiming, validateAodvConfig, type AodvConfig, type AodvConfigInput, type AodvTiming } from './aodv-defaults.ts'
import { aodvCounters, type AodvCounters, type AodvEvents, type DropReason } from './aodv-types.ts'
import { AodvControl } from './control.ts'
import type { Discovery } from './discovery.ts'
import { SeqWindows } from '../dedup.ts'
import { PacketBuffer } from './packet-buffer.ts'
import { addPrecursor, RouteTable, type RouteEntry } from './route-table.ts'
import { ROUTED_HEADER_SIZE, ROUTED_TRAILER_SIZE, decodeRouted, decodeSecuredRouted, encodeRouted, relayRouted, type RoutedPacket } from './routed-frame.ts'
import { AodvSigning } from './signing.ts'

/** What a forward filter sees: `hops` = radio hops the packet travelled to reach this node. */
export interface AodvForwardCandidate {
  origin: Addr
  dst: Addr
  seq: number
  hops: number
  payload: Uint8Array
}

export interface AodvOptions {
  link: Link
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'aodv' for this node. */
  metrics?: MetricsScope
  logger?: Logger
  config?: AodvConfigInput
  /** Where `config` sits in the caller's configuration, for error paths; default 'aodv'. */
  configPath?: string
  /**
   * false: silently drop a data packet this node should relay (black/grey hole adversaries); never
   * applied to control messages or to this node's own packets or packets for it.
   */
  forwardFilter?: (p: AodvForwardCandidate) => boolean
  /**
   * The node's origin authentication in a secured (`authenticated`) network: signed RREQ/RREP and
   * end-to-end authenticated data. Absent: an open network, today's messages byte for byte. All
   * nodes of a network must agree.
   */
  security?: OriginAuth
}

/** 'undeliverable' reasons by drop counter. */
const UNDELIVERABLE_REASON: Record<DropReason, string> = {
  NoRoute: 'no-route', BufferFull: 'buffer-full', BufferTimeout: 'buffer-timeout', Ttl: 'ttl', LinkBreak: 'link-break',
  Filtered: 'filtered', Loop: 'loop', Congestion: 'congestion', Closed: 'closed', BadAuth: 'bad-auth', NoKey: 'no-key',
}

/** A packet whose views into a received frame are copied (it outlives the frame). */
function own(p: RoutedPacket): RoutedPacket {
  const c = { ...p, payload: p.payload.slice() }
  if (p.trailer !== undefined) c.trailer = p.trailer.slice()
  return c
}

export class Aodv extends Emitter<NetProtocolEvents & UnicastRouterEvents & AodvEvents> implements NetProtocol, UnicastRouter {
  readonly name = 'aodv'
  readonly address: Addr
  readonly config: AodvConfig
  readonly timing: AodvTiming
  private readonly scheduler: Scheduler
  private readonly ctrlPort: LinkPort
  private readonly dataPort: LinkPort
  private readonly table: RouteTable
  private readonly buffer: PacketBuffer
  private readonly control: AodvControl
  private readonly m: AodvCounters
  private readonly forwardFilter: ((p: AodvForwardCandidate) => boolean) | undefined
  private readonly sec: AodvSigning | undefined
  private readonly decode: (b: Uint8Array) => RoutedPacket
  /** Duplicate suppression of data for this node, per origin. */
  private readonly dedup: SeqWindows
  private dataSeq: number
  private housekeeping: Timer | null = null
  private closed = false
  private readonly onCtrl = (rx: LinkRx): void => this.receiveControl(rx)
  private readonly onData = (rx: LinkRx): void => this.receiveData(rx)
  private readonly onCtrlFail = (f: TxFailure): void => this.controlTxFailed(f)
  private readonly onDataFail = (f: TxFailure): void => this.dataTxFailed(f)
  private readonly onDown = (n: NeighbourInfo): void => this.control.neighbourDown(n.addr)

  constructor(o: AodvOptions) {
    super()
    this.config = validateAodvConfig(o.config ?? {}, o.configPath ?? 'aodv')
    this.timing = aodvTiming(this.config)
    this.address = o.link.address
    this.scheduler = o.scheduler
    this.forwardFilter = o.forwardFilter
    if (o.security !== undefined && o.security.address !== this.address) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `security is node ${o.security.address}'s but the link is node ${this.address}'s`)
    }
    this.sec = o.security === undefined ? undefined : new AodvSigning(o.security)
    this.decode = this.sec === undefined ? decodeRouted : decodeSecuredRouted
    const metrics = o.metrics ?? new MetricsRegistry().scope('aodv', o.link.address)
    this.m = aodvCounters(metrics, this.sec !== undefined)
    const latency: Histogram = metrics.histogram('discoveryLatencyMs')
    const c = this.config
    this.table = new RouteTable(c.deletePeriodMs, c.maxRoutes)
    this.buffer = new PacketBuffer({ maxTotal: c.bufferMaxPackets, maxPerDst: c.bufferMaxPerDestination, timeoutMs: c.bufferTimeoutMs })
    this.dedup = new SeqWindows({ bits: 32, window: c.dedupWindow, maxOrigins: c.dedupMaxOrigins, resyncAfter: c.dedupResyncAfter })
    // A random first sequence number: a restarted node does not replay numbers others remember.
    this.dataSeq = o.rng.int(0x1_0000_0000)
    this.ctrlPort = o.link.port(Proto.AODV)
    this.dataPort = o.link.port(Proto.ROUTED_DATA)
    this.control = new AodvControl({
      address: this.address,
      config: c,
      timing: this.timing,
      scheduler: o.scheduler,
      rng: o.rng,
      port: this.ctrlPort,
      table: this.table,
      m: this.m,
      latency,
      logger: o.logger,
      emit: (event, ...args) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      hasWaiting: (dst) => this.buffer.has(dst),
      routeUp: (dst, route) => this.routeUp(dst, route),
      unreachable: (d) => this.unreachable(d),
      security: this.sec,
      keepHouse: () => this.keepHouse(),
    })
    this.ctrlPort.on('receive', this.onCtrl)
    this.ctrlPort.on('tx-failed', this.onCtrlFail)
    this.ctrlPort.on('neighbour-down', this.onDown)
    this.dataPort.on('receive', this.onData)
    this.dataPort.on('tx-failed', this.onDataFail)
  }

  /** Largest payload `send`/`sendRouted` accept. */
  get maxPayload(): number {
    return this.dataPort.maxDatagram - ROUTED_HEADER_SIZE - (this.sec === undefined ? 0 : ROUTED_TRAILER_SIZE)
  }

  /** This node's own destination sequence number. */
  get seq(): number {
    return this.control.seq
  }

  /**
   * Widened to any[] only so the class satisfies both NetProtocol and UnicastRouter, whose
   * `eventNames()` each list their own events (ours are the union of both and AodvEvents).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override eventNames(): any[] {
    return super.eventNames()
  }

  // ---- API -------------------------------------------------------------------------------------

  send(dst: Addr, payload: Uint8Array): void {
    this.check(dst, payload)
    this.originate(dst, 0, payload)
  }

  sendRouted(dst: Addr, proto: number, payload: Uint8Array): void {
    if (!Number.isInteger(proto) || proto < 1 || proto > 255) throw new RangeError(`proto must be an integer in [1, 255], got ${proto}`)
    this.check(dst, payload)
    this.originate(dst, proto, payload)
  }

  join(group: Addr): void {
    throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `AODV is unicast only: cannot join group ${group}; multicast groups need maodv`)
  }

  leave(group: Addr): void {
    throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `AODV is unicast only: cannot leave group ${group}; multicast groups need maodv`)
  }

  route(dst: Addr): RouteInfo | undefined {
    const now = this.scheduler.now()
    const e = this.table.get(dst, now)
    return e === undefined ? undefined : this.table.info(e, now)
  }

  routes(): RouteInfo[] {
    const now = this.scheduler.now()
    this.table.sweep(now)
    return [...this.table.entries()].map((e) => this.table.info(e, now)).sort((a, b) => a.dst - b.dst)
  }

  /** Stop: cancel every timer, detach from the link, report buffered own packets 'undeliverable' (closed). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.ctrlPort.off('receive', this.onCtrl)
    this.ctrlPort.off('tx-failed', this.onCtrlFail)
    this.ctrlPort.off('neighbour-down', this.onDown)
    this.dataPort.off('receive', this.onData)
    this.dataPort.off('tx-failed', this.onDataFail)
    this.control.close()
    this.housekeeping?.cancel()
    this.housekeeping = null
    for (const p of this.buffer.clear()) this.drop(p, 'Closed')
  }

  // ---- data plane ------------------------------------------------------------------------------

  private check(dst: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'aodv is closed')
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
    if (dst === BROADCAST || isGroupAddr(dst)) throw new RangeError(`AODV is unicast: dst must be a node address, got ${dst} (use flood or maodv)`)
    if (!isNodeAddr(dst)) throw new RangeError(`dst must be a node address (1..0x7fffffff), got ${dst}`)
    if (dst === this.address) throw new RangeError(`cannot route to this node's own address ${dst}`)
    if (payload.length > this.maxPayload) {
      throw new SpinmeshError(ErrorCodes.DATAGRAM_TOO_LARGE, `payload of ${payload.length} bytes exceeds ${this.maxPayload}`)
    }
  }

  private originate(dst: Addr, proto: number, payload: Uint8Array): void {
    this.m.dataOriginated.inc()
    const pkt: RoutedPacket = { origin: this.address, dst, seq: this.dataSeq, ttl: this.config.netDiameter, hops: 0, proto, payload }
    this.dataSeq = (this.dataSeq + 1) >>> 0
    const route = this.table.active(dst, this.scheduler.now())
    if (route !== undefined) {
      this.control.markActive()
      if (this.seal(pkt)) this.transmit(pkt, route, encodeRouted(pkt))
    } else {
      this.hold(pkt)
      this.control.startDiscovery(dst)
    }
    this.keepHouse()
  }

  private receiveControl(rx: LinkRx): void {
    this.control.receive(rx)
    this.keepHouse()
  }

  private receiveData(rx: LinkRx): void {
    const pkt = tryDecode(this.decode, rx.payload, this.m.decodeErrors)
    if (!pkt) return
    const from = rx.from
    const now = this.scheduler.now()
    this.control.heard(from)
    this.control.exchanged(from)
    this.control.markActive()
    const hops = Math.min(255, pkt.hops + 1)
    if (pkt.dst === this.address) return this.arrived(pkt, from, hops, rx.at)
    if (pkt.origin === this.address) return this.returned(pkt, rx.payload, from, hops, now)
    if (pkt.ttl <= 1) return this.drop(pkt, 'Ttl')
    if (this.forwardFilter !== undefined && !this.forwardFilter({ origin: pkt.origin, dst: pkt.dst, seq: pkt.seq, hops, payload: pkt.payload })) {
      return this.drop(pkt, 'Filtered')
    }
    const route = this.table.active(pkt.dst, now)
    if (route !== undefined) {
      addPrecursor(route, from)
      this.m.dataForwarded.inc()
      this.transmit(pkt, route, relayRouted(rx.payload), from) // (transmit reads only pkt's addresses)
    } else if (this.control.isRepairing(pkt.dst)) {
      this.hold(own({ ...pkt, ttl: pkt.ttl - 1, hops }))
      this.keepHouse()
    } else {
      this.drop(pkt, 'NoRoute')
      this.control.rerrNoRoute(pkt.dst, from)
    }
  }

  /**
   * A packet for this node, from neighbour `from`. Secured: its end-to-end trailer is checked first
   * (a copy of the packet waits while the origin's certificate is fetched; `resumed` then).
   */
  private arrived(pkt: RoutedPacket, from: Addr, hops: number, at: number, resumed = false): void {
    if (this.closed) return
    if (this.sec !== undefined) {
      let held = pkt
      const v = this.sec.open(pkt, from, () => {
        this.arrived(held, from, hops, this.scheduler.now(), true)
        this.keepHouse()
      })
      if (v === 'pending') {
        held = own(pkt)
        this.m.verifyPending.inc()
        return
      }
      if (v === 'bad') {
        // A copy of a packet delivered before (its link ack lost, or replayed) reuses its e2e counter.
        if (this.dedup.seen(pkt.origin, pkt.seq)) this.m.dataDuplicates.inc()
        else this.drop(pkt, 'BadAuth')
        return
      }
    }
    const now = this.scheduler.now()
    const art = this.config.activeRouteTimeoutMs
    this.table.refresh(pkt.origin, now, art)
    this.table.refresh(from, now, art)
    if (resumed) this.control.markActive()
    if (!this.dedup.accept(pkt.origin, pkt.seq)) {
      this.m.dataDuplicates.inc()
      return
    }
    this.m.dataDelivered.inc()
    const { origin, dst, payload } = pkt
    if (pkt.proto === 0) this.emit('deliver', { origin, dst, payload, hops, at })
    else this.emit('routed', { origin, proto: pkt.proto, payload, hops, at })
  }

  /**
   * Secured network: give a packet this node originates its end-to-end trailer when it first
   * leaves. False (and the packet dropped NoKey) without the destination's certificate.
   */
  private seal(pkt: RoutedPacket): boolean {
    if (this.sec === undefined || pkt.trailer !== undefined) return true
    const trailer = this.sec.seal(pkt)
    if (trailer === null) {
      this.drop(pkt, 'NoKey')
      return false
    }
    pkt.trailer = trailer
    return true
  }

  /**
   * A packet this node originated came back from neighbour `from`. That is not necessarily a loop:
   * a route can legitimately run through its origin, e.g. a relay's local repair found one back
   * through it (RFC 6.12 does not forbid it) while this node has meanwhile learnt a fresh route of
   * its own. So it goes on over this node's current route, as a relay would send it (TTL − 1,
   * `from` a precursor), or, with no active route, waits for a discovery as a new packet of ours
   * would. Dropped as a loop only when it would go straight back to `from` or its TTL is spent.
   */
  private returned(pkt: RoutedPacket, received: Uint8Array, from: Addr, hops: number, now: number): void {
    const route = this.table.active(pkt.dst, now)
    if (pkt.ttl <= 1 || route?.nextHop === from) return this.drop(pkt, 'Loop')
    this.m.dataReturned.inc()
    if (route !== undefined) {
      addPrecursor(route, from)
      this.transmit(pkt, route, relayRouted(received), from)
      return
    }
    this.hold(own({ ...pkt, ttl: pkt.ttl - 1, hops }))
    this.control.startDiscovery(pkt.dst)
    this.keepHouse()
  }

  /** Hand a packet to the next hop of `route`, refreshing the routes it uses (RFC 6.2). */
  private transmit(pkt: RoutedPacket, route: RouteEntry, bytes: Uint8Array, prev?: Addr): void {
    const now = this.scheduler.now()
    const art = this.config.activeRouteTimeoutMs
    const t = this.table
    t.refresh(pkt.dst, now, art)
    t.refresh(route.nextHop, now, art)
    if (pkt.origin !== this.address) t.refresh(pkt.origin, now, art)
    if (prev !== undefined) t.refresh(prev, now, art)
    this.control.exchanged(route.nextHop)
    try {
      this.dataPort.send(route.nextHop, bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.m.sendErrors.inc()
      this.drop(pkt, e.code === ErrorCodes.CLOSED ? 'Closed' : 'Congestion')
    }
  }

  private hold(pkt: RoutedPacket): void {
    for (const old of this.buffer.push(pkt, this.scheduler.now())) {
      this.drop(old, 'BufferFull')
      if (!this.buffer.has(old.dst)) this.control.abandon(old.dst)
    }
  }

  private drop(pkt: RoutedPacket, reason: DropReason, why = UNDELIVERABLE_REASON[reason]): void {
    this.m.dataDropped.inc()
    this.m[`dataDropped${reason}`].inc()
    if (pkt.origin === this.address && pkt.proto === 0) this.emit('undeliverable', { dst: pkt.dst, payload: pkt.payload, reason: why })
  }

  private routeUp(dst: Addr, route: RouteEntry): void {
    const waiting = this.buffer.take(dst)
    if (waiting.length === 0) return
    this.control.markActive()
    for (const pkt of waiting) {
      if (!this.seal(pkt)) continue
      if (pkt.origin !== this.address) this.m.dataForwarded.inc()
      this.transmit(pkt, route, encodeRouted(pkt))
    }
  }

  private unreachable(d: Discovery): void {
    let own = false
    for (const pkt of this.buffer.take(d.dst)) {
      if (d.repair && pkt.origin === this.address) {
        this.hold(pkt) // a failed local repair of a destination we also send to: our packets get our own discovery
        own = true
      } else {
        this.drop(pkt, d.repair ? 'LinkBreak' : 'NoRoute', 'unreachable')
      }
    }
    if (own) this.control.startDiscovery(d.dst)
  }

  private dataTxFailed(f: TxFailure): void {
    const pkt = tryDecode(this.decode, f.payload)
    if (!pkt) return
    if (f.code !== ErrorCodes.NO_ACK) return this.drop(pkt, f.code === ErrorCodes.CLOSED ? 'Closed' : 'Congestion')
    this.control.linkBreak(f.to, 'tx-failed', pkt)
    const route = this.table.active(pkt.dst, this.scheduler.now())
    if (route !== undefined && route.nextHop !== f.to) {
      this.transmit(pkt, route, f.payload)
    } else if (pkt.origin === this.address || this.control.isRepairing(pkt.dst)) {
      this.hold(pkt)
      if (pkt.origin === this.address) this.control.startDiscovery(pkt.dst)
    } else {
      this.drop(pkt, 'LinkBreak')
    }
    this.keepHouse()
  }

  private controlTxFailed(f: TxFailure): void {
    if (f.code === ErrorCodes.NO_ACK) this.control.linkBreak(f.to, 'tx-failed')
  }

  // ---- housekeeping ----------------------------------------------------------------------------

  /** Arm the housekeeping timer if it is not running (it stops itself when nothing is left). */
  private keepHouse(): void {
    if (this.housekeeping !== null || this.closed) return
    this.housekeeping = this.scheduler.at(this.config.housekeepingIntervalMs, () => {
      this.housekeeping = null
      const now = this.scheduler.now()
      this.table.sweep(now)
      for (const p of this.buffer.expire(now)) {
        this.drop(p, 'BufferTimeout')
        if (!this.buffer.has(p.dst)) this.control.abandon(p.dst)
      }
      this.control.sweep(now)
      if (this.table.size > 0 || this.buffer.size > 0 || this.control.busy) this.keepHouse()
    })
  }
}
