/**
 * Merging two trees of one group (PROTOCOLS.md §2). A group leader that hears a GRPH of another
 * leader for its group, and has the lower address, merges its tree into the other:
 *
 * 1. It sends a RREQ with J and R naming the other leader, unicast hop by hop along the reverse
 *    path the other leader's GRPH flood left (grph.ts records the neighbour each GRPH came from at
 *    every node). Every relay records the reverse hop, as for joins.
 * 2. The other leader, if it still leads, answers with a RREP-R, taking a group sequence number
 *    above both trees' (max + 1) and flooding a GRPH with it at once.
 * 3. Going back, the reply is absorbed by the first node of the merging tree it meets (the
 *    merging leader itself, or a node of its tree that the path crossed: attaching there keeps
 *    the path from closing a cycle through the merging tree). That node activates the link it came
 *    from as its upstream, sends MACT-J towards the replier (the MACT-J stops at the first node
 *    already on a tree, which answers with MACT-U when it is not the replier itself: distances
 *    are then its own), and sends MACT-U with the new leader and sequence number into its own
 *    tree, which re-orients it towards the new leader (the newer sequence number lets the wave
 *    through; the old leader stops leading when it arrives).
 *
 * One merge at a time per group, for 2 × NET_TRAVERSAL_TIME; a lost one is retried at the next GRPH.
 * In an authenticated network the merge request is signed by the merging leader and the reply by
 * the other leader (control-signing.ts), and relays check both before acting on them.
 *
 * Never towards its own subtree. Step 3 is safe only if every node of the merging tree knows its
 * leader: the merge request follows GRPH reverse paths, which may run through the merging tree
 * itself (a GRPH flood goes everywhere), and a node of that tree that still names an older leader
 * would relay the reply instead of absorbing it, so the leader would take its own descendant for
 * its upstream: a cycle. That happens right after a node becomes leader (failed repair, hand-over,
 * election): its MACT-U wave has not yet reached the whole tree. So a new leader starts no merge
 * for `mergeSettleMs` (maodv-defaults.ts) — a merge due earlier (the failed repair's merge back
 * into the old tree, or one set off by a GRPH) is put off until then. By then every node of its
 * tree that is still attached to it names it; where a MACT-U went unacked its sender broke the
 * link, cutting that branch off (the far end may hold on to its side of the link until liveness.ts
 * notices). The hop-count cap of tree.ts (MACT-U hops above NET_DIAMETER = a loop) bounds the
 * damage should a cycle form anyway.
 */
import type { Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { MaodvContext } from './context.ts'
import { UNKNOWN_HOPS, type GroupState } from './group-table.ts'
import { mergeSettleMs, netTraversalMs } from './maodv-defaults.ts'
import { MACT_J, encodeRrep, encodeRreq, type Rrep, type Rreq } from './maodv-messages.ts'

export class Merge {
  constructor(private readonly c: MaodvContext) {}

  /**
   * This leader heard the GRPH of `other` (a higher address) for its group, or its repair failed
   * and `other` led the tree it was cut from. A leader of less than `mergeSettleMs` puts it off.
   */
  start(g: GroupState, other: Addr): void {
    const c = this.c
    const now = c.now()
    if (now < g.mergeUntil || !c.tree.isLeader(g) || g.state !== 'on') return
    const settled = g.leaderSince + mergeSettleMs(c.config)
    if (now < settled) {
      g.mergeTimer ??= c.scheduler.at(settled - now, () => {
        g.mergeTimer = null
        this.start(g, other)
      })
      return
    }
    const route = c.grphRoutes.get(g.group, other, now)
    if (route === undefined) return
    g.mergeUntil = now + 2 * netTraversalMs(c.config)
    const ttl = Math.min(255, route.hops + 2)
    const bytes = encodeRreq(c.ctlAuth.signRreq({
      join: true, merge: true, seqKnown: g.seqKnown, ttl, hops: 0, maxHopsToLeader: UNKNOWN_HOPS,
      rreqId: c.requests.newId(), group: g.group, origin: c.self, groupSeq: g.groupSeq, leader: other,
    }))
    if (c.control(route.nextHop, bytes)) c.m.rreq.inc()
  }

  /** Forget a merge put off (this node stopped leading). */
  cancel(g: GroupState): void {
    g.mergeTimer?.cancel()
    g.mergeTimer = null
  }

  /** A merge request (already past duplicate suppression, and its signature in a secured network: requests.ts). */
  onRreq(from: Addr, msg: Rreq): void {
    const c = this.c
    const now = c.now()
    if (msg.leader === c.self) {
      const g = c.groups.get(msg.group)
      if (g === undefined || g.state !== 'on' || g.leader !== c.self) return
      const base = msg.seqKnown && seqDiff32(msg.groupSeq, g.groupSeq) > 0 ? msg.groupSeq : g.groupSeq
      g.groupSeq = (base + 1) >>> 0
      const bytes = encodeRrep(c.ctlAuth.signRrep({
        merge: true, hops: 0, hopsToLeader: 0, group: g.group, groupSeq: g.groupSeq, leader: c.self,
        origin: msg.origin, rreqId: msg.rreqId, replier: c.self,
      }))
      if (c.control(from, bytes)) c.m.rrep.inc()
      c.grph.sendNow(g)
      c.events.emit('merge', { group: g.group, leader: c.self })
      return
    }
    const route = c.grphRoutes.get(msg.group, msg.leader, now)
    if (route === undefined || msg.ttl <= 1 || route.nextHop === from) return
    c.routes.add(msg.origin, msg.rreqId, msg.group, from, true, now)
    if (c.control(route.nextHop, encodeRreq({ ...msg, ttl: msg.ttl - 1, hops: Math.min(255, msg.hops + 1) }))) c.m.rreq.inc()
  }

  /** A merge reply (its signature checked in a secured network: requests.ts): absorbed by the first node of the merging tree, else relayed. */
  onRrep(from: Addr, msg: Rrep): void {
    const c = this.c
    const g = c.groups.get(msg.group)
    if (msg.origin === c.self || (g !== undefined && g.state === 'on' && g.leader === msg.origin)) {
      if (g !== undefined && g.state === 'on') this.attach(g, from, msg)
      return
    }
    c.requests.relayReply(from, msg)
  }

  private attach(g: GroupState, via: Addr, msg: Rrep): void {
    const c = this.c
    if (g.leader === msg.leader || g.links.has(via) || !c.tree.activate(g, via, true)) return
    c.tree.setLeader(g, msg.leader)
    g.groupSeq = msg.groupSeq
    g.seqKnown = true
    g.hopsToLeader = Math.min(UNKNOWN_HOPS - 1, msg.hopsToLeader + msg.hops + 1)
    g.mergeUntil = -Infinity
    c.tree.mact(via, g, MACT_J, { origin: msg.origin, rreqId: msg.rreqId, replier: msg.replier })
    c.tree.sendUpdate(g, via)
    c.m.merges.inc()
    c.changed(g)
    c.events.emit('merge', { group: g.group, leader: msg.leader })
  }
}
