/**
 * Protocol numbers carried in every link-layer data frame (one byte), and whether a protocol's
 * frames count as control or data in overhead metrics. Numbers are part of the wire format
 * (docs/WIRE.md): never reuse one.
 */
export const Proto = {
  /** Flooding with duplicate suppression (adhoc/flood.ts). */
  FLOOD: 1,
  AODV: 2,
  /** Data routed by AODV/ODSBR hop by hop. */
  ROUTED_DATA: 3,
  MAODV: 4,
  MULTICAST_DATA: 5,
  ODSBR: 6,
  ODSBR_DATA: 7,
  GOSSIP: 8,
  PBCAST: 9,
  /** Link security handshake and certificate exchange (crypto/link-auth.ts). */
  SEC: 10,
  /** Mesh diagnostics: ping and traceroute (adhoc/diag.ts). */
  DIAG: 11,
  /** Sensor samples routed to a gateway (gateway/uplink.ts; an inner protocol of routed data). */
  SAMPLE: 12,
  /** Free for experiments and tests; never used by spinmesh itself. */
  EXPERIMENTAL: 250,
} as const

export type TrafficClass = 'control' | 'data'

const DATA_PROTOS = new Set<number>([Proto.FLOOD, Proto.ROUTED_DATA, Proto.MULTICAST_DATA, Proto.ODSBR_DATA, Proto.EXPERIMENTAL])

/** Overhead accounting: data-carrying protocols are `data`, routing/gossip/link chatter `control`. */
export function trafficClass(proto: number): TrafficClass {
  return DATA_PROTOS.has(proto) ? 'data' : 'control'
}
