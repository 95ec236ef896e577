/**
 * The durable spool between the mesh and the gateway's backends (gateway/SPOOL.md). Samples are
 * appended as records with consecutive offsets to segment files; each sink reads through a named
 * cursor whose ack is persisted, so neither a broker outage nor a crash loses an accepted record
 * (delivery is at-least-once: after a crash a cursor re-reads from its last persisted ack).
 *
 * This file is the policy: offsets, cursors, which segments to delete or compact ('drop-oldest',
 * 'refuse', 'latest-per-key'), when to fsync per `SpoolConfig.fsync` (the interval fsync runs on the
 * injected `Scheduler`), stats. The file I/O it asks for — segment files written with one positional
 * `writeSync` per record, files replaced atomically, fsyncs counted — is gateway/spool-segment.ts.
 * Not locked: one process per spool directory.
 */
import * as path from 'node:path'
import { ConfigError, DecodeError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import { CURSOR_NAME, checkKey, cursorFileOf, decodeCursorState, encodeCursorState, encodeSpoolRecord, segmentBaseOf } from './spool-format.ts'
import { validateSpoolConfig, type SpoolConfig } from './spool-defaults.ts'
import { Segment, SpoolDir, ioError } from './spool-segment.ts'
import type { SpoolCursor, SpoolRecord } from './stream-types.ts'

export interface SpoolOptions extends Partial<SpoolConfig> {
  /** Directory of the spool (created if missing). */
  dir: string
  /** Runs the interval fsync; default a RealScheduler whose timers do not keep the process alive. */
  scheduler?: Scheduler
  /** Wall clock for `appendedAt`, ms since the epoch; default `Date.now`. */
  clock?: () => number
}

/** Per cursor: `acked` (in memory), `pending` (retained records at or after it), `persisted` (in its file). */
export interface SpoolCursorStats {
  acked: number
  pending: number
  persisted: number
}

/**
 * `bytes` of segment files, `segments`, retained `records`, `nextOffset`, `oldestOffset`
 * (`nextOffset` when empty). Counters since open: `appended`; `refused`; `droppedRecords` (deleted
 * by 'drop-oldest' before every cursor — with none, anyone — acked them); `compactedRecords`
 * (unacked records 'latest-per-key' removed for a newer one of their key); `truncatedBytes` (torn
 * tail cut from the last segment at open); `skippedBytes` (damage the open scan resynchronised
 * past, left in place); `cursorsReset` (unreadable cursor files: restarted at the oldest record);
 * `fsyncs` (fsync/fdatasync calls on segments, cursor files and the directory).
 */
export interface SpoolStats {
  bytes: number
  segments: number
  records: number
  nextOffset: number
  oldestOffset: number
  appended: number
  refused: number
  droppedRecords: number
  compactedRecords: number
  truncatedBytes: number
  skippedBytes: number
  cursorsReset: number
  fsyncs: number
  /** Background fsyncs (the interval timer) that failed with a disk error; retried next interval. */
  syncErrors: number
  /** The last such error, null once a background fsync succeeded again. */
  lastSyncError: string | null
  cursors: Record<string, SpoolCursorStats>
}

class Cursor implements SpoolCursor {
  /** @internal Next offset `read` hands out. */
  readPos: number
  /** @internal */
  ackedTo: number
  /** @internal The ack in the cursor file. */
  persisted: number
  /** @internal */
  dirty = false
  /** @internal */
  readonly listeners = new Set<() => void>()
  constructor(readonly name: string, private readonly spool: Spool, acked: number) {
    this.readPos = this.ackedTo = this.persisted = acked
  }
  get acked(): number {
    return this.ackedTo
  }
  get pending(): number {
    return this.spool._pending(this)
  }
  read(max: number): SpoolRecord[] {
    return this.spool._read(this, max)
  }
  ack(offset: number): void {
    this.spool._ack(this, offset)
  }
  rewind(): void {
    this.spool._checkOpen(this)
    this.readPos = this.ackedTo
  }
  onAppend(fn: () => void): () => void {
    this.spool._checkOpen()
    if (typeof fn !== 'function') throw new TypeError('onAppend needs a function')
    const own = () => fn()
    this.listeners.add(own)
    return () => void this.listeners.delete(own)
  }
}

export class Spool {
  readonly dir: string
  readonly config: Readonly<SpoolConfig>
  private readonly files: SpoolDir
  private readonly segments: Segment[] = []
  private readonly cursors = new Map<string, Cursor>()
  /** 'latest-per-key': key → offset of its newest record. */
  private readonly latest = new Map<string, number>()
  private next = 0
  private bytes = 0
  private timer: Timer | null = null
  private closed = false
  private notifying = false
  private notifyAgain = false
  private readonly counters = { appended: 0, refused: 0, droppedRecords: 0, compactedRecords: 0, truncatedBytes: 0, skippedBytes: 0, cursorsReset: 0, syncErrors: 0 }
  private lastSyncError: string | null = null

  /** Open (creating or recovering) the spool in `options.dir`. Throws ConfigError naming a bad field. */
  static open(options: SpoolOptions): Spool {
    if (options === null || typeof options !== 'object') throw new ConfigError('spool', 'must be a mapping of fields')
    const { dir, scheduler, clock, ...rest } = options
    if (typeof dir !== 'string' || dir === '') throw new ConfigError('spool.dir', `must be a directory path, got ${JSON.stringify(dir)}`)
    if (clock !== undefined && typeof clock !== 'function') throw new ConfigError('spool.clock', 'must be a function returning ms since the epoch')
    return new Spool(path.resolve(dir), validateSpoolConfig(rest), scheduler ?? new RealScheduler({ unref: true }), clock ?? Date.now)
  }

  private constructor(dir: string, config: SpoolConfig, private readonly scheduler: Scheduler, private readonly clock: () => number) {
    this.dir = dir
    this.config = Object.freeze({ ...config })
    this.files = new SpoolDir(dir)
    try {
      this.files.mkdir()
      this.recover()
    } catch (e) {
      for (const s of this.segments) s.close()
      throw e instanceof SpinmeshError ? e : ioError(`cannot open ${dir}`, e)
    }
  }

  // ---- recovery -------------------------------------------------------------------------------

  private recover(): void {
    const names = this.files.list()
    const segNames = names.filter((n) => segmentBaseOf(n) !== undefined)
    let last = -1
    segNames.forEach((n, i) => {
      const isLast = i === segNames.length - 1
      const before = isLast ? Infinity : segmentBaseOf(segNames[i + 1])!
      const { seg, records, truncatedBytes, skippedBytes } = this.files.loadSegment(n, last, before, isLast, this.config.fsync !== 'never')
      for (const r of records) this.noteKey(r.record.key, r.record.offset, seg)
      this.counters.skippedBytes += skippedBytes
      this.counters.truncatedBytes += truncatedBytes
      if (seg.count > 0) last = seg.offsets[seg.count - 1]
      this.segments.push(seg)
      this.bytes += seg.size
    })
    let maxAck = 0
    for (const n of names) {
      const name = cursorFileOf(n)
      if (name === undefined) continue
      let acked = -1
      try {
        acked = decodeCursorState(this.files.readFile(n))
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e
        this.counters.cursorsReset++
      }
      const c = new Cursor(name, this, Math.max(0, acked))
      c.dirty = acked < 0
      this.cursors.set(c.name, c)
      maxAck = Math.max(maxAck, acked)
    }
    // Offsets are never reused: not below a segment's name or a persisted ack either.
    const lastSeg = this.segments.at(-1)
    this.next = Math.max(last + 1, lastSeg?.base ?? 0, maxAck)
    if (lastSeg === undefined || lastSeg.end < this.next) this.createSegment(this.next)
    else lastSeg.openForAppend()
    this.clampCursors()
    this.gc()
    if (this.files.dirty || [...this.cursors.values()].some((c) => c.dirty)) this.sync(false)
  }

  // ---- append ---------------------------------------------------------------------------------

  /**
   * Append a record; returns its offset, or null when the spool is full and `whenFull` is
   * 'refuse' (or 'latest-per-key' could not make room). RangeError for a key over 255 bytes of
   * UTF-8 or a payload over maxPayloadBytes. Durable per `fsync` when it returns.
   */
  append(key: string, payload: Uint8Array): number | null {
    this._checkOpen()
    checkKey(key)
    if (!(payload instanceof Uint8Array)) throw new TypeError('spool payload must be a Uint8Array')
    if (payload.length > this.config.maxPayloadBytes) {
      throw new RangeError(`spool payload is ${payload.length} bytes; the limit is maxPayloadBytes = ${this.config.maxPayloadBytes}`)
    }
    const offset = this.next
    const rec = encodeSpoolRecord({ offset, key, payload, appendedAt: Math.max(0, Math.floor(this.clock())) })
    let seg = this.active
    if (seg.size > 0 && seg.size + rec.length > this.config.segmentBytes) seg = this.roll()
    if (this.bytes + rec.length > this.config.maxBytes && !this.makeRoom(rec.length)) {
      this.counters.refused++
      return null
    }
    seg.append(offset, rec)
    this.bytes += rec.length
    this.next = offset + 1
    this.counters.appended++
    this.noteKey(key, offset, seg)
    if (this.config.fsync === 'always') this.files.fdatasync(seg.fd)
    else {
      seg.dirty = true
      this.schedule()
    }
    this.notify()
    return offset
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]
  }

  /** Close the active segment (fsynced unless 'never') and start one named by the next offset. */
  private roll(): Segment {
    const old = this.active
    if (old.dirty && this.config.fsync !== 'never') this.files.fdatasync(old.fd)
    old.dirty = false
    old.close()
    const seg = this.createSegment(this.next)
    this.gc()
    return seg
  }

  private createSegment(base: number): Segment {
    const seg = this.files.createSegment(base)
    this.segments.push(seg)
    if (this.config.fsync === 'always') this.files.sync()
    return seg
  }

  /** Free space for `size` more bytes per `whenFull`; false when it cannot. */
  private makeRoom(size: number): boolean {
    const fits = () => this.bytes + size <= this.config.maxBytes
    if (this.config.whenFull === 'refuse') return false
    if (this.config.whenFull === 'drop-oldest') {
      const minAck = this.minAck(false)
      while (!fits() && this.segments.length > 1) {
        const seg = this.segments[0]
        this.counters.droppedRecords += seg.count - seg.lowerBound(minAck)
        this.deleteSegment(seg)
      }
      this.clampCursors()
      return fits()
    }
    // 'latest-per-key'. Aim for a segment of headroom, so compaction runs about once per segment
    // of appends, and first rewrite only segments worth it (a quarter superseded, or acknowledged).
    const goal = () => this.bytes + size + this.config.segmentBytes <= this.config.maxBytes
    const minAck = this.minAck(true)
    const worth = (s: Segment) => s.superseded * 4 >= s.count || (s.count > 0 && s.offsets[0] < minAck)
    for (const pick of [worth, (s: Segment) => s.superseded > 0]) {
      for (const seg of this.segments.slice(0, -1)) {
        if (goal()) return true
        if (pick(seg)) this.compact(seg, minAck)
      }
    }
    return fits()
  }

  /**
   * 'latest-per-key': rewrite a closed segment keeping only the records that are unacknowledged
   * (by every cursor's persisted ack) and the newest of their key. Offsets are kept; the file is
   * replaced atomically (temp file, fsync unless 'never', rename).
   */
  private compact(seg: Segment, minAck: number): void {
    if (seg.superseded === 0 && (seg.count === 0 || seg.offsets[0] >= minAck)) return
    const data = seg.read(0, seg.dataEnd)
    const keep: Array<{ offset: number; at: number; size: number }> = []
    for (let i = 0; i < seg.count; i++) {
      const offset = seg.offsets[i], at = seg.positions[i]
      const { record, size } = seg.decodeAt(data, at)
      const newest = this.latest.get(record.key) === offset
      if (offset >= minAck && newest) keep.push({ offset, at, size })
      else if (offset >= minAck) this.counters.compactedRecords++
      else if (newest) this.latest.delete(record.key)
    }
    seg.superseded = 0
    if (keep.length === seg.count) return
    if (keep.length === 0) return this.deleteSegment(seg)
    const oldSize = seg.size
    this.files.rewriteSegment(seg, data, keep, this.config.fsync !== 'never')
    this.bytes += seg.size - oldSize
    this.schedule()
  }

  private deleteSegment(seg: Segment): void {
    this.files.deleteSegment(seg)
    this.segments.splice(this.segments.indexOf(seg), 1)
    this.bytes -= seg.size
    if (this.latest.size > 0 && seg.count > 0) {
      const lo = seg.offsets[0], hi = seg.end
      for (const [k, o] of this.latest) if (o >= lo && o < hi) this.latest.delete(k)
    }
    this.schedule()
  }

  /** Delete closed segments every cursor's persisted ack has passed (none when there are no cursors). */
  private gc(): void {
    for (const s of this.segments.slice(0, -1)) if (s.count === 0) this.deleteSegment(s) // closed, no valid record
    if (this.cursors.size === 0) return
    const minAck = this.minAck(true)
    while (this.segments.length > 1 && this.segments[0].end <= minAck) this.deleteSegment(this.segments[0])
  }

  /** Lowest ack over the cursors (persisted or in memory); 0 with no cursors (everything unacked). */
  private minAck(persisted: boolean): number {
    if (this.cursors.size === 0) return 0
    let m = Infinity
    for (const c of this.cursors.values()) m = Math.min(m, persisted ? c.persisted : c.ackedTo)
    return m
  }

  /** Move cursors that point before the oldest retained record up to it (records dropped under them). */
  private clampCursors(): void {
    const oldest = this.oldestOffset
    let moved = false
    for (const c of this.cursors.values()) {
      if (c.ackedTo < oldest) c.ackedTo = oldest, c.dirty = moved = true
      if (c.readPos < oldest) c.readPos = oldest
    }
    if (!moved) return
    if (this.config.fsync === 'always') this.persistCursors(true)
    else this.schedule()
  }

  private noteKey(key: string, offset: number, seg: Segment): void {
    if (this.config.whenFull !== 'latest-per-key') return
    const prev = this.latest.get(key)
    if (prev !== undefined) {
      const holder = this.segmentAt(prev)
      if (holder !== undefined) holder.superseded++
      else if (seg.count > 0 && prev >= seg.offsets[0]) seg.superseded++
    }
    this.latest.set(key, offset)
  }

  /** The segment whose offset range holds `offset`. */
  private segmentAt(offset: number): Segment | undefined {
    const i = this.segmentIndex(offset)
    const s = this.segments[i]
    return s !== undefined && offset >= s.base && offset < s.end ? s : undefined
  }

  /** Index of the last segment whose base is <= `offset` (0 when none). */
  private segmentIndex(offset: number): number {
    let lo = 0, hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.segments[mid].base <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  // ---- cursors --------------------------------------------------------------------------------

  /**
   * The cursor named `name` (letters, digits, `.`, `_`, `-`; at most 64; stored as `<name>.cursor`):
   * the same object for the same name while open; resumed from its file after a restart; a new one
   * starts at the oldest retained record.
   */
  cursor(name: string): SpoolCursor {
    this._checkOpen()
    if (typeof name !== 'string' || !CURSOR_NAME.test(name)) {
      throw new RangeError(`cursor name must be 1..64 of letters, digits, '.', '_', '-' (not starting with '.', '_', '-'), got ${JSON.stringify(name)}`)
    }
    let c = this.cursors.get(name)
    if (c === undefined) {
      c = new Cursor(name, this, this.oldestOffset)
      c.dirty = true
      this.cursors.set(name, c)
      if (this.config.fsync === 'always') this.persistCursors(true)
      else this.schedule()
    }
    return c
  }

  /** Forget a cursor and its file (a sink removed for good), so it no longer holds segments. */
  deleteCursor(name: string): void {
    this._checkOpen()
    const c = this.cursors.get(name)
    if (c === undefined) return
    this.cursors.delete(name)
    c.listeners.clear()
    this.files.remove(`${name}.cursor`)
    this.gc()
    this.schedule()
  }

  /** @internal */
  _read(c: Cursor, max: number): SpoolRecord[] {
    this._checkOpen(c)
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`read(max): max must be an integer >= 0, got ${max}`)
    const out: SpoolRecord[] = []
    let budget = this.config.readBatchBytes
    for (let si = this.segmentIndex(c.readPos); out.length < max && si < this.segments.length; si++) {
      const seg = this.segments[si]
      const i = seg.lowerBound(c.readPos)
      let j = i, bytes = 0
      while (j < seg.count && out.length + (j - i) < max) {
        const len = seg.endOf(j) - seg.positions[j]
        if (bytes + len > budget && (out.length > 0 || j > i)) break
        bytes += len
        j++
      }
      if (j === i) {
        if (i < seg.count) break // the byte budget is spent
        continue
      }
      const start = seg.positions[i]
      const data = seg.read(start, seg.endOf(j - 1))
      for (let k = i; k < j; k++) out.push(seg.decodeAt(data, seg.positions[k] - start, start).record)
      budget -= bytes
      c.readPos = seg.offsets[j - 1] + 1
      if (j < seg.count) break
    }
    return out
  }

  /** @internal */
  _ack(c: Cursor, offset: number): void {
    this._checkOpen(c)
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`ack: offset must be an integer >= 0, got ${offset}`)
    if (offset + 1 <= c.ackedTo) return
    if (offset >= c.readPos) {
      throw new RangeError(`ack(${offset}) is beyond what cursor "${c.name}" has read (${c.readPos === 0 ? 'nothing' : `up to ${c.readPos - 1}`})`)
    }
    c.ackedTo = offset + 1
    c.dirty = true
    if (this.config.fsync === 'always') {
      this.persistCursors(true)
      this.gc()
    } else this.schedule()
  }

  /** @internal */
  _pending(c: Cursor): number {
    let n = 0
    for (let si = this.segments.length - 1; si >= 0; si--) {
      const seg = this.segments[si]
      if (seg.end <= c.ackedTo) break
      n += seg.count - seg.lowerBound(c.ackedTo)
    }
    return n
  }

  /** @internal */
  _checkOpen(c?: Cursor): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `spool ${this.dir} is closed`)
    if (c !== undefined && this.cursors.get(c.name) !== c) throw new SpinmeshError(ErrorCodes.CLOSED, `spool cursor "${c.name}" was deleted`)
  }

  /** Call every cursor's onAppend listeners; an append from inside one is reported after this round. */
  private notify(): void {
    if (this.notifying) {
      this.notifyAgain = true
      return
    }
    this.notifying = true
    try {
      do {
        this.notifyAgain = false
        for (const c of this.cursors.values()) {
          if (c.listeners.size === 0) continue
          for (const fn of [...c.listeners]) {
            if (this.closed) return
            try {
              fn()
            } catch (e) {
              queueMicrotask(() => { throw e }) // a listener's bug must not make a stored append look failed
            }
          }
        }
      } while (this.notifyAgain && !this.closed)
    } finally {
      this.notifying = false
    }
  }

  // ---- durability -----------------------------------------------------------------------------

  private schedule(): void {
    if (this.timer !== null || this.closed || this.config.fsync === 'always') return
    this.timer = this.scheduler.at(this.config.fsyncIntervalMs, () => {
      this.timer = null
      if (this.closed) return
      try {
        this.sync(false)
        this.lastSyncError = null
      } catch (e) {
        // A timer has no caller to throw to (it would be an uncaught exception): record the disk
        // error for stats() and try again next interval; appends keep reporting their own errors.
        this.counters.syncErrors++
        this.lastSyncError = (e as Error).message
        this.schedule()
      }
    })
  }

  /**
   * Make appended data and cursor acks durable: fdatasync the active segment, replace dirty cursor
   * files, fsync the directory; then delete segments the persisted acks have passed. `force`
   * fsyncs even under 'never' (flush, close); the timer under 'never' only rewrites cursor files.
   */
  private sync(force: boolean): void {
    const fsync = force || this.config.fsync !== 'never'
    const seg = this.active
    if (seg.dirty && fsync) {
      this.files.fdatasync(seg.fd)
      seg.dirty = false
    }
    this.persistCursors(fsync)
    this.gc()
    if (this.files.dirty && fsync) this.files.sync()
  }

  private persistCursors(fsync: boolean): void {
    for (const c of this.cursors.values()) {
      if (!c.dirty) continue
      this.files.replaceFile(`${c.name}.cursor`, encodeCursorState(c.ackedTo), fsync)
      c.persisted = c.ackedTo
      c.dirty = false
    }
    if (fsync && this.files.dirty && this.config.fsync === 'always') this.files.sync()
  }

  // ---- the rest -------------------------------------------------------------------------------

  /** Offset the next append gets. */
  get nextOffset(): number {
    return this.next
  }

  /** Lowest retained offset (`nextOffset` when the spool is empty). */
  get oldestOffset(): number {
    for (const s of this.segments) if (s.count > 0) return s.offsets[0]
    return this.next
  }

  /** Counters and sizes; also callable after close. */
  stats(): SpoolStats {
    const cursors: Record<string, SpoolCursorStats> = {}
    for (const c of this.cursors.values()) cursors[c.name] = { acked: c.ackedTo, pending: this._pending(c), persisted: c.persisted }
    let records = 0
    for (const s of this.segments) records += s.count
    return { bytes: this.bytes, segments: this.segments.length, records, nextOffset: this.next, oldestOffset: this.oldestOffset, ...this.counters, fsyncs: this.files.fsyncs, lastSyncError: this.lastSyncError, cursors }
  }

  /** fsync appended data, cursor files and the directory now, whatever the policy. */
  flush(): void {
    this._checkOpen()
    this.sync(true)
  }

  /** Flush, stop the timer, close files. Later calls (but stats and close) throw ERR_CLOSED. */
  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.timer?.cancel()
    this.timer = null
    for (const s of this.segments) s.close()
    for (const c of this.cursors.values()) c.listeners.clear()
  }
}
