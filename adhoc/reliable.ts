/**
 * Reliable unicast for the link layer (adhoc/link.ts): link-level acks with bounded retries,
 * stop-and-wait per neighbour (one frame outstanding) with a bounded queue of datagrams behind it.
 *
 * Per neighbour, a `Peer` holds the queue and the frames of the datagram in flight (`frames[idx]`
 * outstanding; empty when idle). Its states:
 *
 *   idle ──start──▶ radio ──sent──▶ ack ──timeout──▶ backoff ──▶ radio ...
 *                     │                │ack: next fragment (radio) or done (idle)
 *                     └─dropped / no report within radioReportTimeoutMs: failed (idle)
 *
 * The ack timer starts when the radio reports the frame `sent` (time in our radio's queue or
 * duty-cycle wait does not count), and the radio never reports inside `send()` (hardware/radio.ts),
 * so no state here is re-entered from a radio call. A datagram is settled once: delivered (every
 * fragment acked) or failed through the host's `fail`, which reports it from a later scheduler turn.
 */
import type { Addr } from '../core/addr.ts'
import { ErrorCodes, type ErrorCode } from '../core/errors.ts'
import type { Counter } from '../core/metrics.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { LinkConfig, LinkTiming } from './link-defaults.ts'

/** A datagram being sent; `settled` once delivered (acked) or reported failed. */
export interface OutDatagram {
  to: Addr
  proto: number
  payload: Uint8Array
  queuedAt: number
  settled: boolean
}

/** One frame on its way; `key` = txFrameKey (-1 for broadcast). */
export interface OutFrame {
  dg: OutDatagram
  seq: number
  key: number
  reliable: boolean
  bytes: Uint8Array
}

/** Why the radio refused a frame. */
export interface TxRefusal {
  code: ErrorCode
  reason: string
}

/** What the reliable sender uses of the link layer. */
export interface ReliableHost {
  readonly scheduler: Scheduler
  readonly rng: Rng
  readonly config: LinkConfig
  readonly timing: LinkTiming
  /** Encode a datagram's frames on its reliable stream (taking their sequence numbers now). */
  frames(dg: OutDatagram): OutFrame[]
  /** Hand a frame to the radio and watch for its report; the refusal if the radio threw. */
  transmit(f: OutFrame): TxRefusal | null
  /** Stop watching for a frame's radio report. */
  untrack(f: OutFrame): void
  /** Report a datagram failed (once, from a later scheduler turn; `close` may flush at once). */
  fail(dg: OutDatagram, code: ErrorCode, reason: string): void
  readonly counters: { retries: Counter; txAcked: Counter; txQueueDrops: Counter }
}

interface Peer {
  to: Addr
  queue: OutDatagram[]
  frames: OutFrame[]
  idx: number
  attempts: number
  state: 'idle' | 'radio' | 'ack' | 'backoff'
  timer: Timer | null
}

export class ReliableUnicast {
  private readonly peers = new Map<Addr, Peer>()
  /** Datagrams queued behind the outstanding ones, over all peers. */
  private queued = 0

  constructor(private readonly h: ReliableHost) {}

  /** Send now if the neighbour is idle, else queue (tail drop with ERR_QUEUE_FULL when full). */
  send(dg: OutDatagram): void {
    let peer = this.peers.get(dg.to)
    if (peer === undefined) {
      peer = { to: dg.to, queue: [], frames: [], idx: 0, attempts: 0, state: 'idle', timer: null }
      this.peers.set(dg.to, peer)
    }
    if (peer.state !== 'idle') {
      const { txQueuePerNeighbour, txQueueTotal } = this.h.config
      if (peer.queue.length >= txQueuePerNeighbour || this.queued >= txQueueTotal) {
        this.h.counters.txQueueDrops.inc()
        return this.h.fail(dg, ErrorCodes.QUEUE_FULL, `reliable queue full (${peer.queue.length} datagrams to ${dg.to}, ${this.queued} in all)`)
      }
      dg.payload = dg.payload.slice() // frames are built when it leaves the queue: keep our own copy
    }
    peer.queue.push(dg)
    this.queued++
    this.startNext(peer)
  }

  /** The radio put `f` on air: time its ack. */
  sent(f: OutFrame): void {
    const peer = this.peers.get(f.dg.to)
    if (peer === undefined || this.current(peer) !== f || peer.state !== 'radio') return
    peer.timer?.cancel()
    peer.state = 'ack'
    peer.timer = this.h.scheduler.at(this.h.timing.ackTimeoutMs, () => this.ackTimeout(peer, f))
  }

  /** The radio will never send `f`: its datagram fails with the radio's code. */
  dropped(f: OutFrame, code: ErrorCode, reason: string): void {
    const peer = this.peers.get(f.dg.to)
    if (peer === undefined || this.current(peer) !== f) return
    this.abort(peer, code, reason)
    this.startNext(peer)
  }

  /** `from` acknowledged our frame `seq`. */
  acked(from: Addr, seq: number): void {
    const peer = this.peers.get(from)
    const f = peer && this.current(peer)
    if (!peer || !f || f.seq !== seq) return
    peer.timer?.cancel()
    peer.timer = null
    this.h.untrack(f)
    peer.idx++
    peer.attempts = 0
    if (peer.idx < peer.frames.length) {
      this.transmitCurrent(peer)
    } else {
      f.dg.settled = true
      this.h.counters.txAcked.inc()
      peer.frames = []
      peer.state = 'idle'
    }
    this.startNext(peer)
  }

  /** Fail every pending datagram with ERR_CLOSED and cancel every timer. */
  close(): void {
    for (const peer of this.peers.values()) {
      peer.timer?.cancel()
      peer.timer = null
      if (peer.frames.length > 0) this.h.fail(peer.frames[0].dg, ErrorCodes.CLOSED, 'link closed')
      for (const dg of peer.queue) this.h.fail(dg, ErrorCodes.CLOSED, 'link closed')
    }
    this.peers.clear()
    this.queued = 0
  }

  private current(peer: Peer): OutFrame | undefined {
    return peer.frames.length > 0 ? peer.frames[peer.idx] : undefined
  }

  /** Start the next queued datagram while the peer is idle; forget the peer when nothing is left. */
  private startNext(peer: Peer): void {
    const { scheduler, config } = this.h
    while (peer.state === 'idle') {
      const dg = peer.queue.shift()
      if (dg === undefined) {
        this.peers.delete(peer.to)
        return
      }
      this.queued--
      if (dg.settled) continue
      if (scheduler.now() - dg.queuedAt > config.txQueueTtlMs) {
        this.h.fail(dg, ErrorCodes.EXPIRED, `waited over ${config.txQueueTtlMs} ms in the reliable queue to ${peer.to}`)
        continue
      }
      peer.frames = this.h.frames(dg)
      peer.idx = 0
      peer.attempts = 0
      this.transmitCurrent(peer)
    }
  }

  /** (Re)transmit the outstanding frame; if the radio refuses it the peer is left idle. */
  private transmitCurrent(peer: Peer): void {
    const f = this.current(peer)!
    peer.attempts++
    if (peer.attempts > 1) this.h.counters.retries.inc()
    peer.state = 'radio'
    const guard = this.h.config.radioReportTimeoutMs
    peer.timer = guard > 0 ? this.h.scheduler.at(guard, () => this.radioSilent(peer, f)) : null
    const refused = this.h.transmit(f)
    if (refused) this.abort(peer, refused.code, refused.reason)
  }

  private ackTimeout(peer: Peer, f: OutFrame): void {
    peer.timer = null
    if (this.current(peer) !== f) return
    if (peer.attempts > this.h.config.maxRetries) {
      this.abort(peer, ErrorCodes.NO_ACK, `no ack from ${peer.to} after ${peer.attempts} transmission(s)`)
      return this.startNext(peer)
    }
    peer.state = 'backoff'
    const delay = this.h.rng.float() * this.h.timing.retryBackoffMs * 2 ** (peer.attempts - 1)
    peer.timer = this.h.scheduler.at(delay, () => {
      peer.timer = null
      if (this.current(peer) !== f) return
      this.transmitCurrent(peer)
      this.startNext(peer)
    })
  }

  private radioSilent(peer: Peer, f: OutFrame): void {
    peer.timer = null
    if (this.current(peer) !== f || peer.state !== 'radio') return
    this.abort(peer, ErrorCodes.EXPIRED, `radio reported neither sent nor dropped within ${this.h.config.radioReportTimeoutMs} ms`)
    this.startNext(peer)
  }

  /** Give up the datagram in flight (the caller decides when to start the next). */
  private abort(peer: Peer, code: ErrorCode, reason: string): void {
    peer.timer?.cancel()
    peer.timer = null
    const f = this.current(peer)
    peer.frames = []
    peer.state = 'idle'
    if (f) {
      this.h.untrack(f)
      this.h.fail(f.dg, code, reason)
    }
  }
}
