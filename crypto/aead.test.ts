import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  AEAD_TAG_BYTES, hmacTag, hmacVerify, MacKey, nativeSymmetric, nobleSymmetric, open, seal, symmetric, type SymmetricBackend,
} from './aead.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'))
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

assert.ok(nativeSymmetric, 'node:crypto here has ChaCha20-Poly1305 and HMAC')
const native = nativeSymmetric!
const backends: SymmetricBackend[] = [native, nobleSymmetric]

test('symmetric() picks native when available', () => {
  assert.is(symmetric(), native)
  assert.is(native.name, 'native')
  assert.is(nobleSymmetric.name, 'noble')
})

test('RFC 8439 §2.8.2 AEAD vector through both backends', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
  const nonce = hex('070000004041424344454647')
  const aad = hex('50515253c0c1c2c3c4c5c6c7')
  const plaintext = text("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
  const expected = hex(`
    d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b6116
    1ae10b594f09e26a7e902ecbd0600691`)
  for (const b of backends) {
    const sealed = b.seal(key, nonce, plaintext, aad)
    assert.instance(sealed, Uint8Array)
    assert.equal(sealed, expected, b.name)
    assert.equal(b.open(key, nonce, sealed, aad), plaintext, b.name)
    assert.is(b.open(key, nonce, sealed), null, `${b.name}: without the AAD`)
  }
  assert.equal(seal(key, nonce, plaintext, aad), expected)
})

test('RFC 4231 test case 2 (HMAC-SHA256) and truncation', () => {
  const key = text('Jefe'), data = text('what do ya want for nothing?')
  const full = hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  for (const b of backends) assert.equal(b.hmac(key, data), full, b.name)
  assert.equal(nobleSymmetric.hmac(key, data.subarray(0, 5), data.subarray(5)), full, 'parts are concatenated')
  assert.equal(hmacTag(key, data, 32), full)
  assert.equal(hmacTag(key, data, 8), full.subarray(0, 8))
  assert.ok(hmacVerify(key, data, full.slice(0, 4)))
  assert.ok(hmacVerify(key, data, full))
  for (const b of backends) {
    const m = new MacKey(key, 16, b)
    assert.equal(m.tag(data.subarray(0, 10), data.subarray(10, 10), data.subarray(10)), full.subarray(0, 16), b.name)
    assert.ok(m.verify(full.slice(0, 16), data))
    assert.not.ok(m.verify(full.slice(0, 15), data), 'another length')
  }
})

test('open returns null on anything that does not verify; RangeError only for key/nonce lengths', () => {
  const key = new Uint8Array(32).fill(7), nonce = new Uint8Array(12).fill(9)
  for (const b of backends) {
    const sealed = b.seal(key, nonce, text('hello'), text('hdr'))
    assert.is(sealed.length, 5 + AEAD_TAG_BYTES)
    for (let i = 0; i < sealed.length * 8; i++) {
      const bad = sealed.slice()
      bad[i >> 3] ^= 1 << (i & 7)
      assert.is(b.open(key, nonce, bad, text('hdr')), null)
    }
    assert.is(b.open(key, nonce, sealed.subarray(0, 15), text('hdr')), null, 'shorter than a tag')
    assert.is(b.open(key, nonce, new Uint8Array(0)), null)
    assert.is(b.open(key, nonce, sealed.subarray(1), text('hdr')), null)
    assert.is(b.open(new Uint8Array(32), nonce, sealed, text('hdr')), null, 'another key')
    assert.is(b.open(key, new Uint8Array(12), sealed, text('hdr')), null, 'another nonce')
    assert.equal(b.open(key, nonce, b.seal(key, nonce, new Uint8Array(0))), new Uint8Array(0), 'empty plaintext')
    assert.throws(() => b.seal(new Uint8Array(31), nonce, text('x')), RangeError)
    assert.throws(() => b.open(key, new Uint8Array(8), sealed), RangeError)
  }
  assert.is(open(key, nonce, new Uint8Array(3)), null)
  assert.throws(() => hmacTag(key, text('x'), 3), RangeError)
  assert.throws(() => new MacKey(key, 33), RangeError)
  assert.throws(() => new MacKey(new Uint8Array(0), 16), RangeError)
  assert.not.ok(hmacVerify(key, text('x'), new Uint8Array(3)), 'a 3-byte tag never verifies')
  assert.not.ok(hmacVerify(key, text('x'), new Uint8Array(33)))
})

test('native and noble agree byte for byte on random inputs', () => {
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
  fc.assert(fc.property(bytes(32), bytes(12), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (key, nonce, pt, aad) => {
    const a = native.seal(key, nonce, pt, aad)
    assert.equal(nobleSymmetric.seal(key, nonce, pt, aad), a)
    assert.equal(nobleSymmetric.open(key, nonce, a, aad), pt)
    assert.equal(native.open(key, nonce, a, aad), pt)
  }), { numRuns: 300 })
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 4 }), fc.integer({ min: 4, max: 32 }), (key, parts, n) => {
    const full = hmac(sha256, key, Uint8Array.from(parts.flatMap((p) => [...p])))
    assert.equal(native.hmac(key, ...parts), full)
    assert.equal(nobleSymmetric.hmac(key, ...parts), full)
    const tag = new MacKey(key, n, native).tag(...parts)
    assert.equal(new MacKey(key, n, nobleSymmetric).tag(...parts), tag)
    assert.equal(tag, full.subarray(0, n))
    assert.ok(new MacKey(key, n, nobleSymmetric).verify(tag, ...parts))
    const bad = tag.slice()
    bad[0] ^= 0x80
    assert.not.ok(new MacKey(key, n).verify(bad, ...parts))
  }), { numRuns: 300 })
})

test('tags are plain Uint8Arrays that do not alias later tags', () => {
  const m = new MacKey(new Uint8Array(32).fill(1), 16)
  const t1 = m.tag(text('a'))
  const copy = t1.slice()
  m.tag(text('b'))
  assert.equal(t1, copy)
  assert.is(t1.constructor, Uint8Array)
})

test.run()
