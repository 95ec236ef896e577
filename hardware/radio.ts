/**
 * The radio contract (DESIGN.md §3). Every radio — simulated, serial, UDP, mock — implements it and
 * passes the shared suite in `radio-contract.ts`. Radios are broadcast devices: `send` puts a frame
 * on the medium for whoever hears it; addressing belongs to the link layer above.
 */
import type { EventEmitter } from 'eventemitter3'
import type { ErrorCode, SpinmeshError } from '../core/errors.ts'

export type RadioState = 'connecting' | 'up' | 'down' | 'reconnecting'

/** A frame heard by the radio. `at` is the scheduler time of the end of reception. */
export interface RxFrame {
  bytes: Uint8Array
  /** Received signal strength, dBm, when the radio reports it. */
  rssi?: number
  /** Signal-to-noise ratio, dB, when the radio reports it. */
  snr?: number
  at: number
  /** Which radio of a MultiRadio heard it (index in its `radios`); absent for a single radio. */
  radio?: number
}

export interface RadioEvents {
  frame: (frame: RxFrame) => void
  state: (change: { state: RadioState; reason: string }) => void
  /** Something went wrong that is not tied to one frame (device errors, bad config). */
  error: (err: SpinmeshError) => void
  /** A frame finished going on air; `at` is the end of transmission. */
  sent: (info: { bytes: Uint8Array; at: number; airtimeMs: number }) => void
  /** A frame accepted by `send` will never go on air (queue full, duty cycle, TTL, closed). */
  dropped: (info: { bytes: Uint8Array; code: ErrorCode; reason: string }) => void
}

export interface SendOptions {
  /**
   * Go ahead of frames waiting in the tx queue (link-level acks, which the sender is timing). An
   * urgent frame still waits for the frame on air, carrier sense and the duty-cycle budget.
   */
  urgent?: boolean
}

export interface Radio extends EventEmitter<RadioEvents> {
  /** Largest frame the radio carries, bytes. */
  readonly mtu: number
  /** On-air bits per second, for airtime accounting. */
  readonly bitrate: number
  readonly state: RadioState
  /** On-air time of a frame of `bytes` bytes, preamble included, ms. */
  airtimeMs(bytes: number): number
  /**
   * Queue a frame for broadcast. The radio copies it (the caller may reuse the buffer). Throws
   * `SpinmeshError` `ERR_FRAME_TOO_LARGE` (over `mtu`), `ERR_INVALID_ARGUMENT` (empty) or
   * `ERR_CLOSED`; every accepted frame is either sent (`sent`) or reported (`dropped`), never
   * during the `send` call itself (always from a later event), so callers need no re-entrancy
   * guards.
   */
  send(frame: Uint8Array, opts?: SendOptions): void
  /**
   * Optional: the link layer accepted `frame` from link address `src` (authenticated, in an
   * authenticated network). A radio set that sends unicasts where a node was heard learns here
   * (hardware/multi-radio.ts), never from bytes anyone could have forged.
   */
  sourceAccepted?(src: number, frame: RxFrame): void
  close(): Promise<void>
}

export const RADIO_STATES: readonly RadioState[] = ['connecting', 'up', 'down', 'reconnecting']
