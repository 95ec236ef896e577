/**
 * Gravitational gossip's audience rule (PROTOCOLS.md §6; seed 000, "Gravitational Gossip"): who
 * gets each message of a feed, and whom each gossip round talks to, for pbcast (gossip/pbcast/)
 * through its pluggable `Audience`.
 *
 * Ratings. Every member subscribes to streams (feeds, contracts) with a rating r in (0, 1]: the
 * share of the stream it wants. Every message gets a key u in (0, 1] computed from (origin, stream,
 * seq) alike on every member (`keyOf`); a member with rating r for the stream is in the message's
 * audience iff u ≤ r. Audiences nest (a member with a higher rating gets a superset), a member gets
 * the share of the stream equal to its rating, and it stores, delivers and gossips only those.
 *
 * Keys. 'weyl' (default): u = 1 − frac(h(origin, stream)/2^32 + seq·φ), φ = (√5 − 1)/2, computed in
 * 32-bit fixed point (x = h + seq·0x9E3779B9 mod 2^32, u = 1 − x/2^32, identical on every platform).
 * The golden-ratio rotation is the best-spread rotation there is (three-gap theorem; star
 * discrepancy O(log N / N)): over ANY N consecutive seqs the share with u ≤ r is within
 * O(log N / N) of r, so a member with rating 0.2 gets every 5th sample give or take one, never
 * clumps, and its delivered share matches its rating even over a few dozen samples. h decorrelates
 * origins (each origin's stream is thinned at different seqs). 'hash': u from a 32-bit hash of
 * (origin, stream, seq): independent keys, so shares are binomial (± √(r(1−r)/N)); use it when a
 * regular pattern could alias with something periodic in the data. Or any pure function. Every
 * member of a group must use the same rule.
 *
 * Rounds: rating bands. The grid band b (1..bands) is ((b−1)/bands, b/bands]. Each round, for every
 * stream this member has a rating r in, and every band b = 1..ceil(r·bands) (the bands it holds
 * keys of), it picks `fanout` distinct peers among the stream's members rated above (b−1)/bands
 * (they want some keys of the band), and tells each about the held messages of band b the peer
 * wants (key ≤ its rating). Why not one uniform peer choice: a message with a high key has a small
 * audience (the few members rated above it); in a large group, peers drawn uniformly from the stream
 * would almost never be in it, so high keys would spread by luck and starve. Drawing per band gives
 * every message `fanout` contacts per holder and round among members that want keys like it,
 * whatever the group size: it spreads among exactly its audience. It also makes load proportional
 * to rating: a member sends fanout·ceil(r·bands) digests per stream per round. Peers picked for
 * several bands or streams in one round get one target (one digest) with the union of the filters.
 *
 * Band edges ('ratings', default). Which keys a band carries: with 'grid', band b carries the keys in
 * ((b−1)/bands, b/bands]. Then a key just above the ratings of many members of its own band (0.26
 * when most members are rated 0.25 and a few relays 1) is gossiped to peers drawn mostly from those
 * 0.25 members, who do not want it: it crawls. With 'ratings' the upper edge
 * of band b is snapped down to the highest rating in ((b−1)/bands, b/bands] (b/bands if none), so
 * band b carries the keys in (edge(b−1), edge(b)]; the keys between that highest rating and b/bands
 * move up to band b+1, whose peers (rated above b/bands) all want them. The peers drawn per band,
 * the bands a member holds and the load are the same as with 'grid'; only contacts that would have
 * been useless are replaced by useful ones (the tests measure it).
 *
 * A stream's publisher that is not rated 1 gossips its own stream as if it were (it holds every
 * key of its own messages until they are handed on) and wants its own messages (`selfWants`).
 *
 * First dissemination: `firstFanout` random members of the message's audience, or all of them
 * ('audience', IP-multicast-like). With `distance` and `localityBias` > 0, every peer choice is
 * weighted by (1 + distance)^−localityBias (near peers first: cheaper, as pbcast's partial views).
 *
 * Memory: O(subscriptions) (at most MAX_SUBSCRIPTIONS); roundTargets allocates O(targets).
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ConfigError } from '../../core/errors.ts'
import { mix32, type Rng } from '../../core/rng.ts'
import { validateFields, type FieldRule } from '../../core/validate.ts'
import type { Audience, MessageMeta, RoundTarget } from '../pbcast/pbcast-types.ts'

export interface Subscription {
  node: Addr
  stream: number
  /** Share of the stream wanted, in (0, 1]. */
  rating: number
}

export interface Publication {
  node: Addr
  stream: number
}

/** A key rule: pure, the same on every member, returns a number in (0, 1]. */
export type KeyFunction = (origin: Addr, stream: number, seq: number) => number
export type KeyRule = 'weyl' | 'hash' | KeyFunction

/** The tunables, with their trade-offs. */
export interface AudienceConfig {
  /** Peers per rating band per stream per round. More: faster repair; load grows in proportion. */
  fanout: number
  /**
   * Rating bands (band width 1/bands). More: peers matched more tightly to keys (fewer contacts
   * with peers that want none of a band's held keys), but fanout·ceil(r·bands) digests per round
   * grows with it; fewer: cheaper rounds, yet a wide band mixes high- and low-rated members and
   * high keys spread more slowly. 10 gives ratings a 0.1 grain.
   */
  bands: number
  /** Audience members that get a message first from its origin; 'audience': all of them (fast, O(audience) sends). */
  firstFanout: number | 'audience'
  /** How keys are made ('weyl' low discrepancy, 'hash' independent, or a pure function). */
  keyRule: KeyRule
  /** Peer weight (1 + distance)^−localityBias when `distance` is given; 0 = uniform. */
  localityBias: number
  /** Band edges: 'ratings' (snapped down to the highest rating in each grid band) or 'grid' (b/bands). */
  bandEdges: 'ratings' | 'grid'
}

export const DEFAULT_AUDIENCE_CONFIG: Readonly<AudienceConfig> = Object.freeze({
  fanout: 3,
  bands: 10,
  firstFanout: 3,
  keyRule: 'weyl',
  localityBias: 1,
  bandEdges: 'ratings',
})

/** Subscriptions and publications accepted (about 100 bytes each in the indexes: 26 MB at the cap). */
export const MAX_SUBSCRIPTIONS = 262_144
/** Streams are u32 here (feeds use u16). */
export const MAX_STREAM = 0xffffffff

const RULES: Record<keyof AudienceConfig, FieldRule> = {
  fanout: { min: 1, max: 64, integer: true },
  bands: { min: 1, max: 1000, integer: true },
  firstFanout: (path, v) => {
    if (v === 'audience') return
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1024) {
      throw new ConfigError(path, `must be an integer in [0, 1024] or 'audience', got ${String(v)}`)
    }
  },
  keyRule: (path, v) => {
    if (v !== 'weyl' && v !== 'hash' && typeof v !== 'function') throw new ConfigError(path, `must be 'weyl', 'hash' or a function, got ${String(v)}`)
  },
  localityBias: { min: 0, max: 16 },
  bandEdges: (path, v) => {
    if (v !== 'ratings' && v !== 'grid') throw new ConfigError(path, `must be 'ratings' or 'grid', got ${String(v)}`)
  },
}

export interface GravitationalAudienceOptions extends Partial<AudienceConfig> {
  self: Addr
  /** Every member's ratings (self included); a node may be in many streams, once per stream. */
  subscriptions: readonly Subscription[]
  /** Who originates each stream (need not subscribe to it). */
  publishers?: readonly Publication[]
  /** Distance between two members (hops, ms, metres) for locality-biased peer choice. */
  distance?: (a: Addr, b: Addr) => number
}

/** Defaults filled in, every field checked; ConfigError naming `${path}.field`. */
export function validateAudienceConfig(partial: Partial<AudienceConfig> | Readonly<Record<string, unknown>> = {}, path = 'audience'): AudienceConfig {
  return validateFields(path, partial, DEFAULT_AUDIENCE_CONFIG, RULES)
}

// ---------------------------------------------------------------------------------------------
// Keys

/** The golden-ratio conjugate in 32-bit fixed point: round((√5 − 1)/2 · 2^32). */
export const PHI32 = 0x9e3779b9
const TWO32 = 2 ** 32


/** h(origin, stream): the per-stream offset of the Weyl sequence, u32. */
export function streamHash(origin: Addr, stream: number): number {
  return mix32(mix32(origin ^ 0x5bd1e995) ^ stream)
}

/** 'weyl' key: 1 − frac(h/2^32 + seq·φ), in [2^−32, 1]. */
export function weylKey(origin: Addr, stream: number, seq: number): number {
  return 1 - ((streamHash(origin, stream) + Math.imul(seq, PHI32)) >>> 0) / TWO32
}

/** 'hash' key: 1 − hash32(origin, stream, seq)/2^32, in [2^−32, 1]. */
export function hashKey(origin: Addr, stream: number, seq: number): number {
  return 1 - mix32(mix32(streamHash(origin, stream) ^ 0x27d4eb2f) ^ (seq >>> 0)) / TWO32
}

// ---------------------------------------------------------------------------------------------
// Indexes

interface StreamIndex {
  /** Every member's rating (self included). */
  ratings: Map<Addr, number>
  /** Peers (self excluded), by rating descending then address. */
  peers: Addr[]
  peerRatings: Float64Array
  /** edges[b]: band b's keys are (edges[b−1], edges[b]]; edges[0] = 0, edges[bands] = 1. */
  edges: Float64Array
  /** eligible[b]: how many of `peers` (a prefix) are rated above (b−1)/bands, b = 1..bands. */
  eligible: Int32Array
}

/** One pick of a round: `peer` hears about the held messages of `stream` in `band` with key ≤ `rating`. */
export interface BandPick {
  peer: Addr
  stream: number
  /** 1..bands. */
  band: number
  /** The band's keys are (lo, hi]. */
  lo: number
  hi: number
  /** The peer's rating for the stream. */
  rating: number
}

function describe(v: unknown): string {
  return typeof v === 'number' || typeof v === 'string' ? String(v) : typeof v
}

export class GravitationalAudience implements Audience {
  readonly self: Addr
  readonly config: Readonly<AudienceConfig>
  private readonly key: KeyFunction
  private readonly custom: boolean
  private readonly distance: ((a: Addr, b: Addr) => number) | undefined
  private streamsIdx = new Map<number, StreamIndex>()
  /** This member's rating per stream. */
  private own = new Map<number, number>()
  /** Streams this member publishes. */
  private publishes = new Set<number>()
  private publishers: readonly Publication[] = []

  constructor(o: GravitationalAudienceOptions) {
    const { self, subscriptions, publishers, distance, ...config } = o
    if (!isNodeAddr(self)) throw new ConfigError('audience.self', `must be a node address, got ${describe(self)}`)
    if (distance !== undefined && typeof distance !== 'function') throw new ConfigError('audience.distance', 'must be a function (a, b) => number')
    this.self = self
    this.config = Object.freeze(validateAudienceConfig(config))
    const rule = this.config.keyRule
    this.custom = typeof rule === 'function'
    this.key = rule === 'weyl' ? weylKey : rule === 'hash' ? hashKey : rule
    this.distance = distance
    this.setSubscriptions(subscriptions, publishers ?? [])
  }

  /**
   * Replace every member's ratings (and, when given, the publishers). Checked first: on a
   * ConfigError (`audience.subscriptions[i].rating: subscription of node 7 to stream 2: …`) nothing
   * changes.
   */
  setSubscriptions(subscriptions: readonly Subscription[], publishers: readonly Publication[] = this.publishers): void {
    if (!Array.isArray(subscriptions)) throw new ConfigError('audience.subscriptions', 'must be a list of { node, stream, rating }')
    if (!Array.isArray(publishers)) throw new ConfigError('audience.publishers', 'must be a list of { node, stream }')
    if (subscriptions.length + publishers.length > MAX_SUBSCRIPTIONS) {
      throw new ConfigError('audience.subscriptions', `at most ${MAX_SUBSCRIPTIONS} subscriptions and publications, got ${subscriptions.length + publishers.length}`)
    }
    const byStream = new Map<number, Map<Addr, number>>()
    subscriptions.forEach((s, i) => {
      const at = `audience.subscriptions[${i}]`
      if (s === null || typeof s !== 'object') throw new ConfigError(at, 'must be { node, stream, rating }')
      checkMember(at, s, 'subscription of node')
      const who = `subscription of node ${s.node} to stream ${s.stream}`
      const r = s.rating
      if (typeof r !== 'number' || !(r > 0 && r <= 1)) throw new ConfigError(`${at}.rating`, `${who}: rating must be a number in (0, 1], got ${describe(r)}`)
      let m = byStream.get(s.stream)
      if (m === undefined) byStream.set(s.stream, (m = new Map()))
      if (m.has(s.node)) throw new ConfigError(at, `${who}: node ${s.node} is already subscribed to stream ${s.stream}`)
      m.set(s.node, r)
    })
    const publishes = new Set<number>()
    publishers.forEach((p, i) => {
      const at = `audience.publishers[${i}]`
      if (p === null || typeof p !== 'object') throw new ConfigError(at, 'must be { node, stream }')
      checkMember(at, p, 'publisher')
      if (p.node === this.self) publishes.add(p.stream)
    })
    const idx = new Map<number, StreamIndex>()
    const own = new Map<number, number>()
    for (const [stream, ratings] of byStream) {
      const mine = ratings.get(this.self)
      if (mine !== undefined) own.set(stream, mine)
      const peers = [...ratings.keys()].filter((a) => a !== this.self)
      peers.sort((a, b) => ratings.get(b)! - ratings.get(a)! || a - b)
      const peerRatings = Float64Array.from(peers, (a) => ratings.get(a)!)
      const bands = this.config.bands
      const eligible = new Int32Array(bands + 1)
      let n = peers.length
      for (let b = 1; b <= bands; b++) {
        while (n > 0 && this.gridBand(peerRatings[n - 1]) < b) n--
        eligible[b] = n
      }
      idx.set(stream, { ratings, peers, peerRatings, edges: this.edgesFor(ratings), eligible })
    }
    this.streamsIdx = idx
    this.own = own
    this.publishes = publishes
    this.publishers = publishers.map((p) => ({ node: p.node, stream: p.stream }))
  }

  // -- Audience --------------------------------------------------------------------------------

  keyOf(origin: Addr, stream: number, seq: number): number {
    const u = this.key(origin, stream, seq)
    if (this.custom && !(typeof u === 'number' && u > 0 && u <= 1)) {
      throw new RangeError(`keyRule returned ${describe(u)} for origin ${origin}, stream ${stream}, seq ${seq}: keys must be in (0, 1]`)
    }
    return u
  }

  selfWants(m: MessageMeta): boolean {
    const r = this.own.get(m.stream)
    if (r !== undefined && m.key <= r) return true
    return m.origin === this.self && this.publishes.has(m.stream)
  }

  peerWants(peer: Addr, m: MessageMeta): boolean {
    const r = this.streamsIdx.get(m.stream)?.ratings.get(peer)
    return r !== undefined && m.key <= r
  }

  firstTargets(m: MessageMeta, rng: Rng): Addr[] {
    const s = this.streamsIdx.get(m.stream)
    if (s === undefined) return []
    const n = this.audiencePrefix(s, m.key)
    const k = this.config.firstFanout === 'audience' ? n : Math.min(this.config.firstFanout, n)
    return this.pick(s, n, k, rng)
  }

  roundTargets(rng: Rng): RoundTarget[] {
    const byPeer = new Map<Addr, BandPick[]>()
    for (const f of this.roundPlan(rng)) {
      const list = byPeer.get(f.peer)
      if (list === undefined) byPeer.set(f.peer, [f])
      else list.push(f)
    }
    const out: RoundTarget[] = []
    // Band-scoped: the peer cannot tell what a digest left out on purpose, so it must not push.
    for (const [peer, filters] of byPeer) out.push({ peer, wants: (m) => this.bandWants(filters, m), covers: false })
    return out
  }

  /**
   * This round's picks before merging by peer (what `roundTargets` is built from; for tests and
   * load metrics): per stream and band 1..ceil(r·bands), min(fanout, eligible) distinct peers
   * rated above the band's floor, each with its rating.
   */
  roundPlan(rng: Rng): BandPick[] {
    const out: BandPick[] = []
    for (const stream of this.streams()) {
      const s = this.streamsIdx.get(stream)
      if (s === undefined) continue
      const top = this.gridBand(this.roundRating(stream))
      for (let band = 1; band <= top; band++) {
        const n = s.eligible[band]
        if (n === 0) break
        const lo = s.edges[band - 1], hi = s.edges[band]
        for (const peer of this.pick(s, n, Math.min(this.config.fanout, n), rng)) {
          out.push({ peer, stream, band, lo, hi, rating: s.ratings.get(peer)! })
        }
      }
    }
    return out
  }

  // -- Introspection ---------------------------------------------------------------------------

  /** The grid band of a key or rating: b with (b−1)/bands < u ≤ b/bands (1 for u ≤ 1/bands). */
  gridBand(u: number): number {
    const bands = this.config.bands
    let b = Math.min(bands, Math.max(1, Math.ceil(u * bands)))
    // Compare with b/bands itself, as the edges do: 0.3 is in band 3 of 10 although 0.3·10 > 3.
    while (b > 1 && u <= (b - 1) / bands) b--
    while (b < bands && u > b / bands) b++
    return b
  }

  /** The band that carries key `u` of `stream` (its grid band for a stream without members). */
  bandOf(stream: number, u: number): number {
    const edges = this.streamsIdx.get(stream)?.edges
    if (edges === undefined) return this.gridBand(u)
    let lo = 1, hi = this.config.bands
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (u <= edges[mid]) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  /** The band edges of `stream`: band b carries keys in (edges[b−1], edges[b]]. */
  bandEdges(stream: number): number[] {
    const s = this.streamsIdx.get(stream)
    return s === undefined ? Array.from({ length: this.config.bands + 1 }, (_, b) => b / this.config.bands) : [...s.edges]
  }

  /** `node`'s rating for `stream` (0 when not subscribed). */
  ratingOf(node: Addr, stream: number): number {
    return this.streamsIdx.get(stream)?.ratings.get(node) ?? 0
  }

  /** Members of `stream` (self included) with rating ≥ key: the message's audience. */
  audience(stream: number, key: number): Addr[] {
    const s = this.streamsIdx.get(stream)
    if (s === undefined) return []
    const out = s.peers.slice(0, this.audiencePrefix(s, key))
    const mine = s.ratings.get(this.self)
    if (mine !== undefined && key <= mine) out.push(this.self)
    return out
  }

  /** Gossip targets (before merging by peer) this member draws per round for `stream`: Σ_b min(fanout, eligible peers). */
  digestsPerRound(stream: number): number {
    const s = this.streamsIdx.get(stream)
    if (s === undefined || !this.streams().includes(stream)) return 0
    let n = 0
    for (let b = 1; b <= this.gridBand(this.roundRating(stream)); b++) n += Math.min(this.config.fanout, s.eligible[b])
    return n
  }

  // -- Internals -------------------------------------------------------------------------------

  /** Streams this member gossips (rated in or publishing), ascending. */
  streams(): number[] {
    const set = new Set<number>(this.own.keys())
    for (const s of this.publishes) set.add(s)
    return [...set].sort((a, b) => a - b)
  }

  /** The rating this member gossips a stream with: 1 for a stream it publishes (it holds every key). */
  private roundRating(stream: number): number {
    return this.publishes.has(stream) ? 1 : (this.own.get(stream) ?? 0)
  }

  private bandWants(filters: readonly BandPick[], m: MessageMeta): boolean {
    const u = m.key
    for (const f of filters) if (m.stream === f.stream && u > f.lo && u <= f.hi && u <= f.rating) return true
    return false
  }

  /** Band edges for a stream's ratings (all members, self included). */
  private edgesFor(ratings: Map<Addr, number>): Float64Array {
    const bands = this.config.bands
    const edges = Float64Array.from({ length: bands + 1 }, (_, b) => b / bands)
    if (this.config.bandEdges === 'ratings') {
      const highest = new Float64Array(bands + 1)
      for (const r of ratings.values()) {
        const b = this.gridBand(r)
        if (r > highest[b]) highest[b] = r
      }
      // The top edge stays 1: keys above every rating are nobody's, band `bands` holds them.
      for (let b = 1; b < bands; b++) if (highest[b] > 0) edges[b] = highest[b]
    }
    return edges
  }

  /** How many peers (a prefix of `s.peers`) are rated ≥ key. */
  private audiencePrefix(s: StreamIndex, key: number): number {
    let lo = 0, hi = s.peers.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (s.peerRatings[mid] >= key) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** k distinct peers among the first n of s.peers: uniform (Floyd's algorithm) or locality weighted. */
  private pick(s: StreamIndex, n: number, k: number, rng: Rng): Addr[] {
    if (k <= 0) return []
    if (k >= n) return s.peers.slice(0, n)
    if (this.distance !== undefined && this.config.localityBias > 0) return this.pickWeighted(s, n, k, rng)
    const chosen = new Set<number>()
    for (let j = n - k; j < n; j++) {
      const t = rng.int(j + 1)
      chosen.add(chosen.has(t) ? j : t)
    }
    return [...chosen].map((i) => s.peers[i])
  }

  private pickWeighted(s: StreamIndex, n: number, k: number, rng: Rng): Addr[] {
    const w = new Float64Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      // Negative or NaN distances count as 0; Infinity as very far (still reachable: weight > 0).
      const d = Math.min(this.distance!(this.self, s.peers[i]), 1e12)
      w[i] = Math.pow(1 + (d > 0 ? d : 0), -this.config.localityBias)
      total += w[i]
    }
    const out: Addr[] = []
    for (let c = 0; c < k; c++) {
      let x = rng.float() * total
      let j = -1
      for (let i = 0; i < n; i++) {
        if (w[i] === 0) continue
        j = i
        x -= w[i]
        if (x < 0) break
      }
      out.push(s.peers[j])
      total -= w[j]
      w[j] = 0
    }
    return out
  }
}

function checkMember(at: string, x: { node: unknown; stream: unknown }, what: string): void {
  if (typeof x.node !== 'number' || !isNodeAddr(x.node)) throw new ConfigError(`${at}.node`, `must be a node address, got ${describe(x.node)}`)
  const st = x.stream
  if (typeof st !== 'number' || !Number.isInteger(st) || st < 0 || st > MAX_STREAM) {
    throw new ConfigError(`${at}.stream`, `${what} ${x.node}: stream must be an integer in [0, 2^32), got ${describe(st)}`)
  }
}
