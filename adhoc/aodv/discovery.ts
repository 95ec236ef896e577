/**
 * Route discoveries in progress (RFC 3561 6.3, 6.4, 6.12), one per destination, each with one timer.
 *
 * A discovery sends RREQs with an expanding ring: TTL starts at TTL_START (or at the last known hop
 * count + TTL_INCREMENT), grows by TTL_INCREMENT while it is at most TTL_THRESHOLD, then jumps to
 * NET_DIAMETER. After a ring RREQ it waits RING_TRAVERSAL_TIME(TTL); after the k-th NET_DIAMETER
 * RREQ it waits NET_TRAVERSAL_TIME · 2^(k−1) (binary backoff). After RREQ_RETRIES NET_DIAMETER RREQs
 * without a route it fails. A local repair sends one RREQ with its own TTL and waits
 * RING_TRAVERSAL_TIME(TTL). Every RREQ passes the RREQ_RATELIMIT window first; a discovery that
 * would exceed it waits, and its timeout starts when its RREQ leaves.
 */
import type { Addr } from '../../core/addr.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { AodvConfig, AodvTiming } from './aodv-defaults.ts'
import type { RateLimiter } from './rate-limit.ts'

export interface Discovery {
  readonly dst: Addr
  readonly startedAt: number
  /** A local repair (RFC 6.12) rather than a discovery for this node's own packets. */
  readonly repair: boolean
  /** Hop count of the route before a local repair. */
  readonly hopsBefore: number
  /** TTL of the next (or last sent) RREQ. */
  ttl: number
  /** NET_DIAMETER-wide RREQs sent. */
  wide: number
  timer: Timer | null
}

export interface DiscoveryHost {
  scheduler: Scheduler
  config: AodvConfig
  timing: AodvTiming
  limiter: RateLimiter
  /** Originate one RREQ for `d.dst` with TTL `d.ttl`. */
  sendRreq(d: Discovery): void
  /** `d` ran out of attempts (it is no longer registered). */
  failed(d: Discovery): void
  /** An RREQ had to wait for the rate limit. */
  rateLimited(d: Discovery): void
}

export class Discoveries {
  private readonly map = new Map<Addr, Discovery>()

  constructor(private readonly h: DiscoveryHost) {}

  get size(): number {
    return this.map.size
  }

  get(dst: Addr): Discovery | undefined {
    return this.map.get(dst)
  }

  /** First ring TTL: TTL_START, or the last known hop count + TTL_INCREMENT (RFC 6.4). */
  initialTtl(lastHops: number): number {
    const c = this.h.config
    return this.clamp(lastHops > 0 ? lastHops + c.ttlIncrement : c.ttlStart)
  }

  /** Start discovering `dst` (the caller checks there is no discovery for it yet); sends the first RREQ. */
  start(dst: Addr, ttl: number, repair = false, hopsBefore = 0): Discovery {
    const d: Discovery = { dst, startedAt: this.h.scheduler.now(), repair, hopsBefore, ttl: repair ? ttl : this.clamp(ttl), wide: 0, timer: null }
    this.map.set(dst, d)
    this.attempt(d)
    return d
  }

  /** Stop discovering `dst` (a route was found); returns the discovery if there was one. */
  finish(dst: Addr): Discovery | undefined {
    const d = this.map.get(dst)
    if (d === undefined) return undefined
    d.timer?.cancel()
    d.timer = null
    this.map.delete(dst)
    return d
  }

  close(): void {
    for (const d of this.map.values()) d.timer?.cancel()
    this.map.clear()
  }

  private clamp(ttl: number): number {
    const c = this.h.config
    return ttl > c.ttlThreshold ? c.netDiameter : ttl
  }

  private attempt(d: Discovery): void {
    const { scheduler, limiter, timing, config } = this.h
    const now = scheduler.now()
    const at = limiter.allowedAt(now)
    if (at > now) {
      this.h.rateLimited(d)
      d.timer = scheduler.at(at - now, () => this.attempt(d))
      return
    }
    limiter.tryTake(now)
    let wait: number
    if (!d.repair && d.ttl >= config.netDiameter) {
      d.wide++
      wait = timing.netTraversalTimeMs * 2 ** (d.wide - 1)
    } else {
      wait = timing.ringTraversalTimeMs(d.ttl)
    }
    d.timer = scheduler.at(wait, () => this.timeout(d))
    this.h.sendRreq(d)
  }

  private timeout(d: Discovery): void {
    d.timer = null
    const c = this.h.config
    if (d.repair || (d.ttl >= c.netDiameter && d.wide >= c.rreqRetries)) {
      this.map.delete(d.dst)
      this.h.failed(d)
      return
    }
    d.ttl = this.clamp(d.ttl + c.ttlIncrement)
    this.attempt(d)
  }
}
