/**
 * AODV in a secured network (docs/WIRE.md §8–9, docs/SECURITY.md §3): what is signed, what is
 * MACed end to end, and the bookkeeping that keeps a node from verifying one message twice.
 * Wraps the node's `OriginAuth` (crypto/origin-auth.ts); control.ts and aodv.ts call it only when
 * the Aodv was given `security`.
 *
 * - RREQ-S: the originator signs `"spinmesh/aodv/rreq/v1"` ‖ the message's first 24 bytes (type 6,
 *   flags, hops, ttl, rreqId, dst, dstSeq, origin, originSeq) with `hops` and `ttl` zeroed — the
 *   two fields relays rewrite. Relays forward the signature unchanged and change nothing else (in
 *   particular they do not raise `dstSeq`, as RFC 3561 6.5 lets a plain relay do).
 * - RREP-S: the destination (`dst`) signs `"spinmesh/aodv/rrep/v1"` ‖ the message's first 19 bytes
 *   (type 7, flags, hops, dst, dstSeq, origin, lifetime) with `hops` zeroed and the `A` flag bit
 *   cleared (each hop sets `A` for its own RREP-ACK).
 * - Routed data: the origin appends `sealData(dst, origin|dst|seq|proto, payload)` (12 bytes), the
 *   destination checks it with `openData` (routed-frame.ts).
 *
 * A RREP for the same route is often sent twice with identical bytes (the destination answers
 * each ring of a discovery with an unchanged sequence number): the destination reuses its last
 * signature, and a node remembers the RREPs it verified (bounded, `VERIFIED_MAX`) so it does not
 * verify the copy again. RREQs need no such memory: a copy of a verified RREQ is a duplicate by
 * (origin, rreqId) and is dropped before verification.
 */
import type { Addr } from '../../core/addr.ts'
import { bytesEqual } from '../../core/bytes.ts'
import { E2E_TRAILER_BYTES, SIGNATURE_BYTES, type OriginAuth, type OriginVerdict } from '../../crypto/origin-auth.ts'
import { AODV_SIGNATURE_SIZE, RREP_SIZE, RREQ_SIZE, encodeRrep, encodeRreq, type Rrep, type Rreq } from './aodv-messages.ts'
import { ROUTED_TRAILER_SIZE, routedMacHeader, type RoutedPacket } from './routed-frame.ts'

export const RREQ_DOMAIN = 'spinmesh/aodv/rreq/v1'
export const RREP_DOMAIN = 'spinmesh/aodv/rrep/v1'
/** Verified RREP signatures remembered. */
const VERIFIED_MAX = 64
const RREQ_HOPS_OFFSET = 2
const RREQ_TTL_OFFSET = 3
const RREP_FLAGS_OFFSET = 1
const RREP_HOPS_OFFSET = 2
const RREP_FLAG_A = 0x40

if (SIGNATURE_BYTES !== AODV_SIGNATURE_SIZE || E2E_TRAILER_BYTES !== ROUTED_TRAILER_SIZE) {
  throw new Error('aodv wire sizes disagree with crypto/origin-auth.ts')
}

const encoder = new TextEncoder()
const RREQ_PREFIX = encoder.encode(RREQ_DOMAIN)
const RREP_PREFIX = encoder.encode(RREP_DOMAIN)
const PLACEHOLDER = new Uint8Array(AODV_SIGNATURE_SIZE)

function prefixed(prefix: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

/** The bytes a RREQ-S's originator signs (its signature, if any, is ignored). */
export function rreqSignedBytes(q: Omit<Rreq, 'type'>): Uint8Array {
  const b = encodeRreq({ ...q, signature: PLACEHOLDER }).subarray(0, RREQ_SIZE)
  b[RREQ_HOPS_OFFSET] = 0
  b[RREQ_TTL_OFFSET] = 0
  return prefixed(RREQ_PREFIX, b)
}

/** The bytes a RREP-S's destination signs (its signature, if any, is ignored). */
export function rrepSignedBytes(p: Omit<Rrep, 'type'>): Uint8Array {
  const b = encodeRrep({ ...p, signature: PLACEHOLDER }).subarray(0, RREP_SIZE)
  b[RREP_FLAGS_OFFSET] &= ~RREP_FLAG_A
  b[RREP_HOPS_OFFSET] = 0
  return prefixed(RREP_PREFIX, b)
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export class AodvSigning {
  /** Signature (hex) → the bytes it was verified over. */
  private readonly verified = new Map<string, Uint8Array>()
  private lastSigned: { bytes: Uint8Array; signature: Uint8Array } | null = null

  constructor(readonly auth: OriginAuth) {}

  signRreq(q: Omit<Rreq, 'type'>): Uint8Array {
    return this.auth.sign(rreqSignedBytes(q))
  }

  signRrep(p: Omit<Rrep, 'type'>): Uint8Array {
    const bytes = rrepSignedBytes(p)
    const last = this.lastSigned
    if (last !== null && bytesEqual(last.bytes, bytes)) return last.signature
    const signature = this.auth.sign(bytes)
    this.lastSigned = { bytes, signature }
    return signature
  }

  /** Verify a RREQ-S against its originator (`'pending'`: `resume` runs once the certificate is fetched from `via`). */
  verifyRreq(q: Rreq, via: Addr, resume: () => void): OriginVerdict {
    if (q.signature === undefined) return 'bad'
    return this.auth.verify(q.origin, rreqSignedBytes(q), q.signature, via, resume)
  }

  /** Verify a RREP-S against its destination; a RREP verified before is not verified again. */
  verifyRrep(p: Rrep, via: Addr, resume: () => void): OriginVerdict {
    if (p.signature === undefined) return 'bad'
    const bytes = rrepSignedBytes(p)
    const key = hex(p.signature)
    const seen = this.verified.get(key)
    if (seen !== undefined && bytesEqual(seen, bytes) && this.auth.trusted(p.dst)) return 'ok'
    const v = this.auth.verify(p.dst, bytes, p.signature, via, resume)
    if (v === 'ok') {
      if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string)
      this.verified.set(key, bytes)
    }
    return v
  }

  /** The end-to-end trailer for a packet this node originates; null when its destination's certificate is unknown. */
  seal(p: RoutedPacket): Uint8Array | null {
    return this.auth.sealData(p.dst, routedMacHeader(p), p.payload)
  }

  /** Check a packet addressed to this node (decoded by `decodeSecuredRouted`, so it has a trailer). */
  open(p: RoutedPacket, via: Addr, resume: () => void): OriginVerdict {
    return this.auth.openData(p.origin, p.trailer ?? new Uint8Array(0), via, resume, routedMacHeader(p), p.payload)
  }
}
