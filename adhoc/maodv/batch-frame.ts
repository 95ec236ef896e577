/**
 * Batch (amortised) origin authentication of multicast data, the wire part (docs/WIRE.md §11.2):
 * the DIGEST body, the packet hashes it lists and the bytes its signature covers.
 *
 * In batch mode (`signEvery` ≥ 2, data-frame.ts `auth` 2 and 3) an origin sends its data packets
 * unsigned and, every `signEvery` packets or `batchMaxDelayMs` after the first unsigned one, one
 * signed DIGEST listing a 16-byte hash of each packet. The hash covers exactly the bytes a
 * per-packet signature would (`dataSignedBytes`: domain ‖ origin ‖ group ‖ seq ‖ payload), so a
 * verified DIGEST authenticates every packet it lists as if each carried its own signature.
 *
 *   body = count u8 (1..255) | count × ( seq u32 | hash (16) )     1 + 20·count bytes
 *
 * Each DIGEST lists the packets since the previous DIGEST and, again, the previous DIGEST's new
 * packets (one lost DIGEST does not strand a batch). Sequence numbers are distinct within a body
 * (any order). The signature covers `DIGEST_SIGN_DOMAIN ‖ origin ‖ group ‖ seq ‖ body` (`seq` is the
 * DIGEST's own multicast sequence number), domain-separated from per-packet signatures.
 *
 * Hashes are SHA-256 truncated to 128 bits: forging a packet that matches a listed hash is a
 * second preimage (2^128 work); collisions only help the origin itself, which could sign anything.
 */
import { createHash } from 'node:crypto'
import type { Addr } from '../../core/addr.ts'
import { ByteReader, ByteWriter } from '../../core/bytes.ts'
import { dataSignedBytes } from './data-frame.ts'

export const DIGEST_HASH_BYTES = 16
/** One listed packet: seq u32 ‖ hash. */
export const DIGEST_ENTRY_SIZE = 4 + DIGEST_HASH_BYTES
export const MAX_DIGEST_ENTRIES = 255
/** What a DIGEST signature starts with. */
export const DIGEST_SIGN_DOMAIN = new TextEncoder().encode('spinmesh/maodv-digest/1\0')

export interface DigestEntry {
  /** The listed packet's multicast sequence number. */
  seq: number
  /** `packetHash` of the listed packet. */
  hash: Uint8Array
}

/**
 * A DIGEST as a proof: what a member keeps for the packets it verified, and what gossip hands on
 * so that a partner can verify them too. Immutable once built; `body` and `signature` are owned.
 */
export interface SignedDigest {
  origin: Addr
  group: Addr
  /** The DIGEST packet's own multicast sequence number. */
  seq: number
  body: Uint8Array
  signature: Uint8Array
}

/** Bytes of a body listing `n` packets. */
export function digestBodySize(n: number): number {
  return 1 + n * DIGEST_ENTRY_SIZE
}

/** The 16-byte hash of a multicast packet (of its immutable fields, as a per-packet signature covers them). */
export function packetHash(origin: Addr, group: Addr, seq: number, payload: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(dataSignedBytes(origin, group, seq, payload)).digest()
  return new Uint8Array(h.subarray(0, DIGEST_HASH_BYTES))
}

/** The bytes an origin signs for a DIGEST. */
export function digestSignedBytes(origin: Addr, group: Addr, seq: number, body: Uint8Array): Uint8Array {
  return new ByteWriter(DIGEST_SIGN_DOMAIN.length + 12 + body.length).raw(DIGEST_SIGN_DOMAIN).u32(origin).u32(group).u32(seq).raw(body).done()
}

export function encodeDigestBody(entries: readonly DigestEntry[]): Uint8Array {
  if (entries.length < 1 || entries.length > MAX_DIGEST_ENTRIES) throw new RangeError(`a DIGEST lists 1..${MAX_DIGEST_ENTRIES} packets, got ${entries.length}`)
  const seen = new Set<number>()
  const w = new ByteWriter(digestBodySize(entries.length)).u8(entries.length)
  for (const e of entries) {
    if (!Number.isInteger(e.seq) || e.seq < 0 || e.seq > 0xffffffff) throw new RangeError(`a DIGEST seq must be a u32, got ${e.seq}`)
    if (seen.has(e.seq)) throw new RangeError(`seq ${e.seq} is listed twice in a DIGEST`)
    if (e.hash.length !== DIGEST_HASH_BYTES) throw new RangeError(`a DIGEST hash is ${DIGEST_HASH_BYTES} bytes, got ${e.hash.length}`)
    seen.add(e.seq)
    w.u32(e.seq).raw(e.hash)
  }
  return w.done()
}

/** Decode a DIGEST body. Returns its entries (hashes are views) or throws `DecodeError`; never throws anything else. */
export function decodeDigestBody(bytes: Uint8Array): DigestEntry[] {
  const r = new ByteReader(bytes, 'DIGEST body')
  const n = r.u8('count')
  if (n === 0) r.fail('DIGEST lists no packet')
  const out: DigestEntry[] = []
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    const seq = r.u32('seq')
    if (seen.has(seq)) r.fail(`seq ${seq} listed twice`)
    seen.add(seq)
    out.push({ seq, hash: r.bytesView(DIGEST_HASH_BYTES, 'hash') })
  }
  if (r.remaining !== 0) r.fail(`DIGEST body has ${r.remaining} trailing byte(s) after ${n} entries`)
  return out
}

/** Whether two hashes are equal. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
