/**
 * How AODV control messages leave a node: unicast or broadcast through the link port, with send
 * errors counted instead of thrown; relayed RREQs and broadcast RERRs after U[0, floodJitterMs]
 * (bounded by maxPendingBroadcasts); RERRs rate-limited (RERR_RATELIMIT, excess dropped), unicast
 * to a single recipient and broadcast to several, split at 255 entries; RREPs with the A flag when
 * configured, and the RREP-ACK wait that blacklists a silent neighbour for BLACKLIST_TIMEOUT
 * (RFC 6.8).
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { SpinmeshError } from '../../core/errors.ts'
import type { Counter } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { LinkPort } from '../link-types.ts'
import type { AodvConfig, AodvTiming } from './aodv-defaults.ts'
import { RERR_MAX_ENTRIES, encodeRerr, encodeRrep, type RerrEntry, type Rrep } from './aodv-messages.ts'
import type { AodvCounters, AodvEvents } from './aodv-types.ts'
import { RateLimiter } from './rate-limit.ts'

export interface SenderHost {
  scheduler: Scheduler
  rng: Rng
  config: AodvConfig
  timing: AodvTiming
  port: LinkPort
  m: AodvCounters
  emitRerr: (e: Parameters<AodvEvents['rerr']>[0]) => void
  /** After every broadcast this node makes (it doubles as a hello). */
  afterBroadcast: () => void
}

export class ControlSender {
  private readonly rerrLimiter: RateLimiter
  /** Jittered broadcasts waiting. */
  private readonly pending = new Set<Timer>()
  /** Neighbour → RREP-ACK wait timer. */
  private readonly ackWait = new Map<Addr, Timer>()
  /** Neighbour → blacklisted until. */
  private readonly blacklist = new Map<Addr, number>()

  constructor(private readonly h: SenderHost) {
    this.rerrLimiter = new RateLimiter(h.config.rerrRateLimit)
  }

  get busy(): boolean {
    return this.blacklist.size > 0
  }

  unicast(to: Addr, bytes: Uint8Array, count: Counter): boolean {
    try {
      this.h.port.send(to, bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.h.m.sendErrors.inc()
      return false
    }
    count.inc()
    return true
  }

  broadcast(bytes: Uint8Array, count: Counter): void {
    try {
      this.h.port.send(BROADCAST, bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.h.m.sendErrors.inc()
      return
    }
    count.inc()
    this.h.afterBroadcast()
  }

  /** Broadcast after U[0, floodJitterMs]. */
  broadcastJittered(bytes: Uint8Array, count: Counter): void {
    const { config, scheduler, rng } = this.h
    if (config.floodJitterMs === 0) return this.broadcast(bytes, count)
    if (this.pending.size >= config.maxPendingBroadcasts) {
      this.h.m.sendErrors.inc()
      return
    }
    const timer = scheduler.at(rng.float() * config.floodJitterMs, () => {
      this.pending.delete(timer)
      this.broadcast(bytes, count)
    })
    this.pending.add(timer)
  }

  rrep(to: Addr, f: Omit<Rrep, 'type' | 'a' | 'r'>): void {
    const a = this.h.config.rrepAck
    if (this.unicast(to, encodeRrep({ ...f, r: false, a }), this.h.m.rrep) && a) this.awaitAck(to)
  }

  /** Send a RERR listing `list` to `to`. */
  rerr(list: RerrEntry[], to: ReadonlySet<Addr>, n: boolean): void {
    if (list.length === 0 || to.size === 0) return
    const now = this.h.scheduler.now()
    for (let k = 0; k < list.length; k += RERR_MAX_ENTRIES) {
      if (!this.rerrLimiter.tryTake(now)) {
        this.h.m.rerrRateLimited.inc()
        return
      }
      const part = list.slice(k, k + RERR_MAX_ENTRIES)
      const bytes = encodeRerr({ n, unreachable: part })
      this.h.emitRerr({ unreachable: part.map((e) => e.dst) })
      if (to.size === 1) this.unicast(to.values().next().value as Addr, bytes, this.h.m.rerr)
      else this.broadcastJittered(bytes, this.h.m.rerr)
    }
  }

  /** A RREP-ACK from `from` arrived. */
  acked(from: Addr): void {
    const t = this.ackWait.get(from)
    if (t === undefined) return
    t.cancel()
    this.ackWait.delete(from)
  }

  blacklisted(n: Addr, now: number): boolean {
    const until = this.blacklist.get(n)
    return until !== undefined && until > now
  }

  sweep(now: number): void {
    for (const [n, until] of this.blacklist) if (until <= now) this.blacklist.delete(n)
  }

  close(): void {
    for (const t of this.pending) t.cancel()
    this.pending.clear()
    for (const t of this.ackWait.values()) t.cancel()
    this.ackWait.clear()
    this.blacklist.clear()
  }

  private awaitAck(to: Addr): void {
    if (this.ackWait.has(to)) return
    const { scheduler, timing } = this.h
    this.ackWait.set(to, scheduler.at(timing.nextHopWaitMs, () => {
      this.ackWait.delete(to)
      this.h.m.rrepAckTimeouts.inc()
      this.blacklist.set(to, scheduler.now() + timing.blacklistTimeoutMs)
    }))
  }
}
