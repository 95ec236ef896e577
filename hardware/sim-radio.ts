/**
 * A simulated radio on a `SimMedium`: the Radio contract (DESIGN.md §3) with a bounded FIFO tx queue,
 * a duty-cycle budget, carrier sense with binary exponential backoff, and a half-duplex receiver
 * (reception.ts). Made by `SimMedium.addNode`, not directly.
 *
 * Sending a frame, in order:
 * 1. Refused with ERR_QUEUE_FULL if `queueLimit` frames are already waiting (reported from a later
 *    event at the same instant: no 'sent' or 'dropped' is ever emitted inside send()). An urgent frame
 *    (`send(f, { urgent: true })`, link-level acks) goes behind the urgent frames already waiting and
 *    ahead of all other waiting frames; it still waits for the frame on air, the duty cycle and carrier
 *    sense, and inherits any backoff in progress (the backoff belongs to the radio, as in 802.11).
 * 2. At the head of the queue: dropped ERR_EXPIRED once it has waited `queueTtlMs`; dropped
 *    ERR_DUTY_CYCLE if its airtime exceeds the whole budget; otherwise it waits until the budget
 *    admits it (dutyCycleWaits, counted once per frame).
 * 3. CSMA (when enabled): after each of its own transmissions the radio first waits a random
 *    post-backoff of [0, minWindow) slots (as 802.11 does, so one busy sender does not starve its
 *    neighbours). Then, if the channel is busy, it backs off a random [0, cw) slots (csmaBackoffs),
 *    cw doubling from minWindow to maxWindow, and checks again; after `maxAttempts` busy checks
 *    (default Infinity: never) the frame is dropped ERR_CHANNEL_BUSY.
 * 4. On air for preambleMs + bytes·8/bitrate; then 'sent'.
 * Every accepted frame ends in exactly one 'sent' or 'dropped' (close() drops the waiting ones with
 * ERR_CLOSED; a frame already on air finishes and is reported sent).
 */
import { ErrorCodes, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Counter, MetricsScope } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { airtimeMs } from './airtime.ts'
import { checkFrame } from './check-frame.ts'
import { DutyCycleBudget } from './duty-cycle.ts'
import type { RadioPhysics } from './propagation.ts'
import type { Radio, RadioEvents, RadioState, SendOptions } from './radio.ts'
import { Receiver, TIME_EPS_MS } from './reception.ts'
import type { CsmaConfig, SimRadioConfig } from './sim-defaults.ts'

/** What a SimRadio needs from its medium. */
export interface SimMediumPort {
  readonly scheduler: Scheduler
  /** @internal Put a frame on the air from `radio`, now. */
  _startTransmission(radio: SimRadio, bytes: Uint8Array, airtimeMs: number): void
}

/** Counter names written to `metrics.scope('medium', id)` (the scenario runner reads them). */
export const MEDIUM_COUNTERS = [
  'txFrames', 'txBytes', 'airtimeMs', 'rxFrames', 'rxCollisions', 'rxHalfDuplex', 'rxLost',
  'csmaBackoffs', 'dropped', 'dutyCycleWaits',
] as const
export type MediumCounterName = (typeof MEDIUM_COUNTERS)[number]

interface Waiting {
  bytes: Uint8Array
  expiresAt: number
  busyChecks: number
  cw: number
  waitedForDutyCycle: boolean
  urgent: boolean
}

export class SimRadio extends Emitter<RadioEvents> implements Radio {
  readonly mtu: number
  readonly bitrate: number
  state: RadioState = 'up'
  /** @internal */ readonly receiver: Receiver
  /** @internal */ _index = -1

  private readonly scheduler: Scheduler
  private readonly counters: Record<MediumCounterName, Counter>
  private readonly csma: CsmaConfig
  private readonly budget: DutyCycleBudget
  private readonly queue: Waiting[] = []
  private onAir = false
  private timer: Timer | null = null
  /** The pending timer waits for the duty-cycle budget (an urgent frame may re-evaluate it). */
  private timerForBudget = false
  /** Urgent frames at the front of the queue. */
  private urgentWaiting = 0
  /** Inside send(): drops are deferred to a later event. */
  private inSend = false
  private postBackoffUntil = -Infinity
  private readonly wake = (): void => {
    this.timer = null
    this.pump()
  }

  /** @internal use `SimMedium.addNode`. */
  constructor(
    private readonly medium: SimMediumPort,
    readonly id: number,
    readonly config: Readonly<SimRadioConfig>,
    /** @internal */ readonly physics: RadioPhysics,
    private readonly rng: SeededRng,
    rxRng: SeededRng,
    metrics: MetricsScope,
  ) {
    super()
    this.scheduler = medium.scheduler
    this.mtu = config.mtu
    this.bitrate = config.bitrate
    this.csma = config.csma
    this.budget = new DutyCycleBudget(config.dutyCycle, config.dutyCycleWindowMs)
    const counters = {} as Record<MediumCounterName, Counter>
    for (const name of MEDIUM_COUNTERS) counters[name] = metrics.counter(name)
    this.counters = counters
    this.receiver = new Receiver(this.scheduler, physics, config.loss, rxRng, counters, config.csma.slotMs, (f) => {
      if (this.state !== 'down') this.emit('frame', f)
    })
  }

  /** Frames waiting to go on air (not counting one on air now). */
  get queueLength(): number {
    return this.queue.length
  }

  /** Airtime charged to the duty-cycle window ending now, ms. */
  dutyCycleUsedMs(): number {
    return this.budget.usedMs(this.scheduler.now())
  }

  /** On-air time of a frame of `bytes` bytes on this radio, ms. */
  airtimeMs(bytes: number): number {
    return airtimeMs(bytes, this.bitrate, this.config.preambleMs)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    checkFrame(frame, this.mtu, this.state === 'down')
    const urgent = opts?.urgent === true
    const bytes = frame.slice()
    if (this.queue.length >= this.config.queueLimit) {
      this.scheduler.at(0, () => this.drop(bytes, ErrorCodes.QUEUE_FULL, `tx queue full (${this.config.queueLimit} frames)`))
      return
    }
    const f: Waiting = {
      bytes,
      expiresAt: this.scheduler.now() + this.config.queueTtlMs,
      busyChecks: 0,
      cw: this.csma.minWindow,
      waitedForDutyCycle: false,
      urgent,
    }
    if (urgent) this.queue.splice(this.urgentWaiting++, 0, f)
    else this.queue.push(f)
    if (this.onAir) return
    if (this.timer !== null) {
      // A new head waiting on the budget: its own (maybe shorter) airtime may fit sooner.
      if (!(urgent && this.queue[0] === f && this.timerForBudget)) return
      this.timer.cancel()
      this.timer = null
    }
    this.inSend = true
    try {
      this.pump()
    } finally {
      this.inSend = false
    }
  }

  /**
   * Wake up after `delayMs`. A positive wait is at least TIME_EPS_MS, so floating-point rounding can
   * never keep the radio re-checking at one instant.
   */
  private sleep(delayMs: number, forBudget = false): void {
    this.timerForBudget = forBudget
    this.timer = this.scheduler.at(delayMs > 0 ? Math.max(delayMs, TIME_EPS_MS) : 0, this.wake)
  }

  private take(): Waiting {
    const f = this.queue.shift()!
    if (f.urgent) this.urgentWaiting--
    return f
  }

  /** Move the head of the queue forward: expire, wait for the budget, sense, or transmit. */
  private pump(): void {
    const now = this.scheduler.now()
    const q = this.queue
    while (this.state !== 'down' && !this.onAir && this.timer === null && q.length > 0) {
      const f = q[0]
      if (now >= f.expiresAt) {
        this.take()
        this.drop(f.bytes, ErrorCodes.EXPIRED, `frame waited ${this.config.queueTtlMs} ms in the tx queue`)
        continue
      }
      const d = this.airtimeMs(f.bytes.length)
      if (!this.budget.unlimited) {
        const t0 = this.budget.earliestStart(now, d)
        if (t0 === Infinity) {
          this.take()
          this.drop(f.bytes, ErrorCodes.DUTY_CYCLE,
            `frame needs ${d} ms of airtime, more than the whole duty-cycle budget of ${this.budget.capacityMs} ms`)
          continue
        }
        if (t0 > now) {
          if (!f.waitedForDutyCycle) {
            f.waitedForDutyCycle = true
            this.counters.dutyCycleWaits.inc()
          }
          this.sleep(Math.min(t0, f.expiresAt) - now, true)
          return
        }
      }
      if (this.csma.enabled) {
        if (now < this.postBackoffUntil) {
          this.sleep(this.postBackoffUntil - now)
          return
        }
        if (this.receiver.busy(now)) {
          f.busyChecks++
          if (f.busyChecks >= this.csma.maxAttempts) {
            this.take()
            this.drop(f.bytes, ErrorCodes.CHANNEL_BUSY, `channel busy at ${f.busyChecks} carrier-sense checks`)
            continue
          }
          const slots = this.rng.int(f.cw)
          f.cw = Math.min(f.cw * 2, this.csma.maxWindow)
          this.counters.csmaBackoffs.inc()
          this.sleep(slots * this.csma.slotMs)
          return
        }
      }
      this.take()
      this.transmit(f.bytes, d, now)
      return
    }
  }

  private transmit(bytes: Uint8Array, d: number, now: number): void {
    this.onAir = true
    this.budget.record(now, d)
    const c = this.counters
    c.txFrames.inc()
    c.txBytes.inc(bytes.length)
    c.airtimeMs.inc(d)
    this.receiver.beginTx(now)
    this.medium._startTransmission(this, bytes, d)
    this.scheduler.at(d, () => this.transmitted(bytes, d))
  }

  private transmitted(bytes: Uint8Array, d: number): void {
    const now = this.scheduler.now()
    this.onAir = false
    this.receiver.endTx()
    if (this.csma.enabled) this.postBackoffUntil = now + this.rng.int(this.csma.minWindow) * this.csma.slotMs
    this.emit('sent', { bytes, at: now, airtimeMs: d })
    if (!this.onAir && this.timer === null) this.pump()
  }

  private drop(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    if (this.inSend) {
      this.scheduler.at(0, () => this.drop(bytes, code, reason))
      return
    }
    this.counters.dropped.inc()
    this.emit('dropped', { bytes, code, reason })
  }

  async close(): Promise<void> {
    if (this.state === 'down') return
    this.state = 'down'
    this.timer?.cancel()
    this.timer = null
    this.receiver.close()
    this.urgentWaiting = 0
    for (const f of this.queue.splice(0)) this.drop(f.bytes, ErrorCodes.CLOSED, 'radio closed before the frame was sent')
    this.emit('state', { state: 'down', reason: 'closed' })
  }
}
