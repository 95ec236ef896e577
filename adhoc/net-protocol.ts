/**
 * The contract between a network protocol (flooding, AODV, MAODV, ODSBR, gossip) and what uses it
 * (traffic generators, the runtime, gateways). Addresses decide the kind of send: a node address is
 * unicast, a group address multicast, BROADCAST reaches every node.
 */
import type { EventEmitter } from 'eventemitter3'
import type { Addr } from '../core/addr.ts'

export interface Delivery {
  /** Node that originated the packet. */
  origin: Addr
  /** Destination it was sent to (this node, a group it joined, or BROADCAST). */
  dst: Addr
  payload: Uint8Array
  /** Radio hops travelled. */
  hops: number
  at: number
  /**
   * True when the packet reached this node by a recovery mechanism (e.g. anonymous gossip) after
   * first dissemination missed it here; absent or false for first dissemination.
   */
  recovered?: boolean
}

export interface NetProtocolEvents {
  /** The packet reached this node as a destination (once per packet: duplicates are suppressed). */
  deliver: (d: Delivery) => void
  /** The protocol gave up on a packet this node originated (e.g. no route). */
  undeliverable: (u: { dst: Addr; payload: Uint8Array; reason: string }) => void
}

export interface NetProtocol extends EventEmitter<NetProtocolEvents> {
  readonly name: string
  send(dst: Addr, payload: Uint8Array): void
  join(group: Addr): void
  leave(group: Addr): void
  close(): void
}
