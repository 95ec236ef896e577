/**
 * COBS + CRC-32 framing for transparent serial links (UART LoRa modules such as Ebyte E22/E32 and
 * HC-12, custom radio firmware): one frame is
 *
 *     COBS(payload ‖ CRC-32(payload) little-endian) ‖ 0x00
 *
 * (FRAMING.md §1). The receiver is an incremental COBS decoder writing straight into one
 * preallocated buffer of maxFrame + 4 bytes: nothing is copied twice and nothing grows. A 0x00
 * always ends the frame in progress; 0x00 with nothing in progress is idle fill, so a sender may
 * also send a lone 0x00 to make the receiver start fresh (after opening the port, or after it
 * abandoned a write mid-frame).
 */
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts'
import { CRC32_LENGTH, crc32, getCrc32LE, putCrc32LE } from './crc32.ts'
import { validateFramerConfig, type FramerConfigInput } from './framer-defaults.ts'
import { emptyFramerStats, type DataFrameEvent, type FrameErrorCode, type FrameEvent, type Framer, type FramerStats } from './framer-types.ts'

/** The frame delimiter. */
export const COBS_DELIMITER = 0x00

/** Bytes on the wire for a payload of `n` bytes, at most (COBS worst case + CRC + delimiter). */
export function cobsFrameMaxLength(n: number): number {
  return cobsMaxEncodedLength(n + CRC32_LENGTH) + 1
}

/** The wire bytes of one frame (a fresh array). `payload` must have 1 … maxFrame bytes (not checked here). */
export function encodeCobsFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length
  const body = new Uint8Array(n + CRC32_LENGTH)
  body.set(payload)
  putCrc32LE(body, n, crc32(payload))
  const out = new Uint8Array(cobsFrameMaxLength(n))
  const end = cobsEncodeInto(body, out)
  out[end] = COBS_DELIMITER
  return out.subarray(0, end + 1)
}

export class CobsFramer implements Framer {
  readonly maxFrame: number
  readonly stats: FramerStats = emptyFramerStats()
  /** Decoded bytes of the frame in progress: payload then CRC. */
  private readonly buf: Uint8Array
  private len = 0
  /** Input bytes of the frame in progress (delimiters excluded). */
  private raw = 0
  /** Data bytes still expected in the current COBS block (0: the next byte is a code byte). */
  private block = 0
  /** The block just finished implies a zero if another block follows (its code was < 0xFF). */
  private zeroOwed = false
  /** Set when the frame in progress is already lost: the reason, reported at the next delimiter. */
  private discarding: FrameErrorCode | undefined

  constructor(config: FramerConfigInput = {}) {
    this.maxFrame = validateFramerConfig(config).maxFrame
    this.buf = new Uint8Array(this.maxFrame + CRC32_LENGTH)
  }

  get buffered(): number {
    return this.len
  }

  push(chunk: Uint8Array): Array<FrameEvent> {
    const events: Array<FrameEvent> = []
    const buf = this.buf
    const cap = buf.length
    let { len, raw, block, zeroOwed, discarding } = this
    const n = chunk.length
    this.stats.bytesIn += n
    for (let i = 0; i < n; i++) {
      const b = chunk[i]
      if (b === COBS_DELIMITER) {
        if (raw > 0) {
          const ev = discarding ?? (block > 0 ? 'cobs' : this.finish(len, raw, events))
          if (ev !== undefined) this.error(events, ev, raw)
        }
        len = 0
        raw = 0
        block = 0
        zeroOwed = false
        discarding = undefined
        continue
      }
      raw++
      if (discarding !== undefined) continue
      if (block > 0) {
        if (len === cap) discarding = 'too-long'
        else buf[len++] = b
        block--
        // Copy the rest of the block in one go while it lies in this chunk and holds no delimiter.
        if (block > 0 && discarding === undefined) {
          let end = i + 1 + block
          if (end > n) end = n
          const room = cap - len
          if (end - (i + 1) > room) end = i + 1 + room
          let j = i + 1
          while (j < end && chunk[j] !== COBS_DELIMITER) buf[len++] = chunk[j++]
          const copied = j - (i + 1)
          raw += copied
          block -= copied
          i = j - 1
        }
      } else {
        if (zeroOwed) {
          if (len === cap) {
            discarding = 'too-long'
            continue
          }
          buf[len++] = 0
        }
        block = b - 1
        zeroOwed = b < 0xff
      }
    }
    this.len = len
    this.raw = raw
    this.block = block
    this.zeroOwed = zeroOwed
    this.discarding = discarding
    return events
  }

  reset(): void {
    this.len = 0
    this.raw = 0
    this.block = 0
    this.zeroOwed = false
    this.discarding = undefined
  }

  encode(payload: Uint8Array): Uint8Array {
    if (payload.length > this.maxFrame) {
      throw new SpinmeshError(ErrorCodes.FRAME_TOO_LARGE, `payload of ${payload.length} bytes exceeds maxFrame (${this.maxFrame})`)
    }
    if (payload.length === 0) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'a COBS frame carries at least 1 payload byte')
    return encodeCobsFrame(payload)
  }

  /** A complete decoded frame of `len` bytes: push the frame, or return why it is refused. */
  private finish(len: number, raw: number, events: Array<FrameEvent>): FrameErrorCode | undefined {
    if (len < CRC32_LENGTH + 1) return 'short'
    const n = len - CRC32_LENGTH
    if (crc32(this.buf.subarray(0, n)) !== getCrc32LE(this.buf, n)) return 'crc'
    const ev: DataFrameEvent = { kind: 'frame', payload: this.buf.slice(0, n) }
    events.push(ev)
    this.stats.frames++
    this.stats.frameBytes += raw
    return undefined
  }

  private error(events: Array<FrameEvent>, code: FrameErrorCode, skipped: number): void {
    events.push({ kind: 'error', code, skipped })
    this.stats.errors[code]++
    this.stats.bytesDiscarded += skipped
  }
}
