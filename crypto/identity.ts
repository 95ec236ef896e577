/**
 * Node identities: an Ed25519 key pair (signatures) and an X25519 key pair (pairwise keys, later
 * in this issue), and the node address derived from the Ed25519 public key.
 *
 * Address: the first 4 bytes of SHA-256("spinmesh/address/v1" ‖ publicKey), big endian, with the
 * top bit cleared (node addresses are 1..0x7FFFFFFF, core/addr.ts); 0 becomes 1. Two of n
 * identities share an address with probability ≈ n² / 2^32: 1 in 4,300 for 1,000 nodes, 2.3 % for
 * 10,000. The network authority sees every address it certifies and refuses a duplicate, so a
 * collision costs a key regeneration at provisioning, never a confused network.
 *
 * Identity file (CBOR map, docs/WIRE.md): `{ format: "spinmesh-identity", v: 1, ed25519: seed(32),
 * x25519: private key(32) }`. Written with mode 0600; loading refuses a file that group or others
 * can read (or write), naming the file and the fix.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { Decoder, Encoder } from 'cbor-x'
import type { Addr } from '../core/addr.ts'
import { getU32 } from '../core/bytes.ts'
import { DecodeError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { ed25519, SEED_BYTES, type Ed25519Backend } from './ed25519.ts'

export const IDENTITY_FORMAT = 'spinmesh-identity'
export const IDENTITY_VERSION = 1
export const X25519_KEY_BYTES = 32

/** The node address of an Ed25519 public key. */
export function addressOf(publicKey: Uint8Array): Addr {
  const h = createHash('sha256').update('spinmesh/address/v1').update(publicKey).digest()
  const a = getU32(h, 0) & 0x7fffffff
  return a === 0 ? 1 : a
}

export interface Identity {
  /** Ed25519 public key, 32 raw bytes. */
  readonly publicKey: Uint8Array
  /** X25519 public key, 32 raw bytes. */
  readonly x25519PublicKey: Uint8Array
  readonly address: Addr
  /** Ed25519 signature of `bytes`, 64 bytes. */
  sign(bytes: Uint8Array): Uint8Array
}

const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_SPKI_BYTES = 44

/** An identity's secret halves; only this module and key files see them. */
interface Secrets {
  ed25519Seed: Uint8Array
  x25519Private: Uint8Array
}

const secrets = new WeakMap<Identity, Secrets>()

function x25519Public(privateKey: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  if (spki.length !== X25519_SPKI_BYTES) throw new SpinmeshError(ErrorCodes.BAD_KEY, 'unexpected X25519 public key encoding')
  return new Uint8Array(spki.subarray(X25519_SPKI_BYTES - X25519_KEY_BYTES))
}

/** The identity for given secret keys (tests, key files). */
export function identityFromSecrets(ed25519Seed: Uint8Array, x25519Private: Uint8Array, backend: Ed25519Backend = ed25519()): Identity {
  if (x25519Private.length !== X25519_KEY_BYTES) throw new RangeError(`an X25519 private key is ${X25519_KEY_BYTES} bytes, got ${x25519Private.length}`)
  const signer = backend.signer(ed25519Seed)
  const id: Identity = Object.freeze({
    publicKey: signer.publicKey,
    x25519PublicKey: x25519Public(x25519Private),
    address: addressOf(signer.publicKey),
    sign: (bytes: Uint8Array) => signer.sign(bytes),
  })
  secrets.set(id, { ed25519Seed: ed25519Seed.slice(), x25519Private: x25519Private.slice() })
  return id
}

const x25519Keys = new WeakMap<Identity, KeyObject>()

/**
 * The identity's X25519 private key as a node:crypto KeyObject (made once per identity), for
 * crypto/pairwise.ts only: never put it in a public object or on the wire.
 */
export function x25519PrivateKeyObject(id: Identity): KeyObject {
  let k = x25519Keys.get(id)
  if (k === undefined) {
    const s = secrets.get(id)
    if (!s) throw new TypeError('not an identity made by crypto/identity.ts')
    k = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, s.x25519Private]), format: 'der', type: 'pkcs8' })
    x25519Keys.set(id, k)
  }
  return k
}

/** A new identity from the operating system's CSPRNG. */
export function generateIdentity(backend?: Ed25519Backend): Identity {
  return identityFromSecrets(new Uint8Array(randomBytes(SEED_BYTES)), new Uint8Array(randomBytes(X25519_KEY_BYTES)), backend)
}

/** Verify an Ed25519 signature (never throws: bad keys or signatures just do not verify). */
export function verify(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array, backend: Ed25519Backend = ed25519()): boolean {
  return backend.verify(publicKey, bytes, signature)
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
// Maps decode as Map so a non-text key is seen (and refused), not coerced to a property name.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false })

/** The identity file's bytes. */
export function encodeIdentity(identity: Identity): Uint8Array {
  const s = secrets.get(identity)
  if (!s) throw new TypeError('not an identity made by crypto/identity.ts')
  // A plain copy: cbor-x returns a Buffer over its reusable output buffer (and Buffer#slice is a view).
  return new Uint8Array(encoder.encode({ format: IDENTITY_FORMAT, v: IDENTITY_VERSION, ed25519: s.ed25519Seed, x25519: s.x25519Private }))
}

/** Parse an identity file. Throws DecodeError (what is wrong), never anything else. */
export function decodeIdentity(bytes: Uint8Array, backend?: Ed25519Backend): Identity {
  let v: unknown
  try {
    v = decoder.decode(bytes)
  } catch (e) {
    throw new DecodeError(`identity file: not CBOR (${(e as Error).message})`)
  }
  if (!(v instanceof Map)) throw new DecodeError('identity file: not a CBOR map')
  for (const k of v.keys()) if (typeof k !== 'string') throw new DecodeError('identity file: a key is not a text string')
  const o = Object.fromEntries(v) as Record<string, unknown>
  if (o.format !== IDENTITY_FORMAT) throw new DecodeError(`identity file: format is not "${IDENTITY_FORMAT}"`)
  if (o.v !== IDENTITY_VERSION) throw new DecodeError(`identity file: version ${String(o.v)}, this build reads ${IDENTITY_VERSION}`)
  const bytes32 = (k: string): Uint8Array => {
    const x = o[k]
    if (!(x instanceof Uint8Array) || x.length !== 32) throw new DecodeError(`identity file: ${k} must be 32 bytes`)
    return new Uint8Array(x)
  }
  const extra = Object.keys(o).filter((k) => !['format', 'v', 'ed25519', 'x25519'].includes(k))
  if (extra.length) throw new DecodeError(`identity file: unknown field ${extra[0]}`)
  return identityFromSecrets(bytes32('ed25519'), bytes32('x25519'), backend)
}

/** Write `identity` to `path` with mode 0600 (an existing file is replaced and made 0600). */
export function saveIdentity(identity: Identity, path: string): void {
  writeFileSync(path, encodeIdentity(identity), { mode: 0o600 })
  chmodSync(path, 0o600) // an existing file keeps its mode through writeFileSync
}

/** Read an identity file; refuses one that group or others may read or write. */
export function loadIdentity(path: string, backend?: Ed25519Backend): Identity {
  const mode = statSync(path).mode & 0o777
  if (mode & 0o077) {
    throw new SpinmeshError(ErrorCodes.BAD_KEY, `identity file ${path} is open to others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`)
  }
  try {
    return decodeIdentity(readFileSync(path), backend)
  } catch (e) {
    if (e instanceof DecodeError) throw new SpinmeshError(ErrorCodes.BAD_KEY, `${path}: ${e.message}`)
    throw e
  }
}
