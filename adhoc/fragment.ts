/**
 * Fragmentation and reassembly of link datagrams (docs/WIRE.md §4).
 *
 * A datagram that does not fit one frame is cut into `count` (2..255) fragments; every fragment but
 * the last carries exactly `chunk` bytes, the last 1..chunk. Fragments take consecutive link
 * sequence numbers, so a receiver names a datagram by (sender, broadcast?, seq − index): no tag
 * field is needed on air.
 *
 * Reassembly is bounded: at most `maxReassemblies` partial datagrams of at most `maxDatagram` bytes
 * each (the oldest is dropped to make room), each dropped after `timeoutMs` without a new fragment.
 * A fragment that contradicts its datagram (other count or protocol, a non-last fragment of another
 * size, a last fragment longer than the others, more than `maxDatagram` bytes in all) drops the whole
 * partial datagram: it cannot be trusted any more. A fragment already held is ignored, and so is a
 * late fragment of a datagram completed less than `timeoutMs` ago (the last 4 × maxReassemblies
 * completions are remembered), so a datagram is delivered once even if duplicates slip past the
 * link's duplicate suppression.
 */
import type { MetricsScope, Counter } from '../core/metrics.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Addr } from '../core/addr.ts'
import { BROADCAST } from '../core/addr.ts'
import { MAX_FRAGMENTS, dataHeaderSize, encodeData } from './link-frame.ts'

/** Cut `payload` into views of at most `chunk` bytes (no copies). */
export function splitDatagram(payload: Uint8Array, chunk: number): Uint8Array[] {
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`fragment size must be a positive integer, got ${chunk}`)
  const count = Math.max(1, Math.ceil(payload.length / chunk))
  if (count > MAX_FRAGMENTS) throw new RangeError(`${payload.length} bytes need ${count} fragments of ${chunk}, over ${MAX_FRAGMENTS}`)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(payload.subarray(i * chunk, Math.min(payload.length, (i + 1) * chunk)))
  return out
}

/** Frames a datagram of `length` bytes needs on a radio of `mtu` bytes (1 when it fits). */
export function fragmentCount(length: number, mtu: number, bcast: boolean): number {
  if (dataHeaderSize(bcast, false) + length <= mtu) return 1
  return Math.ceil(length / (mtu - dataHeaderSize(bcast, true)))
}

/**
 * Encode a datagram as link DATA frames for a radio of `mtu` bytes: one frame when it fits, else
 * fragments with consecutive sequence numbers from `firstSeq` (mod 2^16).
 */
export function encodeDatagram(src: Addr, dst: Addr, firstSeq: number, reliable: boolean, proto: number, payload: Uint8Array, mtu: number): Uint8Array[] {
  const bcast = dst === BROADCAST
  if (fragmentCount(payload.length, mtu, bcast) === 1) return [encodeData(src, dst, firstSeq & 0xffff, reliable, proto, null, payload)]
  const chunks = splitDatagram(payload, mtu - dataHeaderSize(bcast, true))
  return chunks.map((c, index) => encodeData(src, dst, (firstSeq + index) & 0xffff, reliable, proto, { index, count: chunks.length }, c))
}

export interface ReassemblerOptions {
  scheduler: Scheduler
  maxReassemblies: number
  maxDatagram: number
  /** Inactivity timeout of a partial datagram, ms. */
  timeoutMs: number
  /** Counters `reassemblyTimeouts`, `reassemblyErrors`, `reassemblyEvictions`, `reassemblyDuplicates`, `reassembled`. */
  metrics?: MetricsScope
}

export interface Reassembled {
  proto: number
  payload: Uint8Array
}

interface PartialDatagram {
  count: number
  proto: number
  slots: Array<Uint8Array | undefined>
  have: number
  bytes: number
  /** Size of every non-last fragment; 0 until one is seen. */
  chunk: number
  /** Size of the last fragment; 0 until seen. */
  last: number
  timer: Timer
}

const noCounter = { inc(): void {} } as Counter

export class Reassembler {
  private readonly partials = new Map<number, PartialDatagram>()
  /** Recently completed datagrams: key → completion time (FIFO-capped, no timers). */
  private readonly recent = new Map<number, number>()
  private readonly c: Record<'timeouts' | 'errors' | 'evictions' | 'duplicates' | 'done', Counter>

  constructor(private readonly o: ReassemblerOptions) {
    const m = o.metrics
    const get = (name: string): Counter => (m ? m.counter(name) : noCounter)
    this.c = {
      timeouts: get('reassemblyTimeouts'),
      errors: get('reassemblyErrors'),
      evictions: get('reassemblyEvictions'),
      duplicates: get('reassemblyDuplicates'),
      done: get('reassembled'),
    }
  }

  /** Partial datagrams held. */
  get size(): number {
    return this.partials.size
  }

  /** Bytes held in partial datagrams (for tests and status). */
  get bytesHeld(): number {
    let n = 0
    for (const p of this.partials.values()) n += p.bytes
    return n
  }

  /**
   * Offer one fragment of the datagram `key`. Returns the datagram when this fragment completes it,
   * else null. `data` is copied; the caller may reuse it.
   */
  add(key: number, index: number, count: number, proto: number, data: Uint8Array): Reassembled | null {
    if (!(count >= 2 && count <= MAX_FRAGMENTS && index >= 0 && index < count) || data.length === 0) {
      this.c.errors.inc()
      return null
    }
    const isLast = index === count - 1
    let p = this.partials.get(key)
    if (p === undefined) {
      const doneAt = this.recent.get(key)
      if (doneAt !== undefined) {
        if (this.o.scheduler.now() - doneAt < this.o.timeoutMs) {
          this.c.duplicates.inc()
          return null
        }
        this.recent.delete(key)
      }
      // Refuse before allocating anything if the claim is already impossible.
      if (!isLast && (count - 1) * data.length + 1 > this.o.maxDatagram) {
        this.c.errors.inc()
        return null
      }
      if (this.partials.size >= this.o.maxReassemblies) {
        const oldest = this.partials.keys().next().value as number
        this.drop(oldest)
        this.c.evictions.inc()
      }
      p = { count, proto, slots: new Array(count), have: 0, bytes: 0, chunk: 0, last: 0, timer: this.arm(key) }
      this.partials.set(key, p)
    } else {
      if (p.count !== count || p.proto !== proto) return this.fail(key)
      if (p.slots[index] !== undefined) {
        this.c.duplicates.inc()
        return null
      }
    }
    if (isLast) {
      if (p.chunk !== 0 && data.length > p.chunk) return this.fail(key)
      p.last = data.length
    } else {
      if (p.chunk === 0) {
        if ((p.last !== 0 && p.last > data.length) || (count - 1) * data.length + 1 > this.o.maxDatagram) return this.fail(key)
        p.chunk = data.length
      } else if (data.length !== p.chunk) {
        return this.fail(key)
      }
    }
    if (p.bytes + data.length > this.o.maxDatagram) return this.fail(key)
    p.slots[index] = data.slice()
    p.have++
    p.bytes += data.length
    if (p.have < count) {
      p.timer.cancel()
      p.timer = this.arm(key)
      return null
    }
    p.timer.cancel()
    this.partials.delete(key)
    if (this.recent.size >= 4 * this.o.maxReassemblies) this.recent.delete(this.recent.keys().next().value as number)
    this.recent.set(key, this.o.scheduler.now())
    const out = new Uint8Array(p.bytes)
    let off = 0
    for (const s of p.slots) {
      out.set(s!, off)
      off += s!.length
    }
    this.c.done.inc()
    return { proto: p.proto, payload: out }
  }

  /** Drop every partial datagram and cancel its timer. */
  close(): void {
    for (const p of this.partials.values()) p.timer.cancel()
    this.partials.clear()
    this.recent.clear()
  }

  private arm(key: number): Timer {
    return this.o.scheduler.at(this.o.timeoutMs, () => {
      if (this.partials.delete(key)) this.c.timeouts.inc()
    })
  }

  private drop(key: number): void {
    const p = this.partials.get(key)
    if (!p) return
    p.timer.cancel()
    this.partials.delete(key)
  }

  private fail(key: number): null {
    this.drop(key)
    this.c.errors.inc()
    return null
  }
}
