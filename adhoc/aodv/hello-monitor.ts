/**
 * Link-break detection from hello loss (RFC 3561 6.11): a neighbour that has sent us a HELLO is
 * watched; any AODV message or routed packet from it refreshes it; silence for `lossMs` means the
 * link is lost (`onLost`) — but only if the neighbour was expected to speak all that time.
 *
 * Hellos are sent only by nodes on an active route (RFC 6.9), so silence alone proves nothing: a
 * neighbour that stopped relaying data goes quiet. `expectedUntil(n)` says until when `n` must be
 * active because this node exchanged data with it (sent it data or received data from it, plus
 * ACTIVE_ROUTE_TIMEOUT). Silence from the last time `n` was heard to its deadline is a loss only if
 * `n` was expected active through the deadline; otherwise the neighbour is forgotten (it went idle;
 * its next hello watches it again). When data to or from an idle neighbour resumes, `restart(n)`
 * gives it a full `lossMs` to speak (it starts helloing again only now).
 *
 * Neighbours that never sent a hello are not watched. One timer serves the table: it is armed for
 * the earliest deadline and re-armed when it fires, so a refresh costs no timer operation.
 */
import type { Addr } from '../../core/addr.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'

export class HelloMonitor {
  /** Neighbour → when it was last heard. */
  private readonly lastHeard = new Map<Addr, number>()
  private timer: Timer | null = null
  private timerAt = Infinity

  constructor(
    private readonly scheduler: Scheduler,
    private readonly lossMs: number,
    private readonly onLost: (neighbour: Addr) => void,
    private readonly expectedUntil: (neighbour: Addr) => number,
  ) {}

  get size(): number {
    return this.lastHeard.size
  }

  watching(n: Addr): boolean {
    return this.lastHeard.has(n)
  }

  /** A hello from `n`: watch it from now. */
  hello(n: Addr): void {
    const now = this.scheduler.now()
    this.lastHeard.set(n, now)
    this.arm(now + this.lossMs)
  }

  /** Anything else from `n`: refresh it if watched. */
  heard(n: Addr): void {
    if (this.lastHeard.has(n)) this.lastHeard.set(n, this.scheduler.now())
  }

  /** Data to or from an idle neighbour resumed: its silence counts from now. */
  restart(n: Addr): void {
    const t = this.lastHeard.get(n)
    if (t === undefined) return
    const now = this.scheduler.now()
    if (t < now) this.lastHeard.set(n, now)
  }

  forget(n: Addr): void {
    this.lastHeard.delete(n)
  }

  close(): void {
    this.timer?.cancel()
    this.timer = null
    this.timerAt = Infinity
    this.lastHeard.clear()
  }

  private arm(at: number): void {
    if (this.timer !== null && this.timerAt <= at) return
    this.timer?.cancel()
    this.timerAt = at
    this.timer = this.scheduler.at(Math.max(0, at - this.scheduler.now()), () => this.check())
  }

  private check(): void {
    this.timer = null
    this.timerAt = Infinity
    const now = this.scheduler.now()
    const lost: Addr[] = []
    let next = Infinity
    for (const [n, t] of this.lastHeard) {
      const deadline = t + this.lossMs
      if (deadline > now) {
        if (deadline < next) next = deadline
        continue
      }
      this.lastHeard.delete(n)
      if (this.expectedUntil(n) >= deadline) lost.push(n)
    }
    if (next < Infinity) this.arm(next)
    for (const n of lost) this.onLost(n)
  }
}
