/**
 * Data packets waiting for a route (discovery at the origin, local repair at a relay). Bounded
 * three ways (aodv-defaults.ts): `maxTotal` packets over all destinations, `maxPerDst` per
 * destination, and `timeoutMs` of age. Policy when a cap is hit: head drop — the oldest packet of
 * that destination (per-destination cap) or of the whole buffer (total cap) makes room, so the
 * freshest data survives. Dropped packets are returned to the caller, which accounts for them.
 * Packets of one destination leave in the order they came.
 */
import type { Addr } from '../../core/addr.ts'
import type { RoutedPacket } from './routed-frame.ts'

interface Waiting {
  pkt: RoutedPacket
  at: number
}

export interface BufferLimits {
  maxTotal: number
  maxPerDst: number
  timeoutMs: number
}

export class PacketBuffer {
  private readonly byDst = new Map<Addr, Waiting[]>()
  private total = 0

  constructor(private readonly limits: BufferLimits) {}

  get size(): number {
    return this.total
  }

  has(dst: Addr): boolean {
    return this.byDst.has(dst)
  }

  countFor(dst: Addr): number {
    return this.byDst.get(dst)?.length ?? 0
  }

  /** Buffer `pkt` for `pkt.dst`; returns the packets dropped to make room (oldest first). */
  push(pkt: RoutedPacket, now: number): RoutedPacket[] {
    const dropped: RoutedPacket[] = []
    let q = this.byDst.get(pkt.dst)
    if (q === undefined) this.byDst.set(pkt.dst, (q = []))
    if (q.length >= this.limits.maxPerDst) {
      dropped.push(q.shift()!.pkt)
      this.total--
    }
    if (this.total >= this.limits.maxTotal) {
      const old = this.oldestQueue()
      if (old !== undefined) {
        dropped.push(old[1].shift()!.pkt)
        this.total--
        if (old[1].length === 0 && old[1] !== q) this.byDst.delete(old[0])
      }
    }
    q.push({ pkt, at: now })
    this.total++
    return dropped
  }

  /** Remove and return every packet for `dst`, in order. */
  take(dst: Addr): RoutedPacket[] {
    const q = this.byDst.get(dst)
    if (q === undefined) return []
    this.byDst.delete(dst)
    this.total -= q.length
    return q.map((w) => w.pkt)
  }

  /** Remove and return every packet older than the timeout. */
  expire(now: number): RoutedPacket[] {
    const out: RoutedPacket[] = []
    for (const [dst, q] of this.byDst) {
      let k = 0
      while (k < q.length && now - q[k].at > this.limits.timeoutMs) out.push(q[k++].pkt)
      if (k === 0) continue
      q.splice(0, k)
      this.total -= k
      if (q.length === 0) this.byDst.delete(dst)
    }
    return out
  }

  /** Remove and return everything. */
  clear(): RoutedPacket[] {
    const out: RoutedPacket[] = []
    for (const q of this.byDst.values()) for (const w of q) out.push(w.pkt)
    this.byDst.clear()
    this.total = 0
    return out
  }

  /** The queue whose head is the oldest packet in the buffer. */
  private oldestQueue(): [Addr, Waiting[]] | undefined {
    let best: [Addr, Waiting[]] | undefined
    for (const entry of this.byDst) {
      const head = entry[1][0]
      if (head !== undefined && (best === undefined || head.at < best[1][0].at)) best = entry
    }
    return best
  }
}
