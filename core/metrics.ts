/**
 * Metrics: counters and histograms per node and layer. Memory is bounded: a histogram keeps
 * log-spaced buckets (1 % relative precision), not samples, so quantiles of positive values are
 * exact to within 1 %. Values <= 0 share one bucket, reported by quantile() as 0 (count, sum,
 * mean, min and max stay exact). Latencies and sizes, what we record, are positive.
 */

export class Counter {
  value = 0
  inc(n = 1): void {
    this.value += n
  }
}

const GAMMA = 1.02 // bucket width ratio: quantiles within ±1 %
const LOG_GAMMA = Math.log(GAMMA)

export class Histogram {
  count = 0
  sum = 0
  min = Infinity
  max = -Infinity
  private readonly buckets = new Map<number, number>()
  private nonPositive = 0

  record(v: number): void {
    if (!Number.isFinite(v)) return
    this.count++
    this.sum += v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    if (v <= 0) {
      this.nonPositive++
      return
    }
    const k = Math.floor(Math.log(v) / LOG_GAMMA)
    this.buckets.set(k, (this.buckets.get(k) ?? 0) + 1)
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count
  }

  /** The q-quantile (0 ≤ q ≤ 1), 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    if (q <= 0) return this.min
    if (q >= 1) return this.max
    const rank = q * this.count
    let seen = this.nonPositive
    if (seen >= rank) return Math.min(0, this.max)
    const keys = [...this.buckets.keys()].sort((a, b) => a - b)
    for (const k of keys) {
      seen += this.buckets.get(k)!
      if (seen >= rank) {
        const mid = Math.pow(GAMMA, k + 0.5)
        return Math.min(this.max, Math.max(this.min, mid))
      }
    }
    return this.max
  }

  merge(other: Histogram): void {
    this.count += other.count
    this.sum += other.sum
    this.min = Math.min(this.min, other.min)
    this.max = Math.max(this.max, other.max)
    this.nonPositive += other.nonPositive
    for (const [k, n] of other.buckets) this.buckets.set(k, (this.buckets.get(k) ?? 0) + n)
  }

  summary(): { count: number; mean: number; min: number; max: number; p50: number; p95: number } {
    return {
      count: this.count,
      mean: this.mean,
      min: this.count ? this.min : 0,
      max: this.count ? this.max : 0,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
    }
  }
}

/** Counters and histograms of one node and one layer. */
export interface MetricsScope {
  counter(name: string): Counter
  histogram(name: string): Histogram
}

type NodeKey = number | string

/** All metrics of a simulation or a daemon, addressed by layer, node and name. */
export class MetricsRegistry {
  private readonly counters = new Map<string, Map<NodeKey, Map<string, Counter>>>()
  private readonly histograms = new Map<string, Map<NodeKey, Map<string, Histogram>>>()

  scope(layer: string, node: NodeKey = '-'): MetricsScope {
    return {
      counter: (name) => getOrMake(this.counters, layer, node, name, () => new Counter()),
      histogram: (name) => getOrMake(this.histograms, layer, node, name, () => new Histogram()),
    }
  }

  /** Sum of one counter over all nodes of a layer. */
  total(layer: string, name: string): number {
    let sum = 0
    for (const byName of this.counters.get(layer)?.values() ?? []) sum += byName.get(name)?.value ?? 0
    return sum
  }

  /** Value of one counter at one node. */
  value(layer: string, node: NodeKey, name: string): number {
    return this.counters.get(layer)?.get(node)?.get(name)?.value ?? 0
  }

  /** `{ layer: { counter: totalOverNodes } }`, keys sorted for stable JSON. */
  totals(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {}
    for (const layer of [...this.counters.keys()].sort()) {
      const sums: Record<string, number> = {}
      for (const byName of this.counters.get(layer)!.values()) {
        for (const [name, c] of byName) sums[name] = (sums[name] ?? 0) + c.value
      }
      out[layer] = Object.fromEntries(Object.entries(sums).sort(([a], [b]) => (a < b ? -1 : 1)))
    }
    return out
  }

  /** Every histogram merged over nodes and summarised: `{ layer: { name: summary } }`, keys sorted. */
  histogramTotals(): Record<string, Record<string, ReturnType<Histogram['summary']>>> {
    const out: Record<string, Record<string, ReturnType<Histogram['summary']>>> = {}
    for (const layer of [...this.histograms.keys()].sort()) {
      const names = new Set<string>()
      for (const byName of this.histograms.get(layer)!.values()) for (const n of byName.keys()) names.add(n)
      out[layer] = {}
      for (const name of [...names].sort()) out[layer][name] = this.mergedHistogram(layer, name).summary()
    }
    return out
  }

  /** One histogram merged over all nodes of a layer. */
  mergedHistogram(layer: string, name: string): Histogram {
    const h = new Histogram()
    for (const byName of this.histograms.get(layer)?.values() ?? []) {
      const x = byName.get(name)
      if (x) h.merge(x)
    }
    return h
  }
}

function getOrMake<T>(
  root: Map<string, Map<NodeKey, Map<string, T>>>,
  layer: string,
  node: NodeKey,
  name: string,
  make: () => T,
): T {
  let byNode = root.get(layer)
  if (!byNode) root.set(layer, (byNode = new Map()))
  let byName = byNode.get(node)
  if (!byName) byNode.set(node, (byName = new Map()))
  let m = byName.get(name)
  if (!m) byName.set(name, (m = make()))
  return m
}
