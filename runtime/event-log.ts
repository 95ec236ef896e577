/**
 * A node's event log (issue 10): JSON lines in `<dir>/<address as 8 hex>.jsonl`, one event a line,
 * `{t, wall, node, ev, ...fields}` (field-tests/field-test-types.ts LogEvent): `t` the monotonic
 * clock (performance.now: ms since the process started), `wall` Date.now(). Byte fields are written
 * as their length.
 *
 * Bounded on disk: when a line would take the file past `maxBytes` the file is renamed `.1` (older
 * ones shift, `.1` → `.2` …; `files` old files are kept, older ones deleted) and a new one begun.
 * A log opened where a file already is (a restarted node) rotates it too. Every file starts with a
 * `log-start` line `{name?, address, version, monoStartMs}` (monoStartMs: `t` when this log was
 * opened), so any file alone maps its `t` to wall time.
 *
 * Bounded in memory: events are buffered and written (synchronous writes on one fd) at least every
 * `flushMs` (200 ms), whenever 64 KiB (or half the buffer) are waiting, and on close. While the
 * disk refuses writes (full, gone, read-only), events wait up to `bufferBytes`; beyond that they
 * are dropped and counted, and a `log-dropped {count}` line marks the gap once the log takes
 * events again. A disk error never reaches the caller: it is counted (`stats()`), and a new file
 * is begun (the directory made again) at the next flush. A directory removed under the log is
 * noticed at the next rotation: what was written to the removed file until then is gone with it.
 */
import * as fs from 'node:fs'
import { join } from 'node:path'
import { formatNodeAddress, type Addr } from '../core/addr.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'

/** Where a component's events go: an EventLog's `log`, or a test's array. */
export type EventSink = (ev: string, fields?: Record<string, unknown>) => void

export const EVENT_LOG_DEFAULTS = { maxBytes: 8 * 1024 * 1024, files: 5, bufferBytes: 1024 * 1024, flushMs: 200 }

/** Waiting bytes that trigger a write before the flush timer. */
const EAGER_FLUSH_BYTES = 64 * 1024
/** Keys every line has; an event's fields of the same name are left out. */
const RESERVED = new Set(['t', 'wall', 'node', 'ev'])

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}
const VERSION = packageVersion()

export interface EventLogOptions {
  dir: string
  address: Addr
  name?: string
  /** Largest file, bytes (one line longer than that gets a file of its own). */
  maxBytes?: number
  /** Rotated files kept (`.1` … `.files`). */
  files?: number
  /** Bytes held in memory while the disk does not take them; events beyond are dropped. */
  bufferBytes?: number
  flushMs?: number
  /** Runs the flush timer (default: real time, not keeping the process alive). */
  scheduler?: Scheduler
}

export interface EventLogStats {
  /** Events accepted (buffered or written). */
  events: number
  /** Bytes written, log-start lines included. */
  bytesWritten: number
  /** Files begun (the first one included). */
  filesStarted: number
  /** Events dropped because the buffer was full. */
  dropped: number
  /** Disk errors (open, rename, write), and events that could not be serialised. */
  errors: number
  lastError: string | null
  /** Bytes waiting to be written. */
  buffered: number
}

export class EventLog {
  readonly file: string
  readonly monoStartMs: number
  private readonly o: Required<Omit<EventLogOptions, 'name' | 'scheduler'>> & { name?: string }
  private fd = -1
  /** Bytes in the current file, and how many of them its log-start line takes. */
  private size = 0
  private headerBytes = 0
  private lines: string[] = []
  private lengths: number[] = []
  private buffered = 0
  /** Dropped since the last log-dropped line. */
  private droppedSince = 0
  /** A write failed: wait for the timer before trying again. */
  private failing = false
  private closed = false
  private timer: Timer | undefined
  private readonly scheduler: Scheduler
  private readonly counts = { events: 0, bytesWritten: 0, filesStarted: 0, dropped: 0, errors: 0 }
  private lastError: string | null = null

  constructor(o: EventLogOptions) {
    const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as EventLogOptions
    this.o = { ...EVENT_LOG_DEFAULTS, ...given }
    for (const [k, min] of [['maxBytes', 256], ['files', 0], ['bufferBytes', 1024], ['flushMs', 1]] as const) {
      if (!(Number.isFinite(this.o[k]) && this.o[k] >= min)) throw new RangeError(`event log ${k} must be >= ${min}, got ${this.o[k]}`)
    }
    this.file = join(o.dir, `${formatNodeAddress(o.address)}.jsonl`)
    this.monoStartMs = monoNow()
    this.scheduler = o.scheduler ?? new RealScheduler({ unref: true })
    this.openFile()
    this.arm()
  }

  /** Log an event now (never throws). */
  readonly log: EventSink = (ev, fields) => {
    if (this.closed) return
    let line: string
    try {
      line = this.line(ev, fields)
    } catch (e) {
      this.error(e)
      return
    }
    const n = Buffer.byteLength(line)
    if (this.buffered + n > this.o.bufferBytes) {
      this.counts.dropped++
      this.droppedSince++
      return
    }
    this.noteDrops()
    this.push(line, n)
    this.counts.events++
    if (this.buffered >= Math.min(EAGER_FLUSH_BYTES, this.o.bufferBytes / 2) && !this.failing) this.flush()
  }

  /** Write what is waiting (never throws; what the disk refuses waits for the next flush). */
  flush(): void {
    while (this.lines.length > 0) {
      if (this.fd < 0 && !this.openFile()) return
      // The lines that fit in this file; a file holding only its log-start takes at least one.
      let k = 0
      let bytes = 0
      while (k < this.lines.length && (this.size + bytes + this.lengths[k] <= this.o.maxBytes || (k === 0 && this.size <= this.headerBytes))) bytes += this.lengths[k++]
      if (k === 0) {
        this.closeFd() // full: the next round rotates it and begins a new file
        continue
      }
      const buf = Buffer.from(this.lines.slice(0, k).join(''))
      const written = this.writeAll(buf)
      // Lines written in full leave the buffer; a torn one is written again in the next file.
      let done = 0
      let sum = 0
      while (done < k && sum + this.lengths[done] <= written) sum += this.lengths[done++]
      this.take(done)
      this.size += written
      this.counts.bytesWritten += written
      if (written < buf.length) {
        this.closeFd()
        this.failing = true
        return
      }
    }
    if (this.droppedSince > 0) {
      this.noteDrops()
      this.flush()
    }
  }

  stats(): EventLogStats {
    return { ...this.counts, lastError: this.lastError, buffered: this.buffered }
  }

  /** Write everything and close the file. Later events are ignored. */
  close(): void {
    if (this.closed) return
    this.noteDrops()
    this.failing = false
    this.flush()
    this.closed = true
    this.timer?.cancel()
    this.closeFd()
  }

  private line(ev: string, fields: Record<string, unknown> | undefined): string {
    const out: Record<string, unknown> = { t: Math.round(monoNow() * 1000) / 1000, wall: Date.now(), node: this.o.address, ev }
    if (fields) for (const [k, v] of Object.entries(fields)) if (!RESERVED.has(k) && v !== undefined) out[k] = v instanceof Uint8Array ? v.length : v
    return JSON.stringify(out) + '\n'
  }

  private push(line: string, n: number): void {
    this.lines.push(line)
    this.lengths.push(n)
    this.buffered += n
  }

  private take(k: number): void {
    for (let i = 0; i < k; i++) this.buffered -= this.lengths[i]
    this.lines.splice(0, k)
    this.lengths.splice(0, k)
  }

  /** The gap left by dropped events, marked where logging resumes (may exceed the buffer bound by one line). */
  private noteDrops(): void {
    if (this.droppedSince === 0) return
    const line = this.line('log-dropped', { count: this.droppedSince })
    this.droppedSince = 0
    this.push(line, Buffer.byteLength(line))
  }

  private arm(): void {
    this.timer = this.scheduler.at(this.o.flushMs, () => {
      this.failing = false
      this.flush()
      if (!this.closed) this.arm()
    })
  }

  /** Bytes of `buf` written before an error (all of them when none). */
  private writeAll(buf: Buffer): number {
    let off = 0
    try {
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off)
    } catch (e) {
      this.error(e)
    }
    return off
  }

  /** Begin a file: the old one (if any is there) rotated, a log-start line first. False on a disk error. */
  private openFile(): boolean {
    if (this.failing) return false
    let fd = -1
    try {
      fs.mkdirSync(this.o.dir, { recursive: true })
      this.rotate()
      fd = fs.openSync(this.file, 'w')
      const start = Buffer.from(this.line('log-start', { ...(this.o.name !== undefined ? { name: this.o.name } : {}), address: formatNodeAddress(this.o.address), version: VERSION, monoStartMs: Math.round(this.monoStartMs * 1000) / 1000 }))
      let off = 0
      while (off < start.length) off += fs.writeSync(fd, start, off, start.length - off)
      this.fd = fd
      this.size = this.headerBytes = start.length
      this.counts.bytesWritten += start.length
      this.counts.filesStarted++
      return true
    } catch (e) {
      if (fd >= 0) closeQuietly(fd)
      this.error(e)
      this.failing = true
      return false
    }
  }

  /** Shift `.1` … to `.2` …, the current file to `.1`; delete what is beyond `files`. */
  private rotate(): void {
    if (!exists(this.file)) return
    const keep = this.o.files
    const older = (i: number) => `${this.file}.${i}`
    const base = `${formatNodeAddress(this.o.address)}.jsonl.`
    for (const f of fs.readdirSync(this.o.dir)) {
      if (f.startsWith(base) && /^\d+$/.test(f.slice(base.length)) && Number(f.slice(base.length)) >= keep) fs.rmSync(join(this.o.dir, f), { force: true })
    }
    if (keep === 0) return fs.rmSync(this.file, { force: true })
    for (let i = keep - 1; i >= 1; i--) if (exists(older(i))) fs.renameSync(older(i), older(i + 1))
    fs.renameSync(this.file, older(1))
  }

  private closeFd(): void {
    if (this.fd < 0) return
    closeQuietly(this.fd)
    this.fd = -1
  }

  private error(e: unknown): void {
    this.counts.errors++
    this.lastError = (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e)
  }
}

function monoNow(): number {
  return performance.now()
}

function exists(file: string): boolean {
  try {
    fs.statSync(file)
    return true
  } catch {
    return false
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd)
  } catch {
    // already gone: nothing left to do with it
  }
}
