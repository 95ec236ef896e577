import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST, GROUP_BASE } from '../core/addr.ts'
import { DecodeError } from '../core/errors.ts'
import { FLOOD_HEADER_SIZE, decodeFlood, encodeFlood } from './flood-frame.ts'

const header = fc.record({
  origin: fc.integer({ min: 1, max: 0x7fffffff }),
  dst: fc.oneof(fc.integer({ min: 1, max: 0x7fffffff }), fc.integer({ min: GROUP_BASE, max: BROADCAST - 1 }), fc.constant(BROADCAST)),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  ttl: fc.integer({ min: 1, max: 255 }),
  hops: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 200 }),
})

function total(b: Uint8Array): void {
  try {
    decodeFlood(b)
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`threw a non-DecodeError: ${String(e)}`)
  }
}

test('the flood header is 14 bytes with the documented layout', () => {
  assert.is(FLOOD_HEADER_SIZE, 14)
  const b = encodeFlood({ origin: 0x01020304, dst: BROADCAST, seq: 0xa0b0c0d0, ttl: 32, hops: 3, payload: Uint8Array.of(9) })
  assert.equal([...b], [1, 2, 3, 4, 255, 255, 255, 255, 0xa0, 0xb0, 0xc0, 0xd0, 32, 3, 9])
})

test('round trip', () => {
  fc.assert(
    fc.property(header, (h) => {
      const back = decodeFlood(encodeFlood(h))
      assert.equal({ ...back, payload: [...back.payload] }, { ...h, payload: [...h.payload] })
    }),
    { seed: 31, numRuns: 500 },
  )
})

test('arbitrary and mutated bytes decode to a header or a DecodeError, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), total), { seed: 32, numRuns: 5000 })
  const mutated = fc.tuple(header, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat({ max: 20 })).map(([h, flips, cut]) => {
    const b = encodeFlood(h).slice()
    for (const [i, v] of flips) b[i % b.length] = v
    return b.subarray(0, Math.max(0, b.length - cut))
  })
  fc.assert(fc.property(mutated, total), { seed: 33, numRuns: 5000 })
})

test('invalid headers are refused', () => {
  const ok = { origin: 1, dst: 2, seq: 0, ttl: 1, hops: 0, payload: new Uint8Array(0) }
  assert.throws(() => decodeFlood(encodeFlood(ok).subarray(0, 13)), (e: unknown) => e instanceof DecodeError && /truncated/.test((e as Error).message))
  assert.throws(() => decodeFlood(encodeFlood({ ...ok, origin: 0 })), /origin 0/)
  assert.throws(() => decodeFlood(encodeFlood({ ...ok, origin: GROUP_BASE })), /not a node/)
  assert.throws(() => decodeFlood(encodeFlood({ ...ok, dst: 0 })), /dst 0/)
  assert.throws(() => decodeFlood(encodeFlood({ ...ok, ttl: 0 })), /ttl 0/)
})

test.run()
