/**
 * What the parts of one MAODV node share: configuration, injected time and randomness, counters,
 * the tables, the link ports, and the parts themselves (tree maintenance, requests, group hellos
 * and merges, the data plane), which call each other through it. Built once by `Maodv`.
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { SpinmeshError } from '../../core/errors.ts'
import type { EventEmitter } from '../../core/events.ts'
import type { Logger } from '../../core/logger.ts'
import type { Counter } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { LinkPort } from '../link-types.ts'
import type { Delivery, NetProtocolEvents } from '../net-protocol.ts'
import type { OriginAuth } from '../../crypto/origin-auth.ts'
import type { ControlSigning } from './control-signing.ts'
import type { SignedDigest } from './batch-frame.ts'
import type { DataPlane } from './data-plane.ts'
import type { GroupState, GroupTable } from './group-table.ts'
import type { GroupHello } from './grph.ts'
import type { Liveness } from './liveness.ts'
import type { MaodvConfig } from './maodv-defaults.ts'
import type { Merge } from './merge.ts'
import type { Requests } from './requests.ts'
import type { GrphRoutes, PendingRoutes } from './routes.ts'
import type { TreeOps } from './tree.ts'

/** Counters of scope 'maodv' (maodv.ts says what each counts). */
export const COUNTERS = [
  'rreq', 'rrep', 'mact', 'grph', 'joins', 'prunes', 'repairs', 'repairFailures', 'merges', 'leaderChanges',
  'dataOriginated', 'dataForwarded', 'dataDelivered', 'dataDropped',
  'hello', 'decodeErrors', 'dataDuplicates', 'dataIgnored', 'filtered',
  'dataSigned', 'dataVerified', 'dataBadSignature', 'dataCertWaits',
  'dataBatched', 'digestsSent', 'digestsVerified', 'dataHeld', 'dataUnauthenticatedExpired',
] as const
export type CounterName = (typeof COUNTERS)[number]

/** Events for traces and tests, besides NetProtocol's. */
export interface MaodvEvents {
  /** This node's view of the group leader changed (itself included). */
  leader: (e: { group: Addr; leader: Addr }) => void
  /** This node's activated tree links, upstream or leader for the group changed. */
  'tree-change': (e: { group: Addr }) => void
  /** A member reached the tree (attached, or elected itself leader of a new one). */
  joined: (e: { group: Addr }) => void
  /** A repair this node ran ended. */
  repair: (e: { group: Addr; ok: boolean }) => void
  /** Two trees became one with this leader (at the merging side and at the leader it merged into). */
  merge: (e: { group: Addr; leader: Addr }) => void
  /** (With `security`) this node signed a packet it originates (`signature`), or in batch mode a DIGEST listing it (`digest`): `payload` as passed to send. */
  signed: (e: { group: Addr; seq: number; payload: Uint8Array; signature?: Uint8Array; digest?: SignedDigest }) => void
}

/**
 * What a secured MAODV delivers: a Delivery whose `auth` holds the packet's MAODV sequence number
 * and its origin's (verified) signature, or in batch mode the verified DIGEST that lists it, so a layer above (anonymous gossip) can hand the packet on
 * with its proof. Absent without `security`.
 */
export interface MulticastDelivery extends Delivery {
  auth?: { seq: number; signature?: Uint8Array; digest?: SignedDigest }
}

export type MaodvEmitter = EventEmitter<NetProtocolEvents & MaodvEvents>

/** What a forward filter sees: `hops` = radio hops the packet travelled to reach this node. */
export interface MaodvForwardCandidate {
  origin: Addr
  dst: Addr
  seq: number
  hops: number
  payload: Uint8Array
  /** A batch-mode DIGEST (WIRE.md §11.2; `payload` is its body), not application data. */
  digest?: boolean
}

export class MaodvContext {
  tree!: TreeOps
  requests!: Requests
  grph!: GroupHello
  merge!: Merge
  plane!: DataPlane
  live!: Liveness
  /** Signs and verifies RREQ, RREP and GRPH (a no-op in an open network). */
  ctlAuth!: ControlSigning
  closed = false
  /** Rebroadcasts of floods waiting for their jitter. */
  private readonly pending = new Set<Timer>()

  constructor(
    readonly self: Addr,
    readonly config: MaodvConfig,
    readonly scheduler: Scheduler,
    readonly rng: Rng,
    readonly m: Record<CounterName, Counter>,
    readonly logger: Logger | undefined,
    readonly events: MaodvEmitter,
    readonly groups: GroupTable,
    readonly routes: PendingRoutes,
    readonly grphRoutes: GrphRoutes,
    private readonly ctlPort: LinkPort,
    private readonly dataPort: LinkPort,
    readonly forwardFilter: ((p: MaodvForwardCandidate) => boolean) | undefined,
    /** Origin authentication (authenticated networks): data and multi-hop control are signed. */
    readonly security: OriginAuth | undefined,
  ) {}

  now(): number {
    return this.scheduler.now()
  }

  /** Send a control message; false when the link refused it (closed, too large). */
  control(to: Addr, bytes: Uint8Array): boolean {
    return this.send(this.ctlPort, to, bytes)
  }

  /** Largest datagram the data port carries (batch mode sizes its DIGESTs by it). */
  get dataMaxDatagram(): number {
    return this.dataPort.maxDatagram
  }

  /** Send a data packet; false when the link refused it. */
  data(to: Addr, bytes: Uint8Array): boolean {
    return this.send(this.dataPort, to, bytes)
  }

  private send(port: LinkPort, to: Addr, bytes: Uint8Array): boolean {
    if (this.closed) return false
    try {
      port.send(to, bytes)
      return true
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.logger?.debug('maodv send refused', { to, code: e.code })
      return false
    }
  }

  /** Rebroadcast a flood (RREQ, GRPH) after U[0, maxJitterMs], counting it in `counter` when sent. */
  rebroadcast(bytes: Uint8Array, counter: Counter): void {
    this.later(this.config.maxJitterMs, () => {
      if (this.control(BROADCAST, bytes)) counter.inc()
    })
  }

  /** Run `fn` after U[0, maxMs] unless too many are waiting (then false, and it never runs). */
  later(maxMs: number, fn: () => void): boolean {
    if (this.pending.size >= this.config.maxPendingForwards) return false
    const t = this.scheduler.at(this.rng.float() * maxMs, () => {
      this.pending.delete(t)
      fn()
    })
    this.pending.add(t)
    return true
  }

  /** Whether the node wants to stay on the group's tree: a member, or a sender within its hold time. */
  wanted(g: GroupState): boolean {
    return g.member || this.now() - g.lastSentAt < this.config.senderHoldMs
  }

  changed(g: GroupState): void {
    this.events.emit('tree-change', { group: g.group })
  }

  close(): void {
    this.closed = true
    for (const t of this.pending) t.cancel()
    this.pending.clear()
  }
}
