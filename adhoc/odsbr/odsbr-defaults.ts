/**
 * Every tunable of ODSBR (adhoc/odsbr/) in one place, with its default and its trade-off.
 * `validateOdsbrConfig(partial, path = 'odsbr')` fills in defaults and checks every field, throwing
 * a `ConfigError` whose `path` names the field; unknown fields are errors too.
 *
 * Notation of the paper (seed 003 §4.2–4.3): τ = `lossThreshold`, μ = losses that caused a fault,
 * interval counters start at μ/τ + C, link counters grow by μ/τ and drain by 1/m per good packet.
 */
import { ConfigError } from '../../core/errors.ts'
import { validateFields, type FieldRule } from '../../core/validate.ts'

export interface OdsbrConfig {
  /**
   * τ: the loss rate the source tolerates on an interval before it calls a fault. Set it above the
   * benign loss of the radio and below what an adversary may cause undetected (an adversary can
   * always cause up to τ, and 2τ in the worst case, paper §4.2). 0.1 with 802.11-like links.
   */
  lossThreshold: number
  /**
   * An interval's loss rate is judged over its last `lossWindow` packets, and not before it has
   * carried `minPacketsForFault` of them (a single early loss is not a 100 % loss rate). The
   * trade-off, measured: one link with 2 % benign loss and τ = 0.1 is falsely convicted ≈ 5 times
   * per 1,000 packets with 20/5, ≈ 0.3 with 50/20, never in 100,000 with 100/50 (detection
   * tests); but every step of the binary search costs `minPacketsForFault` lost packets, and on
   * `byzantine` (seed 1) PDR without adversaries is 82 % with 20/5, 78 % with 30/8 (the default),
   * 69 % with 50/20 (with 40 % black holes: 61 / 58 / 54 %).
   */
  lossWindow: number
  minPacketsForFault: number
  /**
   * The ack timeout of a probe (and of the source) is the upper bound of the round trip from it to
   * the destination: `ackTimeoutPerHopMs` × 2 × hops to the destination + `ackTimeoutBaseMs`.
   */
  ackTimeoutPerHopMs: number
  ackTimeoutBaseMs: number
  /** Weight of a link never convicted; doubled on each conviction up to `maxLinkWeight`. */
  baseLinkWeight: number
  maxLinkWeight: number
  /** Links carried in a REQUEST's weight list (the heaviest first); the rest count as base weight. */
  maxWeightListEntries: number
  /** Route discovery: give up waiting for RESPONSEs after this long, retry up to `requestRetries` times. */
  discoveryTimeoutMs: number
  requestRetries: number
  /** The source takes the best path of the responses that arrive within this window after the first. */
  responseCollectMs: number
  /** Rebroadcast jitter of REQUEST and RESPONSE floods, ms (RFC 5148 style; 0 = none). */
  floodJitterMs: number
  /** Data packets buffered per destination while a route is being found. */
  maxBuffered: number
  /** Remembered (source, request id) pairs of floods already forwarded, bounded. */
  maxFloodMemory: number
  /** Hops a path may have (REQUEST flood TTL). */
  maxHops: number
  /**
   * A relay whose link to the next node fails (no link ack after retries) sends the source a
   * signed ROUTE-ERROR, which weighs the link and rediscovers at once (seed 003 §4.2's optimised
   * topology-change detector). Off by default: on `byzantine` without adversaries (seed 1) it
   * turned ~3,400 unanswered link frames (mostly congestion) into 527 rediscoveries whose signed
   * response floods congested the channel further (PDR 69 % → 49 %); the loss counting of fault
   * detection finds broken links too, more slowly. To revisit with cheaper rediscovery.
   */
  routeErrors: boolean
}

export const DEFAULT_ODSBR_CONFIG: Readonly<OdsbrConfig> = Object.freeze({
  lossThreshold: 0.1,
  lossWindow: 30,
  minPacketsForFault: 8,
  ackTimeoutPerHopMs: 40,
  ackTimeoutBaseMs: 100,
  baseLinkWeight: 1,
  maxLinkWeight: 1024,
  maxWeightListEntries: 32,
  discoveryTimeoutMs: 2000,
  requestRetries: 3,
  responseCollectMs: 200,
  floodJitterMs: 10,
  maxBuffered: 64,
  maxFloodMemory: 1024,
  maxHops: 16,
  routeErrors: false,
})

export type OdsbrConfigInput = Partial<OdsbrConfig>

const RULES: { [K in keyof OdsbrConfig]: FieldRule } = {
  lossThreshold: { gt: 0, max: 1 },
  lossWindow: { integer: true, min: 1, max: 10_000 },
  minPacketsForFault: { integer: true, min: 1, max: 10_000 },
  ackTimeoutPerHopMs: { min: 0, max: 60_000 },
  ackTimeoutBaseMs: { min: 0, max: 60_000 },
  baseLinkWeight: { integer: true, min: 1, max: 0xffff },
  maxLinkWeight: { integer: true, min: 1, max: 0xffff },
  maxWeightListEntries: { integer: true, min: 0, max: 255 },
  discoveryTimeoutMs: { min: 1, max: 600_000 },
  requestRetries: { integer: true, min: 0, max: 100 },
  responseCollectMs: { min: 0, max: 60_000 },
  floodJitterMs: { min: 0, max: 10_000 },
  maxBuffered: { integer: true, min: 0, max: 100_000 },
  maxFloodMemory: { integer: true, min: 1, max: 1_000_000 },
  maxHops: { integer: true, min: 1, max: 64 },
  routeErrors: 'boolean',
}

export function validateOdsbrConfig(partial: unknown = {}, path = 'odsbr'): OdsbrConfig {
  const c = validateFields(path, partial, DEFAULT_ODSBR_CONFIG, RULES) as OdsbrConfig
  if (c.maxLinkWeight < c.baseLinkWeight) throw new ConfigError(`${path}.maxLinkWeight`, `must be >= baseLinkWeight (${c.baseLinkWeight}), got ${c.maxLinkWeight}`)
  if (c.minPacketsForFault > c.lossWindow) throw new ConfigError(`${path}.minPacketsForFault`, `must be <= lossWindow (${c.lossWindow}), got ${c.minPacketsForFault}`)
  return c
}
