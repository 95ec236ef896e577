import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ed25519, nativeEd25519, nobleEd25519 } from './ed25519.ts'

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// RFC 8032 §7.1, TEST 1–3 and TEST SHA(abc).
const VECTORS = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

const backends = [nobleEd25519, ...(nativeEd25519 ? [nativeEd25519] : [])]

test('this runtime has native Ed25519, and it is the default', () => {
  assert.ok(nativeEd25519, 'Node >= 20 ships Ed25519 in node:crypto')
  assert.is(ed25519().name, 'native')
})

test('RFC 8032 test vectors, both backends', () => {
  for (const b of backends) {
    for (const v of VECTORS) {
      const s = b.signer(hex(v.seed))
      assert.is(toHex(s.publicKey), v.pub, `${b.name} public key`)
      assert.is(toHex(s.sign(hex(v.msg))), v.sig, `${b.name} signature`)
      assert.ok(b.verify(hex(v.pub), hex(v.msg), hex(v.sig)))
    }
  }
})

test('native and noble agree byte for byte, and each verifies the other', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 600 }), (seed, msg) => {
    const a = nativeEd25519!.signer(seed)
    const b = nobleEd25519.signer(seed)
    assert.equal(a.publicKey, b.publicKey)
    const sa = a.sign(msg)
    assert.equal(sa, b.sign(msg))
    assert.ok(nobleEd25519.verify(a.publicKey, msg, sa))
    assert.ok(nativeEd25519!.verify(b.publicKey, msg, sa))
  }), { numRuns: 200 })
})

test('verify says false, never throws, for modified messages or signatures and malformed keys', () => {
  const v = VECTORS[2]
  for (const b of backends) {
    const msg = hex(v.msg)
    const sig = hex(v.sig)
    const pub = hex(v.pub)
    const bad = (p: Uint8Array, m: Uint8Array, s: Uint8Array) => assert.is(b.verify(p, m, s), false, `${b.name}`)
    bad(pub, Uint8Array.of(0xaf, 0x83), sig)
    const s2 = sig.slice(); s2[10] ^= 1; bad(pub, msg, s2)
    const p2 = pub.slice(); p2[3] ^= 1; bad(p2, msg, sig)
    bad(pub.subarray(0, 31), msg, sig)
    bad(pub, msg, sig.subarray(0, 63))
    bad(new Uint8Array(32).fill(0xff), msg, sig) // not a point
    assert.throws(() => b.signer(new Uint8Array(31)), /32 bytes/)
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 10 }), fc.uint8Array({ maxLength: 70 }), (p, m, s) => {
    for (const b of backends) assert.type(b.verify(p, m, s), 'boolean')
  }), { numRuns: 500 })
})

test.run()
