/**
 * The spool directory's files (gateway/SPOOL.md §2, §5, §6): segment files — created, scanned at
 * open (a torn tail of the last one cut off), appended to, read by byte range, rewritten by
 * compaction, deleted — and the atomic replacement of small files (cursor files, compacted
 * segments), with every fsync/fdatasync counted. What to keep, when to fsync and which segment
 * to append to is the Spool's policy (gateway/spool.ts); this module only does the I/O it asks for.
 *
 * Synchronous node:fs I/O: one positional `writeSync` per record (a crash tears at most the record
 * being written, truncated on the next open); files replaced atomically (write a temp file, rename).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { RecordIndex, decodeSpoolRecord, scanSpoolRecords, segmentBaseOf, segmentFileName, type DecodedRecord, type ScannedRecord } from './spool-format.ts'

/** Platforms where a directory cannot be fsynced report these; there is nothing more to do. */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'])

/** A disk error as the spool reports it: `ERR_IO`, naming what failed. */
export function ioError(what: string, e: unknown): SpinmeshError {
  return new SpinmeshError(ErrorCodes.IO, `spool: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
}

/** One segment file: named by `base`, the first offset it may hold; `size` counts against maxBytes. */
export class Segment extends RecordIndex {
  size = 0
  /** Records known to have a newer record with the same key ('latest-per-key' bookkeeping). */
  superseded = 0
  /** Open descriptor (the active segment only), or -1. */
  fd = -1
  /** Written since its last fdatasync. */
  dirty = false
  constructor(readonly base: number, readonly file: string) {
    super()
  }
  /** Offset after the last record (the base when empty). */
  get end(): number {
    return this.count > 0 ? this.offsets[this.count - 1] + 1 : this.base
  }

  /** Write encoded record `rec` (offset `offset`) at the end of the file and index it. ERR_IO on failure. */
  append(offset: number, rec: Uint8Array): void {
    try {
      const n = fs.writeSync(this.fd, rec, 0, rec.length, this.size)
      if (n !== rec.length) throw new Error(`short write (${n} of ${rec.length} bytes)`)
    } catch (e) {
      // Positional writes: the next append overwrites a partial record; the open scan cuts one left at a crash.
      try { fs.ftruncateSync(this.fd, this.size) } catch { /* the write error below is the one to report */ }
      throw ioError(`writing ${this.file} failed`, e)
    }
    this.push(offset, this.size, this.size + rec.length)
    this.size += rec.length
  }

  /** Bytes `from` … `to` of the file (opened for the call when this segment is closed). */
  read(from: number, to: number): Uint8Array {
    const buf = new Uint8Array(to - from)
    const fd = this.fd >= 0 ? this.fd : fs.openSync(this.file, 'r')
    try {
      let got = 0
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, from + got)
        if (n === 0) throw new SpinmeshError(ErrorCodes.IO, `spool: ${this.file} is shorter than its index (${from + got} < ${to}): changed behind the spool's back`)
        got += n
      }
    } finally {
      if (fd !== this.fd) fs.closeSync(fd)
    }
    return buf
  }

  /** Decode the indexed record at `at` in `data` (read from file byte `fileStart`); ERR_IO if it no longer decodes. */
  decodeAt(data: Uint8Array, at: number, fileStart = 0): DecodedRecord {
    try {
      return decodeSpoolRecord(data, at)
    } catch (e) {
      throw new SpinmeshError(ErrorCodes.IO, `spool: segment ${this.file} changed on disk since it was opened, at byte ${fileStart + at}: ${(e as Error).message}`, { cause: e })
    }
  }

  /** Open the file for appending (the active segment found at open). */
  openForAppend(): void {
    this.fd = fs.openSync(this.file, 'r+')
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }
}

/** A segment read at open, with what its scan found. */
export interface LoadedSegment {
  seg: Segment
  /** Its valid records, in file order (already indexed in `seg`). */
  records: ScannedRecord[]
  /** Torn or corrupt tail cut from the file. */
  truncatedBytes: number
  /** Damage the scan resynchronised past, left in place. */
  skippedBytes: number
}

/** The files in a spool directory: segments, cursor files, temp files; counts its fsyncs. */
export class SpoolDir {
  /** fsync/fdatasync calls so far (segments, replaced files, the directory). */
  fsyncs = 0
  /** Names created, renamed or deleted since the directory was last fsynced. */
  dirty = false
  constructor(readonly dir: string) {}

  /** Create the directory if missing. */
  mkdir(): void {
    fs.mkdirSync(this.dir, { recursive: true })
  }

  /** The directory's file names, sorted; leftover `*.tmp` files (interrupted replacements) are deleted. */
  list(): string[] {
    const names = fs.readdirSync(this.dir).sort()
    for (const n of names) if (n.endsWith('.tmp')) fs.unlinkSync(path.join(this.dir, n)) // an interrupted compaction or cursor write
    return names
  }

  readFile(name: string): Uint8Array {
    return fs.readFileSync(path.join(this.dir, name))
  }

  /** Delete `name` if it exists. */
  remove(name: string): void {
    fs.rmSync(path.join(this.dir, name), { force: true })
    this.dirty = true
  }

  /** Replace `name` atomically with `bytes` (temp file, fsync when `fsync`, rename). */
  replaceFile(name: string, bytes: Uint8Array, fsync: boolean): void {
    const file = path.join(this.dir, name)
    this.writeFile(file + '.tmp', bytes, fsync)
    fs.renameSync(file + '.tmp', file)
    this.dirty = true
  }

  /**
   * Read and index segment file `name` at open: records must have offsets above `last` (the last
   * offset of the segment before) and below `before` (the next segment's name). With `isLast`, a
   * tail holding no valid record is cut off (fdatasynced when `sync`); otherwise it is skipped.
   */
  loadSegment(name: string, last: number, before: number, isLast: boolean, sync: boolean): LoadedSegment {
    const file = path.join(this.dir, name)
    const base = segmentBaseOf(name)!
    if (!Number.isSafeInteger(base)) throw new SpinmeshError(ErrorCodes.IO, `spool: segment ${file} is named by an offset above 2^53`)
    const seg = new Segment(base, file)
    const buf = fs.readFileSync(file)
    const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length) // plain views: Buffer#subarray is slower
    const scan = scanSpoolRecords(data, { after: Math.max(last, base - 1), before })
    for (const r of scan.records) seg.push(r.record.offset, r.at, r.at + r.size)
    let skippedBytes = 0, truncatedBytes = 0
    for (const s of scan.skipped) skippedBytes += s.size
    if (isLast && scan.tail < data.length) {
      const fd = fs.openSync(file, 'r+')
      try {
        fs.ftruncateSync(fd, scan.tail)
        if (sync) this.fdatasync(fd)
      } finally {
        fs.closeSync(fd)
      }
      truncatedBytes = data.length - scan.tail
      seg.size = scan.tail
    } else {
      skippedBytes += data.length - scan.tail
      seg.size = data.length
    }
    return { seg, records: scan.records, truncatedBytes, skippedBytes }
  }

  /** Create the empty segment named by `base`, open for appending. */
  createSegment(base: number): Segment {
    const seg = new Segment(base, path.join(this.dir, segmentFileName(base)))
    seg.fd = fs.openSync(seg.file, 'wx+')
    this.dirty = true
    return seg
  }

  /**
   * Replace `seg`'s file atomically (temp file, fsync when `fsync`, rename) with the records
   * `keep` (positions in `data`, the file's bytes), and re-index it; offsets are kept.
   */
  rewriteSegment(seg: Segment, data: Uint8Array, keep: Array<{ offset: number; at: number; size: number }>, fsync: boolean): void {
    let kept = 0
    for (const r of keep) kept += r.size
    const out = new Uint8Array(kept)
    let w = 0
    for (const r of keep) {
      out.set(data.subarray(r.at, r.at + r.size), w)
      r.at = w
      w += r.size
    }
    this.replaceFile(path.basename(seg.file), out, fsync)
    seg.count = 0
    for (const r of keep) seg.push(r.offset, r.at, r.at + r.size)
    seg.size = out.length
  }

  /** Close and delete `seg`'s file. */
  deleteSegment(seg: Segment): void {
    seg.close()
    fs.unlinkSync(seg.file)
    this.dirty = true
  }

  fdatasync(fd: number): void {
    fs.fdatasyncSync(fd)
    this.fsyncs++
  }

  /** fsync the directory, so created, renamed and deleted names survive a power loss. */
  sync(): void {
    this.dirty = false
    let fd = -1
    try {
      fd = fs.openSync(this.dir, 'r')
      fs.fsyncSync(fd)
      this.fsyncs++
    } catch (e) {
      if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e
    } finally {
      if (fd >= 0) fs.closeSync(fd)
    }
  }

  private writeFile(file: string, bytes: Uint8Array, fsync: boolean): void {
    const fd = fs.openSync(file, 'w')
    try {
      fs.writeSync(fd, bytes)
      if (fsync) {
        fs.fsyncSync(fd)
        this.fsyncs++
      }
    } finally {
      fs.closeSync(fd)
    }
  }
}
