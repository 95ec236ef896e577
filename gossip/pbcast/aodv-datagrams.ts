/**
 * pbcast's unicast service in an ad-hoc radio network: datagrams are AODV routed packets of inner
 * protocol Proto.PBCAST (adhoc/protocols.ts), so a member reaches any other over as many hops as
 * routing finds. Routes are discovered on demand; a datagram to an unreachable member waits in
 * AODV's bounded buffer and is dropped (counted by AODV, 'unreachable' emitted by the router) when
 * the discovery fails: the Datagrams contract is best effort, `send` never throws for that.
 *
 * The router is shared (anonymous gossip, ODSBR's baseline and plain data use the same one), so
 * this class only adds and removes its own 'routed' listener; closing it never closes the router.
 * `maxPayload` comes from the caller, who knows the link MTU and what else it sends: the largest
 * pbcast datagram that fits one routed packet (at most the router's own `maxPayload` when the
 * router exposes one, as Aodv does).
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import { Proto } from '../../adhoc/protocols.ts'
import type { RoutedMessage, UnicastRouter } from '../../adhoc/routing.ts'
import type { DatagramEvents, Datagrams } from './pbcast-types.ts'

export interface AodvDatagramsOptions {
  /** The node's unicast router (Aodv). Its optional `maxPayload` bounds ours. */
  router: UnicastRouter & { readonly maxPayload?: number }
  /** Largest payload `send` accepts, bytes (a positive integer, ≤ router.maxPayload when known). */
  maxPayload: number
  /** This endpoint owns the router: `close()` closes it too (default false: the router is shared). */
  ownsRouter?: boolean
}

/** Counters of this endpoint (AODV counts routing, forwarding and losses itself). */
export interface AodvDatagramsStats {
  /** Datagrams handed to the router. */
  sent: number
  /** PBCAST routed payloads delivered as 'receive'. */
  received: number
}

export class AodvDatagrams extends Emitter<DatagramEvents> implements Datagrams {
  readonly address: Addr
  readonly maxPayload: number
  readonly stats: AodvDatagramsStats = { sent: 0, received: 0 }
  private readonly router: UnicastRouter & { close?(): void }
  private readonly ownsRouter: boolean
  private closed = false
  private readonly onRouted = (m: RoutedMessage): void => {
    if (m.proto !== Proto.PBCAST) return
    this.stats.received++
    this.emit('receive', { from: m.origin, payload: m.payload, at: m.at })
  }

  constructor(o: AodvDatagramsOptions) {
    super()
    if (!Number.isInteger(o.maxPayload) || o.maxPayload < 1) {
      throw new RangeError(`aodv-datagrams: maxPayload must be a positive integer, got ${o.maxPayload}`)
    }
    const routerMax = o.router.maxPayload
    if (routerMax !== undefined && o.maxPayload > routerMax) {
      throw new RangeError(`aodv-datagrams: maxPayload ${o.maxPayload} exceeds what one routed packet carries (${routerMax} bytes)`)
    }
    this.router = o.router
    this.ownsRouter = o.ownsRouter ?? false
    this.address = o.router.address
    this.maxPayload = o.maxPayload
    this.router.on('routed', this.onRouted)
  }

  /**
   * Route `payload` to member `to`. Throws RangeError for a payload above `maxPayload` or a
   * destination that is not another node, SpinmeshError CLOSED after `close()` (and whatever the
   * router throws when it is closed itself); an unreachable member is a lost datagram.
   */
  send(to: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `aodv-datagrams endpoint ${this.address} is closed`)
    if (!(payload instanceof Uint8Array)) throw new TypeError('aodv-datagrams: payload must be a Uint8Array')
    if (payload.length > this.maxPayload) throw new RangeError(`aodv-datagrams: payload of ${payload.length} bytes exceeds maxPayload ${this.maxPayload}`)
    if (!isNodeAddr(to) || to === this.address) throw new RangeError(`aodv-datagrams: cannot send from ${this.address} to ${to}`)
    this.router.sendRouted(to, Proto.PBCAST, payload)
    this.stats.sent++
  }

  /** Stop receiving (removes the router listener and ours); idempotent; the router stays open. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.router.off('routed', this.onRouted)
    this.removeAllListeners()
    if (this.ownsRouter) this.router.close?.()
  }
}
