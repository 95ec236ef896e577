/**
 * Every tunable of MAODV (adhoc/maodv/) in one place, with its default and the trade-off it makes.
 * `validateMaodvConfig(partial, path = 'maodv')` fills in defaults and checks every field, throwing a
 * `ConfigError` whose `path` names the field (`maodv.treeLivenessMs: must be > 0, got 0`); unknown
 * fields are errors too. Timing follows RFC 3561 / the MAODV draft where they give a value
 * (PROTOCOLS.md §1–2); derived times are computed by the helpers at the end.
 */
import { ConfigError } from '../../core/errors.ts'
import { fieldPath, validateFields, type FieldRule, type NumberRule } from '../../core/validate.ts'

export interface MaodvConfig {
  /**
   * NODE_TRAVERSAL_TIME, ms: a conservative one-hop latency (queueing, jitter, airtime). Every
   * discovery wait derives from it: RING_TRAVERSAL_TIME(ttl) = 2 × this × (ttl + timeoutBuffer),
   * NET_TRAVERSAL_TIME = 2 × this × netDiameter. RFC 3561: 40 ms. Raise it on slow radios.
   */
  nodeTraversalMs: number
  /** NET_DIAMETER, hops: TTL of network-wide RREQs and of GRPH floods. RFC 3561: 35. */
  netDiameter: number
  /** Expanding ring: first TTL (TTL_START, 1), step (TTL_INCREMENT, 2), last ring TTL (TTL_THRESHOLD, 7). */
  ttlStart: number
  ttlIncrement: number
  ttlThreshold: number
  /** TIMEOUT_BUFFER in RING_TRAVERSAL_TIME (absorbs congestion delays). RFC 3561: 2. */
  timeoutBuffer: number
  /**
   * Network-wide RREQ-J attempts after the ring (RREQ_RETRIES, 2), waiting NET_TRAVERSAL_TIME × 2^k:
   * a join with no tree in reach gives up after 0.24 + 0.40 + 0.56 + 0.72 + 2.8 + 5.6 = 10.3 s.
   */
  rreqRetries: number
  /**
   * RREP_WAIT_TIME, ms: after the first RREP of an attempt the joiner waits this long for better
   * ones, then picks the freshest, then shortest. Default 320 = RING_TRAVERSAL_TIME(2): a reply from
   * a tree node up to two hops further than the first one (one node traversal per extra hop each
   * way, plus the timeout buffer) still arrives; replies from further away would make a longer
   * branch anyway. Never later than the attempt's own ring traversal deadline. (Implementations use
   * 0.5–5 s; a fixed long wait delays every join for replies that rarely win.)
   */
  rrepWaitMs: number
  /** RREQs this node originates per second at most (RREQ_RATELIMIT, 10); further ones are postponed. */
  rreqRateLimit: number
  /** Flooded RREQ and GRPH rebroadcasts wait U[0, maxJitterMs] (collision avoidance), ms. */
  maxJitterMs: number
  /**
   * A relay forwards a data packet after U[0, dataJitterMs], ms. Tree siblings receive their
   * parent's broadcast at the same instant; a CSMA radio that finds the channel idle sends at once,
   * so without jitter they transmit together and collide at every common neighbour (measured on
   * manet-multicast: most forwarded packets lost). A few milliseconds let carrier sense separate
   * them (a 256-byte packet is ≈ 1.3 ms on air at 2 Mbit/s) for ≈ dataJitterMs / 2 latency per
   * hop. Scale with the airtime on slow radios. Originators send at once.
   */
  dataJitterMs: number
  /** Rebroadcasts (RREQ, GRPH) and data relays waiting for their jitter at once; beyond it a relay drops. */
  maxPendingForwards: number

  /** GROUP_HELLO_INTERVAL, ms: the group leader floods a GRPH this often (draft: 5 s). */
  groupHelloIntervalMs: number
  /**
   * A joining member that found no tree waits U[0, this] ms more before it makes itself group leader,
   * listening for a GRPH: members that start together then do not all become leaders at once (the
   * first leader's GRPH reaches the others, who join its tree instead). 0 = elect at once.
   */
  leaderJitterMs: number
  /** Discoveries restarted because a GRPH showed a tree exists, before a joiner elects itself anyway. */
  maxJoinRestarts: number
  /** First TTL of a repair RREQ-J (a detour around one broken link is at least 2 hops). */
  repairTtlStart: number
  /** Network-wide repair attempts after the ring; then the tree is partitioned and a new leader is chosen. */
  repairRetries: number

  /**
   * A tree neighbour must be heard at least this often while data flows on the group, ms, or the
   * link counts as broken (the rule AG's MAODV uses: 750 ms). Any frame counts: data, control, hello.
   * Deliberate reading of PROTOCOLS.md's "heard at least every 750 ms": a neighbour silent this
   * long is not dropped at once but probed with a unicast hello, which the link layer acks and
   * retries; no ack drops it at once (≈ 0.1 s later), an ack counts as hearing it once, so it is
   * dropped only if still silent after 2 × this. A broadcast (data, hello) is easily lost to a
   * collision; four unicast attempts rarely all are, so links are not torn down for one lost frame.
   * The ack proves the neighbour is in reach, not that it still has the link: one that has dropped
   * it answers the probe (which lists it) with a MACT-R. The rule also runs for 2 × this after the
   * flow stops at the node (it may have stopped because a link went). Liveness.ts has the details.
   */
  treeLivenessMs: number
  /**
   * While data flows, a tree node that has not broadcast anything on the group for this long sends a
   * tree hello (keepalive), and it sends one at least every 4 × this. 250 ms = liveness / 3: two hellos
   * in a row may be lost before a neighbour gives up. Nothing is sent while the group is idle.
   */
  treeHelloIntervalMs: number
  /** A group counts as "data flowing" at a node for this long after it last saw a data packet, ms. */
  dataActiveMs: number
  /**
   * While no data flows, each tree node broadcasts a tree hello this often, ms (0 = never): both
   * ends of every tree link then agree on it even when idle (a member whose upstream dropped it or
   * restarted finds out before data is due, rather than missing it silently). One small frame per
   * tree node per GROUP_HELLO_INTERVAL by default; beacons of the link layer cost five times that.
   */
  idleHelloIntervalMs: number

  /**
   * A non-member that sends to a group joins its tree as a router (not a member) and stays on it
   * this long after its last packet, ms; then, as a non-member leaf, it prunes itself.
   */
  senderHoldMs: number
  /** After a non-member sender found no tree, further sends fail at once for this long, ms. */
  senderRetryMs: number
  /** Packets a non-member sender (or a joining member) buffers while it joins, over all groups; oldest dropped. */
  sendBufferPackets: number
  /** A buffered packet older than this when the tree is reached is dropped ('undeliverable'), ms. */
  sendBufferTtlMs: number
  /**
   * A data packet with exactly one tree neighbour to go to is sent as a link unicast (acked,
   * retried, and a failure breaks the link) instead of a broadcast. Costs acks; helps on chains.
   * Default on, a deliberate choice that makes this baseline STRONGER than the broadcast-only
   * MAODV of the anonymous-gossip paper: leaves and chain links get link-layer retries, and a
   * link that fails is noticed at once. manet-multicast at 20 m/s, seeds 1–5: PDR 0.793 mean
   * (seed 1: 0.811) with it, 0.746 (seed 1: 0.705) without, for 6.7 vs 6.4 control frames per
   * delivery. Turn it off to compare with the paper's MAODV.
   */
  unicastSingleNextHop: boolean
  /** Hops a data packet may travel on the tree (loop guard besides duplicate suppression). */
  dataTtl: number

  /**
   * Authenticated networks only (ignored without `security`): how the origin authenticates its
   * multicast data (WIRE.md §11.1–11.2, batch-origin.ts). 1 = a 64-byte Ed25519 signature on every
   * packet (79-byte header; one sign per packet at the origin, one verify per packet per member;
   * nothing waits). k ≥ 2 = batch mode: packets go out unsigned at once (15-byte header) and every
   * k packets (or `batchMaxDelayMs` after the first unsigned one) one signed DIGEST lists their
   * 16-byte hashes plus the previous DIGEST's (80 + 40k bytes per k packets: 15 + 80/k + 40 bytes
   * per packet; one sign and one verify per batch instead of per packet). Members deliver a
   * batched packet only once a DIGEST listing it verified: up to `batchMaxDelayMs` more latency.
   * k is capped so that a DIGEST fits one packet (2k entries ≤ (maxDatagram − 80) / 20).
   */
  signEvery: number
  /** Batch mode: the longest an unsigned packet waits at its origin for the DIGEST that lists it, ms (the added latency's bound). */
  batchMaxDelayMs: number
  /**
   * Batch mode: a member holds a batched packet this long at most for a DIGEST that lists it, ms;
   * then drops it (`dataUnauthenticatedExpired`, never delivered unverified; gossip may recover it
   * with its DIGEST). Default 2000: covers one lost DIGEST (the next one, ≤ 2 × batchMaxDelayMs
   * later, lists the batch again) plus transit. Must be ≥ batchMaxDelayMs.
   */
  batchHoldMs: number
  /** Batch mode: batched packets a member holds at once awaiting their DIGEST (all groups); the oldest is dropped beyond. */
  batchMaxHeld: number

  /** Groups this node keeps state for (joined, on a tree, or known from GRPHs); knowledge-only entries are evicted first. */
  maxGroups: number
  /** Activated tree links per group; a MACT-J beyond it is refused. At most 64 (hello neighbour list). */
  maxTreeLinks: number
  /** Reverse routes and un-activated next hops of RREQs in progress (LRU with TTL). */
  maxRoutes: number
  /**
   * Lifetime of a reverse route / un-activated next hop, ms, refreshed when a RREP passes. Must cover
   * the joiner's wait for replies plus the MACT-J travel: default 2 × NET_TRAVERSAL_TIME.
   */
  routeTtlMs: number
  /** Un-activated next hops (one per replying tree node) remembered per RREQ. */
  maxRepliesPerRequest: number
  /** Duplicate window per origin for RREQs and data (32-bit ids): power of two, 32..4096. */
  dedupWindow: number
  /** Origins remembered for RREQ and for data duplicate suppression, each (LRU). */
  dedupMaxOrigins: number
  /** GRPH reverse paths (group, leader) → neighbour remembered (LRU), used by merges. */
  maxGrphRoutes: number
  /** A GRPH reverse path or leader learnt from a GRPH is forgotten after this long, ms (3 × hello interval). */
  grphRouteTtlMs: number
}

export const DEFAULT_MAODV_CONFIG: Readonly<MaodvConfig> = Object.freeze({
  nodeTraversalMs: 40,
  netDiameter: 35,
  ttlStart: 1,
  ttlIncrement: 2,
  ttlThreshold: 7,
  timeoutBuffer: 2,
  rreqRetries: 2,
  rrepWaitMs: 320,
  rreqRateLimit: 10,
  maxJitterMs: 10,
  dataJitterMs: 5,
  maxPendingForwards: 256,
  groupHelloIntervalMs: 5000,
  leaderJitterMs: 3000,
  maxJoinRestarts: 2,
  repairTtlStart: 2,
  repairRetries: 1,
  treeLivenessMs: 750,
  treeHelloIntervalMs: 250,
  dataActiveMs: 2000,
  idleHelloIntervalMs: 5000,
  senderHoldMs: 10_000,
  senderRetryMs: 5000,
  sendBufferPackets: 64,
  sendBufferTtlMs: 10_000,
  unicastSingleNextHop: true,
  dataTtl: 32,
  signEvery: 1,
  batchMaxDelayMs: 500,
  batchHoldMs: 2000,
  batchMaxHeld: 256,
  maxGroups: 64,
  maxTreeLinks: 32,
  maxRoutes: 1024,
  routeTtlMs: 5600,
  maxRepliesPerRequest: 8,
  dedupWindow: 128,
  dedupMaxOrigins: 1024,
  maxGrphRoutes: 256,
  grphRouteTtlMs: 15_000,
})

export type MaodvConfigInput = Partial<MaodvConfig> | Readonly<Record<string, unknown>>

const ms = (min: number, max = 3_600_000): NumberRule => ({ min, max })
const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })

const RULES: Record<keyof MaodvConfig, FieldRule> = {
  nodeTraversalMs: { gt: 0, max: 600_000 },
  netDiameter: int(1, 255),
  ttlStart: int(1, 255),
  ttlIncrement: int(1, 255),
  ttlThreshold: int(1, 255),
  timeoutBuffer: int(0, 255),
  rreqRetries: int(0, 10),
  rrepWaitMs: ms(0),
  rreqRateLimit: int(1, 10_000),
  maxJitterMs: ms(0),
  dataJitterMs: ms(0),
  maxPendingForwards: int(1, 1_048_576),
  groupHelloIntervalMs: { gt: 0, max: 3_600_000 },
  leaderJitterMs: ms(0),
  maxJoinRestarts: int(0, 100),
  repairTtlStart: int(1, 255),
  repairRetries: int(0, 10),
  treeLivenessMs: { gt: 0, max: 3_600_000 },
  treeHelloIntervalMs: { gt: 0, max: 3_600_000 },
  dataActiveMs: { gt: 0, max: 3_600_000 },
  idleHelloIntervalMs: ms(0),
  senderHoldMs: ms(0),
  senderRetryMs: ms(0),
  sendBufferPackets: int(0, 1_048_576),
  sendBufferTtlMs: { gt: 0, max: 3_600_000 },
  unicastSingleNextHop: 'boolean',
  dataTtl: int(1, 255),
  signEvery: int(1, 127),
  batchMaxDelayMs: { gt: 0, max: 60_000 },
  batchHoldMs: { gt: 0, max: 600_000 },
  batchMaxHeld: int(1, 1_048_576),
  maxGroups: int(1, 65_536),
  maxTreeLinks: int(1, 64),
  maxRoutes: int(1, 1_048_576),
  routeTtlMs: { gt: 0, max: 3_600_000 },
  maxRepliesPerRequest: int(1, 256),
  dedupWindow: { ...int(32, 4096), powerOfTwo: true },
  dedupMaxOrigins: int(1, 1_048_576),
  maxGrphRoutes: int(1, 1_048_576),
  grphRouteTtlMs: { gt: 0, max: 86_400_000 },
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateMaodvConfig(partial: MaodvConfigInput = {}, path = 'maodv'): MaodvConfig {
  const c = validateFields(path, partial, DEFAULT_MAODV_CONFIG, RULES)
  const at = (key: string): string => fieldPath(path, key)
  if (c.ttlStart > c.ttlThreshold) throw new ConfigError(at('ttlStart'), `must be <= ttlThreshold (${c.ttlThreshold}), got ${c.ttlStart}`)
  if (c.ttlThreshold > c.netDiameter) throw new ConfigError(at('ttlThreshold'), `must be <= netDiameter (${c.netDiameter}), got ${c.ttlThreshold}`)
  if (c.repairTtlStart > c.netDiameter) throw new ConfigError(at('repairTtlStart'), `must be <= netDiameter (${c.netDiameter}), got ${c.repairTtlStart}`)
  if (c.treeHelloIntervalMs >= c.treeLivenessMs) {
    throw new ConfigError(at('treeHelloIntervalMs'), `must be < treeLivenessMs (${c.treeLivenessMs}) or every tree link looks silent, got ${c.treeHelloIntervalMs}`)
  }
  if (c.batchHoldMs < c.batchMaxDelayMs) {
    throw new ConfigError(at('batchHoldMs'), `must be >= batchMaxDelayMs (${c.batchMaxDelayMs}) or members drop batched packets before their DIGEST is due, got ${c.batchHoldMs}`)
  }
  return c
}

/** RING_TRAVERSAL_TIME for an expanding-ring attempt with `ttl`, ms. */
export function ringTraversalMs(c: MaodvConfig, ttl: number): number {
  return 2 * c.nodeTraversalMs * (ttl + c.timeoutBuffer)
}

/** NET_TRAVERSAL_TIME, ms. */
export function netTraversalMs(c: MaodvConfig): number {
  return 2 * c.nodeTraversalMs * c.netDiameter
}

/**
 * How long a new group leader waits before it starts a merge, ms: NODE_TRAVERSAL_TIME ×
 * NET_DIAMETER (half a NET_TRAVERSAL_TIME, 1.4 s by default), the time its MACT-U wave needs to
 * cross a tree of the deepest possible depth at a conservative one-hop latency. Until the wave has
 * arrived, nodes of its tree still name the old leader, so the merge reply would not stop at them
 * and the leader could attach to its own subtree (merge.ts).
 */
export function mergeSettleMs(c: MaodvConfig): number {
  return c.nodeTraversalMs * c.netDiameter
}

/** One discovery attempt: the RREQ's TTL and how long to wait for replies. */
export interface Attempt {
  ttl: number
  waitMs: number
}

/**
 * The attempts of a discovery: the expanding ring from `start` (ttlStart for joins, repairTtlStart
 * for repairs) by ttlIncrement up to ttlThreshold, each waiting its ring traversal time, then
 * `retries` network-wide attempts waiting NET_TRAVERSAL_TIME × 2^k (binary backoff).
 */
export function discoveryAttempts(c: MaodvConfig, start: number, retries: number): Attempt[] {
  const out: Attempt[] = []
  for (let ttl = start; ttl <= c.ttlThreshold && ttl < c.netDiameter; ttl += c.ttlIncrement) out.push({ ttl, waitMs: ringTraversalMs(c, ttl) })
  for (let k = 0; k < retries; k++) out.push({ ttl: c.netDiameter, waitMs: netTraversalMs(c) * 2 ** k })
  if (out.length === 0) out.push({ ttl: c.netDiameter, waitMs: netTraversalMs(c) })
  return out
}
