/**
 * adhoc/: the link layer (neighbours, duplicate suppression, fragmentation, hop-by-hop
 * reliability), flooding, and the contracts routing protocols build on. Later: AODV, MAODV, ODSBR,
 * adversary behaviours.
 */
export type { Link, LinkEvents, LinkPort, LinkPortEvents, LinkRx, NeighbourInfo, SendOptions, TxFailure } from './link-types.ts'
export type { Delivery, NetProtocol, NetProtocolEvents } from './net-protocol.ts'
export { Proto, trafficClass, type TrafficClass } from './protocols.ts'

export { LinkLayer, type LinkLayerOptions } from './link.ts'
export {
  ACK_SLACK_MS,
  BEACON_FRAME_BYTES,
  DEFAULT_LINK_CONFIG,
  LORA_LINK_CONFIG,
  beaconAirtimeShare,
  resolveLinkTiming,
  validateLinkConfig,
  type LinkConfig,
  type LinkConfigInput,
  type LinkTiming,
  type RadioTimingInfo,
} from './link-defaults.ts'
export {
  ACK_SIZE,
  BEACON_SIZE,
  FRAG_HEADER_SIZE,
  LINK_VERSION,
  MAX_FRAGMENTS,
  dataHeaderSize,
  decodeBeaconBody,
  decodeFragmentHeader,
  decodeLinkFrame,
  encodeLinkFrame,
  type AckFrame,
  type BeaconFrame,
  type DataFrame,
  type FragmentHeader,
  type LinkFrame,
} from './link-frame.ts'
export { SeqWindows, type SeqWindowsOptions } from './dedup.ts'
export { NeighbourTable, type NeighbourTableOptions } from './neighbours.ts'
export { Reassembler, splitDatagram, type Reassembled, type ReassemblerOptions } from './fragment.ts'

export { Flood, type FloodForwardCandidate, type FloodOptions } from './flood.ts'
export { DEFAULT_FLOOD_CONFIG, validateFloodConfig, type FloodConfig, type FloodConfigInput } from './flood-defaults.ts'
export { FLOOD_HEADER_SIZE, decodeFlood, encodeFlood, type FloodHeader } from './flood-frame.ts'

// Routing protocols: the main classes flat; everything (codecs, message types) by namespace,
// since AODV and MAODV both have an RREQ and an RREP.
export { Aodv, validateAodvConfig, DEFAULT_AODV_CONFIG, type AodvConfig, type AodvEvents, type AodvOptions } from './aodv/index.ts'
export { Maodv, validateMaodvConfig, DEFAULT_MAODV_CONFIG, type MaodvConfig, type MaodvEvents, type MaodvOptions } from './maodv/index.ts'
export * as aodv from './aodv/index.ts'
export * as maodv from './maodv/index.ts'
