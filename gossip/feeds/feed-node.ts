/**
 * The feed API applications use (PROTOCOLS.md §6): on a node, `publish(feed, sample)` and
 * `subscribe(feed, { rating }, handler)`. Feeds travel by gravitational gossip: each feed is a
 * pbcast stream, each subscriber gets the share of the feed its rating asks for (and pays load in
 * proportion), samples carry origin, sequence and the origin's wall-clock timestamp.
 *
 * Every member's audience must know every member's ratings, so subscriptions go into a
 * `FeedDirectory` that all the nodes of a group read: in a simulation one object shared by the
 * nodes; on gateways, one built from the deployment's config (a subscription made at run time on
 * one gateway is not propagated to the others: that needs a membership protocol, not built).
 * Audiences are rebuilt lazily, at most once per directory change, when next used.
 */
import type { Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError, tryDecode } from '../../core/errors.ts'
import type { MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import { GravitationalAudience, type AudienceConfig, type Publication, type Subscription } from '../gravitational/audience.ts'
import { Pbcast } from '../pbcast/pbcast.ts'
import type { PbcastConfigInput } from '../pbcast/pbcast-defaults.ts'
import type { Audience, Datagrams, MessageMeta, RoundTarget } from '../pbcast/pbcast-types.ts'
import { MAX_FEED_ID, encodeSampleBody, sampleFromMessage, type FeedSample, type ValuePrecision } from './sample.ts'

/** Subscriptions and publications of a group of nodes; `version` changes with every change. */
export class FeedDirectory {
  private readonly subs = new Map<string, Subscription>()
  private readonly pubs = new Map<string, Publication>()
  private versionValue = 0

  get version(): number {
    return this.versionValue
  }

  subscribe(node: Addr, feed: number, rating: number): void {
    checkFeed(feed)
    if (!(rating > 0 && rating <= 1)) throw new RangeError(`feed ${feed}: rating must be in (0, 1], got ${rating}`)
    this.subs.set(`${node}/${feed}`, { node, stream: feed, rating })
    this.versionValue++
  }

  unsubscribe(node: Addr, feed: number): void {
    if (this.subs.delete(`${node}/${feed}`)) this.versionValue++
  }

  publishes(node: Addr, feed: number): void {
    checkFeed(feed)
    const key = `${node}/${feed}`
    if (this.pubs.has(key)) return
    this.pubs.set(key, { node, stream: feed })
    this.versionValue++
  }

  subscriptions(): Subscription[] {
    return [...this.subs.values()]
  }

  publications(): Publication[] {
    return [...this.pubs.values()]
  }
}

function checkFeed(feed: number): void {
  if (!Number.isInteger(feed) || feed < 0 || feed > MAX_FEED_ID) throw new RangeError(`a feed id is an integer in 0..${MAX_FEED_ID}, got ${feed}`)
}

/** An Audience that follows a FeedDirectory, rebuilding its GravitationalAudience when the directory changed. */
class DirectoryAudience implements Audience {
  private inner: GravitationalAudience | undefined
  private seen = -1

  constructor(private readonly self: Addr, private readonly dir: FeedDirectory, private readonly config: Partial<AudienceConfig>) {}

  private get a(): GravitationalAudience {
    if (this.inner === undefined || this.seen !== this.dir.version) {
      this.seen = this.dir.version
      const subscriptions = this.dir.subscriptions(), publishers = this.dir.publications()
      if (this.inner === undefined) this.inner = new GravitationalAudience({ ...this.config, self: this.self, subscriptions, publishers })
      else this.inner.setSubscriptions(subscriptions, publishers)
    }
    return this.inner
  }

  keyOf(origin: Addr, stream: number, seq: number): number {
    return this.a.keyOf(origin, stream, seq)
  }

  selfWants(m: MessageMeta): boolean {
    return this.a.selfWants(m)
  }

  firstTargets(m: MessageMeta, rng: Rng): Addr[] {
    return this.a.firstTargets(m, rng)
  }

  roundTargets(rng: Rng): RoundTarget[] {
    return this.a.roundTargets(rng)
  }

  peerWants(peer: Addr, m: MessageMeta): boolean {
    return this.a.peerWants(peer, m)
  }
}

export interface FeedNodeOptions {
  transport: Datagrams
  scheduler: Scheduler
  rng: Rng
  directory: FeedDirectory
  /** Wall clock for sample timestamps, ms since the Unix epoch (default: the scheduler's time, for simulations). */
  clock?: () => number
  metrics?: MetricsScope
  pbcast?: PbcastConfigInput
  audience?: Partial<AudienceConfig>
  /** Value precision of published samples (default f32: 7 significant digits). */
  precision?: ValuePrecision
}

export type SampleHandler = (s: FeedSample) => void

export class FeedNode {
  readonly address: Addr
  readonly pbcast: Pbcast
  private readonly dir: FeedDirectory
  private readonly clock: () => number
  private readonly precision: ValuePrecision
  /** Per feed, each subscription (its handler and rating); the node subscribes at the highest. */
  private readonly handlers = new Map<number, Set<{ handler: SampleHandler; rating: number }>>()
  private malformed = 0
  private closed = false

  constructor(o: FeedNodeOptions) {
    this.address = o.transport.address
    this.dir = o.directory
    this.clock = o.clock ?? (() => Math.round(o.scheduler.now()))
    this.precision = o.precision ?? 'f32'
    const audience = new DirectoryAudience(this.address, o.directory, o.audience ?? {})
    this.pbcast = new Pbcast({ transport: o.transport, scheduler: o.scheduler, rng: o.rng, audience, metrics: o.metrics, config: o.pbcast })
    this.pbcast.on('deliver', (d) => {
      const set = this.handlers.get(d.stream)
      if (set === undefined || set.size === 0) return
      const sample = tryDecode((body) => sampleFromMessage({ ...d, body }), d.body, () => this.malformed++)
      if (sample === undefined) return
      // Each subscription gets the share it asked for (audiences nest: key ≤ its rating).
      for (const sub of [...set]) if (d.key <= sub.rating) sub.handler(sample)
    })
  }

  /** Samples delivered whose body did not decode (a publisher with another sample format). */
  get malformedSamples(): number {
    return this.malformed
  }

  /**
   * Publish a sample on `feed` (this node becomes a publisher of it). `ts` defaults to the clock.
   * Returns the sample as subscribers will see it (values at the published precision).
   */
  publish(feed: number, sample: { values: ArrayLike<number>; ts?: number }): FeedSample {
    this.open()
    checkFeed(feed)
    this.dir.publishes(this.address, feed)
    const ts = sample.ts ?? this.clock()
    const body = encodeSampleBody({ ts, values: Array.from(sample.values) }, this.precision)
    const meta = this.pbcast.publish(feed, body)
    return sampleFromMessage({ origin: this.address, stream: feed, seq: meta.seq, body })
  }

  /**
   * Receive `rating` (in (0, 1]) of `feed`'s samples, from every publisher, in order per
   * publisher. Several subscriptions on one node each get their own share (the node takes part
   * at the highest rating). Returns a function that ends this subscription (calling it again does
   * nothing).
   */
  subscribe(feed: number, opts: { rating: number }, handler: SampleHandler): () => void {
    this.open()
    checkFeed(feed)
    if (typeof handler !== 'function') throw new TypeError('subscribe: handler must be a function')
    if (!(opts.rating > 0 && opts.rating <= 1)) throw new RangeError(`feed ${feed}: rating must be in (0, 1], got ${opts.rating}`)
    let set = this.handlers.get(feed)
    if (set === undefined) this.handlers.set(feed, (set = new Set()))
    const sub = { handler, rating: opts.rating }
    set.add(sub)
    this.dir.subscribe(this.address, feed, Math.max(...[...set].map((x) => x.rating)))
    const mine = set
    return () => {
      if (!mine.delete(sub) || this.handlers.get(feed) !== mine) return
      if (mine.size === 0) {
        this.handlers.delete(feed)
        this.dir.unsubscribe(this.address, feed)
      } else {
        this.dir.subscribe(this.address, feed, Math.max(...[...mine].map((x) => x.rating)))
      }
    }
  }

  /** Stop gossiping and delivering (idempotent); subscriptions stay in the directory until removed. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.pbcast.close()
    this.handlers.clear()
  }

  private open(): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `feed node ${this.address} is closed`)
  }
}
