/**
 * ODSBR link weight management (seed 003 §4.3; PROTOCOLS.md §4 phase 3): the source's memory of
 * the links fault detection convicted, and the weight list its REQUESTs carry so that route
 * discovery avoids them.
 *
 * Rules (τ = `lossThreshold`, μ = the losses that convicted the link):
 * - conviction doubles the link's weight (up to `maxLinkWeight`) and adds μ/τ to its counter;
 * - each good (acked) packet drains every non-zero counter by 1/m, m = links with a non-zero
 *   counter, so the amortisation cost is shared: the aggregate loss stays within 2τ;
 * - a counter reaching zero halves the weight (never below `baseLinkWeight`).
 *
 * One refinement of "a counter reaching zero": a link's counter is kept as one share of μ/τ per
 * conviction that doubled its weight (FIFO). Draining each share halves the weight once, so a link
 * convicted j times is rehabilitated j times, each after μ/τ good packets (the paper's analysis,
 * w = 2^(j − a)), and a link whose counter is back at zero is back at base weight. A conviction that
 * cannot double the weight any more (capped) adds its μ/τ to the newest share instead. A literal
 * reading (one halving when the whole counter empties) would leave twice-convicted links heavy
 * forever.
 *
 * Bounded: a link is tracked only while its counter is non-zero (at zero it is at base weight and
 * forgotten); at most `maxLinks` are tracked, a new conviction then evicts the lightest, least
 * recently convicted link.
 *
 * Pure logic: no clock, no I/O; the composer feeds convictions and good packets.
 */
import type { Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import type { OdsbrConfig } from './odsbr-defaults.ts'
import { linkEnds, type LinkKey, type Path } from './odsbr-types.ts'

/** One entry of a REQUEST's weight list: link (a, b), a < b, and its weight. */
export interface WeightEntry { a: Addr; b: Addr; weight: number }

/** Counters below this are zero (μ/τ and 1/m are not exact in binary). */
const EPSILON = 1e-9

/** Default bound on tracked links when the caller gives none. */
export const DEFAULT_MAX_TRACKED_LINKS = 1024

interface Tracked {
  weight: number
  /** Remaining μ/τ share of each conviction that doubled the weight, oldest first; never empty. */
  shares: number[]
  /** Sequence number of the latest conviction (list order ties, eviction). */
  seq: number
}

export class LinkWeights {
  private readonly base: number
  private readonly max: number
  private readonly tau: number
  private readonly maxLinks: number
  private readonly links = new Map<LinkKey, Tracked>()
  private seq = 0

  constructor(config: OdsbrConfig, maxLinks: number = DEFAULT_MAX_TRACKED_LINKS) {
    if (!Number.isInteger(maxLinks) || maxLinks < 1) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `LinkWeights: maxLinks must be a positive integer, got ${maxLinks}`)
    }
    this.base = config.baseLinkWeight
    this.max = config.maxLinkWeight
    this.tau = config.lossThreshold
    this.maxLinks = maxLinks
  }

  /** Links tracked (those with a non-zero counter); at most `maxLinks`. */
  get size(): number {
    return this.links.size
  }

  /** The link's weight: `baseLinkWeight` unless convicted and not yet rehabilitated. */
  weight(link: LinkKey): number {
    return this.links.get(link)?.weight ?? this.base
  }

  /** The link's counter: good packets (shared 1/m) still owed before it is back at base; 0 if untracked. */
  counter(link: LinkKey): number {
    const t = this.links.get(link)
    return t === undefined ? 0 : sum(t.shares)
  }

  /**
   * A faulty link identified (detection): its weight doubles (capped at `maxLinkWeight`); its
   * counter grows by μ/τ (`losses` = μ > 0). Returns the new weight.
   */
  convict(link: LinkKey, losses: number): number {
    if (!Number.isFinite(losses) || losses <= 0) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `LinkWeights.convict: losses (μ) must be a positive number, got ${losses}`)
    }
    const share = losses / this.tau
    let t = this.links.get(link)
    if (t === undefined) {
      if (this.links.size >= this.maxLinks) this.evictOne()
      t = { weight: this.base, shares: [], seq: 0 }
      this.links.set(link, t)
    }
    const doubled = Math.min(this.max, t.weight * 2)
    if (doubled > t.weight || t.shares.length === 0) {
      t.shares.push(share)
    } else {
      t.shares[t.shares.length - 1] += share
    }
    t.weight = doubled
    t.seq = ++this.seq
    return t.weight
  }

  /**
   * A packet delivered (acked end to end): each non-zero counter drains by 1/m (m = links with a
   * non-zero counter); every conviction share emptied halves its link's weight (not below base).
   */
  goodPacket(): void {
    const m = this.links.size
    if (m === 0) return
    const step = 1 / m
    for (const [key, t] of this.links) {
      let d = step
      while (d > 0 && t.shares.length > 0) {
        const head = t.shares[0]
        if (head <= d + EPSILON) {
          d -= head
          t.shares.shift()
          t.weight = Math.max(this.base, Math.floor(t.weight / 2))
        } else {
          t.shares[0] = head - d
          d = 0
        }
      }
      if (t.shares.length === 0) this.links.delete(key) // counter 0: back at base weight
    }
  }

  /**
   * What a REQUEST carries: links above base weight, heaviest first (ties: most recently convicted
   * first), at most `max` entries. Links not listed count as base weight.
   */
  list(max: number): WeightEntry[] {
    if (!Number.isInteger(max) || max < 0) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `LinkWeights.list: max must be a non-negative integer, got ${max}`)
    }
    const heavy: Array<[LinkKey, Tracked]> = []
    for (const e of this.links) if (e[1].weight > this.base) heavy.push(e)
    heavy.sort((x, y) => y[1].weight - x[1].weight || y[1].seq - x[1].seq)
    return heavy.slice(0, max).map(([key, t]) => {
      const [a, b] = linkEnds(key)
      return { a, b, weight: t.weight }
    })
  }

  /**
   * Convicted links (above base weight) per node at either end. A node on several convicted links
   * is likely the faulty one; the source breaks ties between equally light paths with this.
   */
  suspects(): Map<Addr, number> {
    const out = new Map<Addr, number>()
    for (const [key, t] of this.links) {
      if (t.weight <= this.base) continue
      for (const n of linkEnds(key)) out.set(n, (out.get(n) ?? 0) + 1)
    }
    return out
  }

  /** Drop the lightest, least recently convicted link to make room. */
  private evictOne(): void {
    let victim: LinkKey | undefined
    let vt: Tracked | undefined
    for (const [key, t] of this.links) {
      if (vt === undefined || t.weight < vt.weight || (t.weight === vt.weight && t.seq < vt.seq)) {
        victim = key
        vt = t
      }
    }
    if (victim !== undefined) this.links.delete(victim)
  }
}

function sum(xs: readonly number[]): number {
  let s = 0
  for (const x of xs) s += x
  return s
}

/**
 * Weight of link (a, b) under a REQUEST's weight list: the listed weight, or `base` if the link is
 * not listed. Route discovery computes path weights with the SOURCE's list. Either endpoint order
 * matches (a list decoded from the wire is not trusted to be normalised); the first match wins.
 */
export function listWeight(list: readonly WeightEntry[], a: Addr, b: Addr, base: number): number {
  for (const e of list) {
    if ((e.a === a && e.b === b) || (e.a === b && e.b === a)) return e.weight
  }
  return base
}

/** Sum of the link weights of `path` under `list` (0 for a path without links). */
export function pathWeight(list: readonly WeightEntry[], path: Path, base: number): number {
  let w = 0
  for (let i = 0; i + 1 < path.length; i++) w += listWeight(list, path[i], path[i + 1], base)
  return w
}
