/**
 * The two bounded route caches MAODV keeps besides the tree itself (it runs on the link layer
 * alone, without AODV):
 *
 * - `PendingRoutes`: per RREQ in progress (origin, rreqId), the reverse next hop its first copy
 *   came from and the un-activated next hops towards the tree nodes that replied (one per
 *   replier). RREPs travel back along the reverse hops; a MACT-J naming a replier activates the
 *   recorded next hop towards it. Entries live `ttlMs` (refreshed by each RREP) and at most `max`
 *   are held, the least recently used evicted first: un-activated entries expire, and expired ones
 *   are removed as new ones come in.
 * - `GrphRoutes`: per (group, leader), the neighbour the newest GRPH of that leader arrived from
 *   and its sequence number: both the GRPH duplicate filter and the reverse path a merge request
 *   follows to the other leader. Same bounds and policy.
 */
import type { Addr } from '../../core/addr.ts'

/** An un-activated next hop towards a tree node that replied. */
export interface Candidate {
  /** The neighbour the RREP came from. */
  via: Addr
  /** Hops from the replier to this node. */
  hops: number
  /** The replier's hops to the leader. */
  hopsToLeader: number
  groupSeq: number
  leader: Addr
}

export interface PendingRoute {
  readonly origin: Addr
  readonly rreqId: number
  readonly group: Addr
  /** Neighbour the request came from (the reverse next hop). */
  readonly prevHop: Addr
  readonly merge: boolean
  expiresAt: number
  /** replier → next hop towards it. */
  readonly candidates: Map<Addr, Candidate>
  /** Best reply forwarded back so far (freshest seq, then fewest hops), to forward only improvements. */
  forwarded: { groupSeq: number; hops: number } | null
}

/**
 * An LRU map with a common time to live, for the caches below. Every insert or refresh moves the
 * entry to the end and sets its expiry to now + ttlMs, so the map's order is expiry order as well
 * as recency order: expired entries are all at the front, and each insert removes them there
 * (amortised O(1)), so the map holds little more than the live entries rather than filling up to
 * `max` with dead ones.
 */
class TtlLru<V extends { expiresAt: number }> {
  private readonly map = new Map<string, V>()
  constructor(private readonly max: number, readonly ttlMs: number) {}
  /** Entries held, expired ones not yet removed included. */
  get size(): number {
    return this.map.size
  }
  get(key: string, now: number): V | undefined {
    const v = this.map.get(key)
    if (v === undefined) return undefined
    if (v.expiresAt <= now) {
      this.map.delete(key)
      return undefined
    }
    return v
  }
  /** Insert or refresh: the entry becomes the most recently used and lives `ttlMs` from now. */
  put(key: string, v: V, now: number): V {
    this.map.delete(key)
    this.prune(now)
    while (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string)
    v.expiresAt = now + this.ttlMs
    this.map.set(key, v)
    return v
  }
  /** Remove the expired entries (all at the front). */
  prune(now: number): void {
    for (const [key, v] of this.map) {
      if (v.expiresAt > now) return
      this.map.delete(key)
    }
  }
  clear(): void {
    this.map.clear()
  }
}

export class PendingRoutes {
  private readonly lru: TtlLru<PendingRoute>
  constructor(max: number, ttlMs: number, private readonly maxCandidates: number) {
    this.lru = new TtlLru(max, ttlMs)
  }
  get size(): number {
    return this.lru.size
  }
  add(origin: Addr, rreqId: number, group: Addr, prevHop: Addr, merge: boolean, now: number): PendingRoute {
    const r: PendingRoute = { origin, rreqId, group, prevHop, merge, expiresAt: 0, candidates: new Map(), forwarded: null }
    return this.lru.put(`${origin}/${rreqId}`, r, now)
  }
  get(origin: Addr, rreqId: number, now: number): PendingRoute | undefined {
    return this.lru.get(`${origin}/${rreqId}`, now)
  }
  /** Record the next hop towards `replier`; false when the entry already holds its share of repliers. */
  addCandidate(r: PendingRoute, replier: Addr, c: Candidate, now: number): boolean {
    if (!r.candidates.has(replier) && r.candidates.size >= this.maxCandidates) return false
    r.candidates.set(replier, c)
    this.lru.put(`${r.origin}/${r.rreqId}`, r, now)
    return true
  }
  clear(): void {
    this.lru.clear()
  }
}

export interface GrphRoute {
  readonly group: Addr
  readonly leader: Addr
  groupSeq: number
  /** Neighbour the newest GRPH of this leader came from. */
  nextHop: Addr
  /** Hops that GRPH had travelled to reach this node. */
  hops: number
  expiresAt: number
}

export class GrphRoutes {
  private readonly lru: TtlLru<GrphRoute>
  constructor(max: number, ttlMs: number) {
    this.lru = new TtlLru(max, ttlMs)
  }
  get size(): number {
    return this.lru.size
  }
  get(group: Addr, leader: Addr, now: number): GrphRoute | undefined {
    return this.lru.get(`${group}/${leader}`, now)
  }
  put(r: GrphRoute, now: number): GrphRoute {
    return this.lru.put(`${r.group}/${r.leader}`, r, now)
  }
  clear(): void {
    this.lru.clear()
  }
}
