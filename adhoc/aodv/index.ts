/**
 * adhoc/aodv: AODV (RFC 3561) unicast routing as a sans-IO core. Wire formats in
 * docs/wire-aodv.md, tunables in aodv-defaults.ts, counters in aodv-types.ts.
 */
export { Aodv, type AodvForwardCandidate, type AodvOptions } from './aodv.ts'
export {
  DEFAULT_AODV_CONFIG,
  aodvTiming,
  validateAodvConfig,
  type AodvConfig,
  type AodvConfigInput,
  type AodvTiming,
} from './aodv-defaults.ts'
export { AODV_COUNTERS, type AodvCounterName, type AodvEvents, type RouteLossReason } from './aodv-types.ts'
export {
  HELLO_SIZE,
  MSG_HELLO,
  MSG_RERR,
  MSG_RREP,
  MSG_RREP_ACK,
  MSG_RREQ,
  RERR_ENTRY_SIZE,
  RERR_HEADER_SIZE,
  RERR_MAX_ENTRIES,
  RREP_ACK_SIZE,
  RREP_SIZE,
  RREQ_SIZE,
  decodeAodv,
  encodeHello,
  encodeRerr,
  encodeRrep,
  encodeRrepAck,
  encodeRreq,
  type AodvMessage,
  type Hello,
  type Rerr,
  type RerrEntry,
  type Rrep,
  type RrepAck,
  type Rreq,
} from './aodv-messages.ts'
export { ROUTED_HEADER_SIZE, decodeRouted, encodeRouted, relayRouted, type RoutedPacket } from './routed-frame.ts'
export { isFresher, type RouteEntry } from './route-table.ts'
