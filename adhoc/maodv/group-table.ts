/**
 * The multicast group table: one entry per group this node is a member of, is on the tree of (as a
 * member or a router), is joining, or only knows about from GRPHs. An entry holds the node's view
 * of the tree (leader, group sequence number, hops to the leader) and its activated tree links
 * with per-link state. Bounded: at most `maxGroups` entries; an entry holding nothing but GRPH
 * knowledge is evicted first (least recently heard), and when every entry is in use a new group
 * is refused.
 */
import type { Addr } from '../../core/addr.ts'
import { SeqWindows } from '../dedup.ts'
import type { Timer } from '../../core/scheduler.ts'
import type { TreeInfo } from '../routing.ts'
import { UNKNOWN_DISTANCE } from './maodv-messages.ts'

/** Where this node stands on a group's tree. */
export type TreeState = 'off' | 'joining' | 'on' | 'repairing'

/** One activated tree link. */
export interface LinkState {
  neighbour: Addr
  /** Towards the group leader. */
  upstream: boolean
  /** Scheduler time the neighbour was last heard (any frame of ours). */
  lastHeard: number
  /** When the link was activated. */
  since: number
  /** The neighbour said it is a member (tree hello flag); false until heard. */
  member: boolean
  /** When it was last probed for being silent (-Infinity: not since it was last heard). */
  probedAt: number
  /**
   * Tree hops to the nearest member through this link (1: the neighbour is one), from the
   * neighbour's hellos; UNKNOWN_DISTANCE (255) until heard or when it knows none.
   */
  nearestMember: number
}

export interface GroupState {
  readonly group: Addr
  state: TreeState
  /** The application joined the group. */
  member: boolean
  /** The group leader as this node knows it; 0 = none. */
  leader: Addr
  groupSeq: number
  seqKnown: boolean
  /** Tree hops to the leader (255 = unknown). */
  hopsToLeader: number
  links: Map<Addr, LinkState>
  /** Last time this node originated data for the group (non-member senders stay on the tree a while). */
  lastSentAt: number
  /** Last time a data packet of the group was originated here or heard from a tree neighbour. */
  lastDataAt: number
  /** Start of the current data-flowing period (liveness only counts from then). */
  activeSince: number
  /** Last broadcast of ours every tree neighbour could hear (data broadcast, hello). */
  lastTxAt: number
  lastHelloAt: number
  /** Data duplicate suppression, created when the node first sees data of the group. */
  dedup: SeqWindows | null
  /** Leader's periodic GRPH timer (only while this node leads). */
  grphTimer: Timer | null
  /** Non-member sender: timer that re-checks pruning when its hold expires. */
  holdTimer: Timer | null
  /** No merge is started before this time (one in flight at a time). */
  mergeUntil: number
  /** When this node last became the group's leader (merges wait for its MACT-U wave: merge.ts). */
  leaderSince: number
  /** A merge put off until the new leader's MACT-U wave has covered its tree. */
  mergeTimer: Timer | null
  /** A non-member sender's failed join: sends fail at once until then. */
  senderBackoffUntil: number
  /** Last GRPH knowledge: when it was heard (entries with only knowledge are evicted by this). */
  heardAt: number
}

export const UNKNOWN_HOPS = 255

/**
 * What this node tells tree neighbour `nb` in its hellos (split horizon): 0 when it is a member,
 * else the nearest member through its other links, 255 when it knows none.
 */
export function nearestMemberFor(g: GroupState, nb: Addr): number {
  if (g.member) return 0
  let best = UNKNOWN_DISTANCE
  for (const l of g.links.values()) if (l.neighbour !== nb && l.nearestMember < best) best = l.nearestMember
  return best
}

/** A neighbour's report (0 = it is a member) as the distance through our link to it. */
export function linkDistance(reported: number): number {
  return reported >= UNKNOWN_DISTANCE - 1 ? UNKNOWN_DISTANCE : reported + 1
}

export function newGroupState(group: Addr, now: number): GroupState {
  return {
    group, state: 'off', member: false, leader: 0, groupSeq: 0, seqKnown: false, hopsToLeader: UNKNOWN_HOPS, links: new Map(),
    lastSentAt: -Infinity, lastDataAt: -Infinity, activeSince: -Infinity, lastTxAt: -Infinity, lastHelloAt: -Infinity, dedup: null,
    grphTimer: null, holdTimer: null, mergeUntil: -Infinity, leaderSince: -Infinity, mergeTimer: null, senderBackoffUntil: -Infinity, heardAt: now,
  }
}

/** The entry holds nothing but knowledge: it may be evicted. */
function evictable(g: GroupState): boolean {
  return g.state === 'off' && !g.member && g.grphTimer === null && g.holdTimer === null && g.mergeTimer === null
}

export class GroupTable {
  private readonly groups = new Map<Addr, GroupState>()
  constructor(private readonly maxGroups: number) {}

  get(group: Addr): GroupState | undefined {
    return this.groups.get(group)
  }

  /** The entry, made if needed; undefined when the table is full of entries in use. */
  ensure(group: Addr, now: number): GroupState | undefined {
    let g = this.groups.get(group)
    if (g !== undefined) return g
    if (this.groups.size >= this.maxGroups) {
      let victim: GroupState | undefined
      for (const e of this.groups.values()) if (evictable(e) && (!victim || e.heardAt < victim.heardAt)) victim = e
      if (victim === undefined) return undefined
      this.groups.delete(victim.group)
    }
    g = newGroupState(group, now)
    this.groups.set(group, g)
    return g
  }

  values(): IterableIterator<GroupState> {
    return this.groups.values()
  }

  clear(): void {
    this.groups.clear()
  }
}

export function isOnTree(g: GroupState): boolean {
  return g.state === 'on' || g.state === 'repairing'
}

export function upstreamOf(g: GroupState): LinkState | undefined {
  for (const l of g.links.values()) if (l.upstream) return l
  return undefined
}

/** TreeInfo (adhoc/routing.ts) of an entry on a tree: activated links only, sorted by neighbour. */
export function treeInfo(g: GroupState): TreeInfo {
  const links = [...g.links.values()]
    .sort((a, b) => a.neighbour - b.neighbour)
    .map((l) => ({ neighbour: l.neighbour, upstream: l.upstream, activated: true, lastHeard: l.lastHeard, member: l.member, nearestMember: l.nearestMember }))
  return { group: g.group, leader: g.leader, groupSeq: g.groupSeq, hopsToLeader: g.hopsToLeader, member: g.member, links }
}
