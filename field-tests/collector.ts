/**
 * Delivery accounting for traffic flows: what was expected where, what arrived, how late.
 * PDR = packets delivered / packets that should have been delivered, per receiver summed
 * (PROTOCOLS.md "Terms"). Only first deliveries count; duplicates and deliveries at nodes that were
 * not receivers of the flow are counted separately.
 */
import type { Addr } from '../core/addr.ts'
import { tryDecode } from '../core/errors.ts'
import { Histogram } from '../core/metrics.ts'
import { decodeAppHeader, type Flow } from './traffic.ts'

export interface DeliveryStats {
  expected: number
  delivered: number
  ratio: number
  perReceiver: { min: number; mean: number; max: number; stdev: number }
  duplicates: number
  stray: number
  malformed: number
}

export class DeliveryCollector {
  private readonly flows = new Map<number, Flow>()
  private readonly sentAt = new Map<number, number[]>()
  private readonly expectedBy = new Map<Addr, number>()
  private readonly deliveredBy = new Map<Addr, number>()
  /** flow id → receiver → sequence numbers seen */
  private readonly seen = new Map<number, Map<Addr, Set<number>>>()
  private duplicates = 0
  private stray = 0
  private malformed = 0
  private packetsSent = 0
  readonly latency = new Histogram()

  addFlow(flow: Flow): void {
    this.flows.set(flow.id, flow)
    this.sentAt.set(flow.id, [])
    const byReceiver = new Map<Addr, Set<number>>()
    for (const r of flow.receivers) {
      byReceiver.set(r, new Set())
      if (!this.expectedBy.has(r)) this.expectedBy.set(r, 0)
      if (!this.deliveredBy.has(r)) this.deliveredBy.set(r, 0)
    }
    this.seen.set(flow.id, byReceiver)
  }

  sent(flowId: number, seq: number, at: number): void {
    const flow = this.flows.get(flowId)!
    this.sentAt.get(flowId)![seq] = at
    this.packetsSent++
    for (const r of flow.receivers) this.expectedBy.set(r, this.expectedBy.get(r)! + 1)
  }

  /** A protocol delivered `payload` at `receiver`. Returns the latency in ms for a first delivery. */
  delivered(receiver: Addr, payload: Uint8Array, at: number): number | undefined {
    const h = tryDecode(decodeAppHeader, payload, () => this.malformed++)
    if (!h) return undefined
    const seqs = this.seen.get(h.flow)?.get(receiver)
    const sentAt = this.sentAt.get(h.flow)?.[h.seq]
    if (!seqs || sentAt === undefined) {
      this.stray++
      return undefined
    }
    if (seqs.has(h.seq)) {
      this.duplicates++
      return undefined
    }
    seqs.add(h.seq)
    this.deliveredBy.set(receiver, this.deliveredBy.get(receiver)! + 1)
    const latency = at - sentAt
    this.latency.record(latency)
    return latency
  }

  get sentPackets(): number {
    return this.packetsSent
  }

  stats(): DeliveryStats {
    let expected = 0
    let delivered = 0
    const ratios: number[] = []
    for (const [r, e] of this.expectedBy) {
      const d = this.deliveredBy.get(r)!
      expected += e
      delivered += d
      if (e > 0) ratios.push(d / e)
    }
    const mean = ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : 0
    const variance = ratios.length ? ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / ratios.length : 0
    return {
      expected,
      delivered,
      ratio: expected ? delivered / expected : 0,
      perReceiver: {
        min: ratios.length ? Math.min(...ratios) : 0,
        mean,
        max: ratios.length ? Math.max(...ratios) : 0,
        stdev: Math.sqrt(variance),
      },
      duplicates: this.duplicates,
      stray: this.stray,
      malformed: this.malformed,
    }
  }
}
