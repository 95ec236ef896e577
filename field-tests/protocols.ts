/**
 * The network protocols a scenario can name in `protocol:`. Each entry validates its config (errors
 * name `protocolConfig.*`), says how large a payload it carries over a link configuration, and
 * builds one node's instance. Later protocols (odsbr, gossip) register here.
 */
import type { Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { Flood } from '../adhoc/flood.ts'
import { validateFloodConfig, type FloodConfig } from '../adhoc/flood-defaults.ts'
import { FLOOD_HEADER_SIZE } from '../adhoc/flood-frame.ts'
import type { LinkConfig } from '../adhoc/link-defaults.ts'
import type { Link } from '../adhoc/link-types.ts'
import type { NetProtocol } from '../adhoc/net-protocol.ts'
import { Aodv, ROUTED_HEADER_SIZE, validateAodvConfig, type AodvConfig } from '../adhoc/aodv/index.ts'
import { Maodv, MULTICAST_DATA_HEADER_SIZE, validateMaodvConfig, type MaodvConfig } from '../adhoc/maodv/index.ts'
import type { AdversaryBehaviour } from './adversaries.ts'

export interface ProtocolContext {
  id: Addr
  link: Link
  scheduler: Scheduler
  rng: SeededRng
  metrics: MetricsRegistry
  /** What the entry's `validate` returned. */
  config: unknown
  adversary?: AdversaryBehaviour
}

export interface ProtocolEntry {
  /** Defaults filled in, every field checked; throws ConfigError naming `${path}.field`. */
  validate(config: Record<string, unknown>, path: string): unknown
  /** Largest application payload one packet carries over this link configuration, bytes. */
  maxPayload(link: LinkConfig): number
  create(ctx: ProtocolContext): NetProtocol
}

export const PROTOCOLS: Readonly<Record<string, ProtocolEntry>> = {
  flood: {
    validate: (config, path) => validateFloodConfig(config, path),
    maxPayload: (link) => link.maxDatagram - FLOOD_HEADER_SIZE,
    create: (ctx) =>
      new Flood({
        link: ctx.link,
        scheduler: ctx.scheduler,
        rng: ctx.rng,
        metrics: ctx.metrics.scope('flood', ctx.id),
        config: ctx.config as FloodConfig,
        forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
      }),
  },
  aodv: {
    validate: (config, path) => validateAodvConfig(config, path),
    maxPayload: (link) => link.maxDatagram - ROUTED_HEADER_SIZE,
    create: (ctx) =>
      new Aodv({
        link: ctx.link,
        scheduler: ctx.scheduler,
        rng: ctx.rng,
        metrics: ctx.metrics.scope('aodv', ctx.id),
        config: ctx.config as AodvConfig,
        forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
      }),
  },
  maodv: {
    validate: (config, path) => validateMaodvConfig(config, path),
    maxPayload: (link) => link.maxDatagram - MULTICAST_DATA_HEADER_SIZE,
    create: (ctx) =>
      new Maodv({
        link: ctx.link,
        scheduler: ctx.scheduler,
        rng: ctx.rng,
        metrics: ctx.metrics.scope('maodv', ctx.id),
        config: ctx.config as MaodvConfig,
        forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
      }),
  },
}

export function protocolEntry(name: string): ProtocolEntry {
  const f = PROTOCOLS[name]
  if (!f) throw new ConfigError('protocol', `unknown protocol "${name}"; available: ${Object.keys(PROTOCOLS).join(', ')}`)
  return f
}
