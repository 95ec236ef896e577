/**
 * A sliding one-second window rate limiter (RFC 3561 RREQ_RATELIMIT / RERR_RATELIMIT): at most
 * `perSecond` events in any 1 000 ms. Keeps the times of the last `perSecond` events in a ring, so
 * memory is bounded by the limit.
 */
export const RATE_WINDOW_MS = 1000

export class RateLimiter {
  private readonly times: number[]
  private next = 0
  private count = 0

  constructor(private readonly perSecond: number) {
    this.times = new Array<number>(perSecond).fill(-Infinity)
  }

  /** When the next event may happen (≤ now: at once). */
  allowedAt(now: number): number {
    if (this.count < this.perSecond) return now
    // The ring is full: the oldest of the last `perSecond` events is at `next`.
    return Math.max(now, this.times[this.next] + RATE_WINDOW_MS)
  }

  /** Record an event now if the window allows it; false (nothing recorded) otherwise. */
  tryTake(now: number): boolean {
    if (this.allowedAt(now) > now) return false
    this.times[this.next] = now
    this.next = (this.next + 1) % this.perSecond
    if (this.count < this.perSecond) this.count++
    return true
  }
}
