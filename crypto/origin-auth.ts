/**
 * Origin authentication across hops (docs/SECURITY.md §3): what a routing protocol uses so that a
 * message is known to come from the node named as its origin, however many relays carried it.
 *
 * - Control messages that travel several hops (route requests and replies) carry the origin's
 *   Ed25519 signature over their immutable fields (`sign` / `verify`).
 * - Unicast data carries an end-to-end MAC with the directional pairwise key of origin and
 *   destination (label `e2e`) and the origin's end-to-end counter (`sealData` / `openData`), so a
 *   relay that modifies a packet or replays one is detected at the destination.
 *
 * A verifier needs the origin's certificate. Neighbours' certificates arrive with the link
 * handshake; a far origin's is fetched from the neighbour that relayed its message (CERTQ → CERT
 * over authenticated link frames): that neighbour verified the message, so it holds the
 * certificate, and by induction the first relay got it from the origin. Until it arrives the
 * message waits (`'pending'`; its `resume` callback runs when the certificate is learnt), bounded
 * by `maxPendingVerifications` and `certFetchTimeoutMs`.
 *
 * Counters (scope 'sec'): originSigned, originVerified, originBadSignature, originPending,
 * originPendingDropped, certFetches, certFetchTimeouts, e2eSealed, e2eOpened, e2eBadMac, e2eReplayed,
 * e2eNoKey.
 */
import type { Addr } from '../core/addr.ts'
import { getU32, putU32 } from '../core/bytes.ts'
import type { Counter, MetricsScope } from '../core/metrics.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { MacKey } from './aead.ts'
import type { Certificate } from './cert.ts'
import type { CertStore } from './cert-store.ts'
import { ed25519 } from './ed25519.ts'
import type { Identity } from './identity.ts'
import type { LinkAuth } from './link-auth.ts'
import { pairwiseKey } from './pairwise.ts'
import { ReplayWindows } from './replay.ts'
import type { SecurityConfig } from './security-defaults.ts'

export const SIGNATURE_BYTES = 64
/** End-to-end trailer of routed data: counter u32 ‖ 8-byte MAC. */
export const E2E_TRAILER_BYTES = 12
const E2E_TAG_BYTES = 8
const LABEL_E2E = 'e2e'
const MAX_COUNTER = 0xffffffff

const COUNTERS = [
  'originSigned', 'originVerified', 'originBadSignature', 'originPending', 'originPendingDropped', 'certFetches', 'certFetchTimeouts',
  'e2eSealed', 'e2eOpened', 'e2eBadMac', 'e2eReplayed', 'e2eNoKey',
] as const
type CounterName = (typeof COUNTERS)[number]

export type OriginVerdict = 'ok' | 'bad' | 'pending'

export interface OriginAuthOptions {
  identity: Identity
  /** This node's certificate (its address may be assigned by the authority). */
  certificate: Certificate
  store: CertStore
  /** The link authenticator, for certificate fetches from neighbours. */
  link: LinkAuth
  scheduler: Scheduler
  config: SecurityConfig
  metrics: MetricsScope
  /** First end-to-end counter (persisted by a real node like the link counter). */
  counterStart?: number
}

interface Waiting {
  resume: () => void
  timer: Timer
}

export class OriginAuth {
  readonly address: Addr
  private readonly o: OriginAuthOptions
  private readonly m: Record<CounterName, Counter>
  private readonly backend = ed25519()
  /** Sealed packets so far (from `counterStart`): every per-destination counter stays at or below it. */
  private counter: number
  /** Next end-to-end counter per destination (bounded; a new entry starts at `counter`, so it never goes back). */
  private readonly next = new Map<Addr, number>()
  private readonly windows: ReplayWindows
  /** Pairwise e2e MAC keys per (peer, direction): `peer * 2 + (outgoing ? 1 : 0)`. */
  private readonly keys = new Map<number, MacKey>()
  /** Keys handed out by `pairwise`, by label and direction. */
  private readonly labelled = new Map<string, Uint8Array>()
  /** Messages waiting for an origin's certificate, by origin. */
  private readonly waiting = new Map<Addr, Waiting[]>()
  private waitingCount = 0

  constructor(o: OriginAuthOptions) {
    this.o = o
    this.address = o.certificate.address
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, o.metrics.counter(n)])) as Record<CounterName, Counter>
    this.counter = o.counterStart ?? 0
    this.windows = new ReplayWindows({ windowBits: o.config.replayWindowBits, maxOrigins: o.config.maxPeers })
    o.store.onAdded((c) => this.learnt(c))
  }

  /** This node's signature over `bytes` (the immutable fields of a message it originates). */
  sign(bytes: Uint8Array): Uint8Array {
    this.m.originSigned.inc()
    return this.o.identity.sign(bytes)
  }

  /**
   * Is `signature` the signature of `origin` over `bytes`? `'pending'` when the origin's
   * certificate is not known yet: it is fetched from `via` (the neighbour the message came from)
   * and `resume` runs once it is learnt (then call verify again); it never runs if the fetch fails.
   */
  verify(origin: Addr, bytes: Uint8Array, signature: Uint8Array, via: Addr, resume: () => void): OriginVerdict {
    const cert = origin === this.address ? undefined : this.o.store.get(origin)
    if (cert === undefined) {
      if (origin === this.address) return this.check(this.o.identity.publicKey, bytes, signature)
      this.wait(origin, via, resume)
      return 'pending'
    }
    return this.check(cert.ed25519, bytes, signature)
  }

  private check(publicKey: Uint8Array, bytes: Uint8Array, signature: Uint8Array): OriginVerdict {
    if (signature.length === SIGNATURE_BYTES && this.backend.verify(publicKey, bytes, signature)) {
      this.m.originVerified.inc()
      return 'ok'
    }
    this.m.originBadSignature.inc()
    return 'bad'
  }

  /** Whether `addr` is this node or holds a certificate usable now (not expired, not revoked). */
  trusted(addr: Addr): boolean {
    return addr === this.address || this.o.store.get(addr) !== undefined
  }

  /**
   * The directional pairwise key of this node and `peer` under `label` (both ends derive the same
   * key for the same `{ from, to }`), e.g. ODSBR's source–probe keys; null when `peer`'s certificate
   * is unknown or no longer usable. Cached, bounded; looked up against the certificate on every use.
   */
  pairwise(peer: Addr, label: string, dir: { from: Addr; to: Addr }): Uint8Array | null {
    const cert = this.o.store.get(peer)
    if (cert === undefined) return null
    const id = `${label}/${dir.from}/${dir.to}`
    let k = this.labelled.get(id)
    if (k === undefined) {
      k = pairwiseKey(this.o.identity, cert.x25519, label, this.o.store.trust.network.id, dir)
      if (this.labelled.size >= this.o.config.maxPeers * 2) this.labelled.delete(this.labelled.keys().next().value as string)
      this.labelled.set(id, k)
    }
    return k
  }

  /** Whether this node can seal data to `dst` now (it holds dst's certificate). */
  canSeal(dst: Addr): boolean {
    return this.o.store.get(dst) !== undefined
  }

  /**
   * The end-to-end trailer for data this node originates to `dst`, MACing `parts` (the packet's
   * immutable fields and payload) and the counter; null when dst's certificate is unknown.
   */
  sealData(dst: Addr, ...parts: Uint8Array[]): Uint8Array | null {
    const key = this.key(dst, true)
    // One counter per destination: the receiver's window sees this pair's packets only, so a
    // packet delayed while many go to others is not pushed out of it.
    const c = this.next.get(dst) ?? this.counter
    if (key === null || c > MAX_COUNTER) {
      this.m.e2eNoKey.inc()
      return null
    }
    this.next.delete(dst)
    if (this.next.size >= this.o.config.maxPeers) this.next.delete(this.next.keys().next().value as Addr)
    this.next.set(dst, c + 1)
    this.counter++
    const trailer = new Uint8Array(E2E_TRAILER_BYTES)
    putU32(trailer, 0, c)
    trailer.set(key.tag(...parts, trailer.subarray(0, 4)), 4)
    this.m.e2eSealed.inc()
    return trailer
  }

  /**
   * Check data from `origin` addressed to this node: `'ok'` (authentic and not seen before),
   * `'bad'` (modified, forged or replayed: counted by reason) or `'pending'` (origin's certificate
   * being fetched from `via`; `resume` runs when it arrives).
   */
  openData(origin: Addr, trailer: Uint8Array, via: Addr, resume: () => void, ...parts: Uint8Array[]): OriginVerdict {
    if (trailer.length !== E2E_TRAILER_BYTES) {
      this.m.e2eBadMac.inc()
      return 'bad'
    }
    const key = this.key(origin, false)
    if (key === null) {
      this.wait(origin, via, resume)
      return 'pending'
    }
    if (!key.verify(trailer.subarray(4), ...parts, trailer.subarray(0, 4))) {
      this.m.e2eBadMac.inc()
      return 'bad'
    }
    const counter = getU32(trailer, 0)
    if (this.windows.accept(origin, counter) !== 'fresh') {
      this.m.e2eReplayed.inc()
      return 'bad'
    }
    this.m.e2eOpened.inc()
    return 'ok'
  }

  private key(peer: Addr, outgoing: boolean): MacKey | null {
    // The certificate is looked up on every use, so a peer whose certificate expired or was
    // revoked loses its cached key at once.
    const cert = this.o.store.get(peer)
    if (cert === undefined) return null
    const id = peer * 2 + (outgoing ? 1 : 0)
    let k = this.keys.get(id)
    if (k !== undefined) return k
    const me = this.address
    const dir = outgoing ? { from: me, to: peer } : { from: peer, to: me }
    k = new MacKey(pairwiseKey(this.o.identity, cert.x25519, LABEL_E2E, this.o.store.trust.network.id, dir), E2E_TAG_BYTES)
    if (this.keys.size >= this.o.config.maxPeers * 2) this.keys.delete(this.keys.keys().next().value as number)
    this.keys.set(id, k)
    return k
  }

  private wait(origin: Addr, via: Addr, resume: () => void): void {
    const cap = this.o.config.maxPendingVerifications
    if (cap === 0) {
      this.m.originPendingDropped.inc()
      return
    }
    if (this.waitingCount >= cap) this.dropOldest()
    let list = this.waiting.get(origin)
    if (list === undefined) {
      this.waiting.set(origin, (list = []))
      this.m.certFetches.inc()
      this.o.link.queryCertificate(via, origin)
    }
    const entry: Waiting = {
      resume,
      timer: this.o.scheduler.at(this.o.config.certFetchTimeoutMs, () => this.expire(origin, entry)),
    }
    list.push(entry)
    this.waitingCount++
    this.m.originPending.inc()
  }

  private expire(origin: Addr, entry: Waiting): void {
    const list = this.waiting.get(origin)
    const i = list?.indexOf(entry) ?? -1
    if (list === undefined || i < 0) return
    list.splice(i, 1)
    if (list.length === 0) this.waiting.delete(origin)
    this.waitingCount--
    this.m.certFetchTimeouts.inc()
  }

  private dropOldest(): void {
    const [origin, list] = this.waiting.entries().next().value as [Addr, Waiting[]]
    list.shift()!.timer.cancel()
    if (list.length === 0) this.waiting.delete(origin)
    this.waitingCount--
    this.m.originPendingDropped.inc()
  }

  private learnt(c: Certificate): void {
    const list = this.waiting.get(c.address)
    if (list === undefined) return
    this.waiting.delete(c.address)
    this.waitingCount -= list.length
    for (const w of list) {
      w.timer.cancel()
      w.resume()
    }
  }
}
