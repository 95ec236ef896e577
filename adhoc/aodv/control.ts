/**
 * AODV's control plane (RFC 3561 §6): route discovery (RREQ origination with expanding ring and
 * retries, RREQ relaying with duplicate suppression, destination and intermediate replies,
 * gratuitous RREPs), RREP forwarding with precursors, RERR origination and propagation, link
 * breaks and local repair. Hellos and neighbour liveness live in hellos.ts, how messages leave
 * (jitter, rate limits, RREP-ACK, blacklist) in sender.ts. The data plane (aodv.ts) owns the packet
 * buffer and is told through `ControlHost` when a route comes up or a discovery fails.
 *
 * Choices within the RFC, documented where the RFC leaves room:
 * - Link breaks come from hello loss, from the link's 'neighbour-down', and from unicast that the
 *   link reports 'tx-failed' with ERR_NO_ACK (data, RREP, RERR, RREP-ACK). Other failure codes
 *   (queue full, expired, busy channel, duty cycle) are congestion, not a broken link.
 * - A route becoming usable for a destination this node is discovering or holds packets for ends
 *   the discovery, whichever message brought it (RREP, or the reverse route of that node's own
 *   RREQ, or its hello).
 * - A RREP is relayed whenever this node has an active route to its destination after processing
 *   it (as ns-3), not only when it changed our route: two originators asking for the same
 *   destination with the same freshness both get their answer.
 * - An intermediate node does not answer with a route whose next hop is the RREQ's sender (it would
 *   point the requester back through itself); it relays the RREQ instead.
 * - A RERR with the N flag (a downstream local repair took a longer route) is passed on to the
 *   precursors of the affected route without invalidating it, so it reaches the source.
 * - Route information is applied by one freshness rule (RFC 6.2/6.7, `offer`): the reverse route of
 *   a RREQ and the forward route of a RREP (gratuitous ones too) never take an older seq, nor, at
 *   the same seq, more hops while active. One-hop routes to a neighbour heard directly always apply
 *   (they cannot loop) and keep a known seq; a hello's seq only moves it forward. A RREQ that leaves
 *   no usable route to its originator is not relayed and gets no gratuitous RREP.
 *
 * In a secured network (`ControlHost.security`, signing.ts) RREQs and RREPs carry their origin's
 * signature (RREQ-S, RREP-S); RERR, RREP-ACK and HELLO travel one hop and are authenticated by the
 * link's MAC. A received RREQ passes the cheap checks first (blacklist, own, duplicate by (origin,
 * rreqId): dropped without verifying), then its signature; only a verified RREQ is recorded as
 * seen or teaches a route, so a forged copy arriving first cannot suppress the real one. A
 * message whose origin's certificate is being fetched waits and is handled again from the start
 * when it arrives. Relays forward RREQs with only `hops` and `ttl` changed (no `dstSeq` raise), and
 * only the destination answers (an intermediate node cannot sign for it; no gratuitous RREPs).
 *
 * Adversary hook (`attachReplyForger`, the `forged-replies` model of field-tests/adversaries.ts; never
 * set on an honest node, and without it nothing here changes): a forging node answers every RREQ
 * it is not the destination of, once the RREQ passed the checks above, with a RREP claiming the
 * destination near it with a much newer sequence number, instead of relaying it. Secured, it can
 * only sign as itself, so the first receiver refuses the reply (rrepBadSignature).
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import { tryDecode } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Histogram } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import type { LinkPort, LinkRx } from '../link-types.ts'
import type { AodvConfig, AodvTiming } from './aodv-defaults.ts'
import { decodeAodv, encodeHello, encodeRrepAck, encodeRreq, type Hello, type Rerr, type RerrEntry, type Rrep, type Rreq } from './aodv-messages.ts'
import type { AodvCounters, AodvEvents, RouteLossReason } from './aodv-types.ts'
import { Discoveries, type Discovery } from './discovery.ts'
import type { AodvSigning } from './signing.ts'
import { Hellos } from './hellos.ts'
import { RateLimiter } from './rate-limit.ts'
import { addPrecursor, isActive, isFresher, type RouteEntry, type RouteTable } from './route-table.ts'
import { RreqCache } from './rreq-cache.ts'
import { ControlSender } from './sender.ts'

/**
 * What a forging node claims in answer to RREQ `q` (`knownSeq`: its own route table's valid sequence
 * number for `q.dst`, if any): the RREP's `hops` (from this node to the destination) and `dstSeq`;
 * undefined: behave honestly for this RREQ.
 */
export type ReplyForger = (q: Readonly<Rreq>, knownSeq: number | undefined) => { hops: number; dstSeq: number } | undefined

/** Forgers by the link port (proto AODV) of the node that forges. */
const forgers = new WeakMap<LinkPort, ReplyForger>()

/**
 * Adversary models only: make the AODV instance built over `port` (its link's AODV port,
 * `link.port(Proto.AODV)`, which a link hands out once per proto) forge route replies. Must be
 * called before that instance is constructed.
 */
export function attachReplyForger(port: LinkPort, forger: ReplyForger): void {
  forgers.set(port, forger)
}

type Emit = <E extends keyof AodvEvents>(event: E, ...args: Parameters<AodvEvents[E]>) => void

/** What the control plane uses of the node around it. */
export interface ControlHost {
  readonly address: Addr
  readonly config: AodvConfig
  readonly timing: AodvTiming
  readonly scheduler: Scheduler
  readonly rng: Rng
  readonly port: LinkPort
  readonly table: RouteTable
  readonly m: AodvCounters
  readonly latency: Histogram
  readonly logger: Logger | undefined
  readonly emit: Emit
  /** A secured network's signing (undefined: open network, unsigned control). */
  readonly security: AodvSigning | undefined
  /** Packets waiting for `dst` exist. */
  hasWaiting(dst: Addr): boolean
  /** A route to `dst` is usable: send what waits for it. */
  routeUp(dst: Addr, route: RouteEntry): void
  /** Discovery `d` failed: drop what waits for its destination. */
  unreachable(d: Discovery): void
  /** Something happened outside a received message's handling (a resumed verification): arm housekeeping. */
  keepHouse(): void
}

/** The data packet whose transmission revealed a link break, for local repair. */
export interface FailedPacket {
  origin: Addr
  dst: Addr
  /** Radio hops from its origin to this node. */
  hops: number
}

export class AodvControl {
  readonly discoveries: Discoveries
  private readonly rreqSeen: RreqCache
  private readonly hellos: Hellos
  private readonly rreqLimiter: RateLimiter
  private readonly out: ControlSender
  private ownSeq = 0
  private rreqId = 0
  private closed = false
  private readonly forger: ReplyForger | undefined

  constructor(private readonly h: ControlHost) {
    const { config, timing, scheduler } = h
    this.forger = forgers.get(h.port)
    this.rreqSeen = new RreqCache(timing.pathDiscoveryTimeMs, config.rreqCacheMax)
    this.rreqLimiter = new RateLimiter(config.rreqRateLimit)
    this.out = new ControlSender({
      scheduler,
      rng: h.rng,
      config,
      timing,
      port: h.port,
      m: h.m,
      emitRerr: (e) => h.emit('rerr', e),
      afterBroadcast: () => this.hellos.afterBroadcast(), // any broadcast serves as a hello (RFC 6.9)
    })
    this.discoveries = new Discoveries({
      scheduler,
      config,
      timing,
      limiter: this.rreqLimiter,
      sendRreq: (d) => this.sendRreq(d),
      failed: (d) => this.discoveryFailed(d),
      rateLimited: () => h.m.rreqRateLimited.inc(),
    })
    this.hellos = new Hellos({
      scheduler,
      rng: h.rng,
      config,
      timing,
      sendHello: () => this.out.broadcast(encodeHello({ addr: h.address, seq: this.ownSeq, lifetimeMs: timing.helloLifetimeMs }), h.m.hello),
      lost: (n) => this.linkBreak(n, 'hello-loss'),
    })
  }

  /** This node's own sequence number. */
  get seq(): number {
    return this.ownSeq
  }

  /** Whether anything here still needs housekeeping. */
  get busy(): boolean {
    return this.rreqSeen.size > 0 || this.out.busy || this.hellos.busy
  }

  // ---- entry points from the data plane ------------------------------------------------------

  receive(rx: LinkRx): void {
    const msg = tryDecode(decodeAodv, rx.payload, this.h.m.decodeErrors)
    if (!msg) return
    this.hellos.heard(rx.from)
    if ((msg.type === 'rreq' || msg.type === 'rrep') && (msg.signature !== undefined) !== (this.h.security !== undefined)) {
      this.h.m.controlWrongMode.inc()
      return
    }
    switch (msg.type) {
      case 'rreq': return this.onRreq(msg, rx.from)
      case 'rrep': return this.onRrep(msg, rx.from)
      case 'rerr': return this.onRerr(msg, rx.from)
      case 'rrep-ack': return this.out.acked(rx.from)
      case 'hello': return this.onHello(msg, rx.from)
    }
  }

  /** Data from neighbour `n`: it is alive. */
  heard(n: Addr): void {
    this.hellos.heard(n)
  }

  /** This node sent data to neighbour `n` or received data from it: `n` must stay active a while. */
  exchanged(n: Addr): void {
    this.hellos.exchanged(n)
  }

  /**
   * The link layer lost neighbour `n` (no beacon or frame for its expiry). With link beacons that is
   * a break; without, it may only mean an idle neighbour went quiet. So it counts only if we
   * exchanged data with `n` lately (then `n` should have been heard: acks, hellos); routes through an
   * idle neighbour are left to their lifetimes and to tx-failure feedback when next used.
   */
  neighbourDown(n: Addr): void {
    if (this.hellos.inUseNow(n)) this.linkBreak(n, 'neighbour-down')
  }

  /** This node originated, relayed or received data: it is part of an active route (hellos). */
  markActive(): void {
    this.hellos.markActive()
  }

  isRepairing(dst: Addr): boolean {
    return this.discoveries.get(dst)?.repair === true
  }

  /** Discover `dst` for this node's own packets, unless a discovery is already running. */
  startDiscovery(dst: Addr): void {
    if (this.closed || this.discoveries.get(dst) !== undefined) return
    this.h.m.routeDiscoveries.inc()
    const last = this.h.table.get(dst, this.h.scheduler.now())
    this.discoveries.start(dst, this.discoveries.initialTtl(last?.hops ?? 0))
  }

  /** Nothing waits for `dst` any more: stop discovering it (local repairs run their course). */
  abandon(dst: Addr): void {
    if (this.discoveries.get(dst)?.repair === false) this.discoveries.finish(dst)
  }

  /**
   * The link to `n` is lost (RFC 6.11 case i): every active route through it is invalidated with
   * its sequence number incremented, and precursors are told by RERR. With local repair on and
   * `failed` given, the route to `failed.dst` is repaired instead when it qualifies. Returns whether
   * such a repair started.
   */
  linkBreak(n: Addr, reason: RouteLossReason, failed?: FailedPacket): boolean {
    if (this.closed) return false
    const { table, scheduler, config, timing } = this.h
    const now = scheduler.now()
    this.hellos.forget(n)
    const affected = table.activeVia(n, now)
    if (affected.length === 0) return false
    this.h.m.linkBreaks.inc()
    if (this.h.logger?.enabled('debug')) this.h.logger.debug('link break', { neighbour: n, reason, routes: affected.map((e) => e.dst) })
    let repair: RouteEntry | undefined
    if (failed !== undefined && config.localRepair && failed.origin !== this.h.address) {
      const e = affected.find((r) => r.dst === failed.dst)
      if (e !== undefined && e.hops <= timing.maxRepairTtl && this.discoveries.get(e.dst) === undefined) repair = e
    }
    const lost: RerrEntry[] = []
    const to = new Set<Addr>()
    for (const e of affected) {
      if (e === repair) continue
      if (e.validSeq) e.seq = (e.seq + 1) >>> 0
      table.invalidate(e, now)
      this.h.emit('route-lost', { dst: e.dst, reason })
      if (e.precursors !== null && e.precursors.size > 0) {
        lost.push({ dst: e.dst, seq: e.seq })
        for (const p of e.precursors) to.add(p)
      }
    }
    to.delete(n) // it was a precursor too, but cannot hear us any more
    if (repair !== undefined) this.startLocalRepair(repair, failed!.hops)
    this.out.rerr(lost, to, false)
    return repair !== undefined
  }

  /** A relay got data for `dst` and has no route (RFC 6.11 case ii): tell the neighbour that sent it. */
  rerrNoRoute(dst: Addr, to: Addr): void {
    const e = this.h.table.get(dst, this.h.scheduler.now())
    this.out.rerr([{ dst, seq: e?.validSeq ? e.seq : 0 }], new Set([to]), false)
  }

  /** Housekeeping: forget old RREQ ids and blacklist entries. */
  sweep(now: number): void {
    this.rreqSeen.prune(now)
    this.out.sweep(now)
    this.hellos.sweep(now)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.discoveries.close()
    this.hellos.close()
    this.out.close()
    this.rreqSeen.clear()
  }

  // ---- sending ---------------------------------------------------------------------------------

  private sendRreq(d: Discovery): void {
    const { table, scheduler, config, address } = this.h
    const now = scheduler.now()
    this.ownSeq = (this.ownSeq + 1) >>> 0
    const id = this.rreqId
    this.rreqId = (this.rreqId + 1) >>> 0
    this.rreqSeen.check(address, id, now)
    const e = table.get(d.dst, now)
    const known = e !== undefined && e.validSeq
    const sec = this.h.security
    const msg: Omit<Rreq, 'type'> = {
      // Secured: only the destination answers (an intermediate node cannot sign for it).
      j: false, r: false, g: config.gratuitousRrep && sec === undefined, d: config.destinationOnly || sec !== undefined, u: !known,
      hops: 0, ttl: d.ttl, id, dst: d.dst, dstSeq: known ? e.seq : 0, origin: address, originSeq: this.ownSeq,
    }
    if (sec !== undefined) msg.signature = sec.signRreq(msg)
    this.out.broadcast(encodeRreq(msg), this.h.m.rreq)
    this.h.emit('rreq', { origin: address, id, ttl: d.ttl })
  }

  // ---- routes ----------------------------------------------------------------------------------

  /**
   * Any RREQ or RREP from neighbour `n` (RFC 6.5, 6.7): make sure there is a one-hop route to it.
   * The message carries no sequence number for `n`, so that information is "unknown" (RFC 6.2 iii)
   * and a one-hop route (which cannot loop: its next hop is the destination) always replaces
   * another. A sequence number already known for `n` is kept, valid: RFC 6.2 creates an entry
   * "without a valid sequence number" only when none is known, and forgetting it would let any
   * stale offer for `n` replace the direct route.
   */
  private neighbourRoute(n: Addr, now: number): void {
    const { table, config } = this.h
    const lifetime = now + config.activeRouteTimeoutMs
    const e = table.upsert(n, now)
    if (isActive(e, now) && e.hops === 1 && e.nextHop === n) {
      if (e.expiresAt < lifetime) e.expiresAt = lifetime
      return
    }
    table.setRoute(e, n, 1, lifetime)
    this.routeAvailable(n, e)
  }

  /**
   * Route information for `e.dst` (sequence number `seq`, `hops` via `nextHop`) from a RREQ's
   * originator (reverse route) or a RREP (forward route). Applied only when it is fresher (RFC 6.2,
   * 6.7: `isFresher`): a newer sequence number, the same one with fewer hops or while the route is
   * invalid, or none stored. So the stored sequence number never goes back, and at the same one an
   * active route never gets longer — never an old path labelled with a newer number. Returns
   * whether it was applied; older information is counted `routeInfoStale`.
   */
  private offer(e: RouteEntry, seq: number, hops: number, nextHop: Addr, expiresAt: number, now: number): boolean {
    if (!isFresher(e, seq, hops, now)) {
      if (seqDiff32(seq, e.seq) < 0) this.h.m.routeInfoStale.inc()
      return false
    }
    e.seq = seq
    e.validSeq = true
    this.h.table.setRoute(e, nextHop, hops, expiresAt)
    return true
  }

  /** A usable route to `dst` exists: end a discovery for it and release waiting packets. */
  private routeAvailable(dst: Addr, route: RouteEntry): void {
    const d = this.discoveries.finish(dst)
    if (d !== undefined) {
      const latencyMs = this.h.scheduler.now() - d.startedAt
      this.h.latency.record(latencyMs)
      this.h.emit('route-found', { dst, hops: route.hops, latencyMs })
      if (d.repair && route.hops > d.hopsBefore && route.precursors !== null) this.out.rerr([{ dst, seq: route.seq }], route.precursors, true)
    } else if (!this.h.hasWaiting(dst)) {
      return
    }
    this.h.routeUp(dst, route)
  }

  private lifetimeLeft(e: RouteEntry, now: number): number {
    return Math.min(0xffffffff, Math.max(0, Math.floor(e.expiresAt - now)))
  }

  // ---- receiving -------------------------------------------------------------------------------

  /** `resumed`: handled again after its originator's certificate arrived (secured network). */
  private onRreq(q: Rreq, from: Addr, resumed = false): void {
    const { m, table, scheduler, timing, config, address, security: sec } = this.h
    if (this.closed) return
    if (!resumed) m.rreqReceived.inc()
    const now = scheduler.now()
    if (this.out.blacklisted(from, now)) {
      m.rreqBlacklisted.inc()
      return
    }
    if (sec === undefined) {
      this.neighbourRoute(from, now)
      if (q.origin === address || this.rreqSeen.check(q.origin, q.id, now)) {
        m.rreqDuplicates.inc()
        return
      }
    } else {
      // Cheap checks first; a duplicate of a verified RREQ is not verified again.
      if (q.origin === address || this.rreqSeen.has(q.origin, q.id, now)) {
        this.neighbourRoute(from, now) // the link authenticated `from`
        m.rreqDuplicates.inc()
        return
      }
      const v = sec.verifyRreq(q, from, () => {
        this.onRreq(q, from, true)
        this.h.keepHouse()
      })
      if (v === 'pending') return void m.verifyPending.inc()
      if (v === 'bad') return void m.rreqBadSignature.inc()
      this.neighbourRoute(from, now)
      this.rreqSeen.check(q.origin, q.id, now)
    }
    const hops = Math.min(255, q.hops + 1)
    // Reverse route to the originator (RFC 6.5), living at least 2·NET_TRAVERSAL_TIME −
    // 2·hops·NODE_TRAVERSAL_TIME (floored at ACTIVE_ROUTE_TIMEOUT for paths over 32 hops). Next hop,
    // hop count and seq change only if the RREQ's information is fresher (RFC 6.2); otherwise an
    // active route we keep is the one a reply to this RREQ will take, so it gets the lifetime.
    const rev = table.upsert(q.origin, now)
    const minimal = Math.max(now + 2 * timing.netTraversalTimeMs - 2 * hops * config.nodeTraversalTimeMs, now + config.activeRouteTimeoutMs)
    const revActive = isActive(rev, now)
    const lifetime = revActive ? Math.max(rev.expiresAt, minimal) : minimal
    if (!this.offer(rev, q.originSeq, hops, from, lifetime, now) && revActive) rev.expiresAt = lifetime
    const back = isActive(rev, now)
    if (back) this.routeAvailable(q.origin, rev)

    if (q.dst === address) {
      // RFC 6.6.1: our sequence number becomes at least the one asked for.
      if (!q.u && seqDiff32(q.dstSeq, this.ownSeq) > 0) this.ownSeq = q.dstSeq
      const f: Omit<Rrep, 'type' | 'a' | 'r'> = { hops: 0, dst: address, dstSeq: this.ownSeq, origin: q.origin, lifetimeMs: config.myRouteTimeoutMs }
      if (sec !== undefined) f.signature = sec.signRrep({ ...f, a: false, r: false })
      this.out.rrep(from, f)
      return
    }
    if (this.forger !== undefined && this.forgeReply(q, from, now)) return
    const fwd = sec === undefined ? table.active(q.dst, now) : undefined
    if (fwd !== undefined && fwd.validSeq && !q.d && (q.u || seqDiff32(fwd.seq, q.dstSeq) >= 0) && fwd.nextHop !== from) {
      // RFC 6.6.2: an intermediate node with a fresh enough route answers.
      addPrecursor(fwd, from)
      addPrecursor(rev, fwd.nextHop)
      this.out.rrep(from, { hops: fwd.hops, dst: q.dst, dstSeq: fwd.seq, origin: q.origin, lifetimeMs: this.lifetimeLeft(fwd, now) })
      if (q.g && back) {
        // RFC 6.6.3: and tells the destination how to reach the originator.
        m.rrepGratuitous.inc()
        this.out.rrep(fwd.nextHop, { hops: rev.hops, dst: q.origin, dstSeq: rev.seq, origin: q.dst, lifetimeMs: this.lifetimeLeft(rev, now) })
      }
      return
    }
    // Relay only if a reply can come back through us: not with stale originator information and
    // no usable route to the originator.
    if (q.ttl <= 1 || !back) return
    if (sec !== undefined) {
      // Signed fields stay as the originator signed them (RFC 6.5's dstSeq raise is not possible).
      this.out.broadcastJittered(encodeRreq({ ...q, hops, ttl: q.ttl - 1 }), m.rreq)
      return
    }
    let { dstSeq, u } = q
    const known = table.get(q.dst, now)
    if (known !== undefined && known.validSeq && (u || seqDiff32(known.seq, dstSeq) > 0)) {
      dstSeq = known.seq
      u = false
    }
    this.out.broadcastJittered(encodeRreq({ ...q, hops, ttl: q.ttl - 1, dstSeq, u }), m.rreq)
  }

  /** The adversary hook (module comment): true when a forged RREP answered `q`. */
  private forgeReply(q: Rreq, from: Addr, now: number): boolean {
    const { table, config, security: sec } = this.h
    const known = table.get(q.dst, now)
    const lie = this.forger!(q, known !== undefined && known.validSeq ? known.seq : undefined)
    if (lie === undefined) return false
    const f: Omit<Rrep, 'type' | 'a' | 'r'> = { hops: Math.min(255, Math.max(0, lie.hops)), dst: q.dst, dstSeq: lie.dstSeq >>> 0, origin: q.origin, lifetimeMs: config.myRouteTimeoutMs }
    if (sec !== undefined) f.signature = sec.signRrep({ ...f, a: false, r: false })
    this.out.rrep(from, f)
    return true
  }

  /** `resumed`: handled again after its destination's certificate arrived (secured network). */
  private onRrep(p: Rrep, from: Addr, resumed = false): void {
    const { m, table, scheduler, config, address, security: sec } = this.h
    if (this.closed) return
    const now = scheduler.now()
    if (!resumed) {
      m.rrepReceived.inc()
      if (sec === undefined) this.neighbourRoute(from, now)
      // The RREP-ACK answers the hop (the link authenticated it), also while the signature waits.
      if (p.a) this.out.unicast(from, encodeRrepAck(), m.rrepAck)
    }
    if (sec !== undefined) {
      if (p.dst !== address) {
        const v = sec.verifyRrep(p, from, () => {
          this.onRrep(p, from, true)
          this.h.keepHouse()
        })
        if (v === 'pending') return void m.verifyPending.inc()
        if (v === 'bad') return void m.rrepBadSignature.inc()
      }
      this.neighbourRoute(from, now)
    }
    if (p.dst === address) return
    const hops = Math.min(255, p.hops + 1)
    const e = table.upsert(p.dst, now)
    this.offer(e, p.dstSeq, hops, from, now + p.lifetimeMs, now) // forward route (RFC 6.7)
    if (!isActive(e, now)) return
    if (p.origin === address) return this.routeAvailable(p.dst, e)
    const rev = table.active(p.origin, now)
    if (rev === undefined) return
    // RFC 6.7: precursors on both routes, and the reverse route lives on.
    addPrecursor(e, rev.nextHop)
    const toNext = table.active(from, now)
    if (toNext !== undefined) addPrecursor(toNext, rev.nextHop)
    addPrecursor(rev, from)
    const toPrev = table.active(rev.nextHop, now)
    if (toPrev !== undefined) addPrecursor(toPrev, from)
    table.refresh(p.origin, now, config.activeRouteTimeoutMs)
    this.out.rrep(rev.nextHop, { hops, dst: p.dst, dstSeq: p.dstSeq, origin: p.origin, lifetimeMs: p.lifetimeMs, signature: p.signature })
  }

  private onRerr(r: Rerr, from: Addr): void {
    const { m, table, scheduler } = this.h
    m.rerrReceived.inc()
    const now = scheduler.now()
    const out: RerrEntry[] = []
    const to = new Set<Addr>()
    for (const u of r.unreachable) {
      const e = table.active(u.dst, now)
      if (e === undefined || e.nextHop !== from) continue
      if (!r.n) {
        if (!e.validSeq || seqDiff32(u.seq, e.seq) > 0) e.seq = u.seq
        table.invalidate(e, now)
        this.h.emit('route-lost', { dst: e.dst, reason: 'rerr' })
      }
      if (e.precursors !== null && e.precursors.size > 0) {
        out.push({ dst: e.dst, seq: r.n ? u.seq : e.seq })
        for (const p of e.precursors) to.add(p)
      }
    }
    this.out.rerr(out, to, r.n)
  }

  private onHello(hm: Hello, from: Addr): void {
    const { m, table, scheduler } = this.h
    if (hm.addr !== from) {
      m.decodeErrors.inc() // a hello names its sender; anything else is malformed
      return
    }
    m.helloReceived.inc()
    const now = scheduler.now()
    // RFC 6.9: a route to the neighbour with its latest sequence number. The one-hop route is taken
    // whatever the stored seq (it cannot loop, and no route is shorter); the seq only moves forward
    // (one incremented here by a link break may be ahead of the hello's).
    const e = table.upsert(from, now)
    const current = isActive(e, now) && e.hops === 1 && e.nextHop === from
    if (!e.validSeq || seqDiff32(hm.seq, e.seq) > 0) e.seq = hm.seq
    e.validSeq = true
    const lifetime = now + hm.lifetimeMs
    table.setRoute(e, from, 1, current ? Math.max(e.expiresAt, lifetime) : lifetime)
    this.hellos.hello(from)
    this.routeAvailable(from, e)
  }

  // ---- discovery outcomes and local repair -----------------------------------------------------

  /** RFC 6.12: rediscover `e.dst` from here, TTL max(hops to it, ⌊hops from origin / 2⌋) + LOCAL_ADD_TTL. */
  private startLocalRepair(e: RouteEntry, hopsFromOrigin: number): void {
    const { m, table, scheduler, config } = this.h
    m.localRepairs.inc()
    const hopsBefore = e.hops
    if (e.validSeq) e.seq = (e.seq + 1) >>> 0
    table.invalidate(e, scheduler.now())
    e.repairing = true
    this.h.emit('route-lost', { dst: e.dst, reason: 'repairing' })
    const ttl = Math.min(config.netDiameter, Math.max(hopsBefore, Math.floor(hopsFromOrigin / 2)) + config.localAddTtl)
    this.discoveries.start(e.dst, ttl, true, hopsBefore)
  }

  private discoveryFailed(d: Discovery): void {
    const { m, table, scheduler } = this.h
    if (d.repair) {
      m.localRepairFailures.inc()
      const now = scheduler.now()
      const e = table.get(d.dst, now)
      if (e !== undefined && e.repairing) {
        e.repairing = false
        table.invalidate(e, now)
        if (e.precursors !== null) this.out.rerr([{ dst: e.dst, seq: e.seq }], e.precursors, false)
      }
    } else {
      this.h.logger?.debug('destination unreachable', { dst: d.dst, rreqs: d.wide })
      m.discoveryFailures.inc()
      this.h.emit('unreachable', { dst: d.dst })
    }
    this.h.unreachable(d)
  }
}
