import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from '../core/errors.ts'
import { checkDecoderProperties, configError, decodeOrError } from '../core/testing.ts'
import { KEY_AAD_BYTES, decodeSec, encodeSec, type SecMessage } from './link-auth-messages.ts'
import { validateSecurityConfig, DEFAULT_SECURITY_CONFIG } from './security-defaults.ts'

const n8 = fc.uint8Array({ minLength: 8, maxLength: 8 })
const cert = fc.uint8Array({ maxLength: 220 })
const message: fc.Arbitrary<SecMessage> = fc.oneof(
  fc.record({ type: fc.constant('keyreq' as const), haveCert: fc.boolean(), nonce: n8, cert }),
  fc.record({
    type: fc.constant('key' as const), haveCert: fc.boolean(), echo: n8, request: n8,
    counter: fc.integer({ min: 0, max: 0xffffffff }), sealed: fc.uint8Array({ minLength: 48, maxLength: 48 }), cert,
  }),
  fc.record({ type: fc.constant('certq' as const), address: fc.integer({ min: 1, max: 0x7fffffff }) }),
  fc.record({ type: fc.constant('cert' as const), cert: fc.uint8Array({ minLength: 1, maxLength: 220 }) }),
)

const plain = (m: SecMessage) => JSON.parse(JSON.stringify({ ...m, aad: undefined }, (_, v) => (v instanceof Uint8Array ? [...v] : v)))

test('security messages round-trip; KEY exposes its header as the AEAD associated data', () => {
  fc.assert(fc.property(message, (m) => {
    const b = encodeSec(m)
    const d = decodeSec(b)
    assert.equal(plain(d), plain(m))
    if (d.type === 'key') assert.equal([...d.aad!], [...b.subarray(0, KEY_AAD_BYTES)])
  }), { numRuns: 2000 })
})

test('the security message decoder is total (arbitrary and mutated bytes)', () => {
  checkDecoderProperties({
    decode: decodeSec,
    valid: message,
    encode: encodeSec,
    typeBytes: [1, 2, 3, 4],
    open: (m) => m.type !== 'certq',
  })
})

test('decoder errors say what is wrong', () => {
  const err = (b: number[]) => (decodeOrError(decodeSec, Uint8Array.from(b)) as DecodeError).message
  assert.match(err([9]), 'unknown type 9')
  assert.match(err([1, 2, 0, 0, 0, 0, 0, 0, 0, 0]), 'reserved flag')
  assert.match(err([3, 0, 0, 0, 0]), 'not a node address')
  assert.match(err([4]), 'empty certificate')
  assert.match(err([2, 0, 1, 2]), 'truncated')
})

test('security config: defaults, and every bad field named', () => {
  assert.equal(validateSecurityConfig({}), { ...DEFAULT_SECURITY_CONFIG })
  assert.is(validateSecurityConfig({ mode: 'open' }).mode, 'open')
  assert.match(configError(() => validateSecurityConfig({ mode: 'secure' })).message, 'security.mode')
  assert.match(configError(() => validateSecurityConfig({ replayWindowBits: 48 })).message, 'multiple of 32')
  assert.match(configError(() => validateSecurityConfig({ handshakeJitterMs: 5000 })).message, 'less than keyRequestIntervalMs')
  assert.match(configError(() => validateSecurityConfig({ tagBytes: 8 })).message, 'security.tagBytes')
})

test.run()
