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
   * tests; with 30/8 ≈ 1.8); but every step of the binary search costs `minPacketsForFault` lost
   * packets. Measured before the burst rule and route errors existed, on `byzantine` (seed 1):
   * PDR without adversaries 82 % with 20/5, 78 % with 30/8 (the default), 69 % with 50/20 (with
   * 40 % black holes: 61 / 58 / 54 %). Now most breaks and black holes are found by the two rules
   * below, and the window mostly judges partial loss.
   */
  lossWindow: number
  minPacketsForFault: number
  /**
   * An interval whose last `burstLossesForFault` packets were all lost is faulty at once, however
   * few packets it has carried (0 = off): a broken link or a black hole loses everything, and each
   * binary-search step then costs this many packets instead of `minPacketsForFault`. A benign link
   * with loss p trips it with probability ≈ p^k per packet (2 % and k = 2: 4·10⁻⁴, and most such
   * pairs trip the rate rule too). On `byzantine` (2 seeds) k = 2 against 3: 89.6 / 89.2 % PDR
   * without adversaries, 74.6 / 71.4 % with 40 % black holes; 0 (off): 81 / 63 %.
   */
  burstLossesForFault: number
  /**
   * A burst fault (above) on an interval of several links makes every node in it a probe, so the
   * next burst convicts (2 faults instead of ⌈log2 n⌉ + 1: each costs the burst and the packets in
   * flight). A fault on a loss rate below 100 % always halves the interval, as in the paper. The
   * ack overhead is the same as a deep search would reach; probes retire as counters drain. The
   * intervals a burst creates are judged on their loss rate only over a full `lossWindow` (with
   * n windows judged at once, one ordinary loss among the first `minPacketsForFault` packets would
   * convict an honest link; a relay could provoke that by dropping a burst). On
   * `byzantine` at 40 % black holes (2 seeds, route errors on): 76.1 % PDR against 72.3 %.
   */
  probeAllOnBurst: boolean
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
  /**
   * After a conviction (or a route error) the source switches to the lightest spare path of its
   * latest discovery, if that discovery ended at most `spareRouteMs` ago and no link of the spare
   * has grown heavier since; otherwise it floods a new REQUEST. 0 = always rediscover. Spare paths
   * age with mobility; every one is still checked by fault detection like any path.
   */
  spareRouteMs: number
  /** Data packets buffered per destination while a route is being found. */
  maxBuffered: number
  /** Remembered (source, request id) pairs of floods already forwarded, bounded. */
  maxFloodMemory: number
  /** Hops a path may have (REQUEST flood TTL). */
  maxHops: number
  /**
   * A relay whose link to the next node fails (no link ack after retries) sends the source a
   * signed ROUTE-ERROR naming that link and the packet (seed 003 §4.2's optimised topology-change
   * detector; a node can only name its own links). After `routeErrorsToBreak` such failures on
   * the route in use with no acked packet between, the source weighs the link and reroutes. On
   * `byzantine` without adversaries (5 seeds) this lifts PDR from 89 % to 97 % and false
   * convictions from ~70 to ~1 per run. With `routeErrorsToBreak` 1 every lost frame (mostly
   * congestion) rerouted and the response floods congested the channel further (PDR 67 %).
   */
  routeErrors: boolean
  /** Link failures on the route in use, with no acked packet between, that make the source reroute. */
  routeErrorsToBreak: number
}

export const DEFAULT_ODSBR_CONFIG: Readonly<OdsbrConfig> = Object.freeze({
  lossThreshold: 0.1,
  lossWindow: 30,
  minPacketsForFault: 8,
  burstLossesForFault: 2,
  probeAllOnBurst: true,
  ackTimeoutPerHopMs: 40,
  ackTimeoutBaseMs: 100,
  baseLinkWeight: 1,
  maxLinkWeight: 1024,
  maxWeightListEntries: 32,
  discoveryTimeoutMs: 2000,
  requestRetries: 3,
  responseCollectMs: 200,
  floodJitterMs: 10,
  spareRouteMs: 5000,
  maxBuffered: 64,
  maxFloodMemory: 1024,
  maxHops: 16,
  routeErrors: true,
  routeErrorsToBreak: 2,
})

export type OdsbrConfigInput = Partial<OdsbrConfig>

const RULES: { [K in keyof OdsbrConfig]: FieldRule } = {
  lossThreshold: { gt: 0, max: 1 },
  lossWindow: { integer: true, min: 1, max: 10_000 },
  minPacketsForFault: { integer: true, min: 1, max: 10_000 },
  burstLossesForFault: { integer: true, min: 0, max: 10_000 },
  probeAllOnBurst: 'boolean',
  ackTimeoutPerHopMs: { min: 0, max: 60_000 },
  ackTimeoutBaseMs: { min: 0, max: 60_000 },
  baseLinkWeight: { integer: true, min: 1, max: 0xffff },
  maxLinkWeight: { integer: true, min: 1, max: 0xffff },
  maxWeightListEntries: { integer: true, min: 0, max: 255 },
  discoveryTimeoutMs: { min: 1, max: 600_000 },
  requestRetries: { integer: true, min: 0, max: 100 },
  responseCollectMs: { min: 0, max: 60_000 },
  floodJitterMs: { min: 0, max: 10_000 },
  spareRouteMs: { min: 0, max: 3_600_000 },
  maxBuffered: { integer: true, min: 0, max: 100_000 },
  maxFloodMemory: { integer: true, min: 1, max: 1_000_000 },
  maxHops: { integer: true, min: 1, max: 64 },
  routeErrors: 'boolean',
  routeErrorsToBreak: { integer: true, min: 1, max: 1000 },
}

export function validateOdsbrConfig(partial: unknown = {}, path = 'odsbr'): OdsbrConfig {
  const c = validateFields(path, partial, DEFAULT_ODSBR_CONFIG, RULES) as OdsbrConfig
  if (c.maxLinkWeight < c.baseLinkWeight) throw new ConfigError(`${path}.maxLinkWeight`, `must be >= baseLinkWeight (${c.baseLinkWeight}), got ${c.maxLinkWeight}`)
  if (c.minPacketsForFault > c.lossWindow) throw new ConfigError(`${path}.minPacketsForFault`, `must be <= lossWindow (${c.lossWindow}), got ${c.minPacketsForFault}`)
  return c
}
