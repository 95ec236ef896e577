/**
 * A firmware emulator (`spinmesh emulator`, issue 8): behaves like a transparent radio module on
 * a serial device. What the host writes to the serial line is deframed (COBS + CRC-32 or KISS),
 * and each frame goes on "air" through another Radio (usually a HubRadio on the live hub, which
 * applies range, loss, delay and airtime); every frame heard on air is framed and written back to
 * the serial line, paced at the line's baud rate (a pty ignores baud rates, so the emulator paces
 * itself: 10 bit times per byte). Damaged serial input is counted, never forwarded.
 *
 * The serial side is a SerialLink, so the emulator survives the host closing and reopening the
 * port; frames heard on air while the line is down are dropped (as a module with nobody reading
 * its UART would).
 */
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Radio } from '../hardware/radio.ts'
import type { SerialLink } from '../hardware/serial-link.ts'
import type { SerialFraming } from '../hardware/serial-radio.ts'

export interface EmulatorOptions {
  /** The device side of the serial line (the host opens the other side). */
  serial: SerialLink
  framing: SerialFraming
  /** What the emulated module transmits on and hears from. */
  air: Radio
  scheduler: Scheduler
  /** Serial line rate to pace writes to the host, bits/s (default 115,200). */
  baudRate?: number
  /** Bytes waiting for the serial line at most; more frames heard on air are dropped (default 64 KiB). */
  maxBacklogBytes?: number
}

export interface EmulatorStats {
  fromHost: number
  toAir: number
  fromAir: number
  toHost: number
  /** Damaged serial input (CRC, framing). */
  decodeErrors: number
  /** Frames from the host the air radio refused (too large, queue full) or dropped. */
  airDropped: number
  /** Frames heard on air that could not go to the host (line down, backlog full). */
  hostDropped: number
}

export class RadioEmulator {
  readonly stats: EmulatorStats = { fromHost: 0, toAir: 0, fromAir: 0, toHost: 0, decodeErrors: 0, airDropped: 0, hostDropped: 0 }
  private readonly o: EmulatorOptions
  private decoder: ReturnType<SerialFraming['decoder']>
  private readonly backlog: Uint8Array[] = []
  private backlogBytes = 0
  private pacing: Timer | undefined
  /** Scheduler time at which the serial line has sent everything written so far. */
  private lineFreeAt = 0
  private closed = false

  constructor(o: EmulatorOptions) {
    this.o = o
    this.decoder = o.framing.decoder()
    o.serial.on('state', (c) => {
      if (c.state === 'up') this.decoder = o.framing.decoder()
      else this.flushBacklog()
    })
    o.serial.on('data', (chunk) => this.fromHost(chunk))
    o.serial.on('error', () => {}) // the link reconnects by itself; its state says why
    o.air.on('frame', (f) => this.fromAir(f.bytes))
    o.air.on('dropped', () => this.stats.airDropped++)
    o.serial.start()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.pacing?.cancel()
    await this.o.serial.close()
    await this.o.air.close()
  }

  private fromHost(chunk: Uint8Array): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind !== 'frame') {
        this.stats.decodeErrors++
        continue
      }
      this.stats.fromHost++
      try {
        this.o.air.send(ev.payload)
        this.stats.toAir++
      } catch {
        this.stats.airDropped++ // larger than the air MTU, or the radio is closed
      }
    }
  }

  private fromAir(bytes: Uint8Array): void {
    this.stats.fromAir++
    const wire = this.o.framing.encode(bytes)
    if (this.o.serial.state !== 'up' || this.backlogBytes + wire.length > (this.o.maxBacklogBytes ?? 65_536)) {
      this.stats.hostDropped++
      return
    }
    this.backlog.push(wire)
    this.backlogBytes += wire.length
    this.pump()
  }

  /** Write the next framed frame, then wait its time on the serial line. */
  private pump(): void {
    if (this.pacing !== undefined || this.closed) return
    const wire = this.backlog.shift()
    if (wire === undefined) return
    this.backlogBytes -= wire.length
    if (!this.o.serial.write(wire)) {
      this.stats.hostDropped++
      return this.pump()
    }
    this.stats.toHost++
    // The line is busy until lineFreeAt; timers fire on whole milliseconds, so pace against the
    // accumulated deadline (a per-frame delay rounded down would run the line up to 6 % fast).
    const now = this.o.scheduler.now()
    this.lineFreeAt = Math.max(this.lineFreeAt, now) + (wire.length * 10 * 1000) / (this.o.baudRate ?? 115_200)
    this.pacing = this.o.scheduler.at(Math.max(0, Math.floor(this.lineFreeAt - now)), () => {
      this.pacing = undefined
      this.pump()
    })
  }

  private flushBacklog(): void {
    this.stats.hostDropped += this.backlog.length
    this.backlog.length = 0
    this.backlogBytes = 0
  }
}
