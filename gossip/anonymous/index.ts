/**
 * gossip/anonymous: anonymous gossip over MAODV (anonymous-gossip.ts explains the protocol; every
 * tunable in ag-defaults.ts; wire formats in docs/WIRE.md §12).
 */
export { AnonymousGossip, type AnonymousGossipOptions, type GossipRouter, type MulticastTree } from './anonymous-gossip.ts'
export { DEFAULT_AG_CONFIG, validateAgConfig, type AgConfig, type AgConfigInput } from './ag-defaults.ts'
export { COUNTERS as AG_COUNTERS, type AgCounterName, type AgEvents, type HistoryEvent } from './ag-types.ts'
export {
  AG_DATA_HEADER_SIZE, AgMsgType, decodeAg, encodeAgData, encodeGossip, encodeReply,
  type AgData, type AgMessage, type Gossip, type GossipReply, type GossipSource, type ReplyMessage,
} from './ag-messages.ts'
export { maodvAgMaxPayload, validateMaodvAgConfig, type MaodvAgConfig } from './maodv-ag.ts'
