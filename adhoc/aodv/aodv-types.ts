/**
 * Events and counters of AODV (adhoc/aodv/aodv.ts). Counter names are stable (docs/METRICS.md):
 * add, never rename.
 */
import type { Addr } from '../../core/addr.ts'
import { Counter, type MetricsScope } from '../../core/metrics.ts'

/** Why a route stopped being usable. */
export type RouteLossReason = 'tx-failed' | 'hello-loss' | 'neighbour-down' | 'rerr' | 'repairing'

/** Events for traces and tests (besides NetProtocol's and UnicastRouter's). */
export interface AodvEvents {
  /** A discovery (or local repair) this node ran found its route. */
  'route-found': (e: { dst: Addr; hops: number; latencyMs: number }) => void
  /** An active route was invalidated by a link break or a RERR (expiry by lifetime is silent). */
  'route-lost': (e: { dst: Addr; reason: RouteLossReason }) => void
  /** A discovery this node ran for its own packets failed. */
  unreachable: (e: { dst: Addr }) => void
  /** This node originated a RREQ (every ring step and retry). */
  rreq: (e: { origin: Addr; id: number; ttl: number }) => void
  /** This node sent a RERR (originated or propagated). */
  rerr: (e: { unreachable: Addr[] }) => void
}

/**
 * Scope 'aodv', per node. Messages are counted when handed to the link (sent), one per message:
 * rreq (originated + relayed), rrep (originated, relayed, gratuitous), rerr, hello, rrepAck.
 * Discoveries: routeDiscoveries (started for own packets), discoveryFailures ('unreachable'),
 * localRepairs (started), localRepairFailures. Data: dataOriginated (accepted by send/sendRouted),
 * dataForwarded (relayed to the next hop), dataDelivered (reached this node as destination), and
 * dataDropped = the sum of the dataDropped* reasons: NoRoute (relay without a route, or discovery
 * failed), BufferFull, BufferTimeout, Ttl, LinkBreak (next hop lost, no repair), Filtered
 * (forwardFilter), Loop (came back to its origin and would go straight back, or its TTL is spent),
 * Congestion (the link refused it: queue full, expired, busy, duty cycle), Closed. Besides:
 * rreqReceived, rreqDuplicates, rrepReceived, rerrReceived, helloReceived, rreqRateLimited (RREQs
 * that waited), rerrRateLimited (RERRs dropped), rreqBlacklisted, rrepAckTimeouts, rrepGratuitous,
 * linkBreaks, dataDuplicates (copies suppressed at the destination, not counted in dataDelivered),
 * decodeErrors, sendErrors, routeInfoStale (a RREQ's originator seq or a RREP's destination seq
 * older than the one stored: its route is ignored, RFC 6.2), dataReturned (own packets that came
 * back to this node, e.g. over a local repair's route through it, and were sent on again or
 * buffered rather than dropped as Loop).
 * Histogram discoveryLatencyMs: start of a discovery to its route.
 *
 * In a secured network (Aodv option `security`) also these, registered only then (an open network's
 * counters are unchanged): rreqBadSignature, rrepBadSignature (signature did not verify against the
 * RREQ's originator / the RREP's destination: dropped), controlWrongMode (a RREQ or RREP without a
 * signature in a secured network, or with one in an open network: dropped), verifyPending (RREQs,
 * RREPs and data packets that waited for their origin's certificate), and two more dataDropped
 * reasons: dataDroppedBadAuth (a packet for this node whose end-to-end MAC failed — modified or
 * forged on the way — or whose end-to-end counter was already used, unless it is a copy of a
 * packet delivered before: that is a dataDuplicates), dataDroppedNoKey (an own packet with no
 * certificate of its destination to seal it with).
 *
 * Messages handed to the link are not frames on air: a unicast retried by the link goes on air more
 * than once, and a frame the radio drops never does. AODV frames on air, in a run where AODV is the
 * only control protocol, are the link's `txControlFrames − acksSent − beaconsSent` (README).
 */
export const AODV_COUNTERS = [
  'rreq', 'rrep', 'rerr', 'hello', 'rrepAck',
  'routeDiscoveries', 'discoveryFailures', 'localRepairs', 'localRepairFailures',
  'dataOriginated', 'dataForwarded', 'dataDelivered', 'dataDropped',
  'dataDroppedNoRoute', 'dataDroppedBufferFull', 'dataDroppedBufferTimeout', 'dataDroppedTtl', 'dataDroppedLinkBreak',
  'dataDroppedFiltered', 'dataDroppedLoop', 'dataDroppedCongestion', 'dataDroppedClosed',
  'rreqReceived', 'rreqDuplicates', 'rrepReceived', 'rerrReceived', 'helloReceived',
  'rreqRateLimited', 'rerrRateLimited', 'rreqBlacklisted', 'rrepAckTimeouts', 'rrepGratuitous',
  'linkBreaks', 'dataDuplicates', 'decodeErrors', 'sendErrors',
  'routeInfoStale', 'dataReturned',
] as const

/** Counters of a secured network only (see above). */
export const AODV_SECURITY_COUNTERS = [
  'rreqBadSignature', 'rrepBadSignature', 'controlWrongMode', 'verifyPending', 'dataDroppedBadAuth', 'dataDroppedNoKey',
] as const

export type AodvCounterName = (typeof AODV_COUNTERS)[number] | (typeof AODV_SECURITY_COUNTERS)[number]
export type AodvCounters = Record<AodvCounterName, Counter>

export type DropReason =
  | 'NoRoute' | 'BufferFull' | 'BufferTimeout' | 'Ttl' | 'LinkBreak' | 'Filtered' | 'Loop' | 'Congestion' | 'Closed'
  | 'BadAuth' | 'NoKey'

/** The counters of one node; the security ones are registered in `scope` only when `secured`. */
export function aodvCounters(scope: MetricsScope, secured = false): AodvCounters {
  const m = Object.fromEntries(AODV_COUNTERS.map((n) => [n, scope.counter(n)])) as Partial<AodvCounters>
  for (const n of AODV_SECURITY_COUNTERS) m[n] = secured ? scope.counter(n) : new Counter()
  return m as AodvCounters
}
