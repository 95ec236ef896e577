/**
 * The pbcast message store of one member: the messages it holds (for FIFO delivery and for
 * gossip) and, per (origin, stream), its delivery state.
 *
 * Time is in this member's rounds (pbcast.ts numbers them): each held message has `originRound`
 * (its local origination estimate, now − age on arrival) and `heldRound` (when it arrived); its
 * age in round r is r − originRound. `tick(r)` collects messages whose age is ≥ gcRounds.
 *
 * Delivery per (origin, stream) is FIFO from a cursor, the next seq to deliver. The cursor starts at
 * the first seq heard for the pair, s, less min(s, joinBackfill) seqs that are waited for too (a
 * message whose first copy was lost while its successor arrived is still delivered in order);
 * those that never come are passed silently (`beforeJoin`). Only seqs the member wants (the
 * `wants` callback: the audience's selfWants) are waited for; others are passed as soon as a later
 * message is held. A wanted seq still missing when a later held seq of the pair is gcRounds old is
 * skipped (counted `skipped`, reported as a 'skip' event) and delivery goes on. An arrival is a
 * duplicate when it is held, or behind the cursor by at most dedupWindow (delivered, skipped or
 * passed already, however long ago it was collected). Further behind, the origin is taken to have
 * restarted its stream: what is pending is delivered, and the pair starts again (`restarts`).
 *
 * Bounds: at most maxStoreMessages held (the oldest by originRound dropped first, an undelivered
 * one delivered first: `storeEvictions`), at most maxStreams pairs (least recently heard forgotten,
 * its pending messages delivered first: `streamEvictions`), and no loop over sequence numbers
 * longer than dedupWindow (a wider gap is passed in bulk: `skippedBulk` counts its seqs).
 *
 * The store reports deliveries and skips as events appended to an `out` list, so the caller emits
 * them after the store's state is consistent (a listener may publish or receive re-entrantly).
 */
import type { Addr } from '../../core/addr.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../../core/metrics.ts'
import type { PbcastConfig } from './pbcast-defaults.ts'
import type { MessageId, MessageMeta } from './pbcast-types.ts'

export type StoreConfig = Pick<PbcastConfig, 'gcRounds' | 'maxStoreMessages' | 'dedupWindow' | 'joinBackfill' | 'maxStreams'>

export interface StoreOptions {
  config: StoreConfig
  /** Whether this member wants seq of (origin, stream) (the audience's selfWants), asked for gaps. */
  wants: (origin: Addr, stream: number, seq: number) => boolean
  /** Counters: duplicates, skipped, gcCollected, storeEvictions, beforeJoin, restarts, streamEvictions, skippedBulk. */
  metrics?: MetricsScope
}

export interface HeldMessage {
  readonly meta: MessageMeta
  readonly body: Uint8Array
  /** Round of origination in this member's round numbering (local estimate). */
  readonly originRound: number
  /** Round in which this member got it (the origin: published it); listed in digests from heldRound + 1. */
  readonly heldRound: number
  /** How it first arrived. */
  readonly via: 'first' | 'gossip'
  /** Delivered (or, for a message held but not wanted, never to be). */
  delivered: boolean
}

export type StoreEvent = { type: 'deliver'; message: HeldMessage } | { type: 'skip'; id: MessageId }

export interface AddInput {
  meta: MessageMeta
  body: Uint8Array
  originRound: number
  heldRound: number
  via: 'first' | 'gossip'
  /** False: held for gossip only, never delivered (an origin outside its own message's audience). */
  wanted?: boolean
}

interface Pair {
  readonly origin: Addr
  readonly stream: number
  /** Next seq to deliver. */
  cursor: number
  /** The first seq heard: seqs before it are the join backfill. */
  readonly firstHeard: number
  readonly held: Map<number, HeldMessage>
  /** Held and not delivered (all at or after the cursor). */
  pending: number
  /** The round a message of this pair last arrived (restart detection). */
  lastHeardRound: number
}

/** Skip events one gap may produce (at most dedupWindow too); the rest of a larger gap is counted in skippedBulk only. */
export const MAX_SKIP_EVENTS_PER_GAP = 64

const pairKey = (origin: Addr, stream: number): number => origin * 65536 + stream

export class MessageStore {
  private readonly c: StoreConfig
  private readonly wants: StoreOptions['wants']
  /** Insertion order = least recently heard first (re-inserted on every arrival). */
  private readonly pairs = new Map<number, Pair>()
  private total = 0
  private removed = 0
  private readonly n: Record<'duplicates' | 'skipped' | 'gcCollected' | 'storeEvictions' | 'beforeJoin' | 'restarts' | 'streamEvictions' | 'skippedBulk', Counter>

  constructor(o: StoreOptions) {
    this.c = o.config
    this.wants = o.wants
    const m = o.metrics ?? new MetricsRegistry().scope('pbcast')
    this.n = {
      duplicates: m.counter('duplicates'), skipped: m.counter('skipped'), gcCollected: m.counter('gcCollected'),
      storeEvictions: m.counter('storeEvictions'), beforeJoin: m.counter('beforeJoin'), restarts: m.counter('restarts'),
      streamEvictions: m.counter('streamEvictions'), skippedBulk: m.counter('skippedBulk'),
    }
  }

  /** Messages held. */
  get size(): number {
    return this.total
  }

  /** Messages removed other than by tick()'s GC so far (evictions, forgotten pairs): a cache of held messages is stale when it changes. */
  get evicted(): number {
    return this.removed
  }

  /** (origin, stream) delivery states kept. */
  get streams(): number {
    return this.pairs.size
  }

  get(origin: Addr, stream: number, seq: number): HeldMessage | undefined {
    return this.pairs.get(pairKey(origin, stream))?.held.get(seq)
  }

  /** The next seq to deliver of (origin, stream), undefined before it is first heard. */
  cursor(origin: Addr, stream: number): number | undefined {
    return this.pairs.get(pairKey(origin, stream))?.cursor
  }

  /** Whether an arrival of this id would be new: not held, and not delivered, skipped or passed. */
  lacks(origin: Addr, stream: number, seq: number): boolean {
    const p = this.pairs.get(pairKey(origin, stream))
    if (p === undefined) return true
    if (p.held.has(seq)) return false
    return !(seq < p.cursor && p.cursor - seq <= this.c.dedupWindow)
  }

  /** Every held message (pairs least recently heard first, each in arrival order). */
  *messages(): Generator<HeldMessage> {
    for (const p of this.pairs.values()) yield* p.held.values()
  }

  /**
   * Take a message that arrived (or was published). 'duplicate' when held already or behind the
   * cursor (counted); otherwise it is held and whatever is now in order is delivered into `out`.
   */
  add(m: AddInput, out: StoreEvent[]): 'new' | 'duplicate' {
    const { origin, stream, seq } = m.meta
    const key = pairKey(origin, stream)
    let p = this.pairs.get(key)
    if (p !== undefined) {
      if (p.held.has(seq)) return this.duplicate()
      if (seq < p.cursor) {
        // Behind the cursor: a late copy, unless the pair was silent for longer than anyone keeps
        // a message (2·gcRounds), or it is further back than the dedup window: the origin restarted.
        const silent = m.heldRound - p.lastHeardRound > 2 * this.c.gcRounds
        if (p.cursor - seq <= this.c.dedupWindow && !silent) return this.duplicate()
        this.n.restarts.inc()
        this.dropPair(p, out)
        p = undefined
      }
    }
    if (p === undefined) {
      if (this.pairs.size >= this.c.maxStreams) {
        const lru = this.pairs.values().next().value!
        this.n.streamEvictions.inc()
        this.dropPair(lru, out)
      }
      p = { origin, stream, cursor: seq - Math.min(seq, this.c.joinBackfill), firstHeard: seq, held: new Map(), pending: 0, lastHeardRound: m.heldRound }
    } else {
      this.pairs.delete(key)
    }
    this.pairs.set(key, p)
    p.lastHeardRound = m.heldRound
    const wanted = m.wanted ?? true
    p.held.set(seq, { meta: m.meta, body: m.body, originRound: m.originRound, heldRound: m.heldRound, via: m.via, delivered: !wanted })
    this.total++
    if (wanted) p.pending++
    this.advance(p, out)
    while (this.total > this.c.maxStoreMessages) this.evictOldest(out)
    return 'new'
  }

  /**
   * Start of round `round`: skip missing seqs before any pending message that is gcRounds old
   * (delivering it and what follows in order), then collect every message whose age is ≥ gcRounds.
   */
  tick(round: number, out: StoreEvent[]): void {
    const gc = this.c.gcRounds
    for (const p of this.pairs.values()) {
      if (p.pending === 0) continue
      let last = -1
      for (const h of p.held.values()) if (!h.delivered && round - h.originRound >= gc && h.meta.seq > last) last = h.meta.seq
      if (last >= 0) this.advanceTo(p, last + 1, out)
    }
    for (const p of this.pairs.values()) {
      for (const [seq, h] of p.held) {
        if (round - h.originRound < gc) continue
        p.held.delete(seq)
        this.total--
        this.n.gcCollected.inc()
      }
    }
  }

  private duplicate(): 'duplicate' {
    this.n.duplicates.inc()
    return 'duplicate'
  }

  private deliver(p: Pair, h: HeldMessage, out: StoreEvent[]): void {
    h.delivered = true
    p.pending--
    out.push({ type: 'deliver', message: h })
  }

  /** Deliver what is in order; pass seqs not wanted while a later message waits. */
  private advance(p: Pair, out: StoreEvent[]): void {
    let budget = this.c.dedupWindow
    for (;;) {
      const h = p.held.get(p.cursor)
      if (h !== undefined) {
        if (!h.delivered) this.deliver(p, h, out)
        p.cursor++
        continue
      }
      if (p.pending > 0 && budget-- > 0 && !this.wants(p.origin, p.stream, p.cursor)) {
        p.cursor++
        continue
      }
      return
    }
  }

  /** Deliver or skip everything before `target`, then go on in order. */
  private advanceTo(p: Pair, target: number, out: StoreEvent[]): void {
    while (p.cursor < target) {
      const h = p.held.get(p.cursor)
      if (h !== undefined) {
        if (!h.delivered) this.deliver(p, h, out)
        p.cursor++
        continue
      }
      let next = target
      for (const s of p.held.keys()) if (s > p.cursor && s < next) next = s
      this.skipRange(p, p.cursor, next, out)
      p.cursor = next
    }
    this.advance(p, out)
  }

  /** Seqs [a, b) are given up: wanted ones are skipped (or, before the first heard, passed silently). */
  private skipRange(p: Pair, a: number, b: number, out: StoreEvent[]): void {
    // One event per skipped seq for small gaps; a large gap (a long outage, or a forged seq far
    // ahead) is counted in skippedBulk, so no datagram can make a member emit thousands of events.
    const examined = Math.min(this.c.dedupWindow, MAX_SKIP_EVENTS_PER_GAP)
    if (b - a > examined) {
      const bulk = b - a - examined
      this.n.skippedBulk.inc(bulk)
      a += bulk
    }
    for (let s = a; s < b; s++) {
      if (!this.wants(p.origin, p.stream, s)) continue
      if (s < p.firstHeard) this.n.beforeJoin.inc()
      else {
        this.n.skipped.inc()
        out.push({ type: 'skip', id: { origin: p.origin, stream: p.stream, seq: s } })
      }
    }
  }

  /** Forget a pair: deliver what it has pending (skipping gaps), drop its messages. */
  private dropPair(p: Pair, out: StoreEvent[]): void {
    if (p.pending > 0) {
      let last = -1
      for (const h of p.held.values()) if (!h.delivered && h.meta.seq > last) last = h.meta.seq
      this.advanceTo(p, last + 1, out)
    }
    this.n.storeEvictions.inc(p.held.size)
    this.total -= p.held.size
    this.removed += p.held.size
    this.pairs.delete(pairKey(p.origin, p.stream))
  }

  private evictOldest(out: StoreEvent[]): void {
    let oldest: HeldMessage | undefined
    let pair: Pair | undefined
    for (const p of this.pairs.values()) {
      for (const h of p.held.values()) {
        if (oldest === undefined || h.originRound < oldest.originRound || (h.originRound === oldest.originRound && h.heldRound < oldest.heldRound)) {
          oldest = h
          pair = p
        }
      }
    }
    if (oldest === undefined || pair === undefined) return
    if (!oldest.delivered) this.advanceTo(pair, oldest.meta.seq + 1, out)
    pair.held.delete(oldest.meta.seq)
    this.total--
    this.removed++
    this.n.storeEvictions.inc()
  }
}
