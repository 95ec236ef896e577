/**
 * Flooding with duplicate suppression and jittered rebroadcast: the first dissemination protocol,
 * and the baseline later protocols are measured against.
 *
 * - `send(dst, payload)`: the origin broadcasts (origin, dst, seq, ttl, hops 0). It never delivers
 *   its own packet and ignores echoes of it.
 * - A receiver first checks (origin, seq) against its duplicate windows (before anything else is
 *   done with the packet). A new packet is delivered if `dst` is BROADCAST, this node, or a group it
 *   joined ('deliver' with hops = radio hops travelled), then rebroadcast after U[0, maxJitterMs]
 *   unless this node is its unicast destination, its TTL is spent, or `forwardFilter` refuses
 *   (adversary models: black hole, grey hole).
 * - Flooding never gives up on a packet, so it never emits 'undeliverable'.
 *
 * Counters (scope 'flood'): originated (packets handed to the link), forwarded (rebroadcasts handed
 * to the link — whether they reach the air is the link's txData* and txDropped*), delivered,
 * duplicates, ttlExpired, filtered; also decodeErrors, forwardDrops (too many rebroadcasts waiting,
 * or the link refused one).
 */
import { BROADCAST, isGroupAddr, isNodeAddr, type Addr } from '../core/addr.ts'
import { tryDecode, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../core/metrics.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import { SeqWindows } from './dedup.ts'
import { validateFloodConfig, type FloodConfig, type FloodConfigInput } from './flood-defaults.ts'
import { FLOOD_HEADER_SIZE, decodeFlood, encodeFlood } from './flood-frame.ts'
import type { Link, LinkPort, LinkRx } from './link-types.ts'
import type { NetProtocol, NetProtocolEvents } from './net-protocol.ts'
import { Proto } from './protocols.ts'

/** What a forward filter sees: `hops` = radio hops the packet travelled to reach this node. */
export interface FloodForwardCandidate {
  origin: Addr
  dst: Addr
  seq: number
  hops: number
  payload: Uint8Array
}

export interface FloodOptions {
  link: Link
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'flood' for this node. */
  metrics?: MetricsScope
  config?: FloodConfigInput
  /** Where `config` sits in the caller's configuration, for error paths; default 'flood'. */
  configPath?: string
  /** false = do not rebroadcast this packet (adversary models); delivery is unaffected. */
  forwardFilter?: (p: FloodForwardCandidate) => boolean
}

const COUNTERS = ['originated', 'forwarded', 'delivered', 'duplicates', 'ttlExpired', 'filtered', 'decodeErrors', 'forwardDrops'] as const
type CounterName = (typeof COUNTERS)[number]

export class Flood extends Emitter<NetProtocolEvents> implements NetProtocol {
  readonly name = 'flood'
  readonly address: Addr
  readonly config: FloodConfig
  private readonly port: LinkPort
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly forwardFilter: ((p: FloodForwardCandidate) => boolean) | undefined
  private readonly m: Record<CounterName, Counter>
  private readonly dedup: SeqWindows
  private readonly groups = new Set<Addr>()
  /** Rebroadcasts waiting for their jitter. */
  private readonly pending = new Set<Timer>()
  private seq: number
  private closed = false
  private readonly onReceive = (rx: LinkRx): void => this.receive(rx)

  constructor(o: FloodOptions) {
    super()
    this.config = validateFloodConfig(o.config, o.configPath)
    this.port = o.link.port(Proto.FLOOD)
    this.address = o.link.address
    this.scheduler = o.scheduler
    this.rng = o.rng
    this.forwardFilter = o.forwardFilter
    const metrics = o.metrics ?? new MetricsRegistry().scope('flood', o.link.address)
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, metrics.counter(n)])) as Record<CounterName, Counter>
    this.dedup = new SeqWindows({
      bits: 32,
      window: this.config.dedupWindow,
      maxOrigins: this.config.dedupMaxOrigins,
      resyncAfter: this.config.dedupResyncAfter,
    })
    // A random first sequence number: a restarted node does not replay numbers others remember.
    this.seq = o.rng.int(0x1_0000_0000)
    this.port.on('receive', this.onReceive)
  }

  /** Largest payload `send` accepts. */
  get maxPayload(): number {
    return this.port.maxDatagram - FLOOD_HEADER_SIZE
  }

  send(dst: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'flood is closed')
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
    if (!(dst === BROADCAST || isNodeAddr(dst) || isGroupAddr(dst))) throw new RangeError(`dst must be a node, group or BROADCAST address, got ${dst}`)
    if (dst === this.address) throw new RangeError(`cannot flood to this node's own address ${dst}`)
    if (payload.length > this.maxPayload) {
      throw new SpinmeshError(ErrorCodes.DATAGRAM_TOO_LARGE, `flood payload of ${payload.length} bytes exceeds ${this.maxPayload}`)
    }
    const seq = this.seq
    this.seq = (seq + 1) >>> 0
    this.port.send(BROADCAST, encodeFlood({ origin: this.address, dst, seq, ttl: this.config.ttl, hops: 0, payload }))
    this.m.originated.inc()
  }

  join(group: Addr): void {
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    this.groups.add(group)
  }

  leave(group: Addr): void {
    if (!isGroupAddr(group)) throw new RangeError(`not a group address: ${group}`)
    this.groups.delete(group)
  }

  /** Stop: cancel waiting rebroadcasts and detach from the link (the link itself stays open). */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const t of this.pending) t.cancel()
    this.pending.clear()
    this.port.off('receive', this.onReceive)
  }

  private receive(rx: LinkRx): void {
    const h = tryDecode(decodeFlood, rx.payload, this.m.decodeErrors)
    if (!h) return
    if (h.origin === this.address || !this.dedup.accept(h.origin, h.seq)) {
      this.m.duplicates.inc()
      return
    }
    const hops = Math.min(255, h.hops + 1)
    const { origin, dst, seq, payload } = h
    if (dst === BROADCAST || dst === this.address || this.groups.has(dst)) {
      this.m.delivered.inc()
      this.emit('deliver', { origin, dst, payload, hops, at: rx.at })
    }
    if (dst === this.address || this.closed) return
    if (h.ttl <= 1) {
      this.m.ttlExpired.inc()
      return
    }
    if (this.forwardFilter && !this.forwardFilter({ origin, dst, seq, hops, payload })) {
      this.m.filtered.inc()
      return
    }
    if (this.pending.size >= this.config.maxPendingForwards) {
      this.m.forwardDrops.inc()
      return
    }
    const bytes = encodeFlood({ origin, dst, seq, ttl: h.ttl - 1, hops, payload })
    const timer = this.scheduler.at(this.rng.float() * this.config.maxJitterMs, () => {
      this.pending.delete(timer)
      try {
        this.port.send(BROADCAST, bytes)
      } catch (e) {
        // Link closed under us, or a packet larger than this node's link carries.
        if (!(e instanceof SpinmeshError)) throw e
        this.m.forwardDrops.inc()
        return
      }
      this.m.forwarded.inc()
    })
    this.pending.add(timer)
  }
}
