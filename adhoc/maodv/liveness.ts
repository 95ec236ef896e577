/**
 * Tree neighbour liveness and tree hellos.
 *
 * While data flows on a group (a packet seen within `dataActiveMs`), every tree neighbour must be
 * heard at least every `treeLivenessMs` (750 ms); any frame of ours counts, data included. A node
 * that has not broadcast anything on the group for `treeHelloIntervalMs` (or sent no hello for
 * 4 × that) broadcasts a tree hello listing its tree neighbours: leaves never forward data, so
 * without it they would look dead, while forwarders' data broadcasts usually make it unnecessary.
 * A neighbour silent for `treeLivenessMs` is probed with a unicast hello, which the link layer acks
 * and retries: its ack counts as hearing it once (a broadcast is easily lost to a collision, four
 * unicast attempts rarely all are). No ack breaks the link ('tx-failed' NO_ACK, about 100 ms
 * later); a neighbour whose link acks but that stays silent for another liveness period is broken
 * too. This reading of "heard every 750 ms" is deliberate (maodv-defaults.ts `treeLivenessMs`).
 *
 * The rule runs on for 2 × `treeLivenessMs` after the flow stops at a node (and its hellos for one
 * period more, since its neighbours still watch it): the flow may have stopped because a tree
 * link went — typically the upstream — and a watch that ended with the flow would leave that link
 * to the link layer's neighbour expiry (3.5 s), one-sided all that time.
 *
 * Frames that show a tree neighbour no longer has the link end it here at once: a hello that does
 * not list us, a MACT-R, and a join request it relays or sends for itself (only off-tree nodes do;
 * a repairing one has dropped its upstream, so a child's link to it stands, a parent's does not).
 * Data a neighbour broadcasts to its own tree neighbours says nothing about us: it counts as
 * hearing the neighbour, and its next hello (at most 4 × `treeHelloIntervalMs` later) settles it.
 *
 * While the group is idle, tree nodes send one hello per `idleHelloIntervalMs` (0 = none) and
 * nothing else: it lets both ends of a link agree on it when no data flows (the two rules below),
 * so a member whose upstream dropped it, or restarted, learns it before data is due.
 *
 * Hellos also carry, per listed neighbour, the sender's distance to its nearest member away from
 * that neighbour (split horizon), so every tree link knows `nearestMember` (anonymous gossip
 * weights its walks with it): it settles one hop per hello period, and a hello that lists us sets
 * it at once.
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
import { UNKNOWN_HOPS, isOnTree, linkDistance, nearestMemberFor, type GroupState } from './group-table.ts'
import { encodeHello, type Hello, type Rreq } from './maodv-messages.ts'

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
    const i = msg.neighbours.indexOf(c.self)
    if (i >= 0) l.nearestMember = linkDistance(msg.nearestMember[i])
    else if (msg.member) l.nearestMember = 1
    if (!msg.neighbours.includes(c.self) && c.now() - l.since > c.config.treeLivenessMs) c.tree.breakLink(g, from, 'not in its hello', true)
  }

  /**
   * A join request (not a merge) heard from `from`, before duplicate suppression. Only a node off
   * the tree relays one, and a node asks for itself only off the tree (join, sender join) or while
   * repairing, having just dropped its upstream link. So a tree link to it is one-sided unless it
   * is our parent repairing (it keeps its children): drop it, with a MACT-R in case the views
   * disagree the other way. Links younger than a liveness period are spared: the request may have
   * been sent before the activation reached it.
   */
  joinRequest(from: Addr, msg: Rreq): void {
    const c = this.c
    const g = c.groups.get(msg.group)
    const l = g?.links.get(from)
    if (g === undefined || l === undefined || !isOnTree(g) || c.now() - l.since <= c.config.treeLivenessMs) return
    const repair = msg.origin === from && msg.maxHopsToLeader !== UNKNOWN_HOPS
    if (repair && l.upstream) return
    c.tree.breakLink(g, from, repair ? 'it repairs: it dropped its link to us' : 'its join request: it is off the tree')
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
      const watch = cfg.dataActiveMs + 2 * cfg.treeLivenessMs
      if (idle <= watch + cfg.treeLivenessMs) {
        busy = true
        if (idle <= watch) this.check(g, now)
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
    const neighbours = [...g.links.keys()]
    const nearestMember = neighbours.map((nb) => nearestMemberFor(g, nb))
    const bytes = encodeHello({ member: g.member, hopsToLeader: Math.min(255, g.hopsToLeader), group: g.group, leader: g.leader || c.self, neighbours, nearestMember })
    if (!c.control(to, bytes)) return
    c.m.hello.inc()
    if (to === BROADCAST) g.lastTxAt = g.lastHelloAt = c.now()
  }
}
