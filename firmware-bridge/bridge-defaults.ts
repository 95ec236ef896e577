/**
 * Every timing tunable of the host side of the bridge protocol (PROTOCOL.md §5, §7), with its
 * trade-off, and the validator that fills defaults and names the field of any bad value
 * (`radio.bridge.heartbeatTimeoutMs: must be >= 2 × heartbeatIntervalMs (2000), got 1500`);
 * unknown fields are errors.
 *
 * Liveness. Each side sends a HEARTBEAT when it has sent nothing for `heartbeatIntervalMs`, and
 * declares the other side gone after `heartbeatTimeoutMs` in which it received no valid message.
 * The host tells the radio both values in HELLO, so the two sides share them (u16 ms on the wire).
 *
 * TX completion. While TX messages are outstanding, the radio must finish (TX-DONE or TX-ERROR) the
 * frame at the head of its queue within `txDoneTimeoutMs(timing, airtime, lbtMaxWaitMs)` of the
 * previous completion (or of sending the TX when none was outstanding). Past it the host reports
 * every outstanding frame dropped and asks for a STATUS: an empty radio queue means the TX were lost
 * on the serial line; anything else means a stuck transmitter, and the session is reset.
 */
import { ConfigError } from '../core/errors.ts'
import { fieldPath, validateFields, type FieldRule } from '../core/validate.ts'

export interface BridgeTiming {
  /**
   * Send a HEARTBEAT after this long without sending anything, ms. Shorter: a dead radio (or host)
   * is found sooner, at the cost of serial traffic (4 + 8 bytes per interval, plus framing) and
   * wake-ups on a battery-powered radio MCU.
   */
  heartbeatIntervalMs: number
  /**
   * Declare the other side gone after this long without a valid message, ms (at least two
   * intervals, so one lost heartbeat is not a death). Shorter: faster failover and fewer frames
   * handed to a dead radio; longer: tolerates a firmware busy for a while (flash writes, a long
   * SPI transaction) and a congested USB hub.
   */
  heartbeatTimeoutMs: number
  /**
   * How long the host waits for HELLO-ACK, CONFIG-ACK/CONFIG-ERROR and the STATUS answering a
   * STATUS-REQUEST, ms, before it tries again. Shorter: faster start-up after a radio boots;
   * longer: slow firmware (a radio that calibrates on CONFIG, a 9600-baud link) is not hurried
   * into repeated attempts.
   */
  replyTimeoutMs: number
  /**
   * The head-of-queue frame's airtime (the host's estimate from CONFIG-ACK) is multiplied by this
   * in the TX-DONE deadline: LoRa airtime rounds up to whole symbol blocks, which a linear
   * estimate misses by up to 8 symbols (262 ms at SF12/125 kHz). Larger: a slow radio is not
   * reset by mistake; smaller: a hung transmitter is found sooner.
   */
  txDoneAirtimeFactor: number
  /**
   * Fixed slack in the TX-DONE deadline, ms: serial transfer of the TX (a 255-byte payload is 266
   * bytes framed: 277 ms at 9600 baud, 23 ms at 115200), firmware scheduling, TCXO and PLL
   * start-up. Same trade-off.
   */
  txDoneMarginMs: number
  /**
   * Ask the radio for a periodic STATUS every this many seconds (0 = only on request). Shorter:
   * fresher channel load and counters on the dashboard; longer: less serial traffic (33+ bytes).
   */
  statusPeriodS: number
}

export const DEFAULT_BRIDGE_TIMING: Readonly<BridgeTiming> = Object.freeze({
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 3500,
  replyTimeoutMs: 1000,
  txDoneAirtimeFactor: 1.25,
  txDoneMarginMs: 500,
  statusPeriodS: 60,
})

export type BridgeTimingInput = Partial<BridgeTiming> | Readonly<Record<string, unknown>>

/** Both heartbeat values travel in HELLO as u16 ms. */
const U16_MS = 65_535

const RULES: Record<keyof BridgeTiming, FieldRule> = {
  heartbeatIntervalMs: { min: 10, max: U16_MS, integer: true },
  heartbeatTimeoutMs: { min: 20, max: U16_MS, integer: true },
  replyTimeoutMs: { min: 10, max: 60_000, integer: true },
  txDoneAirtimeFactor: { min: 1, max: 10 },
  txDoneMarginMs: { min: 0, max: 60_000 },
  statusPeriodS: { min: 0, max: 65_535, integer: true },
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateBridgeTiming(partial: BridgeTimingInput = {}, path = 'bridge'): BridgeTiming {
  const t = validateFields(path, partial, DEFAULT_BRIDGE_TIMING, RULES)
  if (t.heartbeatTimeoutMs < 2 * t.heartbeatIntervalMs) {
    throw new ConfigError(fieldPath(path, 'heartbeatTimeoutMs'),
      `must be >= 2 × heartbeatIntervalMs (${2 * t.heartbeatIntervalMs}), or one lost heartbeat kills the link, got ${t.heartbeatTimeoutMs}`)
  }
  if (t.replyTimeoutMs >= t.heartbeatTimeoutMs) {
    throw new ConfigError(fieldPath(path, 'replyTimeoutMs'),
      `must be < heartbeatTimeoutMs (${t.heartbeatTimeoutMs}): a reply slower than that means the radio is gone, got ${t.replyTimeoutMs}`)
  }
  return t
}

/**
 * The longest the host waits for the next TX answer, ms: `airtimeMs` (the host's estimate for the
 * longest outstanding frame: an urgent one may have gone ahead) × txDoneAirtimeFactor +
 * txDoneMarginMs + the listen-before-talk wait configured (CONFIG TLV 0x90 `lbtMaxWaitMs`, 0
 * without LBT).
 */
export function txDoneTimeoutMs(t: Pick<BridgeTiming, 'txDoneAirtimeFactor' | 'txDoneMarginMs'>, airtimeMs: number, lbtMaxWaitMs = 0): number {
  if (!(airtimeMs >= 0) || !Number.isFinite(airtimeMs)) throw new RangeError(`airtimeMs must be a finite number >= 0, got ${airtimeMs}`)
  if (!(lbtMaxWaitMs >= 0) || !Number.isFinite(lbtMaxWaitMs)) throw new RangeError(`lbtMaxWaitMs must be a finite number >= 0, got ${lbtMaxWaitMs}`)
  return airtimeMs * t.txDoneAirtimeFactor + t.txDoneMarginMs + lbtMaxWaitMs
}
