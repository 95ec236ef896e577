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

/** What `LinkAuthenticator.open` decided about a received frame. */
export type AuthVerdict =
  /** Authenticated and fresh: process it. */
  | 'ok'
  /** An unauthenticated security handshake frame: hand its payload to `control`, nowhere else. */
  | 'handshake'
  /** Refused (counted by the authenticator). */
  | 'drop'

/**
 * Frame authentication between the link layer and its radio (crypto/link-auth.ts implements it).
 * The link hands every encoded frame to `seal` before the radio and every decoded frame to `open`
 * before anything else looks at it; frames of proto SEC go to `control`.
 */
export interface LinkAuthenticator {
  /** Bytes `seal` adds to a frame. */
  readonly overhead: number
  /**
   * Called once by the link: how the authenticator sends its own messages (proto SEC), and how it
   * hands back a frame it held during a key handshake (`redeliver(token)` with the token `open`
   * was given): the link then processes that frame again, and `open` accepts it.
   */
  attach(send: (to: Addr, payload: Uint8Array, authenticated: boolean) => void, redeliver?: (token: unknown) => void): void
  /** The frame with its AUTH trailer, or null when no key exists for its destination (counted). */
  seal(frame: Uint8Array): Uint8Array | null
  /**
   * Check a received frame (`frame` is its decode; `bytes` the frame as received; `token` what to
   * hand back through `redeliver` if the authenticator holds the frame until a handshake ends).
   */
  open(bytes: Uint8Array, frame: { kind: string; src: Addr; dst?: Addr; proto?: number; authCounter: number }, token?: unknown): AuthVerdict
  /** A proto-SEC datagram from neighbour `from`; `authenticated` when it came in an authenticated frame. */
  control(from: Addr, payload: Uint8Array, authenticated: boolean): void
}
