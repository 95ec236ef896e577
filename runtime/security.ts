/**
 * A real node's security from its files (`spinmesh keygen`, `spinmesh cert issue`, `spinmesh
 * network init`): identity, certificate, the network's trust anchor and roster, and the link and
 * origin authenticators built on them (crypto/; docs/SECURITY.md). The simulator builds the same
 * objects from a simulated authority (crypto/sim-network.ts).
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { MetricsScope } from '../core/metrics.ts'
import { ConfigError } from '../core/errors.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { CertStore } from '../crypto/cert-store.ts'
import { loadCertificate, loadNetwork } from '../crypto/network-dir.ts'
import type { Identity } from '../crypto/identity.ts'
import { LinkAuth } from '../crypto/link-auth.ts'
import { OriginAuth } from '../crypto/origin-auth.ts'
import { validateSecurityConfig } from '../crypto/security-defaults.ts'
import type { NodeSecurity } from '../crypto/sim-network.ts'

export function loadNodeSecurity(o: {
  identity: Identity
  identityFile: string
  networkDir: string
  certificateFile?: string
  scheduler: Scheduler
  metrics: MetricsScope
  /** Unix seconds (certificate validity); default the wall clock. */
  clock?: () => number
}): NodeSecurity {
  const certFile = o.certificateFile ?? o.identityFile.replace(/\.[^./]*$/, '') + '.cert'
  if (!existsSync(certFile)) throw new ConfigError('security.certificate', `no certificate at ${certFile}: issue one with spinmesh cert issue --network ${o.networkDir} --identity ${o.identityFile}`)
  const certificate = loadCertificate(certFile)
  if (certificate.address !== o.identity.address) {
    throw new ConfigError('security.certificate', `${certFile} certifies ${certificate.address.toString(16)}, not this identity's ${o.identity.address.toString(16)}`)
  }
  const { trust, roster } = loadNetwork(o.networkDir)
  const config = validateSecurityConfig({ mode: 'authenticated' })
  const clock = o.clock ?? (() => Math.floor(Date.now() / 1000))
  trust.check(certificate, clock())
  const store = new CertStore({ trust, clock, roster: [certificate, ...roster.filter((c) => c.address !== certificate.address)], maxCertificates: config.maxCertificates })
  const link = new LinkAuth({ identity: o.identity, certificate, store, scheduler: o.scheduler, random: (n) => new Uint8Array(randomBytes(n)), config, metrics: o.metrics })
  const origin = new OriginAuth({ identity: o.identity, certificate, store, link, scheduler: o.scheduler, config, metrics: o.metrics })
  return { identity: o.identity, certificate, store, link, origin }
}
