/**
 * Ed25519 (RFC 8032) signatures with two interchangeable backends:
 *
 * - `native`: node:crypto (OpenSSL). Used on hot paths: 10–30× faster than pure JS (DESIGN.md §5).
 *   Keys become KeyObjects once (a signer per identity; verification keys cached, bounded).
 * - `noble`: @noble/ed25519 (audited pure JS, SHA-512 from @noble/hashes), for runtimes without
 *   native Ed25519 and as an independent cross-check in tests: both give byte-identical
 *   signatures (Ed25519 is deterministic).
 *
 * `ed25519()` picks native when this runtime has it, else noble. Keys are raw: a 32-byte seed
 * (RFC 8032's private key) and a 32-byte public key; signatures are 64 bytes. `verify` never
 * throws on bad input: a wrong-length key or signature, or a key that is not a curve point, is
 * simply not a valid signature.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto'
import * as noble from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'

noble.hashes.sha512 = sha512

export const SEED_BYTES = 32
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

/** One private key, ready to sign. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

export interface Ed25519Backend {
  readonly name: 'native' | 'noble'
  /** A signer for a 32-byte seed (throws RangeError for another length). */
  signer(seed: Uint8Array): Ed25519Signer
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) throw new RangeError(`an Ed25519 seed is ${SEED_BYTES} bytes, got ${seed?.length}`)
}

// DER wrappers of raw keys (RFC 8410): PKCS#8 for a seed, SPKI for a public key.
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function der(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const b = Buffer.alloc(prefix.length + raw.length)
  b.set(prefix)
  b.set(raw, prefix.length)
  return b
}

/** Verification keys decoded once; bounded (insertion order, oldest dropped). */
const MAX_CACHED_KEYS = 4096

class NativeBackend implements Ed25519Backend {
  readonly name = 'native' as const
  private readonly keys = new Map<string, KeyObject | null>()

  signer(seed: Uint8Array): Ed25519Signer {
    checkSeed(seed)
    const key = createPrivateKey({ key: der(PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
    const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length))
    return { publicKey, sign: (m) => new Uint8Array(nodeSign(null, m, key)) }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey?.length !== PUBLIC_KEY_BYTES || signature?.length !== SIGNATURE_BYTES) return false
    const key = this.key(publicKey)
    return key !== null && nodeVerify(null, message, key, signature)
  }

  private key(publicKey: Uint8Array): KeyObject | null {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1')
    let k = this.keys.get(id)
    if (k === undefined) {
      try {
        k = createPublicKey({ key: der(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' })
      } catch {
        k = null // not a point on the curve: nothing verifies under it
      }
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value as string)
      this.keys.set(id, k)
    }
    return k
  }
}

class NobleBackend implements Ed25519Backend {
  readonly name = 'noble' as const

  signer(seed: Uint8Array): Ed25519Signer {
    checkSeed(seed)
    const own = seed.slice()
    return { publicKey: noble.getPublicKey(own), sign: (m) => noble.sign(m, own) }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey?.length !== PUBLIC_KEY_BYTES || signature?.length !== SIGNATURE_BYTES) return false
    try {
      return noble.verify(signature, message, publicKey)
    } catch {
      return false
    }
  }
}

export const nobleEd25519: Ed25519Backend = new NobleBackend()

/** The native backend, or undefined when this runtime's crypto has no Ed25519. */
export const nativeEd25519: Ed25519Backend | undefined = (() => {
  try {
    const b = new NativeBackend()
    const s = b.signer(new Uint8Array(SEED_BYTES))
    return b.verify(s.publicKey, new Uint8Array(0), s.sign(new Uint8Array(0))) ? b : undefined
  } catch {
    return undefined
  }
})()

/** The backend to use here: native when available, else noble. */
export function ed25519(): Ed25519Backend {
  return nativeEd25519 ?? nobleEd25519
}
