/**
 * The AODV route table (RFC 3561 §2, §6.2): per destination its sequence number (+ valid flag),
 * state, hop count, next hop, precursors and lifetime.
 *
 * Lifetimes are absolute scheduler times. A valid entry is *active* while `now < expiresAt`; once
 * its lifetime passes it becomes invalid and is kept DELETE_PERIOD longer (`expiresAt` then holds
 * the deletion time), so its sequence number and hop count still seed the next discovery. Expiry is
 * applied lazily, on every look-up, and by `sweep` (housekeeping): no timer per route.
 *
 * Sequence numbers are 32-bit and compared with signed arithmetic (`seqDiff32`): `a` is newer than
 * `b` when `(a − b) | 0 > 0`, so 0 is newer than 0xFFFFFFFF (RFC 6.1).
 *
 * Bounded: at most `maxRoutes` entries; a new destination then evicts the oldest invalid entry, or
 * the oldest entry if every one is valid.
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { RouteInfo } from '../routing.ts'

export interface RouteEntry {
  readonly dst: Addr
  /** Destination sequence number (meaningful when `validSeq`). */
  seq: number
  validSeq: boolean
  /** State flag; the route is usable only while also `now < expiresAt` (see `isActive`). */
  valid: boolean
  hops: number
  nextHop: Addr
  /** Neighbours that use this node as next hop towards `dst` (RERR recipients); null when none. */
  precursors: Set<Addr> | null
  /** Valid: end of the lifetime. Invalid: when the entry is deleted. */
  expiresAt: number
  /** Invalid because this node is repairing it locally (RFC 6.12). */
  repairing: boolean
}

/** Whether `e` can carry data now. */
export function isActive(e: RouteEntry | undefined, now: number): e is RouteEntry {
  return e !== undefined && e.valid && now < e.expiresAt
}

/**
 * RFC 6.7: whether routing information (`seq`, `hops` to the destination) is better than the entry:
 * no entry, no valid sequence number, a newer sequence number, the same one while the entry is not
 * active, or the same one with fewer hops.
 */
export function isFresher(e: RouteEntry | undefined, seq: number, hops: number, now: number): boolean {
  if (e === undefined || !e.validSeq) return true
  const d = seqDiff32(seq, e.seq)
  if (d !== 0) return d > 0
  return !isActive(e, now) || hops < e.hops
}

export function addPrecursor(e: RouteEntry, p: Addr): void {
  if (p === e.dst && p === e.nextHop) return // a neighbour never uses us to reach itself
  if (e.precursors === null) e.precursors = new Set()
  e.precursors.add(p)
}

export class RouteTable {
  private readonly map = new Map<Addr, RouteEntry>()

  constructor(
    private readonly deletePeriodMs: number,
    private readonly maxRoutes: number,
  ) {}

  get size(): number {
    return this.map.size
  }

  /** The entry for `dst` (valid or not) with expiry applied; undefined once deleted. */
  get(dst: Addr, now: number): RouteEntry | undefined {
    const e = this.map.get(dst)
    if (e === undefined || now < e.expiresAt) return e
    return this.expire(e, now)
  }

  /** The entry for `dst` if it is active (valid and within its lifetime). */
  active(dst: Addr, now: number): RouteEntry | undefined {
    const e = this.map.get(dst)
    return e !== undefined && e.valid && now < e.expiresAt ? e : undefined
  }

  /**
   * The entry for `dst`, created if absent as an invalid entry with no sequence number (deleted
   * after DELETE_PERIOD unless the caller makes it a route).
   */
  upsert(dst: Addr, now: number): RouteEntry {
    const e = this.get(dst, now)
    if (e !== undefined) return e
    if (this.map.size >= this.maxRoutes) this.evict(now)
    const fresh: RouteEntry = { dst, seq: 0, validSeq: false, valid: false, hops: 0, nextHop: dst, precursors: null, expiresAt: now + this.deletePeriodMs, repairing: false }
    this.map.set(dst, fresh)
    return fresh
  }

  /** Make `e` a valid route via `nextHop` until `expiresAt`. */
  setRoute(e: RouteEntry, nextHop: Addr, hops: number, expiresAt: number): void {
    e.nextHop = nextHop
    e.hops = hops
    e.valid = true
    e.repairing = false
    e.expiresAt = expiresAt
  }

  /** Invalidate: kept DELETE_PERIOD for its sequence number and hop count. */
  invalidate(e: RouteEntry, now: number): void {
    e.valid = false
    e.expiresAt = now + this.deletePeriodMs
  }

  /** Extend an active route's lifetime to at least `now + lifetimeMs` (RFC 6.2). */
  refresh(dst: Addr, now: number, lifetimeMs: number): void {
    const e = this.map.get(dst)
    if (e !== undefined && e.valid && now < e.expiresAt && e.expiresAt < now + lifetimeMs) e.expiresAt = now + lifetimeMs
  }

  /** Active routes whose next hop is `neighbour`. */
  activeVia(neighbour: Addr, now: number): RouteEntry[] {
    const out: RouteEntry[] = []
    for (const e of this.map.values()) if (e.nextHop === neighbour && e.valid && now < e.expiresAt) out.push(e)
    return out
  }

  /** Apply expiry to every entry (invalidate lapsed routes, delete old invalid ones). */
  sweep(now: number): void {
    for (const e of this.map.values()) if (now >= e.expiresAt) this.expire(e, now)
  }

  entries(): IterableIterator<RouteEntry> {
    return this.map.values()
  }

  info(e: RouteEntry, now: number): RouteInfo {
    const info: RouteInfo = { dst: e.dst, nextHop: e.nextHop, hops: e.hops, valid: isActive(e, now), expiresAt: e.expiresAt }
    if (e.validSeq) info.seq = e.seq
    return info
  }

  clear(): void {
    this.map.clear()
  }

  private expire(e: RouteEntry, now: number): RouteEntry | undefined {
    if (e.valid) {
      // Its lifetime lapsed: invalid from then on, deleted DELETE_PERIOD after that.
      e.valid = false
      e.expiresAt += this.deletePeriodMs
      if (now < e.expiresAt) return e
    }
    if (e.repairing) return e // a local repair still needs it; the repair ends by validating or invalidating it
    this.map.delete(e.dst)
    return undefined
  }

  private evict(now: number): void {
    for (const e of this.map.values()) {
      if (!(e.valid && now < e.expiresAt) && !e.repairing) {
        this.map.delete(e.dst)
        return
      }
    }
    const first = this.map.keys().next()
    if (!first.done) this.map.delete(first.value)
  }
}
