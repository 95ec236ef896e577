/**
 * What a member knows it has received from each source of one group: the next sequence number it
 * expects and the bounded list of the numbers it found missing (gaps), which its gossip asks other
 * members for. AG sequence numbers start at a random value per source (docs/WIRE.md §12), but
 * each packet says how many the source sent before it (`index`): the first packet heard from a
 * source marks the min(index, backfill) numbers before it missing — the start of a stream a member
 * heard late (its tree was still forming), or the recent past of a stream it joined late.
 *
 * Everything is bounded by the options: the sources tracked (least recently heard forgotten), the
 * missing entries over all sources (oldest-detected given up), a gap size beyond which a jump is
 * taken for a source restart, and an age after which a missing entry is given up. Every missing
 * entry that leaves other than by arriving is reported through `onGiveUp`, so
 * gaps detected = filled + given up + still missing.
 *
 * Missing entries sit in a per-source Map (seq → record) and in one detection-order queue over all
 * sources (an array with an advancing head; records that were filled or given up are skipped
 * lazily and compacted away), so every operation is O(1) amortised per entry. Serial arithmetic
 * (seqDiff32) throughout: sequence numbers wrap at 2^32.
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import { MAX_MISSING_OFFSET } from './ag-messages.ts'

export type ArrivalKind = 'new' | 'gap-filled' | 'duplicate'
export type GiveUpReason = 'full' | 'aged' | 'restart'

export interface ReceiveStateOptions {
  /** Sources tracked; when full the least recently heard is forgotten (its missing given up, reason 'full'). */
  maxSources: number
  /** Missing entries in total over all sources; over it the oldest-detected are given up ('full'). */
  maxMissing: number
  /** A jump ahead of next by more than this is taken for a source restart: no gap recorded, missing of that source given up ('restart'). */
  maxGap: number
  /** The first packet heard from a source marks at most this many numbers before it missing (its `index` says how many exist). */
  backfill: number
  /** An arrival this far or farther behind next (serial arithmetic) is taken for a restart too. */
  resyncDistance: number
  /** Missing entries older than this are given up ('aged') by expire(). */
  missingMaxAgeMs: number
  onGiveUp?: (origin: Addr, seq: number, reason: GiveUpReason) => void
}

interface Missing {
  source: SourceState
  seq: number
  /** When it was found missing. */
  at: number
}

interface SourceState {
  origin: Addr
  next: number
  /** Missing seqs in detection order (which is ascending serial order: gaps only open ahead of next). */
  missing: Map<number, Missing>
}

const COMPACT_AFTER = 256

export class ReceiveState {
  private readonly o: ReceiveStateOptions
  /** In hearing order: the first is the least recently heard. */
  private readonly sources = new Map<Addr, SourceState>()
  /** Detection order over all sources; a record is live while its source's map holds it. */
  private queue: Missing[] = []
  private head = 0
  private missingTotal = 0

  constructor(o: ReceiveStateOptions) {
    const positive = (v: number, name: string) => {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
    }
    positive(o.maxSources, 'maxSources')
    positive(o.maxMissing, 'maxMissing')
    if (!Number.isInteger(o.maxGap) || o.maxGap < 0 || o.maxGap > 0x7fffffff) throw new RangeError(`maxGap must be an integer in [0, 2^31), got ${o.maxGap}`)
    if (!Number.isInteger(o.resyncDistance) || o.resyncDistance < 1 || o.resyncDistance > 0x80000000) {
      throw new RangeError(`resyncDistance must be an integer in [1, 2^31], got ${o.resyncDistance}`)
    }
    if (!Number.isInteger(o.backfill) || o.backfill < 0 || o.backfill > o.maxGap) throw new RangeError(`backfill must be an integer in [0, maxGap], got ${o.backfill}`)
    if (!(o.missingMaxAgeMs > 0)) throw new RangeError(`missingMaxAgeMs must be positive, got ${o.missingMaxAgeMs}`)
    this.o = o
  }

  get missingCount(): number {
    return this.missingTotal
  }

  /** Sources currently tracked. */
  get sourceCount(): number {
    return this.sources.size
  }

  isMissing(origin: Addr, seq: number): boolean {
    return this.sources.get(origin)?.missing.has(seq >>> 0) ?? false
  }

  next(origin: Addr): number | undefined {
    return this.sources.get(origin)?.next
  }

  /**
   * Record an arrival. 'new': at or ahead of next (gaps = how many seqs it marked missing).
   * 'gap-filled': was missing. 'duplicate': behind next and not missing (already delivered, or
   * given up) — the caller must not deliver it. `index`: packets the source sent before this one
   * (the DATA header's; 0 when unknown), used only for a source heard for the first time.
   */
  arrive(origin: Addr, seq: number, now: number, index = 0): { kind: ArrivalKind; gaps: number } {
    seq >>>= 0
    const s = this.sources.get(origin)
    if (!s) {
      if (this.sources.size >= this.o.maxSources) {
        const [, lru] = this.sources.entries().next().value as [Addr, SourceState]
        this.forget(lru, 'full')
      }
      const fresh: SourceState = { origin, next: (seq + 1) >>> 0, missing: new Map() }
      this.sources.set(origin, fresh)
      const before = Math.min(index, this.o.backfill)
      for (let i = before; i > 0; i--) this.addMissing(fresh, (seq - i) >>> 0, now)
      if (before > 0) this.trim()
      return { kind: 'new', gaps: before }
    }
    // Heard now: move to the most recent end.
    this.sources.delete(origin)
    this.sources.set(origin, s)
    const d = seqDiff32(seq, s.next)
    if (d >= 0) {
      if (d > this.o.maxGap) return this.restart(s, seq)
      for (let i = 0; i < d; i++) this.addMissing(s, (s.next + i) >>> 0, now)
      s.next = (seq + 1) >>> 0
      this.trim()
      return { kind: 'new', gaps: d }
    }
    const m = s.missing.get(seq)
    if (m) {
      s.missing.delete(seq)
      this.missingTotal--
      this.maybeCompact()
      return { kind: 'gap-filled', gaps: 0 }
    }
    if (-d >= this.o.resyncDistance) return this.restart(s, seq)
    return { kind: 'duplicate', gaps: 0 }
  }

  /** Give up missing entries detected more than missingMaxAgeMs ago ('aged'); returns how many. */
  expire(now: number): number {
    const limit = now - this.o.missingMaxAgeMs
    let n = 0
    while (this.head < this.queue.length) {
      const m = this.queue[this.head]
      if (this.live(m)) {
        if (m.at >= limit) break
        this.giveUp(m, 'aged')
        n++
      }
      this.head++
    }
    this.maybeCompact()
    return n
  }

  /**
   * What to put in a GOSSIP: at most maxSources sources (sources with missing entries first, then
   * the most recently heard), each with next and at most maxPerSource missing seqs (oldest first,
   * only those within 65535 of next).
   */
  digest(maxSources: number, maxPerSource: number): Array<{ source: Addr; next: number; missing: number[] }> {
    const withMissing: SourceState[] = []
    const without: SourceState[] = []
    for (const s of this.sources.values()) (s.missing.size > 0 ? withMissing : without).push(s)
    // Most recently heard first within each group.
    withMissing.reverse()
    without.reverse()
    const out: Array<{ source: Addr; next: number; missing: number[] }> = []
    for (const s of withMissing.concat(without)) {
      if (out.length >= maxSources) break
      const missing: number[] = []
      for (const seq of s.missing.keys()) {
        if (missing.length >= maxPerSource) break
        const back = seqDiff32(s.next, seq)
        if (back >= 1 && back <= MAX_MISSING_OFFSET) missing.push(seq)
      }
      out.push({ source: s.origin, next: s.next, missing })
    }
    return out
  }

  private live(m: Missing): boolean {
    return m.source.missing.get(m.seq) === m
  }

  private addMissing(s: SourceState, seq: number, now: number): void {
    const m: Missing = { source: s, seq, at: now }
    s.missing.set(seq, m)
    this.queue.push(m)
    this.missingTotal++
  }

  /** Give up the oldest-detected entries while over maxMissing. */
  private trim(): void {
    while (this.missingTotal > this.o.maxMissing) {
      const m = this.queue[this.head++]
      if (this.live(m)) this.giveUp(m, 'full')
    }
    this.maybeCompact()
  }

  private giveUp(m: Missing, reason: GiveUpReason): void {
    m.source.missing.delete(m.seq)
    this.missingTotal--
    this.o.onGiveUp?.(m.source.origin, m.seq, reason)
  }

  /** Give up every missing entry of `s` (its queue records go stale). */
  private dropMissing(s: SourceState, reason: GiveUpReason): void {
    const seqs = [...s.missing.keys()]
    s.missing.clear()
    this.missingTotal -= seqs.length
    for (const seq of seqs) this.o.onGiveUp?.(s.origin, seq, reason)
    this.maybeCompact()
  }

  private forget(s: SourceState, reason: GiveUpReason): void {
    this.sources.delete(s.origin)
    this.dropMissing(s, reason)
  }

  private restart(s: SourceState, seq: number): { kind: ArrivalKind; gaps: number } {
    this.dropMissing(s, 'restart')
    s.next = (seq + 1) >>> 0
    return { kind: 'new', gaps: 0 }
  }

  /** Drop stale records once they dominate the queue. */
  private maybeCompact(): void {
    const len = this.queue.length - this.head
    if (len === 0) {
      this.queue = []
      this.head = 0
      return
    }
    if (this.queue.length >= COMPACT_AFTER && this.queue.length > 2 * this.missingTotal + COMPACT_AFTER / 2) {
      this.queue = this.queue.slice(this.head).filter((m) => this.live(m))
      this.head = 0
    }
  }
}
