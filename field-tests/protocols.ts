/**
 * The network protocols a scenario can name in `protocol:`. Each entry validates its config (errors
 * name `protocolConfig.*`), says how large a payload it carries over a link configuration, and
 * builds one node's instance. Later protocols (odsbr, gossip) register here.
 *
 * An adversarial node (field-tests/adversaries.ts) gets its behaviour here: `forwardFilter` for the
 * data it relays, `configOverrides` over its protocol config (only fields the config, or one of its
 * sections such as maodv+ag's `aodv`, already has: `floodJitterMs: 0` reaches AODV and ODSBR and
 * nothing else), and for AODV (alone or under maodv+ag) its reply forger.
 */
import type { Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { MetricsRegistry, MetricsScope } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { Flood } from '../adhoc/flood.ts'
import { validateFloodConfig } from '../adhoc/flood-defaults.ts'
import { FLOOD_HEADER_SIZE } from '../adhoc/flood-frame.ts'
import type { LinkConfig } from '../adhoc/link-defaults.ts'
import type { Link } from '../adhoc/link-types.ts'
import type { NetProtocol } from '../adhoc/net-protocol.ts'
import { Aodv, ROUTED_HEADER_SIZE, validateAodvConfig } from '../adhoc/aodv/index.ts'
import { Maodv, MULTICAST_DATA_HEADER_SIZE, SIGNED_MULTICAST_DATA_HEADER_SIZE, validateMaodvConfig } from '../adhoc/maodv/index.ts'
import { E2E_TRAILER_BYTES, type OriginAuth } from '../crypto/origin-auth.ts'
import { Odsbr, odsbrMaxPayload } from '../adhoc/odsbr/odsbr.ts'
import { validateOdsbrConfig } from '../adhoc/odsbr/odsbr-defaults.ts'
import { AnonymousGossip, validateMaodvAgConfig, maodvAgMaxPayload, type MaodvAgConfig } from '../gossip/anonymous/index.ts'
import { Proto } from '../adhoc/protocols.ts'
import { attachReplyForger } from '../adhoc/aodv/control.ts'
import type { AdversaryBehaviour, ForwardCandidate } from './adversaries.ts'
import type { SecurityMode } from '../crypto/security-defaults.ts'
import type { NodeSecurity } from '../crypto/sim-network.ts'
import { gravitationalEntry, pbcastEntry } from './gossip-protocols.ts'

export interface ProtocolContext {
  id: Addr
  link: Link
  scheduler: Scheduler
  rng: SeededRng
  metrics: MetricsRegistry
  /** What the entry's `validate` returned. */
  config: unknown
  adversary?: AdversaryBehaviour
  /** The node's keys and authenticators in an `authenticated` network; absent in an `open` one. */
  security?: NodeSecurity
  securityMode: SecurityMode
  linkConfig: LinkConfig
  /** Multicast groups of the scenario's traffic: members, ratings (gravitational) and publishers. */
  groups: ScenarioGroups
  /** A node's position in the field now (metres). */
  position(id: Addr): { x: number; y: number }
}

export interface ScenarioGroups {
  members: ReadonlyMap<Addr, readonly Addr[]>
  ratings: ReadonlyMap<Addr, ReadonlyMap<Addr, number>>
  publishers: ReadonlyMap<Addr, readonly Addr[]>
}

export interface ProtocolEntry {
  /** Defaults filled in, every field checked; throws ConfigError naming `${path}.field`. */
  validate(config: Record<string, unknown>, path: string): unknown
  /** Largest application payload one packet carries over this link configuration and security mode, bytes. */
  maxPayload(link: LinkConfig, security: SecurityMode): number
  create(ctx: ProtocolContext): NetProtocol
  /** Membership comes from the scenario's groups (ctx.groups), so the runner does not call join. */
  directory?: boolean
  /**
   * Whether a receiver expects a packet of flow (from, group): gravitational gossip delivers only
   * the packets in a receiver's audience. Absent: every receiver expects every packet.
   */
  wants?(config: unknown, ratings: ReadonlyMap<Addr, number>, from: Addr, group: Addr): (receiver: Addr, seq: number) => boolean
}

interface ProtocolClass<C> {
  new (o: {
    link: Link
    scheduler: Scheduler
    rng: SeededRng
    metrics: MetricsScope
    config: C
    forwardFilter?: (p: ForwardCandidate) => boolean
    security?: OriginAuth
  }): NetProtocol
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * `config` with an adversary's overrides: a field the config has is replaced; otherwise it is
 * replaced in each section (a nested object) that has it; otherwise ignored. Copies, never mutates
 * (the validated config is shared by every node).
 */
export function withOverrides(config: unknown, overrides: Readonly<Record<string, unknown>> | undefined): unknown {
  if (overrides === undefined || !isRecord(config)) return config
  const out: Record<string, unknown> = { ...config }
  for (const [key, value] of Object.entries(overrides)) {
    if (key in config) out[key] = value
    else for (const [name, section] of Object.entries(out)) if (isRecord(section) && key in section) out[name] = { ...section, [key]: value }
  }
  return out
}

/** The node's config, adversary overrides applied. */
const nodeConfig = (ctx: ProtocolContext): unknown => withOverrides(ctx.config, ctx.adversary?.configOverrides)

/** A forging adversary's AODV forges replies: before that AODV is built over `ctx.link`. */
function armForger(ctx: ProtocolContext): void {
  const forge = ctx.adversary?.forgeReply
  if (forge !== undefined) attachReplyForger(ctx.link.port(Proto.AODV), forge)
}

/**
 * An entry for a protocol class that takes the common options (its origin authentication too, in
 * an authenticated network) and carries `headerBytes(mode)` per packet.
 */
function entry<C>(layer: string, Protocol: ProtocolClass<C>, validate: (c: Record<string, unknown>, path: string) => C, headerBytes: (mode: SecurityMode) => number): ProtocolEntry {
  return {
    validate,
    maxPayload: (link, mode) => link.maxDatagram - headerBytes(mode),
    create: (ctx) =>
      new Protocol({
        link: ctx.link,
        scheduler: ctx.scheduler,
        rng: ctx.rng,
        metrics: ctx.metrics.scope(layer, ctx.id),
        config: nodeConfig(ctx) as C,
        forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
        security: ctx.security?.origin,
      }),
  }
}

/** An AODV entry whose forging adversaries forge. */
const forging = (e: ProtocolEntry): ProtocolEntry => ({
  ...e,
  create(ctx) {
    armForger(ctx)
    return e.create(ctx)
  },
})

const secured = (mode: SecurityMode) => mode === 'authenticated'

/**
 * MAODV with anonymous gossip on top and AODV under it for gossip's unicasts. protocolConfig has one
 * section per layer: `{ maodv: {...}, aodv: {...}, gossip: {...} }` (counters 'maodv', 'aodv', 'ag').
 */
const maodvAg: ProtocolEntry = {
  validate: validateMaodvAgConfig,
  maxPayload: (link, mode) => maodvAgMaxPayload(link.maxDatagram, secured(mode) ? E2E_TRAILER_BYTES : undefined),
  create(ctx) {
    const cfg = nodeConfig(ctx) as MaodvAgConfig
    armForger(ctx)
    const common = { link: ctx.link, scheduler: ctx.scheduler }
    const router = new Aodv({ ...common, rng: ctx.rng.fork('aodv'), metrics: ctx.metrics.scope('aodv', ctx.id), config: cfg.aodv, security: ctx.security?.origin })
    const tree = new Maodv({
      ...common,
      rng: ctx.rng.fork('maodv'),
      metrics: ctx.metrics.scope('maodv', ctx.id),
      config: cfg.maodv,
      forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
      security: ctx.security?.origin,
    })
    return new AnonymousGossip({ ...common, tree, router, rng: ctx.rng.fork('ag'), metrics: ctx.metrics.scope('ag', ctx.id), config: cfg.gossip, security: ctx.security?.origin })
  },
}

export const PROTOCOLS: Readonly<Record<string, ProtocolEntry>> = {
  flood: entry('flood', Flood, validateFloodConfig, () => FLOOD_HEADER_SIZE),
  // Secured: routed packets carry the origin's end-to-end trailer (adhoc/aodv/signing.ts).
  aodv: forging(entry('aodv', Aodv, validateAodvConfig, (mode) => ROUTED_HEADER_SIZE + (secured(mode) ? E2E_TRAILER_BYTES : 0))),
  // Secured: multicast data carries the origin's signature (79-byte header).
  maodv: entry('maodv', Maodv, validateMaodvConfig, (mode) => (secured(mode) ? SIGNED_MULTICAST_DATA_HEADER_SIZE : MULTICAST_DATA_HEADER_SIZE)),
  'maodv+ag': maodvAg,
  // Authenticated networks only (its probes and acks are keyed by certificates): Odsbr refuses to start otherwise.
  odsbr: {
    ...entry('odsbr', Odsbr, validateOdsbrConfig, () => 0),
    maxPayload: (link) => odsbrMaxPayload(link.maxDatagram, validateOdsbrConfig({})),
  },
  pbcast: pbcastEntry,
  gravitational: gravitationalEntry,
}

export function protocolEntry(name: string): ProtocolEntry {
  const f = PROTOCOLS[name]
  if (!f) throw new ConfigError('protocol', `unknown protocol "${name}"; available: ${Object.keys(PROTOCOLS).join(', ')}`)
  return f
}
