/**
 * Real radios over UDP (DESIGN.md §3, §6), and the tx machinery they share.
 *
 * `DatagramRadio` is the Radio contract over a datagram socket: a bounded tx queue (urgent frames
 * first, `queueLimit`, `queueTtlMs`), an optional duty-cycle budget, one frame handed to the socket at
 * a time (so frames leave in order and the kernel queue stays short), 'sent' from the socket's send
 * callback, 'dropped' on a send error, a TTL, a full queue or close — never inside send(). Frames are
 * held while the radio is not 'up' (connecting, reconnecting) and go out when it is. Subclasses give
 * the transport: `transmit(bytes, done)` and `closeTransport()`, and call `deliver()` and `setState()`.
 *
 * `UdpRadio` broadcasts frames to an IPv4 multicast group (default 239.72.83.77:4277, TTL 1) on one
 * interface, for real nodes on a Wi-Fi or LAN segment. Each datagram is
 *
 *   offset  size  field
 *   0       2     magic "SM" (0x53 0x4D)
 *   2       1     version = 1
 *   3       4     instance: the sending radio's random id, u32 big-endian
 *   7       n     the frame (1 ≤ n ≤ mtu)
 *
 * A radio ignores datagrams with its own instance id (multicast loopback gives a sender its own
 * frames), and counts and ignores anything else that does not decode or exceeds its mtu. The
 * instance id is drawn from node:crypto, not from a seeded Rng: two processes seeded alike must still
 * tell their frames apart. No RSSI/SNR: an IP socket does not report them.
 */
import { randomInt } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import { airtimeMs } from './airtime.ts'
import { checkFrame } from './check-frame.ts'
import { DutyCycleBudget } from './duty-cycle.ts'
import type { Radio, RadioEvents, RadioState, SendOptions } from './radio.ts'
import { CLOSE_FLUSH_MS, validateUdpRadioConfig, type DatagramRadioConfig, type UdpRadioConfig } from './udp-defaults.ts'

export interface DatagramRadioStats {
  /** Frames the socket confirmed sent, and their bytes (frame bytes, not headers). */
  txFrames: number
  txBytes: number
  /** Frames emitted as 'frame'. */
  rxFrames: number
  rxBytes: number
  /** Frames reported 'dropped' (any code). */
  dropped: number
  /** Datagrams ignored: undecodable, over the mtu, from an unexpected source, or our own. */
  ignored: number
}

interface Waiting {
  bytes: Uint8Array
  expiresAt: number
  urgent: boolean
}

/** The code a failed socket send is reported with (there is no dedicated I/O code yet). */
export function sendErrorCode(e: Error): ErrorCode {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'EMSGSIZE') return ErrorCodes.FRAME_TOO_LARGE
  if (code === 'ENOBUFS' || code === 'EAGAIN' || code === 'EWOULDBLOCK') return ErrorCodes.QUEUE_FULL
  if (code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return ErrorCodes.CLOSED
  // The medium refused the frame (ENETUNREACH, EPERM from a firewall, …).
  return ErrorCodes.CHANNEL_BUSY
}

/** The Radio contract over a datagram transport; see the module comment. */
export abstract class DatagramRadio extends Emitter<RadioEvents> implements Radio {
  readonly mtu: number
  readonly bitrate: number
  readonly stats: DatagramRadioStats = { txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, dropped: 0, ignored: 0 }
  protected readonly scheduler: Scheduler
  private _state: RadioState = 'connecting'
  private readonly queue: Waiting[] = []
  private urgentWaiting = 0
  /** The frame handed to the socket and not yet confirmed. */
  private inFlight: Uint8Array | null = null
  /** Refusals scheduled from send() but not yet reported. */
  private deferredDrops = 0
  private timer: Timer | null = null
  private readonly budget: DutyCycleBudget
  private inSend = false
  private flushed: (() => void) | null = null
  /** A pump is due on the next event-loop turn (see transmitted). */
  private yielding = false

  protected constructor(readonly config: Readonly<DatagramRadioConfig>, scheduler: Scheduler) {
    super()
    this.mtu = config.mtu
    this.bitrate = config.bitrate
    this.scheduler = scheduler
    this.budget = new DutyCycleBudget(config.dutyCycle, config.dutyCycleWindowMs)
  }

  get state(): RadioState {
    return this._state
  }

  /** Frames accepted and not yet reported sent or dropped (waiting, in flight, or refusals still to be reported). */
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0) + this.deferredDrops
  }

  airtimeMs(bytes: number): number {
    return airtimeMs(bytes, this.bitrate, this.config.preambleMs)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    checkFrame(frame, this.mtu, this._state === 'down')
    const bytes = frame.slice()
    if (this.queue.length >= this.config.queueLimit) {
      this.deferredDrops++
      this.scheduler.at(0, () => {
        this.deferredDrops--
        this.drop(bytes, ErrorCodes.QUEUE_FULL, `tx queue full (${this.config.queueLimit} frames)`)
      })
      return
    }
    const urgent = opts?.urgent === true
    const w: Waiting = { bytes, expiresAt: this.scheduler.now() + this.config.queueTtlMs, urgent }
    if (urgent) this.queue.splice(this.urgentWaiting++, 0, w)
    else this.queue.push(w)
    if (this._state !== 'up') return this.armExpiry()
    this.inSend = true
    try {
      this.pump()
    } finally {
      this.inSend = false
    }
  }

  /** Hand the frame to the socket; call `done` exactly once with the outcome. */
  protected abstract transmit(bytes: Uint8Array, done: (err: Error | null) => void): void
  /** Release the socket; called once by close() after the frame in flight is settled. */
  protected abstract closeTransport(): Promise<void>

  /** Move to `state` (no event if unchanged); entering 'up' starts sending what was held. */
  protected setState(state: RadioState, reason: string): void {
    if (this._state === 'down' || this._state === state) return
    this._state = state
    if (state === 'down') this.shutdown()
    this.emit('state', { state, reason })
    if (state === 'up') {
      this.timer?.cancel()
      this.timer = null
      this.pump()
    } else if (state !== 'down') {
      // Held now: a pending duty-cycle wait becomes the TTL timer of the held frames.
      this.timer?.cancel()
      this.timer = null
      this.armExpiry()
    }
  }

  /** A frame heard on the medium. */
  protected deliver(bytes: Uint8Array, rssi?: number, snr?: number): void {
    if (this._state === 'down') return
    if (bytes.length === 0 || bytes.length > this.mtu) {
      this.stats.ignored++
      return
    }
    this.stats.rxFrames++
    this.stats.rxBytes += bytes.length
    const at = this.scheduler.now()
    this.emit('frame', rssi === undefined ? { bytes, at } : { bytes, at, rssi, snr })
  }

  private take(): Waiting {
    const w = this.queue.shift()!
    if (w.urgent) this.urgentWaiting--
    return w
  }

  private pump(): void {
    while (this._state === 'up' && !this.inFlight && !this.yielding && this.timer === null && this.queue.length > 0) {
      const now = this.scheduler.now()
      const w = this.queue[0]
      if (now >= w.expiresAt) {
        this.take()
        this.drop(w.bytes, ErrorCodes.EXPIRED, `frame waited ${this.config.queueTtlMs} ms in the tx queue`)
        continue
      }
      const d = this.airtimeMs(w.bytes.length)
      if (!this.budget.unlimited) {
        const t0 = this.budget.earliestStart(now, d)
        if (t0 === Infinity) {
          this.take()
          this.drop(w.bytes, ErrorCodes.DUTY_CYCLE, `frame needs ${d} ms of airtime, more than the whole duty-cycle budget of ${this.budget.capacityMs} ms`)
          continue
        }
        if (t0 > now) {
          this.timer = this.scheduler.at(Math.min(t0, w.expiresAt) - now, () => {
            this.timer = null
            this.pump()
          })
          return
        }
        this.budget.record(now, d)
      }
      this.take()
      this.inFlight = w.bytes
      try {
        this.transmit(w.bytes, (err) => this.transmitted(w.bytes, d, err))
      } catch (e) {
        // A socket that throws synchronously (closed under us): report from a later event.
        this.scheduler.at(0, () => this.transmitted(w.bytes, d, e instanceof Error ? e : new Error(String(e))))
      }
    }
  }

  private transmitted(bytes: Uint8Array, d: number, err: Error | null): void {
    if (this.inFlight !== bytes) return // already settled by close()'s flush deadline
    this.inFlight = null
    if (err) this.drop(bytes, sendErrorCode(err), `socket send failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`)
    else {
      this.stats.txFrames++
      this.stats.txBytes += bytes.length
      this.emit('sent', { bytes, at: this.scheduler.now(), airtimeMs: d })
    }
    if (this.flushed) this.flushed()
    else if (!this.yielding) {
      // Node confirms a send that completed at once from process.nextTick: pumping straight on would
      // send a whole queue without ever letting the event loop read a socket (ours or, on one host,
      // the receivers'), overflowing receive buffers. One frame per event-loop turn.
      this.yielding = true
      setImmediate(() => {
        this.yielding = false
        this.pump()
      })
    }
  }

  /** While not up: one timer for the earliest expiry among the held frames. */
  private armExpiry(): void {
    if (this.timer !== null || this.queue.length === 0 || this._state === 'up' || this._state === 'down') return
    let first = Infinity
    for (const w of this.queue) first = Math.min(first, w.expiresAt)
    if (first === Infinity) return
    this.timer = this.scheduler.at(Math.max(0, first - this.scheduler.now()), () => {
      this.timer = null
      this.expireHeld()
    })
  }

  private expireHeld(): void {
    if (this._state === 'up') return this.pump()
    const now = this.scheduler.now()
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]
      if (now < w.expiresAt) {
        i++
        continue
      }
      this.queue.splice(i, 1)
      if (w.urgent) this.urgentWaiting--
      this.drop(w.bytes, ErrorCodes.EXPIRED, `frame waited ${this.config.queueTtlMs} ms while the radio was ${this._state}`)
    }
    this.armExpiry()
  }

  private drop(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    if (this.inSend) {
      this.deferredDrops++
      this.scheduler.at(0, () => {
        this.deferredDrops--
        this.drop(bytes, code, reason)
      })
      return
    }
    this.stats.dropped++
    this.emit('dropped', { bytes, code, reason })
  }

  /** Going down: stop timers and report every held frame dropped ERR_CLOSED. */
  private shutdown(): void {
    this.timer?.cancel()
    this.timer = null
    this.urgentWaiting = 0
    for (const w of this.queue.splice(0)) this.drop(w.bytes, ErrorCodes.CLOSED, 'radio closed before the frame was sent')
  }

  private closing: Promise<void> | null = null

  /** Down once: held frames dropped ERR_CLOSED, the frame in flight settled (or dropped after CLOSE_FLUSH_MS), socket closed. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.setState('down', 'closed')
    this.closing = this.finishClose()
    return this.closing
  }

  /** Settle the frame in flight, then release the transport (also after a fatal error). */
  protected async finishClose(): Promise<void> {
    if (this.inFlight) {
      await new Promise<void>((resolve) => {
        const deadline = this.scheduler.at(CLOSE_FLUSH_MS, () => resolve())
        this.flushed = () => {
          deadline.cancel()
          resolve()
        }
      })
      this.flushed = null
      const bytes = this.inFlight
      if (bytes) {
        this.inFlight = null
        this.drop(bytes, ErrorCodes.CLOSED, `socket did not confirm the frame within ${CLOSE_FLUSH_MS} ms of close`)
      }
    }
    await this.closeTransport()
  }

  /** A fatal transport error: report it, go down, release the socket. */
  protected fail(reason: string, cause?: unknown, code: ErrorCode = ErrorCodes.CLOSED): void {
    if (this._state === 'down') return
    this.emit('error', new SpinmeshError(code, reason, { cause }))
    this.setState('down', reason)
    this.closing ??= this.finishClose()
  }
}

// ---------------------------------------------------------------------------------------------
// UdpRadio

export const UDP_RADIO_MAGIC0 = 0x53 // 'S'
export const UDP_RADIO_MAGIC1 = 0x4d // 'M'
export const UDP_RADIO_VERSION = 1
export const UDP_RADIO_HEADER_SIZE = 7

export function encodeUdpRadioDatagram(instance: number, frame: Uint8Array): Uint8Array {
  return new ByteWriter(UDP_RADIO_HEADER_SIZE + frame.length)
    .u8(UDP_RADIO_MAGIC0).u8(UDP_RADIO_MAGIC1).u8(UDP_RADIO_VERSION).u32(instance).raw(frame).done()
}

/** Total: the sender's instance id and the frame (a view), or DecodeError (bad magic, version, empty frame). */
export function decodeUdpRadioDatagram(bytes: Uint8Array): { instance: number; frame: Uint8Array } {
  const r = new ByteReader(bytes, 'udp radio datagram')
  if (r.u8('magic') !== UDP_RADIO_MAGIC0 || r.u8('magic') !== UDP_RADIO_MAGIC1) r.fail('bad magic (not a spinmesh radio datagram)')
  const v = r.u8('version')
  if (v !== UDP_RADIO_VERSION) r.fail(`unsupported version ${v}`)
  const instance = r.u32('instance')
  const frame = r.rest()
  if (frame.length === 0) r.fail('empty frame')
  return { instance, frame }
}

export type UdpRadioOptions = Partial<UdpRadioConfig> & {
  /** Time source for `at` fields and queue timers (default a RealScheduler). */
  scheduler?: Scheduler
  /** This radio's instance id (default random from node:crypto); must differ from every other radio's. */
  instanceId?: number
}

export class UdpRadio extends DatagramRadio {
  declare readonly config: Readonly<UdpRadioConfig>
  readonly instanceId: number
  private readonly socket: Socket

  /** A radio that is 'up' (bound and joined); rejects with the reason when it cannot bind or join. */
  static async open(options: UdpRadioOptions = {}): Promise<UdpRadio> {
    const r = new UdpRadio(options)
    await r.whenUp()
    return r
  }

  constructor(options: UdpRadioOptions = {}) {
    const { scheduler, instanceId, ...rest } = options
    const config = validateUdpRadioConfig(rest)
    super(config, scheduler ?? new RealScheduler())
    if (instanceId !== undefined && !(Number.isInteger(instanceId) && instanceId >= 0 && instanceId <= 0xffffffff)) {
      throw new RangeError(`udp radio: instanceId must be a u32, got ${instanceId}`)
    }
    this.instanceId = instanceId ?? randomInt(0, 0x100000000)
    this.socket = createSocket({ type: 'udp4', reuseAddr: true })
    this.socket.on('error', (e) => this.fail(`udp socket error: ${(e as NodeJS.ErrnoException).code ?? e.message}`, e))
    this.socket.on('message', (msg) => this.receive(msg))
    this.socket.once('listening', () => this.joined())
    // Bound to the wildcard address: the group's datagrams arrive whatever the interface.
    this.socket.bind(config.port)
  }

  /** Resolves once up; rejects if the radio goes down first. */
  whenUp(): Promise<void> {
    if (this.state === 'up') return Promise.resolve()
    if (this.state === 'down') return Promise.reject(new SpinmeshError(ErrorCodes.CLOSED, 'udp radio is down'))
    return new Promise((resolve, reject) => {
      const on = (s: { state: RadioState; reason: string }): void => {
        if (s.state === 'up') resolve()
        else if (s.state === 'down') reject(new SpinmeshError(ErrorCodes.CLOSED, `udp radio went down: ${s.reason}`))
        else return
        this.off('state', on)
      }
      this.on('state', on)
    })
  }

  private joined(): void {
    if (this.state === 'down') return
    const c = this.config
    const iface = c.interface ?? undefined
    try {
      this.socket.setMulticastTTL(c.ttl)
      this.socket.setMulticastLoopback(c.loopback)
      if (iface !== undefined) this.socket.setMulticastInterface(iface)
      this.socket.addMembership(c.group, iface)
    } catch (e) {
      this.fail(`cannot join ${c.group} on ${iface ?? 'the default interface'}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e)
      return
    }
    this.setState('up', `joined ${c.group}:${c.port} on ${iface ?? 'the default interface'}`)
  }

  protected transmit(bytes: Uint8Array, done: (err: Error | null) => void): void {
    this.socket.send(encodeUdpRadioDatagram(this.instanceId, bytes), this.config.port, this.config.group, (e) => done(e ?? null))
  }

  private receive(msg: Buffer): void {
    let d: { instance: number; frame: Uint8Array }
    try {
      d = decodeUdpRadioDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.length))
    } catch {
      this.stats.ignored++
      return
    }
    if (d.instance === this.instanceId) return // our own, looped back
    this.deliver(d.frame.slice())
  }

  protected closeTransport(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve())
      } catch {
        resolve() // already closed
      }
    })
  }
}
