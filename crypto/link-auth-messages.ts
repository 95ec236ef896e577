/**
 * Link security messages (docs/WIRE.md §15), the payload of link DATA frames with proto SEC (10).
 * KEYREQ and KEY travel before the two neighbours share keys, so they are sent without the AUTH
 * trailer and protect themselves: certificates are signed by the network authority, the key in
 * KEY is sealed (AEAD) under the pairwise key of the two certificates, and KEY echoes the
 * requester's fresh nonce. CERTQ and CERT travel between neighbours that already share keys.
 *
 *   KEYREQ  type 1 | flags | nonce 8 | certificate (rest; empty with HAVE_CERT unknown)          10 + cert
 *   KEY     type 2 | flags | echo 8 | request 8 (0 = none) | counter u32 | sealed 48 | cert        31 + 48 + cert
 *   CERTQ   type 3 | address u32                                                                  5
 *   CERT    type 4 | certificate (rest, at least 1 byte)                                          1 + cert
 *
 * flags bit 0 HAVE_CERT: "I already hold your certificate, do not send it". Other bits are 0.
 * Decoders are total; certificates are carried as opaque bytes (crypto/cert.ts decodes them).
 */
import type { Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'

export const SEC_KEYREQ = 1
export const SEC_KEY = 2
export const SEC_CERTQ = 3
export const SEC_CERT = 4

export const NONCE_BYTES = 8
/** The sealed broadcast key: 32 bytes + 16-byte AEAD tag. */
export const SEALED_KEY_BYTES = 48
export const FLAG_HAVE_CERT = 0x01
/** KEY bytes before `sealed`: type, flags, echo, request, counter — the AEAD's associated data. */
export const KEY_AAD_BYTES = 2 + NONCE_BYTES * 2 + 4

export interface KeyRequest {
  type: 'keyreq'
  haveCert: boolean
  nonce: Uint8Array
  /** The requester's certificate; empty when it was not sent. */
  cert: Uint8Array
}

export interface KeyAnswer {
  type: 'key'
  haveCert: boolean
  /** The nonce of the request this answers. */
  echo: Uint8Array
  /** A request of the answerer's own (all zero: none). */
  request: Uint8Array
  /** The answerer's frame counter when it sent this; its frames with lower counters are refused. */
  counter: number
  sealed: Uint8Array
  cert: Uint8Array
  /** The bytes the seal authenticates as associated data (set by the decoder). */
  aad?: Uint8Array
}

export interface CertQuery {
  type: 'certq'
  address: Addr
}

export interface CertMessage {
  type: 'cert'
  cert: Uint8Array
}

export type SecMessage = KeyRequest | KeyAnswer | CertQuery | CertMessage

export function isZeroNonce(n: Uint8Array): boolean {
  for (const b of n) if (b !== 0) return false
  return true
}

export function encodeSec(m: SecMessage): Uint8Array {
  switch (m.type) {
    case 'keyreq':
      return new ByteWriter(2 + NONCE_BYTES + m.cert.length).u8(SEC_KEYREQ).u8(m.haveCert ? FLAG_HAVE_CERT : 0).raw(m.nonce).raw(m.cert).done()
    case 'key':
      return new ByteWriter(KEY_AAD_BYTES + SEALED_KEY_BYTES + m.cert.length)
        .u8(SEC_KEY).u8(m.haveCert ? FLAG_HAVE_CERT : 0).raw(m.echo).raw(m.request).u32(m.counter).raw(m.sealed).raw(m.cert).done()
    case 'certq':
      return new ByteWriter(5).u8(SEC_CERTQ).u32(m.address).done()
    case 'cert':
      return new ByteWriter(1 + m.cert.length).u8(SEC_CERT).raw(m.cert).done()
  }
}

function flags(r: ByteReader): boolean {
  const f = r.u8('flags')
  if (f & ~FLAG_HAVE_CERT) r.fail(`reserved flag bits 0x${(f & ~FLAG_HAVE_CERT).toString(16)}`)
  return (f & FLAG_HAVE_CERT) !== 0
}

/** Decode a SEC message; a message or a DecodeError, nothing else. Byte fields are views. */
export function decodeSec(bytes: Uint8Array): SecMessage {
  const r = new ByteReader(bytes, 'security message')
  const type = r.u8('type')
  switch (type) {
    case SEC_KEYREQ: {
      const haveCert = flags(r)
      const nonce = r.bytesView(NONCE_BYTES, 'nonce')
      return { type: 'keyreq', haveCert, nonce, cert: r.rest() }
    }
    case SEC_KEY: {
      const haveCert = flags(r)
      const echo = r.bytesView(NONCE_BYTES, 'echo')
      const request = r.bytesView(NONCE_BYTES, 'request')
      const counter = r.u32('counter')
      const sealed = r.bytesView(SEALED_KEY_BYTES, 'sealed key')
      return { type: 'key', haveCert, echo, request, counter, sealed, cert: r.rest(), aad: bytes.subarray(0, KEY_AAD_BYTES) }
    }
    case SEC_CERTQ: {
      const address = r.nodeAddr('address')
      if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
      return { type: 'certq', address }
    }
    case SEC_CERT: {
      const cert = r.rest()
      if (cert.length === 0) r.fail('empty certificate')
      return { type: 'cert', cert }
    }
    default:
      return r.fail(`unknown type ${type}`)
  }
}
