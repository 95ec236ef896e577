/**
 * Key and certificate commands: `spinmesh keygen`, `spinmesh network init|revoke` and
 * `spinmesh cert issue|show` — a thin shell over crypto/identity.ts, crypto/cert.ts and
 * crypto/network-dir.ts. Bad arguments are UsageErrors (exit 2); bad files, keys or certificates
 * are SpinmeshErrors (exit 1); both print one line.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { formatNodeAddress, parseNodeAddress } from '../core/addr.ts'
import { toHex } from '../core/bytes.ts'
import { DecodeError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import {
  CertificateError, CERT_FORMAT, CRL_FORMAT, decodeCertificate, decodeNetworkInfo, decodeRevocationList, formatOf, NETWORK_FORMAT,
  rolesProblem, TrustAnchor, type Certificate, type NetworkInfo, type RevocationList,
} from '../crypto/cert.ts'
import { generateIdentity, loadIdentity, saveIdentity } from '../crypto/identity.ts'
import {
  AUTHORITY_FILE, CERTS_DIR, CRL_FILE, initNetwork, issueToNetwork, loadNetwork, MAX_CERT_DAYS, NETWORK_FILE, revokeInNetwork, saveCertificate,
} from '../crypto/network-dir.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

/** A node address as printed: 8 lowercase hex digits. */
export const formatAddress = formatNodeAddress

/** core/addr.ts's parser, its mistakes as usage errors. */
export function parseAddress(s: string): number {
  try {
    return parseNodeAddress(s)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const iso = (s: number): string => new Date(s * 1000).toISOString()
const fingerprint = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

function readFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path)
  } catch (e) {
    throw new SpinmeshError(ErrorCodes.BAD_CERT, `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}

function required(v: string | undefined, flag: string, example: string): string {
  if (v === undefined || v === '') throw new UsageError(`${flag} is required, e.g. ${example}`)
  return v
}

function noPositionals(positionals: string[], cmd: string): void {
  if (positionals.length) throw new UsageError(`${cmd} takes no positional argument, got "${positionals[0]}"`)
}

/** File system failures (a directory that does not exist, no permission) as one-line errors naming the path. */
function fsErrors<A extends unknown[]>(f: (...a: A) => number): (...a: A) => Promise<number> {
  return async (...a) => {
    try {
      return f(...a)
    } catch (e) {
      const x = e as NodeJS.ErrnoException
      if (!(e instanceof SpinmeshError) && typeof x?.code === 'string' && x.syscall !== undefined) {
        throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `cannot ${x.syscall}${x.path ? ` ${x.path}` : ''}: ${x.code}`, { cause: e })
      }
      throw e
    }
  }
}

// ---------------------------------------------------------------- keygen

export const keygenCommand = fsErrors(keygen)

function keygen(argv: string[], io: Io): number {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' }, force: { type: 'boolean' } })
  noPositionals(positionals, 'keygen')
  const out = required(values.out, '--out', 'spinmesh keygen --out node.id')
  if (existsSync(out) && !values.force) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `${out} exists; pass --force to replace it`)
  const id = generateIdentity()
  saveIdentity(id, out)
  io.out(`address  ${formatAddress(id.address)} (${id.address})\ned25519  ${toHex(id.publicKey)}\nx25519   ${toHex(id.x25519PublicKey)}\nwrote ${out} (mode 0600: keep it secret)\n`)
  return 0
}

// ---------------------------------------------------------------- network

export const networkCommand = fsErrors(network)

function network(argv: string[], io: Io): number {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'init': {
      const { values, positionals } = parseCommandArgs(rest, { out: { type: 'string' }, name: { type: 'string' } })
      noPositionals(positionals, 'network init')
      const dir = required(values.out, '--out', 'spinmesh network init --out ./my-net')
      const name = values.name ?? basename(resolve(dir))
      const bad = /^[A-Za-z0-9._-]{1,64}$/.test(name) ? undefined : `network name "${name}" must be 1-64 characters of A-Z a-z 0-9 . _ -${values.name === undefined ? ' (it defaults to the directory name; pass --name)' : ''}`
      if (bad) throw new UsageError(bad)
      const { network } = initNetwork(dir, name)
      io.out(`network  ${network.name}\nid       ${toHex(network.id)}\nauthority ${toHex(network.authority)}\nwrote ${join(dir, NETWORK_FILE)} (the trust anchor: give it to every node)\n` +
        `      ${join(dir, AUTHORITY_FILE)} (mode 0600: the authority's secret key)\n      ${join(dir, CRL_FILE)} (revocation list #0, empty)\n      ${join(dir, CERTS_DIR)}/ (the roster)\n`)
      return 0
    }
    case 'revoke': {
      const { values, positionals } = parseCommandArgs(rest, { network: { type: 'string' } })
      const dir = required(values.network, '--network', 'spinmesh network revoke --network ./my-net 1a2b3c4d')
      if (!positionals.length) throw new UsageError('network revoke needs at least one address, e.g. spinmesh network revoke --network ./my-net 1a2b3c4d')
      const addresses = positionals.map(parseAddress)
      const { roster } = loadNetwork(dir)
      const known = new Set(roster.map((c) => c.address))
      const crl = revokeInNetwork(dir, addresses, nowSeconds())
      for (const a of addresses) io.out(`revoked  ${formatAddress(a)} (${a})${known.has(a) ? '' : ' (not in the roster)'}\n`)
      io.out(`wrote ${join(dir, CRL_FILE)} (revocation list #${crl.number}, ${crl.revoked.size} address${crl.revoked.size === 1 ? '' : 'es'}): distribute it to the nodes\n`)
      return 0
    }
    case undefined:
      throw new UsageError('network needs a subcommand: init or revoke (try spinmesh --help)')
    default:
      throw new UsageError(`unknown network subcommand "${sub}" (init or revoke)`)
  }
}

// ---------------------------------------------------------------- cert

export const certCommand = fsErrors(cert)

function cert(argv: string[], io: Io): number {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'issue':
      return issue(rest, io)
    case 'show':
      return show(rest, io)
    case undefined:
      throw new UsageError('cert needs a subcommand: issue or show (try spinmesh --help)')
    default:
      throw new UsageError(`unknown cert subcommand "${sub}" (issue or show)`)
  }
}

function issue(argv: string[], io: Io): number {
  const { values, positionals } = parseCommandArgs(argv, {
    network: { type: 'string' }, identity: { type: 'string' }, roles: { type: 'string' }, days: { type: 'string' }, out: { type: 'string' },
  })
  noPositionals(positionals, 'cert issue')
  const example = 'spinmesh cert issue --network ./my-net --identity node.id --roles gateway,relay --days 365'
  const dir = required(values.network, '--network', example)
  const idPath = required(values.identity, '--identity', example)
  const roles = required(values.roles, '--roles', example).split(',').map((r) => r.trim())
  const rolesBad = rolesProblem(roles)
  if (rolesBad) throw new UsageError(`--roles: ${rolesBad}`)
  const daysText = required(values.days, '--days', example)
  if (!/^\d+$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > MAX_CERT_DAYS) {
    throw new UsageError(`--days must be a whole number of days in 1..${MAX_CERT_DAYS}, got "${daysText}"`)
  }
  if (!existsSync(idPath)) throw new SpinmeshError(ErrorCodes.BAD_KEY, `identity file ${idPath} does not exist (make one with spinmesh keygen --out ${idPath})`)
  const id = loadIdentity(idPath)
  const out = values.out ?? join(dirname(idPath), `${basename(idPath, extname(idPath))}.cert`)
  const cert = issueToNetwork(dir, id, { roles, days: Number(daysText), now: nowSeconds() })
  saveCertificate(cert, out)
  io.out(`certified ${formatAddress(cert.address)} (${cert.address}) as ${cert.roles.join(', ')} until ${iso(cert.notAfter)}\n` +
    `wrote ${out} (${cert.bytes.length} bytes) and ${join(dir, CERTS_DIR, `${formatAddress(cert.address)}.cert`)}\n`)
  return 0
}

type Shown = Record<string, unknown>

function showCert(c: Certificate): Shown {
  return {
    type: 'certificate', address: formatAddress(c.address), addressDecimal: c.address, network: toHex(c.network), roles: [...c.roles],
    notBefore: iso(c.notBefore), notAfter: iso(c.notAfter), ed25519: toHex(c.ed25519), x25519: toHex(c.x25519),
    fingerprint: fingerprint(c.bytes), bytes: c.bytes.length,
  }
}

function showCrl(l: RevocationList): Shown {
  return {
    type: 'revocation-list', network: toHex(l.network), number: l.number, issuedAt: iso(l.issuedAt),
    revoked: [...l.revoked].sort((a, b) => a - b).map(formatAddress), fingerprint: fingerprint(l.bytes), bytes: l.bytes.length,
  }
}

function showNetwork(n: NetworkInfo): Shown {
  return { type: 'network', name: n.name, id: toHex(n.id), authority: toHex(n.authority), addressing: n.addressing }
}

/** 'valid', or the rejection reason, against the network directory `dir`. */
function verdict(kind: string, bytes: Uint8Array, dir: string): string {
  const { network, trust } = loadNetwork(dir)
  try {
    if (kind === CERT_FORMAT) trust.checkBytes(bytes, nowSeconds())
    else if (kind === CRL_FORMAT) new TrustAnchor(network, decodeRevocationList(bytes))
    else if (toHex(decodeNetworkInfo(bytes).id) !== toHex(network.id)) return 'wrong-network'
    return 'valid'
  } catch (e) {
    if (e instanceof CertificateError) return e.reason
    throw e
  }
}

function show(argv: string[], io: Io): number {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, network: { type: 'string' } })
  if (positionals.length !== 1) throw new UsageError('cert show needs one file, e.g. spinmesh cert show node.cert [--network ./my-net] [--json]')
  const file = positionals[0]
  const bytes = readFile(file, 'file')
  const kind = formatOf(bytes)
  let shown: Shown
  try {
    if (kind === CERT_FORMAT) shown = showCert(decodeCertificate(bytes))
    else if (kind === CRL_FORMAT) shown = showCrl(decodeRevocationList(bytes))
    else if (kind === NETWORK_FORMAT) shown = showNetwork(decodeNetworkInfo(bytes))
    else throw new SpinmeshError(ErrorCodes.BAD_CERT, `${file} is not a certificate, revocation list or network info`)
  } catch (e) {
    if (e instanceof DecodeError) {
      // A malformed certificate is itself a verdict when asked to verify.
      if (values.network !== undefined && kind === CERT_FORMAT) shown = { type: 'certificate', error: e.message }
      else throw new SpinmeshError(ErrorCodes.BAD_CERT, `${file}: ${e.message}`)
    } else throw e
  }
  if (values.network !== undefined) shown.status = verdict(kind, bytes, values.network)
  if (values.json) io.out(JSON.stringify(shown, null, 2) + '\n')
  else {
    const width = Math.max(...Object.keys(shown).map((k) => k.length))
    for (const [k, v] of Object.entries(shown)) io.out(`${k.padEnd(width)}  ${Array.isArray(v) ? v.join(', ') || '(none)' : String(v)}\n`)
  }
  return shown.status === undefined || shown.status === 'valid' ? 0 : 1
}
