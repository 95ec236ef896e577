/**
 * Errors with stable machine-readable `code`s. Callers branch on `code`, never on `message`.
 * Codes are part of the public API: add new ones, do not rename existing ones.
 */

export const ErrorCodes = {
  /** A decoder met bytes it cannot parse (truncated, bad version, out-of-range field). */
  DECODE: 'ERR_DECODE',
  /** A configuration or scenario value is invalid; `path` names the field. */
  CONFIG: 'ERR_CONFIG',
  /** An argument at an API boundary is invalid. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** A frame is larger than the radio's MTU. */
  FRAME_TOO_LARGE: 'ERR_FRAME_TOO_LARGE',
  /** The radio (or other resource) is closed. */
  CLOSED: 'ERR_CLOSED',
  /** A bounded queue is full and the item was refused. */
  QUEUE_FULL: 'ERR_QUEUE_FULL',
  /** A queued item outlived its time to live. */
  EXPIRED: 'ERR_EXPIRED',
  /** The duty-cycle budget cannot fit the frame within its queue limits. */
  DUTY_CYCLE: 'ERR_DUTY_CYCLE',
  /** Carrier sense found the channel busy for every allowed attempt. */
  CHANNEL_BUSY: 'ERR_CHANNEL_BUSY',
  /** A unicast frame was not acknowledged after every retry. */
  NO_ACK: 'ERR_NO_ACK',
  /** A datagram is larger than fragmentation can carry. */
  DATAGRAM_TOO_LARGE: 'ERR_DATAGRAM_TOO_LARGE',
  /** A feature was asked for that this build does not have (names what is missing). */
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  /** A key or identity file is malformed, or stored where others can read it. */
  BAD_KEY: 'ERR_BAD_KEY',
  /** A certificate or revocation list is malformed, forged, expired, revoked or of another network. */
  BAD_CERT: 'ERR_BAD_CERT',
  /** No security association with that neighbour (yet): the frame could not be authenticated. */
  NO_KEY: 'ERR_NO_KEY',
  /** A device or socket failed (serial port unplugged, write error); the driver recovers on its own. */
  IO: 'ERR_IO',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export class SpinmeshError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'SpinmeshError'
  }
}

/** Thrown by every decoder, and only this, on bad input. `offset` is where parsing stopped. */
export class DecodeError extends SpinmeshError {
  readonly offset: number
  constructor(message: string, offset = 0) {
    super(ErrorCodes.DECODE, message)
    this.name = 'DecodeError'
    this.offset = offset
  }
}

/** A configuration error; `path` is the dotted field path (e.g. `radio.range`). */
export class ConfigError extends SpinmeshError {
  readonly path: string
  constructor(path: string, message: string) {
    super(ErrorCodes.CONFIG, path ? `${path}: ${message}` : message)
    this.name = 'ConfigError'
    this.path = path
  }
}

export function isSpinmeshError(e: unknown): e is SpinmeshError {
  return e instanceof SpinmeshError
}

/**
 * Run a total decoder on untrusted bytes: a `DecodeError` gives `undefined` after being counted
 * (`onError` is a counter with `inc()`, or a callback); any other exception is a bug and propagates.
 */
export function tryDecode<T>(
  decode: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
  onError?: { inc(): void } | ((e: DecodeError) => void),
): T | undefined {
  try {
    return decode(bytes)
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e
    if (typeof onError === 'function') onError(e)
    else onError?.inc()
    return undefined
  }
}
