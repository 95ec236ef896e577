/**
 * A member's bounded history of the data messages it received (or originated) for one group: what
 * it can serve when another member's gossip asks for them. Bounded by count and by age; both evict
 * in arrival order (FIFO), so the oldest-arrived message is always the first to go. Messages that
 * left every history are unrecoverable by design; `onEvict` lets the owner count and trace them.
 *
 * Arrival order is an array with an advancing head (compacted when the dead prefix outgrows the
 * live part), so add and evict are O(1) amortised; a per-origin Map<seq, entry> answers get() and
 * since().
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { MessageProof } from './ag-messages.ts'

export interface HistoryEntry {
  origin: Addr
  seq: number
  payload: Uint8Array
  /** When it arrived (virtual ms). */
  at: number
  /** Its origin's signature and what it covers (authenticated networks); set later for a node's own messages. */
  proof?: MessageProof
}

export interface HistoryOptions {
  /** At most this many messages are held (≥ 1). */
  maxMessages: number
  /** Messages that arrived more than this long ago are evicted by expire(). */
  maxAgeMs: number
  /** Called once for every entry evicted by the size or age bound (not by clear()). */
  onEvict?: (e: HistoryEntry) => void
}

/** Compact the arrival array once this many evicted slots lead it (and they outnumber the live ones). */
const COMPACT_AFTER = 256

export class History {
  private readonly maxMessages: number
  private readonly maxAgeMs: number
  private readonly onEvict?: (e: HistoryEntry) => void
  /** Arrival order; slots before `head` are evicted. */
  private order: HistoryEntry[] = []
  private head = 0
  private readonly byOrigin = new Map<Addr, Map<number, HistoryEntry>>()

  constructor(o: HistoryOptions) {
    if (!Number.isInteger(o.maxMessages) || o.maxMessages < 1) throw new RangeError(`maxMessages must be a positive integer, got ${o.maxMessages}`)
    if (!(o.maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${o.maxAgeMs}`)
    this.maxMessages = o.maxMessages
    this.maxAgeMs = o.maxAgeMs
    this.onEvict = o.onEvict
  }

  get size(): number {
    return this.order.length - this.head
  }

  /**
   * Keep a message (the caller passes a payload it will not modify). false when (origin, seq) is
   * already held. Evicts the oldest-arrived when over maxMessages (onEvict for each).
   */
  add(origin: Addr, seq: number, payload: Uint8Array, now: number, proof?: MessageProof): boolean {
    let seqs = this.byOrigin.get(origin)
    if (seqs?.has(seq)) return false
    if (!seqs) {
      seqs = new Map()
      this.byOrigin.set(origin, seqs)
    }
    const e: HistoryEntry = proof === undefined ? { origin, seq, payload, at: now } : { origin, seq, payload, at: now, proof }
    seqs.set(seq, e)
    this.order.push(e)
    while (this.size > this.maxMessages) this.evictOldest()
    return true
  }

  get(origin: Addr, seq: number): HistoryEntry | undefined {
    return this.byOrigin.get(origin)?.get(seq)
  }

  /** Evict entries that arrived before now − maxAgeMs (onEvict each); returns how many. */
  expire(now: number): number {
    const limit = now - this.maxAgeMs
    let n = 0
    while (this.size > 0 && this.order[this.head].at < limit) {
      this.evictOldest()
      n++
    }
    return n
  }

  /** Held entries of `origin` with seq at or after `from` in serial arithmetic (seqDiff32(seq, from) >= 0), ascending seq. */
  since(origin: Addr, from: number): HistoryEntry[] {
    const seqs = this.byOrigin.get(origin)
    if (!seqs) return []
    const out: HistoryEntry[] = []
    for (const e of seqs.values()) if (seqDiff32(e.seq, from) >= 0) out.push(e)
    return out.sort((a, b) => seqDiff32(a.seq, from) - seqDiff32(b.seq, from))
  }

  /** Every held entry of `origin`, in arrival order. */
  of(origin: Addr): HistoryEntry[] {
    const seqs = this.byOrigin.get(origin)
    return seqs ? [...seqs.values()] : []
  }

  /** Origins with at least one entry. */
  origins(): Addr[] {
    return [...this.byOrigin.keys()]
  }

  /** Forget everything (no onEvict). */
  clear(): void {
    this.order = []
    this.head = 0
    this.byOrigin.clear()
  }

  private evictOldest(): void {
    const e = this.order[this.head]
    ;(this.order as Array<HistoryEntry | undefined>)[this.head] = undefined
    this.head++
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head)
      this.head = 0
    }
    const seqs = this.byOrigin.get(e.origin)!
    seqs.delete(e.seq)
    if (seqs.size === 0) this.byOrigin.delete(e.origin)
    this.onEvict?.(e)
  }
}
