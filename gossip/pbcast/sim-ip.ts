/**
 * A simulated IP network for pbcast and gravitational gossip between gateways (a LAN or WAN):
 * every member reaches every other directly, each datagram independently lost with probability
 * `loss` and delivered after a latency drawn from [minLatencyMs, maxLatencyMs] (so datagrams may
 * reorder). Members can crash (`down`): a down member neither sends nor receives. Deterministic for
 * a given Rng. No radio, no airtime: use the ad-hoc stack (aodv-datagrams.ts) for radio networks.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler } from '../../core/scheduler.ts'
import type { DatagramEvents, Datagrams } from './pbcast-types.ts'

export interface SimIpOptions {
  scheduler: Scheduler
  rng: Rng
  /** Probability that a datagram is lost, in [0, 1) (default 0); or per pair. */
  loss?: number | ((from: Addr, to: Addr) => number)
  minLatencyMs?: number
  maxLatencyMs?: number
  /** Largest payload, bytes (default 1,400: one Ethernet frame less IP/UDP headers and margin). */
  maxPayload?: number
}

/** Totals over the network (per-member load is counted by the protocols). */
export interface SimIpStats {
  sent: number
  delivered: number
  lost: number
  bytes: number
}

export class SimIpNetwork {
  readonly maxPayload: number
  readonly stats: SimIpStats = { sent: 0, delivered: 0, lost: 0, bytes: 0 }
  private readonly o: SimIpOptions
  private readonly members = new Map<Addr, SimIpEndpoint>()
  private readonly crashed = new Set<Addr>()
  private readonly minLatency: number
  private readonly spread: number

  constructor(o: SimIpOptions) {
    const min = o.minLatencyMs ?? 1, max = o.maxLatencyMs ?? min
    if (!(min >= 0) || !(max >= min) || !Number.isFinite(max)) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `SimIpNetwork: latency must satisfy 0 <= minLatencyMs <= maxLatencyMs, got ${min}..${max}`)
    }
    if (typeof o.loss === 'number' && !(o.loss >= 0 && o.loss < 1)) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `SimIpNetwork: loss must be in [0, 1), got ${o.loss}`)
    }
    this.o = o
    this.minLatency = min
    this.spread = max - min
    this.maxPayload = o.maxPayload ?? 1400
  }

  /** The endpoint of member `addr` (one per address). */
  attach(addr: Addr): Datagrams {
    if (!isNodeAddr(addr)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `SimIpNetwork: ${addr} is not a node address`)
    if (this.members.has(addr)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `SimIpNetwork: ${addr} is attached already`)
    const e = new SimIpEndpoint(this, addr)
    this.members.set(addr, e)
    return e
  }

  /** Crash (true) or restart (false) a member: while down it neither sends nor receives. */
  down(addr: Addr, isDown = true): void {
    if (isDown) this.crashed.add(addr)
    else this.crashed.delete(addr)
  }

  isDown(addr: Addr): boolean {
    return this.crashed.has(addr)
  }

  /** @internal */
  _send(from: Addr, to: Addr, payload: Uint8Array): void {
    if (this.crashed.has(from)) return
    this.stats.sent++
    this.stats.bytes += payload.length
    const loss = typeof this.o.loss === 'function' ? this.o.loss(from, to) : (this.o.loss ?? 0)
    if (loss > 0 && this.o.rng.float() < loss) {
      this.stats.lost++
      return
    }
    const copy = payload.slice() // the sender may reuse its buffer
    const latency = this.minLatency + (this.spread > 0 ? this.o.rng.float() * this.spread : 0)
    this.o.scheduler.at(latency, () => {
      const dst = this.members.get(to)
      if (dst === undefined || dst.closed || this.crashed.has(to)) {
        this.stats.lost++
        return
      }
      this.stats.delivered++
      dst.emit('receive', { from, payload: copy, at: this.o.scheduler.now() })
    })
  }
}

class SimIpEndpoint extends Emitter<DatagramEvents> implements Datagrams {
  closed = false
  constructor(private readonly net: SimIpNetwork, readonly address: Addr) {
    super()
  }

  get maxPayload(): number {
    return this.net.maxPayload
  }

  send(to: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `sim-ip endpoint ${this.address} is closed`)
    if (payload.length > this.net.maxPayload) throw new RangeError(`sim-ip: payload of ${payload.length} bytes exceeds maxPayload ${this.net.maxPayload}`)
    if (!isNodeAddr(to) || to === this.address) throw new RangeError(`sim-ip: cannot send from ${this.address} to ${to}`)
    this.net._send(this.address, to, payload)
  }

  close(): void {
    this.closed = true
    this.removeAllListeners()
  }
}
