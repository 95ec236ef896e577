/**
 * Tree neighbour liveness and tree hellos.
 *
 * While data flows on a group (a packet seen within `dataActiveMs`), every tree neighbour must be
 * heard at least every `treeLivenessMs` (750 ms); any frame of ours counts, data included. A node
 * that has not broadcast anything on the group for `treeHelloIntervalMs` (or sent no hello for
 * 4 × that) broadcasts a tree hello listing its tree neighbours: leaves never forward data, so
 * without it they would look dead, while forwarders' data broadcasts usually make it unnecessary.
 * A neighbour silent for `treeLivenessMs` is probed with a unicast hello, which the link layer acks
 * and retries: its ack counts as hearing it (a broadcast is easily lost to a collision, four
 * unicast attempts rarely all are). No ack breaks the link ('tx-failed' NO_ACK, about 100 ms
 * later); a neighbour whose link acks but that stays silent for another liveness period is broken
 * too.
 *
 * While the group is idle, tree nodes send one hello per `idleHelloIntervalMs` (0 = none) and
 * nothing else: it lets both ends of a link agree on it when no data flows (the two rules below),
 * so a member whose upstream dropped it, or restarted, learns it before data is due.
 *
 * Hello rules: a tree neighbour whose hello does not list this node has dropped the link (after a
 * grace of one liveness period for a link just made): break it here too. A node that is not our tree
 * neighbour but lists us (it restarted, or we dropped it) gets a MACT-R.
 *
 * One tick per node drives all of it: every ≈ treeHelloIntervalMs / 2 while some group has data
 * flowing, every ≈ idleHelloIntervalMs / 2 while the node is only on idle trees, none otherwise.
 * Tick times are randomised: every tree node starts ticking when the first packet of a flow
 * reaches it, within milliseconds of the others, and synchronised hellos would collide.
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { ErrorCodes } from '../../core/errors.ts'
import type { Timer } from '../../core/scheduler.ts'
import type { TxFailure } from '../link-types.ts'
import type { MaodvContext } from './context.ts'
import { isOnTree, type GroupState } from './group-table.ts'
import { encodeHello, type Hello } from './maodv-messages.ts'

export class Liveness {
  private timer: Timer | null = null
  private fast = false

  constructor(private readonly c: MaodvContext) {}

  /** Data of the group was sent or heard here. */
  active(g: GroupState): void {
    const now = this.c.now()
    if (now - g.lastDataAt > this.c.config.dataActiveMs) g.activeSince = now
    g.lastDataAt = now
    if (!this.fast) this.arm(true, this.c.rng.float())
  }

  /** The node is on a tree: make sure the (idle) tick runs. */
  wake(): void {
    if (this.timer === null && this.c.config.idleHelloIntervalMs > 0) this.arm(false, this.c.rng.float())
  }

  /** Any frame from `from` on our ports: it is alive. */
  heard(from: Addr): void {
    const now = this.c.now()
    for (const g of this.c.groups.values()) {
      const l = g.links.get(from)
      if (l !== undefined) l.lastHeard = now
    }
  }

  onHello(from: Addr, msg: Hello): void {
    const c = this.c
    const g = c.groups.get(msg.group)
    const l = g?.links.get(from)
    if (g === undefined || l === undefined || !isOnTree(g)) {
      if (msg.neighbours.includes(c.self)) c.tree.refuse(from, msg.group)
      return
    }
    l.member = msg.member
    if (!msg.neighbours.includes(c.self) && c.now() - l.since > c.config.treeLivenessMs) c.tree.breakLink(g, from, 'not in its hello', true)
  }

  /** Unicast failures: no ack breaks every tree link to that neighbour; data refused counts as dropped. */
  txFailed(f: TxFailure, data: boolean): void {
    if (data) this.c.m.dataDropped.inc()
    if (f.code === ErrorCodes.NO_ACK) this.lost(f.to, 'no ack')
  }

  /** The neighbour is gone (the link layer said so, or it stopped acking). */
  lost(nb: Addr, reason: string): void {
    for (const g of [...this.c.groups.values()]) if (g.links.has(nb)) this.c.tree.breakLink(g, nb, reason)
  }

  close(): void {
    this.timer?.cancel()
    this.timer = null
  }

  /** The next tick in `fraction` × half the hello interval of the mode. */
  private arm(fast: boolean, fraction: number): void {
    this.timer?.cancel()
    this.timer = null
    if (this.c.closed) return
    const cfg = this.c.config
    this.fast = fast
    this.timer = this.c.scheduler.at((fraction * (fast ? cfg.treeHelloIntervalMs : cfg.idleHelloIntervalMs)) / 2, () => this.tick())
  }

  private tick(): void {
    const c = this.c
    const cfg = c.config
    const now = c.now()
    this.timer = null
    let busy = false
    let onTree = false
    for (const g of [...c.groups.values()]) {
      if (!isOnTree(g) || g.links.size === 0) continue
      onTree = true
      const idle = now - g.lastDataAt
      if (idle <= cfg.dataActiveMs + cfg.treeLivenessMs) {
        busy = true
        if (idle <= cfg.dataActiveMs) this.check(g, now)
        if (g.links.size > 0 && (now - g.lastTxAt >= cfg.treeHelloIntervalMs || now - g.lastHelloAt >= 4 * cfg.treeHelloIntervalMs)) this.hello(g)
      } else if (cfg.idleHelloIntervalMs > 0 && now - g.lastHelloAt >= cfg.idleHelloIntervalMs) {
        this.hello(g)
      }
    }
    if (busy) this.arm(true, 0.5 + c.rng.float())
    else if (onTree && cfg.idleHelloIntervalMs > 0) this.arm(false, 0.5 + c.rng.float())
    else this.fast = false
  }

  /** Probe neighbours silent for a liveness period; break those silent for two despite an acked probe. */
  private check(g: GroupState, now: number): void {
    const live = this.c.config.treeLivenessMs
    for (const l of [...g.links.values()]) {
      const silent = now - Math.max(l.lastHeard, l.since, g.activeSince)
      if (silent <= live) continue
      if (l.probedAt < l.lastHeard || l.probedAt === -Infinity) {
        l.probedAt = now
        this.hello(g, l.neighbour)
      } else if (silent > 2 * live) {
        this.c.tree.breakLink(g, l.neighbour, 'silent')
      }
    }
  }

  /** A tree hello to every tree neighbour (broadcast), or a probe to one (acked unicast). */
  private hello(g: GroupState, to: Addr = BROADCAST): void {
    const c = this.c
    const bytes = encodeHello({ member: g.member, hopsToLeader: Math.min(255, g.hopsToLeader), group: g.group, leader: g.leader || c.self, neighbours: [...g.links.keys()] })
    if (!c.control(to, bytes)) return
    c.m.hello.inc()
    if (to === BROADCAST) g.lastTxAt = g.lastHelloAt = c.now()
  }
}
