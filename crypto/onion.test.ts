import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { buildOnion, ONION_LAYER_OVERHEAD, peelOnion } from './onion.ts'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const layersArb = fc.array(fc.record({ key: bytes(32), content: fc.uint8Array({ maxLength: 40 }) }), { minLength: 1, maxLength: 8 })
  .filter((ls) => new Set(ls.map((l) => Buffer.from(l.key).toString('hex'))).size === ls.length)

/** Peel every layer in order; the contents, or null where a peel failed. */
function peelAll(keys: Uint8Array[], onion: Uint8Array, nonce: Uint8Array): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = []
  let cur: Uint8Array | null = onion
  for (const k of keys) {
    const r: { content: Uint8Array; rest: Uint8Array } | null = cur === null ? null : peelOnion(k, cur, nonce)
    out.push(r ? r.content : null)
    cur = r ? r.rest : null
  }
  return out
}

test('build 1..8 layers; peeling in order gives each content, and nothing after the last', () => {
  fc.assert(fc.property(layersArb, bytes(12), (layers, nonce) => {
    const onion = buildOnion(layers, nonce)
    assert.is(onion.length, layers.reduce((n, l) => n + l.content.length + ONION_LAYER_OVERHEAD, 0))
    let cur = onion
    for (const l of layers) {
      const r = peelOnion(l.key, cur, nonce)
      assert.ok(r)
      assert.equal(r!.content, l.content)
      cur = r!.rest
    }
    assert.is(cur.length, 0)
  }), { numRuns: 300 })
})

test('a relay cannot peel with another key, nor alter, swap or drop layers undetectably', () => {
  fc.assert(fc.property(layersArb, bytes(12), fc.nat(), (layers, nonce, pick) => {
    const keys = layers.map((l) => l.key)
    const onion = buildOnion(layers, nonce)
    // Any single flipped bit anywhere: the layer holding it (or an outer one) fails.
    const bit = pick % (onion.length * 8)
    const flipped = onion.slice()
    flipped[bit >> 3] ^= 1 << (bit & 7)
    assert.ok(peelAll(keys, flipped, nonce).includes(null), 'flipped bit')
    // Another nonce, or the wrong key for the first layer.
    const n2 = nonce.slice()
    n2[pick % 12] ^= 1
    assert.is(peelOnion(keys[0], onion, n2), null)
    if (layers.length > 1) {
      assert.is(peelOnion(keys[1], onion, nonce), null, 'the second probe cannot read the outer layer')
      // Relay 0 peels, then drops the next layer (forwards its rest instead): probe 1 fails.
      const r0 = peelOnion(keys[0], onion, nonce)!
      const r1 = peelOnion(keys[1], r0.rest, nonce)!
      assert.is(peelOnion(keys[1], r1.rest, nonce), null, 'removed layer')
      // Relay 0 alters the rest: probe 1 fails.
      const altered = r0.rest.slice()
      altered[pick % altered.length] ^= 0x40
      assert.is(peelOnion(keys[1], altered, nonce), null, 'altered rest')
      // Swap two layers' order at build time: peeling in the original order fails at the swap.
      const swapped = buildOnion([layers[1], layers[0], ...layers.slice(2)], nonce)
      assert.is(peelOnion(keys[0], swapped, nonce), null, 'swapped layers')
      // Truncated / extended onions fail.
      assert.is(peelOnion(keys[0], onion.subarray(0, onion.length - 1), nonce), null)
      assert.is(peelOnion(keys[0], Uint8Array.from([...onion, 0]), nonce), null)
    }
  }), { numRuns: 300 })
})

test('peelOnion is total on arbitrary bytes (null, never throws)', () => {
  const key = new Uint8Array(32).fill(5), nonce = new Uint8Array(12)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    assert.is(peelOnion(key, b, nonce), null)
  }), { numRuns: 2000 })
})

test('empty contents and the limits', () => {
  const key = new Uint8Array(32).fill(1), nonce = new Uint8Array(12).fill(2)
  const one = buildOnion([{ key, content: new Uint8Array(0) }], nonce)
  assert.is(one.length, ONION_LAYER_OVERHEAD)
  assert.equal(peelOnion(key, one, nonce), { content: new Uint8Array(0), rest: new Uint8Array(0) })
  assert.is(buildOnion([], nonce).length, 0)
  assert.is(peelOnion(key, new Uint8Array(0), nonce), null)
  assert.throws(() => buildOnion([{ key, content: new Uint8Array(65536) }], nonce), RangeError)
  assert.throws(() => buildOnion([{ key, content: new Uint8Array(1) }], new Uint8Array(8)), RangeError)
  assert.throws(() => peelOnion(new Uint8Array(16), one, nonce), RangeError)
})

test.run()
