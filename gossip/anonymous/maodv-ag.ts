/**
 * The `maodv+ag` stack as one configuration: MAODV (the tree), AODV (gossip's unicasts) and
 * anonymous gossip, each validated by its own defaults module under its own section:
 * `{ maodv: {...}, aodv: {...}, gossip: {...} }`. AODV defaults to `helloIntervalMs: 0` here:
 * MAODV scenarios run the link's beacons, and AODV follows their 'neighbour-down' (two neighbour
 * monitors would only add chatter, aodv-defaults.ts).
 */
import { fieldPath, checkKeys, checkObject } from '../../core/validate.ts'
import { ROUTED_HEADER_SIZE, validateAodvConfig, type AodvConfig } from '../../adhoc/aodv/index.ts'
import { MULTICAST_DATA_HEADER_SIZE, SIGNED_MULTICAST_DATA_HEADER_SIZE, validateMaodvConfig, type MaodvConfig } from '../../adhoc/maodv/index.ts'
import { validateAgConfig, type AgConfig } from './ag-defaults.ts'
import { AG_DATA_HEADER_SIZE, REPLY_BASE_SIZE, replyMessageSize } from './ag-messages.ts'

export interface MaodvAgConfig {
  maodv: MaodvConfig
  aodv: AodvConfig
  gossip: AgConfig
}

const SECTIONS = ['maodv', 'aodv', 'gossip'] as const

export function validateMaodvAgConfig(config: unknown, path: string): MaodvAgConfig {
  const obj = checkObject(path, config ?? {})
  checkKeys(path, obj, SECTIONS)
  const section = (k: (typeof SECTIONS)[number]): Record<string, unknown> => checkObject(fieldPath(path, k), obj[k] ?? {})
  return {
    maodv: validateMaodvConfig(section('maodv'), fieldPath(path, 'maodv')),
    aodv: validateAodvConfig({ helloIntervalMs: 0, ...section('aodv') }, fieldPath(path, 'aodv')),
    gossip: validateAgConfig(section('gossip'), fieldPath(path, 'gossip')),
  }
}

/**
 * Largest application payload over links carrying `maxDatagram` (AnonymousGossip.maxPayload).
 * `routedOverhead`: what a secured router adds to a routed packet besides its header (its
 * end-to-end trailer); with it, packets are signed (79-byte multicast header, signed replies).
 */
export function maodvAgMaxPayload(maxDatagram: number, routedOverhead?: number): number {
  const signed = routedOverhead !== undefined
  const tree = maxDatagram - (signed ? SIGNED_MULTICAST_DATA_HEADER_SIZE : MULTICAST_DATA_HEADER_SIZE) - AG_DATA_HEADER_SIZE
  const reply = maxDatagram - ROUTED_HEADER_SIZE - (routedOverhead ?? 0) - REPLY_BASE_SIZE - replyMessageSize(0, signed)
  return Math.min(tree, reply)
}
