/**
 * Every tunable of the serial framers (FRAMING.md) in one place, with its trade-off, and the
 * validators that fill defaults and name the field of any bad value (`framer.maxFrame: must be
 * >= 1, got 0`); unknown fields are errors.
 *
 * Also the ranges of the RNode radio parameters sent by `rnodeConfigFrames` (kiss-framer.ts):
 * they have no defaults (the frequency and power are the operator's, by region and licence), so
 * every field is required.
 */
import { ConfigError } from '../core/errors.ts'
import { checkKeys, checkNumber, checkObject, fieldPath, validateFields, type FieldRule, type NumberRule } from '../core/validate.ts'

export interface FramerConfig {
  /**
   * The largest payload a frame may carry, bytes. Each framer preallocates one buffer of this size
   * plus its overhead (4 bytes for COBS+CRC); a longer frame is dropped as `too-long`. Larger:
   * bigger bridge messages (firmware images, bulk status) fit in one frame; smaller: less memory
   * per port and a noisy line costs less before the framer gives a frame up. Both ends must agree;
   * a LoRa frame (≤ 255 bytes) plus bridge headers fits the default with room to spare.
   */
  maxFrame: number
}

export interface KissFramerConfig extends FramerConfig {
  /** KISS port (high nibble of the command byte) that `encode` addresses data frames to, 0–15; RNode and single-port TNCs use 0. */
  port: number
}

/** Hard ceiling of `maxFrame` (1 MiB): the buffer is allocated up front, per serial port. */
export const MAX_FRAME_CEILING = 1 << 20

export const DEFAULT_FRAMER_CONFIG: Readonly<FramerConfig> = Object.freeze({ maxFrame: 4096 })

export const DEFAULT_KISS_FRAMER_CONFIG: Readonly<KissFramerConfig> = Object.freeze({ ...DEFAULT_FRAMER_CONFIG, port: 0 })

const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })

const FRAMER_RULES: Record<keyof FramerConfig, FieldRule> = { maxFrame: int(1, MAX_FRAME_CEILING) }
const KISS_RULES: Record<keyof KissFramerConfig, FieldRule> = { ...FRAMER_RULES, port: int(0, 15) }

export type FramerConfigInput = Partial<FramerConfig> | Readonly<Record<string, unknown>>
export type KissFramerConfigInput = Partial<KissFramerConfig> | Readonly<Record<string, unknown>>

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateFramerConfig(partial: FramerConfigInput = {}, path = 'framer'): FramerConfig {
  return validateFields(path, partial, DEFAULT_FRAMER_CONFIG, FRAMER_RULES)
}

/** As validateFramerConfig, plus the KISS port. */
export function validateKissFramerConfig(partial: KissFramerConfigInput = {}, path = 'framer'): KissFramerConfig {
  return validateFields(path, partial, DEFAULT_KISS_FRAMER_CONFIG, KISS_RULES)
}

/** The LoRa parameters an RNode is configured with over KISS (FRAMING.md, "RNode"). */
export interface RnodeRadioConfig {
  /** Centre frequency, Hz (u32 on the wire; 0 would be a query, so it is refused). */
  frequencyHz: number
  /** LoRa bandwidth, Hz (7,800 … 500,000 on sub-GHz modems; up to 1,625,000 on SX1280). */
  bandwidthHz: number
  /** TX power, dBm. The firmware clamps it to its modem's maximum and echoes what it applied. */
  txPowerDbm: number
  /** LoRa spreading factor (5–12; SX127x modems take 6–12). */
  spreadingFactor: number
  /** LoRa coding rate denominator: 5 … 8 for 4/5 … 4/8. */
  codingRate: number
}

/**
 * Accepted ranges. Frequency: 137 MHz (Reticulum's lower limit) to 3 GHz (SX1280 modems work at
 * 2.4 GHz); the modem in hand covers less, and the echo tells. TX power: 0–30 dBm, the largest
 * PA fitted to LoRa modules (the value 0xFF would mean "query" on the wire).
 */
export const RNODE_RANGES: Readonly<Record<keyof RnodeRadioConfig, NumberRule>> = Object.freeze({
  frequencyHz: int(137_000_000, 3_000_000_000),
  bandwidthHz: int(7_800, 1_625_000),
  txPowerDbm: int(0, 30),
  spreadingFactor: int(5, 12),
  codingRate: int(5, 8),
})

/** Every field required and checked; unknown fields refused. ConfigError with `path` = `${path}.field`. */
export function validateRnodeRadioConfig(input: unknown, path = 'rnode'): RnodeRadioConfig {
  const obj = checkObject(path, input)
  const fields = Object.keys(RNODE_RANGES) as Array<keyof RnodeRadioConfig>
  checkKeys(path, obj, fields)
  const out = {} as RnodeRadioConfig
  for (const f of fields) {
    if (obj[f] === undefined) throw new ConfigError(fieldPath(path, f), 'is required')
    out[f] = checkNumber(fieldPath(path, f), obj[f], RNODE_RANGES[f])
  }
  return out
}
