/**
 * The bounded transmit queue of the serial radio drivers (serial-radio.ts, bridge-radio.ts):
 * frames wait in two classes, urgent ahead of normal, each in arrival order; a frame put back
 * after a failed write returns to the head of its class; every frame carries a deadline, and one
 * still waiting at its deadline (the device away, a write stalled) is handed to `onExpired` — the
 * driver reports it dropped with ERR_EXPIRED, so nothing accepted is lost silently.
 */
import type { Scheduler, Timer } from '../core/scheduler.ts'

export interface QueuedFrame {
  bytes: Uint8Array
  expiresAt: number
  urgent: boolean
}

export interface TxQueueOptions {
  scheduler: Scheduler
  /** Frames waiting at most. */
  limit: number
  /** How long a frame may wait, ms. */
  ttlMs: number
  onExpired(q: QueuedFrame): void
}

export class TxQueue {
  readonly limit: number
  readonly ttlMs: number
  private readonly o: TxQueueOptions
  private readonly frames: QueuedFrame[] = []
  /** Urgent frames at the front. */
  private urgent = 0
  private timer: Timer | undefined
  private closed = false

  constructor(o: TxQueueOptions) {
    this.o = o
    this.limit = o.limit
    this.ttlMs = o.ttlMs
  }

  get length(): number {
    return this.frames.length
  }

  get full(): boolean {
    return this.frames.length >= this.limit
  }

  /**
   * What a radio's `send` does with an accepted frame (never reporting inside `send`, as the Radio
   * contract asks): queue it and call `pump` on a later tick, or, when full, call `refuse` on a
   * later tick with the reason.
   */
  submit(bytes: Uint8Array, urgent: boolean, refuse: (bytes: Uint8Array, reason: string) => void, pump: () => void): void {
    if (this.full) {
      this.o.scheduler.at(0, () => refuse(bytes, `tx queue full (${this.limit} frames)`))
      return
    }
    this.push(bytes, urgent)
    this.o.scheduler.at(0, pump)
  }

  /** Queue a frame (the caller checked `full`). */
  push(bytes: Uint8Array, urgent: boolean): void {
    const q = { bytes, expiresAt: this.o.scheduler.now() + this.ttlMs, urgent }
    if (urgent) this.frames.splice(this.urgent++, 0, q)
    else this.frames.push(q)
    this.arm()
  }

  /** The next frame to send (expired ones are handed to onExpired first), or undefined. */
  shift(): QueuedFrame | undefined {
    this.dropExpired()
    const q = this.frames.shift()
    if (q?.urgent) this.urgent--
    return q
  }

  /** Put back a frame whose write failed: the head of its class. */
  requeue(q: QueuedFrame): void {
    if (q.urgent) this.frames.splice(0, 0, q), this.urgent++
    else this.frames.splice(this.urgent, 0, q)
    this.arm()
  }

  /** Every waiting frame, removed (at close). */
  drain(): QueuedFrame[] {
    this.urgent = 0
    return this.frames.splice(0)
  }

  close(): void {
    this.closed = true
    this.timer?.cancel()
    this.timer = undefined
  }

  private dropExpired(): void {
    const now = this.o.scheduler.now()
    for (let i = 0; i < this.frames.length;) {
      if (this.frames[i].expiresAt > now) {
        i++
        continue
      }
      const [q] = this.frames.splice(i, 1)
      if (q.urgent) this.urgent--
      this.o.onExpired(q)
    }
  }

  /** A timer at the earliest deadline while frames wait. */
  private arm(): void {
    this.timer?.cancel()
    this.timer = undefined
    if (this.closed || this.frames.length === 0) return
    let next = Infinity
    for (const q of this.frames) next = Math.min(next, q.expiresAt)
    this.timer = this.o.scheduler.at(Math.max(0, next - this.o.scheduler.now()), () => {
      this.timer = undefined
      this.dropExpired()
      this.arm()
    })
  }
}
