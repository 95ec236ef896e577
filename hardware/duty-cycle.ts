/**
 * Duty-cycle budget (DESIGN.md §3): at most `fraction · windowMs` of airtime in ANY window of
 * `windowMs`, the way EU 868 MHz rules are usually read (1 % = 36 s per hour).
 *
 * Admission rule: a frame of duration d may start at `now` iff
 *
 *     d + Σ { duration of past transmissions whose end > now + d − window }  ≤  fraction · window
 *
 * Why this is enough: take any window and the last transmission X that overlaps it. Sliding the window
 * right until it ends where X ends never lowers its airtime (what leaves on the left is at most what
 * X adds on the right), and every transmission overlapping that window ends after end(X) − window, so
 * X's admission check counted all of them in full. Counting whole durations of transmissions that
 * straddle the window start is conservative by at most one frame.
 *
 * Memory is bounded: records that ended a full window ago can never count again and are dropped, so
 * at most `fraction · window / shortest frame` records are kept.
 */

/** Slack for floating-point sums, ms. */
const EPS = 1e-9

export class DutyCycleBudget {
  /** Airtime allowed per window, ms. */
  readonly capacityMs: number
  readonly unlimited: boolean
  // Past transmissions, oldest first, as a growable ring of (end, duration).
  private ends = new Float64Array(16)
  private durs = new Float64Array(16)
  private head = 0
  private size = 0
  private total = 0

  constructor(readonly fraction: number, readonly windowMs: number) {
    if (typeof fraction !== 'number' || !(fraction > 0) || fraction > 1) {
      throw new RangeError(`duty cycle fraction must be in (0, 1], got ${fraction}`)
    }
    if (typeof windowMs !== 'number' || !(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(`duty cycle window must be a finite number of ms > 0, got ${windowMs}`)
    }
    this.capacityMs = fraction * windowMs
    // Transmissions of one radio never overlap, so a 100 % budget can never be exceeded.
    this.unlimited = fraction >= 1
  }

  /** Whether a frame of `durationMs` can ever be sent (it is not longer than the whole budget). */
  fits(durationMs: number): boolean {
    return durationMs <= this.capacityMs + EPS
  }

  /** Number of transmissions remembered (bounded, see the module comment). */
  get records(): number {
    return this.size
  }

  private at(k: number): number {
    return (this.head + k) & (this.ends.length - 1)
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs
    while (this.size > 0 && this.ends[this.head] <= horizon) {
      this.total -= this.durs[this.head]
      this.head = (this.head + 1) & (this.ends.length - 1)
      this.size--
    }
    if (this.size === 0) this.total = 0 // no drift from running sums
  }

  /**
   * The earliest time ≥ `now` at which a frame of `durationMs` may start, or Infinity if it is longer
   * than the whole budget. Later transmissions (which only the owner makes) are not anticipated.
   */
  earliestStart(now: number, durationMs: number): number {
    if (!this.fits(durationMs)) return Infinity
    if (this.unlimited) return now
    this.prune(now)
    const cut = now + durationMs - this.windowMs
    let sum = this.total
    let k = 0
    while (k < this.size && this.ends[this.at(k)] <= cut) sum -= this.durs[this.at(k++)]
    if (durationMs + sum <= this.capacityMs + EPS) return now
    // Wait until enough old transmissions leave the window: record k stops counting at end_k + window − d.
    while (k < this.size) {
      const i = this.at(k++)
      sum -= this.durs[i]
      if (durationMs + sum <= this.capacityMs + EPS) return Math.max(now, this.ends[i] + this.windowMs - durationMs)
    }
    return now // unreachable: with no records left, a frame that fits is admitted
  }

  /** Whether a frame of `durationMs` may start now. */
  canStart(now: number, durationMs: number): boolean {
    return this.earliestStart(now, durationMs) <= now
  }

  /** Charge a transmission [startMs, startMs + durationMs). Transmissions must come in time order. */
  record(startMs: number, durationMs: number): void {
    if (this.unlimited) return
    this.prune(startMs)
    if (this.size === this.ends.length) this.grow()
    const i = this.at(this.size)
    this.ends[i] = startMs + durationMs
    this.durs[i] = durationMs
    this.size++
    this.total += durationMs
  }

  /** Airtime charged to the window ending at `now` (whole frames, as admission counts them), ms. */
  usedMs(now: number): number {
    if (this.unlimited) return 0
    this.prune(now)
    return this.total
  }

  private grow(): void {
    const n = this.ends.length
    const ends = new Float64Array(n * 2)
    const durs = new Float64Array(n * 2)
    for (let k = 0; k < this.size; k++) {
      ends[k] = this.ends[this.at(k)]
      durs[k] = this.durs[this.at(k)]
    }
    this.ends = ends
    this.durs = durs
    this.head = 0
  }
}
