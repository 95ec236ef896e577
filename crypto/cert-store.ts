/**
 * The certificates a node knows: its network's trust anchor (authority key and revocation list),
 * the roster it was provisioned with (pinned), and certificates learnt since from key handshakes
 * and fetches (bounded, least recently used dropped first). Every certificate is checked against
 * the anchor when it is added; `get` hands out only certificates that are still inside their
 * validity window and not revoked, so one expiring or revoked mid-run stops being usable at once.
 *
 * Sans-IO: time comes from `clock` (unix seconds; in the simulator the scenario's epoch plus
 * virtual time).
 */
import type { Addr } from '../core/addr.ts'
import { CertificateError, type Certificate, type RevocationList, type TrustAnchor } from './cert.ts'

export interface CertStoreOptions {
  trust: TrustAnchor
  /** Unix seconds, now. */
  clock: () => number
  /** Certificates provisioned with the node; each is checked, a failing one is skipped (see `rosterRejected`). */
  roster?: Iterable<Certificate>
  /** Learnt certificates kept beyond the roster. */
  maxCertificates: number
}

export class CertStore {
  readonly trust: TrustAnchor
  readonly clock: () => number
  /** Roster entries refused at start, with the reason (an expired or revoked node stays out). */
  readonly rosterRejected: { address: Addr; reason: string }[] = []
  private readonly pinned = new Map<Addr, Certificate>()
  private readonly learnt = new Map<Addr, Certificate>()
  private readonly max: number
  private readonly listeners: Array<(c: Certificate) => void> = []
  private readonly revokedListeners: Array<(addresses: readonly Addr[]) => void> = []

  constructor(o: CertStoreOptions) {
    this.trust = o.trust
    this.clock = o.clock
    this.max = o.maxCertificates
    for (const c of o.roster ?? []) {
      try {
        this.trust.check(c, this.clock())
        this.pinned.set(c.address, c)
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e
        this.rosterRejected.push({ address: c.address, reason: e.reason })
      }
    }
  }

  /** A usable certificate for `address` (valid now, not revoked), or undefined. */
  get(address: Addr): Certificate | undefined {
    let c = this.pinned.get(address)
    if (c === undefined) {
      c = this.learnt.get(address)
      if (c === undefined) return undefined
      this.learnt.delete(address) // refresh LRU position
      this.learnt.set(address, c)
    }
    return this.usable(c) ? c : undefined
  }

  /** Whether `c` may be used now: inside its validity window and not revoked. */
  usable(c: Certificate): boolean {
    const now = this.clock()
    return now >= c.notBefore && now <= c.notAfter && !this.trust.isRevoked(c.address)
  }

  /**
   * Check a certificate's bytes against the trust anchor now and keep it. Throws CertificateError
   * (with its reason) when it is malformed, forged, of another network, outside its validity or
   * revoked. A certificate that replaces a pinned one for the same address must have the same key.
   */
  add(bytes: Uint8Array): Certificate {
    const c = this.trust.checkBytes(bytes, this.clock())
    const pinned = this.pinned.get(c.address)
    if (pinned !== undefined) {
      if (!sameKey(pinned, c)) throw new CertificateError('malformed', `certificate for ${c.address} carries a different key than the roster's`, c.address)
      return pinned
    }
    const known = this.learnt.get(c.address)
    if (known !== undefined) this.learnt.delete(c.address)
    else if (this.learnt.size >= this.max) this.learnt.delete(this.learnt.keys().next().value as Addr)
    this.learnt.set(c.address, c)
    if (known === undefined || !sameKey(known, c)) for (const f of this.listeners) f(c)
    return c
  }

  /** Called with every certificate newly learnt (not for re-adds of the same key). */
  onAdded(f: (c: Certificate) => void): void {
    this.listeners.push(f)
  }

  /** Called with the addresses each newer revocation list revokes (the link drops them and re-keys). */
  onRevoked(f: (addresses: readonly Addr[]) => void): void {
    this.revokedListeners.push(f)
  }

  /** Install a newer revocation list (see TrustAnchor.updateRevocations); returns the addresses newly revoked. */
  updateRevocations(crl: RevocationList): Addr[] {
    const revoked = this.trust.updateRevocations(crl)
    for (const a of revoked) this.learnt.delete(a)
    if (revoked.length > 0) for (const f of this.revokedListeners) f(revoked)
    return revoked
  }

  get size(): number {
    return this.pinned.size + this.learnt.size
  }
}

function sameKey(a: Certificate, b: Certificate): boolean {
  if (a.ed25519.length !== b.ed25519.length) return false
  for (let i = 0; i < a.ed25519.length; i++) if (a.ed25519[i] !== b.ed25519[i]) return false
  return true
}
