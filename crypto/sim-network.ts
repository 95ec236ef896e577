/**
 * A simulated network's security (the scenario field `security`, and test networks): one
 * authority, an identity and a certificate per node, and per node the link authenticator and
 * origin authentication that the link layer and the protocols use. Everything is derived from a
 * seeded rng, so a run is as deterministic with `authenticated` as with `open`.
 *
 * Simulated nodes keep their scenario ids (1..n) as addresses: the simulated network is one whose
 * authority assigns addresses (crypto/cert.ts `addressing: 'assigned'`) rather than deriving them
 * from keys. Certificate validity is measured against `epoch` (unix seconds at virtual time 0) plus
 * virtual time.
 *
 * Scenario fields: every field of crypto/security-defaults.ts (`mode`, `replayWindowBits`, ...)
 * plus `roster` (default true: every node is provisioned with every certificate, as a gateway
 * provisioning a field deployment would; false: nodes start with their own certificate only and
 * learn the others from handshakes and fetches) and `epoch`.
 */
import type { Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { checkBoolean, checkNumber, checkObject } from '../core/validate.ts'
import { TrustAnchor, issueCertificate, networkInfo, type Certificate, type NetworkInfo } from './cert.ts'
import { CertStore } from './cert-store.ts'
import { identityFromSecrets, type Identity } from './identity.ts'
import { LinkAuth } from './link-auth.ts'
import { OriginAuth } from './origin-auth.ts'
import { validateSecurityConfig, type SecurityConfig } from './security-defaults.ts'

/** 2026-01-01T00:00:00Z: virtual time 0 of a simulated run, for certificate validity. */
export const DEFAULT_SIM_EPOCH = 1_767_225_600
/** Simulated certificates are valid from a day before the epoch for a year. */
const CERT_VALID_BEFORE_S = 86_400
const CERT_VALID_FOR_S = 365 * 86_400

export interface SimSecurity {
  config: SecurityConfig
  roster: boolean
  epoch: number
}

export function validateSimSecurity(partial: unknown = {}, path = 'security'): SimSecurity {
  const { roster = true, epoch = DEFAULT_SIM_EPOCH, ...rest } = checkObject(path, partial)
  checkBoolean(`${path}.roster`, roster)
  checkNumber(`${path}.epoch`, epoch, { integer: true, min: 0 })
  return { config: validateSecurityConfig(rest, path), roster: roster as boolean, epoch: epoch as number }
}

/** One node's security: what its link layer and protocols are given. */
export interface NodeSecurity {
  identity: Identity
  certificate: Certificate
  store: CertStore
  link: LinkAuth
  origin: OriginAuth
}

export interface SimNetworkOptions {
  nodes: number
  security: SimSecurity
  scheduler: Scheduler
  rng: SeededRng
  metrics: MetricsRegistry
}

/** The authority, identities and certificates of a simulated network; `node(id)` builds a node's security. */
export class SimNetwork {
  readonly network: NetworkInfo
  readonly authority: Identity
  readonly identities = new Map<Addr, Identity>()
  readonly certificates = new Map<Addr, Certificate>()
  private readonly o: SimNetworkOptions

  constructor(o: SimNetworkOptions) {
    if (o.security.config.mode !== 'authenticated') throw new ConfigError('security.mode', 'a simulated network is built only in authenticated mode')
    this.o = o
    const keys = o.rng.fork('security')
    this.authority = identityFromSecrets(keys.bytes(32), keys.bytes(32))
    this.network = networkInfo('simulation', this.authority.publicKey, 'assigned')
    const notBefore = o.security.epoch - CERT_VALID_BEFORE_S
    for (let id = 1; id <= o.nodes; id++) {
      const identity = identityFromSecrets(keys.bytes(32), keys.bytes(32))
      this.identities.set(id, identity)
      this.certificates.set(id, this.issue(identity, id, notBefore, notBefore + CERT_VALID_FOR_S))
    }
  }

  /** A certificate of this network for `identity` at `address` (tests issue expired or revoked ones with it). */
  issue(identity: Identity, address: Addr, notBefore: number, notAfter: number, roles = ['node']): Certificate {
    return issueCertificate(this.authority, this.network, identity, { roles, notBefore, notAfter, address })
  }

  /** Unix seconds now, in virtual time. */
  clock(): number {
    return this.o.security.epoch + Math.floor(this.o.scheduler.now() / 1000)
  }

  /** The security of node `id` (its own trust anchor, roster, keys and counters). */
  node(id: Addr, o: { identity?: Identity; certificate?: Certificate; trust?: TrustAnchor } = {}): NodeSecurity {
    const { config, roster } = this.o.security
    const identity = o.identity ?? this.identities.get(id)
    const certificate = o.certificate ?? this.certificates.get(id)
    if (identity === undefined || certificate === undefined) throw new RangeError(`no identity for node ${id}`)
    const trust = o.trust ?? new TrustAnchor(this.network)
    const store = new CertStore({ trust, clock: () => this.clock(), roster: roster ? this.certificates.values() : [certificate], maxCertificates: config.maxCertificates })
    const metrics = this.o.metrics.scope('sec', id)
    const random = this.o.rng.fork('security-random', id)
    const link = new LinkAuth({ identity, certificate, store, scheduler: this.o.scheduler, random: (n) => random.bytes(n), config, metrics })
    const origin = new OriginAuth({ identity, certificate, store, link, scheduler: this.o.scheduler, config, metrics })
    return { identity, certificate, store, link, origin }
  }
}
