/**
 * adhoc/maodv: MAODV multicast trees as a sans-IO protocol core (maodv.ts explains the parts).
 * Wire formats in docs/WIRE.md §10–11.
 */
export { Maodv, type MaodvOptions } from './maodv.ts'
export { COUNTERS as MAODV_COUNTERS, type MaodvEvents, type MaodvForwardCandidate, type MulticastDelivery } from './context.ts'
export {
  DEFAULT_MAODV_CONFIG,
  discoveryAttempts,
  netTraversalMs,
  ringTraversalMs,
  validateMaodvConfig,
  type Attempt,
  type MaodvConfig,
  type MaodvConfigInput,
} from './maodv-defaults.ts'
export {
  GRPH_SIZE,
  HELLO_BASE_SIZE,
  HELLO_ENTRY_SIZE,
  MACT_G,
  MACT_J,
  MACT_P,
  MACT_R,
  MACT_SIZE,
  MACT_U,
  MAX_HELLO_NEIGHBOURS,
  MsgType as MaodvMsgType,
  RREP_SIZE,
  RREQ_SIZE,
  UNKNOWN_DISTANCE,
  decodeMaodv,
  encodeGrph,
  encodeHello,
  encodeMact,
  encodeRrep,
  encodeRreq,
  type Grph,
  type Hello,
  type Mact,
  type MaodvMessage,
  type Rrep,
  type Rreq,
} from './maodv-messages.ts'
export {
  SIGNED_DATA_HEADER_SIZE as SIGNED_MULTICAST_DATA_HEADER_SIZE,
  dataSignedBytes as multicastSignedBytes,
  decodeSignedData as decodeSignedMulticastData,
} from './data-frame.ts'
export {
  DIGEST_HASH_BYTES, decodeDigestBody, digestSignedBytes as multicastDigestSignedBytes, encodeDigestBody, packetHash as multicastPacketHash,
  sameHash as sameDigestHash, type DigestEntry, type SignedDigest,
} from './batch-frame.ts'
export type { BatchVerifier } from './batch.ts'
export { DATA_HEADER_SIZE as MULTICAST_DATA_HEADER_SIZE, decodeData as decodeMulticastData, encodeData as encodeMulticastData, type DataHeader as MulticastDataHeader } from './data-frame.ts'
export { GRPH_S_SIZE, RREP_S_SIZE, RREQ_S_SIZE, SignedType as MaodvSignedType } from './maodv-messages.ts'
export { CONTROL_SECURITY_COUNTERS as MAODV_CONTROL_SECURITY_COUNTERS, grphSignedBytes, rrepSignedBytes, rreqSignedBytes } from './control-signing.ts'
export type { TreeInfo, TreeLink } from '../routing.ts'
