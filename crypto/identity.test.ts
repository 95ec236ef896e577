import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isNodeAddr } from '../core/addr.ts'
import { DecodeError, SpinmeshError } from '../core/errors.ts'
import { decodeOrError } from '../core/testing.ts'
import { nobleEd25519 } from './ed25519.ts'
import { addressOf, decodeIdentity, encodeIdentity, generateIdentity, identityFromSecrets, loadIdentity, saveIdentity, verify } from './identity.ts'

const dir = mkdtempSync(join(tmpdir(), 'spinmesh-identity-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('generateIdentity: 32-byte keys, a node address from the public key, 64-byte signatures that verify', () => {
  const id = generateIdentity()
  assert.is(id.publicKey.length, 32)
  assert.is(id.x25519PublicKey.length, 32)
  assert.ok(isNodeAddr(id.address))
  assert.is(id.address, addressOf(id.publicKey))
  const msg = new TextEncoder().encode('hello mesh')
  const sig = id.sign(msg)
  assert.is(sig.length, 64)
  assert.ok(verify(id.publicKey, msg, sig))
  assert.not.ok(verify(id.publicKey, new TextEncoder().encode('hello mess'), sig))
  assert.not.ok(verify(generateIdentity().publicKey, msg, sig), 'another key')
  assert.ok(verify(id.publicKey, msg, sig, nobleEd25519), 'the portable backend agrees')
})

test('addresses: deterministic, always a node address (1..2^31-1), spread evenly', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (pk) => {
    const a = addressOf(pk)
    assert.ok(isNodeAddr(a))
    assert.is(addressOf(pk), a)
  }), { numRuns: 2000 })
  let top = 0
  for (let i = 0; i < 4000; i++) if (addressOf(Uint8Array.of(i & 0xff, i >> 8, ...new Uint8Array(30))) >= 0x40000000) top++
  assert.ok(Math.abs(top / 4000 - 0.5) < 0.04, `upper half ${top / 4000}`)
})

test('identity files: round trip, written 0600, and refused when others can read them', () => {
  const id = identityFromSecrets(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2))
  const file = join(dir, 'node.id')
  saveIdentity(id, file)
  assert.is(statSync(file).mode & 0o777, 0o600)
  const back = loadIdentity(file)
  assert.equal([back.address, back.publicKey, back.x25519PublicKey], [id.address, id.publicKey, id.x25519PublicKey])
  assert.equal(back.sign(Uint8Array.of(1)), id.sign(Uint8Array.of(1)))
  chmodSync(file, 0o644)
  assert.throws(() => loadIdentity(file), (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_BAD_KEY' && /open to others \(mode 0644\); run: chmod 600/.test(e.message))
  saveIdentity(id, file) // rewriting an existing file makes it 0600 again
  assert.is(statSync(file).mode & 0o777, 0o600)
  const bad = join(dir, 'bad.id')
  writeFileSync(bad, 'not cbor at all', { mode: 0o600 })
  assert.throws(() => loadIdentity(bad), (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_BAD_KEY' && e.message.startsWith(bad))
  assert.throws(() => loadIdentity(join(dir, 'missing.id')), /ENOENT/)
})

test('decodeIdentity is total: arbitrary and mutated bytes give an identity or a DecodeError', () => {
  const good = encodeIdentity(identityFromSecrets(new Uint8Array(32).fill(3), new Uint8Array(32).fill(4)))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => void decodeOrError(decodeIdentity, b)), { numRuns: 3000 })
  fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, v) => {
    const m = good.slice()
    m[at % m.length] = v
    decodeOrError(decodeIdentity, m)
    decodeOrError(decodeIdentity, good.subarray(0, at % good.length))
  }), { numRuns: 3000 })
  const err = (b: Uint8Array) => decodeOrError(decodeIdentity, b)
  assert.instance(err(new Uint8Array(0)), DecodeError)
  assert.not.instance(err(good), DecodeError)
})

test.run()
