/**
 * Link authentication: who may be heard, and nothing replayed (docs/SECURITY.md §2, WIRE.md §15).
 * Sans-IO; the link layer (adhoc/link.ts) calls it for every frame in an `authenticated` network.
 *
 * Every frame a node sends carries a 12-byte trailer: its frame counter (u32, one counter for all
 * its frames, never reused) and an 8-byte truncated HMAC-SHA256 over the whole frame. Unicast
 * frames are MACed with a directional pairwise key from the two certificates' static X25519 keys
 * (HKDF, label `link-unicast`); broadcast frames with the sender's broadcast key, a random
 * 32-byte key it hands to each admitted neighbour sealed under their pairwise key. A receiver
 * accepts a frame only from a neighbour it holds a handshake with, only if the MAC verifies, and
 * only once per counter (a replay window per sender). Everything else is dropped before the link
 * looks at it — it does not refresh a neighbour, is not delivered and so is never forwarded.
 *
 * Handshake (proto SEC, unauthenticated frames): hearing a frame from a sender it has no keys for,
 * a node sends KEYREQ (its certificate, a fresh nonce); the sender checks the certificate against
 * the network's trust anchor (signature, network, validity, revocation) and answers KEY: the nonce
 * echoed, its current counter, its broadcast key sealed (ChaCha20-Poly1305) under the pairwise
 * key with the header as associated data, and its certificate. The echo makes an old KEY useless
 * to a replayer; the counter starts the replay window, so frames sent before the handshake cannot
 * be replayed after it. KEY can carry a request of its own, so two strangers meet in 3 messages.
 * Requests and answers are rate-limited per neighbour (`keyRequestIntervalMs`).
 *
 * Counters (scope 'sec'), one per reason a frame or message is refused: unauthenticated,
 * unknownSender, badMac (forged or modified), replayed, tooOld, expiredPeer, revokedPeer,
 * cert<Reason> (certMalformed, certBadSignature, certWrongNetwork, certNotYetValid, certExpired,
 * certRevoked, certAddressMismatch), keyUnsolicited, keyBadSeal, noKeyTx, decodeErrors; and the
 * work done: sealed, sealedBytes (trailer bytes added), opened, keyRequestsSent, keysSent,
 * keysAccepted, certsSent, certsLearnt.
 */
import { BROADCAST, type Addr } from '../core/addr.ts'
import { bytesEqual, getU32, putU32 } from '../core/bytes.ts'
import { tryDecode } from '../core/errors.ts'
import type { Counter, MetricsScope } from '../core/metrics.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { MacKey, open as aeadOpen, seal as aeadSeal } from './aead.ts'
import { CertificateError, type Certificate } from './cert.ts'
import type { CertStore } from './cert-store.ts'
import type { Identity } from './identity.ts'
import { pairwiseKey } from './pairwise.ts'
import { ReplayWindows } from './replay.ts'
import {
  KEY_AAD_BYTES, NONCE_BYTES, decodeSec, encodeSec, isZeroNonce, type CertMessage, type CertQuery, type KeyAnswer, type KeyRequest,
} from './link-auth-messages.ts'
import type { SecurityConfig } from './security-defaults.ts'

/** The link protocol number of security messages (adhoc/protocols.ts Proto.SEC; a test keeps them equal). */
export const SEC_PROTO = 10
/** Link frame layout bits this module reads (adhoc/link-frame.ts; a test keeps them equal). */
export const LINK_FLAG_BCAST = 0x08
export const LINK_FLAG_AUTH = 0x01
export const LINK_DST_OFFSET = 5
export const LINK_TRAILER_BYTES = 12
const COUNTER_BYTES = 4
export const LINK_TAG_BYTES = 8
/** Frames held per sender, and in all, while key handshakes are out. */
const HELD_PER_SENDER = 4
const HELD_TOTAL = 64

/** What `open` reads of a decoded link frame. */
interface HeldFrame {
  kind: string
  src: Addr
  dst?: Addr
  proto?: number
  authCounter: number
}
const MAX_COUNTER = 0xffffffff

const LABEL_UNICAST = 'link-unicast'
const LABEL_KEY = 'link-key'

const COUNTERS = [
  'unauthenticated', 'unknownSender', 'badMac', 'replayed', 'tooOld', 'expiredPeer', 'revokedPeer',
  'certMalformed', 'certBadSignature', 'certWrongNetwork', 'certNotYetValid', 'certExpired', 'certRevoked', 'certAddressMismatch',
  'keyUnsolicited', 'keyBadSeal', 'noKeyTx', 'decodeErrors', 'counterExhausted', 'handshakeLimited',
  'sealed', 'sealedBytes', 'opened', 'held', 'heldDelivered', 'keyRequestsSent', 'keysSent', 'keysAccepted', 'certsSent', 'certsLearnt',
] as const
type CounterName = (typeof COUNTERS)[number]

/** A neighbour's security association. */
interface Peer {
  cert: Certificate
  /** MAC key of my unicast frames to it. */
  tx: MacKey
  /** MAC key of its unicast frames to me. */
  rx: MacKey
  /** Its broadcast key; null until its KEY arrived. */
  bcast: MacKey | null
}

export interface LinkAuthOptions {
  identity: Identity
  /** This node's certificate (sent in handshakes). */
  certificate: Certificate
  store: CertStore
  scheduler: Scheduler
  /** Random bytes (nonces, the broadcast key): the OS CSPRNG on real nodes, a seeded stream in the simulator. */
  random: (n: number) => Uint8Array
  config: SecurityConfig
  metrics: MetricsScope
  /** First frame counter. A real node persists a reservation so a restart never reuses counters. */
  counterStart?: number
}

export class LinkAuth {
  readonly overhead = LINK_TRAILER_BYTES
  readonly address: Addr
  private readonly o: LinkAuthOptions
  private readonly m: Record<CounterName, Counter>
  private readonly net: Uint8Array
  private counter: number
  private bcastKey: Uint8Array
  private bcastMac: MacKey
  private readonly peers = new Map<Addr, Peer>()
  /** The peer moved to the end of `peers` last (skips re-inserting it for each of its frames). */
  private lastHeard: Addr = 0
  /** Outstanding key requests: the nonce sent and when. */
  private readonly requests = new Map<Addr, { nonce: Uint8Array; at: number }>()
  /** When each neighbour was last sent a KEY (rate limit). */
  private readonly answered = new Map<Addr, number>()
  /**
   * Replay windows, two per sender: `addr * 2` for its unicast frames to us (pairwise keys: only it
   * can advance this one) and `addr * 2 + 1` for its broadcasts (any neighbour of it holds that
   * key, so an insider could push the window ahead; a fresh KEY from the sender resets it).
   */
  private readonly windows: ReplayWindows
  /** Handshake messages this node may still send in the current second (KEYREQ and KEY). */
  private budget = 0
  private budgetSecond = -1
  private sendSec: (to: Addr, payload: Uint8Array, authenticated: boolean) => void = () => {}
  private redeliver: (token: unknown) => void = () => {}
  /**
   * Authenticated frames from a sender we hold no keys for yet, kept while our key request is out
   * (at most `HELD_PER_SENDER` per sender, `HELD_TOTAL` in all, for two request intervals): once
   * its KEY arrives, those whose MAC verifies and whose counter lies in the window just below the
   * KEY's are handed back to the link instead of being lost to the handshake.
   */
  private readonly held = new Map<Addr, Array<{ bytes: Uint8Array; frame: HeldFrame; token: unknown; at: number }>>()
  private heldCount = 0
  /** Held frames verified at their sender's KEY, which `open` then accepts once. */
  private readonly approved = new Set<Uint8Array>()

  constructor(o: LinkAuthOptions) {
    if (!bytesEqual(o.certificate.ed25519, o.identity.publicKey)) {
      throw new CertificateError('malformed', `the certificate of ${o.certificate.address} is for another key than this identity's`, o.certificate.address)
    }
    this.o = o
    // The certificate's address: derived from the key, or assigned by the authority (crypto/cert.ts).
    this.address = o.certificate.address
    this.net = o.store.trust.network.id
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, o.metrics.counter(n)])) as Record<CounterName, Counter>
    this.counter = o.counterStart ?? 0
    this.bcastKey = o.random(32)
    this.bcastMac = new MacKey(this.bcastKey, LINK_TAG_BYTES)
    this.windows = new ReplayWindows({ windowBits: o.config.replayWindowBits, maxOrigins: 2 * o.config.maxPeers })
    o.store.onAdded(() => this.m.certsLearnt.inc())
    o.store.onRevoked((addresses) => this.revoked(addresses))
  }

  attach(send: (to: Addr, payload: Uint8Array, authenticated: boolean) => void, redeliver?: (token: unknown) => void): void {
    this.sendSec = send
    if (redeliver) this.redeliver = redeliver
  }

  /** Ask neighbour `via` for the certificate of `address` (over an authenticated frame). */
  queryCertificate(via: Addr, address: Addr): void {
    this.sendSec(via, encodeSec({ type: 'certq', address }), true)
  }

  /** The neighbours this node holds keys for. */
  associations(): Addr[] {
    return [...this.peers.keys()].filter((a) => this.peers.get(a)!.bcast !== null)
  }

  // ---- frames ----------------------------------------------------------------------------------

  seal(frame: Uint8Array): Uint8Array | null {
    const bcast = (frame[0] & LINK_FLAG_BCAST) !== 0
    let key = this.bcastMac
    if (!bcast) {
      const dst = getU32(frame, LINK_DST_OFFSET)
      const peer = this.peerFor(dst)
      if (peer === null) {
        this.m.noKeyTx.inc()
        this.requestKeys(dst)
        return null
      }
      key = peer.tx
    }
    const counter = this.nextCounter()
    if (counter < 0) return null
    const n = frame.length
    const out = new Uint8Array(n + LINK_TRAILER_BYTES)
    out.set(frame)
    out[0] |= LINK_FLAG_AUTH
    putU32(out, n, counter)
    out.set(key.tag(out.subarray(0, n + COUNTER_BYTES)), n + COUNTER_BYTES)
    this.m.sealed.inc()
    this.m.sealedBytes.inc(LINK_TRAILER_BYTES)
    return out
  }

  open(bytes: Uint8Array, f: HeldFrame, token?: unknown): 'ok' | 'handshake' | 'drop' {
    if (this.approved.delete(bytes)) {
      this.m.heldDelivered.inc()
      this.m.opened.inc()
      return 'ok'
    }
    if (f.authCounter < 0) {
      if (f.kind === 'data' && f.proto === SEC_PROTO) return 'handshake'
      this.m.unauthenticated.inc()
      return 'drop'
    }
    const peer = this.peers.get(f.src)
    if (peer === undefined || peer.bcast === null) {
      this.m.unknownSender.inc()
      this.requestKeys(f.src)
      // Hold only frames of a sender with a certificate we know (made-up senders cannot fill the
      // store) while our key request to it is out.
      if (token !== undefined && this.requests.has(f.src) && this.o.store.get(f.src) !== undefined) this.hold(bytes, f, token)
      return 'drop'
    }
    if (!this.o.store.usable(peer.cert)) {
      this.drop(f.src)
      ;(this.o.store.trust.isRevoked(f.src) ? this.m.revokedPeer : this.m.expiredPeer).inc()
      return 'drop'
    }
    const bcast = f.dst === undefined || f.dst === BROADCAST
    const key = bcast ? peer.bcast : peer.rx
    const t = bytes.length - LINK_TAG_BYTES
    if (!key.verify(bytes.subarray(t), bytes.subarray(0, t))) {
      this.m.badMac.inc()
      // A neighbour that restarted has a new broadcast key: ask again (rate-limited).
      if (bcast) this.requestKeys(f.src)
      return 'drop'
    }
    const verdict = this.windows.accept(f.src * 2 + (bcast ? 1 : 0), f.authCounter)
    if (verdict !== 'fresh') {
      ;(verdict === 'replay' ? this.m.replayed : this.m.tooOld).inc()
      // A replay, or an insider that pushed this sender's broadcast window ahead with a forged
      // frame: a fresh KEY from the sender resets that window (rate-limited).
      if (bcast) this.requestKeys(f.src)
      return 'drop'
    }
    if (this.lastHeard !== f.src) {
      this.peers.delete(f.src) // least recently used last
      this.peers.set(f.src, peer)
      this.lastHeard = f.src
    }
    this.m.opened.inc()
    return 'ok'
  }

  // ---- handshake -------------------------------------------------------------------------------

  control(from: Addr, payload: Uint8Array, authenticated: boolean): void {
    const msg = tryDecode(decodeSec, payload, () => this.m.decodeErrors.inc())
    if (!msg) return
    switch (msg.type) {
      case 'keyreq':
        return this.onKeyRequest(from, msg)
      case 'key':
        return this.onKey(from, msg)
      case 'certq':
        if (authenticated) this.onCertQuery(from, msg)
        else this.m.unauthenticated.inc()
        return
      case 'cert':
        return this.onCert(msg)
    }
  }

  private now(): number {
    return this.o.scheduler.now()
  }

  private nextCounter(): number {
    if (this.counter > MAX_COUNTER) {
      this.m.counterExhausted.inc()
      return -1
    }
    return this.counter++
  }

  /** The association for a unicast destination, made from its certificate if we have one. */
  private peerFor(addr: Addr): Peer | null {
    const p = this.peers.get(addr)
    if (p !== undefined) return p
    const cert = this.o.store.get(addr)
    return cert === undefined ? null : this.associate(cert)
  }

  private associate(cert: Certificate): Peer {
    const me = this.o.identity
    const peer: Peer = {
      cert,
      tx: new MacKey(pairwiseKey(me, cert.x25519, LABEL_UNICAST, this.net, { from: this.address, to: cert.address }), LINK_TAG_BYTES),
      rx: new MacKey(pairwiseKey(me, cert.x25519, LABEL_UNICAST, this.net, { from: cert.address, to: this.address }), LINK_TAG_BYTES),
      bcast: null,
    }
    if (this.peers.size >= this.o.config.maxPeers) {
      // Evicted for room: its replay windows stay (they have their own bound), so frames it sent
      // before cannot come back through a new handshake.
      this.drop(this.peers.keys().next().value as Addr, false)
    }
    this.peers.set(cert.address, peer)
    return peer
  }

  /** Send KEYREQ to `addr` unless one went out within the rate-limit interval. */
  private requestKeys(addr: Addr): void {
    const pending = this.requests.get(addr)
    if (pending !== undefined && this.now() - pending.at < this.o.config.keyRequestIntervalMs) return
    if (!this.spend()) return
    const nonce = this.freshNonce(addr)
    const send = (): void => {
      // Holding its certificate (a provisioned roster) suggests it holds ours: send none. When it
      // does not, it answers with a key request of its own that carries its certificate.
      const haveCert = this.o.store.get(addr) !== undefined
      this.m.keyRequestsSent.inc()
      this.sendSec(addr, encodeSec({ type: 'keyreq', haveCert, nonce, cert: haveCert ? new Uint8Array(0) : this.o.certificate.bytes }), false)
    }
    const jitter = this.o.config.handshakeJitterMs
    if (jitter > 0) {
      const r = this.o.random(4)
      this.o.scheduler.at((getU32(r, 0) / 2 ** 32) * jitter, send)
    } else send()
  }

  private freshNonce(addr: Addr): Uint8Array {
    let nonce = this.o.random(NONCE_BYTES)
    while (isZeroNonce(nonce)) nonce = this.o.random(NONCE_BYTES)
    if (this.requests.size >= this.o.config.maxPeers) this.requests.delete(this.requests.keys().next().value as Addr)
    this.requests.delete(addr)
    this.requests.set(addr, { nonce, at: this.now() })
    return nonce
  }

  /** Check a certificate received from `from` (it must be `from`'s own) and keep it; null if refused (counted). */
  private learn(from: Addr, certBytes: Uint8Array): Certificate | null {
    if (certBytes.length === 0) return this.o.store.get(from) ?? null
    try {
      const c = this.o.store.add(certBytes)
      if (c.address !== from) {
        this.m.certAddressMismatch.inc()
        return null
      }
      return c
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e
      this.countRejection(e)
      return null
    }
  }

  private countRejection(e: CertificateError): void {
    const name = ('cert' + e.reason.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())) as CounterName
    ;(this.m[name] ?? this.m.certMalformed).inc()
  }

  private onKeyRequest(from: Addr, msg: KeyRequest): void {
    const cert = this.learn(from, msg.cert)
    if (cert === null) {
      // It says it holds our certificate but sent none of its own and we lack it: ask for it.
      if (msg.cert.length === 0) this.requestKeys(from)
      return
    }
    this.answer(from, cert, msg.nonce, msg.haveCert)
  }

  /** Send KEY to `to`: its nonce echoed, our broadcast key sealed, a request of our own if we lack its keys. */
  private answer(to: Addr, cert: Certificate, echo: Uint8Array, theyHaveOurCert: boolean): void {
    const last = this.answered.get(to)
    if (last !== undefined && this.now() - last < this.o.config.keyRequestIntervalMs) return
    if (this.answered.size >= this.o.config.maxPeers) this.answered.delete(this.answered.keys().next().value as Addr)
    this.answered.delete(to)
    this.answered.set(to, this.now())
    if (!this.spend()) return
    // No association is made here: an unauthenticated request must not push a neighbour out of
    // the table. Our own request rides along when we hold no keys from it.
    const request = this.peers.get(to)?.bcast ? new Uint8Array(NONCE_BYTES) : this.requestNonceFor(to)
    const counter = this.nextCounter()
    if (counter < 0) return
    const header = encodeSec({ type: 'key', haveCert: true, echo, request, counter, sealed: new Uint8Array(48), cert: new Uint8Array(0) }).subarray(0, KEY_AAD_BYTES)
    const key = pairwiseKey(this.o.identity, cert.x25519, LABEL_KEY, this.net, { from: this.address, to })
    const sealed = aeadSeal(key, keyNonce(echo, counter), this.bcastKey, header)
    this.m.keysSent.inc()
    const certBytes = theyHaveOurCert ? new Uint8Array(0) : this.o.certificate.bytes
    this.sendSec(to, encodeSec({ type: 'key', haveCert: true, echo, request, counter, sealed, cert: certBytes }), false)
  }

  /** The nonce of our outstanding request to `addr`, or a new one. */
  private requestNonceFor(addr: Addr): Uint8Array {
    const pending = this.requests.get(addr)
    return pending !== undefined ? pending.nonce : this.freshNonce(addr)
  }

  private onKey(from: Addr, msg: KeyAnswer): void {
    const pending = this.requests.get(from)
    // A KEY answers our current request only, and only for two request intervals: a recorded KEY
    // delivered later is refused.
    if (pending === undefined || !bytesEqual(pending.nonce, msg.echo) || this.now() - pending.at > 2 * this.o.config.keyRequestIntervalMs) {
      this.m.keyUnsolicited.inc()
      return
    }
    const cert = this.learn(from, msg.cert)
    if (cert === null) return
    const key = pairwiseKey(this.o.identity, cert.x25519, LABEL_KEY, this.net, { from, to: this.address })
    const bk = aeadOpen(key, keyNonce(msg.echo, msg.counter), msg.sealed, msg.aad!)
    if (bk === null || bk.length !== 32) {
      this.m.keyBadSeal.inc()
      return
    }
    this.requests.delete(from)
    const peer = this.peers.get(from) ?? this.associate(cert)
    peer.cert = cert
    peer.bcast = new MacKey(bk, LINK_TAG_BYTES)
    // Frames it sent before this answer cannot be replayed after it: a window moves up to the
    // KEY's counter. It moves down only when the KEY's counter is more than a window below its top:
    // the sender restarted without keeping its counter, or (broadcast window) an insider holding
    // its broadcast key pushed the window ahead with a forged frame. A genuine KEY delayed by an
    // attacker (it must answer our request of the last two intervals) lands within a window of
    // the top unless the sender sent more than a window of frames meanwhile.
    // Held frames are judged against the windows as they were (a frame accepted before stays a
    // replay), then the windows move.
    const release = this.release(from, peer, msg.counter)
    for (const w of [from * 2, from * 2 + 1]) {
      const top = this.windows.top(w)
      if (top === undefined || msg.counter > top || msg.counter + this.o.config.replayWindowBits < top) this.windows.reset(w, msg.counter)
    }
    this.m.keysAccepted.inc()
    if (!isZeroNonce(msg.request)) this.answer(from, cert, msg.request, msg.haveCert)
    for (const h of release) {
      this.redeliver(h.token)
      this.approved.delete(h.bytes) // not taken (e.g. the link closed meanwhile): no longer valid
    }
  }

  private onCertQuery(from: Addr, msg: CertQuery): void {
    const c = msg.address === this.address ? this.o.certificate : this.o.store.get(msg.address)
    if (c === undefined) return
    this.m.certsSent.inc()
    this.sendSec(from, encodeSec({ type: 'cert', cert: c.bytes }), true)
  }

  private onCert(msg: CertMessage): void {
    try {
      this.o.store.add(msg.cert) // its listeners (origin authentication) resume what waited on it
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e
      this.countRejection(e)
    }
  }

  private hold(bytes: Uint8Array, frame: HeldFrame, token: unknown): void {
    this.expireHeld()
    let list = this.held.get(frame.src)
    if (list === undefined) this.held.set(frame.src, (list = []))
    if (list.length >= HELD_PER_SENDER) return
    if (this.heldCount >= HELD_TOTAL) this.dropHeld(this.held.keys().next().value as Addr) // the oldest sender's
    list.push({ bytes, frame, token, at: this.now() })
    this.heldCount++
    this.m.held.inc()
  }

  /** Forget held frames older than two request intervals (their KEY is refused by then anyway). */
  private expireHeld(): void {
    const limit = this.now() - 2 * this.o.config.keyRequestIntervalMs
    for (const [addr, list] of this.held) {
      while (list.length > 0 && list[0].at < limit) {
        list.shift()
        this.heldCount--
      }
      if (list.length === 0) this.held.delete(addr)
    }
  }

  private dropHeld(addr: Addr): void {
    const list = this.held.get(addr)
    if (list === undefined) return
    this.heldCount -= list.length
    this.held.delete(addr)
  }

  /**
   * The frames held from `from` that its KEY vouches for: MAC valid under the keys just installed,
   * counter within a window below the KEY's counter (sent just before it) and not repeated. They
   * are approved for one `open` each and returned (in arrival order) for redelivery.
   */
  private release(from: Addr, peer: Peer, keyCounter: number): Array<{ token: unknown; bytes: Uint8Array }> {
    this.expireHeld()
    const list = this.held.get(from)
    if (list === undefined) return []
    this.dropHeld(from)
    const out: Array<{ token: unknown; bytes: Uint8Array }> = []
    const seen = new Set<number>()
    for (const h of list) {
      const c = h.frame.authCounter
      const bcast = h.frame.dst === undefined || h.frame.dst === BROADCAST
      const key = bcast ? peer.bcast! : peer.rx
      const t = h.bytes.length - LINK_TAG_BYTES
      if (c > keyCounter || c + this.o.config.replayWindowBits <= keyCounter || seen.has(c * 2 + (bcast ? 1 : 0))) continue
      // A window that survived (an evicted association) still knows what was accepted before.
      if (this.windows.check(from * 2 + (bcast ? 1 : 0), c) !== 'fresh') continue
      if (!key.verify(h.bytes.subarray(t), h.bytes.subarray(0, t))) continue
      seen.add(c * 2 + (bcast ? 1 : 0))
      this.approved.add(h.bytes)
      out.push({ token: h.token, bytes: h.bytes })
    }
    return out
  }

  /** Forget a neighbour's association, windows and pending request. */
  private drop(addr: Addr, forgetWindows = true): void {
    if (this.lastHeard === addr) this.lastHeard = 0
    this.peers.delete(addr)
    if (forgetWindows) {
      this.windows.forget(addr * 2)
      this.windows.forget(addr * 2 + 1)
    }
    this.requests.delete(addr)
    this.dropHeld(addr)
  }

  /**
   * Newly revoked addresses (CertStore.updateRevocations): drop their associations and draw a new
   * broadcast key, which they held. Every other neighbour then fails our next broadcast's MAC and
   * asks for the new key (rate-limited handshakes), which the revoked nodes can no longer get.
   */
  private revoked(addresses: readonly Addr[]): void {
    if (addresses.length === 0) return
    for (const a of addresses) this.drop(a)
    this.bcastKey = this.o.random(32)
    this.bcastMac = new MacKey(this.bcastKey, LINK_TAG_BYTES)
  }

  /** Take one handshake message from this second's budget; false (counted) when it is spent. */
  private spend(): boolean {
    const second = Math.floor(this.now() / 1000)
    if (second !== this.budgetSecond) {
      this.budgetSecond = second
      this.budget = this.o.config.handshakesPerSecond
    }
    if (this.budget <= 0) {
      this.m.handshakeLimited.inc()
      return false
    }
    this.budget--
    return true
  }
}

/**
 * The AEAD nonce of a KEY: the requester's fresh random nonce (8 bytes) then the answerer's
 * counter. The counter alone would repeat after a restart that does not persist it; the echo makes
 * every (directional key, nonce) pair unique however the counter behaves.
 */
function keyNonce(echo: Uint8Array, counter: number): Uint8Array {
  const n = new Uint8Array(12)
  n.set(echo)
  putU32(n, 8, counter)
  return n
}
