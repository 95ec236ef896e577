/**
 * Shared vocabulary of bimodal multicast (gossip/pbcast/) and gravitational gossip
 * (gossip/gravitational/): the unicast service pbcast runs over, messages and their ids, and the
 * `Audience` strategy that says who gets a message first and whom each gossip round talks to.
 *
 * PROTOCOLS.md §5–6; seed 000 ("Gravitational Gossip"), seed 004 (epidemic analysis).
 */
import type { EventEmitter } from 'eventemitter3'
import type { Addr } from '../../core/addr.ts'
import type { Rng } from '../../core/rng.ts'

/** A datagram that arrived from another member. */
export interface DatagramRx {
  from: Addr
  payload: Uint8Array
  /** Scheduler time of arrival. */
  at: number
}

export interface DatagramEvents {
  receive: (d: DatagramRx) => void
}

/**
 * Best-effort unicast to any member: AODV routes in an ad-hoc network (aodv-datagrams.ts), a
 * simulated IP network (sim-ip.ts), or UDP between gateways (udp-datagrams.ts). No ordering, no
 * delivery guarantee, no duplicates required. `send` never throws for an unreachable peer (the
 * datagram is lost); it throws RangeError for a payload above `maxPayload`.
 */
export interface Datagrams extends EventEmitter<DatagramEvents> {
  readonly address: Addr
  /** Largest payload `send` accepts, bytes. */
  readonly maxPayload: number
  send(to: Addr, payload: Uint8Array): void
  close(): void
}

/**
 * A message's identity: `stream` is the subgroup (a feed or contract; 0 for a plain pbcast group),
 * `seq` counts from 0 per (origin, stream) without gaps. FIFO delivery is per (origin, stream).
 */
export interface MessageId {
  origin: Addr
  stream: number
  seq: number
}

/** What gossip decisions may look at (no body). */
export interface MessageMeta extends MessageId {
  /** The origin's clock when it sent the message, ms (Scheduler time). Age and GC use it. */
  ts: number
  /**
   * The message's audience key in (0, 1]: gravitational gossip delivers it to members whose
   * rating for `stream` is ≥ key (1 for plain pbcast: everyone). Computed by the Audience from
   * (origin, stream, seq), never carried on the wire.
   */
  key: number
}

export interface PbcastMessage extends MessageMeta {
  body: Uint8Array
}

/** One gossip partner for this round, and which held messages to tell it about. */
export interface RoundTarget {
  peer: Addr
  /** Whether `peer` is in the audience of the message (its digest lists only those). */
  wants(m: MessageMeta): boolean
  /**
   * False when `wants` covers only part of what the peer wants from this member (a rating band):
   * its digest is then never flagged complete, since the peer cannot tell what was left out on
   * purpose and would push it all back. Default true.
   */
  covers?: boolean
}

/**
 * Who gets what (pluggable). Plain pbcast: everyone wants everything; peers drawn from a partial
 * view biased to nearby members. Gravitational: a message's audience is the members whose rating
 * for its stream is ≥ its key; peers drawn per rating band so messages with a small audience still
 * spread (gossip/gravitational/).
 */
export interface Audience {
  /** The key of a message (see MessageMeta.key). Pure: same inputs, same key, on every member. */
  keyOf(origin: Addr, stream: number, seq: number): number
  /** Whether this member itself wants (delivers, stores, gossips) the message. */
  selfWants(m: MessageMeta): boolean
  /** Members (never this one) that get the unreliable first dissemination of a message this member originates. */
  firstTargets(m: MessageMeta, rng: Rng): Addr[]
  /** This round's gossip partners (never this member), each with its filter. */
  roundTargets(rng: Rng): RoundTarget[]
  /** Whether `peer` may ask for / be sent message `m` (solicitations from outside the audience are refused). */
  peerWants(peer: Addr, m: MessageMeta): boolean
}

/** A delivered message, as the application sees it (FIFO per origin and stream). */
export interface PbcastDelivery extends PbcastMessage {
  /** Scheduler time of delivery at this member. */
  at: number
  /** 'first': from the first dissemination; 'gossip': recovered by anti-entropy. */
  via: 'first' | 'gossip'
}
