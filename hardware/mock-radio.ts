/**
 * An in-memory medium for unit tests of the layers above: every radio on a `MockMedium` hears every
 * other (or only the pairs `connect`ed when `explicitLinks` is set), after the frame's airtime, with
 * optional loss decided by a seeded Rng. No collisions, no carrier sense: use `SimMedium` for physics.
 * It keeps the Radio contract: a bounded FIFO tx queue (urgent frames first), one frame on air at a
 * time, and 'sent'/'dropped' only ever from a scheduler event, never inside send().
 */
import { ErrorCodes } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Scheduler } from '../core/scheduler.ts'
import type { Rng } from '../core/rng.ts'
import { airtimeMs } from './airtime.ts'
import { checkFrame } from './check-frame.ts'
import type { Radio, RadioEvents, RadioState, SendOptions } from './radio.ts'

export interface MockMediumOptions {
  scheduler: Scheduler
  /** Probability that one receiver misses one frame (needs `rng`). */
  loss?: number
  rng?: Rng
  /** When true, radios hear only peers joined with `connect`. */
  explicitLinks?: boolean
}

export interface MockRadioOptions {
  /** Largest frame, bytes (default 255). */
  mtu?: number
  /** On-air bits/s (default 50 000). */
  bitrate?: number
  /** Added to every frame's airtime, ms (default 0). */
  preambleMs?: number
  /** Frames waiting (not counting the one on air) before send() refuses with ERR_QUEUE_FULL (default 64). */
  queueLimit?: number
  name?: string
}

export class MockMedium {
  readonly radios: MockRadio[] = []
  private readonly links = new Set<string>()
  constructor(readonly opts: MockMediumOptions) {}

  radio(opts: MockRadioOptions = {}): MockRadio {
    const r = new MockRadio(this, opts.mtu ?? 255, opts.bitrate ?? 50_000, opts.name ?? `r${this.radios.length}`,
      opts.preambleMs ?? 0, opts.queueLimit ?? 64)
    this.radios.push(r)
    return r
  }

  private key(a: MockRadio, b: MockRadio): string {
    const [x, y] = [a.name, b.name].sort()
    return `${x}|${y}`
  }
  connect(a: MockRadio, b: MockRadio): void {
    this.links.add(this.key(a, b))
  }
  disconnect(a: MockRadio, b: MockRadio): void {
    this.links.delete(this.key(a, b))
  }
  hears(a: MockRadio, b: MockRadio): boolean {
    return !this.opts.explicitLinks || this.links.has(this.key(a, b))
  }

  /** @internal */
  transmit(from: MockRadio, bytes: Uint8Array, done: () => void): void {
    const s = this.opts.scheduler
    const dur = from.airtimeMs(bytes.length)
    s.at(dur, () => {
      const at = s.now()
      for (const r of this.radios) {
        if (r === from || r.state !== 'up' || !this.hears(from, r)) continue
        if (this.opts.loss && this.opts.rng && this.opts.rng.float() < this.opts.loss) continue
        r.emit('frame', { bytes: bytes.slice(), at, rssi: -60, snr: 10 })
      }
      from.emit('sent', { bytes, at, airtimeMs: dur })
      done()
    })
  }
}

export class MockRadio extends Emitter<RadioEvents> implements Radio {
  state: RadioState = 'up'
  private readonly queue: Uint8Array[] = []
  /** Urgent frames at the front of the queue. */
  private urgentWaiting = 0
  private busy = false

  constructor(
    private readonly medium: MockMedium,
    readonly mtu: number,
    readonly bitrate: number,
    readonly name: string,
    readonly preambleMs = 0,
    /** Frames accepted but not yet on air, at most this many. */
    readonly queueLimit = 64,
  ) {
    super()
  }

  /** Frames accepted but not yet on air, at most this many (alias of queueLimit). */
  get queueCap(): number {
    return this.queueLimit
  }

  airtimeMs(bytes: number): number {
    return airtimeMs(bytes, this.bitrate, this.preambleMs)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    checkFrame(frame, this.mtu, this.state === 'down')
    const copy = frame.slice()
    if (this.queue.length >= this.queueLimit) {
      this.medium.opts.scheduler.at(0, () => {
        this.emit('dropped', { bytes: copy, code: ErrorCodes.QUEUE_FULL, reason: `tx queue full (${this.queueLimit} frames)` })
      })
      return
    }
    if (opts?.urgent === true) this.queue.splice(this.urgentWaiting++, 0, copy)
    else this.queue.push(copy)
    this.pump()
  }

  private pump(): void {
    if (this.busy || this.state !== 'up' || this.queue.length === 0) return
    const next = this.queue.shift()!
    if (this.urgentWaiting > 0) this.urgentWaiting--
    this.busy = true
    this.medium.transmit(this, next, () => {
      this.busy = false
      this.pump()
    })
  }

  async close(): Promise<void> {
    if (this.state === 'down') return
    this.state = 'down'
    this.urgentWaiting = 0
    for (const bytes of this.queue.splice(0)) {
      this.emit('dropped', { bytes, code: ErrorCodes.CLOSED, reason: 'radio closed before the frame was sent' })
    }
    this.emit('state', { state: 'down', reason: 'closed' })
  }
}
