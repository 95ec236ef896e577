/**
 * Every tunable of AODV (adhoc/aodv/aodv.ts) in one place: RFC 3561 §10 parameters under their RFC
 * names in camel case, with the RFC default unless PROTOCOLS.md §1 says otherwise, and the
 * implementation bounds (buffer, caches) with their policies. `validateAodvConfig(partial, path =
 * 'aodv')` fills in defaults and checks every field, throwing a `ConfigError` whose `path` names the
 * field (`protocolConfig.helloIntervalMs: must be >= 0, got -1`); unknown fields are errors too.
 *
 * Values the RFC derives from others are not settable; `aodvTiming(config)` computes them:
 *
 *   NET_TRAVERSAL_TIME   = 2 · NODE_TRAVERSAL_TIME · NET_DIAMETER           2 800 ms
 *   PATH_DISCOVERY_TIME  = 2 · NET_TRAVERSAL_TIME                            5 600 ms
 *   RING_TRAVERSAL_TIME  = 2 · NODE_TRAVERSAL_TIME · (TTL + TIMEOUT_BUFFER)  240/400/560/720 ms at TTL 1/3/5/7
 *   BLACKLIST_TIMEOUT    = RREQ_RETRIES · NET_TRAVERSAL_TIME                 5 600 ms
 *   NEXT_HOP_WAIT        = NODE_TRAVERSAL_TIME + 10                           50 ms
 *   MAX_REPAIR_TTL       = ⌊0.3 · NET_DIAMETER⌋                               10
 *   hello lifetime       = ALLOWED_HELLO_LOSS · HELLO_INTERVAL                2 000 ms (carried in HELLO)
 *   hello loss           = (ALLOWED_HELLO_LOSS + 0.5) · HELLO_INTERVAL        2 500 ms of silence = link lost
 *
 * Route discovery with the defaults (the timeline a test checks): RREQs at TTL 1, 3, 5, 7 after
 * 0, 240, 640, 1 200 ms; then NET_DIAMETER-wide RREQs at 1 920 ms and 4 720 ms waiting
 * NET_TRAVERSAL_TIME · 2^(k−1) (binary backoff: 2 800, 5 600 ms); 'unreachable' at 10 320 ms.
 * RREQ_RETRIES counts the NET_DIAMETER-wide RREQs, as ns-3 does — that is the ~10.3 s budget of
 * PROTOCOLS.md §1 (RFC 6.3 could be read as one more; it would take 21.5 s).
 *
 * Neighbour monitoring: run either the link layer's beacons (`link.beaconIntervalMs`, whose
 * 'neighbour-down' AODV follows) or AODV's hellos, not both (double chatter for the same answer).
 * Recommended for AODV scenarios: `link.beaconIntervalMs: 0` and the AODV defaults — hellos are then
 * sent only by nodes on an active route (RFC 6.9), so idle parts of the network stay silent.
 * With reliable unicast on the link (the default) a broken next hop is also found at the first data
 * packet that is not acknowledged ('tx-failed' ERR_NO_ACK), whatever neighbour monitoring runs.
 */
import { ConfigError } from '../../core/errors.ts'
import { fieldPath, validateFields, type FieldRule, type NumberRule } from '../../core/validate.ts'

export interface AodvConfig {
  /**
   * ACTIVE_ROUTE_TIMEOUT, ms: a route not used for this long becomes invalid; also the lifetime of
   * a route to a neighbour learnt from any of its messages. Shorter: stale routes go sooner, but
   * idle flows need rediscovery more often. RFC 3 000.
   */
  activeRouteTimeoutMs: number
  /**
   * ALLOWED_HELLO_LOSS: hello intervals of silence from a hello-sending neighbour before its link is
   * declared lost (after (ALLOWED_HELLO_LOSS + 0.5) · HELLO_INTERVAL: the half interval absorbs hello
   * jitter and channel access delay, so one lost hello never looks like a break). RFC 2.
   */
  allowedHelloLoss: number
  /**
   * HELLO_INTERVAL, ms; 0 = no hellos (rely on the link's beacons or tx-failure feedback). A node
   * sends a hello only while it is part of an active route (it originated, relayed or received data
   * in the last ACTIVE_ROUTE_TIMEOUT) and broadcast nothing else in the last interval. RFC 1 000.
   */
  helloIntervalMs: number
  /**
   * Hellos go out HELLO_INTERVAL − U[0, helloJitterMs) after this node's last broadcast, so
   * neighbours do not hello in lockstep (RFC 5148 style: jitter only shortens). At most half the
   * interval (checked only when hellos are on).
   */
  helloJitterMs: number
  /** NET_DIAMETER: hops of the widest RREQ, and the TTL of data packets. RFC 35. 1..255. */
  netDiameter: number
  /**
   * NODE_TRAVERSAL_TIME, ms: a conservative one-hop traversal time (queueing, channel access,
   * processing). Scales every discovery timeout. RFC 40 — suits 802.11-class radios; for LoRa use
   * a few frame airtimes (≈ 1 000+).
   */
  nodeTraversalTimeMs: number
  /** TIMEOUT_BUFFER in RING_TRAVERSAL_TIME: slack for congestion, in hops. RFC 2. */
  timeoutBuffer: number
  /** TTL_START: TTL of the first RREQ of a discovery with no previous hop count. RFC 1. */
  ttlStart: number
  /** TTL_INCREMENT: TTL added per expanding-ring step. RFC 2. */
  ttlIncrement: number
  /** TTL_THRESHOLD: the largest ring TTL; beyond it the RREQ goes NET_DIAMETER wide. RFC 7. */
  ttlThreshold: number
  /** RREQ_RETRIES: NET_DIAMETER-wide RREQs of one discovery before 'unreachable' (see above). RFC 2. */
  rreqRetries: number
  /**
   * RREQ_RATELIMIT: RREQs this node may originate per second (sliding 1 s window). A discovery whose
   * RREQ would exceed it waits for the window (its timeout starts when the RREQ leaves). Relayed RREQs
   * are not limited (RFC 6.3 limits origination). RFC 10.
   */
  rreqRateLimit: number
  /** RERR_RATELIMIT: RERRs this node may send per second; beyond it a RERR is dropped (counted). RFC 10. */
  rerrRateLimit: number
  /**
   * MY_ROUTE_TIMEOUT, ms: lifetime a destination puts in its RREPs. RFC's table says 2 ·
   * ACTIVE_ROUTE_TIMEOUT (6 s) but its text asks for ≥ 2 · PATH_DISCOVERY_TIME; PROTOCOLS.md §1 takes
   * ns-3's 11 200.
   */
  myRouteTimeoutMs: number
  /**
   * DELETE_PERIOD, ms: how long an invalid route is kept (its hop count and sequence number still
   * seed the next discovery and RERRs). RFC K · max(ACTIVE_ROUTE_TIMEOUT, HELLO_INTERVAL), K = 5: 15 000.
   */
  deletePeriodMs: number
  /** LOCAL_ADD_TTL: hops added to a local repair's TTL. RFC 2. */
  localAddTtl: number
  /**
   * Local repair (RFC 6.12): a relay whose next hop breaks while it holds a data packet for a
   * destination at most MAX_REPAIR_TTL hops away buffers it and rediscovers the destination itself
   * (one RREQ with TTL max(hops to destination, ⌊hops from origin / 2⌋) + LOCAL_ADD_TTL), instead of
   * sending a RERR at once. Saves the source a discovery when the break is near the destination;
   * costs a RREQ flood and delay when it fails. Off by default (as ns-2/ns-3).
   */
  localRepair: boolean
  /**
   * Set the G flag in our RREQs: an intermediate node that answers also sends the destination a
   * gratuitous RREP, so the destination has a route back without a flood. ns-3 default: true.
   */
  gratuitousRrep: boolean
  /** Set the D flag in our RREQs: only the destination may answer (no intermediate replies). Default false. */
  destinationOnly: boolean
  /**
   * Set the A flag in our RREPs and wait NEXT_HOP_WAIT for the neighbour's RREP-ACK; without it the
   * neighbour is blacklisted for BLACKLIST_TIMEOUT (its RREQs are ignored: RFC 6.8, unidirectional
   * links). Redundant when the link acknowledges unicast (link.reliableUnicast, the default), so off.
   */
  rrepAck: boolean
  /**
   * Relayed RREQs and every broadcast RERR wait U[0, floodJitterMs] ms first, so neighbours that
   * heard the same frame do not transmit together. 10 ms suits a 2 Mbit/s radio (a 512-byte frame is
   * ≈ 2.2 ms on air); scale with airtime on slow radios. 0 = none: what a "rushing" attacker does.
   */
  floodJitterMs: number
  /**
   * Data packets buffered while their destination is being discovered (or locally repaired), over
   * all destinations. Full: the oldest packet in the buffer is dropped (reported 'undeliverable'
   * buffer-full if this node originated it) — head drop keeps the freshest data, and the oldest is
   * the nearest to its timeout anyway (ns-3 does the same). PROTOCOLS.md §1: 64.
   */
  bufferMaxPackets: number
  /** The same cap per destination (head drop within that destination); ≤ bufferMaxPackets to matter. */
  bufferMaxPerDestination: number
  /** A buffered packet older than this is dropped (dataDroppedBufferTimeout), ms. PROTOCOLS.md §1: 30 000. */
  bufferTimeoutMs: number
  /**
   * (originator, RREQ ID) pairs remembered for duplicate suppression, each for PATH_DISCOVERY_TIME.
   * When full, the oldest is forgotten early (its late copies would be processed once more).
   */
  rreqCacheMax: number
  /**
   * Duplicate suppression of data at its destination (adhoc/dedup.ts windows over the 32-bit
   * per-origin sequence number): a copy can arrive twice when every link ack of a received frame
   * was lost and the sender then resent it over another route. Window in sequence numbers, a power
   * of two, 32..4096: covers the reordering of a route change.
   */
  dedupWindow: number
  /** Origins remembered for duplicate suppression (LRU); above the number sending to this node at once. */
  dedupMaxOrigins: number
  /** Consecutive far-behind numbers that show an origin restarted (adhoc/dedup.ts); 0 = never. */
  dedupResyncAfter: number
  /** Route table entries; when full a new destination evicts an invalid route, else the oldest. */
  maxRoutes: number
  /** Jittered broadcasts (relayed RREQs, RERRs) waiting at once; beyond it a broadcast is dropped. */
  maxPendingBroadcasts: number
  /**
   * Period of housekeeping (delete routes past DELETE_PERIOD, time out buffered packets, forget
   * blacklist entries), ms; it runs only while there is something to clean. Sets the granularity of
   * bufferTimeoutMs and of route deletion.
   */
  housekeepingIntervalMs: number
}

export const DEFAULT_AODV_CONFIG: Readonly<AodvConfig> = Object.freeze({
  activeRouteTimeoutMs: 3000,
  allowedHelloLoss: 2,
  helloIntervalMs: 1000,
  helloJitterMs: 100,
  netDiameter: 35,
  nodeTraversalTimeMs: 40,
  timeoutBuffer: 2,
  ttlStart: 1,
  ttlIncrement: 2,
  ttlThreshold: 7,
  rreqRetries: 2,
  rreqRateLimit: 10,
  rerrRateLimit: 10,
  myRouteTimeoutMs: 11_200,
  deletePeriodMs: 15_000,
  localAddTtl: 2,
  localRepair: false,
  gratuitousRrep: true,
  destinationOnly: false,
  rrepAck: false,
  floodJitterMs: 10,
  bufferMaxPackets: 64,
  bufferMaxPerDestination: 64,
  bufferTimeoutMs: 30_000,
  rreqCacheMax: 4096,
  dedupWindow: 128,
  dedupMaxOrigins: 1024,
  dedupResyncAfter: 3,
  maxRoutes: 4096,
  maxPendingBroadcasts: 256,
  housekeepingIntervalMs: 1000,
})

export type AodvConfigInput = Partial<AodvConfig> | Readonly<Record<string, unknown>>

/** Values RFC 3561 derives from the configuration (see the module comment). */
export interface AodvTiming {
  netTraversalTimeMs: number
  pathDiscoveryTimeMs: number
  blacklistTimeoutMs: number
  nextHopWaitMs: number
  maxRepairTtl: number
  /** Lifetime carried in our hellos. */
  helloLifetimeMs: number
  /** Silence after which a hello-sending neighbour's link is lost. */
  helloLossMs: number
  /** RING_TRAVERSAL_TIME for an RREQ of this TTL. */
  ringTraversalTimeMs(ttl: number): number
}

export function aodvTiming(c: AodvConfig): AodvTiming {
  const netTraversalTimeMs = 2 * c.nodeTraversalTimeMs * c.netDiameter
  return {
    netTraversalTimeMs,
    pathDiscoveryTimeMs: 2 * netTraversalTimeMs,
    blacklistTimeoutMs: c.rreqRetries * netTraversalTimeMs,
    nextHopWaitMs: c.nodeTraversalTimeMs + 10,
    maxRepairTtl: Math.floor(0.3 * c.netDiameter),
    helloLifetimeMs: c.allowedHelloLoss * c.helloIntervalMs,
    helloLossMs: (c.allowedHelloLoss + 0.5) * c.helloIntervalMs,
    ringTraversalTimeMs: (ttl) => 2 * c.nodeTraversalTimeMs * (ttl + c.timeoutBuffer),
  }
}


const DAY_MS = 86_400_000
const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })
const ms = (min: number, max = DAY_MS): NumberRule => ({ min, max })
const bool: FieldRule = 'boolean'

const RULES: Record<keyof AodvConfig, FieldRule> = {
  activeRouteTimeoutMs: ms(1),
  allowedHelloLoss: int(1, 100),
  helloIntervalMs: ms(0, 600_000),
  helloJitterMs: ms(0, 300_000),
  netDiameter: int(1, 255),
  nodeTraversalTimeMs: ms(0.001, 600_000),
  timeoutBuffer: int(0, 255),
  ttlStart: int(1, 255),
  ttlIncrement: int(1, 255),
  ttlThreshold: int(1, 255),
  rreqRetries: int(1, 16),
  rreqRateLimit: int(1, 10_000),
  rerrRateLimit: int(1, 10_000),
  myRouteTimeoutMs: ms(1, 0xffffffff),
  deletePeriodMs: ms(0),
  localAddTtl: int(0, 255),
  localRepair: bool,
  gratuitousRrep: bool,
  destinationOnly: bool,
  rrepAck: bool,
  floodJitterMs: ms(0, 600_000),
  bufferMaxPackets: int(1, 1_048_576),
  bufferMaxPerDestination: int(1, 1_048_576),
  bufferTimeoutMs: ms(1),
  rreqCacheMax: int(1, 1_048_576),
  dedupWindow: { min: 32, max: 4096, powerOfTwo: true },
  dedupMaxOrigins: int(1, 1_048_576),
  dedupResyncAfter: int(0, 1000),
  maxRoutes: int(1, 1_048_576),
  maxPendingBroadcasts: int(1, 1_048_576),
  housekeepingIntervalMs: ms(1, 600_000),
}

/**
 * Defaults filled in, every field checked, then the rules between fields. Throws `ConfigError` with
 * `path` = `${path}.field` (`path` is where the settings sit in the caller's config:
 * `protocolConfig` in a scenario).
 */
export function validateAodvConfig(partial: AodvConfigInput = {}, path = 'aodv'): AodvConfig {
  const c = validateFields(path, partial, DEFAULT_AODV_CONFIG, RULES)
  const at = (key: keyof AodvConfig): string => fieldPath(path, key)
  if (c.ttlThreshold > c.netDiameter) {
    throw new ConfigError(at('ttlThreshold'), `must be <= netDiameter (${c.netDiameter}), got ${c.ttlThreshold}`)
  }
  if (c.ttlStart > c.netDiameter) throw new ConfigError(at('ttlStart'), `must be <= netDiameter (${c.netDiameter}), got ${c.ttlStart}`)
  if (c.helloIntervalMs > 0 && c.helloIntervalMs < 10) throw new ConfigError(at('helloIntervalMs'), `must be 0 (no hellos) or >= 10, got ${c.helloIntervalMs}`)
  if (c.helloIntervalMs > 0 && c.helloJitterMs > c.helloIntervalMs / 2) {
    throw new ConfigError(at('helloJitterMs'), `must be <= half of helloIntervalMs (${c.helloIntervalMs / 2}), got ${c.helloJitterMs}`)
  }
  return c
}
