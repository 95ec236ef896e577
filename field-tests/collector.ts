/**
 * Delivery accounting for traffic flows: what was expected where, what arrived, how late.
 * PDR = packets delivered / packets that should have been delivered, per receiver summed
 * (PROTOCOLS.md "Terms"). Only first deliveries count; duplicates and deliveries at nodes that were
 * not receivers of the flow are counted separately.
 *
 * Per (flow, receiver) stream it also keeps the jitter of first deliveries (Welford's running
 * variance of inter-arrival times: O(1) memory, no list of arrivals) and counts first deliveries
 * that came by a recovery mechanism (`Delivery.recovered`), with their latencies. It runs for
 * every delivery of every run, so each delivery costs a few map look-ups and no allocation.
 */
import type { Addr } from '../core/addr.ts'
import { tryDecode } from '../core/errors.ts'
import { Histogram } from '../core/metrics.ts'
import type { LossFlow } from './loss-reasons.ts'
import { decodeAppHeader, type Flow } from './traffic.ts'

export interface ReceiverDelivery {
  node: Addr
  expected: number
  delivered: number
}

export interface DeliveryStats {
  expected: number
  delivered: number
  /** First deliveries that came by a recovery mechanism (`Delivery.recovered`). */
  recovered: number
  ratio: number
  perReceiver: { min: number; mean: number; max: number; stdev: number }
  duplicates: number
  stray: number
  malformed: number
  /** Per receiver, sorted by node. */
  receivers: ReceiverDelivery[]
}

/** The first deliveries of one flow at one receiver. */
class Stream {
  readonly seqs = new Set<number>()
  /** Sum of first-delivery latencies, ms. */
  latencySum = 0
  last = NaN
  /** Inter-arrival times seen, their running mean and sum of squared deviations (Welford). */
  gaps = 0
  mean = 0
  m2 = 0

  arrive(at: number): void {
    if (!Number.isNaN(this.last)) {
      const gap = at - this.last
      this.gaps++
      const d = gap - this.mean
      this.mean += d / this.gaps
      this.m2 += d * (gap - this.mean)
    }
    this.last = at
  }
}

export interface DeliveryCollectorOptions {
  /** Called on every first delivery at a receiver of the packet's flow. */
  onFirstDelivery?: (receiver: Addr, flow: number, seq: number, at: number) => void
}

export class DeliveryCollector {
  private readonly flows = new Map<number, Flow>()
  private readonly sentAt = new Map<number, number[]>()
  private readonly expectedBy = new Map<Addr, number>()
  private readonly deliveredBy = new Map<Addr, number>()
  /** flow id → receiver → its stream */
  private readonly streams = new Map<number, Map<Addr, Stream>>()
  private readonly onFirst: DeliveryCollectorOptions['onFirstDelivery']
  private duplicates = 0
  private stray = 0
  private malformed = 0
  private recovered = 0
  private packetsSent = 0
  readonly latency = new Histogram()
  /** Latencies of first deliveries that were recovered. */
  readonly recoveredLatency = new Histogram()

  constructor(opts: DeliveryCollectorOptions = {}) {
    this.onFirst = opts.onFirstDelivery
  }

  addFlow(flow: Flow): void {
    this.flows.set(flow.id, flow)
    this.sentAt.set(flow.id, [])
    const byReceiver = new Map<Addr, Stream>()
    for (const r of flow.receivers) {
      byReceiver.set(r, new Stream())
      if (!this.expectedBy.has(r)) this.expectedBy.set(r, 0)
      if (!this.deliveredBy.has(r)) this.deliveredBy.set(r, 0)
    }
    this.streams.set(flow.id, byReceiver)
  }

  sent(flowId: number, seq: number, at: number): void {
    const flow = this.flows.get(flowId)
    if (flow === undefined) throw new RangeError(`collector: packet sent on unknown flow ${flowId}`)
    this.sentAt.get(flowId)![seq] = at
    this.packetsSent++
    for (const r of flow.receivers) if (flow.wants === undefined || flow.wants(r, seq)) this.expectedBy.set(r, this.expectedBy.get(r)! + 1)
  }

  /**
   * A protocol delivered `payload` at `receiver` (`recovered`: by a recovery mechanism). Returns
   * the latency in ms for a first delivery.
   */
  delivered(receiver: Addr, payload: Uint8Array, at: number, recovered = false): number | undefined {
    const h = tryDecode(decodeAppHeader, payload, () => this.malformed++)
    if (!h) return undefined
    const stream = this.streams.get(h.flow)?.get(receiver)
    const sentAt = this.sentAt.get(h.flow)?.[h.seq]
    const wants = this.flows.get(h.flow)?.wants
    if (!stream || sentAt === undefined || (wants !== undefined && !wants(receiver, h.seq))) {
      this.stray++
      return undefined
    }
    if (stream.seqs.has(h.seq)) {
      this.duplicates++
      return undefined
    }
    stream.seqs.add(h.seq)
    stream.arrive(at)
    this.deliveredBy.set(receiver, this.deliveredBy.get(receiver)! + 1)
    const latency = at - sentAt
    stream.latencySum += latency
    this.latency.record(latency)
    if (recovered) {
      this.recovered++
      this.recoveredLatency.record(latency)
    }
    this.onFirst?.(receiver, h.flow, h.seq, at)
    return latency
  }

  /** The flows added, in id order. */
  flowList(): Flow[] {
    return [...this.flows.values()]
  }

  /** First deliveries of flow `flowId` at `receiver`, with their mean latency (null when none), and packets sent on the flow. */
  receiverStats(flowId: number, receiver: Addr): { delivered: number; meanLatencyMs: number | null; sent: number } {
    const st = this.streams.get(flowId)?.get(receiver)
    const sent = this.sentAt.get(flowId)?.filter((t) => t !== undefined).length ?? 0
    if (st === undefined) return { delivered: 0, meanLatencyMs: null, sent }
    return { delivered: st.seqs.size, meanLatencyMs: st.seqs.size ? st.latencySum / st.seqs.size : null, sent }
  }

  get sentPackets(): number {
    return this.packetsSent
  }

  /** Packets each origin node sent, over all its flows (nodes that sent nothing are absent). */
  sentBy(): Map<Addr, number> {
    const out = new Map<Addr, number>()
    for (const [id, times] of this.sentAt) {
      const from = this.flows.get(id)!.from
      let n = 0
      for (const t of times) if (t !== undefined) n++
      if (n) out.set(from, (out.get(from) ?? 0) + n)
    }
    return out
  }

  /**
   * Delivery by send time: for the packets sent in each `bucketMs`-wide window from 0 (index =
   * window), the deliveries expected and the first deliveries made. Windows after the last send
   * are not listed; over all windows the sums equal `stats()` expected and delivered.
   */
  bySendTime(bucketMs: number): Array<{ expected: number; delivered: number }> {
    if (!(bucketMs > 0)) throw new RangeError(`collector: bucketMs must be > 0, got ${bucketMs}`)
    const out: Array<{ expected: number; delivered: number }> = []
    for (const [id, times] of this.sentAt) {
      const flow = this.flows.get(id)!
      const streams = this.streams.get(id)!
      times.forEach((t, seq) => {
        const i = Math.max(0, Math.floor(t / bucketMs))
        for (let k = out.length; k <= i; k++) out.push({ expected: 0, delivered: 0 })
        const b = out[i]
        for (const r of flow.receivers) {
          if (flow.wants !== undefined && !flow.wants(r, seq)) continue
          b.expected++
          if (streams.get(r)!.seqs.has(seq)) b.delivered++
        }
      })
    }
    return out
  }

  /**
   * Jitter: for every (flow, receiver) stream with at least 3 first deliveries, the population
   * standard deviation of the times between consecutive first deliveries; the mean over those
   * streams, or null when there are none.
   */
  jitterMs(): number | null {
    let sum = 0
    let n = 0
    for (const byReceiver of this.streams.values()) {
      for (const s of byReceiver.values()) {
        if (s.gaps < 2) continue
        sum += Math.sqrt(s.m2 / s.gaps)
        n++
      }
    }
    return n ? sum / n : null
  }

  /** The flows of a pattern, in flow id order, as the loss accounting reads them. */
  lossFlows(pattern: Flow['pattern']): LossFlow[] {
    const out: LossFlow[] = []
    for (const f of [...this.flows.values()].sort((a, b) => a.id - b.id)) {
      if (f.pattern !== pattern) continue
      const streams = this.streams.get(f.id)!
      out.push({ id: f.id, receivers: f.receivers, sentAt: this.sentAt.get(f.id)!, delivered: (r) => streams.get(r)?.seqs ?? NO_SEQS })
    }
    return out
  }

  stats(): DeliveryStats {
    let expected = 0
    let delivered = 0
    const ratios: number[] = []
    const receivers: ReceiverDelivery[] = []
    for (const [r, e] of this.expectedBy) {
      const d = this.deliveredBy.get(r)!
      expected += e
      delivered += d
      receivers.push({ node: r, expected: e, delivered: d })
      if (e > 0) ratios.push(d / e)
    }
    receivers.sort((a, b) => a.node - b.node)
    const mean = ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : 0
    const variance = ratios.length ? ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / ratios.length : 0
    let min = Infinity, max = -Infinity
    for (const x of ratios) {
      if (x < min) min = x
      if (x > max) max = x
    }
    return {
      expected,
      delivered,
      recovered: this.recovered,
      ratio: expected ? delivered / expected : 0,
      perReceiver: {
        min: ratios.length ? min : 0,
        mean,
        max: ratios.length ? max : 0,
        stdev: Math.sqrt(variance),
      },
      duplicates: this.duplicates,
      stray: this.stray,
      malformed: this.malformed,
      receivers,
    }
  }
}

const NO_SEQS: ReadonlySet<number> = new Set()
