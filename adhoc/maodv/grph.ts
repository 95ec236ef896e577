/**
 * Group hellos (GRPH). The group leader floods one every GROUP_HELLO_INTERVAL, each with a new
 * group sequence number (the leader owns it), carrying the leader and the hop count so far.
 *
 * Every node keeps, per (group, leader), the newest GRPH's sequence number and the neighbour it
 * came from (routes.ts `GrphRoutes`): the duplicate filter, and the reverse path a merge request
 * takes to that leader. A node off the tree remembers the leader and sequence number for its next
 * join (and a joiner waiting to elect itself learns that a tree exists); a tree node takes a newer
 * sequence number of its own leader; a leader that hears another leader of its group with a
 * higher address starts a merge (merge.ts).
 *
 * In an authenticated network the leader signs each GRPH (GRPH-S, control-signing.ts); a node
 * checks the signature after the duplicate filter (the newest sequence number per leader) and
 * before recording, learning or relaying anything, so a forged GRPH with a high sequence number
 * cannot shut out the leader's genuine ones. One waiting for the leader's certificate is handled
 * again when it arrives.
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { MaodvContext } from './context.ts'
import { isOnTree, type GroupState } from './group-table.ts'
import { encodeGrph, type Grph } from './maodv-messages.ts'

export class GroupHello {
  constructor(private readonly c: MaodvContext) {}

  /** This node leads the group now: a GRPH at once, then every interval. */
  lead(g: GroupState): void {
    this.sendNow(g)
  }

  /** Send a GRPH now and restart the period. */
  sendNow(g: GroupState): void {
    g.grphTimer?.cancel()
    g.grphTimer = null
    this.send(g)
  }

  stop(g: GroupState): void {
    g.grphTimer?.cancel()
    g.grphTimer = null
  }

  private send(g: GroupState): void {
    const c = this.c
    g.grphTimer = null
    if (c.closed || !isOnTree(g) || g.leader !== c.self) return
    // While this leader merges into another tree it keeps its sequence number still: the merged
    // tree's (max + 1) must stay newer than anything its own tree has, or the re-orienting MACT-U
    // wave would be refused (tree.ts).
    if (c.now() < g.mergeUntil) {
      g.grphTimer = c.scheduler.at(g.mergeUntil - c.now(), () => this.send(g))
      return
    }
    g.groupSeq = (g.groupSeq + 1) >>> 0
    const bytes = encodeGrph(c.ctlAuth.signGrph({ ttl: c.config.netDiameter, hops: 0, group: g.group, leader: c.self, groupSeq: g.groupSeq }))
    if (c.control(BROADCAST, bytes)) c.m.grph.inc()
    g.grphTimer = c.scheduler.at(c.config.groupHelloIntervalMs, () => this.send(g))
  }

  onGrph(from: Addr, msg: Grph): void {
    const c = this.c
    if (c.closed || !c.ctlAuth.modeOk(msg)) return
    const now = c.now()
    if (msg.leader === c.self) return
    const known = c.grphRoutes.get(msg.group, msg.leader, now)
    if (known !== undefined && seqDiff32(msg.groupSeq, known.groupSeq) <= 0) return
    if (c.ctlAuth.verify(msg, from, () => this.onGrph(from, msg)) !== 'ok') return
    const hops = Math.min(255, msg.hops + 1)
    c.grphRoutes.put({ group: msg.group, leader: msg.leader, groupSeq: msg.groupSeq, nextHop: from, hops, expiresAt: 0 }, now)
    const g = c.groups.ensure(msg.group, now)
    if (g !== undefined) this.learn(g, msg)
    if (msg.ttl > 1) c.rebroadcast(encodeGrph({ ...msg, ttl: msg.ttl - 1, hops }), c.m.grph)
  }

  private learn(g: GroupState, msg: Grph): void {
    const c = this.c
    g.heardAt = c.now()
    if (!isOnTree(g)) {
      if (g.leader !== msg.leader || !g.seqKnown || seqDiff32(msg.groupSeq, g.groupSeq) > 0) {
        g.leader = msg.leader
        g.groupSeq = msg.groupSeq
        g.seqKnown = true
      }
      c.requests.discovery(g.group)?.grphHeard()
      return
    }
    if (msg.leader === g.leader) {
      if (seqDiff32(msg.groupSeq, g.groupSeq) > 0) g.groupSeq = msg.groupSeq
      return
    }
    if (g.leader === c.self && g.state === 'on' && c.self < msg.leader) c.merge.start(g, msg.leader)
  }
}
