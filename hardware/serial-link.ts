/**
 * A serial device that heals itself: the byte pipe under every serial radio driver (issue 8).
 * The most common complaint in this field is a serial link that does not recover from an unplug,
 * a radio reboot or a device missing at start-up; this supervisor does:
 *
 * - states `connecting` (starting; the device may be missing) → `up` → `reconnecting` (with the
 *   reason: disconnected, a write or read error, or `reconnect(reason)` from above, e.g. heartbeat
 *   silence of the radio protocol) → `up` again; `down` after `close()`. Every change is a `state`
 *   event with a reason;
 * - it finds the device by serial number / vendor and product id (it may come back under another
 *   /dev name) or by path (serial-ports.ts), and retries with exponential backoff (jittered) while
 *   it is missing, forever, without throwing;
 * - `write` hands bytes to the port when up and returns false otherwise (the radio above keeps
 *   its frames in its TX queue with their TTL; nothing is dropped silently here: a write that
 *   fails is an `error` and a reconnect, and the caller's callback hears it).
 *
 * The port is opened through an injectable `open` (default: @serialport/stream on
 * @serialport/bindings-cpp, prebuilt for Linux x64/arm/arm64), so unit tests can use a fake.
 */
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { RadioState } from './radio.ts'
import { findPort, listSerialPorts, type PortInfo, type PortMatch } from './serial-ports.ts'

/** An open serial port, as the supervisor uses it. */
export interface SerialPortHandle {
  write(bytes: Uint8Array, done: (err?: Error | null) => void): void
  close(done: () => void): void
  on(event: 'data', fn: (chunk: Uint8Array) => void): unknown
  on(event: 'close', fn: (err?: (Error & { disconnected?: boolean }) | null) => void): unknown
  on(event: 'error', fn: (err: Error) => void): unknown
}

export type SerialOpener = (path: string, baudRate: number) => Promise<SerialPortHandle>

export interface SerialBackoff {
  initialMs: number
  maxMs: number
  factor: number
}

/** A link up this long resets the reconnect backoff. */
const STABLE_MS = 5000

export const DEFAULT_SERIAL_BACKOFF: Readonly<SerialBackoff> = Object.freeze({ initialMs: 250, maxMs: 5000, factor: 2 })

export interface SerialLinkOptions {
  match: PortMatch
  baudRate: number
  scheduler: Scheduler
  /** Jitter of the retry delays (±25 %); none without. */
  rng?: Rng
  open?: SerialOpener
  list?: () => PortInfo[]
  exists?: (path: string) => boolean
  backoff?: Partial<SerialBackoff>
}

export interface SerialLinkEvents {
  state: (change: { state: RadioState; reason: string; path?: string }) => void
  data: (chunk: Uint8Array) => void
  error: (err: SpinmeshError) => void
}

/** The default opener: @serialport/stream over the native bindings (loaded on first use). */
export const openSerialPort: SerialOpener = async (path, baudRate) => {
  const [{ SerialPortStream }, { autoDetect }] = await Promise.all([import('@serialport/stream'), import('@serialport/bindings-cpp')])
  const port = new SerialPortStream({ binding: autoDetect(), path, baudRate, autoOpen: false })
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())))
  return port as unknown as SerialPortHandle
}

export class SerialLink extends Emitter<SerialLinkEvents> {
  private readonly o: SerialLinkOptions
  private readonly backoff: SerialBackoff
  private stateValue: RadioState = 'connecting'
  private port: SerialPortHandle | undefined
  private path: string | undefined
  private timer: Timer | undefined
  private stableTimer: Timer | undefined
  private delayMs: number
  private started = false
  private closed = false
  /** Bumped on every (re)open attempt: events of an older port are ignored. */
  private generation = 0

  constructor(o: SerialLinkOptions) {
    super()
    if (!(Number.isInteger(o.baudRate) && o.baudRate > 0)) throw new RangeError(`serial link: baudRate must be a positive integer, got ${o.baudRate}`)
    if (o.match.path === undefined && o.match.serialNumber === undefined && o.match.vendorId === undefined && o.match.productId === undefined) {
      throw new RangeError('serial link: give the device a path, a serial number or a vendor/product id')
    }
    this.o = o
    this.backoff = { ...DEFAULT_SERIAL_BACKOFF, ...o.backoff }
    this.delayMs = this.backoff.initialMs
  }

  get state(): RadioState {
    return this.stateValue
  }

  /** The device path in use (or last used). */
  get devicePath(): string | undefined {
    return this.path
  }

  /** Start connecting (a missing device is retried with backoff, never an error). Idempotent. */
  start(): void {
    if (this.started || this.closed) return
    this.started = true
    this.setState('connecting', 'starting')
    this.attempt().catch((e) => this.emit('error', new SpinmeshError(ErrorCodes.IO, `serial link: ${(e as Error).message}`)))
  }

  /**
   * Hand bytes to the port: true when up (then `done` hears whether the write worked), false when
   * not connected (nothing was written; the caller keeps the bytes).
   */
  write(bytes: Uint8Array, done?: (err?: SpinmeshError) => void): boolean {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'serial link is closed')
    const port = this.port
    if (this.stateValue !== 'up' || port === undefined) return false
    const gen = this.generation
    port.write(bytes, (err) => {
      if (!err) return done?.()
      const e = new SpinmeshError(ErrorCodes.IO, `serial write to ${this.path} failed: ${err.message}`)
      done?.(e)
      if (gen === this.generation) this.lost(`write error: ${err.message}`)
    })
    return true
  }

  /** Drop the port and reconnect (e.g. the radio protocol above heard nothing for too long). */
  reconnect(reason: string): void {
    if (this.closed || !this.started) return
    this.lost(reason)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.generation++
    this.timer?.cancel()
    this.timer = undefined
    this.stableTimer?.cancel()
    const port = this.port
    this.port = undefined
    if (port) await new Promise<void>((resolve) => port.close(() => resolve()))
    this.setState('down', 'closed')
  }

  private async attempt(): Promise<void> {
    this.timer = undefined
    if (this.closed) return
    const gen = ++this.generation
    const path = findPort(this.o.match, (this.o.list ?? listSerialPorts)(), this.o.exists)
    if (path === undefined) return this.retry(`device not found (${describe(this.o.match)})`)
    let port: SerialPortHandle
    try {
      port = await (this.o.open ?? openSerialPort)(path, this.o.baudRate)
    } catch (e) {
      if (gen !== this.generation) return
      return this.retry(`cannot open ${path}: ${(e as Error).message}`)
    }
    if (gen !== this.generation || this.closed) {
      port.close(() => {})
      return
    }
    this.port = port
    this.path = path
    // The backoff starts over only once the device has stayed up a while: one that drops right
    // after every open is retried ever more slowly, not in a tight loop.
    this.stableTimer?.cancel()
    this.stableTimer = this.o.scheduler.at(STABLE_MS, () => {
      this.stableTimer = undefined
      if (gen === this.generation) this.delayMs = this.backoff.initialMs
    })
    port.on('data', (chunk) => {
      if (gen === this.generation) this.emit('data', chunk)
    })
    port.on('error', (err) => {
      if (gen === this.generation) this.lost(`port error: ${err.message}`)
    })
    port.on('close', (err) => {
      if (gen === this.generation) this.lost(err?.disconnected ? 'disconnected' : `closed${err ? `: ${err.message}` : ''}`)
    })
    this.setState('up', `opened ${path}`, path)
  }

  /** The port went away: close what is left of it and try again after the backoff. */
  private lost(reason: string): void {
    if (this.closed) return
    this.generation++
    const port = this.port
    this.port = undefined
    if (port) port.close(() => {})
    this.emit('error', new SpinmeshError(ErrorCodes.IO, `serial link ${this.path ?? describe(this.o.match)}: ${reason}`))
    this.retry(reason)
  }

  private retry(reason: string): void {
    if (this.closed) return
    const state: RadioState = this.stateValue === 'connecting' ? 'connecting' : 'reconnecting'
    this.setState(state, reason)
    const jitter = this.o.rng ? 0.75 + this.o.rng.float() * 0.5 : 1
    const delay = this.delayMs * jitter
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * this.backoff.factor)
    this.timer?.cancel()
    this.timer = this.o.scheduler.at(delay, () => void this.attempt().catch((e) => this.emit('error', new SpinmeshError(ErrorCodes.IO, `serial link: ${(e as Error).message}`))))
  }

  private setState(state: RadioState, reason: string, path?: string): void {
    const changed = state !== this.stateValue || reason !== this.lastReason
    this.stateValue = state
    this.lastReason = reason
    if (changed) this.emit('state', { state, reason, ...(path ? { path } : {}) })
  }

  private lastReason = ''
}

function describe(m: PortMatch): string {
  return Object.entries(m).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ')
}
