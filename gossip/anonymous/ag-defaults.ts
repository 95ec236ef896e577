/**
 * Every tunable of anonymous gossip (PROTOCOLS.md §3) in one place, with its trade-off, and the
 * validator that fills defaults and names the field of any bad value
 * (`protocolConfig.gossip.acceptProbability: must be <= 1, got 2`); unknown fields are errors.
 *
 * Rounds. Every `gossipPeriodMs` (± half of `periodJitter`) a member with something missing starts
 * one round; with nothing missing it starts one only if `idleRoundPeriodMs` has passed since its
 * last round (0 = never), the configured minimum a loss-free run costs. Idle rounds find what a
 * member cannot see missing: the last packets of a stream, and streams it never heard. A round is
 * anonymous with probability `pAnonymous`, else it goes to a member from the cache.
 *
 * Walks. An anonymous GOSSIP walks the multicast tree: each tree node sends it on to one tree
 * neighbour other than the one it came from, chosen with weight nearestMember^−localityExponent
 * (nearestMember = tree hops to the closest member that way, from MAODV's hellos; branches with no
 * member behind them are not entered), so walks end at nearby members (their answer is cheap, and a near member most
 * likely got what ours missed if the loss was a collision). A member accepts with
 * `acceptProbability`, always when it is a leaf or the walk has no hops left. 0 gives every walk to
 * the farthest member it can reach, 1 to the first member on its way. With `passOnUseless` a member
 * that holds none of what the walk asks for passes it on instead (losses are correlated on a
 * branch: the near members a walk meets first often lack the same packets); it still caches the
 * initiator. This refines the paper, whose members accept blindly; off gives its behaviour.
 *
 * Cached gossip. Members that answered us, or that we answered, are cached with their distance;
 * a cached round unicasts (AODV) to one of them weighted by distance^cachedDistanceExponent:
 * distant members' losses are less correlated with ours (a repair that cut our branch cut our
 * neighbours too), which is what the walks, biased to near members, cannot give. With
 * `cacheOrigins` the origin of each stream is cached too (refreshed by its data): it holds all of
 * its stream, member or not, and is the only holder of a packet that never got past the first
 * hops of the tree — losses no member can repair. This extends the paper, where only members
 * answer; the origin's load stays one cache entry's share of the rounds.
 *
 * Memory per member and group: history ≤ historySize messages (payloads included: 1,000 × 262 B
 * ≈ 260 kB for manet-multicast), missing ≤ maxMissing entries, cache ≤ memberCacheSize entries.
 * Messages older than the history (by count or age) are unrecoverable by design; the metrics report
 * how many were lost that way (`lostForGood.agedOut`).
 */
import { ConfigError } from '../../core/errors.ts'
import { fieldPath, validateFields, type FieldRule, type NumberRule } from '../../core/validate.ts'
import { MAX_GOSSIP_SOURCES, MAX_MISSING_PER_SOURCE } from './ag-messages.ts'

export interface AgConfig {
  /** Time between a member's gossip rounds while it misses something, ms. Shorter: faster recovery, more traffic. */
  gossipPeriodMs: number
  /** Each round waits gossipPeriodMs × U[1 − j/2, 1 + j/2] so members do not gossip in step. */
  periodJitter: number
  /** With nothing missing, at most one round per this long, ms (0 = none): the minimum gossip of a loss-free run. */
  idleRoundPeriodMs: number
  /** Probability a round is anonymous (a walk); otherwise cached gossip when the cache has a member. */
  pAnonymous: number
  /** Probability a non-leaf member accepts a walk rather than passing it on. */
  acceptProbability: number
  /** A member holding nothing the walk asks for passes it on (accepting only where the walk must end). */
  passOnUseless: boolean
  /** Walk weighting: a tree link is chosen with weight nearestMember^−localityExponent (0 = uniform). */
  localityExponent: number
  /** Hops a walk may make before it must end (at a member, or nowhere). */
  walkTtl: number
  /** Messages kept per group for answering gossip (oldest evicted first). */
  historySize: number
  /** Messages older than this are dropped from the history, ms. */
  historyMaxAgeMs: number
  /** Missing entries kept per group over all sources; beyond it the oldest are given up. */
  maxMissing: number
  /** Missing entries older than this are given up (no history still has them), ms. */
  missingMaxAgeMs: number
  /** Sources tracked per group (least recently heard forgotten first). */
  maxSources: number
  /** A jump ahead by more than this many sequence numbers is taken for a source restart, not a gap. */
  maxGap: number
  /**
   * The first packet heard from a source marks up to this many before it missing (its header says
   * how many there were): the start of a stream heard late, or a late joiner's recent past.
   */
  backfill: number
  /** An arrival this far behind a source's next sequence number is taken for a restart. */
  resyncDistance: number
  /** Sources listed in one GOSSIP (those missing something first). */
  gossipMaxSources: number
  /** Missing sequence numbers listed in one GOSSIP, over all its sources (≤ 255 per source). */
  gossipMaxMissing: number
  /** Members remembered for cached gossip. */
  memberCacheSize: number
  /** A cached member not heard from for this long is forgotten, ms. */
  memberCacheTtlMs: number
  /** Cached gossip picks a member with weight distance^cachedDistanceExponent (0 = uniform). */
  cachedDistanceExponent: number
  /** Cache the origin of every stream a member receives (it holds all of it) as a cached-gossip target. */
  cacheOrigins: boolean
  /** Groups with gossip state (member of, or sending to). */
  maxGroups: number
  /** Messages an acceptor sends back for one GOSSIP (missing ones first, oldest first). */
  replyMaxMessages: number
  /** Bytes of one GOSSIP-REPLY (several are sent when the messages do not fit one; capped by the router's payload). */
  replyMaxBytes: number
  /** A reply is taken only when it answers one of this member's last roundsAnswerable rounds. */
  roundsAnswerable: number
  /** Also send messages at or after the initiator's `next`, and from sources it did not list. */
  replyNewer: boolean
  /**
   * …but only those held at least this long, ms: a younger one is most likely still on its way to
   * the initiator down the tree (a copy by gossip too would be a wasted duplicate).
   */
  replyNewerMinAgeMs: number
}

export const DEFAULT_AG_CONFIG: Readonly<AgConfig> = Object.freeze({
  gossipPeriodMs: 1000,
  periodJitter: 0.5,
  idleRoundPeriodMs: 5000,
  pAnonymous: 0.5,
  acceptProbability: 0.5,
  passOnUseless: true,
  localityExponent: 1,
  walkTtl: 8,
  historySize: 1000,
  historyMaxAgeMs: 60_000,
  maxMissing: 512,
  missingMaxAgeMs: 60_000,
  maxSources: 256,
  maxGap: 1000,
  backfill: 64,
  resyncDistance: 65_536,
  gossipMaxSources: 16,
  gossipMaxMissing: 128,
  memberCacheSize: 16,
  memberCacheTtlMs: 30_000,
  cachedDistanceExponent: 1,
  cacheOrigins: true,
  maxGroups: 64,
  replyMaxMessages: 32,
  replyMaxBytes: 1400,
  roundsAnswerable: 8,
  replyNewer: true,
  replyNewerMinAgeMs: 200,
})

export type AgConfigInput = Partial<AgConfig> | Readonly<Record<string, unknown>>

const ms = (min: number, max = 3_600_000): NumberRule => ({ min, max })
const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })
const prob: NumberRule = { min: 0, max: 1 }

const RULES: Record<keyof AgConfig, FieldRule> = {
  gossipPeriodMs: { gt: 0, max: 3_600_000 },
  periodJitter: prob,
  idleRoundPeriodMs: ms(0),
  pAnonymous: prob,
  acceptProbability: prob,
  passOnUseless: 'boolean',
  localityExponent: { min: 0, max: 16 },
  walkTtl: int(1, 255),
  historySize: int(1, 1_048_576),
  historyMaxAgeMs: { gt: 0, max: 86_400_000 },
  maxMissing: int(1, 1_048_576),
  missingMaxAgeMs: { gt: 0, max: 86_400_000 },
  maxSources: int(1, 65_536),
  maxGap: int(1, 65_535),
  backfill: int(0, 65_535),
  resyncDistance: int(2, 2 ** 31),
  gossipMaxSources: int(1, MAX_GOSSIP_SOURCES),
  gossipMaxMissing: int(0, MAX_GOSSIP_SOURCES * MAX_MISSING_PER_SOURCE),
  memberCacheSize: int(1, 65_536),
  memberCacheTtlMs: { gt: 0, max: 86_400_000 },
  cachedDistanceExponent: { min: 0, max: 16 },
  cacheOrigins: 'boolean',
  maxGroups: int(1, 65_536),
  replyMaxMessages: int(1, 255),
  replyMaxBytes: int(64, 65_535),
  roundsAnswerable: int(1, 1024),
  replyNewer: 'boolean',
  replyNewerMinAgeMs: ms(0),
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateAgConfig(partial: AgConfigInput = {}, path = 'gossip'): AgConfig {
  const c = validateFields(path, partial, DEFAULT_AG_CONFIG, RULES)
  if (c.backfill > c.maxGap) throw new ConfigError(fieldPath(path, 'backfill'), `must be <= maxGap (${c.maxGap}), got ${c.backfill}`)
  if (c.resyncDistance <= c.maxGap) {
    throw new ConfigError(fieldPath(path, 'resyncDistance'), `must be > maxGap (${c.maxGap}), or a gap could look like a restart, got ${c.resyncDistance}`)
  }
  return c
}
