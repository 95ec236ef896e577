/**
 * Tree maintenance: activating and removing tree links, MACT handling, leadership (election,
 * hand-over), pruning, link breaks, repair outcomes and partitions.
 *
 * Rules (PROTOCOLS.md §2):
 * - Prune: only a leaf leaves, by MACT-P to its one neighbour. A non-member that becomes a leaf
 *   (and is not a recent sender) prunes itself too, so prunes cascade up a bare branch. A leader
 *   that leaves hands leadership over by MACT-G (MACT-G+P when it is a leaf: "you lead, I'm gone").
 * - MACT-G: the receiver becomes leader if it is a member or recent sender, or keeps at least two
 *   tree links (a branching router is a fine root); a non-member with one other link passes G+P on
 *   and leaves; with none it leaves.
 * - MACT-U ("my hops to the leader are h, the leader is L"): the receiver makes the sender its
 *   upstream and tells its other tree neighbours. From the current upstream it is always taken (a
 *   repair or merge changed distances); from another tree neighbour only with a newer group
 *   sequence number — the leader moved to that side (hand-over, merge), and of two crossing waves
 *   the newer wins everywhere.
 *   Of a cycle of upstream links (which nothing should make: merge.ts) the MACT-U would circle
 *   for ever, one hop more each time round: a count above NET_DIAMETER is taken for one, and the
 *   node breaks its upstream link and repairs (every node below it has a higher count, so the
 *   hop-count rule keeps the repair out of what was the loop).
 * - Break: the upstream end of a broken link drops it (and prunes itself if that leaves it a
 *   non-member leaf); the downstream end repairs. A failed repair is a partition: a member (or
 *   branching router) becomes the leader of its part; a non-member with one link hands over.
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { MaodvContext } from './context.ts'
import { UNKNOWN_HOPS, isOnTree, upstreamOf, type GroupState, type LinkState } from './group-table.ts'
import { MACT_G, MACT_J, MACT_P, MACT_R, MACT_U, UNKNOWN_DISTANCE, encodeMact, type Mact } from './maodv-messages.ts'

export class TreeOps {
  constructor(private readonly c: MaodvContext) {}

  // ---- links -------------------------------------------------------------------------------------

  /** Activate a tree link (or refresh it); undefined when the group already has maxTreeLinks. */
  activate(g: GroupState, nb: Addr, upstream: boolean): LinkState | undefined {
    const now = this.c.now()
    let l = g.links.get(nb)
    if (l === undefined) {
      if (g.links.size >= this.c.config.maxTreeLinks) return undefined
      l = { neighbour: nb, upstream: false, lastHeard: now, since: now, member: false, probedAt: -Infinity, nearestMember: UNKNOWN_DISTANCE }
      g.links.set(nb, l)
      this.c.live.wake()
    }
    l.lastHeard = now
    if (upstream) this.setUpstream(g, nb)
    return l
  }

  /** Make `nb` the only upstream link (0: none). */
  setUpstream(g: GroupState, nb: Addr): void {
    for (const l of g.links.values()) l.upstream = l.neighbour === nb
  }

  setLeader(g: GroupState, leader: Addr): void {
    if (g.leader === leader) return
    const wasSelf = g.leader === this.c.self
    g.leader = leader
    if (wasSelf) {
      this.c.grph.stop(g)
      this.c.merge.cancel(g)
    }
    this.c.events.emit('leader', { group: g.group, leader })
  }

  isLeader(g: GroupState): boolean {
    return isOnTree(g) && g.leader === this.c.self
  }

  // ---- MACT --------------------------------------------------------------------------------------

  mact(to: Addr, g: GroupState, flags: number, o: { origin?: Addr; rreqId?: number; replier?: Addr } = {}): void {
    const bytes = encodeMact({
      flags,
      hopsToLeader: Math.min(UNKNOWN_HOPS, g.hopsToLeader),
      group: g.group,
      groupSeq: g.groupSeq,
      leader: g.leader || this.c.self,
      origin: o.origin ?? this.c.self,
      rreqId: o.rreqId ?? 0,
      replier: o.replier ?? 0,
    })
    if (this.c.control(to, bytes)) this.c.m.mact.inc()
  }

  /** MACT-U to every tree neighbour but `except`. */
  sendUpdate(g: GroupState, except: Addr = 0): void {
    for (const nb of [...g.links.keys()]) if (nb !== except) this.mact(nb, g, MACT_U)
  }

  onMact(from: Addr, msg: Mact): void {
    if (msg.flags === MACT_J) return this.onActivate(from, msg)
    const g = this.c.groups.get(msg.group)
    if (g === undefined || !isOnTree(g) || !g.links.has(from)) return
    if (msg.flags & MACT_G) return this.onHandOver(g, from, msg)
    if (msg.flags === MACT_U) return this.onUpdate(g, from, msg)
    if (msg.flags === MACT_P && !g.links.get(from)!.upstream) {
      g.links.delete(from)
      this.c.changed(g)
      return this.checkPrune(g)
    }
    // R (the neighbour has no tree link to us, or just dropped it), or a prune from our upstream
    // (it thought it was a leaf: our state disagrees): the link is gone.
    this.breakLink(g, from, msg.flags === MACT_R ? 'refused' : 'pruned by upstream', true)
  }

  /** MACT-J: activate the link to `from`; off the tree, extend the branch towards the chosen replier. */
  private onActivate(from: Addr, msg: Mact): void {
    const c = this.c
    const g = c.groups.ensure(msg.group, c.now())
    if (g === undefined) return this.refuse(from, msg.group)
    if (isOnTree(g)) {
      if (!g.links.has(from) && !this.activate(g, from, false)) return this.refuse(from, msg.group)
      g.links.get(from)!.lastHeard = c.now()
      c.changed(g)
      // The MACT-J carries the view the new branch took from the reply (leader, sequence number,
      // the sender's hops). If this node sees the tree differently (it is not the replier, or its
      // tree merged or changed leader since it replied), correct the branch.
      if (msg.leader !== g.leader || msg.groupSeq !== g.groupSeq || msg.hopsToLeader !== g.hopsToLeader + 1) this.mact(from, g, MACT_U)
      return
    }
    const cand = c.routes.get(msg.origin, msg.rreqId, c.now())?.candidates.get(msg.replier)
    if (cand === undefined || cand.via === from) return this.refuse(from, msg.group)
    g.state = 'on'
    this.setLeader(g, cand.leader)
    g.groupSeq = cand.groupSeq
    g.seqKnown = true
    g.hopsToLeader = Math.min(UNKNOWN_HOPS - 1, cand.hopsToLeader + cand.hops)
    this.activate(g, from, false)
    this.activate(g, cand.via, true)
    this.mact(cand.via, g, MACT_J, { origin: msg.origin, rreqId: msg.rreqId, replier: msg.replier })
    c.changed(g)
    // This node may itself have been joining: it is on the tree now.
    c.requests.reachedTree(g)
  }

  /** MACT-R: "I have no tree link to you" (refused activation, dropped link, lost state). */
  refuse(to: Addr, group: Addr): void {
    const bytes = encodeMact({ flags: MACT_R, hopsToLeader: UNKNOWN_HOPS, group, groupSeq: 0, leader: 0, origin: this.c.self, rreqId: 0, replier: 0 })
    if (this.c.control(to, bytes)) this.c.m.mact.inc()
  }

  private onHandOver(g: GroupState, from: Addr, msg: Mact): void {
    if (msg.flags & MACT_P) {
      g.links.delete(from)
      this.c.changed(g)
    }
    if (g.seqKnown && seqDiff32(msg.groupSeq, g.groupSeq) > 0) g.groupSeq = msg.groupSeq
    if (g.state === 'repairing') return // a detached part: its repair decides
    this.takeOverOrPass(g)
  }

  /** After a hand-over or a failed repair: lead, pass leadership on, or leave. */
  private takeOverOrPass(g: GroupState): void {
    if (this.c.wanted(g) || g.links.size >= 2) return this.becomeLeader(g)
    if (g.links.size === 1) return this.handOver(g, g.links.keys().next().value as Addr, true)
    this.drop(g)
  }

  private onUpdate(g: GroupState, from: Addr, msg: Mact): void {
    const c = this.c
    if (g.state === 'repairing' || msg.leader === c.self) return
    const l = g.links.get(from)!
    const newer = !g.seqKnown || seqDiff32(msg.groupSeq, g.groupSeq) > 0
    if (!l.upstream && !newer) return
    const hops = msg.hopsToLeader + 1
    // No tree is deeper than NET_DIAMETER (GRPHs reach no further): more is a loop of upstream
    // links, whose MACT-U would otherwise circle it with growing counts (see the header).
    if (hops > c.config.netDiameter) return this.breakLink(g, from, 'hops to the leader above NET_DIAMETER: a loop')
    const changed = !l.upstream || g.leader !== msg.leader || g.hopsToLeader !== hops || newer
    this.setUpstream(g, from)
    this.setLeader(g, msg.leader)
    g.hopsToLeader = hops
    if (newer) g.groupSeq = msg.groupSeq
    g.seqKnown = true
    if (!changed) return
    this.sendUpdate(g, from)
    c.changed(g)
  }

  // ---- leadership --------------------------------------------------------------------------------

  becomeLeader(g: GroupState): void {
    const c = this.c
    g.groupSeq = g.seqKnown ? (g.groupSeq + 1) >>> 0 : c.rng.int(0x1_0000_0000)
    g.seqKnown = true
    g.hopsToLeader = 0
    g.state = 'on'
    g.leaderSince = c.now()
    this.setUpstream(g, 0)
    this.setLeader(g, c.self)
    c.m.leaderChanges.inc()
    this.sendUpdate(g)
    c.grph.lead(g)
    c.changed(g)
  }

  /** MACT-G (+P: and leave) to `to`, which takes over leadership. */
  handOver(g: GroupState, to: Addr, prune: boolean): void {
    this.mact(to, g, prune ? MACT_G | MACT_P : MACT_G)
    if (prune) {
      this.c.m.prunes.inc()
      return this.drop(g)
    }
    g.hopsToLeader = 1
    this.setUpstream(g, to)
    this.setLeader(g, to)
    this.c.changed(g)
  }

  /** The neighbour to hand leadership to: a member if a hello said so, else the lowest address. */
  private heir(g: GroupState): Addr {
    let best: LinkState | undefined
    for (const l of g.links.values()) {
      if (!best || (l.member && !best.member) || (l.member === best.member && l.neighbour < best.neighbour)) best = l
    }
    return best!.neighbour
  }

  // ---- leaving, pruning --------------------------------------------------------------------------

  /** The application left the group. */
  leave(g: GroupState): void {
    const c = this.c
    g.member = false
    if (g.state === 'joining') {
      if (!c.wanted(g)) c.requests.cancel(g)
      return
    }
    if (this.isLeader(g) && g.state === 'on' && !c.wanted(g) && g.links.size >= 2) this.handOver(g, this.heir(g), false)
    this.checkPrune(g)
  }

  /** Leave the tree if this node is a non-member (not a recent sender) with nothing to relay. */
  checkPrune(g: GroupState): void {
    const c = this.c
    if (c.wanted(g)) return
    const n = g.links.size
    if (g.state === 'repairing') {
      if (n === 0) {
        c.requests.cancel(g)
        this.drop(g)
      }
      return
    }
    if (g.state !== 'on') return
    if (g.leader === c.self) {
      if (n === 0) this.drop(g)
      else if (n === 1) this.handOver(g, g.links.keys().next().value as Addr, true)
      else if (g.links.get(this.heir(g))!.member) this.handOver(g, this.heir(g), false)
      // A branching non-member leader with no member in sight stays the root (handing over to
      // another router would only move the problem, and two could pass it back and forth).
      return
    }
    if (n === 1) {
      this.mact(g.links.keys().next().value as Addr, g, MACT_P)
      c.m.prunes.inc()
    }
    if (n <= 1) this.drop(g)
  }

  /** Off the tree: forget the links, stop leading; GRPH knowledge stays. */
  drop(g: GroupState): void {
    const c = this.c
    const wasOn = isOnTree(g)
    if (g.leader === c.self) {
      c.grph.stop(g)
      c.merge.cancel(g)
      g.leader = 0
    }
    g.links.clear()
    g.state = 'off'
    g.hopsToLeader = UNKNOWN_HOPS
    if (wasOn) c.changed(g)
  }

  // ---- breaks, repair, partition -----------------------------------------------------------------

  /**
   * A tree link is gone (neighbour lost, silent, unacknowledged, refused). Unless the neighbour
   * itself said so (`told`), it gets a MACT-R: our evidence may be one-sided (a few lost beacons
   * make the link layer drop a neighbour that still hears us), and a downstream node that no
   * longer receives data would otherwise never find out that its upstream dropped it.
   */
  breakLink(g: GroupState, nb: Addr, reason: string, told = false): void {
    const c = this.c
    const l = g.links.get(nb)
    if (l === undefined) return
    g.links.delete(nb)
    if (!told) this.refuse(nb, g.group)
    c.logger?.debug('maodv tree link broken', { group: g.group, neighbour: nb, upstream: l.upstream, reason })
    c.changed(g)
    if (l.upstream && g.state === 'on' && g.leader !== c.self) return this.startRepair(g)
    this.checkPrune(g)
  }

  private startRepair(g: GroupState): void {
    const c = this.c
    if (!c.wanted(g) && g.links.size === 0) return this.drop(g)
    g.state = 'repairing'
    this.setUpstream(g, 0)
    c.m.repairs.inc()
    c.requests.start(g, 'repair')
  }

  /** The repair discovery ended; on success the new branch is already attached. */
  repairDone(g: GroupState, ok: boolean, before: { leader: Addr; hops: number }): void {
    const c = this.c
    c.events.emit('repair', { group: g.group, ok })
    if (ok) {
      if (g.leader !== before.leader || g.hopsToLeader !== before.hops) this.sendUpdate(g, upstreamOf(g)?.neighbour)
      c.plane.repaired(g)
      return this.checkPrune(g)
    }
    c.m.repairFailures.inc()
    g.state = 'on'
    this.takeOverOrPass(g)
    c.plane.repaired(g)
    // A new leader with the lower address need not wait for the old leader's next GRPH to merge
    // back: the reverse path of the last one is still known (merge.ts gives up quietly if not).
    // Not at once, though: merge.ts puts it off until this node's MACT-U wave has told its
    // subtree who leads now (that path may run through the subtree).
    if (this.isLeader(g) && before.leader !== 0 && c.self < before.leader) c.merge.start(g, before.leader)
  }
}
