/**
 * ODSBR Byzantine fault detection at the source (seed 003 §4.2 "Interval and Probe Management",
 * figure 3; PROTOCOLS.md §4 phase 2): which path nodes must ack (the probes), how losses are
 * attributed to intervals, when an interval is faulty, the binary search that pins a fault to one
 * link, and when probes retire.
 *
 * A path has n = path.length − 1 hops; path index 0 is the source, n the destination. The probe
 * points [0, probes...] cut the path into intervals (from, to]. The composer sends each data packet
 * with the current `probes()`, works out from the aggregated acks (figure 4) whether it was acked or
 * lost before probe j, and feeds that `PacketOutcome` here:
 * - `acked`: a success on every interval; then every counter > 0 drops by 1, and a probe whose two
 *   neighbouring intervals are both at 0 retires (the intervals join, with fresh statistics); the
 *   destination never retires;
 * - `lost` before j: a success on every interval before the one ending at j, a loss on that one,
 *   nothing for the intervals after it (they never saw the packet).
 * An interval's loss rate is losses / packets over its last `lossWindow` packets; it is faulty when
 * it carried at least `minPacketsForFault` of them and the rate is ≥ τ (`lossThreshold`), or when
 * its last `burstLossesForFault` packets were all lost (a broken link or a black hole is found
 * without waiting for `minPacketsForFault` packets; 0 turns this off). A fault
 * on an interval of several links inserts a probe in its middle: both halves start with counter
 * μ/τ + C (μ = the window's losses, C = the faulty interval's counter) and fresh statistics. A fault
 * on a single link convicts that link (pass it to `LinkWeights.convict` and rediscover) and resets
 * the interval's statistics. A faulty link on an n-hop path is thus found after at most ⌈log2 n⌉
 * splitting faults, plus the fault that convicts it.
 *
 * Outcomes must refer to the probe list they were sent with: `epoch` changes whenever the probes
 * do, and a `lost` outcome naming a point that is not a current probe is an error, so the composer
 * drops (or re-checks) losses of packets sent under another epoch. Acked outcomes are always valid.
 *
 * Pure logic: no clock, no I/O, no crypto.
 */
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import type { OdsbrConfig } from './odsbr-defaults.ts'
import { linkKey, type LinkKey, type PacketOutcome, type Path } from './odsbr-types.ts'

export type DetectionEvent =
  | { kind: 'fault'; interval: [number, number]; losses: number }
  | { kind: 'probe-added'; index: number }
  | { kind: 'probe-retired'; index: number }
  | { kind: 'convicted'; link: LinkKey; losses: number }

/** Counters below this are zero (μ/τ is not exact in binary). */
const EPSILON = 1e-9

/** Sliding loss window of one interval: the last `capacity` packets it carried. */
class LossWindow {
  private readonly ring: Uint8Array
  private head = 0
  count = 0
  lost = 0
  /** Consecutive losses at the tail of the window. */
  run = 0

  constructor(capacity: number) {
    this.ring = new Uint8Array(capacity)
  }

  record(lost: boolean): void {
    const cap = this.ring.length
    if (this.count === cap) {
      this.lost -= this.ring[this.head]
    } else {
      this.count++
    }
    this.ring[this.head] = lost ? 1 : 0
    this.lost += lost ? 1 : 0
    this.run = lost ? this.run + 1 : 0
    this.head = (this.head + 1) % cap
  }
}

interface Interval {
  from: number
  to: number
  counter: number
  window: LossWindow
  /** Cut out by a burst that probed every node: judged on its loss rate only over a full window. */
  probeAll: boolean
}

export class FaultDetector {
  readonly path: Path
  private readonly tau: number
  private readonly windowSize: number
  private readonly minPackets: number
  private readonly burst: number
  private readonly probeAllOnBurst: boolean
  /** Intervals in path order; the last ends at the destination. */
  private readonly ivs: Interval[]
  private epochValue = 0

  constructor(path: Path, config: OdsbrConfig) {
    if (path.length < 2) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `FaultDetector: a path needs a source and a destination, got ${path.length} node(s)`)
    }
    if (new Set(path).size !== path.length) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `FaultDetector: path repeats a node: ${path.join(' ')}`)
    }
    this.path = Object.freeze([...path])
    this.tau = config.lossThreshold
    this.windowSize = config.lossWindow
    this.minPackets = config.minPacketsForFault
    this.burst = config.burstLossesForFault
    this.probeAllOnBurst = config.probeAllOnBurst
    this.ivs = [this.fresh(0, path.length - 1, 0)]
  }

  /** Changes whenever `probes()` changes (a probe added or retired). */
  get epoch(): number {
    return this.epochValue
  }

  /** Path indices (1..n) that must ack: the probes in path order, the destination (n) always last. */
  probes(): number[] {
    return this.ivs.map((iv) => iv.to)
  }

  /** Counters and window statistics (`sent`, `lost`: over the last `lossWindow` packets), in path order. */
  intervals(): Array<{ from: number; to: number; counter: number; sent: number; lost: number }> {
    return this.ivs.map((iv) => ({ from: iv.from, to: iv.to, counter: iv.counter, sent: iv.window.count, lost: iv.window.lost }))
  }

  /**
   * Feed the outcome of one data packet sent with the current `probes()`; returns what happened,
   * in order. A `convicted` event means: pass the link to `LinkWeights.convict` and rediscover.
   */
  outcome(o: PacketOutcome): DetectionEvent[] {
    if (o.kind === 'acked') return this.acked()
    if (o.kind === 'lost') return this.lost(o.lostBefore)
    throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `FaultDetector.outcome: unknown outcome kind ${String((o as { kind: unknown }).kind)}`)
  }

  private acked(): DetectionEvent[] {
    for (const iv of this.ivs) {
      iv.window.record(false)
      if (iv.counter > 0) iv.counter = iv.counter - 1 < EPSILON ? 0 : iv.counter - 1
    }
    const events: DetectionEvent[] = []
    // Retire every probe (not the destination) with both neighbouring counters at 0; a joined
    // interval has counter 0, so a run of zero intervals collapses into one.
    for (let i = 0; i + 1 < this.ivs.length;) {
      const left = this.ivs[i], right = this.ivs[i + 1]
      if (left.counter === 0 && right.counter === 0) {
        events.push({ kind: 'probe-retired', index: left.to })
        this.ivs.splice(i, 2, this.fresh(left.from, right.to, 0))
        this.epochValue++
      } else {
        i++
      }
    }
    return events
  }

  private lost(lostBefore: number): DetectionEvent[] {
    const k = this.ivs.findIndex((iv) => iv.to === lostBefore)
    if (k < 0) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT,
        `FaultDetector.outcome: lostBefore ${lostBefore} is not a current probe point (probes ${this.probes().join(',')}, epoch ${this.epochValue}); drop outcomes of packets sent under another epoch`)
    }
    for (let i = 0; i < k; i++) this.ivs[i].window.record(false)
    const iv = this.ivs[k]
    iv.window.record(true)
    const w = iv.window
    const burst = this.burst > 0 && w.run >= this.burst
    // An interval cut out by a burst is one of many judged at once: its loss rate counts only over
    // a full window, or one ordinary loss early on would convict an honest link (the burst rule
    // still applies from its first packet).
    const judgedFrom = iv.probeAll ? this.windowSize : this.minPackets
    if (!burst && (w.count < judgedFrom || w.lost / w.count < this.tau)) return []
    const mu = w.lost
    const events: DetectionEvent[] = [{ kind: 'fault', interval: [iv.from, iv.to], losses: mu }]
    if (iv.to - iv.from === 1) {
      events.push({ kind: 'convicted', link: linkKey(this.path[iv.from], this.path[iv.to]), losses: mu })
      iv.window = new LossWindow(this.windowSize)
      return events
    }
    const counter = mu / this.tau + iv.counter
    // A burst (everything lost) asks every node of the interval to ack: the next burst convicts.
    // A loss rate between τ and 100 % halves the interval (binary search).
    const cuts: number[] = []
    if (burst && this.probeAllOnBurst) for (let i = iv.from + 1; i < iv.to; i++) cuts.push(i)
    else cuts.push(Math.floor((iv.from + iv.to) / 2))
    const parts = [iv.from, ...cuts, iv.to]
    const probeAll = cuts.length > 1
    this.ivs.splice(k, 1, ...cuts.concat(iv.to).map((to, i) => ({ ...this.fresh(parts[i], to, counter), probeAll })))
    this.epochValue++
    for (const index of cuts) events.push({ kind: 'probe-added', index })
    return events
  }

  private fresh(from: number, to: number, counter: number): Interval {
    return { from, to, counter, window: new LossWindow(this.windowSize), probeAll: false }
  }
}
