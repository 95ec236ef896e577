import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, configError, decodeOrError } from '../../core/testing.ts'
import {
  MAX_SAMPLE_TS, MAX_SAMPLE_VALUES, PMU_FEED_ID, PMU_SCHEMA, SAMPLE_HEADER_SIZE,
  decodeSampleBody, encodeSampleBody, pmuSchema, sampleBodySize, sampleFromMessage, sampleRecord, validateFeedSchema,
  type ValuePrecision,
} from './sample.ts'

const ts = fc.integer({ min: 0, max: MAX_SAMPLE_TS })
const f32Values = fc.array(fc.float({ noDefaultInfinity: false }), { maxLength: MAX_SAMPLE_VALUES })
const f64Values = fc.array(fc.double(), { maxLength: MAX_SAMPLE_VALUES })
const body = fc.oneof(
  fc.record({ ts, values: f32Values, precision: fc.constant<ValuePrecision>('f32') }),
  fc.record({ ts, values: f64Values, precision: fc.constant<ValuePrecision>('f64') }),
)

test('round trip: ts exact, f64 values exact, f32 values as float32 (NaN kept)', () => {
  fc.assert(fc.property(body, (b) => {
    const bytes = encodeSampleBody(b, b.precision)
    assert.is(bytes.length, sampleBodySize(b.values.length, b.precision))
    const d = decodeSampleBody(bytes)
    assert.is(d.ts, b.ts)
    assert.is(d.precision, b.precision)
    assert.instance(d.values, Float64Array)
    assert.equal([...d.values], b.values.map((v) => (b.precision === 'f32' ? Math.fround(v) : v)))
  }), { numRuns: 3000 })
})

test('sizes: 8 + 4n (f32), 8 + 8n (f64); a PMU sample is 20 bytes', () => {
  assert.is(SAMPLE_HEADER_SIZE, 8)
  assert.is(sampleBodySize(3), 20)
  assert.is(sampleBodySize(3, 'f64'), 32)
  const pmu = encodeSampleBody({ ts: 1_700_000_000_123, values: [50.0012, -179.99, 229_871.5] })
  assert.is(pmu.length, 20)
  assert.equal([...pmu.subarray(0, 8)], [1, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 3])
  assert.is(encodeSampleBody({ ts: 0, values: [1] }, 'f64')[7], 0x81)
})

test('f32 keeps PMU precision: frequency to 4 µHz, voltage to 1/64 V, angle to 2e-5 degrees', () => {
  let worstF = 0, worstV = 0, worstA = 0
  for (let i = 0; i <= 20_000; i++) {
    const f = 49.5 + i * 0.00005 + 10.5 * (i % 2)
    const a = -180 + i * 0.018
    const v = 150_000 + i * 5.3
    const d = decodeSampleBody(encodeSampleBody({ ts: i, values: [f, a, v] })).values
    worstF = Math.max(worstF, Math.abs(d[0] - f))
    worstA = Math.max(worstA, Math.abs(d[1] - a))
    worstV = Math.max(worstV, Math.abs(d[2] - v))
  }
  assert.ok(worstF <= 3.82e-6 / 2 + 1e-12, `frequency error ${worstF}`)
  assert.ok(worstF < 0.001 / 100, '50.000 Hz ± 0.001 needs 1e-5 Hz or better')
  assert.ok(worstA <= 1.53e-5 / 2 + 1e-12, `angle error ${worstA}`)
  assert.ok(worstV <= 1 / 64 / 2, `voltage error ${worstV}`)
})

test('encoder refuses what it cannot carry', () => {
  assert.throws(() => encodeSampleBody({ ts: -1, values: [] }), /ts must be an integer/)
  assert.throws(() => encodeSampleBody({ ts: 1.5, values: [] }), /ts must be an integer/)
  assert.throws(() => encodeSampleBody({ ts: 2 ** 48, values: [] }), /2\^48/)
  assert.throws(() => encodeSampleBody({ ts: 0, values: new Array(64).fill(0) }), /at most 63/)
  assert.throws(() => encodeSampleBody({ ts: 0, values: [1e39] }), /float32's range: use precision 'f64'/)
  assert.is(decodeSampleBody(encodeSampleBody({ ts: 0, values: [1e39] }, 'f64')).values[0], 1e39)
  assert.is(decodeSampleBody(encodeSampleBody({ ts: 0, values: [-Infinity] })).values[0], -Infinity)
  assert.throws(() => encodeSampleBody({ ts: 0, values: [] }, 'f16' as ValuePrecision), /precision/)
})

test('decoder rejects version, reserved bit, truncation and trailing bytes, naming the problem', () => {
  const ok = encodeSampleBody({ ts: 5, values: [1, 2] })
  const err = (b: Uint8Array): string => {
    const r = decodeOrError(decodeSampleBody, b)
    assert.instance(r, DecodeError)
    return (r as DecodeError).message
  }
  assert.match(err(new Uint8Array(0)), /truncated: version/)
  assert.match(err(Uint8Array.of(2, ...ok.subarray(1))), /unknown version 2/)
  const reserved = ok.slice()
  reserved[7] |= 0x40
  assert.match(err(reserved), /reserved bit/)
  assert.match(err(ok.subarray(0, ok.length - 1)), /truncated: values/)
  assert.match(err(Uint8Array.of(...ok, 0)), /1 trailing byte/)
  const f64flag = ok.slice()
  f64flag[7] |= 0x80
  assert.match(err(f64flag), /truncated: values needs 16/)
})

test('decoder is total (fast-check)', () => {
  checkDecoderProperties({
    decode: decodeSampleBody,
    valid: body,
    encode: (b) => encodeSampleBody(b, b.precision),
    typeBytes: [1],
  })
})

test('sampleFromMessage: header fields + body; a stream beyond u16 is a DecodeError', () => {
  const b = encodeSampleBody({ ts: 1_700_000_000_000, values: [50, 0, 230_000] })
  const s = sampleFromMessage({ origin: 9, stream: PMU_FEED_ID, seq: 41, body: b })
  assert.equal({ ...s, values: [...s.values] }, { feed: 1, origin: 9, seq: 41, ts: 1_700_000_000_000, values: [50, 0, 230_000] })
  assert.instance(decodeOrError((x) => sampleFromMessage({ origin: 9, stream: 70_000, seq: 0, body: x }), b), DecodeError)
  assert.instance(decodeOrError((x) => sampleFromMessage({ origin: 9, stream: 1, seq: 0, body: x }), b.subarray(1)), DecodeError)
})

test('schemas: the PMU schema; validation names the field', () => {
  assert.equal(PMU_SCHEMA, {
    id: 1, name: 'pmu',
    fields: [{ name: 'frequency', unit: 'Hz' }, { name: 'phaseAngle', unit: 'deg' }, { name: 'voltage', unit: 'V' }],
  })
  assert.ok(Object.isFrozen(PMU_SCHEMA) && Object.isFrozen(PMU_SCHEMA.fields) && Object.isFrozen(PMU_SCHEMA.fields[0]))
  assert.is(pmuSchema(77, 'pmu-bus7').id, 77)
  assert.equal(sampleRecord(PMU_SCHEMA, [50.01, 12.5, 231_000]), { frequency: 50.01, phaseAngle: 12.5, voltage: 231_000 })
  assert.throws(() => sampleRecord(PMU_SCHEMA, [1, 2]), /has 3 fields, the sample 2 values/)
  const fields = [{ name: 'p', unit: 'W' }]
  const cases: Array<[unknown, string, RegExp]> = [
    [{ id: 70_000, name: 'x', fields }, 'feeds[2].id', /\[0, 65535\]/],
    [{ id: 1.5, name: 'x', fields }, 'feeds[2].id', /integer/],
    [{ id: 1, name: '', fields }, 'feeds[2].name', /name of 1–64/],
    [{ id: 1, name: 'x', fields: [] }, 'feeds[2].fields', /1–63 fields/],
    [{ id: 1, name: 'x', fields: [...fields, { name: 'p', unit: 'var' }] }, 'feeds[2].fields[1].name', /duplicate/],
    [{ id: 1, name: 'x', fields: [{ name: 'q', unit: 'k W' }] }, 'feeds[2].fields[0].unit', /unit symbol/],
    [{ id: 1, name: 'x', fields: [{ name: 'q' }] }, 'feeds[2].fields[0].unit', /unit symbol/],
    [{ id: 1, name: 'x', fields: [{ name: 'q', unit: '', scale: 2 }] }, 'feeds[2].fields[0].scale', /unknown field/],
    [{ id: 1, name: 'x', fields, extra: 1 }, 'feeds[2].extra', /unknown field/],
    [3, 'feeds[2]', /mapping/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validateFeedSchema(input, 'feeds[2]'))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
  assert.is(validateFeedSchema({ id: 0, name: 'ratio', fields: [{ name: 'pf', unit: '' }] }).fields[0].unit, '')
})

test.run()
