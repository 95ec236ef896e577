/**
 * Network certificates, revocation lists and network info (pure: no file I/O; crypto/network-dir.ts
 * keeps them on disk).
 *
 * A network is an authority's Ed25519 key plus a name (`NetworkInfo`, distributed out of band: it
 * IS the trust anchor) and an addressing: `derived` (a node's address is its key's, the real
 * networks) or `assigned` (the authority picks addresses, simulated networks). The authority
 * signs one certificate per node binding its address, Ed25519 and X25519 public keys, roles and
 * validity window, and publishes numbered revocation lists (CRLs) of revoked addresses. A node holds a `TrustAnchor` (network + current CRL) and checks
 * every certificate it meets against it.
 *
 * Encodings are standard CBOR (RFC 8949), compact because a certificate crosses 255-byte LoRa
 * frames (199 bytes with the roles gateway and relay): `[format, version, body, signature]`
 * where body is a CBOR map with small integer keys, signed with a domain-separation label in
 * front. Decoders are total (a value or a DecodeError) and accept only the canonical encoding: the
 * parsed value is re-encoded and must give back the exact input bytes, which rejects indefinite
 * lengths, non-minimal integers, tags, floats, misordered keys and trailing bytes in one check.
 * Layouts: docs/WIRE.md §14.
 */
import { createHash } from 'node:crypto'
import { Decoder, Encoder } from 'cbor-x'
import { isNodeAddr } from '../core/addr.ts'
import { bytesEqual, concatBytes, toHex } from '../core/bytes.ts'
import { DecodeError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './ed25519.ts'
import { addressOf, verify, X25519_KEY_BYTES, type Identity } from './identity.ts'

export const NETWORK_ID_BYTES = 8
export const CERT_FORMAT = 'spinmesh-cert'
export const CRL_FORMAT = 'spinmesh-crl'
export const NETWORK_FORMAT = 'spinmesh-network'
export const CERT_VERSION = 1
export const MAX_ROLES = 16
export const MAX_REVOKED = 65_536
/** Largest encodings a decoder looks at (16 roles of 24 characters fit a certificate in ~600). */
export const MAX_CERT_BYTES = 1024
export const MAX_CRL_BYTES = 128 + 5 * MAX_REVOKED
const MAX_NETWORK_BYTES = 256
const MAX_UINT32 = 0xffffffff

const ROLE = /^[a-z][a-z0-9-]{0,23}$/
const NETWORK_NAME = /^[A-Za-z0-9._-]{1,64}$/
const utf8 = new TextEncoder()
const CERT_DOMAIN = utf8.encode('spinmesh/cert/v1')
const CRL_DOMAIN = utf8.encode('spinmesh/crl/v1')

// Maps are encoded as plain CBOR maps (mapsAsObjects: false means no tag 259) and decoded as Map.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false })
// A plain copy: cbor-x returns a Buffer over its reusable output buffer.
const cbor = (v: unknown): Uint8Array => new Uint8Array(encoder.encode(v))

// ---------------------------------------------------------------- network info

/**
 * How a network's node addresses are chosen. `derived` (real networks): a node's address is
 * addressOf(its Ed25519 key), so a certificate whose address is not its key's is refused.
 * `assigned` (simulated networks, whose nodes keep their ids 1..n): the authority writes any node
 * address into the certificate; the signature is what binds it to the key.
 */
export type Addressing = 'derived' | 'assigned'

/** The trust anchor of a network: its name, the authority's Ed25519 public key and its addressing. */
export interface NetworkInfo {
  readonly name: string
  readonly authority: Uint8Array
  readonly id: Uint8Array
  readonly addressing: Addressing
}

/**
 * id = first 8 bytes of SHA-256("spinmesh/network/v1" ‖ authority public key); for an `assigned`
 * network the label is "spinmesh/network/v1/assigned", so the same authority key can never make
 * one network's certificates valid in a network of the other addressing.
 */
export function networkIdOf(authority: Uint8Array, addressing: Addressing = 'derived'): Uint8Array {
  if (!(authority instanceof Uint8Array) || authority.length !== PUBLIC_KEY_BYTES) {
    throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `an authority key is ${PUBLIC_KEY_BYTES} bytes, got ${authority?.length}`)
  }
  const label = addressing === 'assigned' ? 'spinmesh/network/v1/assigned' : 'spinmesh/network/v1'
  return new Uint8Array(createHash('sha256').update(label).update(authority).digest().subarray(0, NETWORK_ID_BYTES))
}

function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !NETWORK_NAME.test(name)) {
    return `network name must be 1-64 characters of A-Z a-z 0-9 . _ -, got ${show(name)}`
  }
  return undefined
}

export function networkInfo(name: string, authority: Uint8Array, addressing: Addressing = 'derived'): NetworkInfo {
  const bad = nameProblem(name)
  if (bad) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, bad)
  if (addressing !== 'derived' && addressing !== 'assigned') throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `addressing must be derived or assigned, got ${show(addressing)}`)
  const id = networkIdOf(authority, addressing)
  return Object.freeze({ name, authority: new Uint8Array(authority), id, addressing })
}

/** Key 3 (addressing) is present only for an assigned network: `3: 1`. */
export function encodeNetworkInfo(n: NetworkInfo): Uint8Array {
  const m = new Map<number, unknown>([[1, n.name], [2, n.authority]])
  if (n.addressing === 'assigned') m.set(3, 1)
  return cbor([NETWORK_FORMAT, CERT_VERSION, m])
}

export function decodeNetworkInfo(bytes: Uint8Array): NetworkInfo {
  const what = 'network info'
  const v = parse(what, bytes, MAX_NETWORK_BYTES)
  if (!Array.isArray(v) || v.length !== 3) throw new DecodeError(`${what}: not a 3-element CBOR array`)
  header(what, v, NETWORK_FORMAT)
  const m = fields(what, v[2], [1, 2], [3])
  const bad = nameProblem(m.get(1))
  if (bad) throw new DecodeError(`${what}: ${bad}`)
  if (m.has(3) && m.get(3) !== 1) throw new DecodeError(`${what}: addressing (key 3) must be 1 (assigned) when present`)
  const out = networkInfo(m.get(1) as string, bstr(what, 'authority', m.get(2), PUBLIC_KEY_BYTES), m.has(3) ? 'assigned' : 'derived')
  canonical(what, bytes, encodeNetworkInfo(out))
  return out
}

// ---------------------------------------------------------------- errors

export type CertRejection = 'malformed' | 'bad-signature' | 'wrong-network' | 'not-yet-valid' | 'expired' | 'revoked'

/** Why a certificate or revocation list was refused (code ERR_BAD_CERT). */
export class CertificateError extends SpinmeshError {
  readonly reason: CertRejection
  /** The subject when known. */
  readonly address?: number
  constructor(reason: CertRejection, message: string, address?: number, options?: { cause?: unknown }) {
    super(ErrorCodes.BAD_CERT, message, options)
    this.name = 'CertificateError'
    this.reason = reason
    if (address !== undefined) this.address = address
  }
}

/** A value for an error message (JSON.stringify throws on a bigint, which CBOR can decode to). */
function show(v: unknown): string {
  try {
    return (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n` : String(v)).slice(0, 80)
  } catch {
    return `a ${typeof v}` // an object without a prototype has no string form
  }
}

const hexAddr = (a: number): string => a.toString(16).padStart(8, '0')

// ---------------------------------------------------------------- certificates

export interface Certificate {
  /** 8-byte network id. */
  readonly network: Uint8Array
  /** The node address: addressOf(ed25519) in a `derived` network, the authority's choice in an `assigned` one. */
  readonly address: number
  readonly ed25519: Uint8Array
  readonly x25519: Uint8Array
  readonly roles: readonly string[]
  /** Unix seconds. */
  readonly notBefore: number
  /** Unix seconds (inclusive). */
  readonly notAfter: number
  /** 64 bytes, by the authority over "spinmesh/cert/v1" ‖ body. */
  readonly signature: Uint8Array
  /** The exact signed bytes. */
  readonly body: Uint8Array
  /** The whole encoded certificate (what goes in files and on air). */
  readonly bytes: Uint8Array
}

/** What is wrong with a role list, or undefined when it is valid. */
export function rolesProblem(roles: unknown): string | undefined {
  if (!Array.isArray(roles) || roles.length < 1 || roles.length > MAX_ROLES) return `roles must be a list of 1-${MAX_ROLES} roles`
  const seen = new Set<string>()
  for (const r of roles) {
    if (typeof r !== 'string' || !ROLE.test(r)) return `role ${show(r)} must be a lowercase letter then up to 23 of a-z 0-9 -`
    if (seen.has(r)) return `role "${r}" is listed twice`
    seen.add(r)
  }
  return undefined
}

const isUint32 = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_UINT32

function windowProblem(notBefore: unknown, notAfter: unknown): string | undefined {
  if (!isUint32(notBefore) || !isUint32(notAfter)) return 'notBefore and notAfter must be unix seconds in 0..2^32-1'
  if (notBefore > notAfter) return `notBefore (${notBefore}) is after notAfter (${notAfter})`
  return undefined
}

const issued = new WeakSet<Certificate>()

function encodeCertBody(c: Omit<Certificate, 'signature' | 'body' | 'bytes'>): Uint8Array {
  return cbor(new Map<number, unknown>([
    [1, c.network], [2, c.address], [3, c.ed25519], [4, c.x25519], [5, [...c.roles]], [6, c.notBefore], [7, c.notAfter],
  ]))
}

function makeCert(fields: Omit<Certificate, 'body' | 'bytes' | 'signature'>, body: Uint8Array, signature: Uint8Array, bytes: Uint8Array): Certificate {
  const c: Certificate = Object.freeze({ ...fields, roles: Object.freeze([...fields.roles]), signature, body, bytes })
  issued.add(c)
  return c
}

function checkAuthority(authority: Identity, network: NetworkInfo): void {
  if (!bytesEqual(authority.publicKey, network.authority)) {
    throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `this identity is not the authority of network "${network.name}"`)
  }
}

export function issueCertificate(
  authority: Identity,
  network: NetworkInfo,
  subject: { publicKey: Uint8Array; x25519PublicKey: Uint8Array },
  o: { roles: string[]; notBefore: number; notAfter: number; address?: number },
): Certificate {
  checkAuthority(authority, network)
  const arg = (msg: string) => new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `certificate: ${msg}`)
  if (subject.publicKey?.length !== PUBLIC_KEY_BYTES) throw arg(`the subject's Ed25519 key must be ${PUBLIC_KEY_BYTES} bytes`)
  if (subject.x25519PublicKey?.length !== X25519_KEY_BYTES) throw arg(`the subject's X25519 key must be ${X25519_KEY_BYTES} bytes`)
  const bad = rolesProblem(o.roles) ?? windowProblem(o.notBefore, o.notAfter)
  if (bad) throw arg(bad)
  const derived = addressOf(subject.publicKey)
  let address = derived
  if (network.addressing === 'assigned') {
    if (o.address === undefined || !isNodeAddr(o.address)) throw arg(`an assigned network's certificate needs an address (1..0x7fffffff), got ${o.address}`)
    address = o.address
  } else if (o.address !== undefined && o.address !== derived) {
    throw arg(`network "${network.name}" derives addresses from keys: this key's address is ${hexAddr(derived)}, not ${show(o.address)}`)
  }
  const fields = {
    network: new Uint8Array(network.id),
    address,
    ed25519: new Uint8Array(subject.publicKey),
    x25519: new Uint8Array(subject.x25519PublicKey),
    roles: [...o.roles],
    notBefore: o.notBefore,
    notAfter: o.notAfter,
  }
  const body = encodeCertBody(fields)
  const signature = authority.sign(concatBytes(CERT_DOMAIN, body))
  return makeCert(fields, body, signature, cbor([CERT_FORMAT, CERT_VERSION, body, signature]))
}

/**
 * Structural decoding only: layout, sizes, a node address, window, roles. Not the signature, and
 * not whether the address is the key's (that depends on the network's addressing): `check` does both.
 */
export function decodeCertificate(bytes: Uint8Array): Certificate {
  const what = 'certificate'
  const { body, signature } = envelope(what, bytes, CERT_FORMAT, MAX_CERT_BYTES)
  const m = fields(what, parse(`${what} body`, body, MAX_CERT_BYTES), [1, 2, 3, 4, 5, 6, 7])
  const network = bstr(what, 'network', m.get(1), NETWORK_ID_BYTES)
  const address = m.get(2)
  const ed25519 = bstr(what, 'ed25519', m.get(3), PUBLIC_KEY_BYTES)
  const x25519 = bstr(what, 'x25519', m.get(4), X25519_KEY_BYTES)
  const roles = m.get(5)
  if (!isUint32(address) || !isNodeAddr(address)) throw new DecodeError(`${what}: address must be a node address (1..0x7fffffff)`)
  const bad = rolesProblem(roles) ?? windowProblem(m.get(6), m.get(7))
  if (bad) throw new DecodeError(`${what}: ${bad}`)
  const fieldsOut = { network, address, ed25519, x25519, roles: roles as string[], notBefore: m.get(6) as number, notAfter: m.get(7) as number }
  canonical(`${what} body`, body, encodeCertBody(fieldsOut))
  canonical(what, bytes, cbor([CERT_FORMAT, CERT_VERSION, body, signature]))
  return makeCert(fieldsOut, body, signature, new Uint8Array(bytes))
}

/**
 * Throws CertificateError unless `cert` names `network` ('wrong-network'), has its key's address
 * when the network derives addresses ('malformed') and carries the authority's signature
 * ('bad-signature'). Ignores validity and revocation (the roster check).
 */
export function checkIssuer(network: NetworkInfo, cert: Certificate): void {
  if (!bytesEqual(cert.network, network.id)) {
    throw new CertificateError('wrong-network', `certificate of ${hexAddr(cert.address)} is for network ${toHex(cert.network)}, not ${network.name} (${toHex(network.id)})`, cert.address)
  }
  if (network.addressing === 'derived' && cert.address !== addressOf(cert.ed25519)) {
    throw new CertificateError('malformed', `certificate address ${hexAddr(cert.address)} is not the address of its Ed25519 key (${hexAddr(addressOf(cert.ed25519))})`, cert.address)
  }
  if (signedBy.get(cert) === network.id) return
  if (!verify(network.authority, concatBytes(CERT_DOMAIN, cert.body), cert.signature)) {
    throw new CertificateError('bad-signature', `certificate of ${hexAddr(cert.address)} is not signed by the authority of ${network.name}`, cert.address)
  }
  signedBy.set(cert, network.id)
}

/**
 * Certificate objects whose signature verified, with the network (its `id` array) that signed
 * them: one verification per certificate object, not per node holding it (a simulation gives the
 * same roster objects to every node; a certificate received as bytes is a new object and is
 * verified). The objects are frozen; their byte arrays are only ever read.
 */
const signedBy = new WeakMap<Certificate, Uint8Array>()

// ---------------------------------------------------------------- revocation lists

export interface RevocationList {
  readonly network: Uint8Array
  /** Increases with each list the authority issues; a node installs only newer ones. */
  readonly number: number
  /** Unix seconds. */
  readonly issuedAt: number
  readonly revoked: ReadonlySet<number>
  readonly signature: Uint8Array
  readonly body: Uint8Array
  readonly bytes: Uint8Array
}

function encodeCrlBody(network: Uint8Array, number: number, issuedAt: number, sorted: number[]): Uint8Array {
  return cbor(new Map<number, unknown>([[1, network], [2, number], [3, issuedAt], [4, sorted]]))
}

function makeCrl(network: Uint8Array, number: number, issuedAt: number, sorted: number[], signature: Uint8Array, body: Uint8Array, bytes: Uint8Array): RevocationList {
  return Object.freeze({ network, number, issuedAt, revoked: new Set(sorted) as ReadonlySet<number>, signature, body, bytes })
}

export function issueRevocationList(authority: Identity, network: NetworkInfo, revoked: Iterable<number>, number: number, issuedAt: number): RevocationList {
  checkAuthority(authority, network)
  const arg = (msg: string) => new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `revocation list: ${msg}`)
  if (!isUint32(number)) throw arg(`number must be an integer in 0..2^32-1, got ${number}`)
  if (!isUint32(issuedAt)) throw arg(`issuedAt must be unix seconds in 0..2^32-1, got ${issuedAt}`)
  const set = new Set<number>()
  for (const a of revoked) {
    if (!isNodeAddr(a)) throw arg(`${a} is not a node address (1..0x7fffffff)`)
    set.add(a)
  }
  if (set.size > MAX_REVOKED) throw arg(`at most ${MAX_REVOKED} addresses, got ${set.size}`)
  const sorted = [...set].sort((x, y) => x - y)
  const id = new Uint8Array(network.id)
  const body = encodeCrlBody(id, number, issuedAt, sorted)
  const signature = authority.sign(concatBytes(CRL_DOMAIN, body))
  return makeCrl(id, number, issuedAt, sorted, signature, body, cbor([CRL_FORMAT, CERT_VERSION, body, signature]))
}

export function decodeRevocationList(bytes: Uint8Array): RevocationList {
  const what = 'revocation list'
  const { body, signature } = envelope(what, bytes, CRL_FORMAT, MAX_CRL_BYTES)
  const m = fields(what, parse(`${what} body`, body, MAX_CRL_BYTES), [1, 2, 3, 4])
  const network = bstr(what, 'network', m.get(1), NETWORK_ID_BYTES)
  const number = m.get(2)
  const issuedAt = m.get(3)
  const list = m.get(4)
  if (!isUint32(number)) throw new DecodeError(`${what}: number must be an integer in 0..2^32-1`)
  if (!isUint32(issuedAt)) throw new DecodeError(`${what}: issuedAt must be unix seconds in 0..2^32-1`)
  if (!Array.isArray(list) || list.length > MAX_REVOKED) throw new DecodeError(`${what}: revoked must be a list of at most ${MAX_REVOKED} addresses`)
  let prev = 0
  for (const a of list) {
    if (!isUint32(a) || !isNodeAddr(a)) throw new DecodeError(`${what}: ${show(a)} is not a node address`)
    if (a <= prev) throw new DecodeError(`${what}: addresses must be sorted and unique`)
    prev = a
  }
  const sorted = list as number[]
  canonical(`${what} body`, body, encodeCrlBody(network, number, issuedAt, sorted))
  canonical(what, bytes, cbor([CRL_FORMAT, CERT_VERSION, body, signature]))
  return makeCrl(network, number, issuedAt, sorted, signature, body, new Uint8Array(bytes))
}

function checkCrl(network: NetworkInfo, crl: RevocationList): void {
  if (!bytesEqual(crl.network, network.id)) {
    throw new CertificateError('wrong-network', `revocation list #${crl.number} is for network ${toHex(crl.network)}, not ${network.name} (${toHex(network.id)})`)
  }
  if (!verify(network.authority, concatBytes(CRL_DOMAIN, crl.body), crl.signature)) {
    throw new CertificateError('bad-signature', `revocation list #${crl.number} is not signed by the authority of ${network.name}`)
  }
}

/** Re-derive a certificate object we did not build from its bytes (a hand-made object cannot smuggle fields past the signature). */
function trusted(cert: Certificate): Certificate {
  if (issued.has(cert)) return cert
  let d: Certificate
  try {
    d = decodeCertificate(cert.bytes)
  } catch (e) {
    throw new CertificateError('malformed', `certificate: ${(e as Error).message}`, cert.address, { cause: e })
  }
  const same = bytesEqual(d.body, cert.body) && bytesEqual(d.signature, cert.signature) && d.address === cert.address &&
    bytesEqual(d.network, cert.network) && bytesEqual(d.ed25519, cert.ed25519) && bytesEqual(d.x25519, cert.x25519) &&
    d.notBefore === cert.notBefore && d.notAfter === cert.notAfter && d.roles.join(',') === cert.roles.join(',')
  if (!same) throw new CertificateError('malformed', 'certificate: its fields do not match its encoded bytes', cert.address)
  return d
}

// ---------------------------------------------------------------- trust anchor

/** A network's trust state as a node holds it: the network info and the newest revocation list. */
export class TrustAnchor {
  readonly network: NetworkInfo
  private crl: RevocationList | undefined

  /** A `crl` that is not the network's, or not signed by its authority, throws CertificateError. */
  constructor(network: NetworkInfo, crl?: RevocationList) {
    this.network = network
    if (crl) {
      checkCrl(network, crl)
      this.crl = crl
    }
  }

  get revocations(): RevocationList | undefined {
    return this.crl
  }

  /**
   * Throws CertificateError with the first reason that applies, checked in this order: network id
   * ('wrong-network': cheap, and more telling than the signature failure that would follow), in a
   * derived network the address is the key's ('malformed'), the authority's signature, the validity window (`now`, unix seconds; notAfter is inclusive), and
   * revocation.
   */
  check(cert: Certificate, now: number): void {
    if (!Number.isFinite(now)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `now must be unix seconds, got ${now}`)
    const c = trusted(cert)
    checkIssuer(this.network, c)
    const who = hexAddr(c.address)
    if (now < c.notBefore) throw new CertificateError('not-yet-valid', `certificate of ${who} is valid from ${iso(c.notBefore)}, now is ${iso(now)}`, c.address)
    if (now > c.notAfter) throw new CertificateError('expired', `certificate of ${who} expired at ${iso(c.notAfter)}, now is ${iso(now)}`, c.address)
    if (this.isRevoked(c.address)) throw new CertificateError('revoked', `certificate of ${who} is revoked (revocation list #${this.crl?.number})`, c.address)
  }

  /** Decode (a malformed encoding → CertificateError 'malformed') and check. */
  checkBytes(bytes: Uint8Array, now: number): Certificate {
    let c: Certificate
    try {
      c = decodeCertificate(bytes)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      throw new CertificateError('malformed', e.message, undefined, { cause: e })
    }
    this.check(c, now)
    return c
  }

  isRevoked(address: number): boolean {
    return this.crl?.revoked.has(address) ?? false
  }

  /**
   * Install a newer list after checking its network and signature. A list whose number is not
   * greater than the installed one is refused (CertificateError 'expired': it is superseded).
   * Returns the addresses newly revoked, ascending.
   */
  updateRevocations(crl: RevocationList): number[] {
    checkCrl(this.network, crl)
    const old = this.crl
    if (old && crl.number <= old.number) {
      throw new CertificateError('expired', `revocation list #${crl.number} is not newer than the installed #${old.number}`)
    }
    this.crl = crl
    return [...crl.revoked].filter((a) => !old?.revoked.has(a)).sort((x, y) => x - y)
  }
}

const iso = (s: number): string => {
  const d = new Date(s * 1000)
  return Number.isNaN(d.getTime()) ? String(s) : d.toISOString()
}

// ---------------------------------------------------------------- shared decoding

/** The format string of an encoded certificate, revocation list or network info (undefined when it is none of them). */
export function formatOf(bytes: Uint8Array): string | undefined {
  try {
    const v = parse('file', bytes, MAX_CRL_BYTES)
    return Array.isArray(v) && typeof v[0] === 'string' && [CERT_FORMAT, CRL_FORMAT, NETWORK_FORMAT].includes(v[0]) ? v[0] : undefined
  } catch {
    return undefined
  }
}

function parse(what: string, bytes: Uint8Array, max: number): unknown {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError(`${what}: not bytes`)
  if (bytes.length === 0) throw new DecodeError(`${what}: empty`)
  if (bytes.length > max) throw new DecodeError(`${what}: ${bytes.length} bytes, at most ${max}`)
  try {
    return decoder.decode(bytes)
  } catch (e) {
    throw new DecodeError(`${what}: not CBOR (${(e as Error)?.message ?? String(e)})`)
  }
}

function header(what: string, v: unknown[], format: string): void {
  if (v[0] !== format) throw new DecodeError(`${what}: format is not "${format}"`)
  if (v[1] !== CERT_VERSION) throw new DecodeError(`${what}: version ${show(v[1])}, this build reads ${CERT_VERSION}`)
}

function envelope(what: string, bytes: Uint8Array, format: string, max: number): { body: Uint8Array; signature: Uint8Array } {
  const v = parse(what, bytes, max)
  if (!Array.isArray(v) || v.length !== 4) throw new DecodeError(`${what}: not a 4-element CBOR array`)
  header(what, v, format)
  if (!(v[2] instanceof Uint8Array)) throw new DecodeError(`${what}: body must be a byte string`)
  return { body: new Uint8Array(v[2]), signature: bstr(what, 'signature', v[3], SIGNATURE_BYTES) }
}

/** A CBOR map with exactly the integer keys `keys`, and maybe some of `optional`. */
function fields(what: string, v: unknown, keys: number[], optional: number[] = []): Map<unknown, unknown> {
  if (!(v instanceof Map)) throw new DecodeError(`${what}: body is not a CBOR map`)
  for (const k of v.keys()) if (!keys.includes(k as number) && !optional.includes(k as number)) throw new DecodeError(`${what}: unknown key ${show(k)}`)
  for (const k of keys) if (!v.has(k)) throw new DecodeError(`${what}: key ${k} is missing`)
  return v
}

function bstr(what: string, field: string, v: unknown, size: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== size) throw new DecodeError(`${what}: ${field} must be ${size} bytes`)
  return new Uint8Array(v)
}

function canonical(what: string, bytes: Uint8Array, expected: Uint8Array): void {
  if (!bytesEqual(bytes, expected)) throw new DecodeError(`${what}: not in canonical CBOR encoding (or trailing bytes)`)
}
