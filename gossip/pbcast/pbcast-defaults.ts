/**
 * Every tunable of bimodal multicast (PROTOCOLS.md §5) in one place, with its trade-off, and the
 * validator that fills defaults and names the field of any bad value
 * (`pbcast.gcRounds: must be <= 255, got 300`); unknown fields are errors.
 *
 * Rounds. Every `roundMs` each member sends one DIGEST to each of the audience's round targets
 * (fanout peers from a partial view). Messages are listed while their age in rounds is below
 * `gcRounds`, then collected. A digest receiver pulls what it lacks (SOLICIT → DATA) and, when the
 * digest is complete, pushes what the sender lacks and is at least `pushAfterRounds` old.
 *
 * Memory per member: at most `maxStoreMessages` held messages (bodies included) and `maxStreams`
 * (origin, stream) delivery states of a few numbers each. Per-round work and load are bounded by
 * `maxRetransmitsPerRound`, `maxSolicitPerDigest` and `maxDigestIds`, whatever the group size.
 */
import { ConfigError } from '../../core/errors.ts'
import { checkOneOf, fieldPath, validateFields, type FieldRule } from '../../core/validate.ts'

export type RoundPhase = 'random' | 'aligned'

export interface PbcastConfig {
  /** Length of a gossip round, ms. Shorter: faster repair and lower latency, more digests per second (load ∝ 1/roundMs). */
  roundMs: number
  /**
   * 'aligned': rounds start at multiples of roundMs of scheduler time on every member at once (what
   * the analysis assumes; all members' digests leave together, a burst on a shared medium).
   * 'random': each member draws its own phase in [0, roundMs) once, spreading the digests out.
   */
  roundPhase: RoundPhase
  /**
   * Rounds after origination a message is held, listed in digests and retransmitted (age travels
   * as a u8, so ≤ 255). More: more members reached at high loss (the tail of the epidemic), larger
   * digests and stores, and a missing message is skipped later (FIFO delivery waits up to this).
   */
  gcRounds: number
  /**
   * Messages at least this many rounds old are pushed to a complete-digest sender that lacks them;
   * younger ones are only pulled. Low: faster repair of the last few members, but pushes of young
   * messages often duplicate a copy still on its way. `gcRounds` turns push off. A member does not
   * pull a message it can tell is this old (it holds a later seq of the stream that is): a holder
   * pushes it. Measured (50 members, 1 % loss, 20 msg/s, gcRounds 10): with 3, 0.16 duplicate
   * copies per delivery; 4, 0.07; 5, 0.06; push off, 0.03, at 1.77 / 1.75 / 1.70 MB sent.
   */
  pushAfterRounds: number
  /** DATA retransmissions plus pushes one member sends per round. Caps per-member load; too low slows repair under heavy loss. */
  maxRetransmitsPerRound: number
  /** Messages pulled (asked for in one SOLICIT) per received digest; 0 turns pull off. Higher repairs faster after a long outage, at a burstier load. */
  maxSolicitPerDigest: number
  /**
   * A missing message is solicited from the first digest that lists it in a round, not from every
   * one: without it a member that hears three digests listing a message gets three copies (measured:
   * 50 members at 1 % loss received 1.1 duplicate copies per delivery). Off: a lost solicitation or
   * retransmission is retried the same round, at that cost.
   */
  solicitOncePerRound: boolean
  /**
   * Messages held (for delivery order and for gossip). At the cap the oldest held message is dropped
   * first (an undelivered one is delivered first, skipping what is missing before it) and counted
   * in `storeEvictions`. Must cover publish rate × gcRounds rounds over all origins, or messages
   * stop being gossiped before gcRounds.
   */
  maxStoreMessages: number
  /**
   * Message ids one DIGEST lists (and the most ids a member examines in a received DIGEST or SOLICIT).
   * Past it (or past the transport's maxPayload) the youngest are listed and the digest is flagged
   * incomplete, so the receiver does not push. Larger: complete digests under high rates, bigger datagrams.
   */
  maxDigestIds: number
  /**
   * Window of sequence numbers per (origin, stream): arrivals up to this far behind the delivery
   * cursor are duplicates (delivered, skipped or passed, even long after GC); an arrival further
   * behind is taken for a restarted origin (its stream starts again); a gap wider than this is
   * skipped in bulk (counted, not reported id by id). Must exceed publish rate × gcRounds rounds;
   * larger delays the detection of a restart.
   */
  dedupWindow: number
  /**
   * When a (origin, stream) is first heard at seq s, the member also waits (up to the skip horizon)
   * for the min(s, joinBackfill) seqs before it: a message that lost its first copy but whose
   * successor arrived is still delivered in order. What does not come is passed silently (counted
   * `beforeJoin`, not `skipped`). 0: the cursor starts exactly at the first seq heard (no wait for
   * a late joiner, but a member present from the start can miss the first messages).
   */
  joinBackfill: number
  /** (origin, stream) delivery states kept; the least recently heard is forgotten (its duplicates then go undetected). */
  maxStreams: number
}

export const DEFAULT_PBCAST_CONFIG: Readonly<PbcastConfig> = Object.freeze({
  roundMs: 100,
  roundPhase: 'random',
  gcRounds: 10,
  pushAfterRounds: 4,
  maxRetransmitsPerRound: 20,
  maxSolicitPerDigest: 32,
  solicitOncePerRound: true,
  maxStoreMessages: 4096,
  maxDigestIds: 512,
  dedupWindow: 1024,
  joinBackfill: 64,
  maxStreams: 1024,
} satisfies PbcastConfig)

export type PbcastConfigInput = Partial<PbcastConfig> | Readonly<Record<string, unknown>>

const int = (min: number, max: number): FieldRule => ({ min, max, integer: true })

const RULES: Record<keyof PbcastConfig, FieldRule> = {
  roundMs: { gt: 0, max: 3_600_000 },
  roundPhase: (path, v) => void checkOneOf(path, v, ['random', 'aligned'] as const),
  gcRounds: int(1, 255),
  pushAfterRounds: int(0, 255),
  maxRetransmitsPerRound: int(1, 65_535),
  maxSolicitPerDigest: int(0, 65_535),
  solicitOncePerRound: 'boolean',
  maxStoreMessages: int(1, 1_048_576),
  maxDigestIds: int(1, 65_535),
  dedupWindow: int(1, 2 ** 30),
  joinBackfill: int(0, 2 ** 30),
  maxStreams: int(1, 1_048_576),
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validatePbcastConfig(partial: PbcastConfigInput = {}, path = 'pbcast'): PbcastConfig {
  const c = validateFields(path, partial, DEFAULT_PBCAST_CONFIG, RULES)
  if (c.pushAfterRounds > c.gcRounds) {
    throw new ConfigError(fieldPath(path, 'pushAfterRounds'), `must be <= gcRounds (${c.gcRounds}; equal turns push off), got ${c.pushAfterRounds}`)
  }
  if (c.joinBackfill > c.dedupWindow) {
    throw new ConfigError(fieldPath(path, 'joinBackfill'), `must be <= dedupWindow (${c.dedupWindow}), got ${c.joinBackfill}`)
  }
  return c
}
