/**
 * pbcast (and gravitational gossip, which is pbcast with a rating-based Audience) as a NetProtocol,
 * so scenarios, traffic generators and the runtime use it like any other protocol: `send(group,
 * payload)` publishes on stream `group − GROUP_BASE`; every delivery is a `deliver` event with
 * `dst` the group and `recovered` true when anti-entropy brought it. Membership and ratings come
 * from the Audience (a directory the caller builds): `join`/`leave` are refused, since a member
 * that changes its subscriptions must be known to every other member's audience.
 */
import { GROUP_BASE, isGroupAddr, type Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import type { MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import type { NetProtocol, NetProtocolEvents } from '../../adhoc/net-protocol.ts'
import { Pbcast } from './pbcast.ts'
import type { PbcastConfigInput } from './pbcast-defaults.ts'
import type { Audience, Datagrams } from './pbcast-types.ts'

/** Streams are u16 on the wire (docs/WIRE.md): groups GROUP_BASE … GROUP_BASE + 65 535. */
export const MAX_STREAM = 0xffff

export interface PbcastProtocolOptions {
  /** 'pbcast' or 'gravitational' (status, metrics). */
  name: string
  transport: Datagrams
  scheduler: Scheduler
  rng: Rng
  audience: Audience
  metrics?: MetricsScope
  config?: PbcastConfigInput
  configPath?: string
}

export class PbcastProtocol extends Emitter<NetProtocolEvents> implements NetProtocol {
  readonly name: string
  readonly address: Addr
  readonly pbcast: Pbcast
  private readonly transport: Datagrams
  private closed = false

  constructor(o: PbcastProtocolOptions) {
    super()
    this.name = o.name
    this.address = o.transport.address
    this.transport = o.transport
    this.pbcast = new Pbcast({ transport: o.transport, scheduler: o.scheduler, rng: o.rng, audience: o.audience, metrics: o.metrics, config: o.config, configPath: o.configPath })
    this.pbcast.on('deliver', (d) => {
      if (d.origin === this.address) return // its own message: a NetProtocol delivers to others
      this.emit('deliver', { origin: d.origin, dst: GROUP_BASE + d.stream, payload: d.body, hops: 1, at: d.at, recovered: d.via === 'gossip' })
    })
  }

  /** Publish `payload` on the stream of group `dst`. */
  send(dst: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `${this.name} is closed`)
    if (!isGroupAddr(dst) || dst - GROUP_BASE > MAX_STREAM) throw new RangeError(`${this.name} publishes to groups ${GROUP_BASE}…${GROUP_BASE + MAX_STREAM}, got ${dst}`)
    this.pbcast.publish(dst - GROUP_BASE, payload)
  }

  join(group: Addr): void {
    throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `${this.name}: membership comes from its directory (the audience), not join(${group})`)
  }

  leave(group: Addr): void {
    throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `${this.name}: membership comes from its directory (the audience), not leave(${group})`)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.pbcast.close()
    this.transport.close()
  }
}
