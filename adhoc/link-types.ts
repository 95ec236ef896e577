/**
 * The link layer's contract with every protocol above it (DESIGN.md §2 `Link`). A protocol gets a
 * `LinkPort` bound to its protocol number and sends datagrams to a neighbour or to every neighbour
 * (`BROADCAST`); the link layer frames, fragments, acknowledges and suppresses duplicates.
 */
import type { EventEmitter } from 'eventemitter3'
import type { Addr } from '../core/addr.ts'
import type { ErrorCode } from '../core/errors.ts'

/** A datagram received from a neighbour (after reassembly and duplicate suppression). */
export interface LinkRx {
  /** The neighbour that transmitted it (previous hop). */
  from: Addr
  /** This node's address, or BROADCAST. */
  to: Addr
  proto: number
  payload: Uint8Array
  rssi?: number
  snr?: number
  /** Scheduler time of reception. */
  at: number
}

export interface NeighbourInfo {
  addr: Addr
  firstHeard: number
  lastHeard: number
  /** Exponentially weighted RSSI of frames from it, dBm (undefined when the radio gives none). */
  rssi?: number
  snr?: number
  /** Share of its expected beacons heard recently, 0..1. */
  quality: number
}

export interface TxFailure {
  to: Addr
  proto: number
  payload: Uint8Array
  code: ErrorCode
  reason: string
}

export interface LinkEvents {
  receive: (rx: LinkRx) => void
  'neighbour-up': (n: NeighbourInfo) => void
  'neighbour-down': (n: NeighbourInfo) => void
  /** A unicast datagram could not be delivered to the neighbour (no ack after retries, radio refused). */
  'tx-failed': (f: TxFailure) => void
}

export interface SendOptions {
  /** Ask for a link-level ack with retries (unicast only). Default: the link's `reliableUnicast`. */
  reliable?: boolean
}

export interface Link extends EventEmitter<LinkEvents> {
  readonly address: Addr
  /** Largest datagram `send` accepts (fragmentation included). */
  readonly maxDatagram: number
  send(to: Addr, proto: number, payload: Uint8Array, opts?: SendOptions): void
  neighbours(): NeighbourInfo[]
  /** A view of the link for one protocol number: its `receive` events only. */
  port(proto: number): LinkPort
  close(): void
}

export interface LinkPortEvents {
  receive: (rx: LinkRx) => void
  'neighbour-up': (n: NeighbourInfo) => void
  'neighbour-down': (n: NeighbourInfo) => void
  'tx-failed': (f: TxFailure) => void
}

export interface LinkPort extends EventEmitter<LinkPortEvents> {
  readonly address: Addr
  readonly maxDatagram: number
  send(to: Addr, payload: Uint8Array, opts?: SendOptions): void
  neighbours(): NeighbourInfo[]
}
