/**
 * A network directory: what a network authority keeps on disk (crypto/cert.ts has the formats).
 *
 *   network.cbor          the NetworkInfo (name + authority public key): the trust anchor to give nodes
 *   authority.key         the authority's identity file (mode 0600, crypto/identity.ts)
 *   revoked.crl           the current signed revocation list (number 0, empty, at init)
 *   certs/<addr>.cert     every certificate issued, by address as 8 hex digits: the roster
 *
 * The roster is how the authority refuses an address collision (two keys whose addresses are
 * equal, crypto/identity.ts): issuing for a key whose address is already certified to another key
 * fails; re-issuing for the same key replaces its certificate. Files are written to a temporary
 * name and renamed, so a crash never leaves half a file. Missing or corrupt files are reported as
 * SpinmeshErrors naming the file (ERR_BAD_CERT, or ERR_BAD_KEY for the authority key).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { bytesEqual, toHex } from '../core/bytes.ts'
import { DecodeError, ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import {
  CertificateError, checkIssuer, decodeCertificate, decodeNetworkInfo, decodeRevocationList, encodeNetworkInfo,
  issueCertificate, issueRevocationList, networkInfo, TrustAnchor, type Certificate, type NetworkInfo, type RevocationList,
} from './cert.ts'
import { addressOf, generateIdentity, loadIdentity, saveIdentity, type Identity } from './identity.ts'

export const NETWORK_FILE = 'network.cbor'
export const AUTHORITY_FILE = 'authority.key'
export const CRL_FILE = 'revoked.crl'
export const CERTS_DIR = 'certs'
/** Longest certificate a network directory issues. */
export const MAX_CERT_DAYS = 3650
/** notBefore is set this far before `now` to tolerate clock skew between nodes. */
export const CLOCK_SKEW_SECONDS = 300

const hexAddr = (a: number): string => a.toString(16).padStart(8, '0')
const certFile = (dir: string, address: number): string => join(dir, CERTS_DIR, `${hexAddr(address)}.cert`)

/** Write through a temporary file and rename (atomic on one file system). */
function writeAtomic(path: string, bytes: Uint8Array, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, bytes, { mode })
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e })
  }
}

function read(path: string, code: ErrorCode, what: string): Uint8Array {
  try {
    return readFileSync(path)
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    const hint = errno === 'ENOENT' ? ` (${what} is missing)` : ''
    throw new SpinmeshError(code, `cannot read ${path}: ${errno ?? String(e)}${hint}`, { cause: e })
  }
}

function decodeFile<T>(path: string, decode: (b: Uint8Array) => T, what: string): T {
  const bytes = read(path, ErrorCodes.BAD_CERT, what)
  try {
    return decode(bytes)
  } catch (e) {
    if (e instanceof DecodeError) throw new SpinmeshError(ErrorCodes.BAD_CERT, `${path}: ${e.message}`, { cause: e })
    throw e
  }
}

/** Create a network: a new authority key, the network info, an empty revocation list (#0) and certs/. */
export function initNetwork(dir: string, name: string): { network: NetworkInfo; authority: Identity } {
  for (const f of [NETWORK_FILE, AUTHORITY_FILE]) {
    const p = join(dir, f)
    if (existsSync(p)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `${p} already exists: ${dir} is already a network directory (refusing to replace its authority)`)
  }
  const authority = generateIdentity()
  const network = networkInfo(name, authority.publicKey)
  mkdirSync(join(dir, CERTS_DIR), { recursive: true })
  saveIdentity(authority, join(dir, AUTHORITY_FILE))
  writeAtomic(join(dir, CRL_FILE), issueRevocationList(authority, network, [], 0, Math.floor(Date.now() / 1000)).bytes)
  writeAtomic(join(dir, NETWORK_FILE), encodeNetworkInfo(network)) // last: its presence marks a complete directory
  return { network, authority }
}

function readNetwork(dir: string): NetworkInfo {
  return decodeFile(join(dir, NETWORK_FILE), decodeNetworkInfo, `${dir} is not a network directory: network info`)
}

function readTrust(dir: string, network: NetworkInfo): TrustAnchor {
  const path = join(dir, CRL_FILE)
  const crl = decodeFile(path, decodeRevocationList, 'the revocation list')
  try {
    return new TrustAnchor(network, crl)
  } catch (e) {
    if (e instanceof CertificateError) throw new CertificateError(e.reason, `${path}: ${e.message}`, undefined, { cause: e })
    throw e
  }
}

/** A roster certificate: decoded, of this network, signed by its authority, filed under its address. */
function readRosterCert(path: string, network: NetworkInfo): Certificate {
  const c = decodeFile(path, decodeCertificate, 'the certificate')
  try {
    checkIssuer(network, c)
  } catch (e) {
    if (e instanceof CertificateError) throw new CertificateError(e.reason, `${path}: ${e.message}`, c.address, { cause: e })
    throw e
  }
  if (basename(path) !== `${hexAddr(c.address)}.cert`) throw new SpinmeshError(ErrorCodes.BAD_CERT, `${path}: holds the certificate of ${hexAddr(c.address)}, filed under another address`)
  return c
}

/** The network, its trust state (with the current revocation list) and every certificate issued (by address). */
export function loadNetwork(dir: string): { network: NetworkInfo; trust: TrustAnchor; roster: Certificate[] } {
  const network = readNetwork(dir)
  const trust = readTrust(dir, network)
  const certs = join(dir, CERTS_DIR)
  const names = existsSync(certs) ? readdirSync(certs).filter((f) => f.endsWith('.cert')).sort() : []
  return { network, trust, roster: names.map((f) => readRosterCert(join(certs, f), network)) }
}

/** The authority's identity (mode-checked), refused unless it is the key network.cbor names. */
export function loadAuthority(dir: string): Identity {
  const path = join(dir, AUTHORITY_FILE)
  const network = readNetwork(dir)
  if (!existsSync(path)) throw new SpinmeshError(ErrorCodes.BAD_KEY, `${path} is missing: only the network's authority can issue certificates and revocation lists`)
  const id = loadIdentity(path)
  if (!bytesEqual(id.publicKey, network.authority)) {
    throw new SpinmeshError(ErrorCodes.BAD_KEY, `${path} is not the authority of ${join(dir, NETWORK_FILE)} (key ${toHex(id.publicKey)}, network authority ${toHex(network.authority)})`)
  }
  return id
}

/**
 * The problem with certifying `ed25519` when `existing` already holds its address, or undefined:
 * the same key may be re-issued, another key at the same address (a collision) may not.
 */
export function addressCollision(existing: Certificate | undefined, ed25519: Uint8Array): string | undefined {
  if (!existing || bytesEqual(existing.ed25519, ed25519)) return undefined
  return `address ${hexAddr(existing.address)} is already certified to key ${toHex(existing.ed25519)}; ` +
    `key ${toHex(ed25519)} has the same address ${hexAddr(addressOf(ed25519))} (an address collision): generate a new identity for this node`
}

/** Issue a certificate valid from now − 5 min for `days` days and file it in the roster. */
export function issueToNetwork(
  dir: string,
  subject: { publicKey: Uint8Array; x25519PublicKey: Uint8Array },
  o: { roles: string[]; days: number; now: number },
): Certificate {
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > MAX_CERT_DAYS) {
    throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `days must be an integer in 1..${MAX_CERT_DAYS}, got ${o.days}`)
  }
  const now = Math.floor(o.now)
  const authority = loadAuthority(dir)
  const network = readNetwork(dir)
  const trust = readTrust(dir, network)
  const address = addressOf(subject.publicKey)
  if (trust.isRevoked(address)) {
    throw new SpinmeshError(ErrorCodes.BAD_CERT, `address ${hexAddr(address)} is revoked in ${join(dir, CRL_FILE)}: a certificate for it would be refused; generate a new identity`)
  }
  const path = certFile(dir, address)
  const collision = addressCollision(existsSync(path) ? readRosterCert(path, network) : undefined, subject.publicKey)
  if (collision) throw new SpinmeshError(ErrorCodes.BAD_CERT, collision)
  const cert = issueCertificate(authority, network, subject, { roles: o.roles, notBefore: Math.max(0, now - CLOCK_SKEW_SECONDS), notAfter: now + o.days * 86_400 })
  mkdirSync(join(dir, CERTS_DIR), { recursive: true })
  writeAtomic(path, cert.bytes)
  return cert
}

/** Revoke `addresses`: the next revocation list (previous number + 1) holds them and every earlier one. */
export function revokeInNetwork(dir: string, addresses: number[], now: number): RevocationList {
  const authority = loadAuthority(dir)
  const network = readNetwork(dir)
  const previous = readTrust(dir, network).revocations
  const number = (previous?.number ?? -1) + 1
  const crl = issueRevocationList(authority, network, [...(previous?.revoked ?? []), ...addresses], number, Math.floor(now))
  writeAtomic(join(dir, CRL_FILE), crl.bytes)
  return crl
}

/** Read a certificate file (structure only: check it with a TrustAnchor). */
export function loadCertificate(path: string): Certificate {
  return decodeFile(path, decodeCertificate, 'the certificate')
}

export function saveCertificate(c: Certificate, path: string): void {
  writeAtomic(path, c.bytes)
}
