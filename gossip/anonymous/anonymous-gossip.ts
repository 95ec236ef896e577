/**
 * Anonymous gossip over MAODV (Chandra, Ramasubramanian & Birman, ICDCS 2001; seed 000
 * "Anonymous Gossip"; our rules are PROTOCOLS.md §3): members recover the multicast packets the
 * tree lost without knowing who else is in the group. A sans-IO core: it runs on a `Link`, an MAODV
 * instance (the tree: data, membership, tree links with `nearestMember`) and a unicast router (AODV:
 * cached gossip and replies), with an injected scheduler and rng.
 *
 * Data. `send(group, payload)` multicasts on the tree with a 7-byte header carrying the origin's
 * per-group sequence number and stream index (docs/WIRE.md §12). Each member keeps a bounded history of what it
 * received (history.ts) and, per source, the next expected number and the numbers it knows it
 * missed (receive-state.ts): a gap opens when a later number arrives first.
 *
 * Rounds (ag-defaults.ts has every tunable and its trade-off). Every gossip period a member that
 * misses something starts a round — with probability pAnonymous a walk, else cached gossip:
 * - walk: a GOSSIP (initiator, group, per source: next expected and missing numbers) goes link
 *   unicast to one tree neighbour, weighted towards links with a near member (walk.ts); each tree
 *   node passes it on, never back the way it came; a member accepts it with acceptProbability
 *   (always as a leaf or with no hops left). The walk ends at a member the initiator never knew.
 * - cached: the same GOSSIP by AODV unicast to a member from the cache (member-cache.ts), preferring
 *   distant ones.
 * The acceptor answers with GOSSIP-REPLYs by AODV unicast carrying what it holds of the request
 * (replies.ts); both ends cache each other with their distance. Recovered packets are delivered
 * with `recovered: true`.
 *
 * Security (option `security`, authenticated networks; the tree must run with the same OriginAuth).
 * MAODV signs each packet at its origin and verifies it at members before delivering (WIRE.md
 * §11.1); this layer keeps each delivered packet's proof (MAODV seq, stream index, signature) in
 * the history, serves only messages it holds with their proof, in signed GOSSIP-REPLYs (§12.4),
 * and verifies every recovered message exactly like the tree does before delivering it: a gossip
 * partner cannot hand over a modified or invented packet. A node's own messages get their proof
 * from MAODV's 'signed' event. Recovered messages already held are dropped before verifying.
 * In MAODV batch mode (WIRE.md §11.2) a packet's proof is the signed DIGEST that lists its hash:
 * the history keeps it (shared by the packets it lists), batch replies (§12.5) carry each DIGEST
 * once with the messages it proves, and the receiver checks each message's hash against a DIGEST
 * verified by its MAODV (from the tree, or carried by this or an earlier reply: one signature
 * check per DIGEST, none when the tree delivered it). A message no verified DIGEST lists is
 * refused (`recoveredUnverifiable`) and asked for again in a later round.
 *
 * Unicast sends (a node address) go straight to the router. `close()` closes MAODV and the router.
 *
 * Counters: scope 'ag' (ag-types.ts). Events: NetProtocol's, plus 'history-add'/'history-evict'
 * for the field-test loss accounting.
 */
import { formatAddr, isGroupAddr, isNodeAddr, type Addr } from '../../core/addr.ts'
import { ConfigError, ErrorCodes, SpinmeshError, tryDecode } from '../../core/errors.ts'
import { fieldPath } from '../../core/validate.ts'
import { Emitter } from '../../core/events.ts'
import type { Logger } from '../../core/logger.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import type { Link, LinkPort, LinkRx, TxFailure } from '../../adhoc/link-types.ts'
import type { Delivery, NetProtocol, NetProtocolEvents } from '../../adhoc/net-protocol.ts'
import { Proto } from '../../adhoc/protocols.ts'
import { multicastPacketHash, multicastSignedBytes, sameDigestHash, type BatchVerifier, type MulticastDelivery, type SignedDigest } from '../../adhoc/maodv/index.ts'
import type { OriginAuth } from '../../crypto/origin-auth.ts'
import { seqDiff32 } from '../../core/bytes.ts'
import type { RoutedMessage, TreeInfo, UnicastRouter } from '../../adhoc/routing.ts'
import { validateAgConfig, type AgConfig, type AgConfigInput } from './ag-defaults.ts'
import {
  AG_DATA_HEADER_SIZE, AgMsgType, type ReplyDigest, GOSSIP_BASE_SIZE, GOSSIP_SOURCE_SIZE, MAX_STREAM_INDEX, REPLY_BASE_SIZE, decodeAg, encodeAgData, encodeGossip, encodeReply, replyMessageSize, withHops,
  type Gossip, type GossipReply, type MessageProof, type ReplyMessage,
} from './ag-messages.ts'
import { COUNTERS, type AgCounterName, type AgEvents } from './ag-types.ts'
import { MemberGroup } from './member-group.ts'
import { collectReply, packReplies } from './replies.ts'
import { accepts, nextHop } from './walk.ts'

/** The multicast tree service anonymous gossip rides on (MAODV). */
export interface MulticastTree extends NetProtocol {
  readonly maxPayload: number
  tree(group: Addr): TreeInfo | undefined
  /** Batch-mode verification (a secured Maodv). */
  readonly batch?: BatchVerifier
}

/** What a secured tree tells about the packets this node originates (Maodv's 'signed' event). */
interface SigningTree {
  on(event: 'signed', fn: (e: SignedEvent) => void): unknown
  off(event: 'signed', fn: (e: SignedEvent) => void): unknown
}
type SignedEvent = { group: Addr; seq: number; payload: Uint8Array; signature?: Uint8Array; digest?: SignedDigest }

/** The unicast service for cached gossip and replies (AODV). */
export type GossipRouter = UnicastRouter & NetProtocol & { readonly maxPayload: number }

export interface AnonymousGossipOptions {
  link: Link
  tree: MulticastTree
  router: GossipRouter
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'ag' for this node. */
  metrics?: MetricsScope
  logger?: Logger
  config?: AgConfigInput
  /** Where `config` sits in the caller's configuration, for error paths; default 'gossip'. */
  configPath?: string
  /** Origin authentication (authenticated networks): the same instance the tree was given. */
  security?: OriginAuth
}

export class AnonymousGossip extends Emitter<NetProtocolEvents & AgEvents> implements NetProtocol {
  readonly name = 'maodv+ag'
  readonly address: Addr
  readonly config: AgConfig
  private readonly m: Record<AgCounterName, Counter>
  private readonly port: LinkPort
  /** Gossip state per group this node is a member of or sends to. */
  private readonly groups = new Map<Addr, MemberGroup>()
  /** Next sequence number and stream index per group this node sends to (members or not). */
  private readonly streams = new Map<Addr, { seq: number; index: number }>()
  private closed = false
  /** replyMaxBytes, capped by what one routed packet carries. */
  private readonly replyBytes: number
  /** What replies may carry (config, and whether they must carry proofs). */
  private readonly limits: AgConfig & { signed: boolean }
  private readonly onTreeDeliver = (d: Delivery): void => this.fromTree(d)
  private readonly onTreeUndeliverable = (u: { dst: Addr; payload: Uint8Array; reason: string }): void => this.treeUndeliverable(u)
  private readonly onRouterDeliver = (d: Delivery): void => void this.emit('deliver', d)
  private readonly onRouterUndeliverable = (u: { dst: Addr; payload: Uint8Array; reason: string }): void => void this.emit('undeliverable', u)
  private readonly onRouted = (r: RoutedMessage): void => this.routed(r)
  private readonly onWalk = (rx: LinkRx): void => this.walkArrived(rx)
  private readonly onWalkFail = (_f: TxFailure): void => this.m.walksDropped.inc()
  private readonly onSigned = (e: SignedEvent): void => this.signed(e)

  constructor(private readonly o: AnonymousGossipOptions) {
    super()
    this.config = validateAgConfig(o.config, o.configPath)
    this.address = o.link.address
    const metrics = o.metrics ?? new MetricsRegistry().scope('ag', o.link.address)
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, metrics.counter(n)])) as Record<AgCounterName, Counter>
    if (this.maxPayload < 1) {
      throw new SpinmeshError(ErrorCodes.CONFIG, `anonymous gossip needs room for a payload: the tree carries ${o.tree.maxPayload} bytes, the router ${o.router.maxPayload}`)
    }
    this.port = o.link.port(Proto.GOSSIP)
    const carry = Math.min(this.port.maxDatagram, o.router.maxPayload)
    const worst = GOSSIP_BASE_SIZE + this.config.gossipMaxSources * GOSSIP_SOURCE_SIZE + 2 * this.config.gossipMaxMissing
    if (worst > carry) {
      throw new ConfigError(fieldPath(o.configPath ?? 'gossip', 'gossipMaxMissing'),
        `a GOSSIP listing ${this.config.gossipMaxSources} sources and ${this.config.gossipMaxMissing} missing numbers takes ${worst} bytes, more than the ${carry} one packet carries here`)
    }
    this.replyBytes = Math.min(this.config.replyMaxBytes, o.router.maxPayload)
    this.limits = { ...this.config, signed: o.security !== undefined }
    this.port.on('receive', this.onWalk)
    this.port.on('tx-failed', this.onWalkFail)
    o.tree.on('deliver', this.onTreeDeliver)
    o.tree.on('undeliverable', this.onTreeUndeliverable)
    o.router.on('deliver', this.onRouterDeliver)
    o.router.on('undeliverable', this.onRouterUndeliverable)
    o.router.on('routed', this.onRouted)
    if (o.security) (o.tree as unknown as SigningTree).on('signed', this.onSigned)
  }

  /**
   * Largest multicast payload: it must fit the tree's packets with our header, and a GOSSIP-REPLY
   * that carries it alone must fit a routed packet (so every message can be recovered).
   */
  get maxPayload(): number {
    return Math.min(this.o.tree.maxPayload - AG_DATA_HEADER_SIZE, this.o.router.maxPayload - REPLY_BASE_SIZE - replyMessageSize(0, this.o.security !== undefined))
  }

  send(dst: Addr, payload: Uint8Array): void {
    this.open()
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
    if (!isGroupAddr(dst)) return this.o.router.send(dst, payload)
    if (payload.length > this.maxPayload) {
      throw new SpinmeshError(ErrorCodes.DATAGRAM_TOO_LARGE, `multicast payload of ${payload.length} bytes exceeds ${this.maxPayload}`)
    }
    let stream = this.streams.get(dst)
    if (stream === undefined) this.streams.set(dst, (stream = { seq: this.o.rng.int(0x1_0000_0000), index: 0 }))
    const { seq, index } = stream
    stream.seq = (seq + 1) >>> 0
    stream.index = Math.min(MAX_STREAM_INDEX, index + 1)
    this.m.dataOriginated.inc()
    // The origin serves its own messages to gossip, member or not: it is the one node sure to have
    // them, the only one left when a packet never got past its first hops.
    this.ensure(dst)?.keep(this.address, seq, payload.slice(), this.now())
    this.o.tree.send(dst, encodeAgData(seq, index, payload))
  }

  join(group: Addr): void {
    this.open()
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    // Room for the gossip state first: a node must not end up on the tree without it.
    const g = this.ensure(group)
    if (g === undefined) throw new RangeError(`cannot join ${formatAddr(group)}: this node already keeps gossip state for ${this.config.maxGroups} groups (gossip.maxGroups)`)
    this.o.tree.join(group)
    if (g.member) return
    g.member = true
    g.start(() => this.round(g))
  }

  /** The group's state, created on first use; undefined when maxGroups are in use. */
  private ensure(group: Addr): MemberGroup | undefined {
    let g = this.groups.get(group)
    if (g === undefined && this.groups.size < this.config.maxGroups) {
      g = new MemberGroup(group, this.config, this.o.scheduler, this.o.rng, this.m, (kind, e) => this.emit(kind, e))
      this.groups.set(group, g)
    }
    return g
  }

  leave(group: Addr): void {
    this.open()
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    this.o.tree.leave(group)
    const g = this.groups.get(group)
    if (g === undefined) return
    this.groups.delete(group)
    g.close(true)
  }

  /** Stop: timers, listeners, and the tree and router under it. Histories are dropped without events. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const g of this.groups.values()) g.close(false)
    this.groups.clear()
    this.port.off('receive', this.onWalk)
    this.port.off('tx-failed', this.onWalkFail)
    this.o.tree.off('deliver', this.onTreeDeliver)
    this.o.tree.off('undeliverable', this.onTreeUndeliverable)
    this.o.router.off('deliver', this.onRouterDeliver)
    this.o.router.off('undeliverable', this.onRouterUndeliverable)
    this.o.router.off('routed', this.onRouted)
    if (this.o.security) (this.o.tree as unknown as SigningTree).off('signed', this.onSigned)
    this.o.tree.close()
    this.o.router.close()
  }

  /** The MAODV tree this node is on for `group` (for tree metrics and the dashboard). */
  tree(group: Addr): TreeInfo | undefined {
    return this.o.tree.tree(group)
  }

  /** Every tree this node is on. */
  trees(): TreeInfo[] {
    const t = this.o.tree as MulticastTree & { trees?: () => TreeInfo[] }
    return typeof t.trees === 'function' ? t.trees() : []
  }

  /** The gossip state of `group`, as a member or a sender (tests and the status view). */
  member(group: Addr): MemberGroup | undefined {
    return this.groups.get(group)
  }

  /** See Maodv.eventNames: typed as NetProtocol's list; at run time it may hold AgEvents names too. */
  override eventNames(): Array<keyof NetProtocolEvents> {
    return super.eventNames() as Array<keyof NetProtocolEvents>
  }

  private now(): number {
    return this.o.scheduler.now()
  }

  private open(): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'anonymous gossip is closed')
  }

  // ---- data from the tree ------------------------------------------------------------------------

  private fromTree(d: Delivery): void {
    const msg = tryDecode(decodeAg, d.payload, this.m.decodeErrors)
    if (!msg) return
    if (msg.type !== AgMsgType.DATA) return void this.m.decodeErrors.inc()
    const g = this.groups.get(d.dst)
    if (!g?.member) return // delivered by MAODV to a member we no longer are
    // The origin holds every message of its stream: cache it like a member that answered.
    if (this.config.cacheOrigins && d.origin !== this.address) g.cache.record(d.origin, Math.max(1, d.hops), this.now())
    const auth = (d as MulticastDelivery).auth
    const proof = auth === undefined ? undefined : provenBy(auth.seq, msg.index, auth)
    if (!this.accept(g, d.origin, msg.seq, msg.payload, msg.index, proof)) return
    this.m.deliveredTree.inc()
    this.emit('deliver', { origin: d.origin, dst: d.dst, payload: msg.payload, hops: d.hops, at: d.at })
  }

  private treeUndeliverable(u: { dst: Addr; payload: Uint8Array; reason: string }): void {
    const msg = tryDecode(decodeAg, u.payload)
    this.emit('undeliverable', { dst: u.dst, payload: msg?.type === AgMsgType.DATA ? msg.payload : u.payload, reason: u.reason })
  }

  /** MAODV signed a packet this node originates: attach the proof to its history entry. */
  private signed(e: SignedEvent): void {
    const msg = tryDecode(decodeAg, e.payload)
    if (msg?.type !== AgMsgType.DATA) return
    const h = this.groups.get(e.group)?.history.get(this.address, msg.seq)
    if (h !== undefined) h.proof = provenBy(e.seq, msg.index, e)
  }

  /** Record an arrival; true when it is new here (to deliver), false for a duplicate. */
  private accept(g: MemberGroup, origin: Addr, seq: number, payload: Uint8Array, index = 0, proof?: MessageProof): boolean {
    if (origin === this.address) {
      this.m.duplicates.inc()
      return false
    }
    const now = this.now()
    const a = g.recv.arrive(origin, seq, now, index)
    if (a.kind === 'duplicate') {
      this.m.duplicates.inc()
      return false
    }
    if (a.gaps > 0) this.m.gapsDetected.inc(a.gaps)
    g.keep(origin, seq, payload.slice(), now, proof)
    return true
  }

  // ---- rounds ------------------------------------------------------------------------------------

  private round(g: MemberGroup): void {
    if (this.closed) return
    const c = this.config
    const now = this.now()
    g.expire(now)
    const missing = g.recv.missingCount > 0
    if (!missing && (c.idleRoundPeriodMs === 0 || now - g.lastRoundAt < c.idleRoundPeriodMs)) return
    const tree = this.o.tree.tree(g.group)
    const links = tree?.links ?? []
    const cached = g.cache.size(now) > 0
    const anonymous = links.length > 0 && (!cached || this.o.rng.float() < c.pAnonymous)
    if (!anonymous && !cached) return void this.m.roundsSkipped.inc()
    g.lastRoundAt = now
    this.m.rounds.inc()
    const sources = g.digest()
    const id = g.nextRoundId()
    if (anonymous) {
      const to = nextHop(links, 0, this.o.rng, c)!
      this.m.roundsAnonymous.inc()
      this.walk(to, encodeGossip({ cached: false, hops: 0, ttl: c.walkTtl, id, group: g.group, initiator: this.address, sources }))
    } else {
      const to = g.cache.pick(now, this.o.rng, c.cachedDistanceExponent)!
      this.m.roundsCached.inc()
      const bytes = encodeGossip({ cached: true, hops: 0, ttl: 0, id, group: g.group, initiator: this.address, sources })
      if (!this.sendRouted(to, bytes)) return
      this.m.cachedSent.inc()
      this.m.cachedBytes.inc(bytes.length)
    }
  }

  /** AODV unicast of a cached GOSSIP or a reply; false when the router refused it (closed). */
  private sendRouted(to: Addr, bytes: Uint8Array): boolean {
    try {
      this.o.router.sendRouted(to, Proto.GOSSIP, bytes)
      return true
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.o.logger?.debug('gossip: router refused a message', { to, code: e.code })
      return false
    }
  }

  private walk(to: Addr, bytes: Uint8Array): void {
    try {
      this.port.send(to, bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.m.walksDropped.inc()
      return
    }
    this.m.walkHops.inc()
    this.m.walkBytes.inc(bytes.length)
  }

  // ---- walks -------------------------------------------------------------------------------------

  private walkArrived(rx: LinkRx): void {
    const msg = tryDecode(decodeAg, rx.payload, this.m.decodeErrors)
    if (!msg) return
    if (msg.type !== AgMsgType.GOSSIP || msg.cached) return void this.m.decodeErrors.inc()
    const tree = this.o.tree.tree(msg.group)
    // Only along the tree: from a tree neighbour, never back to the initiator.
    if (tree === undefined || !tree.links.some((l) => l.neighbour === rx.from) || msg.initiator === this.address) return void this.m.walksDropped.inc()
    const onward = tree.links.length - 1
    // Links the walk could usefully take: a member is known somewhere behind them.
    let towardsMembers = 0
    for (const l of tree.links) if (l.neighbour !== rx.from && l.nearestMember < 255) towardsMembers++
    const g = this.groups.get(msg.group)
    if (g !== undefined) {
      // A member that holds nothing the initiator asked for passes the walk on while it can
      // (`passOnUseless`): its answer would be empty, and the walk may still find a member that
      // helps. A non-member sender on the tree answers only for messages it holds (its own). A
      // member with no member known further on is where the walk ends.
      const messages = collectReply(g.history, msg.initiator, msg.sources, this.limits, this.now())
      const stuck = towardsMembers === 0 || msg.ttl <= 1
      const willing = messages.length > 0 || (g.member && (!this.config.passOnUseless || stuck))
      if (willing && accepts(towardsMembers, msg.ttl, this.config.acceptProbability, this.o.rng)) {
        this.m.walksAccepted.inc()
        return this.answer(g, msg, msg.hops + 1, messages)
      }
      if (g.member) g.cache.record(msg.initiator, msg.hops + 1, this.now())
    }
    if (onward === 0 || msg.ttl <= 1) return void this.m.walksDropped.inc()
    const to = nextHop(tree.links, rx.from, this.o.rng, this.config)!
    this.walk(to, withHops(rx.payload, msg.hops + 1, msg.ttl - 1))
  }

  // ---- routed gossip: cached GOSSIP and replies ----------------------------------------------------

  private routed(r: RoutedMessage): void {
    if (r.proto !== Proto.GOSSIP) return
    const msg = tryDecode(decodeAg, r.payload, this.m.decodeErrors)
    if (!msg) return
    this.m.routedHops.inc(r.hops)
    if (msg.type === AgMsgType.GOSSIP && msg.cached && msg.initiator === r.origin) {
      const g = this.groups.get(msg.group)
      if (g === undefined) return
      this.m.cachedAccepted.inc()
      return this.answer(g, msg, r.hops, collectReply(g.history, msg.initiator, msg.sources, this.limits, this.now()))
    }
    if (msg.type === AgMsgType.REPLY) return this.replied(r, msg)
    this.m.decodeErrors.inc()
  }

  /** Accept a GOSSIP: cache the initiator, send back what we hold of what it asked. */
  private answer(g: MemberGroup, msg: Gossip, hops: number, messages: ReplyMessage[]): void {
    g.cache.record(msg.initiator, hops, this.now())
    if (messages.length === 0) return void this.m.emptyReplies.inc()
    const walkHops = msg.cached ? 0 : Math.min(255, hops)
    for (const batch of packReplies(messages, this.replyBytes)) {
      const bytes = encodeReply({ walkHops, id: msg.id, group: g.group, ...batch })
      if (!this.sendRouted(msg.initiator, bytes)) return
      this.m.repliesSent.inc()
      this.m.replyBytes.inc(bytes.length)
      this.m.replyMessages.inc(batch.messages.length)
    }
  }

  private replied(r: RoutedMessage, msg: GossipReply): void {
    this.m.repliesReceived.inc()
    const g = this.groups.get(msg.group)
    // Only answers to our own recent rounds: anything else is stale or forged (WIRE.md §12.3).
    if (!g?.member || !g.asked(msg.id)) return void this.m.repliesUnasked.inc()
    if (this.o.security && msg.digests === undefined && msg.messages[0].proof === undefined) return void this.m.repliesUnsigned.inc()
    g.cache.record(r.origin, msg.walkHops > 0 ? msg.walkHops : r.hops, this.now())
    if (this.o.security && msg.digests !== undefined) return this.repliedBatch(g, msg, r)
    for (const m of msg.messages) {
      if (!isNodeAddr(m.origin)) continue
      if (m.proof === undefined || !this.o.security) this.recover(g, m, r)
      else if (this.wanted(g, m.origin, m.seq)) this.verifyRecovered(g, { ...m, payload: m.payload.slice(), proof: { ...m.proof, signature: m.proof.signature!.slice() } }, r)
      else this.m.duplicates.inc()
    }
  }

  private recover(g: MemberGroup, m: ReplyMessage, r: RoutedMessage): void {
    if (!this.accept(g, m.origin, m.seq, m.payload, 0, m.proof)) return
    this.m.recovered.inc()
    this.emit('deliver', { origin: m.origin, dst: g.group, payload: m.payload, hops: r.hops, at: r.at, recovered: true })
  }

  /** Whether (origin, seq) would be new here: not held, and missing or not reached yet. Checked before verifying. */
  private wanted(g: MemberGroup, origin: Addr, seq: number): boolean {
    if (origin === this.address || g.history.get(origin, seq) !== undefined) return false
    const next = g.recv.next(origin)
    return next === undefined || seqDiff32(seq, next) >= 0 || g.recv.isMissing(origin, seq)
  }

  /**
   * Verify a recovered message exactly as MAODV verifies a tree packet (the origin's signature over
   * the MAODV packet it sent), then deliver it. An unknown origin certificate is fetched from a
   * tree neighbour (they hold the certificates of the packets they passed on).
   */
  private verifyRecovered(g: MemberGroup, m: ReplyMessage & { proof: MessageProof }, r: RoutedMessage): void {
    const bytes = multicastSignedBytes(m.origin, g.group, m.proof.mseq, encodeAgData(m.seq, m.proof.index, m.payload))
    const via = this.certSource(g, r)
    const v = this.o.security!.verify(m.origin, bytes, m.proof.signature!, via, () => {
      if (this.closed || this.groups.get(g.group) !== g) return
      if (this.wanted(g, m.origin, m.seq)) this.verifyRecovered(g, m, { ...r, at: this.now() })
      else this.m.duplicates.inc()
    })
    if (v === 'bad') return void this.m.recoveredBadSignature.inc()
    if (v === 'pending') return void this.m.recoveredCertWaits.inc()
    this.m.recoveredVerified.inc()
    this.recover(g, m, r)
  }

  /** Where to fetch an unknown origin certificate: a tree neighbour (they hold the certificates of what they passed on). */
  private certSource(g: MemberGroup, r: RoutedMessage): Addr {
    const links = this.o.tree.tree(g.group)?.links ?? []
    return (links.find((l) => l.upstream) ?? links[0])?.neighbour ?? r.origin
  }

  /**
   * A batch reply (§12.5): verify the DIGESTs it needs (each once; a DIGEST-only reply's all),
   * then each wanted message by its hash. The DIGESTs are copied: the reply's bytes are a view.
   */
  private repliedBatch(g: MemberGroup, msg: GossipReply, r: RoutedMessage): void {
    const batch = this.o.tree.batch
    const digests = msg.digests!.map((d) => ({ origin: d.origin, group: g.group, seq: d.seq, body: d.body.slice(), signature: d.signature.slice() }))
    if (batch === undefined) return void this.m.recoveredUnverifiable.inc(msg.messages.length)
    /** DIGESTs of this reply that failed: not checked again for its other messages. */
    const bad = new Set<SignedDigest>()
    if (msg.messages.length === 0) {
      for (const d of digests) this.verifyDigest(g, batch, d, r, () => {})
      return
    }
    for (const m of msg.messages) {
      if (!isNodeAddr(m.origin) || m.proof === undefined) continue
      if (!this.wanted(g, m.origin, m.seq)) {
        this.m.duplicates.inc()
        continue
      }
      this.verifyByDigest(g, batch, { ...m, payload: m.payload.slice(), proof: { mseq: m.proof.mseq, index: m.proof.index } }, digests, bad, r)
    }
  }

  /** Verify one DIGEST carried by a reply; `then` runs again once a missing certificate arrives. */
  private verifyDigest(g: MemberGroup, batch: BatchVerifier, d: SignedDigest, r: RoutedMessage, then: () => void): 'ok' | 'bad' | 'pending' {
    const v = batch.verifyDigest(d, this.certSource(g, r), () => {
      if (!this.closed && this.groups.get(g.group) === g) then()
    })
    if (v === 'bad') this.m.recoveredBadSignature.inc()
    return v
  }

  /** Deliver `m` if a verified DIGEST lists its hash (verifying the reply's DIGESTs of its origin as needed). */
  private verifyByDigest(g: MemberGroup, batch: BatchVerifier, m: ReplyMessage & { proof: MessageProof }, digests: SignedDigest[], bad: Set<SignedDigest>, r: RoutedMessage): void {
    let known = batch.lookup(g.group, m.origin, m.proof.mseq)
    for (const d of digests) {
      if (known !== undefined) break
      if (d.origin !== m.origin || bad.has(d)) continue
      const v = this.verifyDigest(g, batch, d, r, () => {
        if (this.wanted(g, m.origin, m.seq)) this.verifyByDigest(g, batch, m, digests, bad, { ...r, at: this.now() })
        else this.m.duplicates.inc()
      })
      if (v === 'pending') return void this.m.recoveredCertWaits.inc()
      if (v === 'ok') known = batch.lookup(g.group, m.origin, m.proof.mseq)
      else bad.add(d)
    }
    if (known === undefined) return void this.m.recoveredUnverifiable.inc()
    const hash = multicastPacketHash(m.origin, g.group, m.proof.mseq, encodeAgData(m.seq, m.proof.index, m.payload))
    if (!sameDigestHash(hash, known.hash)) return void this.m.recoveredBadSignature.inc()
    // Verifying a DIGEST may have released the same packet held by MAODV (delivered by the tree meanwhile).
    if (!this.wanted(g, m.origin, m.seq)) return void this.m.duplicates.inc()
    this.m.recoveredVerified.inc()
    this.recover(g, { ...m, proof: { ...m.proof, digest: known.digest } }, r)
  }
}

/** A history proof from what MAODV reports: a per-packet signature or the DIGEST that lists the packet. */
function provenBy(mseq: number, index: number, a: { signature?: Uint8Array; digest?: SignedDigest }): MessageProof {
  return a.digest !== undefined ? { mseq, index, digest: a.digest as ReplyDigest } : { mseq, index, signature: a.signature!.slice() }
}
