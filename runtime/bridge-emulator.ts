/**
 * A bridge-protocol firmware emulator (issue 8): the radio side of firmware-bridge/PROTOCOL.md on
 * a serial device (a SerialLink), transmitting on another Radio (`air`: a HubRadio on the live
 * hub, or a MockRadio in tests). It follows the radio state machine of PROTOCOL.md §5.1:
 *
 * - AWAIT_HELLO → HELLO-ACK (firmware "spinmesh-emulator", mtu = air.mtu, `txQueue`) →
 *   AWAIT_CONFIG → CONFIG-ACK (bitrate = air.bitrate, overhead = air.airtimeMs(0)) → READY;
 * - TX → the radio's queue (urgent ones ahead of the waiting ones), BUSY past `txQueue` (the one on
 *   air included), NOT_CONFIGURED before CONFIG. One transmitter: the head of the queue goes to
 *   `air.send`, and its TX-DONE (with the air radio's airtime) waits until the air radio reports it
 *   `sent` *and* its airtime (`air.airtimeMs`) has passed since the previous frame left the air;
 *   the deadlines accumulate, as RadioEmulator paces its serial line, so the transmitter runs at
 *   the configured bitrate even on an air radio that reports `sent` at once (a HubRadio), and a
 *   host that floods it sees its queue fill (STATUS `queueDepth`, TX-ERROR BUSY). TX-ERROR when
 *   the air radio reports the frame `dropped` or refuses it (`send` throws);
 * - frames heard on air → RX with their rssi/snr (or "unknown");
 * - HEARTBEAT → HEARTBEAT-ACK; its own HEARTBEAT when it sent nothing for the interval;
 *   STATUS-REQUEST → STATUS (and periodic ones); RESET, a new HELLO, the host silent past the
 *   heartbeat timeout, or the serial line going down → the session is forgotten (TX still on air
 *   are not answered).
 *
 * For tests it misbehaves on request, each settable at any time: `silent` (answer nothing at all,
 * as a hung firmware), `failTx` (answer every TX with that TX-ERROR reason), `refuseConfig`
 * (answer every CONFIG with CONFIG-ERROR), `loseTx` (TX vanish as if lost on the serial line),
 * `stuckTx` (a hung transmitter: TX are queued and never answered); and `versions` makes it speak
 * another range of protocol versions.
 * Serial writes to the host are not paced at the baud rate: bridge messages are small next to the
 * air's bitrate, which the transmitter is paced at.
 */
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import {
  BRIDGE_VERSION, BridgeMsgType as M, Capability, MAX_MESSAGE_SIZE, RadioKind, TxErrorReason, chooseVersion, decodeHostMessage, encodeBridge,
  type ConfigFieldError, type HostMessage, type RadioMessage,
} from '../firmware-bridge/bridge-messages.ts'
import type { Radio, RxFrame } from '../hardware/radio.ts'
import { cobsFraming } from '../hardware/serial-framing.ts'
import type { SerialLink } from '../hardware/serial-link.ts'
import type { SerialFraming } from '../hardware/serial-radio.ts'

export interface BridgeEmulatorOptions {
  /** The device side of the serial line (the host opens the other side). */
  serial: SerialLink
  /** What the emulated radio transmits on and hears from. */
  air: Radio
  scheduler: Scheduler
  /** TX the radio holds at most (HELLO-ACK txQueue, 1..255; default 4). */
  txQueue?: number
  hardwareId?: string
  /** Answer nothing (a hung firmware). Settable later on the emulator. */
  silent?: boolean
  /** Answer every TX with this TX-ERROR reason (TxErrorReason). Settable later. */
  failTx?: number
  /** Refuse every CONFIG with these errors. Settable later. */
  refuseConfig?: ConfigFieldError[]
  /** TX messages vanish, as if lost on the serial line: neither queued nor answered. Settable later. */
  loseTx?: boolean
  /**
   * The transmitter hangs: TX are queued (STATUS counts them, BUSY past `txQueue`) but none goes on
   * air or is answered. Settable later; a frame already on air still finishes.
   */
  stuckTx?: boolean
  /** Protocol versions the firmware speaks (default BRIDGE_VERSION..BRIDGE_VERSION). */
  versions?: { min: number; max: number }
}

export interface BridgeEmulatorStats {
  fromHost: number
  /** Damaged frames and undecodable messages from the host. */
  badInput: number
  txOk: number
  txErrors: number
  rxOk: number
  /** Frames heard on air with no session to give them to. */
  rxDropped: number
  sessions: number
}

type Phase = 'await-hello' | 'await-config' | 'ready'

/** A TX the radio holds: `at` is when it arrived. */
interface HeldTx {
  id: number
  bytes: Uint8Array
  urgent: boolean
  at: number
}

/** The head of the queue on air: answered once the air radio reported it sent and `doneAt` has passed. */
interface OnAir {
  tx: HeldTx
  doneAt: number
  /** The air radio's `sent` airtime, once it reported the frame sent. */
  airtimeMs?: number
  timer?: Timer
}

export class BridgeEmulator {
  readonly stats: BridgeEmulatorStats = { fromHost: 0, badInput: 0, txOk: 0, txErrors: 0, rxOk: 0, rxDropped: 0, sessions: 0 }
  silent: boolean
  failTx: number | undefined
  refuseConfig: ConfigFieldError[] | undefined
  loseTx: boolean
  private stuck: boolean
  private readonly o: BridgeEmulatorOptions
  private readonly txQueue: number
  private readonly versions: { min: number; max: number }
  private readonly framing: SerialFraming = cobsFraming(MAX_MESSAGE_SIZE)
  private decoder: ReturnType<SerialFraming['decoder']>
  private phase: Phase = 'await-hello'
  private readonly bootAt: number
  /** TX the radio holds, in the order they go on air (the one on air first); urgent ones first among the waiting. */
  private held: HeldTx[] = []
  private onAir: OnAir | undefined
  /** Frames handed to the air radio and not reported yet, in order; `tx` is cleared when its session ends. */
  private airFrames: Array<{ bytes: Uint8Array; tx: HeldTx | undefined }> = []
  /** Scheduler time at which the transmitter has finished every frame started so far. */
  private airFreeAt = 0
  private heartbeatIntervalMs = 1000
  private heartbeatTimeoutMs = 3500
  private lastHeard = 0
  private lastSent = 0
  private seq = 0
  private txAirtimeMs = 0
  private rxAirtimeMs = 0
  private sessionTimer: Timer | undefined
  private statusTimer: Timer | undefined
  private closed = false

  constructor(o: BridgeEmulatorOptions) {
    const txQueue = o.txQueue ?? 4
    if (!(Number.isInteger(txQueue) && txQueue >= 1 && txQueue <= 255)) throw new RangeError(`bridge emulator: txQueue must be 1..255, got ${txQueue}`)
    this.o = o
    this.txQueue = txQueue
    this.silent = o.silent ?? false
    this.failTx = o.failTx
    this.refuseConfig = o.refuseConfig
    this.loseTx = o.loseTx ?? false
    this.stuck = o.stuckTx ?? false
    const versions = o.versions ?? { min: BRIDGE_VERSION, max: BRIDGE_VERSION }
    if (!(Number.isInteger(versions.min) && Number.isInteger(versions.max) && versions.min >= 1 && versions.min <= versions.max && versions.max <= 255)) {
      throw new RangeError(`bridge emulator: versions must be 1 <= min <= max <= 255, got ${versions.min}..${versions.max}`)
    }
    this.versions = versions
    this.bootAt = o.scheduler.now()
    this.decoder = this.framing.decoder()
    o.serial.on('state', (c) => {
      this.decoder = this.framing.decoder()
      if (c.state !== 'up') this.forget()
    })
    o.serial.on('data', (chunk) => this.fromHost(chunk))
    o.serial.on('error', () => {}) // the link reconnects by itself; its state says why
    o.air.on('frame', (f) => this.fromAir(f))
    o.air.on('sent', (s) => this.airSent(s.bytes, s.airtimeMs))
    o.air.on('dropped', (d) => this.airDropped(d.bytes, d.code === ErrorCodes.DUTY_CYCLE ? TxErrorReason.DUTY_CYCLE
      : d.code === ErrorCodes.CHANNEL_BUSY ? TxErrorReason.CHANNEL_BUSY_TIMEOUT : d.code === ErrorCodes.QUEUE_FULL ? TxErrorReason.BUSY : TxErrorReason.RADIO_FAULT))
    o.serial.start()
  }

  /** The transmitter hangs (BridgeEmulatorOptions.stuckTx); cleared, it goes on with the queue. */
  get stuckTx(): boolean {
    return this.stuck
  }

  set stuckTx(v: boolean) {
    this.stuck = v
    if (!v) this.transmit()
  }

  /** Whether a host session is configured (READY). */
  get ready(): boolean {
    return this.phase === 'ready'
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.forget()
    await this.o.serial.close()
    await this.o.air.close()
  }

  private clockUs(): number {
    return Math.floor((this.o.scheduler.now() - this.bootAt) * 1000) % 0x1_0000_0000
  }

  /**
   * End the session: TX queue dropped without answers, periodic STATUS stopped, AWAIT_HELLO. A frame
   * on air still occupies the transmitter until its airtime is over (`airFreeAt` stays).
   */
  private forget(): void {
    this.phase = 'await-hello'
    this.held = []
    this.onAir?.timer?.cancel()
    this.onAir = undefined
    for (const f of this.airFrames) f.tx = undefined
    this.sessionTimer?.cancel()
    this.statusTimer?.cancel()
    this.sessionTimer = this.statusTimer = undefined
  }

  private fromHost(chunk: Uint8Array): void {
    if (this.closed) return
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind !== 'frame') {
        this.stats.badInput++
        continue
      }
      let m: HostMessage
      try {
        m = decodeHostMessage(ev.payload)
      } catch (e) {
        this.stats.badInput++
        this.send({ type: M.ERROR, fatal: false, code: 3, ref: ev.payload[0] ?? 0, text: String((e as Error).message).slice(0, 128) })
        continue
      }
      this.stats.fromHost++
      this.lastHeard = this.o.scheduler.now()
      this.handle(m)
    }
  }

  private handle(m: HostMessage): void {
    switch (m.type) {
      case M.HELLO: {
        this.forget()
        const version = chooseVersion(m.minVersion, m.maxVersion, this.versions.min, this.versions.max)
        this.send({
          type: M.HELLO_ACK, version, minVersion: this.versions.min, maxVersion: this.versions.max, nonce: m.nonce, kind: RadioKind.LORA,
          capabilities: Capability.RSSI | Capability.SNR | Capability.PERIODIC_STATUS, mtu: this.o.air.mtu, txQueue: this.txQueue,
          firmwareMajor: 0, firmwareMinor: 1, firmwarePatch: 0, firmware: 'spinmesh-emulator', hardwareId: this.o.hardwareId ?? 'emulated',
        })
        if (version === 0) return
        this.stats.sessions++
        this.heartbeatIntervalMs = m.heartbeatIntervalMs
        this.heartbeatTimeoutMs = m.heartbeatTimeoutMs
        this.phase = 'await-config'
        this.sessionTick()
        return
      }
      case M.RESET:
        return this.forget()
      case M.HEARTBEAT:
        if (this.phase === 'await-hello') return this.unexpected(m.type)
        return this.send({ type: M.RADIO_HEARTBEAT_ACK, seq: m.seq, clockUs: this.clockUs() })
      case M.HEARTBEAT_ACK:
        return
      case M.STATUS_REQUEST: {
        if (this.phase === 'await-hello') return this.unexpected(m.type)
        this.status(m.id, false)
        this.statusTimer?.cancel()
        this.statusTimer = undefined
        if (m.periodS > 0) this.periodicStatus(m.id, m.periodS)
        return
      }
      case M.CONFIG: {
        if (this.phase === 'await-hello') return this.unexpected(m.type)
        if (this.refuseConfig) return this.send({ type: M.CONFIG_ERROR, id: m.id, errors: this.refuseConfig })
        this.phase = 'ready'
        return this.send({
          type: M.CONFIG_ACK, id: m.id, bitrate: Math.max(1, Math.round(this.o.air.bitrate)),
          overheadUs: Math.round(this.o.air.airtimeMs(0) * 1000), frequencyHz: m.frequencyHz,
        })
      }
      case M.TX: {
        if (this.loseTx) return
        if (this.phase === 'await-hello') return this.unexpected(m.type)
        if (this.phase !== 'ready') return this.txError(m.id, TxErrorReason.NOT_CONFIGURED)
        if (this.failTx !== undefined) return this.txError(m.id, this.failTx)
        if (this.held.length >= this.txQueue) return this.txError(m.id, TxErrorReason.BUSY)
        if (m.payload.length > this.o.air.mtu) return this.txError(m.id, TxErrorReason.TOO_LONG)
        const tx: HeldTx = { id: m.id, bytes: m.payload.slice(), urgent: m.urgent, at: this.o.scheduler.now() }
        // Urgent: behind the frame on air and the urgent ones already waiting.
        let i = this.held.length
        if (tx.urgent) for (i = this.onAir ? 1 : 0; i < this.held.length && this.held[i].urgent; i++);
        this.held.splice(i, 0, tx)
        return this.transmit()
      }
    }
  }

  private unexpected(type: number): void {
    this.send({ type: M.ERROR, fatal: false, code: 4, ref: type, text: 'no session: send HELLO first' })
  }

  // ---- the transmitter ---------------------------------------------------------------------

  /**
   * Put the head of the queue on air when the transmitter is free. It starts when the previous
   * frame left the air, or when it arrived if the transmitter was idle then: the deadlines
   * accumulate, so timers firing late do not slow the transmitter down.
   */
  private transmit(): void {
    while (this.onAir === undefined && this.phase === 'ready' && !this.stuck && !this.closed && this.held.length > 0) {
      const tx = this.held[0]
      const freeBefore = this.airFreeAt
      const doneAt = Math.max(this.airFreeAt, tx.at) + this.o.air.airtimeMs(tx.bytes.length)
      this.airFreeAt = doneAt
      try {
        this.o.air.send(tx.bytes, { urgent: tx.urgent })
      } catch (e) {
        this.held.shift()
        this.airFreeAt = freeBefore
        this.txError(tx.id, (e as SpinmeshError).code === ErrorCodes.FRAME_TOO_LARGE ? TxErrorReason.TOO_LONG : TxErrorReason.RADIO_FAULT)
        continue
      }
      this.airFrames.push({ bytes: tx.bytes, tx })
      this.onAir = { tx, doneAt }
      this.awaitAirtime(this.onAir)
    }
  }

  /** Wait until the frame on air's airtime is over (a timer that fires early waits again). */
  private awaitAirtime(a: OnAir): void {
    a.timer = undefined
    const left = a.doneAt - this.o.scheduler.now()
    if (left <= 0) return this.finish(a)
    a.timer = this.o.scheduler.at(left, () => this.awaitAirtime(a))
  }

  /** The frame on air is answered TX-DONE once its airtime is over and the air radio reported it sent. */
  private finish(a: OnAir): void {
    if (this.onAir !== a || a.airtimeMs === undefined || this.o.scheduler.now() < a.doneAt) return
    a.timer?.cancel()
    this.held.shift()
    this.onAir = undefined
    this.txDone(a.tx.id, a.airtimeMs)
    this.transmit()
  }

  /** The air radio's report on a frame handed to it (the first with those bytes), or undefined. */
  private airReport(bytes: Uint8Array): HeldTx | undefined {
    const i = this.airFrames.findIndex((f) => sameBytes(f.bytes, bytes))
    if (i < 0) return undefined
    const [f] = this.airFrames.splice(i, 1)
    // A session ended meanwhile: no answer (PROTOCOL.md §4.6).
    return f.tx !== undefined && this.onAir?.tx === f.tx ? f.tx : undefined
  }

  private airSent(bytes: Uint8Array, airtimeMs: number): void {
    if (this.airReport(bytes) === undefined) return
    const a = this.onAir!
    a.airtimeMs = airtimeMs
    this.finish(a)
  }

  /** The air radio refused the frame: it never went on air, the transmitter is free now. */
  private airDropped(bytes: Uint8Array, reason: number): void {
    const tx = this.airReport(bytes)
    if (tx === undefined) return
    this.onAir!.timer?.cancel()
    this.onAir = undefined
    this.held.shift()
    this.airFreeAt = Math.min(this.airFreeAt, this.o.scheduler.now())
    this.txError(tx.id, reason)
    this.transmit()
  }

  private txDone(id: number, airtimeMs: number): void {
    this.stats.txOk++
    this.txAirtimeMs += airtimeMs
    this.send({ type: M.TX_DONE, id, airtimeUs: Math.round(airtimeMs * 1000), timestampUs: this.clockUs() })
  }

  private txError(id: number, reason: number): void {
    this.stats.txErrors++
    this.send({ type: M.TX_ERROR, id, reason })
  }

  private fromAir(f: RxFrame): void {
    this.rxAirtimeMs += this.o.air.airtimeMs(f.bytes.length)
    if (this.phase !== 'ready' || this.silent || this.o.serial.state !== 'up') {
      this.stats.rxDropped++
      return
    }
    this.stats.rxOk++
    const rssi = f.rssi === undefined ? undefined : Math.max(-3276.7, Math.min(3276.7, Math.round(f.rssi * 10) / 10))
    const snr = f.snr === undefined ? undefined : Math.max(-31.75, Math.min(31.75, Math.round(f.snr * 4) / 4))
    this.send({ type: M.RX, rssi, snr, timestampUs: this.clockUs(), payload: f.bytes })
  }

  private status(id: number, periodic: boolean): void {
    const uptimeMs = this.o.scheduler.now() - this.bootAt
    const windowS = Math.min(0xffff, Math.max(1, Math.ceil(uptimeMs / 1000)))
    const u32 = (n: number) => Math.min(0xffffffff, Math.round(n))
    this.send({
      type: M.STATUS, periodic, id, uptimeS: u32(uptimeMs / 1000), windowS,
      channelLoadPermille: Math.min(1000, Math.round((this.rxAirtimeMs / (windowS * 1000)) * 1000)),
      txAirtimeMs: u32(Math.min(this.txAirtimeMs, windowS * 1000)), queueDepth: Math.min(255, this.held.length),
      rxOk: this.stats.rxOk >>> 0, rxCrcErrors: 0, txOk: this.stats.txOk >>> 0, txErrors: this.stats.txErrors >>> 0,
    })
  }

  private periodicStatus(id: number, periodS: number): void {
    this.statusTimer = this.o.scheduler.at(periodS * 1000, () => {
      this.status(id, true)
      this.periodicStatus(id, periodS)
    })
  }

  /** In a session: the host lost after the heartbeat timeout; a HEARTBEAT of ours when idle. */
  private sessionTick(): void {
    this.sessionTimer?.cancel()
    const step = Math.max(10, Math.floor(this.heartbeatIntervalMs / 2))
    this.sessionTimer = this.o.scheduler.at(step, () => {
      this.sessionTimer = undefined
      const now = this.o.scheduler.now()
      if (now - this.lastHeard >= this.heartbeatTimeoutMs) return this.forget()
      if (now - this.lastSent >= this.heartbeatIntervalMs) {
        this.seq = (this.seq + 1) & 0xffff
        this.send({ type: M.RADIO_HEARTBEAT, seq: this.seq })
      }
      this.sessionTick()
    })
  }

  private send(m: RadioMessage): void {
    if (this.silent || this.closed) return
    if (this.o.serial.write(this.framing.encode(encodeBridge(m)))) this.lastSent = this.o.scheduler.now()
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
