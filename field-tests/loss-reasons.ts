/**
 * Why multicast packets were lost for good. During a run a HolderLog records which nodes held
 * each packet of each multicast flow and when: a node holds a packet from its first delivery of it
 * (or a 'history-add' event) until a 'history-evict' event for it, or for ever if none comes
 * (protocols without a history, like MAODV, never evict). At the end of the run classifyLosses()
 * gives every (packet, receiver) pair that was never delivered exactly one reason, in this
 * precedence (docs/METRICS.md `lostForGood`):
 *
 *   1. neverReachedTree — no receiver of the flow ever delivered the packet;
 *   2. partitioned — at every connectivity sample between the packet's send time and the end of
 *      its holding (the last eviction, or the end of the run while someone still holds it) at
 *      which some node held it, the receiver was in a different radio-connected component from
 *      every holder; and there was at least one such sample;
 *   3. agedOut — every holder had evicted it before the end of the run;
 *   4. unrecovered — some holder still held it at the end (the run ended first, or recovery did
 *      not find it).
 *
 * Storage is small and flat: per packet one number array of holder intervals
 * [node, from, to, node, from, to, ...] (to = Infinity while held), plus per node a map from packet
 * to its open interval, so every event costs O(1). Classification visits only lost pairs, grouped
 * by packet, and stops scanning a packet's samples once none of its lost receivers can still be
 * partitioned.
 */
import type { Addr } from '../core/addr.ts'

export interface LossReasons {
  total: number
  neverReachedTree: number
  partitioned: number
  agedOut: number
  unrecovered: number
}

/** 2^32: a packet key is flow · 2^32 + seq (flow is a u16, seq a u32, so keys stay exact). */
const SEQ_SPAN = 0x100000000

/** When nodes held which packets of the tracked (multicast) flows. */
export class HolderLog {
  /** flow id → seq → flat holder intervals [node, from, to, ...]. */
  private readonly byFlow = new Map<number, Array<number[] | undefined>>()
  /** node → packet key → index in the packet's array of its open interval, or -1 once evicted. */
  private readonly open = new Map<Addr, Map<number, number>>()

  /** Record holdings of this flow's packets (other flows are ignored). */
  track(flowId: number): void {
    if (!this.byFlow.has(flowId)) this.byFlow.set(flowId, [])
  }

  tracks(flowId: number): boolean {
    return this.byFlow.has(flowId)
  }

  /**
   * `node` holds packet (flow, seq) from `at`: its first delivery there or a history-add. A no-op
   * while it already holds it.
   */
  held(node: Addr, flow: number, seq: number, at: number): void {
    const packets = this.byFlow.get(flow)
    if (packets === undefined) return
    let mine = this.open.get(node)
    if (mine === undefined) this.open.set(node, (mine = new Map()))
    const key = flow * SEQ_SPAN + seq
    const pos = mine.get(key)
    if (pos !== undefined && pos >= 0) return
    let iv = packets[seq]
    if (iv === undefined) packets[seq] = iv = []
    mine.set(key, iv.length)
    iv.push(node, at, Infinity)
  }

  /** `node` no longer holds packet (flow, seq) from `at` (a history-evict). A no-op if it did not hold it. */
  evicted(node: Addr, flow: number, seq: number, at: number): void {
    const packets = this.byFlow.get(flow)
    const mine = this.open.get(node)
    if (packets === undefined || mine === undefined) return
    const key = flow * SEQ_SPAN + seq
    const pos = mine.get(key)
    if (pos === undefined || pos < 0) return
    packets[seq]![pos + 2] = at
    mine.set(key, -1)
  }

  /** The holder intervals of a packet, flat `[node, from, to, ...]` (to = Infinity: still held); empty if none. */
  intervals(flow: number, seq: number): readonly number[] {
    return this.byFlow.get(flow)?.[seq] ?? EMPTY
  }
}

const EMPTY: readonly number[] = []

/** Radio components over time (ConnectivitySampler provides it). */
export interface ComponentSamples {
  readonly count: number
  timeAt(k: number): number
  firstAtOrAfter(t: number): number
  componentOf(k: number, node: Addr): number
}

/** A multicast flow and what happened to its packets (DeliveryCollector provides it). */
export interface LossFlow {
  id: number
  receivers: readonly Addr[]
  /** Send time of each packet, by seq. */
  sentAt: readonly number[]
  /** The seqs `receiver` delivered. */
  delivered(receiver: Addr): ReadonlySet<number>
}

export interface LossInput {
  flows: Iterable<LossFlow>
  holders: HolderLog
  /** Absent: nothing is classified `partitioned`. */
  connectivity?: ComponentSamples
  /** Virtual time the run ended. */
  endMs: number
}

export function emptyLossReasons(): LossReasons {
  return { total: 0, neverReachedTree: 0, partitioned: 0, agedOut: 0, unrecovered: 0 }
}

/** Classify every never-delivered (packet, receiver) pair of the given flows (see the file comment). */
export function classifyLosses(input: LossInput): LossReasons {
  const out = emptyLossReasons()
  const conn = input.connectivity
  const lost: Addr[] = []
  const seenSets: Array<ReadonlySet<number>> = []
  // Component marks for one sample: mark[c] === stamp means a holder is in component c.
  let mark = new Int32Array(0)
  let stamp = 0
  for (const flow of input.flows) {
    const sent = flow.sentAt.length
    const receivers = flow.receivers
    seenSets.length = 0
    for (const r of receivers) seenSets.push(flow.delivered(r))
    const reached = new Uint8Array(sent)
    for (const s of seenSets) for (const seq of s) if (seq < sent) reached[seq] = 1
    for (let seq = 0; seq < sent; seq++) {
      lost.length = 0
      for (let k = 0; k < receivers.length; k++) if (!seenSets[k].has(seq)) lost.push(receivers[k])
      if (lost.length === 0) continue
      out.total += lost.length
      if (!reached[seq]) {
        out.neverReachedTree += lost.length
        continue
      }
      const iv = input.holders.intervals(flow.id, seq)
      let holdEnd = -Infinity
      let allEvicted = iv.length > 0
      for (let k = 0; k < iv.length; k += 3) {
        const to = iv[k + 2]
        if (!(to <= input.endMs)) allEvicted = false
        holdEnd = Math.max(holdEnd, Math.min(to, input.endMs))
      }
      let candidates = lost.length
      let counted = false
      if (conn !== undefined && iv.length > 0) {
        for (let s = conn.firstAtOrAfter(flow.sentAt[seq]); s < conn.count && candidates > 0; s++) {
          const t = conn.timeAt(s)
          if (t > holdEnd) break
          stamp++
          let any = false
          for (let k = 0; k < iv.length; k += 3) {
            if (iv[k + 1] <= t && t < iv[k + 2]) {
              const c = conn.componentOf(s, iv[k])
              if (c >= mark.length) {
                const grown = new Int32Array(Math.max(c + 1, mark.length * 2))
                grown.set(mark)
                mark = grown
              }
              mark[c] = stamp
              any = true
            }
          }
          if (!any) continue
          counted = true
          // A receiver in a holder's component could have been reached: it is not partitioned.
          for (let k = 0; k < lost.length; k++) {
            const r = lost[k]
            if (r === 0) continue
            const c = conn.componentOf(s, r)
            if (c < mark.length && mark[c] === stamp) {
              lost[k] = 0
              candidates--
            }
          }
        }
      }
      const partitioned = counted ? candidates : 0
      out.partitioned += partitioned
      const rest = lost.length - partitioned
      if (allEvicted) out.agedOut += rest
      else out.unrecovered += rest
    }
  }
  return out
}
