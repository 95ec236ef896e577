/**
 * A radio on a serial line (transparent UART radio modules, or anything that carries framed bytes
 * both ways): a SerialLink that heals itself, a framing (COBS + CRC-32 for transparent radios,
 * KISS for TNCs: firmware-bridge/), and a bounded TX queue with a per-frame TTL. It implements the
 * Radio contract (hardware/radio.ts):
 *
 * - its state is the link's: `connecting` → `up` → `reconnecting` (with the reason) → `up`, and
 *   `down` after close;
 * - every frame accepted by `send` ends in exactly one `sent` (the serial write completed) or
 *   `dropped` event: ERR_QUEUE_FULL when the queue is at `queueLimit`, ERR_EXPIRED when it waited
 *   longer than `frameTtlMs` (e.g. while the device was unplugged), ERR_CLOSED at close. Frames
 *   accepted while reconnecting wait and go out after the reconnect, in order; a write that fails
 *   puts its frame back at the head of the queue (it goes again after the reconnect, or expires);
 * - received bytes go through the framing's decoder; each valid frame is a `frame` event (serial
 *   radios report no RSSI/SNR unless their framing carries it), damaged input is counted.
 */
import { ErrorCodes, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { airtimeMs } from './airtime.ts'
import { checkFrame } from './check-frame.ts'
import type { Radio, RadioEvents, RadioState, SendOptions } from './radio.ts'
import type { SerialLink } from './serial-link.ts'
import { TxQueue, type QueuedFrame } from './tx-queue.ts'

/** How frames travel on the serial line (firmware-bridge/ framers fit this). */
export interface SerialFraming {
  encode(payload: Uint8Array): Uint8Array
  /** A fresh incremental decoder (one per connection: a reconnect starts clean). */
  decoder(): { push(chunk: Uint8Array): Array<{ kind: 'frame'; payload: Uint8Array } | { kind: 'error' }> }
}

export interface SerialRadioOptions {
  link: SerialLink
  framing: SerialFraming
  scheduler: Scheduler
  /** Largest frame, bytes (the radio module's packet size, e.g. 240 for an E22). */
  mtu: number
  /** On-air bits/s of the radio module, for airtime accounting. */
  bitrate: number
  preambleMs?: number
  /** Frames waiting at most (default 64). */
  queueLimit?: number
  /** A frame not written within this long after `send` is dropped with ERR_EXPIRED (default 30 s). */
  frameTtlMs?: number
}

/** A serial write not confirmed within this long is stalled (flow control, a hung device): reconnect. */
const WRITE_STALL_MS = 5000

export interface SerialRadioStats {
  framesReceived: number
  /** Damaged input the decoder skipped (CRC, framing, overlong). */
  decodeErrors: number
  expired: number
}

export class SerialRadio extends Emitter<RadioEvents> implements Radio {
  readonly mtu: number
  readonly bitrate: number
  readonly stats: SerialRadioStats = { framesReceived: 0, decodeErrors: 0, expired: 0 }
  private readonly o: SerialRadioOptions
  private readonly queue: TxQueue
  /** The frame being written, its stall timer, and a generation that tells a stale write's callback. */
  private inFlight: { q: QueuedFrame; stall: Timer; gen: number } | null = null
  private writeGen = 0
  private closed = false
  private decoder: ReturnType<SerialFraming['decoder']>

  constructor(o: SerialRadioOptions) {
    super()
    if (!(Number.isInteger(o.mtu) && o.mtu > 0)) throw new RangeError(`serial radio: mtu must be a positive integer, got ${o.mtu}`)
    if (!(o.bitrate > 0)) throw new RangeError(`serial radio: bitrate must be positive, got ${o.bitrate}`)
    this.o = o
    this.mtu = o.mtu
    this.bitrate = o.bitrate
    const ttlMs = o.frameTtlMs ?? 30_000
    this.queue = new TxQueue({
      scheduler: o.scheduler, limit: o.queueLimit ?? 64, ttlMs,
      onExpired: (q) => {
        this.stats.expired++
        this.drop(q.bytes, ErrorCodes.EXPIRED, `not sent within ${ttlMs} ms (the device was ${this.o.link.state})`)
      },
    })
    this.decoder = o.framing.decoder()
    o.link.on('state', (c) => {
      if (this.closed) return
      // The port this write went to is gone: a closed port does not always call the write back,
      // so the frame is taken back now (sent again after the reconnect, or it expires) and a late
      // callback of that write is ignored.
      if (c.state !== 'up') this.abandonWrite()
      if (c.state === 'up') this.decoder = o.framing.decoder()
      this.emit('state', { state: c.state, reason: c.reason })
      if (c.state === 'up') this.pump()
    })
    o.link.on('data', (chunk) => this.receive(chunk))
    o.link.on('error', (e) => this.emit('error', e))
    o.link.start()
  }

  get state(): RadioState {
    return this.closed ? 'down' : this.o.link.state
  }

  /** Frames accepted and not yet written. */
  get queued(): number {
    return this.queue.length
  }

  airtimeMs(bytes: number): number {
    return airtimeMs(bytes, this.bitrate, this.o.preambleMs ?? 0)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    checkFrame(frame, this.mtu, this.closed)
    this.queue.submit(frame.slice(), opts?.urgent === true, (bytes, reason) => this.drop(bytes, ErrorCodes.QUEUE_FULL, reason), () => this.pump())
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.queue.close()
    for (const q of this.queue.drain()) this.drop(q.bytes, ErrorCodes.CLOSED, 'radio closed before the frame was sent')
    await this.o.link.close()
    this.abandonWrite() // a write the closed port never called back is reported dropped
    this.emit('state', { state: 'down', reason: 'closed' })
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed) return
    const at = this.o.scheduler.now()
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'frame') {
        this.stats.framesReceived++
        this.emit('frame', { bytes: ev.payload, at })
      } else this.stats.decodeErrors++
    }
  }

  /** Write the next frame when the link is up and no write is in flight. */
  private pump(): void {
    if (this.closed || this.inFlight !== null || this.o.link.state !== 'up') return
    const q = this.queue.shift()
    if (q === undefined) return
    const gen = ++this.writeGen
    // A write the port never confirms (CTS flow control, a device that stopped reading) must not
    // hold the queue forever: the link reconnects, which abandons the write and requeues the frame.
    const stall = this.o.scheduler.at(WRITE_STALL_MS, () => this.o.link.reconnect(`serial write not confirmed within ${WRITE_STALL_MS} ms`))
    this.inFlight = { q, stall, gen }
    const ok = this.o.link.write(this.o.framing.encode(q.bytes), (err) => {
      if (this.inFlight?.gen !== gen) return // abandoned: the link went down meanwhile
      stall.cancel()
      this.inFlight = null
      if (this.closed) return this.drop(q.bytes, ErrorCodes.CLOSED, 'radio closed while the frame was being written')
      if (err) {
        this.queue.requeue(q) // again after the reconnect, or it expires
        return
      }
      this.emit('sent', { bytes: q.bytes, at: this.o.scheduler.now(), airtimeMs: this.airtimeMs(q.bytes.length) })
      this.pump()
    })
    if (!ok && this.inFlight?.gen === gen) this.abandonWrite()
  }

  /** Give up the write in flight (its port went away): the frame goes back to the head of its class. */
  private abandonWrite(): void {
    const w = this.inFlight
    if (w === null) return
    this.inFlight = null
    w.stall.cancel()
    if (this.closed) this.drop(w.q.bytes, ErrorCodes.CLOSED, 'radio closed while the frame was being written')
    else this.queue.requeue(w.q)
  }

  private drop(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    this.emit('dropped', { bytes, code, reason })
  }
}
