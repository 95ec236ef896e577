/**
 * Scenario entries for `protocol: pbcast` (bimodal multicast, PROTOCOLS.md §5) and `protocol:
 * gravitational` (gravitational gossip, §6). Both carry multicast traffic: each multicast group is
 * a stream, its members (and, for gravitational, their `ratings`) come from the traffic entries and
 * form the directory every member's Audience is built from.
 *
 * protocolConfig has one section per part:
 * - `transport`: 'ip' (default: a simulated LAN/WAN between gateways, gossip/pbcast/sim-ip.ts, with
 *   `ip: { loss, minLatencyMs, maxLatencyMs }`) or 'aodv' (multi-hop over the radios, with an
 *   `aodv` section: gossip/pbcast/aodv-datagrams.ts);
 * - `pbcast`: gossip/pbcast/pbcast-defaults.ts;
 * - pbcast's `view` (gossip/pbcast/view.ts: fanout, viewSize, localityBias, viewRefreshRounds,
 *   firstFanout) or gravitational's `audience` (gossip/gravitational/audience.ts).
 * Locality: the distance between two members is the distance between their positions in the field.
 * Over AODV the defaults change: `pbcast.roundMs` 500, pbcast's `view.localityBias` 2 and
 * `view.fanout` 2, gravitational's `audience.localityBias` 2 (each digest may cost a route discovery).
 */
import { GROUP_BASE, type Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import { checkKeys, checkObject, fieldPath, validateFields } from '../core/validate.ts'
import { Aodv, ROUTED_HEADER_SIZE, validateAodvConfig, type AodvConfig } from '../adhoc/aodv/index.ts'
import { E2E_TRAILER_BYTES } from '../crypto/origin-auth.ts'
import type { SecurityMode } from '../crypto/security-defaults.ts'
import { AodvDatagrams } from '../gossip/pbcast/aodv-datagrams.ts'
import { DATA_HEADER_SIZE } from '../gossip/pbcast/pbcast-messages.ts'
import { validatePbcastConfig, type PbcastConfig } from '../gossip/pbcast/pbcast-defaults.ts'
import { PbcastProtocol } from '../gossip/pbcast/pbcast-protocol.ts'
import { SimIpNetwork } from '../gossip/pbcast/sim-ip.ts'
import type { Audience, Datagrams } from '../gossip/pbcast/pbcast-types.ts'
import { PlainAudience } from '../gossip/pbcast/view.ts'
import { GravitationalAudience, hashKey, validateAudienceConfig, weylKey, type AudienceConfig, type Subscription } from '../gossip/gravitational/audience.ts'
import { gossipParameters } from '../gossip/gravitational/params.ts'
import type { ProtocolContext, ProtocolEntry } from './protocols.ts'

export interface IpConfig {
  /** Probability that a datagram is lost. */
  loss: number
  minLatencyMs: number
  maxLatencyMs: number
  /** Largest datagram payload, bytes. */
  maxPayload: number
}

const DEFAULT_IP: Readonly<IpConfig> = Object.freeze({ loss: 0.01, minLatencyMs: 2, maxLatencyMs: 20, maxPayload: 1400 })

interface ViewConfig {
  fanout: number
  viewSize: number
  localityBias: number
  viewRefreshRounds: number
  firstFanout: number | 'all'
}

const DEFAULT_VIEW: Readonly<ViewConfig> = Object.freeze({ fanout: 3, viewSize: 30, localityBias: 0, viewRefreshRounds: 50, firstFanout: 3 })

export interface GossipStackConfig {
  transport: 'ip' | 'aodv'
  /**
   * gravitational: the delivery deadline a feed's subscribers ask for, ms, and the share of its
   * audience that must be reached: unless `audience.fanout` / `pbcast.gcRounds` are given, they are
   * computed from these and the largest feed's size (gossip/gravitational/params.ts).
   */
  timelinessMs: number
  reliability: number
  ip: IpConfig
  aodv: AodvConfig
  pbcast: PbcastConfig
  /** pbcast only. */
  view: ViewConfig
  /** gravitational only. */
  audience: AudienceConfig
  /** Whether audience.fanout and pbcast.gcRounds are to be computed from timelinessMs (not given). */
  autoFanout: boolean
  autoGcRounds: boolean
}

function validateStack(kind: 'pbcast' | 'gravitational', config: unknown, path: string): GossipStackConfig {
  const own = kind === 'pbcast' ? 'view' : 'audience'
  const obj = checkObject(path, config ?? {})
  checkKeys(path, obj, ['transport', 'ip', 'aodv', 'pbcast', own, ...(kind === 'gravitational' ? ['timelinessMs', 'reliability'] : [])])
  const section = (k: string): Record<string, unknown> => checkObject(fieldPath(path, k), obj[k] ?? {})
  const transport = obj.transport ?? 'ip'
  if (transport !== 'ip' && transport !== 'aodv') throw new ConfigError(fieldPath(path, 'transport'), `must be 'ip' or 'aodv', got ${String(transport)}`)
  const ip = validateFields(fieldPath(path, 'ip'), section('ip'), DEFAULT_IP, {
    loss: { min: 0, max: 0.99 }, minLatencyMs: { min: 0, max: 60_000 }, maxLatencyMs: { min: 0, max: 60_000 }, maxPayload: { integer: true, min: 64, max: 65_000 },
  })
  if (ip.maxLatencyMs < ip.minLatencyMs) throw new ConfigError(fieldPath(path, 'ip.maxLatencyMs'), `must be >= minLatencyMs (${ip.minLatencyMs}), got ${ip.maxLatencyMs}`)
  // Over AODV every digest may need a route discovery on a shared radio channel: slower rounds and
  // nearby partners by default (on a 24-node field at 2 Mbit/s, 100 ms rounds with uniform
  // partners congested it to 4.8 % delivery; 500 ms, locality 2, fanout 2: 100 %).
  const overRadio = transport === 'aodv'
  const viewIn = kind === 'pbcast' ? { ...(overRadio ? { localityBias: 2, fanout: 2 } : {}), ...section('view') } : {}
  const view = validateFields(fieldPath(path, 'view'), viewIn, DEFAULT_VIEW, {
    fanout: { integer: true, min: 1, max: 64 }, viewSize: { integer: true, min: 1, max: 100_000 }, localityBias: { min: 0, max: 16 },
    viewRefreshRounds: { integer: true, min: 1, max: 1_000_000 },
    firstFanout: (p, v) => {
      if (v !== 'all' && !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100_000)) throw new ConfigError(p, `must be a count or 'all', got ${String(v)}`)
    },
  })
  const timelinessMs = obj.timelinessMs ?? 1000, reliability = obj.reliability ?? 0.999
  if (typeof timelinessMs !== 'number' || !(timelinessMs > 0)) throw new ConfigError(fieldPath(path, 'timelinessMs'), `must be a positive number of ms, got ${String(timelinessMs)}`)
  if (typeof reliability !== 'number' || !(reliability > 0 && reliability < 1)) throw new ConfigError(fieldPath(path, 'reliability'), `must be in (0, 1), got ${String(reliability)}`)
  const audience = section('audience'), pb = section('pbcast')
  const audienceIn = kind === 'gravitational' ? { ...(overRadio ? { localityBias: 2 } : {}), ...audience } : {}
  return {
    transport,
    timelinessMs,
    reliability,
    autoFanout: kind === 'gravitational' && audience.fanout === undefined,
    autoGcRounds: kind === 'gravitational' && pb.gcRounds === undefined,
    ip,
    aodv: validateAodvConfig({ helloIntervalMs: 0, ...section('aodv') }, fieldPath(path, 'aodv')),
    pbcast: validatePbcastConfig({ ...(overRadio ? { roundMs: 500 } : {}), ...section('pbcast') }, fieldPath(path, 'pbcast')),
    view,
    audience: validateAudienceConfig(audienceIn, fieldPath(path, 'audience')),
  }
}

/** Largest application payload: one pbcast DATA per datagram. */
function maxPayload(link: { maxDatagram: number }, mode: SecurityMode, c: GossipStackConfig): number {
  if (c.transport === 'ip') return c.ip.maxPayload - DATA_HEADER_SIZE
  return link.maxDatagram - ROUTED_HEADER_SIZE - (mode === 'authenticated' ? E2E_TRAILER_BYTES : 0) - DATA_HEADER_SIZE
}

/** The simulated IP network shared by a simulation's members (one per scheduler). */
const ipNetworks = new WeakMap<object, SimIpNetwork>()

function transport(ctx: ProtocolContext, c: GossipStackConfig, max: number): Datagrams {
  if (c.transport === 'aodv') {
    const router = new Aodv({ link: ctx.link, scheduler: ctx.scheduler, rng: ctx.rng.fork('aodv'), metrics: ctx.metrics.scope('aodv', ctx.id), config: c.aodv, security: ctx.security?.origin })
    return new AodvDatagrams({ router, maxPayload: max, ownsRouter: true })
  }
  let net = ipNetworks.get(ctx.scheduler)
  if (net === undefined) {
    net = new SimIpNetwork({ scheduler: ctx.scheduler, rng: ctx.rng.fork('ip-network'), loss: c.ip.loss, minLatencyMs: c.ip.minLatencyMs, maxLatencyMs: c.ip.maxLatencyMs, maxPayload: c.ip.maxPayload })
    ipNetworks.set(ctx.scheduler, net)
  }
  return net.attach(ctx.id)
}

/**
 * Gravitational fanout and gcRounds: as configured, or computed from the deadline and the largest
 * feed (its members and publishers) when not given (gossip/gravitational/params.ts).
 */
function tune(ctx: ProtocolContext, c: GossipStackConfig): { fanout: number; gcRounds: number } {
  if (!c.autoFanout && !c.autoGcRounds) return { fanout: c.audience.fanout, gcRounds: c.pbcast.gcRounds }
  let groupSize = 2
  for (const [group, ids] of ctx.groups.members) groupSize = Math.max(groupSize, new Set([...ids, ...(ctx.groups.publishers.get(group) ?? [])]).size)
  const loss = c.transport === 'ip' ? c.ip.loss : 0
  const p = gossipParameters({ groupSize, timelinessMs: c.timelinessMs, roundMs: c.pbcast.roundMs, reliability: c.reliability, loss }, 'protocolConfig.timelinessMs')
  return { fanout: c.autoFanout ? p.fanout : c.audience.fanout, gcRounds: c.autoGcRounds ? Math.max(p.gcRounds, c.pbcast.pushAfterRounds) : c.pbcast.gcRounds }
}

/** Every (node, stream, rating) of the directory: multicast groups are streams. */
function subscriptions(ctx: ProtocolContext): Subscription[] {
  const out: Subscription[] = []
  for (const [group, members] of ctx.groups.members) {
    const rated = ctx.groups.ratings.get(group)
    for (const node of members) out.push({ node, stream: group - GROUP_BASE, rating: rated?.get(node) ?? 1 })
  }
  return out
}

function distance(ctx: ProtocolContext): (a: Addr, b: Addr) => number {
  return (a, b) => {
    const p = ctx.position(a), q = ctx.position(b)
    return Math.hypot(p.x - q.x, p.y - q.y)
  }
}

function stackEntry(kind: 'pbcast' | 'gravitational', audienceOf: (ctx: ProtocolContext, c: GossipStackConfig) => Audience): ProtocolEntry {
  return {
    directory: true,
    validate: (config, path) => validateStack(kind, config, path),
    maxPayload: (link, mode) => maxPayload(link, mode, validateStack(kind, {}, 'protocolConfig')),
    create(ctx) {
      const c = ctx.config as GossipStackConfig
      const max = maxPayload(ctx.linkConfig, ctx.securityMode, c) + DATA_HEADER_SIZE
      const pbcast = kind === 'gravitational' ? { ...c.pbcast, gcRounds: tune(ctx, c).gcRounds } : c.pbcast
      return new PbcastProtocol({
        name: kind,
        transport: transport(ctx, c, max),
        scheduler: ctx.scheduler,
        rng: ctx.rng.fork(kind),
        audience: audienceOf(ctx, c),
        metrics: ctx.metrics.scope('pbcast', ctx.id),
        config: pbcast,
        configPath: 'protocolConfig.pbcast',
      })
    },
  }
}

export const pbcastEntry: ProtocolEntry = stackEntry('pbcast', (ctx, c) => {
  if (ctx.groups.members.size > 1) throw new ConfigError('traffic', `pbcast runs one group (its members all want everything); ${ctx.groups.members.size} groups given: use protocol gravitational for several feeds`)
  // The group: its members and its publishers; a node in neither does not gossip.
  const members = new Set<Addr>()
  for (const m of ctx.groups.members.values()) for (const id of m) members.add(id)
  for (const p of ctx.groups.publishers.values()) for (const id of p) members.add(id)
  const d = distance(ctx)
  return new PlainAudience({ self: ctx.id, members: members.has(ctx.id) ? [...members] : [], ...c.view, distance: (peer) => d(ctx.id, peer), path: 'protocolConfig.view' })
})

export const gravitationalEntry: ProtocolEntry = {
  ...stackEntry('gravitational', (ctx, c) => {
    const publishers = [...ctx.groups.publishers].flatMap(([group, nodes]) => nodes.map((node) => ({ node, stream: group - GROUP_BASE })))
    const tuned = tune(ctx, c)
    return new GravitationalAudience({ self: ctx.id, subscriptions: subscriptions(ctx), publishers, ...c.audience, fanout: tuned.fanout, distance: distance(ctx) })
  }),
  /** A receiver expects a packet when its rating for the group is at least the packet's key. */
  wants(config, ratings, from, group) {
    const c = config as GossipStackConfig
    const rule = c.audience.keyRule
    const key = rule === 'weyl' ? weylKey : rule === 'hash' ? hashKey : rule
    const stream = group - GROUP_BASE
    return (receiver, seq) => (ratings.get(receiver) ?? 1) >= key(from, stream, seq)
  },
}
