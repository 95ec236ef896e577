/**
 * Route requests and replies: this node's discoveries (join, sender join, repair — join.ts), and
 * its part in everyone else's.
 *
 * - RREQ-J, flooded with jitter. Every node records the reverse next hop (routes.ts). A tree node
 *   (on the tree, not itself repairing) replies with a RREP when its group sequence number is at
 *   least the requested one (when the requester knows one) and its hops to the leader are at most
 *   the request's limit (repairs: the requester's own distance, so nothing in its subtree can
 *   answer). Tree nodes never relay a join request: a new branch is made of off-tree nodes only,
 *   which is what keeps a repair from running through the repairing node's own subtree.
 * - RREP, unicast back hop by hop along the reverse path. Each relay records the un-activated
 *   next hop towards that replier and relays a reply only when it is fresher or shorter than the
 *   ones it relayed before for the request (the requester would not pick the others).
 * - The requester attaches to the reply its discovery chose: it activates that neighbour as its
 *   upstream and sends MACT-J naming the replier, which each relay forwards along its recorded next
 *   hop towards it (tree.ts `onActivate`) until an on-tree node.
 * - Merge requests (R) are handled by merge.ts.
 *
 * In an authenticated network (control-signing.ts) RREQs are signed by their requester and RREPs
 * by their replier. Receive order: the layout's mode, then the cheap checks (own request,
 * duplicate by (origin, rreqId); for a RREP, whether anything here would use it), then the
 * signature; a request is recorded as seen, and a reverse hop or reply candidate learnt, only
 * after it verified, so a forged copy arriving first does not suppress the genuine one. A message
 * waiting for its signer's certificate is handled again from the start when it arrives.
 */
import { BROADCAST, type Addr } from '../../core/addr.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { Timer } from '../../core/scheduler.ts'
import { SeqWindows } from '../dedup.ts'
import type { MaodvContext } from './context.ts'
import { UNKNOWN_HOPS, isOnTree, type GroupState } from './group-table.ts'
import { Discovery, type DiscoveryHost, type DiscoveryKind, type Reply } from './join.ts'
import { discoveryAttempts } from './maodv-defaults.ts'
import { MACT_J, encodeRrep, encodeRreq, type Rrep, type Rreq } from './maodv-messages.ts'

export class Requests implements DiscoveryHost {
  private readonly discoveries = new Map<Addr, Discovery>()
  private nextId: number
  private readonly dedup: SeqWindows
  /** Send times of this node's recent RREQs (rate limit). */
  private readonly sent: number[] = []

  constructor(private readonly c: MaodvContext) {
    this.nextId = c.rng.int(0x1_0000_0000)
    this.dedup = new SeqWindows({ bits: 32, window: c.config.dedupWindow, maxOrigins: c.config.dedupMaxOrigins })
  }

  // ---- this node's discoveries --------------------------------------------------------------------

  /** Start a discovery for the group unless one runs already (a sender join then serves a join too). */
  start(g: GroupState, kind: DiscoveryKind): void {
    if (this.discoveries.get(g.group)?.active) return
    const cfg = this.c.config
    const repair = kind === 'repair'
    const attempts = discoveryAttempts(cfg, repair ? cfg.repairTtlStart : cfg.ttlStart, repair ? cfg.repairRetries : cfg.rreqRetries)
    const electWait = kind === 'join' ? this.c.rng.float() * cfg.leaderJitterMs : 0
    const maxHops = repair ? g.hopsToLeader : UNKNOWN_HOPS
    const d = new Discovery(this, g.group, kind, attempts, cfg.rrepWaitMs, maxHops, electWait, cfg.maxJoinRestarts)
    this.discoveries.set(g.group, d)
    if (!repair) g.state = 'joining'
    d.start()
  }

  /** Stop the group's discovery; a joining node goes back off the tree. */
  cancel(g: GroupState): void {
    this.discoveries.get(g.group)?.cancel()
    this.discoveries.delete(g.group)
    if (g.state === 'joining') g.state = 'off'
  }

  discovery(group: Addr): Discovery | undefined {
    return this.discoveries.get(group)
  }

  /** The node got onto the tree by relaying someone else's MACT-J while joining itself. */
  reachedTree(g: GroupState): void {
    const d = this.discoveries.get(g.group)
    if (d === undefined || d.kind === 'repair') return
    d.cancel()
    this.discoveries.delete(g.group)
    this.joinedTree(g)
  }

  now(): number {
    return this.c.now()
  }

  at(delayMs: number, fn: () => void): Timer {
    return this.c.scheduler.at(delayMs, fn)
  }

  rreqDelay(): number {
    const now = this.c.now()
    while (this.sent.length > 0 && this.sent[0] <= now - 1000) this.sent.shift()
    return this.sent.length < this.c.config.rreqRateLimit ? 0 : this.sent[0] + 1000 - now
  }

  /** A fresh request id; our own copies are marked seen so echoes are dropped. */
  newId(): number {
    const id = this.nextId
    this.nextId = (id + 1) >>> 0
    this.dedup.accept(this.c.self, id)
    this.sent.push(this.c.now())
    return id
  }

  sendRreq(d: Discovery, ttl: number): number {
    const c = this.c
    const g = c.groups.get(d.group)!
    const rreqId = this.newId()
    const leader = g.leader === c.self ? 0 : g.leader
    const bytes = encodeRreq(c.ctlAuth.signRreq({
      join: true, merge: false, seqKnown: g.seqKnown, ttl, hops: 0, maxHopsToLeader: d.maxHopsToLeader,
      rreqId, group: g.group, origin: c.self, groupSeq: g.groupSeq, leader,
    }))
    if (c.control(BROADCAST, bytes)) c.m.rreq.inc()
    return rreqId
  }

  done(d: Discovery, reply: Reply | null): void {
    const c = this.c
    if (this.discoveries.get(d.group) === d) this.discoveries.delete(d.group)
    const g = c.groups.get(d.group)
    if (g === undefined) return
    if (d.kind === 'repair') {
      if (g.state !== 'repairing') return
      const before = { leader: g.leader, hops: g.hopsToLeader }
      return c.tree.repairDone(g, reply !== null && this.attach(g, reply), before)
    }
    if (g.state !== 'joining') return
    if (reply !== null && this.attach(g, reply)) return this.joinedTree(g)
    if (g.member) {
      c.tree.becomeLeader(g)
      return this.joinedTree(g)
    }
    g.state = 'off'
    g.senderBackoffUntil = c.now() + c.config.senderRetryMs
    c.plane.failBuffered(g.group, 'no multicast tree found')
  }

  private joinedTree(g: GroupState): void {
    if (g.member) {
      this.c.m.joins.inc()
      this.c.events.emit('joined', { group: g.group })
    }
    this.c.plane.flush(g)
  }

  /** Attach to the tree through the chosen reply: activate the upstream link, MACT-J along it. */
  private attach(g: GroupState, r: Reply): boolean {
    const c = this.c
    if (g.links.has(r.via) || !c.tree.activate(g, r.via, true)) return false
    g.state = 'on'
    c.tree.setLeader(g, r.leader)
    g.groupSeq = r.groupSeq
    g.seqKnown = true
    g.hopsToLeader = Math.min(UNKNOWN_HOPS - 1, r.hopsToLeader)
    c.tree.mact(r.via, g, MACT_J, { origin: c.self, rreqId: r.rreqId, replier: r.replier })
    c.changed(g)
    return true
  }

  // ---- everyone else's requests -------------------------------------------------------------------

  /** `resumed`: handled again after the requester's certificate arrived (secured network). */
  onRreq(from: Addr, msg: Rreq, resumed = false): void {
    const c = this.c
    if (c.closed || !c.ctlAuth.modeOk(msg)) return
    // Liveness learns only about `from` (the link authenticated it): "I am off the tree" concerns
    // our link to it alone, so it needs no signature.
    if (msg.join && !msg.merge && !resumed) c.live.joinRequest(from, msg)
    if (c.ctlAuth.secured) {
      if (msg.origin === c.self || this.dedup.seen(msg.origin, msg.rreqId)) return
      if (c.ctlAuth.verify(msg, from, () => this.onRreq(from, msg, true)) !== 'ok') return
    }
    if (msg.origin === c.self || !this.dedup.accept(msg.origin, msg.rreqId)) return
    if (msg.merge) return c.merge.onRreq(from, msg)
    if (!msg.join) return
    const g = c.groups.get(msg.group)
    if (g !== undefined && isOnTree(g)) {
      if (this.mayReply(g, msg)) this.reply(from, g, msg)
      return
    }
    c.routes.add(msg.origin, msg.rreqId, msg.group, from, false, c.now())
    if (msg.ttl > 1) c.rebroadcast(encodeRreq({ ...msg, ttl: msg.ttl - 1, hops: Math.min(255, msg.hops + 1) }), c.m.rreq)
  }

  private mayReply(g: GroupState, msg: Rreq): boolean {
    if (g.state !== 'on' || g.leader === 0) return false
    if (msg.seqKnown && g.seqKnown && seqDiff32(g.groupSeq, msg.groupSeq) < 0) return false
    return g.hopsToLeader <= msg.maxHopsToLeader
  }

  private reply(to: Addr, g: GroupState, msg: Rreq): void {
    const c = this.c
    const bytes = encodeRrep(c.ctlAuth.signRrep({
      merge: false, hops: 0, hopsToLeader: Math.min(UNKNOWN_HOPS, g.hopsToLeader), group: g.group, groupSeq: g.groupSeq,
      leader: g.leader, origin: msg.origin, rreqId: msg.rreqId, replier: c.self,
    }))
    if (c.control(to, bytes)) c.m.rrep.inc()
  }

  onRrep(from: Addr, msg: Rrep): void {
    const c = this.c
    if (c.closed || !c.ctlAuth.modeOk(msg)) return
    if (c.ctlAuth.secured) {
      if (!this.wanted(from, msg)) return
      if (c.ctlAuth.verify(msg, from, () => this.onRrep(from, msg)) !== 'ok') return
    }
    if (msg.merge) return c.merge.onRrep(from, msg)
    const hops = msg.hops + 1
    if (msg.origin === c.self) {
      this.discoveries.get(msg.group)?.offer({
        via: from, replier: msg.replier, rreqId: msg.rreqId, groupSeq: msg.groupSeq, leader: msg.leader,
        hopsToTree: hops, hopsToLeader: msg.hopsToLeader + hops,
      })
      return
    }
    this.relayReply(from, msg)
  }

  /**
   * Whether a RREP could be used here (checked before its signature): addressed to this node, a
   * merge reply for this node's tree, or one to relay along a reverse hop recorded for its request
   * (as `relayReply` requires).
   */
  private wanted(from: Addr, msg: Rrep): boolean {
    const c = this.c
    if (msg.origin === c.self) return true
    if (msg.merge) {
      const g = c.groups.get(msg.group)
      if (g !== undefined && g.state === 'on' && g.leader === msg.origin) return true
    }
    const route = c.routes.get(msg.origin, msg.rreqId, c.now())
    return route !== undefined && route.group === msg.group && route.prevHop !== from && msg.hops < 255
  }

  /** Record the un-activated next hop towards the replier and pass the reply on if it is better. */
  relayReply(from: Addr, msg: Rrep): void {
    const c = this.c
    const now = c.now()
    const route = c.routes.get(msg.origin, msg.rreqId, now)
    const hops = msg.hops + 1
    if (route === undefined || route.group !== msg.group || route.prevHop === from || hops > 255) return
    const cand = { via: from, hops, hopsToLeader: msg.hopsToLeader, groupSeq: msg.groupSeq, leader: msg.leader }
    if (!c.routes.addCandidate(route, msg.replier, cand, now)) return
    const f = route.forwarded
    if (f !== null) {
      const d = seqDiff32(msg.groupSeq, f.groupSeq)
      if (d < 0 || (d === 0 && hops >= f.hops)) return
    }
    route.forwarded = { groupSeq: msg.groupSeq, hops }
    if (c.control(route.prevHop, encodeRrep({ ...msg, hops }))) c.m.rrep.inc()
  }

  close(): void {
    for (const d of this.discoveries.values()) d.cancel()
    this.discoveries.clear()
  }
}
