/**
 * A radio running custom firmware that speaks the bridge protocol (firmware-bridge/PROTOCOL.md),
 * on a self-healing SerialLink, one message per COBS + CRC-32 frame. It implements the Radio
 * contract (hardware/radio.ts):
 *
 * - on every link `up` it runs a session: HELLO (fresh nonce) → HELLO-ACK → CONFIG → CONFIG-ACK →
 *   STATUS-REQUEST (the status period), and only then is the radio `up`; until then its state is
 *   the link's `connecting` / `reconnecting`. A missing reply within `replyTimeoutMs`, heartbeat
 *   silence, a stuck transmitter, a fatal ERROR or a radio that lost its session all end the
 *   session with `link.reconnect(reason)` (the link's backoff paces the retries);
 * - a refusal is not retried (PROTOCOL.md §5.2, §7): a CONFIG-ERROR (an `error` event, a
 *   ConfigError naming each field) or a HELLO-ACK with version 0 (`error` ERR_UNSUPPORTED, "no
 *   common version") takes the radio `down` for good, as a fatal error does on the UDP radios:
 *   frames waiting are dropped ERR_CLOSED, the radio is RESET and the serial port released, and
 *   `send` throws ERR_CLOSED naming the reason;
 * - the TX deadline (bridge-defaults `txDoneTimeoutMs`) missed: every unanswered TX is dropped
 *   ERR_IO and a STATUS is asked for, with no TX sent meanwhile; `queueDepth` 0 → the TX were lost
 *   on the serial line, carry on; anything else (or no STATUS within `replyTimeoutMs`) → the
 *   transmitter is stuck: session loss;
 * - `mtu` is min(option, HELLO-ACK mtu); `bitrate` / `airtimeMs` come from CONFIG-ACK;
 * - `send` queues (bounded, per-frame TTL, urgent first: as SerialRadio); at most the radio's
 *   `txQueue` TX are unanswered; TX-DONE → `sent` with the radio's airtime, TX-ERROR → `dropped`
 *   with a mapped code; TX unanswered when a session ends → `dropped` ERR_IO (never resent: they
 *   may have gone on air). Every accepted frame ends in exactly one `sent` or `dropped`;
 * - RX → `frame` with rssi (dBm) and snr (dB); radio ERROR messages → `error` events;
 * - `status()` is the last STATUS (requested at session start, then periodic).
 */
import { ConfigError, ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { txDoneTimeoutMs, validateBridgeTiming, type BridgeTiming, type BridgeTimingInput } from '../firmware-bridge/bridge-defaults.ts'
import {
  BRIDGE_VERSION, BridgeErrorCode, BridgeMsgType as M, CONFIG_FIELD_KEYS, ConfigErrorReason, MAX_MESSAGE_SIZE, MAX_MTU, TxErrorReason,
  configAckAirtimeMs, decodeRadioMessage, encodeBridge, type Config, type HostMessage, type RadioMessage, type Status,
} from '../firmware-bridge/bridge-messages.ts'
import { checkFrame } from './check-frame.ts'
import type { Radio, RadioEvents, RadioState, SendOptions } from './radio.ts'
import { cobsFraming } from './serial-framing.ts'
import type { SerialLink } from './serial-link.ts'
import { TxQueue, type QueuedFrame } from './tx-queue.ts'
import type { SerialFraming } from './serial-radio.ts'

/** The radio settings sent in CONFIG (PROTOCOL.md §4.3); `type` and `id` are the driver's. */
export type BridgeRadioConfig = Omit<Config, 'type' | 'id' | 'preambleLength' | 'dutyCyclePermille' | 'syncWord'>
  & Partial<Pick<Config, 'preambleLength' | 'dutyCyclePermille' | 'syncWord'>>

export interface BridgeRadioOptions {
  link: SerialLink
  scheduler: Scheduler
  /** HELLO nonces. */
  rng: Rng
  config: BridgeRadioConfig
  /** Largest frame the host wants, bytes (default 255); the radio's HELLO-ACK mtu may lower it. */
  mtu?: number
  /** Bitrate assumed before the first CONFIG-ACK, bits/s (default 1000; only airtime estimates use it). */
  bitrateHint?: number
  /** Frames waiting at most (default 64). */
  queueLimit?: number
  /** A frame not handed to the radio within this long after `send` is dropped with ERR_EXPIRED (default 30 s). */
  frameTtlMs?: number
  timing?: BridgeTimingInput
  /** Host name in HELLO (default 'spinmesh'). */
  host?: string
}

export interface BridgeRadioStats {
  /** Valid messages from the radio. */
  messages: number
  /** Damaged frames, undecodable messages, stale HELLO-ACKs, answers for unknown tx ids. */
  ignored: number
  expired: number
  sessions: number
  radioErrors: number
  /** TX deadlines missed (the unanswered TX were dropped, a STATUS asked for). */
  txTimeouts: number
}

type Queued = QueuedFrame
type Phase = 'idle' | 'hello' | 'config' | 'ready'

const TX_ERROR_CODES: Record<number, ErrorCode> = {
  [TxErrorReason.DUTY_CYCLE]: ErrorCodes.DUTY_CYCLE,
  [TxErrorReason.BUSY]: ErrorCodes.CHANNEL_BUSY,
  [TxErrorReason.CHANNEL_BUSY_TIMEOUT]: ErrorCodes.CHANNEL_BUSY,
  [TxErrorReason.TOO_LONG]: ErrorCodes.FRAME_TOO_LARGE,
}
const TX_ERROR_NAMES = Object.fromEntries(Object.entries(TxErrorReason).map(([k, v]) => [v, k]))
const CONFIG_REASON_NAMES = Object.fromEntries(Object.entries(ConfigErrorReason).map(([k, v]) => [v, k.toLowerCase().replace(/_/g, ' ')]))
/** TX-ERROR RADIO_FAULT this many times in a row: the session is lost (PROTOCOL.md §7). */
const MAX_RADIO_FAULTS = 3

/** The dropped code of a TX-ERROR reason. */
export function txErrorCode(reason: number): ErrorCode {
  return TX_ERROR_CODES[reason] ?? ErrorCodes.IO
}

export class BridgeRadio extends Emitter<RadioEvents> implements Radio {
  readonly stats: BridgeRadioStats = { messages: 0, ignored: 0, expired: 0, sessions: 0, radioErrors: 0, txTimeouts: 0 }
  /** Radio capabilities and firmware from the last HELLO-ACK. */
  firmware: { name: string; hardwareId: string; capabilities: number; txQueue: number } | undefined
  private readonly o: BridgeRadioOptions
  private readonly timing: BridgeTiming
  private readonly maxMtu: number
  private readonly framing: SerialFraming
  private mtuValue: number
  private bitrateValue: number
  private overheadUs = 0
  private txQueue = 1
  private stateValue: RadioState = 'connecting'
  private lastReason = ''
  private phase: Phase = 'idle'
  /** Closed, or down for good (then `downReason` says why). */
  private closed = false
  private downReason: string | undefined
  private closing: Promise<void> | undefined
  private decoder: ReturnType<SerialFraming['decoder']>
  private readonly queue: TxQueue
  /** TX handed to the radio and not answered, by id, in the order sent. */
  private readonly outstanding = new Map<number, Queued>()
  private nextTxId = 0
  private nonce = 0
  private configId = 0
  private statusId = 0
  /** The STATUS-REQUEST asked after a missed TX deadline, while its answer is awaited. */
  private probeId: number | undefined
  private heartbeatSeq = 0
  private radioFaults = 0
  private lastHeard = 0
  private lastStatus: Status | undefined
  private replyTimer: Timer | undefined
  private heartbeatTimer: Timer | undefined
  private silenceTimer: Timer | undefined
  private txTimer: Timer | undefined

  constructor(o: BridgeRadioOptions) {
    super()
    const mtu = o.mtu ?? 255
    if (!(Number.isInteger(mtu) && mtu > 0 && mtu <= MAX_MTU)) throw new RangeError(`bridge radio: mtu must be an integer 1..${MAX_MTU}, got ${mtu}`)
    this.o = o
    this.timing = validateBridgeTiming(o.timing ?? {}, 'radio.bridge')
    // CONFIG is checked here, not at the radio: a bad value is the caller's error, not a session loss.
    encodeBridge({ ...this.configMessage(), id: 0 })
    this.maxMtu = this.mtuValue = mtu
    this.bitrateValue = o.bitrateHint ?? 1000
    const ttlMs = o.frameTtlMs ?? 30_000
    this.queue = new TxQueue({
      scheduler: o.scheduler, limit: o.queueLimit ?? 64, ttlMs,
      onExpired: (q) => {
        this.stats.expired++
        this.drop(q.bytes, ErrorCodes.EXPIRED, `not sent within ${ttlMs} ms (the radio was ${this.state})`)
      },
    })
    this.framing = cobsFraming(MAX_MESSAGE_SIZE)
    this.decoder = this.framing.decoder()
    o.link.on('state', (c) => this.onLinkState(c.state, c.reason))
    o.link.on('data', (chunk) => this.receive(chunk))
    o.link.on('error', (e) => this.emit('error', e))
    o.link.start()
  }

  get mtu(): number {
    return this.mtuValue
  }

  get bitrate(): number {
    return this.bitrateValue
  }

  get state(): RadioState {
    return this.closed ? 'down' : this.stateValue
  }

  /** Frames accepted and not yet handed to the radio. */
  get queued(): number {
    return this.queue.length
  }

  /** The last STATUS the radio sent (airtime, channel load, counters), if any. */
  status(): Status | undefined {
    return this.lastStatus
  }

  airtimeMs(bytes: number): number {
    return configAckAirtimeMs({ bitrate: this.bitrateValue, overheadUs: this.overheadUs }, bytes)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    if (this.downReason !== undefined) throw new SpinmeshError(ErrorCodes.CLOSED, `bridge radio is down: ${this.downReason}`)
    checkFrame(frame, this.mtuValue, this.closed)
    this.queue.submit(frame.slice(), opts?.urgent === true, (bytes, reason) => this.drop(bytes, ErrorCodes.QUEUE_FULL, reason), () => this.pump())
  }

  close(): Promise<void> {
    if (this.closing) return this.closing
    this.shutdown('radio closed')
    this.closing = this.o.link.close().then(() => void this.emit('state', { state: 'down', reason: 'closed' }))
    return this.closing
  }

  /** Closed or down: timers stopped, every frame accepted reported dropped ERR_CLOSED, the radio RESET. */
  private shutdown(why: string): void {
    this.closed = true
    this.stopTimers()
    this.queue.close()
    const unanswered = [...this.outstanding.values()]
    this.outstanding.clear()
    for (const q of unanswered) this.drop(q.bytes, ErrorCodes.CLOSED, `${why} before the radio answered the TX`)
    for (const q of this.queue.drain()) this.drop(q.bytes, ErrorCodes.CLOSED, `${why} before the frame was sent`)
    if (this.phase !== 'idle' && this.o.link.state === 'up') this.write({ type: M.RESET, hard: false })
    this.phase = 'idle'
  }

  /**
   * A refusal not to be retried (CONFIG-ERROR, no common version): `err` as an `error` event, then
   * down for good with `reason` (frames dropped, the port released).
   */
  private fail(err: SpinmeshError, reason: string): void {
    if (this.closed) return
    this.emit('error', err)
    if (this.closed) return // an error listener closed the radio
    this.downReason = reason
    this.shutdown(`radio down (${reason})`)
    this.setState('down', reason)
    this.closing = this.o.link.close()
  }

  // ---- session -------------------------------------------------------------------------------

  private onLinkState(state: RadioState, reason: string): void {
    if (this.closed) return
    if (state !== 'up') {
      this.endSession(reason)
      this.setState(state, reason)
      return
    }
    this.decoder = this.framing.decoder()
    this.stats.sessions++
    this.phase = 'hello'
    this.nonce = this.o.rng.int(0x1_0000_0000)
    this.lastHeard = this.o.scheduler.now()
    this.setState(this.stateValue === 'up' ? 'reconnecting' : this.stateValue, `${reason}; HELLO sent`)
    this.write({
      type: M.HELLO, minVersion: BRIDGE_VERSION, maxVersion: BRIDGE_VERSION, nonce: this.nonce,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs, heartbeatTimeoutMs: this.timing.heartbeatTimeoutMs, host: this.o.host ?? 'spinmesh',
    })
    this.awaitReply('HELLO-ACK')
  }

  private awaitReply(what: string): void {
    this.replyTimer?.cancel()
    this.replyTimer = this.o.scheduler.at(this.timing.replyTimeoutMs, () => this.lose(`no ${what} within ${this.timing.replyTimeoutMs} ms`))
  }

  /** Session loss: unanswered TX dropped, the link reopened (after its backoff), a new HELLO. */
  private lose(reason: string): void {
    if (this.closed || this.phase === 'idle') return
    this.endSession(reason)
    this.setState('reconnecting', reason)
    this.o.link.reconnect(reason)
  }

  private endSession(reason: string): void {
    this.stopTimers()
    this.phase = 'idle'
    this.probeId = undefined
    const lost = [...this.outstanding.values()]
    this.outstanding.clear()
    for (const q of lost) this.drop(q.bytes, ErrorCodes.IO, `no TX answer before the session ended (${reason})`)
  }

  private stopTimers(): void {
    for (const t of [this.replyTimer, this.heartbeatTimer, this.silenceTimer, this.txTimer]) t?.cancel()
    this.replyTimer = this.heartbeatTimer = this.silenceTimer = this.txTimer = undefined
  }

  private configMessage(): Config {
    const c = this.o.config
    return { preambleLength: 8, dutyCyclePermille: 1000, syncWord: new Uint8Array(0), ...c, type: M.CONFIG, id: this.configId }
  }

  private receive(chunk: Uint8Array): void {
    if (this.closed || this.phase === 'idle') return
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind !== 'frame') {
        this.stats.ignored++
        continue
      }
      let m: RadioMessage
      try {
        m = decodeRadioMessage(ev.payload)
      } catch {
        this.stats.ignored++
        continue
      }
      this.stats.messages++
      this.heard()
      this.handle(m)
      if ((this.phase as Phase) === 'idle' || this.closed) return
    }
  }

  /** Any valid message proves the radio alive: the silence deadline moves. */
  private heard(): void {
    this.lastHeard = this.o.scheduler.now()
    if (this.silenceTimer === undefined && this.phase !== 'hello') this.armSilence()
  }

  private armSilence(): void {
    const due = this.lastHeard + this.timing.heartbeatTimeoutMs - this.o.scheduler.now()
    this.silenceTimer = this.o.scheduler.at(Math.max(0, due), () => {
      this.silenceTimer = undefined
      const quiet = this.o.scheduler.now() - this.lastHeard
      if (quiet >= this.timing.heartbeatTimeoutMs) this.lose(`heartbeat silence: nothing from the radio for ${Math.round(quiet)} ms`)
      else this.armSilence()
    })
  }

  private handle(m: RadioMessage): void {
    switch (m.type) {
      case M.HELLO_ACK: {
        if (this.phase !== 'hello' || m.nonce !== this.nonce) return void this.stats.ignored++
        this.replyTimer?.cancel()
        if (m.version === 0) {
          const reason = `no common version (host ${BRIDGE_VERSION}..${BRIDGE_VERSION}, radio ${m.minVersion}..${m.maxVersion})`
          return this.fail(new SpinmeshError(ErrorCodes.UNSUPPORTED, `bridge radio: ${reason}`), reason)
        }
        this.firmware = { name: m.firmware, hardwareId: m.hardwareId, capabilities: m.capabilities, txQueue: m.txQueue }
        this.mtuValue = Math.min(this.maxMtu, m.mtu)
        this.txQueue = m.txQueue
        this.phase = 'config'
        this.configId = (this.configId + 1) & 0xffff
        this.write(this.configMessage())
        this.awaitReply('CONFIG-ACK')
        this.armSilence()
        return
      }
      case M.CONFIG_ACK: {
        if (this.phase !== 'config' || m.id !== this.configId) return void this.stats.ignored++
        this.replyTimer?.cancel()
        this.bitrateValue = m.bitrate
        this.overheadUs = m.overheadUs
        this.phase = 'ready'
        this.radioFaults = 0
        this.statusId = (this.statusId + 1) & 0xffff
        this.write({ type: M.STATUS_REQUEST, id: this.statusId, periodS: this.timing.statusPeriodS })
        this.heartbeatTimer = this.o.scheduler.at(this.timing.heartbeatIntervalMs, () => this.heartbeat())
        this.setState('up', `configured: ${this.firmware?.name ?? 'radio'}, mtu ${this.mtuValue}, ${m.bitrate} bit/s`)
        this.pump()
        return
      }
      case M.CONFIG_ERROR: {
        if (this.phase !== 'config' || m.id !== this.configId) return void this.stats.ignored++
        const fields = m.errors.map((e) => `radio.${CONFIG_FIELD_KEYS[e.field] || 'config'}: ${CONFIG_REASON_NAMES[e.reason] ?? `reason ${e.reason}`}`)
        const first = m.errors[0]
        const err = new ConfigError(`radio.${CONFIG_FIELD_KEYS[first.field] || 'config'}`, `refused by the radio: ${fields.join('; ')}`)
        return this.fail(err, `configuration refused by the radio: ${fields.join('; ')}`)
      }
      case M.TX_DONE: {
        const q = this.answered(m.id)
        if (q === undefined) return
        this.radioFaults = 0
        this.emit('sent', { bytes: q.bytes, at: this.o.scheduler.now(), airtimeMs: m.airtimeUs / 1000 })
        return this.pump()
      }
      case M.TX_ERROR: {
        const q = this.answered(m.id)
        if (q === undefined) return
        const name = TX_ERROR_NAMES[m.reason] ?? `reason ${m.reason}`
        this.drop(q.bytes, txErrorCode(m.reason), `TX-ERROR ${name}`)
        if (m.reason === TxErrorReason.NOT_CONFIGURED) return this.lose('the radio lost its session (TX-ERROR NOT_CONFIGURED)')
        if (m.reason === TxErrorReason.RADIO_FAULT && ++this.radioFaults >= MAX_RADIO_FAULTS) return this.lose(`${this.radioFaults} radio faults in a row`)
        if (m.reason !== TxErrorReason.RADIO_FAULT) this.radioFaults = 0
        return this.pump()
      }
      case M.RX: {
        if (this.phase !== 'ready') return void this.stats.ignored++
        this.emit('frame', { bytes: m.payload.slice(), at: this.o.scheduler.now(),
          ...(m.rssi !== undefined ? { rssi: m.rssi } : {}), ...(m.snr !== undefined ? { snr: m.snr } : {}) })
        return
      }
      case M.STATUS:
        this.lastStatus = m
        if (this.probeId === undefined || m.periodic || m.id !== this.probeId) return
        this.probeId = undefined
        this.replyTimer?.cancel()
        this.replyTimer = undefined
        if (m.queueDepth > 0) return this.lose(`transmitter stuck: TX deadline missed with ${m.queueDepth} TX still queued in the radio`)
        return this.pump() // the TX were lost on the serial line
      case M.RADIO_HEARTBEAT:
        this.write({ type: M.HEARTBEAT_ACK, seq: m.seq, clockUs: Math.floor(this.o.scheduler.now() * 1000) % 0x1_0000_0000 })
        return
      case M.RADIO_HEARTBEAT_ACK:
        return
      case M.ERROR: {
        this.stats.radioErrors++
        this.emit('error', new SpinmeshError(ErrorCodes.IO, `radio error ${m.code}${m.fatal ? ' (fatal)' : ''}${m.text ? `: ${m.text}` : ''}`))
        const lostSession = m.code === BridgeErrorCode.RESTARTED || (m.code === BridgeErrorCode.UNEXPECTED && this.phase === 'ready')
        if (m.fatal || (lostSession && this.phase !== 'hello')) this.lose(`radio error ${m.code}${m.text ? `: ${m.text}` : ''}`)
        return
      }
      default:
        this.stats.ignored++
    }
  }

  /** The outstanding TX answered now (undefined, counted, if unknown); the TX deadline restarts. */
  private answered(id: number): Queued | undefined {
    const q = this.outstanding.get(id)
    if (q === undefined) {
      this.stats.ignored++
      return undefined
    }
    this.outstanding.delete(id)
    this.armTxDeadline(true)
    return q
  }

  private heartbeat(): void {
    this.heartbeatTimer = undefined
    if (this.phase !== 'ready') return
    this.heartbeatSeq = (this.heartbeatSeq + 1) & 0xffff
    this.write({ type: M.HEARTBEAT, seq: this.heartbeatSeq })
    this.heartbeatTimer = this.o.scheduler.at(this.timing.heartbeatIntervalMs, () => this.heartbeat())
  }

  // ---- transmit ------------------------------------------------------------------------------

  /** Hand frames to the radio while the session is ready and it has room. */
  private pump(): void {
    if (this.closed || this.phase !== 'ready') return
    while (this.outstanding.size < this.txQueue && this.phase === 'ready' && this.probeId === undefined) {
      const q = this.queue.shift()
      if (q === undefined) break
      const id = this.nextTxId
      this.nextTxId = (this.nextTxId + 1) & 0xffff
      const wasIdle = this.outstanding.size === 0
      this.outstanding.set(id, q)
      const ok = this.write({ type: M.TX, id, urgent: q.urgent, payload: q.bytes }, (err) => {
        // Never written: it goes again after the reconnect (or expires), it was not on air.
        if (err && this.outstanding.delete(id)) this.queue.requeue(q)
      })
      if (!ok) {
        this.outstanding.delete(id)
        this.queue.requeue(q)
        return
      }
      if (wasIdle) this.armTxDeadline(false)
    }
  }

  /** The radio must answer the head of its queue within the TX-DONE deadline (bridge-defaults). */
  private armTxDeadline(restart: boolean): void {
    if (restart || this.outstanding.size === 0) {
      this.txTimer?.cancel()
      this.txTimer = undefined
    }
    if (this.outstanding.size === 0 || this.txTimer !== undefined) return
    const longest = Math.max(...[...this.outstanding.values()].map((q) => this.airtimeMs(q.bytes.length)))
    const ms = txDoneTimeoutMs(this.timing, longest, this.o.config.lbtMaxWaitMs ?? 0)
    this.txTimer = this.o.scheduler.at(ms, () => this.txDeadlineMissed(ms))
  }

  /**
   * No TX answer by the deadline (PROTOCOL.md §7): every unanswered TX dropped (they may have gone
   * on air: never resent), then a STATUS says whether they were lost on the serial line (the
   * radio's queue is empty) or the transmitter is stuck. No TX goes meanwhile.
   */
  private txDeadlineMissed(ms: number): void {
    this.txTimer = undefined
    this.stats.txTimeouts++
    const unanswered = [...this.outstanding.values()]
    this.outstanding.clear()
    for (const q of unanswered) this.drop(q.bytes, ErrorCodes.IO, `no TX answer within the TX deadline (${Math.round(ms)} ms)`)
    if (this.closed || this.phase !== 'ready') return // a dropped listener closed the radio
    this.statusId = (this.statusId + 1) & 0xffff
    this.probeId = this.statusId
    this.write({ type: M.STATUS_REQUEST, id: this.statusId, periodS: this.timing.statusPeriodS })
    this.replyTimer?.cancel()
    const wait = this.timing.replyTimeoutMs
    this.replyTimer = this.o.scheduler.at(wait, () => this.lose(`no STATUS within ${wait} ms after the TX deadline was missed`))
  }

  private write(m: HostMessage, done?: (err?: SpinmeshError) => void): boolean {
    return this.o.link.write(this.framing.encode(encodeBridge(m)), done)
  }

  private setState(state: RadioState, reason: string): void {
    if (state === this.stateValue && reason === this.lastReason) return
    this.stateValue = state
    this.lastReason = reason
    this.emit('state', { state, reason })
  }

  private drop(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    this.emit('dropped', { bytes, code, reason })
  }
}
