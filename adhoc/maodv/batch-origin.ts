/**
 * Batch mode at the origin (`signEvery` ≥ 2, docs/WIRE.md §11.2): the data plane sends each packet
 * at once unsigned (auth 2) and hands it here; every `size` packets, or `batchMaxDelayMs` after the
 * first packet not yet listed, this signs one DIGEST (auth 3) per group and multicasts it like a
 * data packet with its own sequence number.
 *
 * A DIGEST lists the packets since the previous DIGEST and, again, those the previous DIGEST listed
 * new: a member that lost one DIGEST verifies its batch with the next. When a stream pauses (no new
 * packet for `batchMaxDelayMs` after a DIGEST) the previous list is sent once more on its own (a
 * "tail" DIGEST), so the last batch of a burst has its second chance too. A DIGEST is signed and its
 * packets' proofs are reported ('signed' with `digest`) even when the node is off the tree at that
 * moment: the packets it lists may still be recovered by gossip with it.
 *
 * `size` is `signEvery` capped so that a DIGEST listing 2 × size packets fits one datagram.
 */
import type { Addr } from '../../core/addr.ts'
import type { Timer } from '../../core/scheduler.ts'
import { SIGNATURE_BYTES } from '../../crypto/origin-auth.ts'
import { MAX_DIGEST_ENTRIES, DIGEST_ENTRY_SIZE, digestSignedBytes, encodeDigestBody, packetHash, type DigestEntry, type SignedDigest } from './batch-frame.ts'
import type { MaodvContext } from './context.ts'
import { AUTH_DIGEST, BATCHED_DATA_HEADER_SIZE, encodeData } from './data-frame.ts'

/** What the data plane lends the batcher. */
export interface BatchPort {
  /** The next multicast sequence number of this node (a DIGEST takes one). */
  nextSeq(): number
  /** Multicast `bytes` on the group's tree now, if the node is on it. */
  transmit(group: Addr, bytes: Uint8Array): void
}

interface Pending {
  seq: number
  hash: Uint8Array
  payload: Uint8Array
}

interface GroupBatch {
  current: Pending[]
  /** The previous DIGEST's new entries (listed again by the next DIGEST). */
  prev: DigestEntry[]
  timer: Timer | null
  /** A tail DIGEST is due if nothing new comes within batchMaxDelayMs. */
  tailDue: boolean
}

/** The batch size `signEvery` gives over a data port carrying `maxDatagram` (1: per-packet signatures). */
export function batchSize(signEvery: number, maxDatagram: number): number {
  const entries = Math.min(MAX_DIGEST_ENTRIES, Math.floor((maxDatagram - BATCHED_DATA_HEADER_SIZE - SIGNATURE_BYTES - 1) / DIGEST_ENTRY_SIZE))
  const k = Math.min(signEvery, Math.floor(entries / 2))
  return k >= 2 ? k : 1
}

export class BatchOrigin {
  private readonly groups = new Map<Addr, GroupBatch>()

  constructor(private readonly c: MaodvContext, private readonly port: BatchPort, readonly size: number) {}

  /** A packet this node just sent unsigned (auth 2) to `group`. */
  add(group: Addr, seq: number, payload: Uint8Array): void {
    const c = this.c
    let b = this.groups.get(group)
    if (b === undefined) {
      if (this.groups.size >= c.config.maxGroups) this.evictOldest()
      this.groups.set(group, (b = { current: [], prev: [], timer: null, tailDue: false }))
    }
    c.m.dataBatched.inc()
    b.current.push({ seq, hash: packetHash(c.self, group, seq, payload), payload })
    if (b.current.length >= this.size) return this.flush(group, b)
    if (b.current.length === 1) this.arm(group, b)
  }

  private arm(group: Addr, b: GroupBatch): void {
    b.timer?.cancel()
    b.timer = this.c.scheduler.at(this.c.config.batchMaxDelayMs, () => {
      b.timer = null
      if (!this.c.closed) this.flush(group, b)
    })
  }

  /** Sign and send the group's DIGEST (a tail one when nothing new is pending). */
  private flush(group: Addr, b: GroupBatch): void {
    const c = this.c
    b.timer?.cancel()
    b.timer = null
    const fresh = b.current.map((p) => ({ seq: p.seq, hash: p.hash }))
    const tail = fresh.length === 0
    if (tail && (!b.tailDue || b.prev.length === 0)) return
    const body = encodeDigestBody([...b.prev, ...fresh])
    const seq = this.port.nextSeq()
    const signature = c.security!.sign(digestSignedBytes(c.self, group, seq, body))
    const digest: SignedDigest = { origin: c.self, group, seq, body, signature }
    c.m.digestsSent.inc()
    this.port.transmit(group, encodeData({ origin: c.self, group, seq, ttl: c.config.dataTtl, hops: 0, payload: body, signature, auth: AUTH_DIGEST }))
    for (const p of b.current) c.events.emit('signed', { group, seq: p.seq, payload: p.payload, digest })
    b.current = []
    if (tail) {
      b.prev = []
      b.tailDue = false
      return
    }
    b.prev = fresh
    b.tailDue = true
    this.arm(group, b)
  }

  private evictOldest(): void {
    const [group, b] = this.groups.entries().next().value as [Addr, GroupBatch]
    if (b.current.length > 0) this.flush(group, b)
    b.timer?.cancel()
    this.groups.delete(group)
  }

  close(): void {
    for (const b of this.groups.values()) b.timer?.cancel()
    this.groups.clear()
  }
}
