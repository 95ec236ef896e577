/**
 * Clock offsets between nodes of a live run, from the frames they logged (field-tests/collect.ts).
 * Nodes' wall clocks disagree; every node logs the frames it sends (`tx`, with its own `wall`) and
 * the frames it hears (`rx`, with its own `wall`). A frame of A heard by B gives
 * `rx_wall_B − tx_wall_A = (off_B − off_A) + delay`; over a pair with frames both ways, NTP-style,
 *
 *   d_AB = median(rx_wall_B − tx_wall_A),  d_BA likewise,  off_B − off_A ≈ (d_AB − d_BA) / 2
 *
 * (the delays cancel when they are symmetric: same radios, same frame sizes, same logging path).
 *
 * Frames are matched by (sender, kind, seq). A seq is a u16 and wraps, so one seq can name several
 * frames of a long log: every candidate's difference is binned, the fullest bin (with its
 * neighbours) gives a coarse offset, and each reception keeps the candidate nearest to it, within
 * `windowMs`. This needs no prior bound on how far clocks are apart, only that a seq does not come
 * round again within the spread of delays. Beacons are used for a pair when it has them both ways,
 * otherwise data frames (link seq of the sender) the same way.
 *
 * Offsets are then chained from a reference node along a maximum spanning tree over pairs (weight:
 * matched frames of the weaker direction), so each node's offset rests on the best-measured links.
 * Nodes with no chain to the reference are unsynchronised (offset 0). Given a list of candidates
 * instead of one reference, the reference is the first candidate of the largest connected component
 * of measured pairs, so a reference that heard nobody does not leave every node unsynchronised.
 * Sans-IO: callers feed observations, `estimate` returns numbers.
 */

export type SyncKind = 'beacon' | 'data'

export interface ClockSyncOptions {
  /** A reception is matched to the send whose difference is nearest the coarse offset, if within this (ms). Default 2000. */
  windowMs?: number
  /** Width of the bins that find the coarse offset, ms. Default 1000. */
  binMs?: number
}

/** One measured pair: `offsetMs` = off_b − off_a. */
export interface PairEstimate {
  a: number
  b: number
  offsetMs: number
  /** Matched frames a→b and b→a. */
  matches: [number, number]
  kind: SyncKind
}

export interface ClockEstimate {
  reference: number
  /** Node → its wall clock minus the reference's, ms; 0 for the reference and for unsynchronised nodes. */
  offsetsMs: Map<number, number>
  /** Nodes with no chain of measured pairs to the reference, sorted. */
  unsynchronised: number[]
  /** Every pair measured both ways (for diagnostics), and the ones the spanning tree used. */
  pairs: PairEstimate[]
  tree: PairEstimate[]
}

/** Receptions of one sender's frames of one kind at one receiver. */
interface RxList {
  seqs: number[]
  walls: number[]
}

const KINDS: readonly SyncKind[] = ['beacon', 'data']

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Directed one-way measure: median difference and how many receptions matched. */
interface Directed {
  d: number
  n: number
}

export class ClockSync {
  private readonly windowMs: number
  private readonly binMs: number
  /** kind → sender → seq → wall clocks of its sends with that seq. */
  private readonly sent = new Map<SyncKind, Map<number, Map<number, number[]>>>()
  /** kind → sender → receiver → receptions. */
  private readonly heard = new Map<SyncKind, Map<number, Map<number, RxList>>>()

  constructor(opts: ClockSyncOptions = {}) {
    this.windowMs = opts.windowMs ?? 2000
    this.binMs = opts.binMs ?? 1000
    for (const k of KINDS) {
      this.sent.set(k, new Map())
      this.heard.set(k, new Map())
    }
  }

  /** `node` sent its frame (kind, seq) at its wall clock `wall`. */
  tx(node: number, kind: SyncKind, seq: number, wall: number): void {
    const bySender = this.sent.get(kind)!
    let bySeq = bySender.get(node)
    if (bySeq === undefined) bySender.set(node, (bySeq = new Map()))
    const list = bySeq.get(seq)
    if (list === undefined) bySeq.set(seq, [wall])
    else list.push(wall)
  }

  /** `node` heard `src`'s frame (kind, seq) at its own wall clock `wall`. */
  rx(node: number, kind: SyncKind, src: number, seq: number, wall: number): void {
    if (node === src) return
    const bySender = this.heard.get(kind)!
    let byReceiver = bySender.get(src)
    if (byReceiver === undefined) bySender.set(src, (byReceiver = new Map()))
    let list = byReceiver.get(node)
    if (list === undefined) byReceiver.set(node, (list = { seqs: [], walls: [] }))
    list.seqs.push(seq)
    list.walls.push(wall)
  }

  /** d_AB for frames of `a` heard by `b`, or null when none matched. */
  private directed(kind: SyncKind, a: number, b: number): Directed | null {
    const rx = this.heard.get(kind)!.get(a)?.get(b)
    const tx = this.sent.get(kind)!.get(a)
    if (rx === undefined || tx === undefined) return null
    // Coarse offset: the fullest bin of every candidate difference.
    const bins = new Map<number, number>()
    let any = false
    for (let i = 0; i < rx.seqs.length; i++) {
      const sends = tx.get(rx.seqs[i])
      if (sends === undefined) continue
      for (const w of sends) {
        const bin = Math.floor((rx.walls[i] - w) / this.binMs)
        bins.set(bin, (bins.get(bin) ?? 0) + 1)
        any = true
      }
    }
    if (!any) return null
    let best = 0
    let bestCount = -1
    for (const [bin, count] of bins) {
      const c = count + (bins.get(bin - 1) ?? 0) + (bins.get(bin + 1) ?? 0)
      if (c > bestCount || (c === bestCount && Math.abs(bin) < Math.abs(best))) {
        best = bin
        bestCount = c
      }
    }
    const lo = (best - 1) * this.binMs
    const hi = (best + 2) * this.binMs
    const near: number[] = []
    for (let i = 0; i < rx.seqs.length; i++) {
      for (const w of tx.get(rx.seqs[i]) ?? []) {
        const diff = rx.walls[i] - w
        if (diff >= lo && diff < hi) near.push(diff)
      }
    }
    const coarse = median(near)
    // Fine: each reception's candidate nearest the coarse offset, within the window.
    const diffs: number[] = []
    for (let i = 0; i < rx.seqs.length; i++) {
      const sends = tx.get(rx.seqs[i])
      if (sends === undefined) continue
      let pick = NaN
      for (const w of sends) {
        const diff = rx.walls[i] - w
        if (Number.isNaN(pick) || Math.abs(diff - coarse) < Math.abs(pick - coarse)) pick = diff
      }
      if (Math.abs(pick - coarse) <= this.windowMs) diffs.push(pick)
    }
    return diffs.length ? { d: median(diffs), n: diffs.length } : null
  }

  /** Every pair with frames matched both ways: beacons where they suffice, data frames otherwise. */
  pairs(): PairEstimate[] {
    const ends = new Map<string, [number, number]>()
    for (const kind of KINDS) {
      for (const [a, byReceiver] of this.heard.get(kind)!) {
        for (const b of byReceiver.keys()) ends.set(`${Math.min(a, b)}/${Math.max(a, b)}`, [Math.min(a, b), Math.max(a, b)])
      }
    }
    const out: PairEstimate[] = []
    for (const [a, b] of ends.values()) {
      for (const kind of KINDS) {
        const ab = this.directed(kind, a, b)
        const ba = ab && this.directed(kind, b, a)
        if (!ab || !ba) continue
        out.push({ a, b, offsetMs: (ab.d - ba.d) / 2, matches: [ab.n, ba.n], kind })
        break
      }
    }
    return out.sort((x, y) => x.a - y.a || x.b - y.b)
  }

  /**
   * Offsets of `nodes` relative to `reference`, chained along a maximum spanning tree (Prim from
   * the reference; weight: the matched frames of the pair's weaker direction). `reference` may be
   * a list of candidates in order of preference (at least one): the first one in the largest
   * connected component of measured pairs is taken (the result's `reference`).
   */
  estimate(reference: number | readonly number[], nodes: Iterable<number>): ClockEstimate {
    const pairs = this.pairs()
    const adj = new Map<number, PairEstimate[]>()
    for (const p of pairs) {
      for (const n of [p.a, p.b]) {
        let l = adj.get(n)
        if (l === undefined) adj.set(n, (l = []))
        l.push(p)
      }
    }
    if (typeof reference !== 'number') reference = largestComponentFirst(reference, adj)
    const weight = (p: PairEstimate) => Math.min(p.matches[0], p.matches[1])
    const offsets = new Map<number, number>([[reference, 0]])
    const tree: PairEstimate[] = []
    // Frontier: edges from the tree to outside nodes; a plain scan is plenty for field-test sizes.
    for (;;) {
      let best: PairEstimate | undefined
      for (const n of offsets.keys()) {
        for (const p of adj.get(n) ?? []) {
          const other = p.a === n ? p.b : p.a
          if (offsets.has(other)) continue
          if (best === undefined || weight(p) > weight(best) || (weight(p) === weight(best) && (p.a < best.a || (p.a === best.a && p.b < best.b)))) best = p
        }
      }
      if (best === undefined) break
      tree.push(best)
      if (offsets.has(best.a)) offsets.set(best.b, offsets.get(best.a)! + best.offsetMs)
      else offsets.set(best.a, offsets.get(best.b)! - best.offsetMs)
    }
    const unsynchronised: number[] = []
    const out = new Map<number, number>()
    for (const n of new Set([reference, ...nodes])) {
      const o = offsets.get(n)
      if (o === undefined) unsynchronised.push(n)
      out.set(n, o ?? 0)
    }
    for (const [n, o] of offsets) out.set(n, o)
    unsynchronised.sort((a, b) => a - b)
    return { reference, offsetsMs: out, unsynchronised, pairs, tree }
  }
}

/** The first candidate whose connected component (over measured pairs) is the largest. */
function largestComponentFirst(candidates: readonly number[], adj: Map<number, PairEstimate[]>): number {
  if (candidates.length === 0) throw new RangeError('clock sync: no candidate reference node')
  const size = new Map<number, number>()
  let best = candidates[0]
  let bestSize = 0
  for (const c of candidates) {
    if (size.has(c)) continue
    // Walk c's component, recording its size for each member.
    const seen = new Set([c])
    const todo = [c]
    while (todo.length) {
      const n = todo.pop()!
      for (const p of adj.get(n) ?? []) {
        const o = p.a === n ? p.b : p.a
        if (!seen.has(o)) {
          seen.add(o)
          todo.push(o)
        }
      }
    }
    for (const n of seen) size.set(n, seen.size)
    if (seen.size > bestSize) {
      best = c
      bestSize = seen.size
    }
  }
  return best
}
