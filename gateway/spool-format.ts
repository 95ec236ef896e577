/**
 * The spool's on-disk codecs (gateway/SPOOL.md §2–3): one record in a segment file, the scan that
 * recovers a segment after a crash, and the small cursor file. Big-endian, like every spinmesh
 * format. A record:
 *
 *   magic 'S' 'P' | crc u32 | version u8 (1) | keyLen u8 | length u32 |
 *   offset (hi u32, lo u32) | appendedAt ms (hi u32, lo u32) | key | payload     (28 bytes + key + payload)
 *
 * `length` is the whole record; `crc` is CRC-32/ISO-HDLC (firmware-bridge/crc32.ts) of every byte
 * after it (version to the end of the payload), so a torn or corrupt record is detected whatever
 * field was hit. The magic lets a scan resynchronise after a damaged region. The decoders are
 * total: any bytes give a value or a `DecodeError`, never another exception; a decoded payload is a
 * view into the input, and a record is at most `MAX_RECORD_SIZE` bytes.
 */
import { getU32, putU32 } from '../core/bytes.ts'
import { DecodeError } from '../core/errors.ts'
import { crc32 } from '../firmware-bridge/crc32.ts'
import type { SpoolRecord } from './stream-types.ts'

/** First two bytes of every record: 'S' 'P'. */
export const RECORD_MAGIC = Uint8Array.of(0x53, 0x50)
/** First two bytes of a cursor file: 'S' 'C'. */
export const CURSOR_MAGIC = Uint8Array.of(0x53, 0x43)
/** The record and cursor file layout version this build writes and reads. */
export const SPOOL_FORMAT_VERSION = 1
export const RECORD_HEADER_SIZE = 28
/** A key is at most this many bytes of UTF-8 (its length is one byte). */
export const MAX_KEY_BYTES = 255
/** A payload is at most 1 MiB. */
export const MAX_PAYLOAD_BYTES = 1 << 20
export const MAX_RECORD_SIZE = RECORD_HEADER_SIZE + MAX_KEY_BYTES + MAX_PAYLOAD_BYTES
export const CURSOR_FILE_SIZE = 16

const TWO_32 = 0x1_0000_0000
/** High word of Number.MAX_SAFE_INTEGER: offsets and times above 2^53 − 1 are refused. */
const MAX_HI = 0x1f_ffff
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Bytes a record with a key of `keyBytes` and a payload of `payloadBytes` takes on disk. */
export function recordSize(keyBytes: number, payloadBytes: number): number {
  return RECORD_HEADER_SIZE + keyBytes + payloadBytes
}

/**
 * The UTF-8 length of a record key, checked: a string of well-formed UTF-16 (a lone surrogate
 * would not survive the round trip) of at most `MAX_KEY_BYTES` bytes.
 */
export function checkKey(key: unknown): number {
  if (typeof key !== 'string') throw new TypeError(`spool key must be a string, got ${typeof key}`)
  const n = Buffer.byteLength(key, 'utf8')
  if (n > MAX_KEY_BYTES) throw new RangeError(`spool key is ${n} bytes of UTF-8; the limit is ${MAX_KEY_BYTES} bytes (MAX_KEY_BYTES)`)
  if (LONE_SURROGATE.test(key)) throw new TypeError('spool key contains a lone surrogate (not representable in UTF-8)')
  return n
}

function checkU53(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`spool record ${what} must be an integer in 0..2^53-1, got ${v}`)
}

function putU53(b: Uint8Array, at: number, v: number): void {
  putU32(b, at, Math.floor(v / TWO_32))
  putU32(b, at + 4, v % TWO_32)
}

/** Encode one record. Throws TypeError/RangeError (naming the limit) for a value it cannot hold. */
export function encodeSpoolRecord(r: SpoolRecord): Uint8Array {
  checkU53('offset', r.offset)
  checkU53('appendedAt', r.appendedAt)
  checkKey(r.key)
  if (!(r.payload instanceof Uint8Array)) throw new TypeError('spool payload must be a Uint8Array')
  if (r.payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`spool payload is ${r.payload.length} bytes; the limit is ${MAX_PAYLOAD_BYTES} bytes (MAX_PAYLOAD_BYTES)`)
  }
  const key = utf8.encode(r.key)
  const length = recordSize(key.length, r.payload.length)
  const b = new Uint8Array(length)
  b.set(RECORD_MAGIC, 0)
  b[6] = SPOOL_FORMAT_VERSION
  b[7] = key.length
  putU32(b, 8, length)
  putU53(b, 12, r.offset)
  putU53(b, 20, r.appendedAt)
  b.set(key, RECORD_HEADER_SIZE)
  b.set(r.payload, RECORD_HEADER_SIZE + key.length)
  putU32(b, 2, crc32(b.subarray(6)))
  return b
}

export interface DecodedRecord {
  record: SpoolRecord
  /** Bytes the record took: the next one starts at `at + size`. */
  size: number
}

/**
 * Decode the record that starts at `at` in `bytes` (bytes after it are ignored). Returns it, or
 * throws `DecodeError` (truncated, bad magic, version, length, CRC, offset or key); nothing else.
 */
export function decodeSpoolRecord(bytes: Uint8Array, at = 0): DecodedRecord {
  const left = bytes.length - at
  if (left < RECORD_HEADER_SIZE) {
    throw new DecodeError(`spool record truncated: header needs ${RECORD_HEADER_SIZE} bytes at ${at}, ${Math.max(0, left)} left`, at)
  }
  if (bytes[at] !== RECORD_MAGIC[0] || bytes[at + 1] !== RECORD_MAGIC[1]) throw new DecodeError(`spool record: no magic 'SP' at ${at}`, at)
  const version = bytes[at + 6]
  if (version !== SPOOL_FORMAT_VERSION) throw new DecodeError(`spool record: version ${version} at ${at} (this build reads ${SPOOL_FORMAT_VERSION})`, at)
  const keyLen = bytes[at + 7]
  const length = getU32(bytes, at + 8)
  if (length < RECORD_HEADER_SIZE + keyLen) throw new DecodeError(`spool record: length ${length} at ${at} is shorter than its header and ${keyLen}-byte key`, at)
  if (length > MAX_RECORD_SIZE) throw new DecodeError(`spool record: length ${length} at ${at} is over the limit ${MAX_RECORD_SIZE}`, at)
  if (length > left) throw new DecodeError(`spool record truncated: ${length} bytes at ${at}, ${left} left`, at)
  const crc = crc32(bytes.subarray(at + 6, at + length))
  if (crc !== getU32(bytes, at + 2)) throw new DecodeError(`spool record: CRC mismatch at ${at}`, at)
  const offHi = getU32(bytes, at + 12)
  const timeHi = getU32(bytes, at + 20)
  if (offHi > MAX_HI || timeHi > MAX_HI) throw new DecodeError(`spool record: offset or time above 2^53 at ${at}`, at)
  const keyStart = at + RECORD_HEADER_SIZE
  let key: string
  try {
    key = strictUtf8.decode(bytes.subarray(keyStart, keyStart + keyLen))
  } catch {
    throw new DecodeError(`spool record: key at ${at} is not UTF-8`, at)
  }
  return {
    record: {
      offset: offHi * TWO_32 + getU32(bytes, at + 16),
      key,
      payload: bytes.subarray(keyStart + keyLen, at + length),
      appendedAt: timeHi * TWO_32 + getU32(bytes, at + 24),
    },
    size: length,
  }
}

export interface ScannedRecord extends DecodedRecord {
  /** Where the record starts in the scanned bytes. */
  at: number
}

export interface ScanResult {
  /** Every valid record, in file order (offsets strictly increasing). */
  records: ScannedRecord[]
  /** Damaged regions the scan resynchronised past: a valid record follows each. */
  skipped: Array<{ at: number; size: number; reason: string }>
  /** Start of the trailing bytes that hold no valid record (`bytes.length` when there are none). */
  tail: number
  /** Why the tail is invalid (the decode error at `tail`), when there is one. */
  tailReason?: string
}

export interface ScanOptions {
  /** Every record's offset must be above this (the last offset of the segment before). Default −1. */
  after?: number
  /** ... and below this (the next segment's first offset). Default: no bound. */
  before?: number
}

/**
 * Recover the records of a segment file. Walks record by record; at bytes that are not a valid
 * record (or whose offset is not above the previous one and below `before`) it searches forward
 * for the next magic that starts a valid record and reports the region in between as `skipped`;
 * when no valid record follows, the rest is the invalid `tail` (a torn write). Total: never throws.
 */
export function scanSpoolRecords(bytes: Uint8Array, opts: ScanOptions = {}): ScanResult {
  let last = opts.after ?? -1
  const before = opts.before ?? Infinity
  const records: ScannedRecord[] = []
  const skipped: ScanResult['skipped'] = []
  const tryAt = (at: number): DecodedRecord | string => {
    try {
      const d = decodeSpoolRecord(bytes, at)
      const o = d.record.offset
      if (o <= last || o >= before) return `spool record: offset ${o} at ${at} is out of order (after ${last}${before === Infinity ? '' : `, before ${before}`})`
      return d
    } catch (e) {
      if (e instanceof DecodeError) return e.message
      throw e
    }
  }
  let pos = 0
  while (pos < bytes.length) {
    let d = tryAt(pos)
    if (typeof d === 'string') {
      const reason = d
      let q = pos + 1
      for (; q + RECORD_HEADER_SIZE <= bytes.length; q++) {
        if (bytes[q] !== RECORD_MAGIC[0] || bytes[q + 1] !== RECORD_MAGIC[1]) continue
        d = tryAt(q)
        if (typeof d !== 'string') break
      }
      if (typeof d === 'string') return { records, skipped, tail: pos, tailReason: reason }
      skipped.push({ at: pos, size: q - pos, reason })
      pos = q
    }
    records.push({ record: d.record, size: d.size, at: pos })
    last = d.record.offset
    pos += d.size
  }
  return { records, skipped, tail: bytes.length }
}

/** A segment file is named by its first offset, 20 decimal digits: `00000000000000004096.seg`. */
export function segmentFileName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`
}

/** The first offset a segment file name stands for; undefined for other names. */
export function segmentBaseOf(fileName: string): number | undefined {
  return /^\d{20}\.seg$/.test(fileName) ? Number(fileName.slice(0, 20)) : undefined
}

/** A cursor name: 1..64 of letters, digits, '.', '_', '-', not starting with '.', '_', '-'. Its file is `<name>.cursor`. */
export const CURSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The cursor a file name belongs to; undefined for other names. */
export function cursorFileOf(fileName: string): string | undefined {
  const name = fileName.endsWith('.cursor') ? fileName.slice(0, -'.cursor'.length) : ''
  return CURSOR_NAME.test(name) ? name : undefined
}

/**
 * Where a segment file's records are: the offset and byte position of each, in file order (offsets
 * strictly increasing; gaps after compaction). Built from a scan, extended by appends.
 */
export class RecordIndex {
  offsets = new Float64Array(64)
  positions = new Float64Array(64)
  count = 0
  /** End of the last record (damaged bytes skipped after it are not included). */
  dataEnd = 0

  push(offset: number, at: number, end: number): void {
    if (this.count === this.offsets.length) {
      const o = new Float64Array(this.count * 2), p = new Float64Array(this.count * 2)
      o.set(this.offsets)
      p.set(this.positions)
      this.offsets = o
      this.positions = p
    }
    this.offsets[this.count] = offset
    this.positions[this.count++] = at
    this.dataEnd = end
  }
  /** Index of the first record whose offset is >= `o` (`count` when none). */
  lowerBound(o: number): number {
    let lo = 0, hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.offsets[mid] < o) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  /** Where record `i`'s bytes end for reading: the next record's start (or `dataEnd` for the last). */
  endOf(i: number): number {
    return i + 1 < this.count ? this.positions[i + 1] : this.dataEnd
  }
}

/**
 * A cursor file (16 bytes): magic 'S' 'C' | version u8 (1) | reserved u8 (0) | acked (hi u32, lo u32)
 * | crc u32 of the 12 bytes before it. `acked`: every offset below it is acknowledged.
 */
export function encodeCursorState(acked: number): Uint8Array {
  checkU53('cursor ack', acked)
  const b = new Uint8Array(CURSOR_FILE_SIZE)
  b.set(CURSOR_MAGIC, 0)
  b[2] = SPOOL_FORMAT_VERSION
  putU53(b, 4, acked)
  putU32(b, 12, crc32(b.subarray(0, 12)))
  return b
}

/** The `acked` of a cursor file, or `DecodeError`; nothing else. */
export function decodeCursorState(bytes: Uint8Array): number {
  if (bytes.length !== CURSOR_FILE_SIZE) throw new DecodeError(`cursor file is ${bytes.length} bytes, expected ${CURSOR_FILE_SIZE}`, 0)
  if (bytes[0] !== CURSOR_MAGIC[0] || bytes[1] !== CURSOR_MAGIC[1]) throw new DecodeError("cursor file: no magic 'SC'", 0)
  if (bytes[2] !== SPOOL_FORMAT_VERSION) throw new DecodeError(`cursor file: version ${bytes[2]} (this build reads ${SPOOL_FORMAT_VERSION})`, 2)
  if (bytes[3] !== 0) throw new DecodeError('cursor file: reserved byte is not 0', 3)
  if (crc32(bytes.subarray(0, 12)) !== getU32(bytes, 12)) throw new DecodeError('cursor file: CRC mismatch', 12)
  const hi = getU32(bytes, 4)
  if (hi > MAX_HI) throw new DecodeError('cursor file: ack above 2^53', 4)
  return hi * TWO_32 + getU32(bytes, 8)
}
