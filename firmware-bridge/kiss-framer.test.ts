import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ConfigError, DecodeError } from '../core/errors.ts'
import { fromHex, toHex } from '../core/bytes.ts'
import { checkDecoderProperties, configError, decodeOrError } from '../core/testing.ts'
import {
  KISS_COMMAND, KissFramer, RNODE_CMD, applyRnodeReply, decodeRnodeReply, kissEncode, rnodeConfigFrames, rnodeConfigMismatches,
  rnodeDetectFrame, rnodeQueryFrames, type KissFrameEvent, type RnodeReported,
} from './kiss-framer.ts'
import type { FrameEvent } from './framer-types.ts'
import type { RnodeRadioConfig } from './framer-defaults.ts'

const show = (events: Array<FrameEvent<KissFrameEvent>>) =>
  events.map((e) => (e.kind === 'frame' ? `frame ${e.commandByte.toString(16)}:${e.port}:${e.command} ${toHex(e.payload)}` : `error ${e.code} ${e.skipped}`))
const frames = (events: Array<FrameEvent<KissFrameEvent>>) => events.filter((e): e is KissFrameEvent => e.kind === 'frame')

test('wire layout: FEND, escaped command byte and payload, FEND', () => {
  assert.is(toHex(kissEncode(0x00, new TextEncoder().encode('TEST'))), 'c00054455354c0')
  assert.is(toHex(kissEncode(0x00, Uint8Array.of(0xc0, 0xdb, 0xdc, 0xdd))), 'c000dbdcdbdddcddc0')
  assert.is(toHex(kissEncode(0xc0, Uint8Array.of(0x01))), 'c0dbdc01c0', 'a command byte equal to FEND is escaped too')
  assert.is(toHex(kissEncode(0x00, new Uint8Array(0))), 'c000c0')
  const f = new KissFramer()
  assert.equal(show(f.push(fromHex('c0dbdc01c0c000dbdcdbddc0'))), ['frame c0:12:0 01', 'frame 0:0:0 c0db'])
})

test('port and command nibbles; encode uses the configured port; standard TNC commands', () => {
  const f = new KissFramer({ port: 3 })
  assert.is(toHex(f.encode(Uint8Array.of(0x41))), 'c03041c0')
  assert.is(toHex(f.encodeCommand(KISS_COMMAND.TX_DELAY, Uint8Array.of(50), 2)), 'c02132c0')
  assert.is(toHex(f.encodeRaw(KISS_COMMAND.RETURN, new Uint8Array(0))), 'c0ffc0')
  assert.equal(show(f.push(fromHex('c02132c0c0ffc0'))), ['frame 21:2:1 32', 'frame ff:15:15 '])
  assert.throws(() => f.encodeCommand(16, new Uint8Array(0)), /0–15/)
  assert.throws(() => f.encodeCommand(1, new Uint8Array(0), 16), /port/)
  assert.throws(() => kissEncode(256, new Uint8Array(0)), /0–255/)
})

test('bytes before the first FEND are unframed; FEND runs are idle; reset hunts again', () => {
  const f = new KissFramer()
  assert.equal(show(f.push(fromHex('414243c0c0c00041c0c0'))), ['error unframed 3', 'frame 0:0:0 41'])
  f.push(fromHex('c00042'))
  f.reset()
  assert.equal(show(f.push(fromHex('4344c00045c0'))), ['error unframed 2', 'frame 0:0:0 45'])
  assert.equal(f.stats.errors.unframed, 2)
})

test('a bad escape drops the frame up to the next FEND, which opens the next one', () => {
  const f = new KissFramer()
  assert.equal(show(f.push(fromHex('c000db4142c00041c0'))), ['error kiss-escape 4', 'frame 0:0:0 41'])
  assert.equal(show(f.push(fromHex('c000dbc00042c0'))), ['error kiss-escape 2', 'frame 0:0:0 42'], 'FESC then FEND')
  assert.equal(show(f.push(fromHex('c0dbc0'))), ['error kiss-escape 1'], 'a lone FESC')
})

test('a KISS frame with a valid escape after garbage still resynchronises on FEND (every damaged prefix)', () => {
  const good = kissEncode(0, Uint8Array.of(0xc0, 0x01))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (g) => {
    const events = new KissFramer().push(Uint8Array.from([...g, ...good]))
    assert.equal(show(events.slice(-1)), ['frame 0:0:0 c001'])
  }), { seed: 31, numRuns: 500 })
})

// ---- RNode -------------------------------------------------------------------------------------

const CONFIG: RnodeRadioConfig = { frequencyHz: 868_000_000, bandwidthHz: 125_000, txPowerDbm: 14, spreadingFactor: 8, codingRate: 5 }

test('RNode configuration frames, byte for byte', () => {
  assert.equal(rnodeConfigFrames(CONFIG).map(toHex), ['c00133bca100c0', 'c0020001e848c0', 'c0030ec0', 'c00408c0', 'c00505c0', 'c00601c0'])
  // Values containing FEND/FESC bytes are escaped: 0x33DBC000 Hz, 0x0001C0DB Hz.
  const esc = rnodeConfigFrames({ ...CONFIG, frequencyHz: 0x33dbc000, bandwidthHz: 0x0001c0db })
  assert.equal(esc.slice(0, 2).map(toHex), ['c00133dbdddbdc00c0', 'c0020001dbdcdbddc0'])
  assert.is(toHex(rnodeDetectFrame()), 'c00873c0')
  assert.equal(rnodeQueryFrames().map(toHex), ['c00100000000c0', 'c00200000000c0', 'c003ffc0', 'c004ffc0', 'c005ffc0', 'c006ffc0'])
})

test('RNode configuration is validated, naming the field', () => {
  assert.is(configError(() => rnodeConfigFrames({ ...CONFIG, spreadingFactor: 13 })).path, 'rnode.spreadingFactor')
  assert.is(configError(() => rnodeConfigFrames({ ...CONFIG, frequencyHz: 0 })).path, 'rnode.frequencyHz')
  const { codingRate: _, ...partial } = CONFIG
  assert.match(configError(() => rnodeConfigFrames(partial as RnodeRadioConfig)).message, /rnode.codingRate: is required/)
})

/** A minimal RNode on the far end: applies settings (clamping TX power to 17 dBm like an SX127x) and echoes them. */
function emulatedRnode(): (bytes: Uint8Array) => Uint8Array[] {
  const framer = new KissFramer()
  return (bytes) => framer.push(bytes).flatMap((e) => {
    if (e.kind !== 'frame') return []
    if (e.commandByte === RNODE_CMD.TX_POWER) return [kissEncode(e.commandByte, Uint8Array.of(Math.min(e.payload[0], 17)))]
    if (e.commandByte === RNODE_CMD.DETECT && e.payload[0] === 0x73) return [kissEncode(RNODE_CMD.DETECT, Uint8Array.of(0x46))]
    return [kissEncode(e.commandByte, e.payload)]
  })
}

test('configure an (emulated) RNode and check its echoes', () => {
  const rnode = emulatedRnode()
  const host = new KissFramer()
  const replies = [rnodeDetectFrame(), ...rnodeConfigFrames(CONFIG)].flatMap(rnode).flatMap((b) => frames(host.push(b)))
  const decoded = replies.map((r) => decodeRnodeReply(r.commandByte, r.payload))
  assert.equal(decoded[0], { kind: 'detect' })
  const reported = decoded.reduce<RnodeReported>(applyRnodeReply, {})
  assert.equal(reported, { ...CONFIG, radioOn: true })
  assert.equal(rnodeConfigMismatches(CONFIG, reported), [])
  const hot = { ...CONFIG, txPowerDbm: 22 }
  const clamped = rnodeConfigFrames(hot).flatMap(rnode).flatMap((b) => frames(host.push(b))).map((r) => decodeRnodeReply(r.commandByte, r.payload))
  assert.equal(rnodeConfigMismatches(hot, clamped.reduce<RnodeReported>(applyRnodeReply, {})), ['txPowerDbm'])
  assert.equal(rnodeConfigMismatches(CONFIG, {}), ['frequencyHz', 'bandwidthHz', 'txPowerDbm', 'spreadingFactor', 'codingRate'])
})

test('RNode replies decode to values; wrong lengths and impossible values are DecodeErrors', () => {
  const d = (hex: string) => { const b = fromHex(hex); return decodeOrError((x) => decodeRnodeReply(x[0], x.subarray(1)), b) }
  assert.equal(d('0133bca100'), { kind: 'frequency', hz: 868_000_000 })
  assert.equal(d('23' + (157 - 57).toString(16)), { kind: 'rssi', dbm: -57 })
  assert.equal(d('24f6'), { kind: 'snr', db: -2.5 })
  assert.equal(d('03f7'), { kind: 'txPower', dbm: -9 })
  assert.equal(d('0600'), { kind: 'radioState', on: false })
  assert.equal(d('2100000102'), { kind: 'statRx', packets: 258 })
  assert.equal(d('9002'), { kind: 'error', code: 2 })
  assert.equal(d('0f01'), { kind: 'ready', ready: true })
  assert.equal(d('0f00'), { kind: 'ready', ready: false })
  assert.equal(d('00abcd'), { kind: 'data', payload: fromHex('abcd') })
  assert.equal(d('5001020304'), { kind: 'other', commandByte: 0x50, payload: fromHex('01020304') })
  for (const bad of ['0133bca1', '0602', '0873', '04', '240102', '2100', '0f02']) assert.instance(d(bad), DecodeError, bad)
})

test('the RNode reply decoder is total', () => {
  const one = (cmd: number, values: fc.Arbitrary<number> = fc.integer({ min: 0, max: 255 })) => values.map((v) => Uint8Array.of(cmd, v))
  const four = (cmd: number) => fc.uint8Array({ minLength: 4, maxLength: 4 }).map((p) => Uint8Array.of(cmd, ...p))
  const known = new Set<number>(Object.values(RNODE_CMD))
  const valid = fc.oneof(
    four(RNODE_CMD.FREQUENCY), four(RNODE_CMD.BANDWIDTH), four(RNODE_CMD.STAT_RX), four(RNODE_CMD.STAT_TX),
    one(RNODE_CMD.TX_POWER), one(RNODE_CMD.SPREADING_FACTOR), one(RNODE_CMD.CODING_RATE), one(RNODE_CMD.RADIO_STATE, fc.constantFrom(0, 1)),
    one(RNODE_CMD.DETECT, fc.constant(0x46)), one(RNODE_CMD.READY, fc.constantFrom(0, 1)), one(RNODE_CMD.STAT_RSSI), one(RNODE_CMD.STAT_SNR), one(RNODE_CMD.ERROR),
    fc.uint8Array({ maxLength: 40 }).map((p) => Uint8Array.of(0, ...p)),
    fc.tuple(fc.integer({ min: 0, max: 255 }).filter((c) => !known.has(c)), fc.uint8Array({ maxLength: 40 })).map(([c, p]) => Uint8Array.of(c, ...p)),
  )
  const decode = (b: Uint8Array) => {
    if (b.length === 0) throw new DecodeError('no command byte', 0)
    return decodeRnodeReply(b[0], b.subarray(1))
  }
  fc.configureGlobal({ seed: 32 })
  try {
    checkDecoderProperties({ decode, valid, encode: (b) => b, typeBytes: [...known], open: (b) => b[0] === 0 || !known.has(b[0]), numRuns: 1500 })
  } finally {
    fc.resetConfigureGlobal()
  }
  assert.instance(configError(() => rnodeConfigFrames({} as RnodeRadioConfig)), ConfigError)
})

test.run()
