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
export { AODV_COUNTERS, AODV_SECURITY_COUNTERS, type AodvCounterName, type AodvEvents, type RouteLossReason } from './aodv-types.ts'
export {
  AODV_SIGNATURE_SIZE,
  HELLO_SIZE,
  MSG_HELLO,
  MSG_RERR,
  MSG_RREP,
  MSG_RREP_ACK,
  MSG_RREP_S,
  MSG_RREQ,
  MSG_RREQ_S,
  RERR_ENTRY_SIZE,
  RERR_HEADER_SIZE,
  RERR_MAX_ENTRIES,
  RREP_ACK_SIZE,
  RREP_SIZE,
  RREP_S_SIZE,
  RREQ_SIZE,
  RREQ_S_SIZE,
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
export {
  ROUTED_HEADER_SIZE,
  ROUTED_TRAILER_SIZE,
  decodeRouted,
  decodeSecuredRouted,
  encodeRouted,
  relayRouted,
  type RoutedPacket,
} from './routed-frame.ts'
export { RREP_DOMAIN, RREQ_DOMAIN, rrepSignedBytes, rreqSignedBytes } from './signing.ts'
export { isFresher, type RouteEntry } from './route-table.ts'
