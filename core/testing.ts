/**
 * Test support shared by *.test.ts (never imported by library code: it needs the fast-check and
 * uvu dev dependencies):
 * - `configError(fn)`: the ConfigError `fn` throws (fails the test if it throws nothing or
 *   something else);
 * - `checkDecoderProperties`: the property every decoder in spinmesh must have (docs/WIRE.md): any
 *   input gives a value or a DecodeError, nothing else — arbitrary bytes, arbitrary bytes behind
 *   each valid type byte, and valid encodings with one byte changed, cut short or extended.
 */
import fc from 'fast-check'
import * as assert from 'uvu/assert'
import { ConfigError, DecodeError } from './errors.ts'

/** The ConfigError `fn` throws. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (e) {
    assert.instance(e, ConfigError, `expected a ConfigError, got ${String(e)}`)
    return e as ConfigError
  }
  return assert.unreachable('expected a ConfigError, nothing was thrown') as never
}

/** Decode, returning the value, a DecodeError, or rethrowing anything else (a bug). */
export function decodeOrError<T>(decode: (b: Uint8Array) => T, b: Uint8Array): T | DecodeError {
  try {
    return decode(b)
  } catch (e) {
    if (e instanceof DecodeError) return e
    throw e
  }
}

export interface DecoderProperties<M> {
  decode: (b: Uint8Array) => unknown
  /** Valid messages and their encoder, for the mutation checks. */
  valid: fc.Arbitrary<M>
  encode: (m: M) => Uint8Array
  /** Type bytes whose per-type checks arbitrary tails should reach. */
  typeBytes?: number[]
  /** Messages whose last field is "the rest" (a payload): an extra byte is accepted, a cut one may be too. */
  open?: (m: M) => boolean
  numRuns?: number
}

/** Run the totality properties; also asserts exact-length messages reject truncation and trailing bytes. */
export function checkDecoderProperties<M>(o: DecoderProperties<M>): void {
  const numRuns = o.numRuns ?? 3000
  const d = (b: Uint8Array): unknown => decodeOrError(o.decode, b)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void d(b)), { numRuns })
  if (o.typeBytes?.length) {
    fc.assert(fc.property(fc.constantFrom(...o.typeBytes), fc.uint8Array({ maxLength: 300 }), (t, b) => void d(Uint8Array.of(t, ...b))), { numRuns })
  }
  fc.assert(fc.property(o.valid, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, v) => {
    const b = o.encode(m)
    const mutated = b.slice()
    mutated[at % b.length] = v
    d(mutated)
    d(b.subarray(0, at % b.length))
    const longer = new Uint8Array(b.length + 1)
    longer.set(b)
    const open = o.open?.(m) ?? false
    if (open) assert.not.instance(d(longer), DecodeError, 'an open-ended message takes an extra byte as payload')
    else {
      assert.instance(d(longer), DecodeError, 'trailing bytes are rejected')
      if (b.length > 0) assert.instance(d(b.subarray(0, b.length - 1)), DecodeError, 'truncation is rejected')
    }
  }), { numRuns })
}
