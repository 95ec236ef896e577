/**
 * Bounded duplicate suppression: one sliding window of sequence numbers per origin, for 16-bit
 * (link frames) or 32-bit (floods, later protocols) sequence spaces with wrap-around.
 *
 * Each origin keeps the highest sequence number seen (`top`) and a ring bitmap of the `window`
 * numbers at or below it. `accept(origin, seq)` answers "first time?" in O(1) (O(window) only when
 * the window jumps forward) and records the number:
 *
 *   ahead of top        new: the window slides forward, the numbers it passes over are cleared
 *   top or inside       new unless its bit is set
 *   behind the window   dropped as a duplicate (it is too old to tell); but `resyncAfter`
 *                       consecutive, increasing numbers behind the window mean the origin restarted
 *                       its counter, and the window is re-synchronised to them (the frames before
 *                       that are lost — the price of never re-delivering an old duplicate)
 *
 * "Ahead" and "behind" use serial-number arithmetic (RFC 1982): a difference of less than half the
 * space. Memory is bounded: at most `maxOrigins` windows of `window / 8` bytes each, least recently
 * used evicted first. Eviction forgets an origin's history, so an old duplicate from an evicted
 * origin is accepted once more: size `maxOrigins` above the origins active at once.
 *
 * This is duplicate suppression, not replay protection: nothing here is authenticated.
 */
import { seqDiff16, seqDiff32 } from '../core/bytes.ts'

export interface SeqWindowsOptions {
  /** Width of the sequence numbers: 16 or 32 bits. */
  bits: 16 | 32
  /** Numbers remembered below the highest, per origin: a power of two, 32..4096. */
  window: number
  /** Origins remembered (LRU). */
  maxOrigins: number
  /** Consecutive frames behind the window that re-synchronise it (0 = never); default 3. */
  resyncAfter?: number
}

interface Window {
  top: number
  bits: Uint32Array
  /** Consecutive increasing numbers seen behind the window. */
  behind: number
  lastBehind: number
}

export class SeqWindows {
  private readonly origins = new Map<number, Window>()
  private readonly mask: number
  private readonly diff: (a: number, b: number) => number
  private readonly resyncAfter: number
  readonly window: number
  readonly maxOrigins: number
  /** Origins forgotten to stay within `maxOrigins`. */
  evictions = 0
  /** Windows re-synchronised after an origin restarted its numbering. */
  resyncs = 0

  constructor(o: SeqWindowsOptions) {
    if (o.bits !== 16 && o.bits !== 32) throw new RangeError(`bits must be 16 or 32, got ${o.bits}`)
    if (!Number.isInteger(o.window) || o.window < 32 || o.window > 4096 || (o.window & (o.window - 1)) !== 0) {
      throw new RangeError(`window must be a power of two in [32, 4096], got ${o.window}`)
    }
    if (!Number.isInteger(o.maxOrigins) || o.maxOrigins < 1) throw new RangeError(`maxOrigins must be a positive integer, got ${o.maxOrigins}`)
    const resync = o.resyncAfter ?? 3
    if (!Number.isInteger(resync) || resync < 0) throw new RangeError(`resyncAfter must be an integer >= 0, got ${resync}`)
    this.window = o.window
    this.mask = o.window - 1
    this.maxOrigins = o.maxOrigins
    this.resyncAfter = resync
    this.diff = o.bits === 16 ? seqDiff16 : seqDiff32
  }

  /** Origins currently remembered. */
  get size(): number {
    return this.origins.size
  }

  /** True the first time (origin, seq) is offered (and records it); false for a duplicate. */
  accept(origin: number, seq: number): boolean {
    const w = this.origins.get(origin)
    if (w === undefined) {
      if (this.origins.size >= this.maxOrigins) {
        const oldest = this.origins.keys().next().value as number
        this.origins.delete(oldest)
        this.evictions++
      }
      const fresh: Window = { top: seq, bits: new Uint32Array(this.window >>> 5), behind: 0, lastBehind: 0 }
      this.set(fresh, seq)
      this.origins.set(origin, fresh)
      return true
    }
    // Most recently used last: re-insert.
    this.origins.delete(origin)
    this.origins.set(origin, w)
    const d = this.diff(seq, w.top)
    if (d > 0) {
      this.advance(w, d)
      w.top = seq
      w.behind = 0
      this.set(w, seq)
      return true
    }
    if (d > -this.window) {
      w.behind = 0
      if (this.has(w, seq)) return false
      this.set(w, seq)
      return true
    }
    // Behind the window.
    if (this.resyncAfter === 0) return false
    w.behind = w.behind > 0 && this.diff(seq, w.lastBehind) > 0 ? w.behind + 1 : 1
    w.lastBehind = seq
    if (w.behind < this.resyncAfter) return false
    w.bits.fill(0)
    w.top = seq
    w.behind = 0
    this.set(w, seq)
    this.resyncs++
    return true
  }

  /** Whether (origin, seq) would be a duplicate now (no side effects). */
  seen(origin: number, seq: number): boolean {
    const w = this.origins.get(origin)
    if (w === undefined) return false
    const d = this.diff(seq, w.top)
    if (d > 0) return false
    if (d > -this.window) return this.has(w, seq)
    return true
  }

  /** Forget one origin (e.g. a neighbour that went down). */
  forget(origin: number): void {
    this.origins.delete(origin)
  }

  clear(): void {
    this.origins.clear()
  }

  private advance(w: Window, d: number): void {
    if (d >= this.window) {
      w.bits.fill(0)
      return
    }
    for (let i = 1; i <= d; i++) {
      const s = (w.top + i) & this.mask
      w.bits[s >>> 5] &= ~(1 << (s & 31))
    }
  }

  private has(w: Window, seq: number): boolean {
    const s = seq & this.mask
    return (w.bits[s >>> 5] & (1 << (s & 31))) !== 0
  }

  private set(w: Window, seq: number): void {
    const s = seq & this.mask
    w.bits[s >>> 5] |= 1 << (s & 31)
  }
}
