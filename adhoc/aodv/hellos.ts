/**
 * Neighbour liveness for AODV (RFC 3561 6.9, 6.11): when to send hellos, which neighbours are in
 * use, and hello-loss detection (hello-monitor.ts).
 *
 * - A node sends hellos only while it is part of an active route: it originated, relayed or
 *   received data in the last ACTIVE_ROUTE_TIMEOUT (`markActive`). A hello goes out HELLO_INTERVAL −
 *   U[0, helloJitterMs) after this node's last broadcast of any kind (`afterBroadcast`): any
 *   broadcast serves as a hello.
 * - A neighbour is *in use* for ACTIVE_ROUTE_TIMEOUT after this node sent it data or received data
 *   from it (`exchanged`). Only such neighbours are expected to be heard, so only their silence (hello
 *   loss, or the link's 'neighbour-down') is a link break.
 */
import type { Addr } from '../../core/addr.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { AodvConfig, AodvTiming } from './aodv-defaults.ts'
import { HelloMonitor } from './hello-monitor.ts'

export interface HellosHost {
  scheduler: Scheduler
  rng: Rng
  config: AodvConfig
  timing: AodvTiming
  /** Broadcast one hello now. */
  sendHello(): void
  /** A hello-sending neighbour in use went silent. */
  lost(n: Addr): void
}

export class Hellos {
  private readonly monitor: HelloMonitor | null
  /** Neighbour → until when it must be active (we exchanged data with it). */
  private readonly inUse = new Map<Addr, number>()
  /** Part of an active route until then. */
  private activeUntil = -Infinity
  private timer: Timer | null = null
  private closed = false

  constructor(private readonly h: HellosHost) {
    this.monitor = h.config.helloIntervalMs > 0
      ? new HelloMonitor(h.scheduler, h.timing.helloLossMs, (n) => h.lost(n), (n) => this.inUse.get(n) ?? -Infinity)
      : null
  }

  get busy(): boolean {
    return this.inUse.size > 0
  }

  /** This node originated, relayed or received data. */
  markActive(): void {
    this.activeUntil = this.h.scheduler.now() + this.h.config.activeRouteTimeoutMs
    if (this.timer === null && this.monitor !== null && !this.closed) this.schedule()
  }

  /** This node sent data to `n` or received data from it. */
  exchanged(n: Addr): void {
    const now = this.h.scheduler.now()
    const until = this.inUse.get(n)
    if (until === undefined || until < now) this.monitor?.restart(n)
    this.inUse.set(n, now + this.h.config.activeRouteTimeoutMs)
  }

  inUseNow(n: Addr): boolean {
    return (this.inUse.get(n) ?? -Infinity) >= this.h.scheduler.now()
  }

  /** A hello from `n`. */
  hello(n: Addr): void {
    this.monitor?.hello(n)
  }

  /** Anything else from `n`. */
  heard(n: Addr): void {
    this.monitor?.heard(n)
  }

  forget(n: Addr): void {
    this.monitor?.forget(n)
  }

  /** This node broadcast something: the next hello is due an interval later. */
  afterBroadcast(): void {
    if (this.monitor !== null && !this.closed && this.h.scheduler.now() < this.activeUntil) this.schedule()
  }

  sweep(now: number): void {
    for (const [n, until] of this.inUse) if (until < now) this.inUse.delete(n)
  }

  close(): void {
    this.closed = true
    this.monitor?.close()
    this.timer?.cancel()
    this.timer = null
    this.inUse.clear()
  }

  private schedule(): void {
    const { scheduler, rng, config } = this.h
    this.timer?.cancel()
    this.timer = scheduler.at(config.helloIntervalMs - rng.float() * config.helloJitterMs, () => {
      this.timer = null
      if (this.closed || scheduler.now() >= this.activeUntil) return // no longer on an active route: stay quiet
      this.h.sendHello() // → afterBroadcast() schedules the next
      if (this.timer === null && scheduler.now() < this.activeUntil) this.schedule()
    })
  }
}
