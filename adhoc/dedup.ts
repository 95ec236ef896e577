/**
 * Bounded duplicate suppression: one sliding window of sequence numbers per origin, for 16-bit
 * (link frames) or 32-bit (floods, later protocols) sequence spaces with wrap-around.
 *
 * Each origin keeps the highest sequence number seen (`top`) and a ring bitmap of the `window`
 * numbers at or below it. `accept(origin, seq)` answers "first time?" in O(1) (O(window) only when
 * the window jumps forward) and records the number:
 *
 *   ahead of top          new: the window slides forward, the numbers it passes over are cleared
 *   top or inside         new unless its bit is set
 *   behind the window     dropped: too old to tell, so taken for a late duplicate — unless it is
 *                         evidence that the origin restarted its counter (below)
 *
 * "Ahead" and "behind" use serial-number arithmetic (RFC 1982): a difference of less than half the
 * space.
 *
 * Restarted origins. Every sender starts its numbering at a random value (docs/WIRE.md), so after
 * a restart its new numbers land anywhere in the space: half the time ahead of the old `top`
 * (accepted at once), otherwise behind it, usually very far behind. A late duplicate is a copy of
 * a number sent recently, so it is at most a few windows behind `top` (a copy delayed in queues
 * while the origin kept sending). The window is re-synchronised to a number behind it only when:
 *
 *   - it is more than `resyncDistance` behind `top` ("far": no late copy gets there), and the last
 *     `resyncAfter` offers behind the window were far and strictly consecutive (each exactly one
 *     more than the one before, nothing inside the window in between: the old stream is silent, a
 *     new one counts up); or
 *   - it is a quarter of the space or more behind `top` (16 384 for 16 bits, 2^30 for 32): no
 *     duplicate can be that old, so one such number is enough.
 *
 * resyncDistance = min(space / 8, max(16 × window, √space)): 1024 for the link's 16-bit windows of
 * 64 (link-level copies are retransmissions, never more than a window late), 65 536 for 32-bit
 * floods. Measured on manet-unicast overloaded to 400 packets/s per flow, flood copies arrived up
 * to 3 581 numbers late (p99 1 424): 16 × window (2048) would not have been enough there, 65 536
 * means a copy held for minutes at that rate, longer than the queue TTLs along any path.
 *
 * Late copies that arrive in a burst over a queued path (consecutive, but a few windows behind) and
 * stray old copies (far but scattered) are therefore never taken for a restart — the bug that let
 * any three increasing late copies rewind the window and re-accept everything after them.
 *
 * What a restart costs, with a uniformly random new start: nothing when it lands ahead (≈ 1/2) or
 * a quarter of the space or more behind (≈ 1/4); the first `resyncAfter − 1` numbers when it
 * lands between `resyncDistance` and a quarter behind (≈ 1/4) — and those are accepted after all if
 * another copy of them arrives later (floods: the next relay's copy), since the re-synchronised
 * window has not seen them; when it lands within `resyncDistance` behind (probability
 * resyncDistance / space: 1.6 % for 16 bits, 1.5e-5 for 32) its numbers are dropped until they
 * pass the old `top`, at most resyncDistance + window of them. Floods pay the `resyncAfter − 1`
 * per hop where there is no second path: a relay does not forward what it dropped, so a node h
 * hops down a chain can miss h × (resyncAfter − 1) of a restarted origin's first packets. The
 * link layer also forgets a neighbour's windows when the neighbour goes down.
 *
 * Memory is bounded: at most `maxOrigins` windows of `window / 8` bytes each, least recently used
 * evicted first. Eviction forgets an origin's history, so an old duplicate from an evicted origin
 * is accepted once more: size `maxOrigins` above the origins active at once.
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
  /**
   * Strictly consecutive numbers, each more than `resyncDistance` behind the window, that
   * re-synchronise it to a restarted origin (0 = never re-synchronise); default 3.
   */
  resyncAfter?: number
}

interface Window {
  top: number
  bits: Uint32Array
  /** Length of the current run of far-behind, strictly consecutive numbers (0 = none). */
  run: number
  /** The last number of that run. */
  runLast: number
}

export class SeqWindows {
  private readonly origins = new Map<number, Window>()
  private readonly mask: number
  private readonly seqMask: number
  private readonly diff: (a: number, b: number) => number
  private readonly resyncAfter: number
  /** A number this far behind `top` or further re-synchronises on its own (a quarter of the space). */
  private readonly immediate: number
  readonly window: number
  readonly maxOrigins: number
  /** Numbers further than this behind `top` may start a re-synchronisation run. */
  readonly resyncDistance: number
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
    const space = 2 ** o.bits
    this.window = o.window
    this.mask = o.window - 1
    this.seqMask = space - 1
    this.maxOrigins = o.maxOrigins
    this.resyncAfter = resync
    this.resyncDistance = Math.min(space / 8, Math.max(16 * o.window, Math.sqrt(space)))
    this.immediate = space / 4
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
      const fresh: Window = { top: seq, bits: new Uint32Array(this.window >>> 5), run: 0, runLast: 0 }
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
      w.run = 0
      this.set(w, seq)
      return true
    }
    if (d > -this.window) {
      w.run = 0 // the old stream is alive: whatever run was building was not a restart
      if (this.has(w, seq)) return false
      this.set(w, seq)
      return true
    }
    const run = this.runAfter(w, seq, d)
    if (run === 0) return false // a late duplicate (near), or resync disabled: leave the run as it is
    if (run < this.resyncAfter && d > -this.immediate) {
      w.run = run
      w.runLast = seq
      return false
    }
    w.bits.fill(0)
    w.top = seq
    w.run = 0
    this.set(w, seq)
    this.resyncs++
    return true
  }

  /** Whether `accept(origin, seq)` would now return false (no side effects). */
  seen(origin: number, seq: number): boolean {
    const w = this.origins.get(origin)
    if (w === undefined) return false
    const d = this.diff(seq, w.top)
    if (d > 0) return false
    if (d > -this.window) return this.has(w, seq)
    const run = this.runAfter(w, seq, d)
    return run === 0 || (run < this.resyncAfter && d > -this.immediate)
  }

  /** Forget one origin (e.g. a neighbour that went down). */
  forget(origin: number): void {
    this.origins.delete(origin)
  }

  clear(): void {
    this.origins.clear()
  }

  /** The restart run `seq` (d behind top, behind the window) would make: 0 when it is no evidence. */
  private runAfter(w: Window, seq: number, d: number): number {
    if (this.resyncAfter === 0 || d >= -this.resyncDistance) return 0
    return w.run > 0 && seq === ((w.runLast + 1) & this.seqMask) >>> 0 ? w.run + 1 : 1
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
