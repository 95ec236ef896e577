/**
 * The network protocols a scenario can name in `protocol:`. Each factory builds one node's
 * protocol instance on its link layer. Later protocols (aodv, maodv, odsbr, gossip) register here.
 */
import type { Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { Flood } from '../adhoc/flood.ts'
import type { Link } from '../adhoc/link-types.ts'
import type { NetProtocol } from '../adhoc/net-protocol.ts'
import type { AdversaryBehaviour } from './adversaries.ts'

export interface ProtocolContext {
  id: Addr
  link: Link
  scheduler: Scheduler
  rng: SeededRng
  metrics: MetricsRegistry
  config: Record<string, unknown>
  adversary?: AdversaryBehaviour
}

export type ProtocolFactory = (ctx: ProtocolContext) => NetProtocol

export const PROTOCOLS: Readonly<Record<string, ProtocolFactory>> = {
  flood: (ctx) =>
    new Flood({
      link: ctx.link,
      scheduler: ctx.scheduler,
      rng: ctx.rng,
      metrics: ctx.metrics.scope('flood', ctx.id),
      config: ctx.config,
      forwardFilter: ctx.adversary ? (p) => ctx.adversary!.forwardFilter(p) : undefined,
    }),
}

export function protocolFactory(name: string): ProtocolFactory {
  const f = PROTOCOLS[name]
  if (!f) throw new ConfigError('protocol', `unknown protocol "${name}"; available: ${Object.keys(PROTOCOLS).join(', ')}`)
  return f
}
