/**
 * Gossip parameters from the group size and the timeliness asked for (PROTOCOLS.md §6: "fanout and
 * rounds are computed from the group size and the requested timeliness"; analysis of seed 004).
 *
 * Fanout. A round's exchange needs a digest, a solicitation and the message to get through, so with
 * datagram loss p a fanout b acts like b' = b·(1 − p)³ loss-free contacts. A push-pull epidemic
 * reaches all n members in about
 *
 *     R(b) = log_{1+b'}(n) + ln(n)/b'   rounds
 *
 * (the first term: the infected set grows by a factor 1 + b' per round until about half are
 * infected; the second: the last members are found by the b' pulls per round of everyone still
 * missing it, as the coupon-collector tail). `fanout` is the smallest b ≤ 16 with R(b)·roundMs ≤
 * timelinessMs: the cheapest that is on time, since load per member and round is ∝ b.
 *
 * Garbage collection. With fanout b' and c·ln(n) rounds all but about n^−(c·b' − 2) of the members
 * have the message (seed 004: y ≈ (n + 1) − 1/n^(cb−2)). Keeping messages c·ln(n) rounds with
 * n^−(c·b' − 2) ≤ 1 − reliability gives c ≥ (2 + ln(1/(1 − reliability))/ln n)/b', i.e.
 *
 *     gcRounds = max(ceil((2·ln n + ln(1/(1 − reliability)))/b'), ceil(R(b)))
 *
 * (never fewer than the expected rounds to reach everyone: a member must still hold a message
 * while the last ones are asking for it).
 *
 * For gravitational gossip, n is the audience a message must reach: the members of the largest
 * stream for a message every member wants; a message with key u reaches only the members rated ≥ u,
 * so n·(share of members rated ≥ u) is what matters for high keys, and is smaller.
 */
import { ConfigError } from '../../core/errors.ts'
import { checkKeys, checkNumber, checkObject, fieldPath } from '../../core/validate.ts'

export interface GossipParameterInput {
  /** Members that must receive a message (≥ 1). */
  groupSize: number
  /** Time by which a message should have reached every member, on average, ms. */
  timelinessMs: number
  /** Time between a member's gossip rounds, ms. */
  roundMs: number
  /** Share of members that must hold a message before it is garbage-collected, in (0, 1) (default 0.999). */
  reliability?: number
  /** Probability a datagram is lost, in [0, 0.9] (default 0). */
  loss?: number
}

export interface GossipParameters {
  /** Gossip partners per round (per rating band in gravitational gossip). */
  fanout: number
  /** Rounds a member keeps a message for gossip. */
  gcRounds: number
  /** R(fanout): expected rounds until every member has a message. */
  expectedRoundsToAll: number
  /** expectedRoundsToAll·roundMs. */
  expectedMs: number
  /** fanout·(1 − loss)³. */
  effectiveFanout: number
  /** The c of gcRounds = c·ln(n) (before rounding up). */
  c: number
}

/** The largest fanout considered. */
export const MAX_FANOUT = 16
export const DEFAULT_RELIABILITY = 0.999

/** R(b): expected rounds of push-pull gossip with effective fanout b' to reach n members. */
export function expectedRounds(n: number, effectiveFanout: number): number {
  if (n <= 1) return 0
  const ln = Math.log(n)
  return ln / Math.log(1 + effectiveFanout) + ln / effectiveFanout
}

/** The residual share n^−(c·b' − 2) after c·ln(n) rounds (seed 004); 0 for n = 1. */
export function residual(n: number, effectiveFanout: number, rounds: number): number {
  if (n <= 1) return 0
  const c = rounds / Math.log(n)
  return Math.min(1, Math.pow(n, -(c * effectiveFanout - 2)))
}

/** Ceil, forgiving float noise (4.000000000001 → 4). */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9)
}

/**
 * The cheapest fanout that meets the deadline, and the rounds to keep messages. ConfigError naming
 * `${path}.field` for a bad input, and naming `${path}.timelinessMs` when no fanout ≤ 16 is fast
 * enough (with what the fastest would need).
 */
export function gossipParameters(input: GossipParameterInput, path = 'gossip'): GossipParameters {
  const o = checkObject(path, input)
  checkKeys(path, o, ['groupSize', 'timelinessMs', 'roundMs', 'reliability', 'loss'])
  const n = checkNumber(fieldPath(path, 'groupSize'), o.groupSize, { min: 1, max: 1e9, integer: true })
  const timelinessMs = checkNumber(fieldPath(path, 'timelinessMs'), o.timelinessMs, { gt: 0 })
  const roundMs = checkNumber(fieldPath(path, 'roundMs'), o.roundMs, { gt: 0 })
  const reliability = checkNumber(fieldPath(path, 'reliability'), o.reliability ?? DEFAULT_RELIABILITY, { gt: 0 })
  if (reliability >= 1) throw new ConfigError(fieldPath(path, 'reliability'), `must be < 1 (gossip only makes the residual small, never 0), got ${reliability}`)
  const loss = checkNumber(fieldPath(path, 'loss'), o.loss ?? 0, { min: 0, max: 0.9 })
  const pass = Math.pow(1 - loss, 3)
  if (n === 1) return { fanout: 1, gcRounds: 1, expectedRoundsToAll: 0, expectedMs: 0, effectiveFanout: pass, c: 0 }
  for (let b = 1; b <= MAX_FANOUT; b++) {
    const eff = b * pass
    const rounds = expectedRounds(n, eff)
    if (rounds * roundMs > timelinessMs * (1 + 1e-12)) continue
    const ln = Math.log(n)
    const c = (2 + Math.log(1 / (1 - reliability)) / ln) / eff
    return {
      fanout: b,
      gcRounds: Math.max(ceil(c * ln), ceil(rounds), 1),
      expectedRoundsToAll: rounds,
      expectedMs: rounds * roundMs,
      effectiveFanout: eff,
      c,
    }
  }
  const eff = MAX_FANOUT * pass
  const rounds = expectedRounds(n, eff)
  throw new ConfigError(
    fieldPath(path, 'timelinessMs'),
    `no fanout <= ${MAX_FANOUT} reaches ${n} members within ${timelinessMs} ms with ${roundMs} ms rounds and ${+(loss * 100).toFixed(2)} % loss: ` +
      `fanout ${MAX_FANOUT} (effective ${+eff.toFixed(2)}) needs ${+rounds.toFixed(2)} rounds = ${Math.ceil(rounds * roundMs)} ms; ` +
      `allow more time, gossip more often or lose less`,
  )
}
