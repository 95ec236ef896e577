/**
 * Members of a group learnt from gossip exchanges (the member that accepted our walk, the
 * initiator whose gossip we answered): the targets of cached gossip, which is routed straight to
 * one member instead of walking the tree. Bounded by size (least recently seen evicted) and by
 * age (entries not seen for ttlMs are dropped when looked at). A pick prefers distant members:
 * their losses are less correlated with ours, so they are likelier to hold what we miss.
 */
import type { Addr } from '../../core/addr.ts'
import type { Rng } from '../../core/rng.ts'

export interface MemberCacheOptions {
  /** At most this many members are kept (≥ 1). */
  size: number
  /** A member not seen for longer than this is dropped. */
  ttlMs: number
}

export interface CachedMember {
  member: Addr
  /** Its distance when last seen (radio hops of the routed exchange, or tree hops of the walk). */
  hops: number
  lastSeen: number
}

export class MemberCache {
  private readonly max: number
  private readonly ttlMs: number
  /** In recording order: the first is the least recently seen. */
  private readonly members = new Map<Addr, CachedMember>()

  constructor(o: MemberCacheOptions) {
    if (!Number.isInteger(o.size) || o.size < 1) throw new RangeError(`size must be a positive integer, got ${o.size}`)
    if (!(o.ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${o.ttlMs}`)
    this.max = o.size
    this.ttlMs = o.ttlMs
  }

  /** Insert or refresh (hops replaced, lastSeen = now); when full evict the least recently seen. */
  record(member: Addr, hops: number, now: number): void {
    if (!this.members.delete(member) && this.members.size >= this.max) {
      this.members.delete(this.members.keys().next().value as Addr)
    }
    this.members.set(member, { member, hops, lastSeen: now })
  }

  /**
   * A random unexpired member other than `exclude`, weighted by max(1, hops)^distanceExponent
   * (prefer distant ones). Expired entries (now − lastSeen > ttlMs) are removed. undefined when none.
   */
  pick(now: number, rng: Rng, distanceExponent: number, exclude?: Addr): Addr | undefined {
    this.expire(now)
    let total = 0
    for (const m of this.members.values()) if (m.member !== exclude) total += weight(m, distanceExponent)
    if (!(total > 0)) return undefined
    let x = rng.float() * total
    let last: Addr | undefined
    for (const m of this.members.values()) {
      if (m.member === exclude) continue
      last = m.member
      x -= weight(m, distanceExponent)
      if (x < 0) return m.member
    }
    return last // rounding left x at ≥ 0 after the last weight
  }

  remove(member: Addr): void {
    this.members.delete(member)
  }

  /** Unexpired entries, least recently seen first (copies). */
  entries(now: number): CachedMember[] {
    this.expire(now)
    return [...this.members.values()].map((m) => ({ ...m }))
  }

  size(now: number): number {
    this.expire(now)
    return this.members.size
  }

  private expire(now: number): void {
    for (const m of this.members.values()) if (now - m.lastSeen > this.ttlMs) this.members.delete(m.member)
  }
}

function weight(m: CachedMember, exponent: number): number {
  return Math.max(1, m.hops) ** exponent
}
