/**
 * MAODV — multicast trees for ad-hoc networks (IETF draft "Multicast Ad hoc On-Demand Distance
 * Vector Routing", Royer & Perkins 2000; the rules we adopt are PROTOCOLS.md §2). A sans-IO core:
 * it runs on a `Link` (adhoc/link-types.ts) with an injected scheduler and rng, and needs no
 * unicast routing — join requests leave reverse next hops as they flood, replies and activations
 * travel those hop by hop, and merges follow the reverse path of the other leader's GRPH flood.
 *
 * One shared tree per group, rooted at the group leader, which owns the group sequence number and
 * floods a GRPH every GROUP_HELLO_INTERVAL. Parts (each its own module):
 *
 *   join.ts        a discovery: expanding ring of RREQ-Js, RREP_WAIT_TIME, best reply, election
 *   requests.ts    RREQ/RREP handling for this node's discoveries and everyone else's; attaching
 *   tree.ts        MACT (J, P, G, U, R), leadership, prune, hand-over, breaks, repair, partition
 *   grph.ts        group hellos; GRPH reverse paths; merge trigger
 *   merge.ts       merging two trees into one (lower address merges into higher)
 *   data-plane.ts  data on activated tree links only, duplicate suppression, non-member senders
 *   liveness.ts    the 750 ms tree-neighbour rule, tree hellos, link-loss feedback
 *   routes.ts, group-table.ts, maodv-messages.ts, data-frame.ts, maodv-defaults.ts
 *
 * Two deliberate choices a reader comparing with the draft or the anonymous-gossip paper should
 * know (maodv-defaults.ts gives the numbers):
 * - The 750 ms rule ("tree neighbours heard at least every 750 ms while data flows") is applied with
 *   a probe: a neighbour silent 750 ms gets a link-acked unicast hello; no ack breaks the link at
 *   once, an ack counts as hearing it once, and a second silent 750 ms breaks it. It also runs for
 *   two periods after the flow stops at a node (liveness.ts).
 * - `unicastSingleNextHop` is on: data for a single tree neighbour is a link-acked unicast, not a
 *   broadcast, which makes this baseline stronger than the paper's broadcast-only MAODV (at 20 m/s
 *   on manet-multicast, PDR 0.79 vs 0.75 over seeds 1–5). Off gives the paper's behaviour.
 *
 * Wire formats: docs/WIRE.md §10–11. Control goes on link protocol MAODV (4), data on
 * MULTICAST_DATA (5).
 *
 * Counters (scope 'maodv'): rreq, rrep, mact, grph (messages handed to the link, relays
 * included), joins (members that reached a tree), prunes (MACT-P sent, also G+P), repairs (repairs
 * started), repairFailures, merges (merges completed at the merging side), leaderChanges (times this
 * node became leader), dataOriginated, dataForwarded, dataDelivered, dataDropped (refused by the
 * link, buffer overflow or expiry, no tree); also hello, decodeErrors, dataDuplicates, dataIgnored
 * (data from a node that is not our tree neighbour), filtered (forwardFilter said no). With
 * `security`: dataSigned (packets this node signed as origin), dataVerified (signatures a member
 * checked and found good), dataBadSignature (packets refused: the signature does not verify — a
 * relay modified or invented it), dataCertWaits (packets held for the origin's certificate).
 * Signed control messages have their own counters (control-signing.ts), registered only with `security`.
 */
import { isGroupAddr, type Addr } from '../../core/addr.ts'
import { tryDecode, ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import type { Logger } from '../../core/logger.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import type { Link, LinkPort, LinkRx, NeighbourInfo, TxFailure } from '../link-types.ts'
import type { NetProtocol, NetProtocolEvents } from '../net-protocol.ts'
import { Proto } from '../protocols.ts'
import type { TreeInfo } from '../routing.ts'
import { COUNTERS, MaodvContext, type CounterName, type MaodvEvents, type MaodvForwardCandidate } from './context.ts'
import { ControlSigning } from './control-signing.ts'
import { DataPlane } from './data-plane.ts'
import type { BatchVerifier } from './batch.ts'
import { DATA_HEADER_SIZE, SIGNED_DATA_HEADER_SIZE } from './data-frame.ts'
import type { OriginAuth } from '../../crypto/origin-auth.ts'
import { GroupTable, isOnTree, treeInfo } from './group-table.ts'
import { GroupHello } from './grph.ts'
import { Liveness } from './liveness.ts'
import { validateMaodvConfig, type MaodvConfig, type MaodvConfigInput } from './maodv-defaults.ts'
import { MsgType, decodeMaodv } from './maodv-messages.ts'
import { Merge } from './merge.ts'
import { Requests } from './requests.ts'
import { GrphRoutes, PendingRoutes } from './routes.ts'
import { TreeOps } from './tree.ts'

export interface MaodvOptions {
  link: Link
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'maodv' for this node. */
  metrics?: MetricsScope
  logger?: Logger
  config?: Partial<MaodvConfig> | Record<string, unknown>
  /** Where `config` sits in the caller's configuration, for error paths; default 'maodv'. */
  configPath?: string
  /** false: don't relay this data packet (adversaries); delivery here is unaffected. */
  forwardFilter?: (p: MaodvForwardCandidate) => boolean
  /**
   * Origin authentication, in an authenticated network (every node must have it, or none):
   * multicast data carries its origin's signature (WIRE.md §11.1, data-auth.ts), and so do RREQ,
   * RREP and GRPH (RREQ-S, RREP-S, GRPH-S: control-signing.ts; MACT and HELLO travel one hop and are
   * link-authenticated). Absent: the open layouts, bytes unchanged.
   */
  security?: OriginAuth
}

export class Maodv extends Emitter<NetProtocolEvents & MaodvEvents> implements NetProtocol {
  readonly name = 'maodv'
  readonly address: Addr
  readonly config: MaodvConfig
  private readonly c: MaodvContext
  private readonly ctl: LinkPort
  private readonly dat: LinkPort
  private readonly onCtl = (rx: LinkRx): void => this.receiveControl(rx)
  private readonly onData = (rx: LinkRx): void => this.receiveData(rx)
  private readonly onDown = (n: NeighbourInfo): void => this.c.live.lost(n.addr, 'neighbour down')
  private readonly onCtlFail = (f: TxFailure): void => this.c.live.txFailed(f, false)
  private readonly onDataFail = (f: TxFailure): void => this.c.live.txFailed(f, true)

  constructor(o: MaodvOptions) {
    super()
    this.config = validateMaodvConfig(o.config as MaodvConfigInput | undefined, o.configPath)
    const cfg = this.config
    this.address = o.link.address
    const metrics = o.metrics ?? new MetricsRegistry().scope('maodv', o.link.address)
    const m = Object.fromEntries(COUNTERS.map((n) => [n, metrics.counter(n)])) as Record<CounterName, Counter>
    this.ctl = o.link.port(Proto.MAODV)
    this.dat = o.link.port(Proto.MULTICAST_DATA)
    const c = new MaodvContext(
      o.link.address, cfg, o.scheduler, o.rng, m, o.logger, this,
      new GroupTable(cfg.maxGroups),
      new PendingRoutes(cfg.maxRoutes, cfg.routeTtlMs, cfg.maxRepliesPerRequest),
      new GrphRoutes(cfg.maxGrphRoutes, cfg.grphRouteTtlMs),
      this.ctl, this.dat, o.forwardFilter, o.security,
    )
    c.tree = new TreeOps(c)
    c.requests = new Requests(c)
    c.grph = new GroupHello(c)
    c.merge = new Merge(c)
    c.plane = new DataPlane(c)
    c.live = new Liveness(c)
    c.ctlAuth = new ControlSigning(o.security, metrics)
    this.c = c
    this.ctl.on('receive', this.onCtl)
    this.dat.on('receive', this.onData)
    this.ctl.on('neighbour-down', this.onDown)
    this.ctl.on('tx-failed', this.onCtlFail)
    this.dat.on('tx-failed', this.onDataFail)
  }

  /** Largest payload `send` accepts. */
  get maxPayload(): number {
    return this.dat.maxDatagram - (this.c.security ? SIGNED_DATA_HEADER_SIZE : DATA_HEADER_SIZE)
  }

  /** Batch-mode verification (WIRE.md §11.2, batch.ts) for the layer above: undefined in an open network. */
  get batch(): BatchVerifier | undefined {
    return this.c.plane.batch
  }

  /** Multicast `payload` to `group` (members or not: a non-member joins the tree as a router). */
  send(group: Addr, payload: Uint8Array): void {
    this.open()
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
    if (!isGroupAddr(group)) throw new RangeError(`maodv sends to group addresses only, got ${group}`)
    if (payload.length > this.maxPayload) {
      throw new SpinmeshError(ErrorCodes.DATAGRAM_TOO_LARGE, `multicast payload of ${payload.length} bytes exceeds ${this.maxPayload}`)
    }
    this.c.plane.send(group, payload)
  }

  join(group: Addr): void {
    this.open()
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    const c = this.c
    const g = c.groups.ensure(group, c.now())
    if (g === undefined) throw new RangeError(`cannot join ${group}: this node already keeps ${c.config.maxGroups} groups (maodv.maxGroups)`)
    if (g.member) return
    g.member = true
    if (g.state === 'off') return c.requests.start(g, 'join')
    if (isOnTree(g)) {
      c.m.joins.inc()
      this.emit('joined', { group })
    }
  }

  leave(group: Addr): void {
    this.open()
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    const g = this.c.groups.get(group)
    if (g?.member) this.c.tree.leave(g)
  }

  /** This node's view of the group's tree, when it is on it (activated links only). */
  tree(group: Addr): TreeInfo | undefined {
    const g = this.c.groups.get(group)
    return g !== undefined && isOnTree(g) ? treeInfo(g) : undefined
  }

  /** Every tree this node is on. */
  trees(): TreeInfo[] {
    const out: TreeInfo[] = []
    for (const g of this.c.groups.values()) if (isOnTree(g)) out.push(treeInfo(g))
    return out.sort((a, b) => a.group - b.group)
  }

  /** Stop: cancel every timer and detach from the link (the link itself stays open). No messages are sent. */
  close(): void {
    const c = this.c
    if (c.closed) return
    c.close()
    c.requests.close()
    c.plane.close()
    c.live.close()
    for (const g of c.groups.values()) {
      g.grphTimer?.cancel()
      g.holdTimer?.cancel()
      g.mergeTimer?.cancel()
      g.grphTimer = g.holdTimer = g.mergeTimer = null
    }
    this.ctl.off('receive', this.onCtl)
    this.dat.off('receive', this.onData)
    this.ctl.off('neighbour-down', this.onDown)
    this.ctl.off('tx-failed', this.onCtlFail)
    this.dat.off('tx-failed', this.onDataFail)
  }

  /**
   * Names of events with listeners. Typed as NetProtocol's list because that interface fixes the
   * return type of eventemitter3's `eventNames` (the one member whose type cannot widen with our
   * extra events); at run time the list may also hold MaodvEvents names.
   */
  override eventNames(): Array<keyof NetProtocolEvents> {
    return super.eventNames() as Array<keyof NetProtocolEvents>
  }

  private open(): void {
    if (this.c.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'maodv is closed')
  }

  private receiveControl(rx: LinkRx): void {
    const c = this.c
    const msg = tryDecode(decodeMaodv, rx.payload, c.m.decodeErrors)
    if (!msg) return
    c.live.heard(rx.from)
    switch (msg.type) {
      case MsgType.RREQ: return c.requests.onRreq(rx.from, msg)
      case MsgType.RREP: return c.requests.onRrep(rx.from, msg)
      case MsgType.MACT: return c.tree.onMact(rx.from, msg)
      case MsgType.GRPH: return c.grph.onGrph(rx.from, msg)
      case MsgType.HELLO: return c.live.onHello(rx.from, msg)
    }
  }

  private receiveData(rx: LinkRx): void {
    this.c.live.heard(rx.from)
    this.c.plane.receive(rx)
  }
}
