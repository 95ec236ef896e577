/**
 * Tunables of the durable spool (gateway/spool.ts, gateway/SPOOL.md), with defaults and their
 * trade-offs. Validate with `validateSpoolConfig(partial, path = 'spool')`: defaults filled in, a
 * `ConfigError` whose `path` names the field (`spool.segmentBytes: must be >= 1024, got 10`) for a
 * bad value, an unknown field, or fields that do not fit together.
 */
import { ConfigError } from '../core/errors.ts'
import { checkOneOf, validateFields, type FieldRule } from '../core/validate.ts'
import { MAX_KEY_BYTES, MAX_PAYLOAD_BYTES, recordSize } from './spool-format.ts'

export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number]
export const WHEN_FULL_POLICIES = ['drop-oldest', 'refuse', 'latest-per-key'] as const
export type WhenFullPolicy = (typeof WHEN_FULL_POLICIES)[number]

const MiB = 1024 * 1024

export interface SpoolConfig {
  /**
   * Disk the spool may use: the sum of its segment files (cursor files, 16 bytes each, are not
   * counted). What a broker outage can buffer: 256 MiB holds ≈ 1 M records of 200-byte payloads,
   * days of a busy mesh. Must be at least 2 × segmentBytes and hold one record of maxPayloadBytes.
   */
  maxBytes: number
  /**
   * A segment file is closed and a new one started when the next record would take it past this
   * (a record larger than it gets a segment of its own). Space is freed a segment at a time, so
   * smaller segments free space sooner and drop less under 'drop-oldest', at the cost of more
   * files and one fsync per segment roll. 1 KiB..1 GiB.
   */
  segmentBytes: number
  /**
   * When appended data and cursor acks reach the disk. 'always': before append/ack return (a power
   * loss loses nothing acknowledged; each append costs an fdatasync). 'interval': within
   * fsyncIntervalMs (a power loss loses at most that window of appends, and acks of it are
   * re-delivered). 'never': the OS decides (typically ≤ 30 s on Linux). A process crash (kill -9)
   * loses nothing appended under any policy: the data is in the page cache.
   */
  fsync: FsyncPolicy
  /**
   * Under 'interval', the longest a dirty segment or cursor waits for its fsync; under 'never',
   * how often cursor files are rewritten (without fsync). Shorter = less lost on power loss, more
   * fsyncs (at most one per segment, cursor and directory per interval, none when idle).
   */
  fsyncIntervalMs: number
  /**
   * What an append does when it would take the spool past maxBytes. 'drop-oldest': delete the
   * oldest segment even if unacknowledged (cursors skip past it; counted `droppedRecords`) — keeps
   * the newest data, right for live telemetry. 'refuse': append returns null (counted `refused`)
   * — keeps the oldest, right when a gap is worse than back-pressure. 'latest-per-key': rewrite
   * older segments keeping only the newest unacknowledged record of each key (offsets kept;
   * counted `compactedRecords`), refusing when that is not enough — right for state-like feeds
   * where only the last value matters.
   */
  whenFull: WhenFullPolicy
  /** Largest payload append accepts (RangeError above it): 1 byte..1 MiB (the format's limit). */
  maxPayloadBytes: number
  /**
   * A cursor's read(max) stops before this many bytes of records (returning at least one record),
   * so a large `max` over large payloads does not read hundreds of MiB at once. 4 KiB..1 GiB.
   */
  readBatchBytes: number
}

export const DEFAULT_SPOOL_CONFIG: Readonly<SpoolConfig> = Object.freeze({
  maxBytes: 256 * MiB,
  segmentBytes: 4 * MiB,
  fsync: 'interval',
  fsyncIntervalMs: 200,
  whenFull: 'drop-oldest',
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  readBatchBytes: 4 * MiB,
})

export type SpoolConfigInput = Partial<SpoolConfig>

const RULES: { [K in keyof SpoolConfig]: FieldRule } = {
  maxBytes: { integer: true, min: 2048, max: 2 ** 50 },
  segmentBytes: { integer: true, min: 1024, max: 1024 * MiB },
  fsync: (path, v) => void checkOneOf(path, v, FSYNC_POLICIES),
  fsyncIntervalMs: { min: 1, max: 3_600_000 },
  whenFull: (path, v) => void checkOneOf(path, v, WHEN_FULL_POLICIES),
  maxPayloadBytes: { integer: true, min: 1, max: MAX_PAYLOAD_BYTES },
  readBatchBytes: { integer: true, min: 4096, max: 1024 * MiB },
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateSpoolConfig(partial: unknown = {}, path = 'spool'): SpoolConfig {
  const c = validateFields(path, partial, DEFAULT_SPOOL_CONFIG, RULES) as SpoolConfig
  if (c.maxBytes < 2 * c.segmentBytes) {
    throw new ConfigError(`${path}.maxBytes`, `must be at least 2 × segmentBytes (${2 * c.segmentBytes}), got ${c.maxBytes}`)
  }
  const largest = recordSize(MAX_KEY_BYTES, c.maxPayloadBytes)
  if (c.maxBytes < largest) {
    throw new ConfigError(`${path}.maxBytes`, `must hold one record of maxPayloadBytes (${largest} bytes with a 255-byte key), got ${c.maxBytes}`)
  }
  return c
}
