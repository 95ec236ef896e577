/**
 * Duplicate suppression of RREQs by (originator, RREQ ID), each pair remembered for
 * PATH_DISCOVERY_TIME (RFC 3561 6.5). Every entry has the same lifetime, so insertion order is expiry
 * order: expired entries are dropped from the front on each call. At most `max` entries; when full
 * the oldest is forgotten early (a late copy of it would be processed once more).
 */
import type { Addr } from '../../core/addr.ts'

export class RreqCache {
  /** `${origin}/${id}` → time it may be forgotten. */
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly lifetimeMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.seen.size
  }

  /** Whether (origin, id) was seen within the lifetime (no side effects but pruning). */
  has(origin: Addr, id: number, now: number): boolean {
    this.prune(now)
    return this.seen.has(`${origin}/${id}`)
  }

  /** True if (origin, id) was seen within the lifetime; otherwise remembers it and returns false. */
  check(origin: Addr, id: number, now: number): boolean {
    this.prune(now)
    const key = `${origin}/${id}`
    if (this.seen.has(key)) return true
    if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value as string)
    this.seen.set(key, now + this.lifetimeMs)
    return false
  }

  prune(now: number): void {
    for (const [key, until] of this.seen) {
      if (until > now) return
      this.seen.delete(key)
    }
  }

  clear(): void {
    this.seen.clear()
  }
}
