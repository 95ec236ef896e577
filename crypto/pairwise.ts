/**
 * Pairwise keys: two nodes derive a shared symmetric key from their static X25519 keys (the keys
 * in their certificates) with no message exchanged, bound to the network, a context label and the
 * direction (sender, receiver).
 *
 *   shared = X25519(my private key, peer's public key)             (RFC 7748)
 *   key    = HKDF-SHA256(ikm = shared, salt = network id,
 *                        info = "spinmesh/" ‖ label ‖ "/v1" ‖ from u32 BE ‖ to u32 BE, 32 bytes)   (RFC 5869)
 *
 * A computes it with (A's private, B's public), B with (B's private, A's public): the same key.
 * Swapping from/to, another label or another network gives an independent key. Static-static keys
 * have no forward secrecy; callers that need fresh keys mix in nonces or counters.
 *
 * X25519 has two interchangeable backends giving byte-identical results: `native` (node:crypto,
 * the default and the hot path) and `noble` (@noble/curves, portable and the cross-check in
 * tests). An all-zero shared secret (a low-order peer key) is refused by both as BAD_KEY.
 *
 * Shared secrets are cached per (identity, peer key, backend) in a bounded map (4096 entries, the
 * oldest dropped), module-private; callers always receive copies.
 */
import { createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { identityFromSecrets, x25519PrivateKeyObject, type Identity } from './identity.ts'

export const KEY_BYTES = 32
const X25519_BYTES = 32
/** HKDF-SHA256 can expand to at most 255 blocks of 32 bytes. */
export const HKDF_MAX_BYTES = 255 * 32

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
const PKCS8_X25519_BYTES = 48

export interface X25519Backend {
  readonly name: 'native' | 'noble'
  /**
   * X25519(private, peer public): 32 bytes. `privateKey` is the identity's key object
   * (crypto/identity.ts x25519PrivateKeyObject). Throws SpinmeshError BAD_KEY for a peer key that
   * is not 32 bytes or gives the all-zero result.
   */
  shared(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array
}

function checkPeer(peer: Uint8Array): void {
  if (!(peer instanceof Uint8Array) || peer.length !== X25519_BYTES) {
    throw new SpinmeshError(ErrorCodes.BAD_KEY, `an X25519 public key is ${X25519_BYTES} bytes, got ${peer?.length}`)
  }
}

const lowOrder = (): SpinmeshError => new SpinmeshError(ErrorCodes.BAD_KEY, 'X25519 peer key is a low-order point (the shared secret would be all zero)')

function allZero(b: Uint8Array): boolean {
  let d = 0
  for (let i = 0; i < b.length; i++) d |= b[i]
  return d === 0
}

class NativeX25519 implements X25519Backend {
  readonly name = 'native' as const

  shared(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array {
    checkPeer(peerPublic)
    const spki = Buffer.alloc(SPKI_PREFIX.length + X25519_BYTES)
    spki.set(SPKI_PREFIX)
    spki.set(peerPublic, SPKI_PREFIX.length)
    let out: Uint8Array
    try {
      const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' })
      out = new Uint8Array(diffieHellman({ privateKey, publicKey }))
    } catch (e) {
      // OpenSSL refuses an all-zero result ("failed during derivation").
      throw new SpinmeshError(ErrorCodes.BAD_KEY, `X25519 with this peer key failed: ${(e as Error).message} (a low-order point?)`, { cause: e })
    }
    if (allZero(out)) throw lowOrder()
    return out
  }
}

class NobleX25519 implements X25519Backend {
  readonly name = 'noble' as const

  shared(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array {
    checkPeer(peerPublic)
    const der = privateKey.export({ format: 'der', type: 'pkcs8' })
    if (der.length !== PKCS8_X25519_BYTES) throw new SpinmeshError(ErrorCodes.BAD_KEY, 'unexpected X25519 private key encoding')
    const raw = new Uint8Array(der.subarray(der.length - X25519_BYTES))
    der.fill(0)
    let out: Uint8Array
    try {
      out = x25519.getSharedSecret(raw, peerPublic)
    } catch (e) {
      throw new SpinmeshError(ErrorCodes.BAD_KEY, `X25519 with this peer key failed: ${(e as Error).message} (a low-order point?)`, { cause: e })
    } finally {
      raw.fill(0)
    }
    if (allZero(out)) throw lowOrder()
    return out
  }
}

export const nobleX25519: X25519Backend = new NobleX25519()

/** The native backend, or undefined when this runtime's crypto has no X25519. */
export const nativeX25519: X25519Backend | undefined = (() => {
  try {
    const b = new NativeX25519()
    const id = identityFromSecrets(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2))
    return b.shared(x25519PrivateKeyObject(id), id.x25519PublicKey).length === X25519_BYTES ? b : undefined
  } catch {
    return undefined
  }
})()

/** The backend to use here: native when available, else noble. */
export function x25519Backend(): X25519Backend {
  return nativeX25519 ?? nobleX25519
}

const MAX_CACHED_SECRETS = 4096
const cache = new Map<string, Uint8Array>()
const identityIds = new WeakMap<Identity, number>()
let nextIdentityId = 0

/**
 * X25519 shared secret of my identity and a peer's X25519 public key (32 bytes). Throws
 * SpinmeshError BAD_KEY for a wrong-length key or an all-zero result (low-order point).
 */
export function x25519Shared(me: Identity, peerX25519: Uint8Array, backend: X25519Backend = x25519Backend()): Uint8Array {
  checkPeer(peerX25519)
  let n = identityIds.get(me)
  if (n === undefined) identityIds.set(me, (n = nextIdentityId++))
  const id = `${backend.name}:${n}:${Buffer.from(peerX25519.buffer, peerX25519.byteOffset, peerX25519.length).toString('latin1')}`
  let s = cache.get(id)
  if (s === undefined) {
    s = backend.shared(x25519PrivateKeyObject(me), peerX25519)
    if (cache.size >= MAX_CACHED_SECRETS) cache.delete(cache.keys().next().value as string)
    cache.set(id, s)
  }
  return s.slice()
}

const utf8 = new TextEncoder()

const nativeHkdf = (() => {
  try {
    return Buffer.from(hkdfSync('sha256', new Uint8Array(1), new Uint8Array(0), new Uint8Array(0), 32)).length === 32
  } catch {
    return false
  }
})()

/** HKDF-SHA256 (RFC 5869): `length` bytes (1..8160) of output keying material. */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_MAX_BYTES) throw new RangeError(`HKDF-SHA256 output is 1..${HKDF_MAX_BYTES} bytes, got ${length}`)
  const inf = typeof info === 'string' ? utf8.encode(info) : info
  if (nativeHkdf) return new Uint8Array(hkdfSync('sha256', ikm, salt, inf, length))
  return nobleHkdf(sha256, ikm, salt, inf, length)
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `pairwiseKey: ${name} must be a u32 address, got ${v}`)
}

/** The HKDF info of a pairwise key: "spinmesh/" ‖ label ‖ "/v1" ‖ from u32 BE ‖ to u32 BE. */
export function pairwiseInfo(label: string, dir: { from: number; to: number }): Uint8Array {
  if (typeof label !== 'string' || label.length === 0) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'pairwiseKey: the label must be a non-empty string')
  checkU32('from', dir.from)
  checkU32('to', dir.to)
  const text = utf8.encode(`spinmesh/${label}/v1`)
  const info = new Uint8Array(text.length + 8)
  info.set(text)
  const v = new DataView(info.buffer)
  v.setUint32(text.length, dir.from)
  v.setUint32(text.length + 4, dir.to)
  return info
}

/**
 * A key shared by two nodes from their static X25519 keys (certificate keys), bound to the
 * network, a context label and both addresses. Directional: pairwiseKey(A, B-cert, label, net,
 * {from: A, to: B}) on A equals pairwiseKey(B, A-cert, label, net, {from: A, to: B}) on B;
 * {from, to} reversed gives an independent key.
 */
export function pairwiseKey(me: Identity, peerX25519: Uint8Array, label: string, networkId: Uint8Array, dir: { from: number; to: number }, backend?: X25519Backend): Uint8Array {
  const info = pairwiseInfo(label, dir)
  if (!(networkId instanceof Uint8Array) || networkId.length === 0) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'pairwiseKey: the network id must be non-empty bytes')
  const shared = x25519Shared(me, peerX25519, backend)
  try {
    return hkdf(shared, networkId, info, KEY_BYTES)
  } finally {
    shared.fill(0)
  }
}
