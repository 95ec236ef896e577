/**
 * Radio connectivity over a run: every CONNECTIVITY_SAMPLE_MS of virtual time the radio-connected
 * components of the medium are computed (union-find over node pairs in decode range) and stored
 * compactly, one typed array of component numbers per sample. The loss accounting
 * (loss-reasons.ts) asks whether a receiver that never got a packet was cut off from every node
 * that held it.
 *
 * Sampling must not change a run. It only reads positions (`medium.position`, which fills the
 * medium's position cache with the same values the medium would compute) and asks `inRange`,
 * which draws no randomness. It deliberately avoids `medium.neighbours`, whose spatial-index
 * rebuilds would move with the sampling times and could reorder the medium's later work. The
 * sampling events do add to the scheduler's event count.
 */
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Position } from '../hardware/mobility.ts'
import { distanceForPowerDbm, sensitivityDbm } from '../hardware/propagation.ts'
import type { SimMedium } from '../hardware/sim-medium.ts'

/** Virtual milliseconds between two connectivity samples. */
export const CONNECTIVITY_SAMPLE_MS = 1000

/** What the sampler needs from a medium (SimMedium provides it; tests may fake it). */
export interface RadioGraph {
  nodeIds(): number[]
  /** Position of a node now. */
  position(id: number): Position
  /** Whether `b` can decode `a` now (no randomness drawn). */
  inRange(a: number, b: number): boolean
}

export interface ConnectivityOptions {
  /**
   * A distance in metres beyond which no two nodes are ever in range: pairs further apart (in x
   * or y) are not asked. Without it every pair is asked (fine for small networks).
   */
  cutoffM?: number
}

/**
 * The largest distance at which any node of `medium` can decode any other (mean power, as
 * `inRange`), with a little slack: a safe `cutoffM` for a SimMedium.
 */
export function decodeCutoffM(medium: SimMedium): number {
  const configs = medium.nodeIds().map((id) => medium.radio(id).config)
  let cutoff = 0
  if (configs.length === 0) return cutoff
  if (configs[0].propagation === 'unit-disk') {
    for (const c of configs) cutoff = Math.max(cutoff, c.range)
  } else {
    let minSens = Infinity
    for (const c of configs) minSens = Math.min(minSens, sensitivityDbm(c))
    for (const c of configs) cutoff = Math.max(cutoff, distanceForPowerDbm(minSens, c))
  }
  return cutoff * (1 + 1e-9) + 1e-6
}

/** Connected components of the radio graph, sampled over time. */
export class ConnectivitySampler {
  private readonly ids: number[]
  private readonly indexOf = new Map<number, number>()
  private readonly cutoff: number
  private readonly times: number[] = []
  private readonly samples: Array<Uint16Array | Uint32Array> = []
  // scratch, reused by every sample
  private readonly parent: Int32Array
  private readonly xs: Float64Array
  private readonly ys: Float64Array
  private readonly order: number[]

  constructor(
    private readonly graph: RadioGraph,
    opts: ConnectivityOptions = {},
  ) {
    const c = opts.cutoffM ?? Infinity
    if (!(c > 0)) throw new RangeError(`connectivity cutoffM must be a distance > 0 m, got ${opts.cutoffM}`)
    this.cutoff = c
    this.ids = graph.nodeIds()
    this.ids.forEach((id, i) => this.indexOf.set(id, i))
    const n = this.ids.length
    this.parent = new Int32Array(n)
    this.xs = new Float64Array(n)
    this.ys = new Float64Array(n)
    this.order = this.ids.map((_, i) => i)
  }

  /** Number of samples taken. */
  get count(): number {
    return this.samples.length
  }

  /** Virtual time of sample `k`. */
  timeAt(k: number): number {
    return this.times[k]
  }

  /** Index of the first sample taken at or after `t` (`count` if none). */
  firstAtOrAfter(t: number): number {
    let lo = 0, hi = this.times.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.times[mid] < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * The component number of `node` in sample `k`: two nodes were radio-connected (over any number
   * of hops) at that sample iff their numbers are equal. Numbers are 0.. in order of each
   * component's first node. Throws for a node the graph did not have.
   */
  componentOf(k: number, node: number): number {
    const i = this.indexOf.get(node)
    if (i === undefined) throw new RangeError(`connectivity: no node ${node} on the sampled medium`)
    const s = this.samples[k]
    if (s === undefined) throw new RangeError(`connectivity: no sample ${k} (${this.samples.length} taken)`)
    return s[i]
  }

  /** Take a sample now, at virtual time `t`. */
  sample(t: number): void {
    if (this.times.length > 0 && t < this.times[this.times.length - 1]) {
      throw new RangeError(`connectivity samples must be taken in time order: ${t} after ${this.times[this.times.length - 1]}`)
    }
    const { ids, parent, xs, ys, order, graph } = this
    const n = ids.length
    for (let i = 0; i < n; i++) {
      parent[i] = i
      const p = graph.position(ids[i])
      xs[i] = p.x
      ys[i] = p.y
    }
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]]
        i = parent[i]
      }
      return i
    }
    // Sweep along x: only pairs closer than the cutoff in x (and y) can be in range.
    order.sort((a, b) => xs[a] - xs[b] || a - b)
    const cut = this.cutoff
    for (let a = 0; a < n; a++) {
      const i = order[a]
      for (let b = a + 1; b < n; b++) {
        const j = order[b]
        if (xs[j] - xs[i] > cut) break
        if (Math.abs(ys[j] - ys[i]) > cut) continue
        const ri = find(i), rj = find(j)
        if (ri === rj) continue
        if (graph.inRange(ids[i], ids[j]) || graph.inRange(ids[j], ids[i])) parent[ri < rj ? rj : ri] = ri < rj ? ri : rj
      }
    }
    const comp = n <= 0xffff ? new Uint16Array(n) : new Uint32Array(n)
    const label = new Int32Array(n).fill(-1)
    let next = 0
    for (let i = 0; i < n; i++) {
      const r = find(i)
      if (label[r] < 0) label[r] = next++
      comp[i] = label[r]
    }
    this.times.push(t)
    this.samples.push(comp)
  }

  /**
   * Sample at `scheduler.now()` and then every `intervalMs` while the time is at most `untilMs`.
   * Returns a timer that stops the sampling.
   */
  schedule(scheduler: Scheduler, untilMs: number, intervalMs = CONNECTIVITY_SAMPLE_MS): Timer {
    if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) throw new RangeError(`connectivity sampling interval must be a finite number of ms > 0, got ${intervalMs}`)
    let timer: Timer | undefined
    const tick = () => {
      const now = scheduler.now()
      this.sample(now)
      if (now + intervalMs <= untilMs) timer = scheduler.at(intervalMs, tick)
    }
    timer = scheduler.at(0, tick)
    return { cancel: () => timer?.cancel() }
  }
}
