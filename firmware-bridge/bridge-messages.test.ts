import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { DecodeError } from '../core/errors.ts'
import { bytesEqual, concatBytes, toHex } from '../core/bytes.ts'
import { checkDecoderProperties, configError, decodeOrError } from '../core/testing.ts'
import {
  BridgeMsgType as M, CONFIG_FIELD_KEYS, ConfigField, FROM_RADIO, MAX_MESSAGE_SIZE, MAX_MTU,
  CONFIG_ACK_SIZE, CONFIG_BASE_SIZE, CONFIG_ERROR_BASE_SIZE, ERROR_BASE_SIZE, HEARTBEAT_ACK_SIZE, HEARTBEAT_SIZE, HELLO_ACK_BASE_SIZE,
  HELLO_BASE_SIZE, RESET_SIZE, RX_HEADER_SIZE, STATUS_BASE_SIZE, STATUS_REQUEST_SIZE, TX_DONE_SIZE, TX_ERROR_SIZE, TX_HEADER_SIZE,
  bridgeMsgName, chooseVersion, configAckAirtimeMs, decodeBridge, decodeHostMessage, decodeRadioMessage, encodeBridge, isFromRadio,
  type BridgeMessage, type ConfigAck, type Status,
} from './bridge-messages.ts'
import { DEFAULT_BRIDGE_TIMING, txDoneTimeoutMs, validateBridgeTiming } from './bridge-defaults.ts'

const te = new TextEncoder()
const ALL_TYPES = Object.values(M) as number[]

/** Drop keys whose value is undefined (decoders leave absent fields out). */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}

// ---- arbitraries: every message, over its whole valid domain ---------------------------------

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const i8 = fc.integer({ min: -128, max: 127 })
const opt = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: undefined })
const text = (maxBytes: number) => fc.string({ unit: 'grapheme', maxLength: 12 })
  .filter((s) => te.encode(s).length <= maxBytes && !/[\u0000-\u001f\u007f]/.test(s))
const ordered = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
/** Unknown optional TLVs (0x20–0x7F: no message of version 1 defines those). */
const extensions = opt(fc.array(fc.record({ type: fc.integer({ min: 0x20, max: 0x7f }), value: fc.uint8Array({ maxLength: 10 }) }).map((x) => ({ ...x })), { minLength: 1, maxLength: 3 }))
const payload = fc.uint8Array({ minLength: 1, maxLength: 40 })

const hello = fc.record({ v: ordered(1, 255), nonce: u32, interval: fc.integer({ min: 1, max: 65534 }), extra: fc.integer({ min: 1, max: 65534 }), host: text(32), extensions })
  .map(({ v, interval, extra, ...m }) => clean({ type: M.HELLO, minVersion: v[0], maxVersion: v[1], heartbeatIntervalMs: interval, heartbeatTimeoutMs: Math.min(65535, interval + extra), ...m }))
const helloAck = fc.record({
  v: ordered(1, 255), pick: fc.nat(), none: fc.boolean(), nonce: u32, kind: fc.integer({ min: 1, max: 255 }), capabilities: u32,
  mtu: fc.integer({ min: 1, max: MAX_MTU }), txQueue: fc.integer({ min: 1, max: 255 }), fw: fc.tuple(u8, u8, u8), firmware: text(32), hardwareId: text(32),
  band: opt(ordered(1, 0xffffffff)), power: opt(ordered(-128, 127)), extensions,
}).map(({ v, pick, none, fw, band, power, ...m }) => clean({
  type: M.HELLO_ACK, version: none ? 0 : v[0] + (pick % (v[1] - v[0] + 1)), minVersion: v[0], maxVersion: v[1], ...m,
  firmwareMajor: fw[0], firmwareMinor: fw[1], firmwarePatch: fw[2],
  bandMinHz: band?.[0], bandMaxHz: band?.[1], txPowerMinDbm: power?.[0], txPowerMaxDbm: power?.[1],
}))
const config = fc.record({
  id: u16, frequencyHz: fc.integer({ min: 1, max: 0xffffffff }), bandwidthHz: fc.integer({ min: 1, max: 0xffffffff }),
  lora: opt(fc.tuple(fc.integer({ min: 5, max: 12 }), fc.integer({ min: 5, max: 8 }))), txPowerDbm: i8, preambleLength: u16,
  dutyCyclePermille: fc.integer({ min: 1, max: 1000 }), syncWord: fc.uint8Array({ maxLength: 8 }),
  fskBitrate: opt(fc.integer({ min: 1, max: 0xffffffff })), fskDeviationHz: opt(fc.integer({ min: 1, max: 0xffffffff })),
  dutyCycleWindowS: opt(fc.integer({ min: 1, max: 65535 })), lbt: opt(fc.tuple(i8, fc.integer({ min: 1, max: 65535 }))), extensions,
}).map(({ lora, lbt, ...m }) => clean({
  type: M.CONFIG, ...m, spreadingFactor: lora?.[0] ?? 0, codingRate: lora?.[1] ?? 0,
  fskBitrate: lora ? undefined : m.fskBitrate, fskDeviationHz: lora ? undefined : m.fskDeviationHz,
  lbtThresholdDbm: lbt?.[0], lbtMaxWaitMs: lbt?.[1],
}))
const configAck = fc.record({ id: u16, bitrate: fc.integer({ min: 1, max: 0xffffffff }), overheadUs: u32, frequencyHz: fc.integer({ min: 1, max: 0xffffffff }) })
  .map((m) => ({ type: M.CONFIG_ACK, ...m }))
const fieldId = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0x10, max: 0xff }))
const configErr = fc.record({
  id: u16, errors: fc.uniqueArray(fc.record({ field: fieldId, reason: fc.integer({ min: 1, max: 6 }) }).map((x) => ({ ...x })), { minLength: 1, maxLength: 16, selector: (e) => e.field }),
}).map((m) => ({ type: M.CONFIG_ERROR, ...m }))
const tx = fc.record({ id: u16, urgent: fc.boolean(), payload }).map((m) => ({ type: M.TX, ...m }))
const txDone = fc.record({ id: u16, airtimeUs: u32, timestampUs: u32 }).map((m) => ({ type: M.TX_DONE, ...m }))
const txError = fc.record({ id: u16, reason: fc.integer({ min: 1, max: 7 }) }).map((m) => ({ type: M.TX_ERROR, ...m }))
const rx = fc.record({
  rssi: opt(fc.integer({ min: -32767, max: 32767 })), snr: opt(fc.integer({ min: -127, max: 127 })), timestampUs: u32,
  fe: opt(fc.integer({ min: -32768, max: 32767 })), payload,
}).map(({ rssi, snr, fe, ...m }) => clean({ type: M.RX, rssi: rssi === undefined ? undefined : rssi / 10, snr: snr === undefined ? undefined : snr / 4, frequencyErrorHz: fe === undefined ? undefined : fe * 10, ...m }))
const statusReq = fc.record({ id: u16, periodS: u16 }).map((m) => ({ type: M.STATUS_REQUEST, ...m }))
const status = fc.record({
  periodic: fc.boolean(), id: u16, uptimeS: u32, windowS: fc.integer({ min: 1, max: 65535 }), share: fc.double({ min: 0, max: 1, noNaN: true }),
  channelLoadPermille: fc.integer({ min: 0, max: 1000 }), queueDepth: u8, rxOk: u32, rxCrcErrors: u32, txOk: u32, txErrors: u32,
  batteryMv: opt(u16), temp: opt(fc.integer({ min: -32768, max: 32767 })), noise: opt(fc.integer({ min: -32768, max: 32767 })), extensions,
}).map(({ share, temp, noise, ...m }) => clean({
  type: M.STATUS, ...m, txAirtimeMs: Math.floor(share * m.windowS * 1000),
  temperatureC: temp === undefined ? undefined : temp / 10, noiseFloorDbm: noise === undefined ? undefined : noise / 10,
}))
const reset = fc.boolean().map((hard) => ({ type: M.RESET, hard }))
const heartbeat = fc.record({ type: fc.constantFrom(M.HEARTBEAT, M.RADIO_HEARTBEAT), seq: u16 }).map((m) => ({ ...m }))
const heartbeatAck = fc.record({ type: fc.constantFrom(M.HEARTBEAT_ACK, M.RADIO_HEARTBEAT_ACK), seq: u16, clockUs: u32 }).map((m) => ({ ...m }))
const error = fc.record({ fatal: fc.boolean(), code: fc.integer({ min: 1, max: 65535 }), ref: u8, text: text(128) }).map((m) => ({ type: M.ERROR, ...m }))

const ARBS: Record<number, fc.Arbitrary<unknown>> = {
  [M.HELLO]: hello, [M.HELLO_ACK]: helloAck, [M.CONFIG]: config, [M.CONFIG_ACK]: configAck, [M.CONFIG_ERROR]: configErr,
  [M.TX]: tx, [M.TX_DONE]: txDone, [M.TX_ERROR]: txError, [M.RX]: rx, [M.STATUS_REQUEST]: statusReq, [M.STATUS]: status,
  [M.RESET]: reset, [M.HEARTBEAT]: heartbeat, [M.HEARTBEAT_ACK]: heartbeatAck, [M.ERROR]: error,
}
const message = fc.oneof(...Object.values(ARBS)) as fc.Arbitrary<BridgeMessage>
const open = (m: BridgeMessage) => m.type === M.TX || m.type === M.RX

test('every message type round-trips through encode/decode', () => {
  for (const [type, arb] of Object.entries(ARBS)) {
    fc.assert(fc.property(arb as fc.Arbitrary<BridgeMessage>, (m) => {
      assert.equal(decodeBridge(encodeBridge(m)), m)
    }), { numRuns: 400, seed: Number(type) })
  }
})

test('sizes: fixed messages have their constant size, variable ones their formula', () => {
  assert.equal(
    [HELLO_BASE_SIZE, HELLO_ACK_BASE_SIZE, CONFIG_BASE_SIZE, CONFIG_ACK_SIZE, CONFIG_ERROR_BASE_SIZE, TX_HEADER_SIZE, TX_DONE_SIZE, TX_ERROR_SIZE,
      RX_HEADER_SIZE, STATUS_REQUEST_SIZE, STATUS_BASE_SIZE, RESET_SIZE, HEARTBEAT_SIZE, HEARTBEAT_ACK_SIZE, ERROR_BASE_SIZE],
    [13, 22, 20, 16, 5, 4, 12, 5, 9, 6, 33, 2, 4, 8, 6])
  const tlvBytes = (m: { extensions?: Array<{ value: Uint8Array }> }, known: number) => known + (m.extensions ?? []).reduce((s, x) => s + 2 + x.value.length, 0)
  const has = (v: unknown, n: number) => (v === undefined ? 0 : n)
  fc.assert(fc.property(message, (m) => {
    const n = encodeBridge(m).length
    switch (m.type) {
      case M.HELLO: return n === HELLO_BASE_SIZE + te.encode(m.host).length + tlvBytes(m, 0)
      case M.HELLO_ACK: return n === HELLO_ACK_BASE_SIZE + te.encode(m.firmware).length + te.encode(m.hardwareId).length + tlvBytes(m, has(m.bandMinHz, 10) + has(m.txPowerMinDbm, 4))
      case M.CONFIG: return n === CONFIG_BASE_SIZE + m.syncWord.length
        + tlvBytes(m, has(m.fskBitrate, 6) + has(m.fskDeviationHz, 6) + has(m.dutyCycleWindowS, 4) + has(m.lbtMaxWaitMs, 5))
      case M.CONFIG_ERROR: return n === CONFIG_ERROR_BASE_SIZE + 2 * m.errors.length
      case M.TX: return n === TX_HEADER_SIZE + m.payload.length
      case M.RX: return n === RX_HEADER_SIZE + has(m.frequencyErrorHz, 2) + m.payload.length
      case M.STATUS: return n === STATUS_BASE_SIZE + tlvBytes(m, has(m.batteryMv, 4) + has(m.temperatureC, 4) + has(m.noiseFloorDbm, 4))
      case M.ERROR: return n === ERROR_BASE_SIZE + te.encode(m.text).length
      case M.CONFIG_ACK: return n === CONFIG_ACK_SIZE
      case M.TX_DONE: return n === TX_DONE_SIZE
      case M.TX_ERROR: return n === TX_ERROR_SIZE
      case M.STATUS_REQUEST: return n === STATUS_REQUEST_SIZE
      case M.RESET: return n === RESET_SIZE
      case M.HEARTBEAT: case M.RADIO_HEARTBEAT: return n === HEARTBEAT_SIZE
      case M.HEARTBEAT_ACK: case M.RADIO_HEARTBEAT_ACK: return n === HEARTBEAT_ACK_SIZE
    }
  }), { numRuns: 2000, seed: 8 })
  // A full LoRa RX fits a LoRa firmware's buffer budget of PROTOCOL.md §1.
  assert.is(encodeBridge({ type: M.RX, rssi: -120, snr: -20, timestampUs: 0, frequencyErrorHz: 100, payload: new Uint8Array(255) }).length, 266)
  assert.is(encodeBridge({ type: M.RX, timestampUs: 0, frequencyErrorHz: 100, payload: new Uint8Array(MAX_MTU) }).length, MAX_MTU + 11)
  assert.ok(MAX_MTU + 11 <= MAX_MESSAGE_SIZE)
})

test('the decoders are total: arbitrary bytes, and valid messages changed, cut or extended, give a message or a DecodeError', () => {
  checkDecoderProperties({ decode: decodeBridge, valid: message, encode: encodeBridge, typeBytes: ALL_TYPES, open, numRuns: 5000 })
  checkDecoderProperties({ decode: decodeRadioMessage, valid: message.filter((m) => isFromRadio(m.type)), encode: encodeBridge, typeBytes: ALL_TYPES, open, numRuns: 1000 })
  checkDecoderProperties({ decode: decodeHostMessage, valid: message.filter((m) => !isFromRadio(m.type)), encode: encodeBridge, typeBytes: ALL_TYPES, open, numRuns: 1000 })
  const huge = new Uint8Array(MAX_MESSAGE_SIZE + 1)
  huge[0] = M.RX
  assert.match((decodeOrError(decodeBridge, huge) as DecodeError).message, /at most 2064/)
})

// ---- PROTOCOL.md: the examples are checked byte for byte -------------------------------------

const EXAMPLES: Record<string, BridgeMessage> = {
  hello: { type: M.HELLO, minVersion: 1, maxVersion: 1, nonce: 0x5eed1234, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3500, host: 'gw-1' },
  'hello-ack': {
    type: M.HELLO_ACK, version: 1, minVersion: 1, maxVersion: 1, nonce: 0x5eed1234, kind: 1, capabilities: 0xbf, mtu: 255, txQueue: 4,
    firmwareMajor: 1, firmwareMinor: 2, firmwarePatch: 3, firmware: 'lora-br', hardwareId: 'A1B2C3',
    bandMinHz: 863_000_000, bandMaxHz: 870_000_000, txPowerMinDbm: -9, txPowerMaxDbm: 22,
  },
  config: {
    type: M.CONFIG, id: 1, frequencyHz: 869_525_000, bandwidthHz: 125_000, spreadingFactor: 9, codingRate: 5, txPowerDbm: 14,
    preambleLength: 8, dutyCyclePermille: 100, syncWord: Uint8Array.of(0x12), dutyCycleWindowS: 3600,
  },
  'config-ack': { type: M.CONFIG_ACK, id: 1, bitrate: 1757, overheadUs: 82_944, frequencyHz: 869_524_963 },
  'config-error': { type: M.CONFIG_ERROR, id: 2, errors: [{ field: ConfigField.FREQUENCY, reason: 1 }, { field: ConfigField.TX_POWER, reason: 3 }] },
  tx: { type: M.TX, id: 0x0102, urgent: true, payload: te.encode('Hello') },
  'tx-done': { type: M.TX_DONE, id: 0x0102, airtimeUs: 123_904, timestampUs: 16_000_000 },
  'tx-error': { type: M.TX_ERROR, id: 0x0103, reason: 2 },
  rx: { type: M.RX, rssi: -97.5, snr: 6.25, timestampUs: 20_000_000, frequencyErrorHz: -1230, payload: te.encode('Hello') },
  'rx-fsk': { type: M.RX, rssi: -88, timestampUs: 0xfffffff0, payload: Uint8Array.of(0xc0, 0xff, 0xee) },
  'status-request': { type: M.STATUS_REQUEST, id: 7, periodS: 60 },
  status: {
    type: M.STATUS, periodic: true, id: 7, uptimeS: 86_400, windowS: 3600, channelLoadPermille: 123, txAirtimeMs: 35_000, queueDepth: 1,
    rxOk: 1520, rxCrcErrors: 37, txOk: 410, txErrors: 2, batteryMv: 3700, temperatureC: 23.5,
  },
  'status-extension': {
    type: M.STATUS, periodic: false, id: 8, uptimeS: 5, windowS: 60, channelLoadPermille: 0, txAirtimeMs: 0, queueDepth: 0,
    rxOk: 0, rxCrcErrors: 0, txOk: 0, txErrors: 0, temperatureC: -4.5, extensions: [{ type: 0x7a, value: Uint8Array.of(1, 2, 3) }],
  },
  reset: { type: M.RESET, hard: true },
  heartbeat: { type: M.HEARTBEAT, seq: 42 },
  'heartbeat-ack': { type: M.RADIO_HEARTBEAT_ACK, seq: 42, clockUs: 0x12345678 },
  error: { type: M.ERROR, fatal: false, code: 1, ref: 0, text: 'watchdog' },
}

const DOC = readFileSync(new URL('./PROTOCOL.md', import.meta.url), 'utf8')
const HEX_LINE = /^([0-9a-f]{2}(?: [0-9a-f]{2})*)(?: {2,}.*)?$/

/** The annotated dumps of PROTOCOL.md: `<!-- example: name -->` (or `reject:`) then a text block of `hex bytes  comment` lines. */
function docBlocks(kind: 'example' | 'reject'): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  for (const [, k, name, body] of DOC.matchAll(/<!-- (example|reject): ([\w-]+) -->\n```text\n([\s\S]*?)```/g)) {
    if (k !== kind) continue
    const bytes: number[] = []
    for (const line of body.trimEnd().split('\n')) {
      const m = HEX_LINE.exec(line)
      assert.ok(m, `PROTOCOL.md ${name}: not a "hex  comment" line: ${JSON.stringify(line)}`)
      bytes.push(...m![1].split(' ').map((h) => parseInt(h, 16)))
    }
    assert.not.ok(out.has(name), `PROTOCOL.md: example ${name} twice`)
    out.set(name, Uint8Array.from(bytes))
  }
  return out
}

test('PROTOCOL.md: every example dump is exactly what the codec writes and reads', () => {
  const blocks = docBlocks('example')
  assert.equal([...blocks.keys()].sort(), Object.keys(EXAMPLES).sort(), 'the examples in the doc and in this test are the same set')
  for (const [name, bytes] of blocks) {
    const m = EXAMPLES[name]
    assert.is(toHex(encodeBridge(m)), toHex(bytes), `example ${name}: encoding`)
    assert.equal(decodeBridge(bytes), m, `example ${name}: decoding`)
  }
  const covered = new Set(Object.values(EXAMPLES).map((m) => m.type & ~FROM_RADIO))
  for (const t of ALL_TYPES) assert.ok(covered.has(t & ~FROM_RADIO), `PROTOCOL.md has an example of ${bridgeMsgName(t)}`)
})

test('PROTOCOL.md: the rejected examples are rejected; the type table names every type as the codec does', () => {
  const rejects = docBlocks('reject')
  assert.ok(rejects.size >= 1)
  for (const [name, bytes] of rejects) assert.instance(decodeOrError(decodeBridge, bytes), DecodeError, `reject example ${name}`)
  assert.match((decodeOrError(decodeBridge, rejects.get('status-critical')!) as DecodeError).message, /unknown critical TLV 0xfa/)
  const rows = [...DOC.matchAll(/^\| (0x[0-9A-F]{2})(?: \/ (0x[0-9A-F]{2}))? \| ([A-Z-]+) \| (?:host|radio) →/gm)]
  const listed = rows.flatMap(([, a, b, name]) => [a, b].filter(Boolean).map((t) => [parseInt(t!, 16), name] as const))
  assert.equal(listed.map(([t]) => t).sort((a, b) => a - b), [...ALL_TYPES].sort((a, b) => a - b))
  for (const [t, name] of listed) assert.is(bridgeMsgName(t), name)
})

test('the LoRa example is self-consistent: the host estimate and TX deadline cover the real airtime', () => {
  const ack = EXAMPLES['config-ack'] as ConfigAck
  // SF9, 125 kHz, 4/5: 9 × 125000 / 512 × 4/5 = 1757.8 bit/s; symbol 4.096 ms; 8 + 4.25 + 8 symbols of overhead.
  assert.is(ack.bitrate, Math.floor((9 * 125_000) / 512 * 0.8))
  assert.is(ack.overheadUs, (8 + 4.25 + 8) * 4096)
  const estimate = configAckAirtimeMs(ack, 5)
  assert.ok(Math.abs(estimate - (82.944 + 40 / 1.757)) < 1e-9)
  // Real airtime of 5 bytes (Semtech formula, explicit header, CRC on): 12.25 + 18 symbols.
  assert.is(30.25 * 4096, 123_904)
  assert.ok(estimate < 123.904 && 123.904 <= txDoneTimeoutMs(DEFAULT_BRIDGE_TIMING, estimate))
})

// ---- forward compatibility and rejection -------------------------------------------------------

const TLV_KEYS: Record<number, string[]> = {
  [M.HELLO]: [], [M.HELLO_ACK]: ['bandMinHz', 'bandMaxHz', 'txPowerMinDbm', 'txPowerMaxDbm', 'extensions'],
  [M.CONFIG]: ['fskBitrate', 'fskDeviationHz', 'dutyCycleWindowS', 'lbtThresholdDbm', 'lbtMaxWaitMs', 'extensions'],
  [M.STATUS]: ['batteryMv', 'temperatureC', 'noiseFloorDbm', 'extensions'],
}

test('unknown optional TLVs anywhere in the TLV area are skipped and returned; the rest of the message is unchanged', () => {
  const withTlvs = fc.oneof(hello, helloAck, config, status) as fc.Arbitrary<BridgeMessage & { extensions?: unknown }>
  const unknown = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0x20, max: 0x7f }), fc.uint8Array({ maxLength: 6 })), { minLength: 1, maxLength: 4 })
  fc.assert(fc.property(withTlvs, unknown, (m0, extra) => {
    const { extensions: _, ...m } = m0
    const bytes = encodeBridge(m as BridgeMessage)
    const bare = { ...m } as Record<string, unknown>
    for (const k of TLV_KEYS[m.type]) delete bare[k]
    const start = encodeBridge(bare as unknown as BridgeMessage).length
    const tlvs: Uint8Array[] = []
    for (let at = start; at < bytes.length; at += 2 + bytes[at + 1]) tlvs.push(bytes.subarray(at, at + 2 + bytes[at + 1]))
    const inserted: Array<{ type: number; value: Uint8Array }> = []
    for (const [where, type, value] of extra) tlvs.splice(where % (tlvs.length + 1), 0, Uint8Array.of(type, value.length, ...value))
    for (const t of tlvs) if (t[0] >= 0x20 && t[0] <= 0x7f) inserted.push({ type: t[0], value: t.subarray(2) })
    const d = decodeBridge(concatBytes(bytes.subarray(0, start), ...tlvs))
    assert.equal(d, { ...m, extensions: inserted })
  }), { numRuns: 1000, seed: 81 })
})

function reject(b: Uint8Array | number[], what: RegExp, decode: (b: Uint8Array) => unknown = decodeBridge): void {
  const r = decodeOrError(decode, b instanceof Uint8Array ? b : Uint8Array.from(b))
  assert.instance(r, DecodeError, `expected a DecodeError matching ${what}`)
  assert.match((r as DecodeError).message, what)
}
const ex = (name: string) => encodeBridge(EXAMPLES[name])
const set = (b: Uint8Array, at: number, ...v: number[]) => { const c = b.slice(); c.set(v, at); return c }

test('the decoder rejects what it does not understand', () => {
  reject([], /empty/)
  reject([0x00, 0], /unknown bridge message type 0x00/)
  reject([0x08, 0], /unknown bridge message type 0x08/)
  reject([0xc1, 0], /unknown bridge message type 0xc1/)
  reject(set(ex('heartbeat'), 1, 0x01), /HEARTBEAT: reserved flag bits set: 0x01/)
  reject(set(ex('tx'), 1, 0x81), /TX: reserved flag bits set/)
  reject(Uint8Array.of(...ex('heartbeat'), 0), /HEARTBEAT: 1 trailing byte/)
  reject(ex('tx-done').subarray(0, 11), /TX-DONE truncated: timestampUs/)
  reject(ex('tx').subarray(0, 4), /TX: empty payload/)
  reject(Uint8Array.of(M.RX, 0, 0, 0, 0, 0, 0, 0, 0, ...new Uint8Array(MAX_MTU + 1)), /payload of 2049 bytes exceeds 2048/)
  // HELLO / HELLO-ACK
  reject(set(ex('hello'), 2, 2, 1), /minVersion 2 > maxVersion 1/)
  reject(set(ex('hello'), 2, 0), /minVersion 0 out of range/)
  reject(set(ex('hello'), 10, 0x03, 0xe8), /heartbeatTimeoutMs 1000 must exceed heartbeatIntervalMs 1000/)
  reject(set(ex('hello'), 12, 33), /host length 33 exceeds 32/)
  reject(set(ex('hello'), 13, 0x0a), /host contains control characters/)
  reject(set(ex('hello'), 13, 0xff), /host is not valid UTF-8/)
  reject(Uint8Array.of(...ex('hello'), 0x20, 239, ...new Uint8Array(239)), /HELLO: 258 bytes, at most 256/)
  reject(set(ex('hello-ack'), 2, 2), /version 2 is outside 1..1/)
  reject(set(ex('hello-ack'), 9, 0), /kind 0 out of range/)
  reject(set(ex('hello-ack'), 14, 0x08, 0x01), /mtu 2049 out of range \[1, 2048\]/)
  reject(set(ex('hello-ack'), 16, 0), /txQueue 0/)
  reject(set(ex('hello-ack'), 36, 0x07), /TLV 0x01 is 7 bytes, must be 8/)
  reject(Uint8Array.of(...ex('hello-ack'), 0x02, 0x02, 0, 0), /TLV 0x02 appears twice/)
  reject(Uint8Array.of(...ex('hello-ack'), 0x00, 0x00), /TLV type 0 is reserved/)
  reject(Uint8Array.of(...ex('hello-ack'), 0x7f, 0x03, 1), /truncated: TLV 0x7f value/)
  reject(set(ex('hello-ack'), 47, 0x17, 0x16), /txPowerMinDbm 23 > txPowerMaxDbm 22/)
  // CONFIG
  reject(set(ex('config'), 12, 4), /spreadingFactor must be 0 or 5..12, got 4/)
  reject(set(ex('config'), 12, 13), /spreadingFactor 13 out of range/)
  reject(set(ex('config'), 13, 0), /both 0 \(not LoRa\) or both set/)
  reject(set(ex('config'), 17, 0x03, 0xe9), /dutyCyclePermille 1001 out of range/)
  reject(set(ex('config'), 4, 0, 0, 0, 0), /frequencyHz 0 out of range/)
  reject(set(ex('config'), 19, 9), /syncWord length 9 exceeds 8/)
  reject(Uint8Array.of(...ex('config'), 0x90, 0x03, 0xb0, 0x00, 0x00), /lbtMaxWaitMs 0 out of range/)
  reject(Uint8Array.of(...ex('config'), 0x10, 0x04, 0, 0, 0x4b, 0), /a LoRa CONFIG \(spreadingFactor set\) carries no FSK fields/)
  reject(Uint8Array.of(...ex('config'), 0xa0, 0x00), /unknown critical TLV 0xa0/)
  // CONFIG-ERROR
  reject(set(ex('config-error'), 4, 0), /count 0 is not 1..16/)
  reject(set(ex('config-error'), 5, 9), /field must be 0..8 or a TLV type 0x10..0xff, got 9/)
  reject(set(ex('config-error'), 6, 7), /reason must be 1..6, got 7/)
  reject(set(ex('config-error'), 7, 1), /field 1 listed twice/)
  // others
  reject(set(ex('tx-error'), 4, 0), /reason 0 out of range/)
  reject(set(ex('tx-error'), 4, 8), /reason 8 out of range/)
  reject(set(ex('status'), 10, 0x03, 0xe9), /channelLoadPermille 1001/)
  reject(set(ex('status'), 8, 0, 30), /txAirtimeMs 35000 exceeds the 30 s window/)
  reject(set(ex('status'), 8, 0, 0), /windowS 0 out of range/)
  reject(set(ex('error'), 2, 0, 0), /code 0 out of range/)
  reject(set(ex('error'), 5, 129), /text length 129 exceeds 128/)
})

test('direction: a host decodes only radio messages (an echo of its own is refused), firmware only host messages', () => {
  for (const name of ['hello', 'config', 'tx', 'status-request', 'reset', 'heartbeat']) reject(ex(name), /is sent by the host, not the radio/, decodeRadioMessage)
  for (const name of ['hello-ack', 'config-ack', 'config-error', 'tx-done', 'tx-error', 'rx', 'status', 'heartbeat-ack', 'error']) {
    reject(ex(name), /is sent by the radio, not the host/, decodeHostMessage)
    assert.equal(decodeRadioMessage(ex(name)), EXAMPLES[name])
  }
  assert.equal(decodeHostMessage(ex('tx')), EXAMPLES.tx)
  assert.equal(decodeRadioMessage(encodeBridge({ type: M.RADIO_HEARTBEAT, seq: 1 })), { type: M.RADIO_HEARTBEAT, seq: 1 })
  reject([0x99], /unknown bridge message type 0x99/, decodeRadioMessage)
  assert.ok(isFromRadio(M.RX) && !isFromRadio(M.TX))
})

test('RX: sentinels for unknown RSSI/SNR, rounding to the wire units, payload views into the input', () => {
  const b = encodeBridge({ type: M.RX, timestampUs: 1, payload: Uint8Array.of(7) })
  assert.is(toHex(b), '480080008000000001' + '07')
  assert.equal(decodeBridge(b), { type: M.RX, timestampUs: 1, payload: Uint8Array.of(7) })
  const r = decodeBridge(encodeBridge({ type: M.RX, rssi: -97.54, snr: 6.3, frequencyErrorHz: 1234, timestampUs: 0, payload: Uint8Array.of(1) }))
  assert.equal([(r as { rssi: number }).rssi, (r as { snr: number }).snr, (r as { frequencyErrorHz: number }).frequencyErrorHz], [-97.5, 6.25, 1230])
  const bytes = ex('rx')
  const d = decodeBridge(bytes) as { payload: Uint8Array }
  assert.is(d.payload.buffer, bytes.buffer)
  const c = decodeBridge(ex('config')) as { syncWord: Uint8Array }
  assert.ok(bytesEqual(c.syncWord, Uint8Array.of(0x12)))
})

// ---- encoder argument checks -------------------------------------------------------------------

function throwsNaming(fn: () => unknown, type: typeof RangeError | typeof TypeError, what: RegExp): void {
  try {
    fn()
  } catch (e) {
    assert.instance(e, type, `expected ${type.name}, got ${String(e)}`)
    assert.match((e as Error).message, what)
    return
  }
  assert.unreachable(`expected ${type.name} matching ${what}`)
}

test('encoders check every argument and name the field', () => {
  const cfg = EXAMPLES.config as unknown as Record<string, unknown>
  const C = (over: Record<string, unknown>) => () => encodeBridge({ ...cfg, ...over } as unknown as BridgeMessage)
  const H = (over: Record<string, unknown>) => () => encodeBridge({ ...EXAMPLES.hello, ...over } as unknown as BridgeMessage)
  const A = (over: Record<string, unknown>) => () => encodeBridge({ ...EXAMPLES['hello-ack'], ...over } as unknown as BridgeMessage)
  const X = (m: Record<string, unknown>) => () => encodeBridge(m as unknown as BridgeMessage)
  const cases: Array<[() => unknown, typeof RangeError | typeof TypeError, RegExp]> = [
    [X({ type: 0x99 }), RangeError, /unknown bridge message type 153/],
    [X(null as unknown as Record<string, unknown>), RangeError, /unknown bridge message type/],
    [C({ frequencyHz: 0 }), RangeError, /CONFIG\.frequencyHz must be an integer in \[1, 4294967295\], got 0/],
    [C({ frequencyHz: 868.1e6 + 0.5 }), RangeError, /CONFIG\.frequencyHz must be an integer/],
    [C({ bandwidthHz: '125k' }), RangeError, /CONFIG\.bandwidthHz must be an integer .* got 125k/],
    [C({ spreadingFactor: 4 }), RangeError, /CONFIG: spreadingFactor must be 0 or 5..12, got 4/],
    [C({ codingRate: 9 }), RangeError, /CONFIG\.codingRate must be an integer in \[0, 8\]/],
    [C({ spreadingFactor: 0 }), RangeError, /both 0 \(not LoRa\) or both set/],
    [C({ txPowerDbm: 128 }), RangeError, /CONFIG\.txPowerDbm must be an integer in \[-128, 127\]/],
    [C({ dutyCyclePermille: 0 }), RangeError, /CONFIG\.dutyCyclePermille must be an integer in \[1, 1000\]/],
    [C({ syncWord: new Uint8Array(9) }), RangeError, /CONFIG\.syncWord must be 0..8 bytes, got 9/],
    [C({ syncWord: [0x12] }), TypeError, /CONFIG\.syncWord must be a Uint8Array/],
    [C({ lbtThresholdDbm: -80 }), RangeError, /CONFIG: lbtThresholdDbm and lbtMaxWaitMs go together/],
    [C({ lbtThresholdDbm: -80, lbtMaxWaitMs: 0 }), RangeError, /CONFIG\.lbtMaxWaitMs must be an integer in \[1, 65535\]/],
    [C({ fskBitrate: 50_000 }), RangeError, /LoRa CONFIG .* no FSK fields/],
    [C({ id: 65_536 }), RangeError, /CONFIG\.id must be an integer in \[0, 65535\]/],
    [C({ extensions: [{ type: 0x10, value: Uint8Array.of(1) }] }), RangeError, /TLV 0x10 is a known field, set it by name/],
    [C({ extensions: [{ type: 0x80, value: Uint8Array.of(1) }] }), RangeError, /optional type 1..0x7f, got 128/],
    [C({ extensions: [{ type: 0x70, value: new Uint8Array(256) }] }), RangeError, /0x70 value must be 0..255 bytes/],
    [C({ extensions: { type: 0x70 } }), TypeError, /CONFIG\.extensions must be a list/],
    [C({ extensions: Array.from({ length: 20 }, () => ({ type: 0x70, value: new Uint8Array(20) })) }), RangeError, /CONFIG would be \d+ bytes, at most 256/],
    [H({ nonce: undefined }), RangeError, /HELLO\.nonce is required/],
    [H({ host: 'x'.repeat(33) }), RangeError, /HELLO\.host must be at most 32 UTF-8 bytes, got 33/],
    [H({ host: 'é'.repeat(17) }), RangeError, /HELLO\.host must be at most 32 UTF-8 bytes, got 34/],
    [H({ host: 'gw\n1' }), RangeError, /HELLO\.host must not contain control characters/],
    [H({ host: 'gw\ud800' }), RangeError, /HELLO\.host is not well-formed Unicode/],
    [H({ host: 7 }), TypeError, /HELLO\.host must be a string/],
    [H({ minVersion: 2 }), RangeError, /HELLO: minVersion 2 > maxVersion 1/],
    [H({ minVersion: 0 }), RangeError, /HELLO\.minVersion must be an integer in \[1, 255\]/],
    [H({ heartbeatTimeoutMs: 1000 }), RangeError, /HELLO: heartbeatTimeoutMs 1000 must exceed heartbeatIntervalMs 1000/],
    [H({ heartbeatTimeoutMs: 70_000 }), RangeError, /HELLO\.heartbeatTimeoutMs must be an integer in \[2, 65535\]/],
    [A({ version: 2 }), RangeError, /HELLO-ACK: version 2 is outside 1..1/],
    [A({ mtu: MAX_MTU + 1 }), RangeError, /HELLO-ACK\.mtu must be an integer in \[1, 2048\]/],
    [A({ kind: 0 }), RangeError, /HELLO-ACK\.kind/],
    [A({ bandMinHz: 900e6 }), RangeError, /bandMinHz 900000000 > bandMaxHz 870000000/],
    [A({ txPowerMaxDbm: undefined }), RangeError, /txPowerMinDbm and txPowerMaxDbm go together/],
    [X({ type: M.TX, id: 1, payload: new Uint8Array(0) }), RangeError, /TX\.payload must be 1..2048 bytes, got 0/],
    [X({ type: M.TX, id: 1, payload: new Uint8Array(MAX_MTU + 1) }), RangeError, /TX\.payload must be 1..2048 bytes, got 2049/],
    [X({ type: M.TX, id: 1, urgent: 'yes', payload: Uint8Array.of(1) }), TypeError, /TX\.urgent must be a boolean/],
    [X({ type: M.TX, id: -1, payload: Uint8Array.of(1) }), RangeError, /TX\.id must be an integer in \[0, 65535\], got -1/],
    [X({ type: M.TX, id: 1, payload: Uint8Array.of(1), extensions: [] }), RangeError, /TX has no TLV area/],
    [X({ type: M.RX, rssi: Number.NaN, timestampUs: 0, payload: Uint8Array.of(1) }), RangeError, /RX\.rssi must be a number in \[-3276.7, 3276.7\] \(steps of 0.1\), got NaN/],
    [X({ type: M.RX, rssi: -3276.8, timestampUs: 0, payload: Uint8Array.of(1) }), RangeError, /RX\.rssi/],
    [X({ type: M.RX, snr: 32, timestampUs: 0, payload: Uint8Array.of(1) }), RangeError, /RX\.snr must be a number in \[-31.75, 31.75\] \(steps of 0.25\)/],
    [X({ type: M.RX, frequencyErrorHz: 400_000, timestampUs: 0, payload: Uint8Array.of(1) }), RangeError, /RX\.frequencyErrorHz must be a number in \[-327680, 327670\] \(steps of 10\)/],
    [X({ type: M.RX, timestampUs: 2 ** 32, payload: Uint8Array.of(1) }), RangeError, /RX\.timestampUs/],
    [X({ type: M.CONFIG_ERROR, id: 1, errors: [] }), RangeError, /CONFIG-ERROR\.errors must list 1..16 fields, got 0/],
    [X({ type: M.CONFIG_ERROR, id: 1, errors: [{ field: 9, reason: 1 }] }), RangeError, /CONFIG-ERROR\.errors: field must be 0..8 or a TLV type/],
    [X({ type: M.CONFIG_ERROR, id: 1, errors: [{ field: 1, reason: 0 }] }), RangeError, /reason must be 1..6, got 0/],
    [X({ type: M.CONFIG_ERROR, id: 1, errors: [{ field: 1, reason: 1 }, { field: 1, reason: 2 }] }), RangeError, /field 1 listed twice/],
    [X({ ...EXAMPLES.status, txAirtimeMs: 3_600_001 }), RangeError, /STATUS: txAirtimeMs 3600001 exceeds the 3600 s window/],
    [X({ ...EXAMPLES.status, channelLoadPermille: 1001 }), RangeError, /STATUS\.channelLoadPermille must be an integer in \[0, 1000\]/],
    [X({ ...EXAMPLES.error, text: 'x'.repeat(129) }), RangeError, /ERROR\.text must be at most 128 UTF-8 bytes/],
    [X({ ...EXAMPLES.error, code: 0 }), RangeError, /ERROR\.code must be an integer in \[1, 65535\]/],
    [X({ type: M.TX_ERROR, id: 1, reason: 8 }), RangeError, /TX-ERROR\.reason must be an integer in \[1, 7\]/],
  ]
  for (const [fn, type, what] of cases) throwsNaming(fn, type, what)
})

test('helpers: version choice, names, field keys, airtime estimate', () => {
  assert.is(chooseVersion(1, 3, 2, 5), 3)
  assert.is(chooseVersion(1, 1, 1, 1), 1)
  assert.is(chooseVersion(1, 1, 2, 3), 0)
  assert.is(chooseVersion(4, 6, 1, 3), 0)
  fc.assert(fc.property(ordered(1, 255), ordered(1, 255), (h, r) => {
    const v = chooseVersion(h[0], h[1], r[0], r[1])
    const common = [...Array(256).keys()].filter((x) => x >= h[0] && x <= h[1] && x >= r[0] && x <= r[1])
    return v === (common.length ? Math.max(...common) : 0)
  }), { numRuns: 500, seed: 3 })
  assert.is(bridgeMsgName(M.CONFIG_ERROR), 'CONFIG-ERROR')
  assert.is(bridgeMsgName(M.RADIO_HEARTBEAT), 'HEARTBEAT')
  assert.is(bridgeMsgName(0xee), '0xee')
  for (const id of Object.values(ConfigField)) assert.type(CONFIG_FIELD_KEYS[id], 'string')
  assert.is(CONFIG_FIELD_KEYS[ConfigField.FREQUENCY], 'frequencyHz')
  assert.is(configAckAirtimeMs({ bitrate: 8000, overheadUs: 5000 }, 100), 105)
  // Periodic STATUS keeps the requesting id; its answer flag differs.
  const s = decodeBridge(ex('status')) as Status
  assert.is(s.periodic, true)
})

// ---- bridge-defaults.ts ------------------------------------------------------------------------

test('bridge timing: defaults validate, are frozen and fit HELLO', () => {
  assert.equal(validateBridgeTiming(), { ...DEFAULT_BRIDGE_TIMING })
  assert.ok(Object.isFrozen(DEFAULT_BRIDGE_TIMING))
  assert.is(validateBridgeTiming({ heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500 }).heartbeatIntervalMs, 500)
  const t = validateBridgeTiming()
  const b = encodeBridge({ ...EXAMPLES.hello, heartbeatIntervalMs: t.heartbeatIntervalMs, heartbeatTimeoutMs: t.heartbeatTimeoutMs } as BridgeMessage)
  assert.is(b.length, HELLO_BASE_SIZE + 4)
  assert.is(txDoneTimeoutMs(t, 100), 625)
  assert.is(txDoneTimeoutMs(t, 100, 200), 825)
  assert.is(txDoneTimeoutMs({ txDoneAirtimeFactor: 1, txDoneMarginMs: 0 }, 0), 0)
  assert.throws(() => txDoneTimeoutMs(t, -1), /airtimeMs must be a finite number >= 0/)
  assert.throws(() => txDoneTimeoutMs(t, 1, Number.NaN), /lbtMaxWaitMs/)
})

test('bridge timing: errors name the field under the caller path; cross-field rules', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ heartbeatIntervalMs: 0 }, 'radio.bridge.heartbeatIntervalMs', /must be >= 10, got 0/],
    [{ heartbeatIntervalMs: 1.5 }, 'radio.bridge.heartbeatIntervalMs', /integer/],
    [{ heartbeatTimeoutMs: 70_000 }, 'radio.bridge.heartbeatTimeoutMs', /must be <= 65535/],
    [{ heartbeatTimeoutMs: 1500 }, 'radio.bridge.heartbeatTimeoutMs', /must be >= 2 × heartbeatIntervalMs \(2000\)/],
    [{ replyTimeoutMs: 4000 }, 'radio.bridge.replyTimeoutMs', /must be < heartbeatTimeoutMs \(3500\)/],
    [{ txDoneAirtimeFactor: 0.5 }, 'radio.bridge.txDoneAirtimeFactor', /must be >= 1/],
    [{ txDoneMarginMs: -1 }, 'radio.bridge.txDoneMarginMs', /must be >= 0/],
    [{ statusPeriodS: 'hourly' }, 'radio.bridge.statusPeriodS', /must be a number/],
    [{ heartbeat: 1000 }, 'radio.bridge.heartbeat', /unknown field/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validateBridgeTiming(input, 'radio.bridge'))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
  assert.is(configError(() => validateBridgeTiming(3 as unknown as Record<string, unknown>)).path, 'bridge')
})

test.run()
