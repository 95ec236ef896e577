/**
 * The data plane: sending, forwarding and delivering group data on the tree.
 *
 * Forwarding. A packet goes to every activated tree neighbour except the one it came from, as ONE
 * link broadcast (or a link unicast when exactly one neighbour is left and `unicastSingleNextHop`
 * is on: acked, retried, and a failure breaks the link). A receiver accepts it only from an
 * activated tree neighbour (the link frame's `src` is the previous hop), suppresses duplicates per
 * (origin, seq), delivers it if it is a member, and forwards it on. Nodes that overhear a tree
 * broadcast without being on that branch ignore it; one sent to us alone by a node we have no
 * tree link with gets a MACT-R (the draft's reboot notice: the sender's view is stale). Relays wait
 * U[0, dataJitterMs] first (maodv-defaults.ts says why).
 *
 * Non-member senders join the tree as routers (a "sender join": the same discovery, without
 * membership) and buffer their packets meanwhile (bounded, with a TTL); they stay on the tree for
 * `senderHoldMs` after their last packet, then prune like any non-member leaf. This is the
 * draft's "route to a tree node" made simple: the route is a tree branch, so packets need no
 * unicast routing and the branch is maintained like the rest of the tree. If no tree is found the
 * buffered packets are 'undeliverable' and further sends fail at once for `senderRetryMs`. A node
 * repairing with no tree link left (a sender whose only link broke) buffers the same way until the
 * repair ends; without that every packet sent during a repair is lost at the source.
 *
 * With `security` every packet carries its origin's signature; members verify before delivering
 * (data-auth.ts says who verifies what, and why relays do not). With `signEvery` ≥ 2 (batch mode)
 * packets go out unsigned and a signed DIGEST follows every batch (batch-origin.ts); members hold
 * them until it verified (batch.ts).
 *
 * Liveness of tree neighbours (the 750 ms rule) is liveness.ts.
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { tryDecode } from '../../core/errors.ts'
import { SeqWindows } from '../dedup.ts'
import type { LinkRx } from '../link-types.ts'
import type { MaodvContext } from './context.ts'
import { isOnTree, type GroupState } from './group-table.ts'
import { DataAuth } from './data-auth.ts'
import { BatchOrigin, batchSize } from './batch-origin.ts'
import type { SignedDigest } from './batch-frame.ts'
import { AUTH_BATCHED, AUTH_DIGEST, decodeData, decodeSignedData, encodeData, type DataHeader } from './data-frame.ts'

interface Buffered {
  group: Addr
  payload: Uint8Array
  at: number
}

export class DataPlane {
  private seq: number
  private readonly buffer: Buffered[] = []
  private readonly auth: DataAuth | undefined
  /** Batch mode at this origin (security and signEvery ≥ 2). */
  private readonly batcher: BatchOrigin | undefined

  constructor(private readonly c: MaodvContext) {
    this.seq = c.rng.int(0x1_0000_0000)
    if (!c.security) return
    this.auth = new DataAuth(c, { deliver: (g, h, rx, proof) => this.deliver(g, h, rx, proof), forward: (g, h, rx) => this.forward(g, h, rx) })
    const k = batchSize(c.config.signEvery, c.dataMaxDatagram)
    if (k >= 2) {
      this.batcher = new BatchOrigin(c, {
        nextSeq: () => this.nextSeq(),
        transmit: (group, bytes) => {
          const g = c.groups.get(group)
          if (g === undefined || !isOnTree(g) || !this.transmit(g, bytes, 0)) c.m.dataDropped.inc()
        },
      }, k)
    }
  }

  /** Batch-mode verification at this member (for gossip: verify DIGESTs, look up listed hashes); undefined in an open network. */
  get batch(): DataAuth['batch'] | undefined {
    return this.auth?.batch
  }

  private nextSeq(): number {
    const seq = this.seq
    this.seq = (seq + 1) >>> 0
    return seq
  }

  // ---- sending -----------------------------------------------------------------------------------

  send(group: Addr, payload: Uint8Array): void {
    const c = this.c
    const now = c.now()
    const g = c.groups.ensure(group, now)
    c.m.dataOriginated.inc()
    if (g === undefined) return this.undeliverable(group, payload, 'too many groups')
    g.lastSentAt = now
    this.armHold(g)
    // Repairing with no tree link left (a sender's only link broke): hold the packet for the repair.
    if (g.state === 'repairing' && g.links.size === 0) return this.enqueue(group, payload)
    if (isOnTree(g)) return this.originate(g, payload)
    if (g.state === 'joining') return this.enqueue(group, payload)
    if (now < g.senderBackoffUntil) return this.undeliverable(group, payload, 'no multicast tree found (recently)')
    this.enqueue(group, payload)
    c.requests.start(g, 'sender')
  }

  private originate(g: GroupState, payload: Uint8Array): void {
    const seq = this.nextSeq()
    this.c.live.active(g)
    if (this.batcher) {
      this.transmit(g, encodeData({ origin: this.c.self, group: g.group, seq, ttl: this.c.config.dataTtl, hops: 0, payload, auth: AUTH_BATCHED }), 0)
      return this.batcher.add(g.group, seq, payload)
    }
    const signature = this.auth?.sign(g.group, seq, payload)
    this.transmit(g, encodeData({ origin: this.c.self, group: g.group, seq, ttl: this.c.config.dataTtl, hops: 0, payload, signature }), 0)
    if (signature !== undefined) this.c.events.emit('signed', { group: g.group, seq, payload, signature })
  }

  /** To every tree neighbour but `except`; false when there is none. */
  private transmit(g: GroupState, bytes: Uint8Array, except: Addr): boolean {
    const c = this.c
    let only: Addr = 0
    let n = 0
    for (const nb of g.links.keys()) {
      if (nb === except) continue
      only = nb
      n++
    }
    if (n === 0) return false
    if (n === 1 && c.config.unicastSingleNextHop) {
      if (!c.data(only, bytes)) c.m.dataDropped.inc()
      return true
    }
    if (c.data(BROADCAST, bytes)) g.lastTxAt = c.now()
    else c.m.dataDropped.inc()
    return true
  }

  private enqueue(group: Addr, payload: Uint8Array): void {
    const c = this.c
    if (c.config.sendBufferPackets === 0) return this.undeliverable(group, payload, 'no send buffer')
    if (this.buffer.length >= c.config.sendBufferPackets) {
      const old = this.buffer.shift()!
      this.undeliverable(old.group, old.payload, 'send buffer full')
    }
    this.buffer.push({ group, payload: payload.slice(), at: c.now() })
  }

  /** The node reached the group's tree: send what it buffered for it (dropping expired packets). */
  flush(g: GroupState): void {
    const now = this.c.now()
    for (const b of this.take(g.group)) {
      if (now - b.at > this.c.config.sendBufferTtlMs) this.undeliverable(b.group, b.payload, 'expired while joining the tree')
      else this.originate(g, b.payload)
    }
  }

  /** A repair ended: send what waited for it, or give it up when the node is left without a tree link. */
  repaired(g: GroupState): void {
    if (isOnTree(g) && g.links.size > 0) this.flush(g)
    else this.failBuffered(g.group, 'tree repair failed')
  }

  /** Give up every packet buffered for the group. */
  failBuffered(group: Addr, reason: string): void {
    for (const b of this.take(group)) this.undeliverable(b.group, b.payload, reason)
  }

  /** Remove and return the packets buffered for `group`, oldest first. */
  private take(group: Addr): Buffered[] {
    const out: Buffered[] = []
    let w = 0
    for (const b of this.buffer) {
      if (b.group === group) out.push(b)
      else this.buffer[w++] = b
    }
    this.buffer.length = w
    return out
  }

  private undeliverable(dst: Addr, payload: Uint8Array, reason: string): void {
    this.c.m.dataDropped.inc()
    this.c.events.emit('undeliverable', { dst, payload, reason })
  }

  /** A non-member sender: re-check pruning when its hold time runs out. */
  private armHold(g: GroupState): void {
    if (g.holdTimer !== null || this.c.config.senderHoldMs === 0) return
    const check = (): void => {
      g.holdTimer = null
      const left = g.lastSentAt + this.c.config.senderHoldMs - this.c.now()
      if (left > 0) g.holdTimer = this.c.scheduler.at(left, check)
      else this.c.tree.checkPrune(g)
    }
    g.holdTimer = this.c.scheduler.at(this.c.config.senderHoldMs, check)
  }

  // ---- receiving ---------------------------------------------------------------------------------

  receive(rx: LinkRx): void {
    const c = this.c
    const h = tryDecode(this.auth ? decodeSignedData : decodeData, rx.payload, c.m.decodeErrors)
    if (!h) return
    const g = c.groups.get(h.group)
    const l = g?.links.get(rx.from)
    if (g === undefined || l === undefined || !isOnTree(g)) {
      c.m.dataIgnored.inc()
      // Sent to us alone, so the sender takes us for its tree neighbour: we are not (we restarted,
      // or dropped the link): tell it (the draft's reboot notice). Overheard broadcasts say nothing.
      if (rx.to === c.self) c.tree.refuse(rx.from, h.group)
      return
    }
    l.lastHeard = c.now()
    c.live.active(g)
    g.dedup ??= new SeqWindows({ bits: 32, window: c.config.dedupWindow, maxOrigins: c.config.dedupMaxOrigins })
    if (h.origin === c.self) return void c.m.dataDuplicates.inc()
    const fresh = g.dedup.accept(h.origin, h.seq)
    if (this.auth) return this.auth.arrive(g, h, rx, fresh)
    if (!fresh) return void c.m.dataDuplicates.inc()
    this.deliver(g, h, rx)
    this.forward(g, h, rx)
  }

  /** Deliver a packet accepted here if this node is a member; `proof`: what verified it (authenticated networks). */
  private deliver(g: GroupState, h: DataHeader, rx: LinkRx, proof?: { seq: number; signature?: Uint8Array; digest?: SignedDigest }): void {
    if (!g.member) return
    this.c.m.dataDelivered.inc()
    const auth = proof === undefined ? {} : { auth: proof }
    this.c.events.emit('deliver', { origin: h.origin, dst: g.group, payload: h.payload, hops: Math.min(255, h.hops + 1), at: rx.at, ...auth })
  }

  /** Forward a packet down the tree (every tree link but the one it came from), after the relay jitter. */
  private forward(g: GroupState, h: DataHeader, rx: LinkRx): void {
    const c = this.c
    const hops = Math.min(255, h.hops + 1)
    if (h.ttl <= 1 || g.links.size < 2) return
    const digest = h.auth === AUTH_DIGEST ? { digest: true } : {}
    if (c.forwardFilter && !c.forwardFilter({ origin: h.origin, dst: g.group, seq: h.seq, hops, payload: h.payload, ...digest })) {
      c.m.filtered.inc()
      return
    }
    const bytes = encodeData({ ...h, ttl: h.ttl - 1, hops })
    const from = rx.from
    const queued = c.later(c.config.dataJitterMs, () => {
      // The tree may have changed meanwhile: forward to the links there are now.
      if (isOnTree(g) && this.transmit(g, bytes, from)) c.m.dataForwarded.inc()
    })
    if (!queued) c.m.dataDropped.inc()
  }

  close(): void {
    this.buffer.length = 0
    this.batcher?.close()
    this.auth?.close()
  }
}
