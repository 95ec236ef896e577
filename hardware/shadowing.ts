/**
 * Per-link log-normal shadowing with Gudmundson's spatial correlation.
 *
 * Shadowing comes from obstacles between two places, so it belongs to the link, not to the frame:
 * one standard-normal value Z per unordered node pair, the same in both directions (the medium
 * scales it by the transmitter's `shadowingDb`). While neither node moves, Z stays fixed: a bad
 * static link stays bad, a good one stays good. When they move, Z follows a first-order
 * autoregressive process in the distance moved (Gudmundson 1991):
 *
 *     ρ = exp(−Δ / shadowingCorrelationM),   Z ← ρ·Z + sqrt(1 − ρ²)·N(0, 1)
 *
 * where Δ is the distance the two ends moved since the last update (|Δpos_a| + |Δpos_b|). We use the
 * nodes' displacement rather than the change of their distance so that two nodes moving side by
 * side, or one circling the other, still decorrelate: the obstacles between them change. (As in
 * Gudmundson's model, coming back to the same spot does not restore the old value.)
 *
 * Determinism: the k-th draw of a pair is a counter-based normal, a hash of (seed, lower id, higher
 * id, k) through Box–Muller, so a seed gives the same shadowing whatever the event order, adding a
 * node does not change other links, and no per-pair generator object is needed.
 *
 * Memory: a pair is created only when a transmission's reach covers it (the medium's spatial scan).
 * Pairs of two static nodes are never forgotten (their number is fixed by the geometry). Pairs with a
 * moving end that have not been used for `SHADOWING_IDLE_MS` are pruned in an amortised sweep (when
 * the table has doubled since the last sweep); when such a pair is used again it gets a fresh draw,
 * which is what Gudmundson's process converges to after the nodes moved well beyond a correlation
 * distance. So the table holds the static pairs within reach plus the moving pairs used recently.
 *
 * Layout (this is on the per-receiver, per-frame path): an open-addressing hash table in typed arrays,
 * [key, Z, moving-state index] per slot, so a static link costs one probe into one array; the state
 * of moving pairs (last positions, last use, draw count) lives in a separate pool.
 */
import type { SeededRng } from '../core/rng.ts'

/**
 * A pair with a moving end unused for this long (ms of virtual time) may be forgotten; its next use
 * draws afresh. Ten minutes: at walking speed (1 m/s) that is 600 m, many correlation distances.
 */
export const SHADOWING_IDLE_MS = 600_000

/** Sweeps start once the table has this many pairs. */
const MIN_SWEEP_SIZE = 4096
/** Node indices must stay below this (the medium checks): key = lo · 2^21 + hi, exact in a double. */
export const SHADOWING_MAX_NODES = 0x200000
const EMPTY = 0 // no valid key is 0: lo < hi, so hi ≥ 1
const STRIDE = 3 // key, z, moving-state index (−1: static pair)
const MSTRIDE = 6 // ax, ay, bx, by, lastUsed, draws so far

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** The `n`-th standard-normal draw of the link between node ids `a` < `b` under `seed`. */
export function linkNormal(seed: number, a: number, b: number, n: number): number {
  const h = fmix(fmix(fmix(seed ^ Math.imul(a, 0x9e3779b1)) ^ Math.imul(b, 0x27d4eb2f)) ^ Math.imul(n, 0x165667b1))
  const u1 = (h + 1) / 4294967297 // (0, 1)
  const u2 = fmix(h ^ 0x5bd1e995) / 4294967296
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

export class LinkShadowing {
  private slots = new Float64Array(STRIDE * 1024)
  private mask = 1023
  private count = 0
  private sweepAt = MIN_SWEEP_SIZE
  // Moving pairs: positions of the lower- and higher-index node at the last update, last use, draws.
  private mstate = new Float64Array(MSTRIDE * 64)
  private mused = 0
  private mfree: number[] = []
  private readonly seed: number

  constructor(rng: SeededRng) {
    this.seed = rng.next32()
  }

  /** Pairs currently remembered. */
  get size(): number {
    return this.count
  }

  private static hash(lo: number, hi: number): number {
    let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca6b)
    h ^= h >>> 15
    h = Math.imul(h, 0x2c1b3c6d)
    return h ^ (h >>> 13)
  }

  /**
   * The standard-normal shadowing of the link between node indices `i` and `j` (any order, i ≠ j),
   * with ids `idI`/`idJ` (for the random stream), at positions (xi, yi) and (xj, yj) at time `now`.
   * `moving` is false when both nodes are static. `corrM` is the decorrelation distance.
   */
  z(
    i: number, idI: number, xi: number, yi: number,
    j: number, idJ: number, xj: number, yj: number,
    moving: boolean, corrM: number, now: number,
  ): number {
    // Keyed by node indices, lower first, so both directions share the state.
    const swap = i > j
    const lo = swap ? j : i, hi = swap ? i : j
    const key = lo * SHADOWING_MAX_NODES + hi
    const slots = this.slots
    let s = LinkShadowing.hash(lo, hi) & this.mask
    for (;;) {
      const k = slots[s * STRIDE]
      if (k === key) break
      if (k === EMPTY) return this.create(s, key, idI < idJ ? idI : idJ, idI < idJ ? idJ : idI,
        swap ? xj : xi, swap ? yj : yi, swap ? xi : xj, swap ? yi : yj, moving, now)
      s = (s + 1) & this.mask
    }
    const m = slots[s * STRIDE + 2]
    if (m < 0) return slots[s * STRIDE + 1] // two static nodes (mobility is fixed per node)
    const st = this.mstate, b = m * MSTRIDE
    st[b + 4] = now
    const ax = swap ? xj : xi, ay = swap ? yj : yi
    const bx = swap ? xi : xj, by = swap ? yi : yj
    const dax = ax - st[b], day = ay - st[b + 1], dbx = bx - st[b + 2], dby = by - st[b + 3]
    if (dax === 0 && day === 0 && dbx === 0 && dby === 0) return slots[s * STRIDE + 1]
    const moved = Math.sqrt(dax * dax + day * day) + Math.sqrt(dbx * dbx + dby * dby)
    const rho = Math.exp(-moved / corrM)
    const draw = linkNormal(this.seed, idI < idJ ? idI : idJ, idI < idJ ? idJ : idI, st[b + 5]++)
    const z = rho * slots[s * STRIDE + 1] + Math.sqrt(1 - rho * rho) * draw
    slots[s * STRIDE + 1] = z
    st[b] = ax
    st[b + 1] = ay
    st[b + 2] = bx
    st[b + 3] = by
    return z
  }

  /** A new pair in empty slot `s`; `idA` < `idB` are the node ids. */
  private create(
    s: number, key: number, idA: number, idB: number,
    ax: number, ay: number, bx: number, by: number, moving: boolean, now: number,
  ): number {
    const z = linkNormal(this.seed, idA, idB, 0)
    let m = -1
    if (moving) {
      m = this.mfree.length > 0 ? this.mfree.pop()! : this.mused++
      if ((m + 1) * MSTRIDE > this.mstate.length) {
        const grown = new Float64Array(this.mstate.length * 2)
        grown.set(this.mstate)
        this.mstate = grown
      }
      const b = m * MSTRIDE
      this.mstate[b] = ax
      this.mstate[b + 1] = ay
      this.mstate[b + 2] = bx
      this.mstate[b + 3] = by
      this.mstate[b + 4] = now
      this.mstate[b + 5] = 1
    }
    const slots = this.slots
    slots[s * STRIDE] = key
    slots[s * STRIDE + 1] = z
    slots[s * STRIDE + 2] = m
    this.count++
    if (this.count >= this.sweepAt) this.sweep(now)
    else if (this.count * 2 > this.mask + 1) this.rehash(this.mask + 1, -Infinity)
    return z
  }

  /** Forget pairs with a moving end unused for SHADOWING_IDLE_MS; amortised O(1) per new pair. */
  private sweep(now: number): void {
    this.rehash(this.mask + 1, now - SHADOWING_IDLE_MS)
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * this.count)
  }

  /** Re-insert every pair into a table sized for the load, dropping moving pairs last used before `horizon`. */
  private rehash(capacity: number, horizon: number): void {
    const old = this.slots, oldCap = this.mask + 1
    let kept = 0
    for (let s = 0; s < oldCap; s++) {
      if (old[s * STRIDE] === EMPTY) continue
      const m = old[s * STRIDE + 2]
      if (m >= 0 && this.mstate[m * MSTRIDE + 4] < horizon) {
        old[s * STRIDE] = EMPTY // forget it
        this.mfree.push(m)
      } else kept++
    }
    while (kept * 2 > capacity) capacity *= 2
    const slots = new Float64Array(STRIDE * capacity)
    const mask = capacity - 1
    for (let s = 0; s < oldCap; s++) {
      const key = old[s * STRIDE]
      if (key === EMPTY) continue
      const hi = key % SHADOWING_MAX_NODES, lo = (key - hi) / SHADOWING_MAX_NODES
      let t = LinkShadowing.hash(lo, hi) & mask
      while (slots[t * STRIDE] !== EMPTY) t = (t + 1) & mask
      slots[t * STRIDE] = key
      slots[t * STRIDE + 1] = old[s * STRIDE + 1]
      slots[t * STRIDE + 2] = old[s * STRIDE + 2]
    }
    this.slots = slots
    this.mask = mask
    this.count = kept
  }
}
