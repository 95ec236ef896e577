import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { generateKeyPairSync } from 'node:crypto'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { SpinmeshError } from '../core/errors.ts'
import { generateIdentity, identityFromSecrets } from './identity.ts'
import { hkdf, KEY_BYTES, nativeX25519, nobleX25519, pairwiseKey, x25519Backend, x25519Shared, type X25519Backend } from './pairwise.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
const isBadKey = (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_BAD_KEY'

assert.ok(nativeX25519, 'node:crypto here has X25519')
const backends: X25519Backend[] = [nativeX25519!, nobleX25519]

test('x25519Backend() picks native when available', () => {
  assert.is(x25519Backend(), nativeX25519)
})

test('RFC 7748 §6.1 X25519 vector (alice/bob) through both backends', () => {
  const alice = identityFromSecrets(new Uint8Array(32).fill(1), hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
  const bob = identityFromSecrets(new Uint8Array(32).fill(2), hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
  assert.equal(alice.x25519PublicKey, hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'))
  assert.equal(bob.x25519PublicKey, hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'))
  const k = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742')
  for (const b of backends) {
    assert.equal(x25519Shared(alice, bob.x25519PublicKey, b), k, `${b.name}: alice`)
    assert.equal(x25519Shared(bob, alice.x25519PublicKey, b), k, `${b.name}: bob`)
  }
  assert.equal(x25519Shared(alice, bob.x25519PublicKey), k, 'default backend (and the cached value)')
  const got = x25519Shared(alice, bob.x25519PublicKey)
  got.fill(0)
  assert.equal(x25519Shared(alice, bob.x25519PublicKey), k, 'callers get copies of the cached secret')
})

test('native and noble X25519 agree on random keys', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
    const me = identityFromSecrets(new Uint8Array(32), a)
    const peer = x25519.getPublicKey(b)
    const s = x25519Shared(me, peer, nobleX25519)
    assert.equal(x25519Shared(me, peer, nativeX25519), s)
    assert.equal(x25519.getSharedSecret(b, me.x25519PublicKey), s, 'the peer computes the same')
  }), { numRuns: 25 })
})

test('wrong-length and low-order peer keys are BAD_KEY on both backends', () => {
  const me = generateIdentity()
  // Low-order points of Curve25519 (RFC 7748 §6.1 asks to check for the all-zero output).
  const lowOrder = [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31)),
    hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
    hex('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157')]
  for (const b of backends) {
    assert.throws(() => x25519Shared(me, new Uint8Array(31), b), isBadKey)
    for (const p of lowOrder) assert.throws(() => x25519Shared(me, p, b), isBadKey, `${b.name}: ${Buffer.from(p).toString('hex')}`)
  }
  assert.throws(() => pairwiseKey(me, new Uint8Array(33), 'link', Uint8Array.of(1), { from: 1, to: 2 }), isBadKey)
})

test('RFC 5869 test case 1 (HKDF-SHA256)', () => {
  const okm = hkdf(new Uint8Array(22).fill(0x0b), hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42)
  assert.equal(okm, hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865'))
  assert.equal(hkdf(Uint8Array.of(1), Uint8Array.of(2), 'abc', 10), hkdf(Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(97, 98, 99), 10), 'string info is UTF-8')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 200 }), (ikm, salt, info, n) => {
    assert.equal(hkdf(ikm, salt, info, n), nobleHkdf(sha256, ikm, salt, info, n), 'native agrees with noble')
  }), { numRuns: 300 })
  assert.throws(() => hkdf(Uint8Array.of(1), Uint8Array.of(2), '', 0), RangeError)
  assert.throws(() => hkdf(Uint8Array.of(1), Uint8Array.of(2), '', 255 * 32 + 1), RangeError)
})

test('pairwiseKey: symmetric between two identities, independent per direction, label and network', () => {
  const a = generateIdentity(), b = generateIdentity()
  const net = Uint8Array.of(1, 2, 3, 4), net2 = Uint8Array.of(1, 2, 3, 5)
  const ab = { from: a.address, to: b.address }, ba = { from: b.address, to: a.address }
  const k = pairwiseKey(a, b.x25519PublicKey, 'link', net, ab)
  assert.is(k.length, KEY_BYTES)
  assert.equal(pairwiseKey(b, a.x25519PublicKey, 'link', net, ab), k, 'B derives the same key')
  assert.equal(pairwiseKey(b, a.x25519PublicKey, 'link', net, ab, nobleX25519), k, 'noble agrees')
  const others = [
    pairwiseKey(a, b.x25519PublicKey, 'link', net, ba),
    pairwiseKey(a, b.x25519PublicKey, 'odsbr', net, ab),
    pairwiseKey(a, b.x25519PublicKey, 'link', net2, ab),
    pairwiseKey(a, generateIdentity().x25519PublicKey, 'link', net, ab),
  ]
  assert.equal(pairwiseKey(b, a.x25519PublicKey, 'link', net, ba), others[0], 'the reverse direction is also shared')
  const all = [k, ...others].map((x) => Buffer.from(x).toString('hex'))
  assert.is(new Set(all).size, all.length, 'all independent')
  const badArg = (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_INVALID_ARGUMENT'
  assert.throws(() => pairwiseKey(a, b.x25519PublicKey, '', net, ab), badArg)
  assert.throws(() => pairwiseKey(a, b.x25519PublicKey, 'link', new Uint8Array(0), ab), badArg)
  assert.throws(() => pairwiseKey(a, b.x25519PublicKey, 'link', net, { from: -1, to: 2 }), badArg)
  assert.throws(() => pairwiseKey(a, b.x25519PublicKey, 'link', net, { from: 1, to: 2 ** 32 }), badArg)
})

test('pairwiseKey matches the documented derivation', () => {
  const a = generateIdentity(), b = generateIdentity()
  const net = Uint8Array.of(9, 9)
  const info = Uint8Array.from([...new TextEncoder().encode('spinmesh/link/v1'), 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xfe])
  assert.equal(pairwiseKey(a, b.x25519PublicKey, 'link', net, { from: 5, to: 0xfffffffe }), hkdf(x25519Shared(a, b.x25519PublicKey), net, info, 32))
})

test('the shared-secret cache stays bounded and correct past 4096 peers', () => {
  const me = generateIdentity()
  const peers = Array.from({ length: 4200 }, () => new Uint8Array(generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12)))
  const first = x25519Shared(me, peers[0], nativeX25519)
  for (const p of peers) x25519Shared(me, p, nativeX25519)
  assert.equal(x25519Shared(me, peers[0], nativeX25519), first, 'recomputed after eviction')
})

test.run()
