/**
 * Every tunable of link and origin security (crypto/link-auth.ts, crypto/origin-auth.ts) in one
 * place, with its default and the trade-off it makes. `validateSecurityConfig(partial, path =
 * 'security')` fills in defaults and checks every field, throwing a `ConfigError` whose `path`
 * names the field; unknown fields are errors too.
 */
import { checkOneOf, validateFields, type FieldRule } from '../core/validate.ts'
import { ConfigError } from '../core/errors.ts'

export type SecurityMode = 'open' | 'authenticated'
export const SECURITY_MODES: readonly SecurityMode[] = ['open', 'authenticated']

export interface SecurityConfig {
  /**
   * `authenticated` (the default for a network): only nodes with a valid certificate of the
   * network are heard, every frame carries a MAC and a replay counter, control messages are
   * signed by their origin and data is authenticated end to end. `open`: none of that, for
   * experiments on a bench (frames are 12 bytes shorter and nothing is verified).
   */
  mode: SecurityMode
  /**
   * Per-sender replay window, bits (a multiple of 32, 32..4096). Frames from one sender that
   * arrive more than this many counter values behind its newest are refused as too old. One
   * counter covers all of a sender's frames (to everyone), and a radio delivers in order, so 64
   * covers the reordering of retransmissions and interleaved broadcast/unicast.
   */
  replayWindowBits: number
  /**
   * Security associations kept (neighbours with keys, and end-to-end peers), least recently used
   * dropped first. A dropped neighbour is asked for its key again when heard.
   */
  maxPeers: number
  /** Certificates kept beyond the roster (learnt from handshakes and fetches), LRU. */
  maxCertificates: number
  /**
   * At most one key request to (or key answer for) the same neighbour per this many ms. Bounds
   * what an unknown or replaying sender can make a node transmit: one short frame per interval.
   */
  keyRequestIntervalMs: number
  /**
   * A key request waits U[0, this) ms before it goes out. Every neighbour that hears a new node's
   * first beacon would otherwise answer at the same instant and collide (as rebroadcasts do without
   * RFC 5148 jitter). 50 ms spreads 8 neighbours' 250-byte requests on a 2 Mbit/s radio; on LoRa
   * (a 250-byte frame takes ~0.4 s) use several seconds.
   */
  handshakeJitterMs: number
  /**
   * Handshake messages (key requests and answers) a node sends per second at most, over all
   * neighbours. Key requests are unauthenticated: without this cap a sender of forged frames from
   * many made-up addresses could make a node transmit a request for each.
   */
  handshakesPerSecond: number
  /**
   * Messages held while their origin's certificate is fetched from the neighbour that relayed
   * them, in total; beyond it the oldest is dropped (counted). A fetch not answered in
   * `certFetchTimeoutMs` drops the messages waiting on it.
   */
  maxPendingVerifications: number
  certFetchTimeoutMs: number
}

export const DEFAULT_SECURITY_CONFIG: Readonly<SecurityConfig> = Object.freeze({
  mode: 'authenticated',
  replayWindowBits: 64,
  maxPeers: 512,
  maxCertificates: 4096,
  keyRequestIntervalMs: 1000,
  handshakeJitterMs: 50,
  handshakesPerSecond: 20,
  maxPendingVerifications: 256,
  certFetchTimeoutMs: 2000,
})

export type SecurityConfigInput = Partial<SecurityConfig>

const RULES: { [K in keyof SecurityConfig]: FieldRule } = {
  mode: (path, v) => void checkOneOf(path, v, SECURITY_MODES),
  replayWindowBits: { integer: true, min: 32, max: 4096 },
  maxPeers: { integer: true, min: 1, max: 1_000_000 },
  maxCertificates: { integer: true, min: 1, max: 1_000_000 },
  keyRequestIntervalMs: { integer: true, min: 1, max: 3_600_000 },
  handshakeJitterMs: { min: 0, max: 600_000 },
  handshakesPerSecond: { integer: true, min: 1, max: 100_000 },
  maxPendingVerifications: { integer: true, min: 0, max: 100_000 },
  certFetchTimeoutMs: { integer: true, min: 1, max: 600_000 },
}

export function validateSecurityConfig(partial: unknown = {}, path = 'security'): SecurityConfig {
  const c = validateFields(path, partial, DEFAULT_SECURITY_CONFIG, RULES) as SecurityConfig
  if (c.handshakeJitterMs >= c.keyRequestIntervalMs) {
    throw new ConfigError(`${path}.handshakeJitterMs`, `must be less than keyRequestIntervalMs (${c.keyRequestIntervalMs}), got ${c.handshakeJitterMs}`)
  }
  if (c.replayWindowBits % 32 !== 0) throw new ConfigError(`${path}.replayWindowBits`, `must be a multiple of 32, got ${c.replayWindowBits}`)
  return c
}
