/**
 * The contract of a serial framer: bytes in, in arbitrary chunks; frames and counted damage out.
 *
 * A framer is a state machine over a byte stream (no I/O, no time, no randomness). Its guarantees:
 * - `push` never throws, whatever the bytes; bad input becomes `error` events.
 * - Chunking does not matter: the events of a stream are the same however it is cut into chunks
 *   (one chunk, one byte at a time, anything between).
 * - It resynchronises on the next delimiter: damage costs at most the frames it touches.
 * - Memory is bounded: one buffer of `maxFrame` + framing overhead, allocated at construction; a
 *   frame growing past `maxFrame` is dropped and the framer hunts for the next delimiter without
 *   buffering more. Bytes are never re-concatenated per chunk.
 * - Every input byte that is not a delimiter ends up in a delivered frame or in the `skipped` count
 *   of exactly one error event (events are emitted when the delimiter ending the damage arrives).
 *
 * Implementations: COBS + CRC-32 (cobs-framer.ts) for transparent UART radios and custom firmware,
 * KISS (kiss-framer.ts) for KISS TNCs and RNode. Byte layouts: FRAMING.md.
 */

/**
 * Why bytes were discarded (stable codes, part of the public API):
 * - `crc`: a COBS frame decoded but its CRC-32 did not match;
 * - `cobs`: a COBS block was cut short by a delimiter;
 * - `short`: a COBS frame decoded to fewer than 5 bytes (a payload needs ≥ 1 byte + 4 CRC bytes);
 * - `too-long`: the frame's payload grew past `maxFrame`;
 * - `kiss-escape`: a KISS FESC was followed by something other than TFEND or TFESC;
 * - `unframed`: bytes before the first KISS FEND after construction or `reset()` (the stream was
 *   joined mid-frame: KISS has no checksum, so a partial frame is not trusted).
 */
export type FrameErrorCode = 'crc' | 'cobs' | 'short' | 'too-long' | 'kiss-escape' | 'unframed'

export const FRAME_ERROR_CODES: readonly FrameErrorCode[] = Object.freeze(['crc', 'cobs', 'short', 'too-long', 'kiss-escape', 'unframed'])

/** A frame whose payload arrived intact (as far as the framing can tell). `payload` is a fresh copy. */
export interface DataFrameEvent {
  kind: 'frame'
  payload: Uint8Array
}

/** Damaged input: `skipped` input bytes (delimiters excluded) were discarded for reason `code`. */
export interface FrameErrorEvent {
  kind: 'error'
  code: FrameErrorCode
  skipped: number
}

export type FrameEvent<F extends DataFrameEvent = DataFrameEvent> = F | FrameErrorEvent

/** Counters since construction (`reset()` keeps them). A live object: copy it for a snapshot. */
export interface FramerStats {
  /** Bytes given to `push`. */
  bytesIn: number
  /** Frames delivered. */
  frames: number
  /** Input bytes of the delivered frames (delimiters excluded): with bytesDiscarded, the overhead actually paid. */
  frameBytes: number
  /** Sum of `skipped` over all error events. */
  bytesDiscarded: number
  /** Error events per code. */
  errors: Record<FrameErrorCode, number>
}

export interface Framer<F extends DataFrameEvent = DataFrameEvent> {
  /** The largest payload accepted, bytes (from the config; `encode` refuses more). */
  readonly maxFrame: number
  /** Bytes held for the frame in progress (≤ maxFrame + framing overhead, always). */
  readonly buffered: number
  readonly stats: FramerStats
  /** Feed received bytes; returns the frames and errors they complete, in stream order. Never throws. */
  push(chunk: Uint8Array): Array<FrameEvent<F>>
  /** Drop the frame in progress (not counted) and start as on a fresh stream, e.g. after a reconnect. */
  reset(): void
  /** The bytes to send for `payload` (a data frame). Throws ERR_FRAME_TOO_LARGE past maxFrame. */
  encode(payload: Uint8Array): Uint8Array
}

export function emptyFramerStats(): FramerStats {
  return { bytesIn: 0, frames: 0, frameBytes: 0, bytesDiscarded: 0, errors: { crc: 0, cobs: 0, short: 0, 'too-long': 0, 'kiss-escape': 0, unframed: 0 } }
}
