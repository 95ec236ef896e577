/**
 * MAODV's multi-hop control messages in an authenticated network (docs/WIRE.md §10.6,
 * docs/SECURITY.md §3): who signs what, the network-wide mode check, and the bookkeeping that
 * keeps a node from verifying one message twice. Wraps the node's `OriginAuth`
 * (crypto/origin-auth.ts); requests.ts, merge.ts and grph.ts call it for every RREQ, RREP and GRPH.
 *
 * MACT and tree HELLO travel one hop: the link MAC (§15) already authenticates them to their
 * origin, the neighbour. The three that travel several hops carry their origin's Ed25519 signature
 * over a domain string ‖ the message's plain fields (type byte = the signed type number) with the
 * fields relays rewrite zeroed:
 *
 * - RREQ-S (9), signed by `origin` (the requester; the merging leader for a merge request):
 *   `"spinmesh/maodv/rreq/v1"` ‖ bytes 0–24 with `ttl` (offset 2) and `hops` (offset 3) = 0.
 * - RREP-S (10), signed by `replier` — the layout already names the tree node that generated the
 *   reply (the other leader for a merge reply), so any tree node may still answer and no field is
 *   added: `"spinmesh/maodv/rrep/v1"` ‖ bytes 0–27 with `hops` (offset 2) = 0.
 * - GRPH-S (11), signed by `leader`: `"spinmesh/maodv/grph/v1"` ‖ bytes 0–15 with `ttl` (offset 2)
 *   and `hops` (offset 3) = 0.
 *
 * Relays change nothing else (that is today's relay behaviour: requests.ts, merge.ts, grph.ts
 * re-encode `{ ...msg, ttl, hops }`), and forward the signature unchanged.
 *
 * Counters (scope 'maodv', registered only in a secured network so open metrics are unchanged):
 * controlSigned (RREQ/RREP/GRPH this node signed), controlVerified (signatures it checked and found
 * good), controlVerifyPending (messages held for their origin's certificate), controlWrongMode
 * (a message of the other mode's layout, dropped), rreqBadSignature, rrepBadSignature,
 * grphBadSignature (dropped: the signature does not verify).
 */
import type { Addr } from '../../core/addr.ts'
import { bytesEqual, toHex } from '../../core/bytes.ts'
import { Counter, type MetricsScope } from '../../core/metrics.ts'
import { SIGNATURE_BYTES, type OriginAuth, type OriginVerdict } from '../../crypto/origin-auth.ts'
import {
  CONTROL_SIGNATURE_SIZE, GRPH_SIZE, MsgType, RREP_SIZE, RREQ_SIZE, encodeGrph, encodeRrep, encodeRreq, type Grph, type Rrep, type Rreq,
} from './maodv-messages.ts'

export const RREQ_DOMAIN = 'spinmesh/maodv/rreq/v1'
export const RREP_DOMAIN = 'spinmesh/maodv/rrep/v1'
export const GRPH_DOMAIN = 'spinmesh/maodv/grph/v1'

/** Counters of a secured network only (see above). */
export const CONTROL_SECURITY_COUNTERS = [
  'controlSigned', 'controlVerified', 'controlVerifyPending', 'controlWrongMode', 'rreqBadSignature', 'rrepBadSignature', 'grphBadSignature',
] as const
export type ControlCounterName = (typeof CONTROL_SECURITY_COUNTERS)[number]

/** Verified RREP signatures remembered (RREQ and GRPH copies are duplicates before verification). */
const VERIFIED_MAX = 64
const TTL_OFFSET = 2
const HOPS_OFFSET = 3
const RREP_HOPS_OFFSET = 2

if (SIGNATURE_BYTES !== CONTROL_SIGNATURE_SIZE) throw new Error('maodv control signature size disagrees with crypto/origin-auth.ts')

const encoder = new TextEncoder()
const RREQ_PREFIX = encoder.encode(RREQ_DOMAIN)
const RREP_PREFIX = encoder.encode(RREP_DOMAIN)
const GRPH_PREFIX = encoder.encode(GRPH_DOMAIN)
const PLACEHOLDER = new Uint8Array(CONTROL_SIGNATURE_SIZE)

/** `prefix` ‖ the first `size` bytes of `signedEncoding`, with the bytes at `zero` set to 0. */
function signedBytes(prefix: Uint8Array, signedEncoding: Uint8Array, size: number, zero: number[]): Uint8Array {
  const out = new Uint8Array(prefix.length + size)
  out.set(prefix)
  out.set(signedEncoding.subarray(0, size), prefix.length)
  for (const at of zero) out[prefix.length + at] = 0
  return out
}

/** The bytes a RREQ-S's origin signs (a signature in `m`, if any, is ignored). */
export function rreqSignedBytes(m: Omit<Rreq, 'type'>): Uint8Array {
  return signedBytes(RREQ_PREFIX, encodeRreq({ ...m, signature: PLACEHOLDER }), RREQ_SIZE, [TTL_OFFSET, HOPS_OFFSET])
}

/** The bytes a RREP-S's replier signs. */
export function rrepSignedBytes(m: Omit<Rrep, 'type'>): Uint8Array {
  return signedBytes(RREP_PREFIX, encodeRrep({ ...m, signature: PLACEHOLDER }), RREP_SIZE, [RREP_HOPS_OFFSET])
}

/** The bytes a GRPH-S's leader signs. */
export function grphSignedBytes(m: Omit<Grph, 'type'>): Uint8Array {
  return signedBytes(GRPH_PREFIX, encodeGrph({ ...m, signature: PLACEHOLDER }), GRPH_SIZE, [TTL_OFFSET, HOPS_OFFSET])
}

/** The multi-hop control messages. */
export type SignedControl = Rreq | Rrep | Grph

/** Who must have signed `m`. */
export function signerOf(m: SignedControl): Addr {
  switch (m.type) {
    case MsgType.RREQ: return m.origin
    case MsgType.RREP: return m.replier
    case MsgType.GRPH: return m.leader
  }
}

function signedBytesOf(m: SignedControl): Uint8Array {
  switch (m.type) {
    case MsgType.RREQ: return rreqSignedBytes(m)
    case MsgType.RREP: return rrepSignedBytes(m)
    case MsgType.GRPH: return grphSignedBytes(m)
  }
}

/** The counters of one node; registered in `scope` only when `secured`. */
export function controlSecurityCounters(scope: MetricsScope, secured: boolean): Record<ControlCounterName, Counter> {
  return Object.fromEntries(CONTROL_SECURITY_COUNTERS.map((n) => [n, secured ? scope.counter(n) : new Counter()])) as Record<ControlCounterName, Counter>
}

export class ControlSigning {
  readonly m: Record<ControlCounterName, Counter>
  /** Signature (hex) → the bytes it was verified over (RREPs). */
  private readonly verified = new Map<string, Uint8Array>()

  /** `auth` undefined: an open network (nothing signed; signed layouts refused). */
  constructor(private readonly auth: OriginAuth | undefined, scope: MetricsScope) {
    this.m = controlSecurityCounters(scope, auth !== undefined)
  }

  get secured(): boolean {
    return this.auth !== undefined
  }

  /** Whether `m`'s layout is this network's (signed iff secured); counts `controlWrongMode` when not. */
  modeOk(m: SignedControl): boolean {
    if ((m.signature !== undefined) === this.secured) return true
    this.m.controlWrongMode.inc()
    return false
  }

  /** `m` with this node's signature in a secured network; unchanged in an open one. */
  signRreq(m: Omit<Rreq, 'type'>): Omit<Rreq, 'type'> {
    return this.auth === undefined ? m : { ...m, signature: this.sign(rreqSignedBytes(m)) }
  }

  signRrep(m: Omit<Rrep, 'type'>): Omit<Rrep, 'type'> {
    return this.auth === undefined ? m : { ...m, signature: this.sign(rrepSignedBytes(m)) }
  }

  signGrph(m: Omit<Grph, 'type'>): Omit<Grph, 'type'> {
    return this.auth === undefined ? m : { ...m, signature: this.sign(grphSignedBytes(m)) }
  }

  private sign(bytes: Uint8Array): Uint8Array {
    this.m.controlSigned.inc()
    return this.auth!.sign(bytes)
  }

  /**
   * Is `m` signed by the node it names (`signerOf`)? `'ok'` at once in an open network (after
   * `modeOk`). `'bad'` is counted (rreq/rrep/grphBadSignature); `'pending'`: the signer's
   * certificate is being fetched from `via`, and `resume` runs once it arrives — it should handle
   * the message again from the start.
   */
  verify(m: SignedControl, via: Addr, resume: () => void): OriginVerdict {
    const auth = this.auth
    if (auth === undefined) return 'ok'
    if (m.signature === undefined) return this.bad(m)
    const bytes = signedBytesOf(m)
    const key = m.type === MsgType.RREP ? toHex(m.signature) : undefined
    if (key !== undefined) {
      const seen = this.verified.get(key)
      if (seen !== undefined && bytesEqual(seen, bytes) && auth.trusted(signerOf(m))) return 'ok'
    }
    const v = auth.verify(signerOf(m), bytes, m.signature, via, resume)
    if (v === 'pending') this.m.controlVerifyPending.inc()
    else if (v === 'bad') this.bad(m)
    else {
      this.m.controlVerified.inc()
      if (key !== undefined) {
        if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string)
        this.verified.set(key, bytes)
      }
    }
    return v
  }

  private bad(m: SignedControl): 'bad' {
    const counter = m.type === MsgType.RREQ ? this.m.rreqBadSignature : m.type === MsgType.RREP ? this.m.rrepBadSignature : this.m.grphBadSignature
    counter.inc()
    return 'bad'
  }
}
