/**
 * `PlainAudience`: the Audience of a plain pbcast group (PROTOCOLS.md §5): everyone wants
 * everything (key 1), the first dissemination goes to `firstFanout` random members (or all: IP
 * multicast or a radio broadcast), and each round's gossip partners are `fanout` distinct peers
 * drawn uniformly from a partial view of `viewSize` members.
 *
 * The view is sampled without replacement with weight 1/(1 + distance)^localityBias (0 = uniform:
 * the analysis' assumption; larger keeps gossip near, cheaper on a WAN or multi-hop radio, at the
 * cost of slower spread across distant clusters) and resampled every `viewRefreshRounds` calls of
 * roundTargets (and after setMembers), so over time every member is gossiped with.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ConfigError } from '../../core/errors.ts'
import type { Rng } from '../../core/rng.ts'
import { checkNumber, fieldPath } from '../../core/validate.ts'
import type { Audience, MessageMeta, RoundTarget } from './pbcast-types.ts'

export interface PlainAudienceOptions {
  self: Addr
  /** The group (this member may be among them; it is never a target). */
  members: readonly Addr[]
  /** Gossip partners per round (default 3). More: faster spread (rounds ∝ log n / log(1 + fanout)), load ∝ fanout. */
  fanout?: number
  /** Members in the partial view (default 30). Smaller: less state and more locality, less randomness of partners. */
  viewSize?: number
  /** Weight exponent of nearness when sampling the view (default 0 = uniform). */
  localityBias?: number
  /** Distance to a peer (hops or ms), ≥ 0; needed only when localityBias > 0 (default 0 for all). */
  distance?: (peer: Addr) => number
  /** Calls of roundTargets between resamplings of the view (default 50). */
  viewRefreshRounds?: number
  /** Members that get the first dissemination of a message this member publishes: a number, or 'all'. */
  firstFanout: number | 'all'
  /** Config path for errors (default 'audience'). */
  path?: string
}

const ALWAYS = (): boolean => true

export class PlainAudience implements Audience {
  readonly self: Addr
  readonly fanout: number
  readonly viewSize: number
  readonly localityBias: number
  readonly viewRefreshRounds: number
  readonly firstFanout: number | 'all'
  private readonly distance: (peer: Addr) => number
  private others: Addr[] = []
  private view: Addr[] = []
  /** roundTargets calls until the view is resampled (0: resample on the next call). */
  private refreshIn = 0

  constructor(o: PlainAudienceOptions) {
    const path = o.path ?? 'audience'
    if (!isNodeAddr(o.self)) throw new ConfigError(fieldPath(path, 'self'), `must be a node address, got ${o.self}`)
    this.self = o.self
    this.fanout = checkNumber(fieldPath(path, 'fanout'), o.fanout ?? 3, { min: 1, max: 1024, integer: true })
    this.viewSize = checkNumber(fieldPath(path, 'viewSize'), o.viewSize ?? 30, { min: 1, max: 1_048_576, integer: true })
    this.localityBias = checkNumber(fieldPath(path, 'localityBias'), o.localityBias ?? 0, { min: 0, max: 16 })
    this.viewRefreshRounds = checkNumber(fieldPath(path, 'viewRefreshRounds'), o.viewRefreshRounds ?? 50, { min: 1, max: 1_000_000, integer: true })
    if (o.firstFanout !== 'all') checkNumber(fieldPath(path, 'firstFanout'), o.firstFanout, { min: 0, max: 1_048_576, integer: true })
    this.firstFanout = o.firstFanout
    this.distance = o.distance ?? (() => 0)
    this.setMembers(o.members, path)
  }

  /** Replace the membership; the view is resampled on the next round. */
  setMembers(members: readonly Addr[], path = 'audience'): void {
    const seen = new Set<Addr>()
    for (const a of members) {
      if (!isNodeAddr(a)) throw new ConfigError(fieldPath(path, 'members'), `${a} is not a node address`)
      if (a !== this.self) seen.add(a)
    }
    this.others = [...seen]
    this.refreshIn = 0
  }

  /** Members other than this one. */
  get members(): readonly Addr[] {
    return this.others
  }

  /** The current partial view (sampled on the first roundTargets call). */
  get currentView(): readonly Addr[] {
    return this.view
  }

  keyOf(): number {
    return 1
  }

  selfWants(): boolean {
    return true
  }

  peerWants(): boolean {
    return true
  }

  firstTargets(_m: MessageMeta, rng: Rng): Addr[] {
    if (this.firstFanout === 'all') return [...this.others]
    return sample(this.others, this.firstFanout, rng)
  }

  roundTargets(rng: Rng): RoundTarget[] {
    if (this.refreshIn <= 0) {
      this.view = this.sampleView(rng)
      this.refreshIn = this.viewRefreshRounds
    }
    this.refreshIn--
    return sample(this.view, this.fanout, rng).map((peer) => ({ peer, wants: ALWAYS }))
  }

  /**
   * min(viewSize, n) members without replacement, member i with weight w_i = 1/(1 + d_i)^bias
   * (Efraimidis–Spirakis: the largest keys u^(1/w)).
   */
  private sampleView(rng: Rng): Addr[] {
    const n = this.others.length
    if (n <= this.viewSize) return [...this.others]
    if (this.localityBias === 0) return sample(this.others, this.viewSize, rng)
    const keyed = this.others.map((a) => {
      const d = this.distance(a)
      const w = Math.pow(1 + (d === Infinity ? 1e12 : d > 0 ? d : 0), -this.localityBias)
      // log of u^(1/w), compared in log space so tiny weights do not underflow to 0 for all.
      return { a, k: Math.log(1 - rng.float()) / Math.max(w, 1e-300) }
    })
    keyed.sort((x, y) => y.k - x.k || x.a - y.a)
    return keyed.slice(0, this.viewSize).map((x) => x.a)
  }
}

/** k distinct items drawn uniformly (partial Fisher–Yates on a copy). */
function sample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const a = [...items]
  const m = Math.min(k, a.length)
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(a.length - i)
    const x = a[i]
    a[i] = a[j]
    a[j] = x
  }
  a.length = m
  return a
}
