/**
 * Bridge protocol messages (firmware-bridge/PROTOCOL.md): what a spinmesh host and custom radio
 * firmware say to each other, one message per COBS+CRC-32 frame. Big-endian; byte 0 the type
 * (bit 6 set = sent by the radio), byte 1 flags (reserved bits zero); layouts are those of the
 * version chosen by HELLO / HELLO-ACK, whose own layout never changes.
 *
 *   host → radio                              radio → host
 *   0x01 HELLO          13 + name + TLVs      0x41 HELLO-ACK     22 + names + TLVs
 *   0x02 CONFIG         20 + sync + TLVs      0x42 CONFIG-ACK    16    0x52 CONFIG-ERROR  5 + 2·n
 *   0x03 TX             4 + payload           0x43 TX-DONE       12    0x53 TX-ERROR      5
 *   0x04 STATUS-REQUEST 6                     0x44 STATUS        33 + TLVs
 *   0x05 RESET          2                     0x48 RX            9 (11 with F) + payload
 *   0x06 HEARTBEAT      4                     0x46 HEARTBEAT     4
 *   0x07 HEARTBEAT-ACK  8                     0x47 HEARTBEAT-ACK 8   0x5F ERROR 6 + text
 *
 * One table (`SPECS`) describes every layout; the encoder and the decoder both walk it, so they
 * cannot disagree, and both apply the same range and cross-field checks. Encoders throw
 * RangeError/TypeError naming `MESSAGE.field`; decoders are total (a message or a DecodeError),
 * reject unknown types, reserved flag bits, out-of-range fields, unknown *critical* TLVs (type bit 7
 * set), truncation and trailing bytes, and skip unknown *optional* TLVs (returned in `extensions`).
 * Payloads, sync words and extension values are views into the input.
 */
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { DecodeError } from '../core/errors.ts'

/** The bridge protocol version this code speaks (the only one so far). */
export const BRIDGE_VERSION = 1

export const BridgeMsgType = {
  HELLO: 0x01, CONFIG: 0x02, TX: 0x03, STATUS_REQUEST: 0x04, RESET: 0x05, HEARTBEAT: 0x06, HEARTBEAT_ACK: 0x07,
  HELLO_ACK: 0x41, CONFIG_ACK: 0x42, TX_DONE: 0x43, STATUS: 0x44, RADIO_HEARTBEAT: 0x46, RADIO_HEARTBEAT_ACK: 0x47, RX: 0x48,
  CONFIG_ERROR: 0x52, TX_ERROR: 0x53, ERROR: 0x5f,
} as const

/** Type bit 6: the message is sent by the radio. */
export const FROM_RADIO = 0x40

export const RadioKind = { LORA: 1, FSK: 2, OOK: 3, IEEE_802_15_4: 4 } as const

/** HELLO-ACK `capabilities` bits; a host ignores bits it does not know. */
export const Capability = {
  RSSI: 1 << 0, SNR: 1 << 1, FREQ_ERROR: 1 << 2, CARRIER_SENSE: 1 << 3, DUTY_CYCLE: 1 << 4,
  BATTERY: 1 << 5, TEMPERATURE: 1 << 6, PERIODIC_STATUS: 1 << 7, HARD_RESET: 1 << 8, NOISE_FLOOR: 1 << 9,
} as const

/** CONFIG-ERROR field ids: fixed CONFIG fields 1–8, CONFIG TLVs by their type (≥ 0x10), 0 the message as a whole. */
export const ConfigField = {
  MESSAGE: 0, FREQUENCY: 1, BANDWIDTH: 2, SPREADING_FACTOR: 3, CODING_RATE: 4, TX_POWER: 5, SYNC_WORD: 6, PREAMBLE: 7, DUTY_CYCLE: 8,
  FSK_BITRATE: 0x10, FSK_DEVIATION: 0x11, DUTY_CYCLE_WINDOW: 0x12, LBT: 0x90,
} as const

/** The Config property a CONFIG-ERROR field id names (for a ConfigError path such as `radio.frequencyHz`). */
export const CONFIG_FIELD_KEYS: Readonly<Record<number, string>> = Object.freeze({
  0: '', 1: 'frequencyHz', 2: 'bandwidthHz', 3: 'spreadingFactor', 4: 'codingRate', 5: 'txPowerDbm', 6: 'syncWord',
  7: 'preambleLength', 8: 'dutyCyclePermille', 0x10: 'fskBitrate', 0x11: 'fskDeviationHz', 0x12: 'dutyCycleWindowS', 0x90: 'lbt',
})

export const ConfigErrorReason = { OUT_OF_RANGE: 1, NOT_SUPPORTED: 2, NOT_ALLOWED: 3, UNKNOWN: 4, CONFLICT: 5, HARDWARE: 6 } as const
export const TxErrorReason = { BUSY: 1, DUTY_CYCLE: 2, TOO_LONG: 3, RADIO_FAULT: 4, CHANNEL_BUSY_TIMEOUT: 5, NOT_CONFIGURED: 6, ABORTED: 7 } as const
/** ERROR codes 1–0x7FFF are the protocol's (a host accepts ones it does not know); 0x8000–0xFFFF are the firmware vendor's. */
export const BridgeErrorCode = { RESTARTED: 1, BAD_FRAME: 2, BAD_MESSAGE: 3, UNEXPECTED: 4, OVERFLOW: 5, RADIO_FAULT: 6, LOW_BATTERY: 7, INTERNAL: 8 } as const

/** Largest radio payload the protocol carries (HELLO-ACK `mtu` ≤ this). */
export const MAX_MTU = 2048
/** Largest message either side may send (an RX of MAX_MTU with its frequency error is 2059). */
export const MAX_MESSAGE_SIZE = MAX_MTU + 16
/** Largest HELLO or CONFIG: with `4 + mtu` this sizes a firmware's receive buffer. */
export const HOST_CONTROL_MAX_SIZE = 256
export const MAX_NAME_BYTES = 32
export const MAX_SYNC_WORD = 8
export const MAX_ERROR_TEXT = 128
export const MAX_CONFIG_ERRORS = 16

export const HELLO_BASE_SIZE = 13
export const HELLO_ACK_BASE_SIZE = 22
export const CONFIG_BASE_SIZE = 20
export const CONFIG_ACK_SIZE = 16
export const CONFIG_ERROR_BASE_SIZE = 5
export const TX_HEADER_SIZE = 4
export const TX_DONE_SIZE = 12
export const TX_ERROR_SIZE = 5
/** RX before its payload; + 2 with a frequency error (flag F). */
export const RX_HEADER_SIZE = 9
export const STATUS_REQUEST_SIZE = 6
export const STATUS_BASE_SIZE = 33
export const RESET_SIZE = 2
export const HEARTBEAT_SIZE = 4
export const HEARTBEAT_ACK_SIZE = 8
export const ERROR_BASE_SIZE = 6

/** A TLV (type u8, length u8, value): types 0x01–0x7F optional (skipped when unknown), 0x80–0xFF critical. */
export interface Tlv { type: number; value: Uint8Array }
/** Unknown optional TLVs: kept by the decoder, written after the known ones by the encoder. */
interface Extensible { extensions?: Tlv[] }

type T = typeof BridgeMsgType

export interface Hello extends Extensible {
  type: T['HELLO']; minVersion: number; maxVersion: number; nonce: number
  heartbeatIntervalMs: number; heartbeatTimeoutMs: number; host: string
}
export interface HelloAck extends Extensible {
  type: T['HELLO_ACK']
  /** Chosen version, or 0: no version in common (the session does not start). */
  version: number; minVersion: number; maxVersion: number; nonce: number
  kind: number; capabilities: number; mtu: number; txQueue: number
  firmwareMajor: number; firmwareMinor: number; firmwarePatch: number; firmware: string; hardwareId: string
  bandMinHz?: number; bandMaxHz?: number; txPowerMinDbm?: number; txPowerMaxDbm?: number
}
/** `spreadingFactor` LoRa 5–12, `codingRate` LoRa 5–8 (4/5 … 4/8); both 0 for other kinds. */
export interface Config extends Extensible {
  type: T['CONFIG']; id: number; frequencyHz: number; bandwidthHz: number; spreadingFactor: number; codingRate: number
  txPowerDbm: number; preambleLength: number; dutyCyclePermille: number; syncWord: Uint8Array
  fskBitrate?: number; fskDeviationHz?: number; dutyCycleWindowS?: number; lbtThresholdDbm?: number; lbtMaxWaitMs?: number
}
export interface ConfigAck { type: T['CONFIG_ACK']; id: number; bitrate: number; overheadUs: number; frequencyHz: number }
export interface ConfigFieldError { field: number; reason: number }
export interface ConfigErrorMessage { type: T['CONFIG_ERROR']; id: number; errors: ConfigFieldError[] }
export interface Tx { type: T['TX']; id: number; urgent: boolean; payload: Uint8Array }
export interface TxDone { type: T['TX_DONE']; id: number; airtimeUs: number; timestampUs: number }
export interface TxError { type: T['TX_ERROR']; id: number; reason: number }
/**
 * `rssi` dBm in 0.1 dB steps and `snr` dB in 0.25 dB steps, absent when the radio cannot tell;
 * `timestampUs` the end of reception on the radio's free-running µs clock (wraps at 2^32);
 * `frequencyErrorHz` in 10 Hz steps (flag F).
 */
export interface Rx { type: T['RX']; rssi?: number; snr?: number; timestampUs: number; frequencyErrorHz?: number; payload: Uint8Array }
export interface StatusRequest { type: T['STATUS_REQUEST']; id: number; periodS: number }
export interface Status extends Extensible {
  type: T['STATUS']; periodic: boolean; id: number; uptimeS: number; windowS: number; channelLoadPermille: number
  txAirtimeMs: number; queueDepth: number; rxOk: number; rxCrcErrors: number; txOk: number; txErrors: number
  batteryMv?: number; temperatureC?: number; noiseFloorDbm?: number
}
export interface Reset { type: T['RESET']; hard: boolean }
export interface Heartbeat { type: T['HEARTBEAT'] | T['RADIO_HEARTBEAT']; seq: number }
export interface HeartbeatAck { type: T['HEARTBEAT_ACK'] | T['RADIO_HEARTBEAT_ACK']; seq: number; clockUs: number }
export interface BridgeErrorMessage { type: T['ERROR']; fatal: boolean; code: number; ref: number; text: string }

export type HostMessage = Hello | Config | Tx | StatusRequest | Reset | Heartbeat | HeartbeatAck
export type RadioMessage = HelloAck | ConfigAck | ConfigErrorMessage | TxDone | TxError | Rx | Status | Heartbeat | HeartbeatAck | BridgeErrorMessage
export type BridgeMessage = HostMessage | RadioMessage

// ---- the layout table -------------------------------------------------------------------------

type Kind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32'
const KIND: Record<Kind, { size: number; min: number; max: number }> = {
  u8: { size: 1, min: 0, max: 0xff }, i8: { size: 1, min: -0x80, max: 0x7f },
  u16: { size: 2, min: 0, max: 0xffff }, i16: { size: 2, min: -0x8000, max: 0x7fff }, u32: { size: 4, min: 0, max: 0xffffffff },
}

/**
 * One fixed field: raw bounds `min`/`max` inclusive (default the kind's); value = raw / `div` or
 * raw × `mul`; the raw value `none` means absent (the key is left out); with `flag`, present only
 * when that flag bit is set.
 */
interface Field { key: string; kind: Kind; min?: number; max?: number; div?: number; mul?: number; none?: number; flag?: number }
interface TlvSpec { type: number; fields: Field[] }
interface Spec {
  name: string
  flags?: Record<string, number>
  fields: Field[]
  /** Length-prefixed (u8) strings (`text`) or byte strings after the fixed fields. */
  blobs?: Array<{ key: string; max: number; text: boolean }>
  /** The message ends with a TLV area (maybe empty). */
  tlvs?: TlvSpec[]
  /** Or ends with: the payload (the rest of the message), or the CONFIG-ERROR entries. */
  tail?: 'payload' | 'entries'
  maxSize?: number
  /** Rules between fields, checked by encoder and decoder alike: a problem, or undefined. */
  check?: (m: Record<string, any>) => string | undefined
}

const f = (key: string, kind: Kind, more: Omit<Field, 'key' | 'kind'> = {}): Field => ({ key, kind, ...more })
const id = f('id', 'u16')
const name = (key: string) => ({ key, max: MAX_NAME_BYTES, text: true })
const versions = (m: Record<string, any>) => (m.minVersion > m.maxVersion ? `minVersion ${m.minVersion} > maxVersion ${m.maxVersion}` : undefined)
const heartbeat = (name: string): Spec => ({ name, fields: [f('seq', 'u16')] })
const heartbeatAck = (name: string): Spec => ({ name, fields: [f('seq', 'u16'), f('clockUs', 'u32')] })

const SPECS = new Map<number, Spec>([
  [BridgeMsgType.HELLO, {
    name: 'HELLO', maxSize: HOST_CONTROL_MAX_SIZE,
    fields: [f('minVersion', 'u8', { min: 1 }), f('maxVersion', 'u8', { min: 1 }), f('nonce', 'u32'),
      f('heartbeatIntervalMs', 'u16', { min: 1 }), f('heartbeatTimeoutMs', 'u16', { min: 2 })],
    blobs: [name('host')], tlvs: [],
    check: (m) => versions(m) ?? (m.heartbeatTimeoutMs <= m.heartbeatIntervalMs
      ? `heartbeatTimeoutMs ${m.heartbeatTimeoutMs} must exceed heartbeatIntervalMs ${m.heartbeatIntervalMs}` : undefined),
  }],
  [BridgeMsgType.HELLO_ACK, {
    name: 'HELLO-ACK',
    fields: [f('version', 'u8'), f('minVersion', 'u8', { min: 1 }), f('maxVersion', 'u8', { min: 1 }), f('nonce', 'u32'),
      f('kind', 'u8', { min: 1 }), f('capabilities', 'u32'), f('mtu', 'u16', { min: 1, max: MAX_MTU }), f('txQueue', 'u8', { min: 1 }),
      f('firmwareMajor', 'u8'), f('firmwareMinor', 'u8'), f('firmwarePatch', 'u8')],
    blobs: [name('firmware'), name('hardwareId')],
    tlvs: [{ type: 0x01, fields: [f('bandMinHz', 'u32', { min: 1 }), f('bandMaxHz', 'u32', { min: 1 })] },
      { type: 0x02, fields: [f('txPowerMinDbm', 'i8'), f('txPowerMaxDbm', 'i8')] }],
    check: (m) => versions(m)
      ?? (m.version !== 0 && (m.version < m.minVersion || m.version > m.maxVersion) ? `version ${m.version} is outside ${m.minVersion}..${m.maxVersion}` : undefined)
      ?? (m.bandMinHz > m.bandMaxHz ? `bandMinHz ${m.bandMinHz} > bandMaxHz ${m.bandMaxHz}` : undefined)
      ?? (m.txPowerMinDbm > m.txPowerMaxDbm ? `txPowerMinDbm ${m.txPowerMinDbm} > txPowerMaxDbm ${m.txPowerMaxDbm}` : undefined),
  }],
  [BridgeMsgType.CONFIG, {
    name: 'CONFIG', maxSize: HOST_CONTROL_MAX_SIZE,
    fields: [id, f('frequencyHz', 'u32', { min: 1 }), f('bandwidthHz', 'u32', { min: 1 }), f('spreadingFactor', 'u8', { max: 12 }),
      f('codingRate', 'u8', { max: 8 }), f('txPowerDbm', 'i8'), f('preambleLength', 'u16'), f('dutyCyclePermille', 'u16', { min: 1, max: 1000 })],
    blobs: [{ key: 'syncWord', max: MAX_SYNC_WORD, text: false }],
    tlvs: [{ type: ConfigField.FSK_BITRATE, fields: [f('fskBitrate', 'u32', { min: 1 })] },
      { type: ConfigField.FSK_DEVIATION, fields: [f('fskDeviationHz', 'u32', { min: 1 })] },
      { type: ConfigField.DUTY_CYCLE_WINDOW, fields: [f('dutyCycleWindowS', 'u16', { min: 1 })] },
      { type: ConfigField.LBT, fields: [f('lbtThresholdDbm', 'i8'), f('lbtMaxWaitMs', 'u16', { min: 1 })] }],
    check: (m) => {
      if (m.spreadingFactor !== 0 && m.spreadingFactor < 5) return `spreadingFactor must be 0 or 5..12, got ${m.spreadingFactor}`
      if (m.codingRate !== 0 && m.codingRate < 5) return `codingRate must be 0 or 5..8 (4/5..4/8), got ${m.codingRate}`
      if ((m.spreadingFactor === 0) !== (m.codingRate === 0)) return 'spreadingFactor and codingRate are both 0 (not LoRa) or both set (LoRa)'
      if (m.spreadingFactor !== 0 && (m.fskBitrate !== undefined || m.fskDeviationHz !== undefined)) return 'a LoRa CONFIG (spreadingFactor set) carries no FSK fields'
      return undefined
    },
  }],
  [BridgeMsgType.CONFIG_ACK, {
    name: 'CONFIG-ACK', fields: [id, f('bitrate', 'u32', { min: 1 }), f('overheadUs', 'u32'), f('frequencyHz', 'u32', { min: 1 })],
  }],
  [BridgeMsgType.CONFIG_ERROR, { name: 'CONFIG-ERROR', fields: [id], tail: 'entries' }],
  [BridgeMsgType.TX, { name: 'TX', flags: { urgent: 0x80 }, fields: [id], tail: 'payload' }],
  [BridgeMsgType.TX_DONE, { name: 'TX-DONE', fields: [id, f('airtimeUs', 'u32'), f('timestampUs', 'u32')] }],
  [BridgeMsgType.TX_ERROR, { name: 'TX-ERROR', fields: [id, f('reason', 'u8', { min: 1, max: 7 })] }],
  [BridgeMsgType.RX, {
    name: 'RX', tail: 'payload',
    fields: [f('rssi', 'i16', { div: 10, none: -0x8000 }), f('snr', 'i8', { div: 4, none: -0x80 }), f('timestampUs', 'u32'),
      f('frequencyErrorHz', 'i16', { mul: 10, flag: 0x80 })],
  }],
  [BridgeMsgType.STATUS_REQUEST, { name: 'STATUS-REQUEST', fields: [id, f('periodS', 'u16')] }],
  [BridgeMsgType.STATUS, {
    name: 'STATUS', flags: { periodic: 0x80 },
    fields: [id, f('uptimeS', 'u32'), f('windowS', 'u16', { min: 1 }), f('channelLoadPermille', 'u16', { max: 1000 }), f('txAirtimeMs', 'u32'),
      f('queueDepth', 'u8'), f('rxOk', 'u32'), f('rxCrcErrors', 'u32'), f('txOk', 'u32'), f('txErrors', 'u32')],
    tlvs: [{ type: 0x01, fields: [f('batteryMv', 'u16')] }, { type: 0x02, fields: [f('temperatureC', 'i16', { div: 10 })] },
      { type: 0x03, fields: [f('noiseFloorDbm', 'i16', { div: 10 })] }],
    check: (m) => (m.txAirtimeMs > m.windowS * 1000 ? `txAirtimeMs ${m.txAirtimeMs} exceeds the ${m.windowS} s window` : undefined),
  }],
  [BridgeMsgType.RESET, { name: 'RESET', flags: { hard: 0x80 }, fields: [] }],
  [BridgeMsgType.HEARTBEAT, heartbeat('HEARTBEAT')],
  [BridgeMsgType.RADIO_HEARTBEAT, heartbeat('HEARTBEAT')],
  [BridgeMsgType.HEARTBEAT_ACK, heartbeatAck('HEARTBEAT-ACK')],
  [BridgeMsgType.RADIO_HEARTBEAT_ACK, heartbeatAck('HEARTBEAT-ACK')],
  [BridgeMsgType.ERROR, {
    name: 'ERROR', flags: { fatal: 0x80 }, fields: [f('code', 'u16', { min: 1 }), f('ref', 'u8')],
    blobs: [{ key: 'text', max: MAX_ERROR_TEXT, text: true }],
  }],
])

/** The name of a message type for logs (`TX-DONE`), or `0x..` when unknown. */
export function bridgeMsgName(type: number): string {
  return SPECS.get(type)?.name ?? `0x${hex2(type)}`
}

export function isFromRadio(type: number): boolean {
  return (type & FROM_RADIO) !== 0
}

/** The version a radio chooses: the highest both ranges contain, 0 if none. */
export function chooseVersion(hostMin: number, hostMax: number, radioMin: number, radioMax: number): number {
  const v = Math.min(hostMax, radioMax)
  return v >= Math.max(hostMin, radioMin) ? v : 0
}

/** The host's airtime estimate under a CONFIG-ACK: overhead + bytes·8/bitrate, ms (TX-DONE reports the real one). */
export function configAckAirtimeMs(ack: Pick<ConfigAck, 'bitrate' | 'overheadUs'>, bytes: number): number {
  return ack.overheadUs / 1000 + (bytes * 8000) / ack.bitrate
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0')
}

// ---- encoding ---------------------------------------------------------------------------------

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
// Printable text only: these strings end up in logs.
const CONTROL = /[\u0000-\u001f\u007f]/

function fieldRange(f: Field): [number, number] {
  const k = KIND[f.kind]
  let lo = f.min ?? k.min
  if (f.none === lo) lo++
  return [lo, f.max ?? k.max]
}

function describeRange(f: Field): string {
  const [lo, hi] = fieldRange(f)
  if (f.div) return `a number in [${lo / f.div}, ${hi / f.div}] (steps of ${1 / f.div})`
  if (f.mul) return `a number in [${lo * f.mul}, ${hi * f.mul}] (steps of ${f.mul})`
  return `an integer in [${lo}, ${hi}]`
}

function toRaw(msg: string, f: Field, v: unknown): number {
  const where = `${msg}.${f.key}`
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${where} must be ${describeRange(f)}, got ${String(v)}`)
  const raw = f.div ? Math.round(v * f.div) : f.mul ? Math.round(v / f.mul) : v
  const [lo, hi] = fieldRange(f)
  if (!Number.isInteger(raw) || raw < lo || raw > hi) throw new RangeError(`${where} must be ${describeRange(f)}, got ${v}`)
  return raw === 0 ? 0 : raw
}

function writeRaw(w: ByteWriter, kind: Kind, raw: number): void {
  const size = KIND[kind].size
  if (size === 1) w.u8(raw)
  else if (size === 2) w.u16(raw)
  else w.u32(raw)
}

function textBytes(where: string, v: unknown, max: number): Uint8Array {
  if (typeof v !== 'string') throw new TypeError(`${where} must be a string, got ${typeof v}`)
  const b = utf8.encode(v)
  if (b.length > max) throw new RangeError(`${where} must be at most ${max} UTF-8 bytes, got ${b.length}`)
  if (CONTROL.test(v)) throw new RangeError(`${where} must not contain control characters`)
  if (strictUtf8.decode(b) !== v) throw new RangeError(`${where} is not well-formed Unicode (lone surrogate)`)
  return b
}

function byteString(where: string, v: unknown, max: number, min = 0): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${where} must be a Uint8Array`)
  if (v.length < min || v.length > max) throw new RangeError(`${where} must be ${min}..${max} bytes, got ${v.length}`)
  return v
}

/** Encode any bridge message; throws RangeError/TypeError naming the bad field (`CONFIG.spreadingFactor …`). */
export function encodeBridge(m: BridgeMessage): Uint8Array {
  const spec = SPECS.get((m as { type?: number })?.type as number)
  if (!spec) throw new RangeError(`unknown bridge message type ${String((m as { type?: unknown })?.type)}`)
  const o = m as unknown as Record<string, unknown>
  const n = spec.name
  let flags = 0
  for (const [key, bit] of Object.entries(spec.flags ?? {})) {
    const v = o[key]
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${n}.${key} must be a boolean, got ${typeof v}`)
    if (v) flags |= bit
  }
  const parts: Array<(w: ByteWriter) => void> = []
  let size = 2
  for (const fd of spec.fields) {
    const v = o[fd.key]
    if (v === undefined && fd.flag !== undefined) continue
    if (v === undefined && fd.none === undefined) throw new RangeError(`${n}.${fd.key} is required`)
    const raw = v === undefined ? fd.none! : toRaw(n, fd, v)
    if (fd.flag !== undefined) flags |= fd.flag
    parts.push((w) => writeRaw(w, fd.kind, raw))
    size += KIND[fd.kind].size
  }
  for (const b of spec.blobs ?? []) {
    const where = `${n}.${b.key}`
    const bytes = b.text ? textBytes(where, o[b.key], b.max) : byteString(where, o[b.key], b.max)
    parts.push((w) => w.u8(bytes.length).raw(bytes))
    size += 1 + bytes.length
  }
  if (spec.tlvs) size += encodeTlvs(spec, o, parts)
  else if (o.extensions !== undefined) throw new RangeError(`${n} has no TLV area (extensions)`)
  if (spec.tail === 'payload') {
    const p = byteString(`${n}.payload`, o.payload, MAX_MTU, 1)
    parts.push((w) => w.raw(p))
    size += p.length
  } else if (spec.tail === 'entries') size += encodeEntries(n, o.errors, parts)
  const problem = spec.check?.(o)
  if (problem) throw new RangeError(`${n}: ${problem}`)
  const max = spec.maxSize ?? MAX_MESSAGE_SIZE
  if (size > max) throw new RangeError(`${n} would be ${size} bytes, at most ${max}`)
  const w = new ByteWriter(size).u8(m.type).u8(flags)
  for (const p of parts) p(w)
  return w.done()
}

function encodeTlvs(spec: Spec, o: Record<string, unknown>, parts: Array<(w: ByteWriter) => void>): number {
  let size = 0
  for (const t of spec.tlvs!) {
    const given = t.fields.filter((fd) => o[fd.key] !== undefined)
    if (given.length === 0) continue
    if (given.length !== t.fields.length) throw new RangeError(`${spec.name}: ${t.fields.map((fd) => fd.key).join(' and ')} go together`)
    const raws = t.fields.map((fd) => toRaw(spec.name, fd, o[fd.key]))
    const len = t.fields.reduce((s, fd) => s + KIND[fd.kind].size, 0)
    parts.push((w) => {
      w.u8(t.type).u8(len)
      t.fields.forEach((fd, i) => writeRaw(w, fd.kind, raws[i]))
    })
    size += 2 + len
  }
  const ext = o.extensions
  if (ext === undefined) return size
  if (!Array.isArray(ext)) throw new TypeError(`${spec.name}.extensions must be a list of TLVs`)
  for (const x of ext as Tlv[]) {
    const where = `${spec.name}.extensions`
    if (!Number.isInteger(x?.type) || x.type < 1 || x.type > 0x7f) throw new RangeError(`${where}: a TLV type must be an optional type 1..0x7f, got ${x?.type}`)
    if (spec.tlvs!.some((t) => t.type === x.type)) throw new RangeError(`${where}: TLV 0x${hex2(x.type)} is a known field, set it by name`)
    const value = byteString(`${where} 0x${hex2(x.type)} value`, x.value, 255)
    parts.push((w) => w.u8(x.type).u8(value.length).raw(value))
    size += 2 + value.length
  }
  return size
}

function encodeEntries(n: string, errors: unknown, parts: Array<(w: ByteWriter) => void>): number {
  if (!Array.isArray(errors) || errors.length < 1 || errors.length > MAX_CONFIG_ERRORS) {
    throw new RangeError(`${n}.errors must list 1..${MAX_CONFIG_ERRORS} fields, got ${Array.isArray(errors) ? errors.length : typeof errors}`)
  }
  const seen = new Set<number>()
  for (const e of errors as ConfigFieldError[]) {
    const problem = entryProblem(e?.field, e?.reason, seen)
    if (problem) throw new RangeError(`${n}.errors: ${problem}`)
  }
  parts.push((w) => {
    w.u8(errors.length)
    for (const e of errors as ConfigFieldError[]) w.u8(e.field).u8(e.reason)
  })
  return 1 + 2 * errors.length
}

function entryProblem(field: unknown, reason: unknown, seen: Set<number>): string | undefined {
  if (!Number.isInteger(field) || (field as number) < 0 || (field as number) > 0xff || ((field as number) > 8 && (field as number) < 0x10)) {
    return `field must be 0..8 or a TLV type 0x10..0xff, got ${String(field)}`
  }
  if (!Number.isInteger(reason) || (reason as number) < 1 || (reason as number) > 6) return `reason must be 1..6, got ${String(reason)}`
  if (seen.has(field as number)) return `field ${String(field)} listed twice`
  seen.add(field as number)
  return undefined
}

// ---- decoding ---------------------------------------------------------------------------------

function readField(r: ByteReader, fd: Field, o: Record<string, unknown>): void {
  const k = KIND[fd.kind]
  let raw = k.size === 1 ? r.u8(fd.key) : k.size === 2 ? r.u16(fd.key) : r.u32(fd.key)
  if (fd.kind === 'i8') raw = (raw << 24) >> 24
  else if (fd.kind === 'i16') raw = (raw << 16) >> 16
  if (raw === fd.none) return
  const [lo, hi] = fieldRange(fd)
  if (raw < lo || raw > hi) r.fail(`${fd.key} ${raw} out of range [${lo}, ${hi}]`)
  o[fd.key] = fd.div ? raw / fd.div : fd.mul ? raw * fd.mul : raw
}

function readText(r: ByteReader, bytes: Uint8Array, key: string): string {
  let s: string
  try {
    s = strictUtf8.decode(bytes)
  } catch {
    return r.fail(`${key} is not valid UTF-8`)
  }
  if (CONTROL.test(s)) r.fail(`${key} contains control characters`)
  return s
}

function readTlvs(r: ByteReader, spec: Spec, o: Record<string, unknown>): void {
  const seen = new Set<number>()
  const ext: Tlv[] = []
  while (r.remaining > 0) {
    const t = r.u8('TLV type')
    const len = r.u8('TLV length')
    if (t === 0) r.fail('TLV type 0 is reserved')
    const known = spec.tlvs!.find((x) => x.type === t)
    if (known) {
      if (seen.has(t)) r.fail(`TLV 0x${hex2(t)} appears twice`)
      seen.add(t)
      const size = known.fields.reduce((s, fd) => s + KIND[fd.kind].size, 0)
      if (len !== size) r.fail(`TLV 0x${hex2(t)} is ${len} bytes, must be ${size}`)
      for (const fd of known.fields) readField(r, fd, o)
    } else if (t & 0x80) {
      r.fail(`unknown critical TLV 0x${hex2(t)}`)
    } else {
      ext.push({ type: t, value: r.bytesView(len, `TLV 0x${hex2(t)} value`) })
    }
  }
  if (ext.length > 0) o.extensions = ext
}

function readEntries(r: ByteReader, o: Record<string, unknown>): void {
  const count = r.u8('count')
  if (count < 1 || count > MAX_CONFIG_ERRORS) r.fail(`count ${count} is not 1..${MAX_CONFIG_ERRORS}`)
  const seen = new Set<number>()
  const errors: ConfigFieldError[] = []
  for (let i = 0; i < count; i++) {
    const field = r.u8('field')
    const reason = r.u8('reason')
    const problem = entryProblem(field, reason, seen)
    if (problem) r.fail(problem)
    errors.push({ field, reason })
  }
  o.errors = errors
}

/** Decode one bridge message of either direction. Returns it or throws DecodeError; never anything else. */
export function decodeBridge(bytes: Uint8Array): BridgeMessage {
  if (bytes.length === 0) throw new DecodeError('bridge message is empty')
  if (bytes.length > MAX_MESSAGE_SIZE) throw new DecodeError(`bridge message is ${bytes.length} bytes, at most ${MAX_MESSAGE_SIZE}`)
  const type = bytes[0]
  const spec = SPECS.get(type)
  if (!spec) throw new DecodeError(`unknown bridge message type 0x${hex2(type)}`)
  const r = new ByteReader(bytes, spec.name)
  if (spec.maxSize !== undefined && bytes.length > spec.maxSize) r.fail(`${bytes.length} bytes, at most ${spec.maxSize}`)
  r.u8('type')
  const flags = r.u8('flags')
  let known = 0
  for (const bit of Object.values(spec.flags ?? {})) known |= bit
  for (const fd of spec.fields) known |= fd.flag ?? 0
  if (flags & ~known) r.fail(`reserved flag bits set: 0x${hex2(flags)}`)
  const o: Record<string, unknown> = { type }
  for (const [key, bit] of Object.entries(spec.flags ?? {})) o[key] = (flags & bit) !== 0
  for (const fd of spec.fields) if (fd.flag === undefined || flags & fd.flag) readField(r, fd, o)
  for (const b of spec.blobs ?? []) {
    const len = r.u8(`${b.key} length`)
    if (len > b.max) r.fail(`${b.key} length ${len} exceeds ${b.max}`)
    const v = r.bytesView(len, b.key)
    o[b.key] = b.text ? readText(r, v, b.key) : v
  }
  if (spec.tlvs) readTlvs(r, spec, o)
  else if (spec.tail === 'entries') readEntries(r, o)
  else if (spec.tail === 'payload') {
    if (r.remaining === 0) r.fail('empty payload')
    if (r.remaining > MAX_MTU) r.fail(`payload of ${r.remaining} bytes exceeds ${MAX_MTU}`)
    o.payload = r.rest()
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  const problem = spec.check?.(o)
  if (problem) r.fail(problem)
  return o as unknown as BridgeMessage
}

function decodeDirection(bytes: Uint8Array, fromRadio: boolean): BridgeMessage {
  if (bytes.length > 0 && isFromRadio(bytes[0]) !== fromRadio && SPECS.has(bytes[0])) {
    throw new DecodeError(`${bridgeMsgName(bytes[0])} (0x${hex2(bytes[0])}) is sent by the ${fromRadio ? 'host' : 'radio'}, not the ${fromRadio ? 'radio' : 'host'}`)
  }
  return decodeBridge(bytes)
}

/** What a host decodes: a message a radio sends (a host-side type, e.g. an echo of our own, is rejected). */
export function decodeRadioMessage(bytes: Uint8Array): RadioMessage {
  return decodeDirection(bytes, true) as RadioMessage
}

/** What firmware (or its emulator) decodes: a message a host sends. */
export function decodeHostMessage(bytes: Uint8Array): HostMessage {
  return decodeDirection(bytes, false) as HostMessage
}
