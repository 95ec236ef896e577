/**
 * Feed samples as applications see them, their schema, and the codec of the pbcast message body
 * that carries one (docs/WIRE.md, "Feed sample body").
 *
 * A feed is a pbcast stream (u16 id): one sensor feed or contract. The pbcast header already names
 * the origin, the stream and the seq, so the body carries only what is left:
 *
 *   offset size  field
 *   0      1     version = 1
 *   1      6     ts: u48 big-endian, the origin's wall clock, integer ms since the Unix epoch
 *   7      1     count: bit 7 = F64 (values are f64, else f32), bit 6 reserved (0), bits 0–5 = n
 *   8      4n|8n values: IEEE 754 big-endian, f32 (or f64 with F64)
 *
 * 8 + 4n bytes (f32) or 8 + 8n (f64): a PMU sample (frequency, angle, voltage) is 20 bytes.
 *
 * Why u48 ms and not f64: integer ms are what the sample means (the origin's clock has no finer
 * grain worth paying for on a radio link), 6 bytes cover the years 1970–10889, and every u48 is a
 * valid timestamp, so the decoder has nothing to reject there.
 *
 * Why f32 by default: a float32 has a 24-bit significand, 7.2 significant digits: at 50 Hz its
 * step is 3.8 µHz (250× finer than the 1 mHz a PMU frequency needs, and IEEE C37.118's own
 * floating-point data frames carry frequency and phasors as float32), at 230 kV 1/64 V, at 180°
 * 1.5e-5°. Each value costs 4 bytes instead of 8, i.e. 12 of a PMU sample's 32 would-be bytes of
 * airtime. Feeds that need more (energy counters, GPS coordinates, values above 3.4e38) set
 * `precision: 'f64'`; the F64 bit makes every body self-describing. NaN is allowed: C37.118 uses
 * it for "no measurement".
 *
 * The decoder is total: any input gives a body or a DecodeError (wrong version, reserved bit set,
 * truncated, trailing bytes); it allocates only the result (≤ 63 values).
 */
import type { Addr } from '../../core/addr.ts'
import { ByteReader } from '../../core/bytes.ts'
import { ConfigError, DecodeError } from '../../core/errors.ts'
import { checkObject, checkKeys, fieldPath } from '../../core/validate.ts'

/** One sample of a feed, as the application sees it. */
export interface FeedSample {
  /** The feed (= pbcast stream) id, u16. */
  feed: number
  origin: Addr
  /** Per (origin, feed), from 0, from the pbcast header. */
  seq: number
  /** The origin's wall clock when it measured, integer ms since the Unix epoch. */
  ts: number
  /** One value per schema field, in the schema's order. */
  values: Float64Array | number[]
}

/** What a message body carries. */
export interface SampleBody {
  ts: number
  values: Float64Array | readonly number[]
}

export type ValuePrecision = 'f32' | 'f64'

export interface DecodedSampleBody {
  ts: number
  values: Float64Array
  precision: ValuePrecision
}

export const SAMPLE_BODY_VERSION = 1
/** version + ts + count. */
export const SAMPLE_HEADER_SIZE = 8
/** Count byte: values are f64. */
export const SAMPLE_F64 = 0x80
/** Count byte: reserved, must be 0. */
export const SAMPLE_RESERVED = 0x40
/** Values per sample (6-bit count). */
export const MAX_SAMPLE_VALUES = 63
/** Largest timestamp (u48), ms: year 10889. */
export const MAX_SAMPLE_TS = 2 ** 48 - 1
export const MAX_FEED_ID = 0xffff
const F32_MAX = 3.4028234663852886e38

/** Encoded body size for `n` values. */
export function sampleBodySize(n: number, precision: ValuePrecision = 'f32'): number {
  return SAMPLE_HEADER_SIZE + n * (precision === 'f64' ? 8 : 4)
}

/**
 * Encode a sample's body. Throws RangeError for a ts outside [0, 2^48) or not an integer, more
 * than 63 values, or (f32) a finite value beyond float32's range (it would arrive as Infinity).
 */
export function encodeSampleBody(s: SampleBody, precision: ValuePrecision = 'f32'): Uint8Array {
  const { ts, values } = s
  if (!Number.isInteger(ts) || ts < 0 || ts > MAX_SAMPLE_TS) {
    throw new RangeError(`sample ts must be an integer number of ms in [0, 2^48), got ${ts}`)
  }
  if (values.length > MAX_SAMPLE_VALUES) throw new RangeError(`a sample carries at most ${MAX_SAMPLE_VALUES} values, got ${values.length}`)
  if (precision !== 'f32' && precision !== 'f64') throw new RangeError(`precision must be 'f32' or 'f64', got ${String(precision)}`)
  const f64 = precision === 'f64'
  const out = new Uint8Array(sampleBodySize(values.length, precision))
  const view = new DataView(out.buffer)
  out[0] = SAMPLE_BODY_VERSION
  view.setUint16(1, Math.floor(ts / 2 ** 32))
  view.setUint32(3, ts % 2 ** 32)
  out[7] = values.length | (f64 ? SAMPLE_F64 : 0)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'number') throw new RangeError(`value ${i} must be a number, got ${typeof v}`)
    if (f64) view.setFloat64(SAMPLE_HEADER_SIZE + 8 * i, v)
    else {
      if (Number.isFinite(v) && Math.abs(v) > F32_MAX) throw new RangeError(`value ${i} (${v}) is beyond float32's range: use precision 'f64'`)
      view.setFloat32(SAMPLE_HEADER_SIZE + 4 * i, v)
    }
  }
  return out
}

/** Decode a body (total: a body or a DecodeError). Values are copied out of the input. */
export function decodeSampleBody(bytes: Uint8Array): DecodedSampleBody {
  const r = new ByteReader(bytes, 'feed sample')
  const version = r.u8('version')
  if (version !== SAMPLE_BODY_VERSION) r.fail(`unknown version ${version} (this decoder reads ${SAMPLE_BODY_VERSION})`)
  const ts = r.u16('ts') * 2 ** 32 + r.u32('ts')
  const count = r.u8('count')
  if (count & SAMPLE_RESERVED) r.fail(`reserved bit 0x40 of the count byte is set`)
  const f64 = (count & SAMPLE_F64) !== 0
  const n = count & MAX_SAMPLE_VALUES
  const width = f64 ? 8 : 4
  const raw = r.bytesView(n * width, 'values')
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s) after ${n} values`)
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = f64 ? view.getFloat64(8 * i) : view.getFloat32(4 * i)
  return { ts, values, precision: f64 ? 'f64' : 'f32' }
}

/**
 * The sample a delivered pbcast message carries (its origin, stream and seq, its decoded body).
 * DecodeError for a bad body or a stream that is not a feed id (u16).
 */
export function sampleFromMessage(m: { origin: Addr; stream: number; seq: number; body: Uint8Array }): FeedSample {
  if (!Number.isInteger(m.stream) || m.stream < 0 || m.stream > MAX_FEED_ID) throw new DecodeError(`feed sample: stream ${m.stream} is not a feed id (u16)`)
  const b = decodeSampleBody(m.body)
  return { feed: m.stream, origin: m.origin, seq: m.seq, ts: b.ts, values: b.values }
}

// ---------------------------------------------------------------------------------------------
// Schemas

export interface FeedField {
  /** Identifier-like: letters, digits, `_`, `-`, `.`; starts with a letter. */
  name: string
  /** Unit symbol (`Hz`, `deg`, `V`, `A`, `W`, `var`, …); '' for a dimensionless value. */
  unit: string
}

/** What a feed's values mean: one field per value, in order. */
export interface FeedSchema {
  /** The feed (= pbcast stream) id, u16. */
  id: number
  name: string
  fields: readonly FeedField[]
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
const MAX_UNIT_LENGTH = 16

function checkName(path: string, v: unknown): string {
  if (typeof v !== 'string' || !NAME.test(v)) {
    throw new ConfigError(path, `must be a name of 1–64 letters, digits, '_', '-', '.' starting with a letter, got ${JSON.stringify(v)}`)
  }
  return v
}

/**
 * Check a schema (from a config file or code); throws ConfigError naming `path.field`
 * (`feeds[2].fields[1].unit: …`). Returns a frozen copy.
 */
export function validateFeedSchema(input: unknown, path = 'feed'): FeedSchema {
  const o = checkObject(path, input)
  checkKeys(path, o, ['id', 'name', 'fields'])
  const id = o.id
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_FEED_ID) {
    throw new ConfigError(fieldPath(path, 'id'), `must be an integer in [0, ${MAX_FEED_ID}] (the pbcast stream), got ${String(id)}`)
  }
  const name = checkName(fieldPath(path, 'name'), o.name)
  const fp = fieldPath(path, 'fields')
  if (!Array.isArray(o.fields) || o.fields.length === 0 || o.fields.length > MAX_SAMPLE_VALUES) {
    throw new ConfigError(fp, `must be a list of 1–${MAX_SAMPLE_VALUES} fields`)
  }
  const seen = new Set<string>()
  const fields = o.fields.map((f: unknown, i: number) => {
    const at = `${fp}[${i}]`
    const fo = checkObject(at, f)
    checkKeys(at, fo, ['name', 'unit'])
    const fname = checkName(`${at}.name`, fo.name)
    if (seen.has(fname)) throw new ConfigError(`${at}.name`, `duplicate field name ${JSON.stringify(fname)}`)
    seen.add(fname)
    const unit = fo.unit
    if (typeof unit !== 'string' || unit.length > MAX_UNIT_LENGTH || /[\s\u0000-\u001f]/.test(unit)) {
      throw new ConfigError(`${at}.unit`, `must be a unit symbol of at most ${MAX_UNIT_LENGTH} characters without spaces ('' if dimensionless), got ${JSON.stringify(unit)}`)
    }
    return Object.freeze({ name: fname, unit })
  })
  return Object.freeze({ id, name, fields: Object.freeze(fields) })
}

/** A sample's values by field name (for JSON, MQTT, dashboards). RangeError if the count differs. */
export function sampleRecord(schema: FeedSchema, values: ArrayLike<number>): Record<string, number> {
  if (values.length !== schema.fields.length) {
    throw new RangeError(`feed ${schema.id} (${schema.name}) has ${schema.fields.length} fields, the sample ${values.length} values`)
  }
  const out: Record<string, number> = {}
  schema.fields.forEach((f, i) => { out[f.name] = values[i] })
  return out
}

// ---------------------------------------------------------------------------------------------
// The PMU feed

/** Value indices of a PMU sample. */
export const PMU_FREQUENCY = 0
export const PMU_PHASE_ANGLE = 1
export const PMU_VOLTAGE = 2

/** The default feed id of PMU samples (any u16 may be used: `pmuSchema(id)`). */
export const PMU_FEED_ID = 1

/**
 * A phasor measurement unit's feed: frequency (Hz), the voltage phasor's angle (degrees, in
 * (−180, 180], relative to a nominal-frequency reference) and its magnitude (V, RMS).
 */
export function pmuSchema(id: number = PMU_FEED_ID, name = 'pmu'): FeedSchema {
  return validateFeedSchema({
    id,
    name,
    fields: [
      { name: 'frequency', unit: 'Hz' },
      { name: 'phaseAngle', unit: 'deg' },
      { name: 'voltage', unit: 'V' },
    ],
  }, 'pmuSchema')
}

export const PMU_SCHEMA: FeedSchema = pmuSchema()
