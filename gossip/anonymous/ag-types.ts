/**
 * What anonymous gossip shows the outside beyond NetProtocol: its events (history changes, for the
 * field-test loss accounting and traces) and its counters (scope 'ag').
 */
import type { Addr } from '../../core/addr.ts'

/** A message entering or leaving a member's history. `payload` is the application payload. */
export interface HistoryEvent {
  group: Addr
  origin: Addr
  /** The origin's anonymous-gossip sequence number for the group. */
  seq: number
  payload: Uint8Array
  at: number
}

export interface AgEvents {
  /** A message entered this member's history: delivered here (tree or gossip), or originated here by a member. */
  'history-add': (e: HistoryEvent) => void
  /** A message left this member's history (size or age bound): this node can no longer serve it. */
  'history-evict': (e: HistoryEvent) => void
}

/**
 * Counters of scope 'ag'. Messages are counted where they are handed down (a walk once per hop it
 * makes, a routed message once at its origin); bytes are anonymous-gossip bytes without link or
 * routing headers.
 *
 *   dataOriginated     packets this node multicast
 *   deliveredTree      first deliveries by the MAODV tree
 *   recovered          first deliveries by a GOSSIP-REPLY
 *   duplicates         arrivals not delivered because they are behind the source's next number and not
 *                      missing: delivered already (tree copies of recovered packets, overlapping replies),
 *                      or given up as missing earlier (receive-state.ts keeps no record of which)
 *   gapsDetected       sequence numbers found missing
 *   missingGivenUp     missing entries dropped: the list was full, older than missingMaxAgeMs, or the source restarted
 *   historyEvicted     messages evicted from the history (size or age)
 *   rounds             gossip rounds started (anonymous + cached)
 *   roundsAnonymous, roundsCached
 *   roundsSkipped      rounds due that found no way to gossip (not on the tree and no cached member)
 *   walkHops           GOSSIP walk messages handed to the link (one per hop, the first included)
 *   walkBytes
 *   walksAccepted      walks this member accepted (it replied)
 *   walksDropped       walks that ended without a member: dead end, hop limit, off the tree
 *   cachedSent         cached GOSSIP messages sent (AODV unicast to a cached member)
 *   cachedBytes
 *   cachedAccepted     cached GOSSIP messages this member answered
 *   repliesSent        GOSSIP-REPLY messages sent (AODV unicast)
 *   replyBytes
 *   replyMessages      data messages carried in replies sent
 *   repliesReceived    GOSSIP-REPLY messages received
 *   repliesUnasked     replies dropped: not for a group we are a member of, or not answering one of our recent rounds
 *   emptyReplies       gossip accepted but nothing to send (no reply sent)
 *   routedHops         radio hops of the routed gossip messages (cached GOSSIP, replies) received here
 *   decodeErrors       malformed anonymous-gossip frames (data header, GOSSIP, GOSSIP-REPLY)
 *
 * With `security` (authenticated networks):
 *   recoveredVerified      recovered messages whose origin signature verified (then delivered)
 *   recoveredBadSignature  recovered messages refused: the signature does not cover them (a gossip
 *                          partner modified or invented them)
 *   recoveredCertWaits     recovered messages held for their origin's certificate
 *   repliesUnsigned        GOSSIP-REPLYs refused for carrying no proofs
 *   recoveredUnverifiable  batch-mode recovered messages refused: no verified DIGEST lists them (the
 *                          reply lacked it, or its DIGEST-only reply was lost); asked for again later
 */
export const COUNTERS = [
  'dataOriginated', 'deliveredTree', 'recovered', 'duplicates', 'gapsDetected', 'missingGivenUp', 'historyEvicted',
  'rounds', 'roundsAnonymous', 'roundsCached', 'roundsSkipped',
  'walkHops', 'walkBytes', 'walksAccepted', 'walksDropped',
  'cachedSent', 'cachedBytes', 'cachedAccepted',
  'repliesSent', 'replyBytes', 'replyMessages', 'repliesReceived', 'repliesUnasked', 'emptyReplies', 'routedHops',
  'decodeErrors',
  'recoveredVerified', 'recoveredBadSignature', 'recoveredCertWaits', 'repliesUnsigned', 'recoveredUnverifiable',
] as const
export type AgCounterName = (typeof COUNTERS)[number]
