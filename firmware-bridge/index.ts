// Public API of firmware-bridge/ (see README.md).
export { CobsFramer, encodeCobsFrame } from './cobs-framer.ts'
export { KissFramer, kissEncode, rnodeConfigFrames, decodeRnodeReply } from './kiss-framer.ts'
export { crc32 } from './crc32.ts'
export type { Framer, FrameEvent, FramerStats } from './framer-types.ts'
export { encodeBridge, decodeBridge, decodeRadioMessage, decodeHostMessage } from './bridge-messages.ts'
export { validateBridgeTiming } from './bridge-defaults.ts'
