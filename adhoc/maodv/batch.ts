/**
 * Batch mode at members (docs/WIRE.md §11.2): batched packets (auth 2) are held until a verified
 * DIGEST lists their hash, then delivered; nothing unverified is ever delivered.
 *
 * - A batched packet whose hash a verified DIGEST already listed (a late tree copy) is delivered at
 *   once; one whose hash differs from the listed one is refused (`dataBadSignature`).
 * - Otherwise it is held (`dataHeld`), at most `batchMaxHeld` packets for at most `batchHoldMs`;
 *   one whose DIGEST never verifies is dropped (`dataUnauthenticatedExpired`, the oldest first when
 *   full). Up to MAX_CANDIDATES different copies of one (origin, seq) are held, so a modified copy
 *   arriving first does not shut the genuine one out; the DIGEST tells which one is genuine.
 * - A verified DIGEST (data-auth.ts checks its signature) releases the held packets it lists and
 *   remembers each listed hash with the DIGEST (at most MAX_KNOWN, oldest forgotten first): that
 *   answers late copies without a signature check, and is the proof the layer above (anonymous
 *   gossip) keeps and hands on with recovered packets.
 * - `verifyDigest` lets the layer above verify a DIGEST that came by gossip: once verified it
 *   releases held packets and answers `lookup` like one the tree delivered.
 *
 * Members forward batched packets at once without verifying (as relays do): holding them for the
 * DIGEST would add up to `batchMaxDelayMs` per member on the path. A held copy that turns out
 * genuine but was not the one forwarded is forwarded when it verifies.
 */
import type { Addr } from '../../core/addr.ts'
import { tryDecode } from '../../core/errors.ts'
import type { Timer } from '../../core/scheduler.ts'
import type { OriginVerdict } from '../../crypto/origin-auth.ts'
import type { LinkRx } from '../link-types.ts'
import { decodeDigestBody, digestSignedBytes, packetHash, sameHash, type DigestEntry, type SignedDigest } from './batch-frame.ts'
import type { MaodvContext } from './context.ts'
import type { DataHeader } from './data-frame.ts'
import type { GroupState } from './group-table.ts'

/** Listed hashes remembered (with their DIGEST) for late copies and gossip. */
export const MAX_KNOWN = 4096
/** Different copies of one (origin, seq) held at once. */
export const MAX_CANDIDATES = 4

/** What a verified packet's delivery carries: its MAODV seq and the DIGEST that lists it. */
export interface BatchProof {
  seq: number
  digest: SignedDigest
}

/** The data plane's two halves, as the verifier uses them. */
export interface BatchPlane {
  deliver(g: GroupState, h: DataHeader, rx: LinkRx, proof: BatchProof): void
  forward(g: GroupState, h: DataHeader, rx: LinkRx): void
}

interface Candidate {
  h: DataHeader
  rx: LinkRx
  hash: Uint8Array
  forwarded: boolean
}

interface Held {
  g: GroupState
  candidates: Candidate[]
  timer: Timer
}

interface Known {
  hash: Uint8Array
  digest: SignedDigest
}

const keyOf = (group: Addr, origin: Addr, seq: number): string => `${group}/${origin}/${seq}`

export class BatchVerifier {
  private readonly known = new Map<string, Known>()
  private readonly held = new Map<string, Held>()

  /** `settled(key)`: a copy of (group, origin, seq) verified; later copies are duplicates. */
  constructor(private readonly c: MaodvContext, private readonly plane: BatchPlane, private readonly settled: (key: string) => void) {}

  /** A batched packet at a member: `fresh` when the duplicate filter had not seen (origin, seq). */
  packet(g: GroupState, h: DataHeader, rx: LinkRx, fresh: boolean, key: string): void {
    const c = this.c
    const hash = packetHash(h.origin, h.group, h.seq, h.payload)
    const k = this.known.get(key)
    if (k !== undefined) {
      if (!sameHash(k.hash, hash)) return void c.m.dataBadSignature.inc()
      this.settled(key)
      c.m.dataVerified.inc()
      this.plane.deliver(g, h, rx, { seq: h.seq, digest: k.digest })
      return this.plane.forward(g, h, rx)
    }
    let held = this.held.get(key)
    if (held?.candidates.some((x) => sameHash(x.hash, hash)) || (held !== undefined && held.candidates.length >= MAX_CANDIDATES)) {
      return void c.m.dataDuplicates.inc()
    }
    if (fresh) this.plane.forward(g, h, rx)
    if (held === undefined) {
      if (this.held.size >= c.config.batchMaxHeld) this.expire(this.held.keys().next().value as string)
      held = { g, candidates: [], timer: c.scheduler.at(c.config.batchHoldMs, () => this.expire(key)) }
      this.held.set(key, held)
    }
    held.candidates.push({ h: { ...h, payload: h.payload.slice() }, rx, hash, forwarded: fresh })
    c.m.dataHeld.inc()
  }

  /** A DIGEST whose signature verified here (tree or gossip): remember its hashes, release what it lists. */
  apply(d: SignedDigest, entries: readonly DigestEntry[]): void {
    const c = this.c
    c.m.digestsVerified.inc()
    for (const e of entries) {
      const key = keyOf(d.group, d.origin, e.seq)
      if (!this.known.has(key)) {
        if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string)
        this.known.set(key, { hash: e.hash.slice(), digest: d })
      }
      const held = this.held.get(key)
      if (held === undefined) continue
      this.held.delete(key)
      held.timer.cancel()
      let done = false
      for (const x of held.candidates) {
        if (done || !sameHash(x.hash, e.hash)) {
          c.m.dataBadSignature.inc()
          continue
        }
        done = true
        this.settled(key)
        c.m.dataVerified.inc()
        const rx = { ...x.rx, at: c.now() }
        this.plane.deliver(held.g, x.h, rx, { seq: x.h.seq, digest: d })
        if (!x.forwarded) this.plane.forward(held.g, x.h, rx)
      }
    }
  }

  /**
   * Verify a DIGEST that came another way (gossip): `'ok'` once its signature verified (then it
   * counts as if the tree had delivered it), `'bad'`, or `'pending'` while its origin's certificate
   * is fetched from `via` (`resume` runs when it is known; call again).
   */
  verifyDigest(d: SignedDigest, via: Addr, resume: () => void): OriginVerdict {
    const entries = tryDecode(decodeDigestBody, d.body)
    if (!entries) return 'bad'
    const v = this.c.security!.verify(d.origin, digestSignedBytes(d.origin, d.group, d.seq, d.body), d.signature, via, resume)
    if (v === 'ok') this.apply({ ...d, body: d.body.slice(), signature: d.signature.slice() }, entries)
    return v
  }

  /** The hash a verified DIGEST listed for (group, origin, seq), with that DIGEST. */
  lookup(group: Addr, origin: Addr, seq: number): Known | undefined {
    return this.known.get(keyOf(group, origin, seq))
  }

  private expire(key: string): void {
    const held = this.held.get(key)
    if (held === undefined) return
    held.timer.cancel()
    this.held.delete(key)
    this.c.m.dataUnauthenticatedExpired.inc()
  }

  close(): void {
    for (const h of this.held.values()) h.timer.cancel()
    this.held.clear()
  }
}
