/**
 * KISS framing (Chepponis & Karn, "The KISS TNC: A simple Host-to-TNC communications protocol",
 * 1987) for KISS TNCs and RNode LoRa modems, plus RNode's configuration commands (FRAMING.md §2–3).
 *
 *     FEND ‖ escape(command byte ‖ payload) ‖ FEND          FEND 0xC0, FESC 0xDB, TFEND 0xDC, TFESC 0xDD
 *
 * escape() sends FEND as FESC TFEND and FESC as FESC TFESC. The command byte is port (high nibble)
 * and command (low nibble); 0x00 is data on port 0. RNode does not split the byte: its commands
 * (0x01 frequency … 0x90 error) are whole bytes, so `commandByte` is reported too.
 *
 * KISS has no checksum: the serial line to a TNC is trusted. The receiver therefore does not trust
 * a partial frame: after construction or reset() it discards everything up to the first FEND
 * (`unframed`). It is strict about escapes (`kiss-escape`) and `maxFrame` (`too-long`); both drop
 * the frame and resume at the next FEND. Back-to-back FENDs are idle fill.
 */
import { DecodeError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { validateKissFramerConfig, validateRnodeRadioConfig, type KissFramerConfigInput, type RnodeRadioConfig } from './framer-defaults.ts'
import { emptyFramerStats, type DataFrameEvent, type FrameErrorCode, type FrameEvent, type Framer, type FramerStats } from './framer-types.ts'

export const FEND = 0xc0
export const FESC = 0xdb
export const TFEND = 0xdc
export const TFESC = 0xdd

/** Standard KISS commands (low nibble of the command byte), and RETURN (the whole byte 0xFF: leave KISS mode). */
export const KISS_COMMAND = Object.freeze({ DATA: 0x0, TX_DELAY: 0x1, PERSISTENCE: 0x2, SLOT_TIME: 0x3, TX_TAIL: 0x4, FULL_DUPLEX: 0x5, SET_HARDWARE: 0x6, RETURN: 0xff })

export interface KissFrameEvent extends DataFrameEvent {
  /** The whole first byte. */
  commandByte: number
  /** High nibble of commandByte. */
  port: number
  /** Low nibble of commandByte. */
  command: number
}

/** The wire bytes of one KISS frame: FEND, escaped command byte and payload, FEND (a fresh array). */
export function kissEncode(commandByte: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(commandByte) || commandByte < 0 || commandByte > 0xff) throw new RangeError(`KISS command byte must be an integer 0–255, got ${commandByte}`)
  let specials = commandByte === FEND || commandByte === FESC ? 1 : 0
  for (let i = 0; i < payload.length; i++) if (payload[i] === FEND || payload[i] === FESC) specials++
  const out = new Uint8Array(payload.length + specials + 3)
  out[0] = FEND
  let o = escapeInto(out, 1, commandByte)
  for (let i = 0; i < payload.length; i++) o = escapeInto(out, o, payload[i])
  out[o] = FEND
  return out
}

function escapeInto(out: Uint8Array, o: number, b: number): number {
  if (b === FEND) {
    out[o] = FESC
    out[o + 1] = TFEND
    return o + 2
  }
  if (b === FESC) {
    out[o] = FESC
    out[o + 1] = TFESC
    return o + 2
  }
  out[o] = b
  return o + 1
}

export class KissFramer implements Framer<KissFrameEvent> {
  readonly maxFrame: number
  /** Port `encode` sends data frames to. */
  readonly port: number
  readonly stats: FramerStats = emptyFramerStats()
  /** Unescaped payload of the frame in progress (the command byte is kept apart). */
  private readonly buf: Uint8Array
  private len = 0
  private raw = 0
  private commandByte = -1
  private escape = false
  /** Before the first FEND: nothing can be trusted yet. */
  private hunting = true
  private discarding: FrameErrorCode | undefined

  constructor(config: KissFramerConfigInput = {}) {
    const c = validateKissFramerConfig(config)
    this.maxFrame = c.maxFrame
    this.port = c.port
    this.buf = new Uint8Array(this.maxFrame)
  }

  get buffered(): number {
    return this.len
  }

  push(chunk: Uint8Array): Array<FrameEvent<KissFrameEvent>> {
    const events: Array<FrameEvent<KissFrameEvent>> = []
    const buf = this.buf
    const cap = buf.length
    let { len, raw, commandByte, escape, hunting, discarding } = this
    const n = chunk.length
    this.stats.bytesIn += n
    for (let i = 0; i < n; i++) {
      let b = chunk[i]
      if (b === FEND) {
        if (raw > 0) {
          const code = hunting ? 'unframed' : discarding ?? (escape ? 'kiss-escape' : undefined)
          if (code !== undefined) this.error(events, code, raw)
          else {
            events.push({ kind: 'frame', commandByte, port: commandByte >>> 4, command: commandByte & 0x0f, payload: buf.slice(0, len) })
            this.stats.frames++
            this.stats.frameBytes += raw
          }
        }
        hunting = false
        len = 0
        raw = 0
        commandByte = -1
        escape = false
        discarding = undefined
        continue
      }
      raw++
      if (hunting || discarding !== undefined) continue
      if (escape) {
        escape = false
        if (b === TFEND) b = FEND
        else if (b === TFESC) b = FESC
        else {
          discarding = 'kiss-escape'
          continue
        }
      } else if (b === FESC) {
        escape = true
        continue
      }
      if (commandByte < 0) commandByte = b
      else if (len === cap) discarding = 'too-long'
      else {
        buf[len++] = b
        // Copy the run of plain bytes that follows, up to the buffer's end.
        let j = i + 1
        let end = j + (cap - len)
        if (end > n) end = n
        while (j < end) {
          const c = chunk[j]
          if (c === FEND || c === FESC) break
          buf[len++] = c
          j++
        }
        raw += j - (i + 1)
        i = j - 1
      }
    }
    this.len = len
    this.raw = raw
    this.commandByte = commandByte
    this.escape = escape
    this.hunting = hunting
    this.discarding = discarding
    return events
  }

  reset(): void {
    this.len = 0
    this.raw = 0
    this.commandByte = -1
    this.escape = false
    this.hunting = true
    this.discarding = undefined
  }

  /** A data frame (command 0) on this framer's port. */
  encode(payload: Uint8Array): Uint8Array {
    return this.encodeCommand(KISS_COMMAND.DATA, payload)
  }

  /** A frame with command `command` (0–15) on `port` (0–15), e.g. TX_DELAY with its 1-byte value. */
  encodeCommand(command: number, payload: Uint8Array, port = this.port): Uint8Array {
    if (!Number.isInteger(command) || command < 0 || command > 15) throw new RangeError(`KISS command must be an integer 0–15, got ${command}`)
    if (!Number.isInteger(port) || port < 0 || port > 15) throw new RangeError(`KISS port must be an integer 0–15, got ${port}`)
    return this.encodeRaw((port << 4) | command, payload)
  }

  /** A frame with any whole command byte (RNode commands, KISS RETURN 0xFF). */
  encodeRaw(commandByte: number, payload: Uint8Array): Uint8Array {
    if (payload.length > this.maxFrame) {
      throw new SpinmeshError(ErrorCodes.FRAME_TOO_LARGE, `payload of ${payload.length} bytes exceeds maxFrame (${this.maxFrame})`)
    }
    return kissEncode(commandByte, payload)
  }

  private error(events: Array<FrameEvent<KissFrameEvent>>, code: FrameErrorCode, skipped: number): void {
    events.push({ kind: 'error', code, skipped })
    this.stats.errors[code]++
    this.stats.bytesDiscarded += skipped
  }
}

// ---------------------------------------------------------------------------------------------
// RNode (markqvist/RNode_Firmware Framing.h; Reticulum RNS/Interfaces/RNodeInterface.py). Whole
// command bytes, multi-byte values big-endian. FRAMING.md §3 lists each with its source.

export const RNODE_CMD = Object.freeze({
  DATA: 0x00,
  FREQUENCY: 0x01,
  BANDWIDTH: 0x02,
  TX_POWER: 0x03,
  SPREADING_FACTOR: 0x04,
  CODING_RATE: 0x05,
  RADIO_STATE: 0x06,
  RADIO_LOCK: 0x07,
  DETECT: 0x08,
  READY: 0x0f,
  STAT_RX: 0x21,
  STAT_TX: 0x22,
  STAT_RSSI: 0x23,
  STAT_SNR: 0x24,
  FW_VERSION: 0x50,
  ERROR: 0x90,
})

export const RNODE_DETECT_REQ = 0x73
export const RNODE_DETECT_RESP = 0x46
export const RNODE_RADIO_STATE_OFF = 0x00
export const RNODE_RADIO_STATE_ON = 0x01
/** Sent as the value of a 1-byte setting, asks the RNode to report it (frequency/bandwidth: 0). */
export const RNODE_QUERY = 0xff
/** Reported RSSI byte minus this is dBm (RNodeInterface.RSSI_OFFSET). */
export const RNODE_RSSI_OFFSET = 157

const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)

/**
 * The frames that configure an RNode and switch its radio on, in Reticulum's order: frequency,
 * bandwidth, TX power, spreading factor, coding rate, radio state ON. The RNode answers each with
 * the value it applied (clamped to what its modem supports): compare with `rnodeConfigMismatches`.
 * Throws ConfigError (path `rnode.field`) for out-of-range values.
 */
export function rnodeConfigFrames(config: RnodeRadioConfig): Uint8Array[] {
  const c = validateRnodeRadioConfig(config)
  return [
    kissEncode(RNODE_CMD.FREQUENCY, u32(c.frequencyHz)),
    kissEncode(RNODE_CMD.BANDWIDTH, u32(c.bandwidthHz)),
    kissEncode(RNODE_CMD.TX_POWER, Uint8Array.of(c.txPowerDbm)),
    kissEncode(RNODE_CMD.SPREADING_FACTOR, Uint8Array.of(c.spreadingFactor)),
    kissEncode(RNODE_CMD.CODING_RATE, Uint8Array.of(c.codingRate)),
    kissEncode(RNODE_CMD.RADIO_STATE, Uint8Array.of(RNODE_RADIO_STATE_ON)),
  ]
}

/** Asks an RNode to identify itself: it answers DETECT with RNODE_DETECT_RESP. */
export function rnodeDetectFrame(): Uint8Array {
  return kissEncode(RNODE_CMD.DETECT, Uint8Array.of(RNODE_DETECT_REQ))
}

/** Asks an RNode to report its current settings without changing them. */
export function rnodeQueryFrames(): Uint8Array[] {
  return [
    kissEncode(RNODE_CMD.FREQUENCY, u32(0)),
    kissEncode(RNODE_CMD.BANDWIDTH, u32(0)),
    kissEncode(RNODE_CMD.TX_POWER, Uint8Array.of(RNODE_QUERY)),
    kissEncode(RNODE_CMD.SPREADING_FACTOR, Uint8Array.of(RNODE_QUERY)),
    kissEncode(RNODE_CMD.CODING_RATE, Uint8Array.of(RNODE_QUERY)),
    kissEncode(RNODE_CMD.RADIO_STATE, Uint8Array.of(RNODE_QUERY)),
  ]
}

export type RnodeReply =
  | { kind: 'data'; payload: Uint8Array }
  | { kind: 'frequency'; hz: number }
  | { kind: 'bandwidth'; hz: number }
  | { kind: 'txPower'; dbm: number }
  | { kind: 'spreadingFactor'; value: number }
  | { kind: 'codingRate'; value: number }
  | { kind: 'radioState'; on: boolean }
  | { kind: 'detect' }
  | { kind: 'ready'; ready: boolean }
  | { kind: 'statRx'; packets: number }
  | { kind: 'statTx'; packets: number }
  | { kind: 'rssi'; dbm: number }
  | { kind: 'snr'; db: number }
  | { kind: 'error'; code: number }
  | { kind: 'other'; commandByte: number; payload: Uint8Array }

function exact(payload: Uint8Array, n: number, what: string): Uint8Array {
  if (payload.length !== n) throw new DecodeError(`RNode ${what} reply must carry ${n} byte(s), got ${payload.length}`, Math.min(payload.length, n))
  return payload
}

const be32 = (p: Uint8Array) => p[0] * 0x1000000 + ((p[1] << 16) | (p[2] << 8) | p[3])
const int8 = (b: number) => (b << 24) >> 24

/**
 * Decode a frame received from an RNode (a KissFrameEvent's commandByte and payload). Total: a
 * reply, or a DecodeError when a known command carries the wrong length or an impossible value.
 * Commands this module does not interpret come back as `other`.
 */
export function decodeRnodeReply(commandByte: number, payload: Uint8Array): RnodeReply {
  switch (commandByte) {
    case RNODE_CMD.DATA: return { kind: 'data', payload }
    case RNODE_CMD.FREQUENCY: return { kind: 'frequency', hz: be32(exact(payload, 4, 'frequency')) }
    case RNODE_CMD.BANDWIDTH: return { kind: 'bandwidth', hz: be32(exact(payload, 4, 'bandwidth')) }
    case RNODE_CMD.TX_POWER: return { kind: 'txPower', dbm: int8(exact(payload, 1, 'TX power')[0]) }
    case RNODE_CMD.SPREADING_FACTOR: return { kind: 'spreadingFactor', value: exact(payload, 1, 'spreading factor')[0] }
    case RNODE_CMD.CODING_RATE: return { kind: 'codingRate', value: exact(payload, 1, 'coding rate')[0] }
    case RNODE_CMD.RADIO_STATE: {
      const s = exact(payload, 1, 'radio state')[0]
      if (s !== RNODE_RADIO_STATE_OFF && s !== RNODE_RADIO_STATE_ON) throw new DecodeError(`RNode radio state must be 0 or 1, got ${s}`, 0)
      return { kind: 'radioState', on: s === RNODE_RADIO_STATE_ON }
    }
    case RNODE_CMD.DETECT: {
      const d = exact(payload, 1, 'detect')[0]
      if (d !== RNODE_DETECT_RESP) throw new DecodeError(`RNode detect reply must be 0x46, got 0x${d.toString(16)}`, 0)
      return { kind: 'detect' }
    }
    case RNODE_CMD.READY: {
      const r = exact(payload, 1, 'ready')[0]
      if (r > 1) throw new DecodeError(`RNode ready flag must be 0 or 1, got ${r}`, 0)
      return { kind: 'ready', ready: r === 1 }
    }
    case RNODE_CMD.STAT_RX: return { kind: 'statRx', packets: be32(exact(payload, 4, 'RX count')) }
    case RNODE_CMD.STAT_TX: return { kind: 'statTx', packets: be32(exact(payload, 4, 'TX count')) }
    case RNODE_CMD.STAT_RSSI: return { kind: 'rssi', dbm: exact(payload, 1, 'RSSI')[0] - RNODE_RSSI_OFFSET }
    case RNODE_CMD.STAT_SNR: return { kind: 'snr', db: int8(exact(payload, 1, 'SNR')[0]) * 0.25 }
    case RNODE_CMD.ERROR: return { kind: 'error', code: exact(payload, 1, 'error')[0] }
    default: return { kind: 'other', commandByte, payload }
  }
}

/** What the RNode reported so far (fold replies in with `applyRnodeReply`). */
export type RnodeReported = Partial<RnodeRadioConfig> & { radioOn?: boolean }

/** Fold one reply into `reported` (returned, mutated); replies other than settings are ignored. */
export function applyRnodeReply(reported: RnodeReported, reply: RnodeReply): RnodeReported {
  switch (reply.kind) {
    case 'frequency': reported.frequencyHz = reply.hz; break
    case 'bandwidth': reported.bandwidthHz = reply.hz; break
    case 'txPower': reported.txPowerDbm = reply.dbm; break
    case 'spreadingFactor': reported.spreadingFactor = reply.value; break
    case 'codingRate': reported.codingRate = reply.value; break
    case 'radioState': reported.radioOn = reply.on; break
  }
  return reported
}

/** The fields whose reported value differs from (or is still missing for) what was asked, e.g. `['txPowerDbm']`. */
export function rnodeConfigMismatches(wanted: RnodeRadioConfig, reported: RnodeReported): Array<keyof RnodeRadioConfig> {
  const fields: Array<keyof RnodeRadioConfig> = ['frequencyHz', 'bandwidthHz', 'txPowerDbm', 'spreadingFactor', 'codingRate']
  return fields.filter((f) => reported[f] !== wanted[f])
}
