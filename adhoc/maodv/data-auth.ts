/**
 * Origin authentication of multicast data (docs/WIRE.md §11.1), for a Maodv built with `security`.
 *
 * The origin signs `DATA_SIGN_DOMAIN ‖ origin ‖ group ‖ seq ‖ payload` (data-frame.ts) once, when
 * it first sends the packet; relays rewrite only `ttl` and `hops`, so the signature travels
 * unchanged to every member.
 *
 * - Members verify before they deliver, and forward only what verified: a packet whose signature
 *   does not verify is counted (`dataBadSignature`), neither delivered nor forwarded.
 * - Relays that are not members forward without verifying: every node is admitted (the link
 *   authenticates every frame and hears no outsider), and a verification per relay per packet
 *   would multiply the cost by the tree size. A relay that modifies what it relays is caught by
 *   the members below it.
 * - Certificates: a node that does not hold the origin's certificate fetches it from the previous
 *   hop before it delivers or forwards (OriginAuth 'pending', counted `dataCertWaits`). A relay
 *   holds the packet for the fetch too, without verifying, so that it can answer the same query
 *   from the next hop: by induction every tree node on the path holds the certificate.
 * - Duplicates are suppressed before verifying, so a node verifies each (origin, seq) once. A
 *   forged copy arriving first must not shut the genuine one out: a member records (origin, seq)
 *   as `unsettled` until a copy verified, and lets later copies of an unsettled packet through to
 *   verification (bounded: `maxUnsettled`, oldest forgotten first, after which later copies count
 *   as duplicates).
 *
 * Batch mode (§11.2): batched packets (auth 2) go to batch.ts, which holds them at members until a
 * DIGEST lists them; every node, relay or member, forwards them at once (they carry no signature
 * and need no certificate). A DIGEST (auth 3) is handled like a signed packet (relays forward it
 * once they hold the certificate, members verify it first) except that a member hands a verified
 * DIGEST to batch.ts instead of delivering it. Members understand batched packets whatever their
 * own `signEvery`.
 */
import type { Addr } from '../../core/addr.ts'
import { tryDecode } from '../../core/errors.ts'
import type { LinkRx } from '../link-types.ts'
import { decodeDigestBody, digestSignedBytes, type SignedDigest } from './batch-frame.ts'
import { BatchVerifier, type BatchPlane } from './batch.ts'
import type { MaodvContext } from './context.ts'
import { AUTH_BATCHED, AUTH_DIGEST, dataSignedBytes, type DataHeader } from './data-frame.ts'
import type { GroupState } from './group-table.ts'

/** (group, origin, seq) awaiting a copy that verifies, at most this many. */
const MAX_UNSETTLED = 256

/** The data plane as origin authentication uses it: deliver to this member (with the proof), forward down the tree. */
export interface AuthPlane extends BatchPlane {
  deliver(g: GroupState, h: DataHeader, rx: LinkRx, proof: { seq: number; signature?: Uint8Array; digest?: SignedDigest }): void
}

export class DataAuth {
  private readonly unsettled = new Set<string>()
  /** Batched packets and DIGESTs at this member. */
  readonly batch: BatchVerifier

  constructor(private readonly c: MaodvContext, private readonly plane: AuthPlane) {
    this.batch = new BatchVerifier(c, plane, (key) => this.unsettled.delete(key))
  }

  /** The origin's signature over a packet this node originates. */
  sign(group: Addr, seq: number, payload: Uint8Array): Uint8Array {
    this.c.m.dataSigned.inc()
    return this.c.security!.sign(dataSignedBytes(this.c.self, group, seq, payload))
  }

  /** A signed packet from a tree neighbour; `fresh`: the duplicate filter had not seen (origin, seq). */
  arrive(g: GroupState, h: DataHeader, rx: LinkRx, fresh: boolean): void {
    const c = this.c
    const sec = c.security!
    const key = `${h.group}/${h.origin}/${h.seq}`
    if (!fresh && !this.unsettled.has(key)) return void c.m.dataDuplicates.inc()
    if (!g.member) {
      // A relay: forward without verifying, once it holds the origin's certificate (batched
      // packets carry no signature: no certificate needed).
      if (!fresh) return void c.m.dataDuplicates.inc()
      if (h.auth === AUTH_BATCHED || sec.canSeal(h.origin)) return this.plane.forward(g, h, rx)
      const held = hold(h)
      c.m.dataCertWaits.inc()
      sec.verify(h.origin, new Uint8Array(0), held.signature!, rx.from, () => {
        if (!c.closed) this.plane.forward(g, held, { ...rx, at: c.now() })
      })
      return
    }
    if (fresh) this.unsettle(key)
    if (h.auth === AUTH_BATCHED) return this.batch.packet(g, h, rx, fresh, key)
    this.check(g, h, rx, key)
  }

  private check(g: GroupState, h: DataHeader, rx: LinkRx, key: string): void {
    const c = this.c
    const digest = h.auth === AUTH_DIGEST
    const bytes = digest ? digestSignedBytes(h.origin, h.group, h.seq, h.payload) : dataSignedBytes(h.origin, h.group, h.seq, h.payload)
    let held: DataHeader | undefined
    const resume = (): void => {
      if (c.closed) return
      // Delivered now, not when the frame arrived: the certificate fetch is part of the latency.
      if (this.unsettled.has(key)) this.check(g, held!, { ...rx, at: c.now() }, key)
      else c.m.dataDuplicates.inc()
    }
    const v = c.security!.verify(h.origin, bytes, h.signature!, rx.from, resume)
    if (v === 'ok') {
      this.unsettled.delete(key)
      if (digest) return this.digest(g, h, rx)
      c.m.dataVerified.inc()
      this.plane.deliver(g, h, rx, { seq: h.seq, signature: h.signature! })
      return this.plane.forward(g, h, rx)
    }
    if (v === 'bad') return void c.m.dataBadSignature.inc()
    held = hold(h)
    c.m.dataCertWaits.inc()
  }

  /** A DIGEST whose signature verified: release and remember what it lists, pass it on (never delivered). */
  private digest(g: GroupState, h: DataHeader, rx: LinkRx): void {
    const entries = tryDecode(decodeDigestBody, h.payload, this.c.m.decodeErrors)
    if (entries) this.batch.apply({ origin: h.origin, group: h.group, seq: h.seq, body: h.payload.slice(), signature: h.signature!.slice() }, entries)
    this.plane.forward(g, h, rx)
  }

  close(): void {
    this.batch.close()
  }

  private unsettle(key: string): void {
    if (this.unsettled.size >= MAX_UNSETTLED) this.unsettled.delete(this.unsettled.values().next().value as string)
    this.unsettled.add(key)
  }
}

/** A copy that owns its payload and signature (they are views into a received frame). */
function hold(h: DataHeader): DataHeader {
  return { ...h, payload: h.payload.slice(), signature: h.signature?.slice() }
}
