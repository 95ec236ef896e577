/**
 * What routing protocols expose beyond NetProtocol, for the layers built on them: anonymous gossip
 * replies by AODV unicast, ODSBR's AODV baseline, the dashboard's route and tree tables.
 */
import type { EventEmitter } from 'eventemitter3'
import type { Addr } from '../core/addr.ts'

/** One unicast route as a routing table holds it. */
export interface RouteInfo {
  dst: Addr
  nextHop: Addr
  hops: number
  /** Destination sequence number (undefined when not known). */
  seq?: number
  valid: boolean
  /** Scheduler time at which the route expires. */
  expiresAt: number
}

export interface RoutedMessage {
  origin: Addr
  /** Inner protocol number (adhoc/protocols.ts) the payload is for. */
  proto: number
  payload: Uint8Array
  hops: number
  at: number
}

export interface UnicastRouterEvents {
  /** A routed payload of another protocol reached this node. */
  routed: (m: RoutedMessage) => void
}

/** Unicast to any node, for other protocols: routes are discovered on demand. */
export interface UnicastRouter extends EventEmitter<UnicastRouterEvents> {
  readonly address: Addr
  /** Route `payload` for protocol `proto` to `dst`, discovering a route if needed. */
  sendRouted(dst: Addr, proto: number, payload: Uint8Array): void
  route(dst: Addr): RouteInfo | undefined
  routes(): RouteInfo[]
}

/** A multicast tree link as MAODV holds it (for gossip's locality weighting and the dashboard). */
export interface TreeLink {
  neighbour: Addr
  /** Upstream: towards the group leader. */
  upstream: boolean
  activated: boolean
  /** Scheduler time this neighbour was last heard. */
  lastHeard: number
  /** The neighbour said it is a group member (false until heard). */
  member: boolean
  /**
   * Tree hops to the nearest group member through this link (1: the neighbour is one), kept from
   * the neighbour's tree hellos; 255 while unknown. Anonymous gossip weights its walks with it.
   */
  nearestMember: number
}

export interface TreeInfo {
  group: Addr
  leader: Addr
  groupSeq: number
  hopsToLeader: number
  member: boolean
  links: TreeLink[]
}
