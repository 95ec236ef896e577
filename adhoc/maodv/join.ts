/**
 * One tree discovery in progress: a join (member), a sender join (non-member that sends), or a
 * repair (the downstream end of a broken tree link). It runs the expanding ring of RREQ-Js
 * (maodv-defaults.ts `discoveryAttempts`), collects the RREPs of its requests and, RREP_WAIT_TIME
 * after the first (never later than the attempt's ring traversal deadline), hands the best one to
 * the host — freshest group sequence number first, then fewest hops to the tree, then fewest hops
 * to the leader. Nothing after the last attempt: a join waits U[0, electWaitMs] listening for a
 * GRPH (restarting its discovery when one shows a tree exists, at most `maxRestarts` times), then
 * reports failure, upon which the host makes the member group leader; other kinds fail at once.
 *
 * States: ring (attempt i sent, waiting) → select (a reply is in, waiting for better ones) → done;
 * ring (last attempt over) → elect (join only) → done, or back to ring on a GRPH.
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { Timer } from '../../core/scheduler.ts'
import type { Attempt } from './maodv-defaults.ts'

export type DiscoveryKind = 'join' | 'sender' | 'repair'

/** A RREP received by the requester, as seen from here. */
export interface Reply {
  /** Neighbour it came from: the first hop of the new branch. */
  via: Addr
  replier: Addr
  rreqId: number
  groupSeq: number
  leader: Addr
  /** Hops from this node to the replying tree node. */
  hopsToTree: number
  /** This node's hops to the leader through that branch. */
  hopsToLeader: number
}

export interface DiscoveryHost {
  now(): number
  at(delayMs: number, fn: () => void): Timer
  /** Milliseconds until the RREQ rate limit allows another request (0 = now). */
  rreqDelay(): number
  /** Flood one RREQ-J for the discovery with this TTL; returns its rreqId. */
  sendRreq(d: Discovery, ttl: number): number
  /** The discovery ended: the chosen reply, or null when nothing answered. */
  done(d: Discovery, reply: Reply | null): void
}

/** Freshest group sequence number, then fewest hops to the tree, then to the leader. */
export function betterReply(a: Reply, b: Reply): boolean {
  const d = seqDiff32(a.groupSeq, b.groupSeq)
  if (d !== 0) return d > 0
  if (a.hopsToTree !== b.hopsToTree) return a.hopsToTree < b.hopsToTree
  return a.hopsToLeader < b.hopsToLeader
}

export class Discovery {
  /** Request ids this discovery sent (replies to any of them count). */
  private readonly ids = new Set<number>()
  private best: Reply | null = null
  private i = 0
  private timer: Timer | null = null
  private phase: 'ring' | 'select' | 'elect' | 'done' = 'ring'
  private deadline = 0
  /** A GRPH was heard since the last request went out: a tree may exist that it did not reach. */
  private grphSinceRequest = false
  restarts = 0

  constructor(
    private readonly host: DiscoveryHost,
    readonly group: Addr,
    readonly kind: DiscoveryKind,
    private readonly attempts: readonly Attempt[],
    private readonly rrepWaitMs: number,
    /** Only tree nodes at most this far from the leader may reply (repair); 255 = any. */
    readonly maxHopsToLeader: number,
    private readonly electWaitMs: number,
    private readonly maxRestarts: number,
  ) {}

  get active(): boolean {
    return this.phase !== 'done'
  }

  start(): void {
    this.i = 0
    this.phase = 'ring'
    this.attempt()
  }

  /** A RREP for this node arrived. */
  offer(r: Reply): void {
    if (!this.active || !this.ids.has(r.rreqId)) return
    if (this.best !== null && !betterReply(r, this.best)) return
    this.best = r
    if (this.phase === 'select') return
    // First reply (also during an election wait: a late answer to an earlier request still counts).
    this.phase = 'select'
    this.timer?.cancel()
    const wait = Math.max(0, Math.min(this.rrepWaitMs, this.deadline - this.host.now()))
    this.timer = this.host.at(wait, () => this.finish(this.best))
  }

  /**
   * A GRPH of the group was heard: a tree exists. During the election wait, look for it again at
   * once; during the ring, remember it, so that running out of attempts looks again rather than
   * electing a second leader (the tree may have appeared after the requests went out).
   */
  grphHeard(): void {
    if (this.phase === 'ring') this.grphSinceRequest = true
    if (this.phase === 'elect') this.restart()
  }

  private restart(): boolean {
    if (this.restarts >= this.maxRestarts) return false
    this.restarts++
    this.timer?.cancel()
    this.start()
    return true
  }

  cancel(): void {
    this.phase = 'done'
    this.timer?.cancel()
    this.timer = null
  }

  private attempt(): void {
    const wait = this.host.rreqDelay()
    if (wait > 0) {
      this.timer = this.host.at(wait, () => this.attempt())
      return
    }
    const a = this.attempts[this.i]
    this.grphSinceRequest = false
    this.ids.add(this.host.sendRreq(this, a.ttl))
    this.deadline = this.host.now() + a.waitMs
    this.timer = this.host.at(a.waitMs, () => this.timeout())
  }

  private timeout(): void {
    this.timer = null
    if (++this.i < this.attempts.length) return this.attempt()
    if (this.kind === 'join' && this.grphSinceRequest && this.restart()) return
    if (this.kind === 'join' && this.electWaitMs > 0) {
      this.phase = 'elect'
      this.deadline = Infinity
      this.timer = this.host.at(this.electWaitMs, () => this.finish(null))
      return
    }
    this.finish(null)
  }

  private finish(r: Reply | null): void {
    if (!this.active) return
    this.phase = 'done'
    this.timer?.cancel()
    this.timer = null
    this.host.done(this, r)
  }
}
