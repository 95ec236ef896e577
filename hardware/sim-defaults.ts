/**
 * Every tunable of the simulated radio medium, in one place, each with its unit and trade-off
 * (DESIGN.md §9, gossipsub style). `resolveSimRadioConfig(partial)` merges a partial over a base and
 * validates the result with errors that name the field and the value.
 *
 * Two presets:
 * - `DEFAULT_SIM_RADIO`: 802.11b-like, 2 Mbit/s, 250 m unit disk with a 550 m interference and
 *   carrier-sense range (the ns-2 values used by the classic MANET papers), CSMA on.
 * - `LORA_SIM_RADIO`: LoRa SF7/125 kHz-like, ≈5.5 kbit/s, 255-byte frames, log-distance path loss
 *   with shadowing, 1 % duty cycle (EU 868 MHz), RNode-style CSMA (PROTOCOLS.md §7 `lora-field`).
 */

/** Carrier sense with binary exponential backoff (802.11 DCF style, also what RNode-class LoRa modems do). */
export interface CsmaConfig {
  /** Sense the channel before sending. Off: send as soon as the radio is free (ALOHA), more collisions. */
  enabled: boolean
  /**
   * Backoff slot, ms. As in 802.11 a slot is also the time a radio needs to notice a signal (CCA plus
   * rx/tx turnaround): a signal that started less than one slot ago is not yet sensed, so two radios
   * that sense within one slot of each other both send and collide. Smaller: fewer collisions between
   * contenders but a signal must be detectable that fast; larger: longer waits.
   */
  slotMs: number
  /** First contention window, slots (backoff is uniform in [0, window)). Small: short waits, more ties. */
  minWindow: number
  /** Largest contention window, slots; the window doubles per busy check up to this. */
  maxWindow: number
  /**
   * Busy checks per frame before it is dropped with ERR_CHANNEL_BUSY; `Infinity` (the default) never
   * drops for a busy channel, as 802.11 DCF and RNode-class modems do: the frame waits, bounded only by
   * `queueTtlMs`. A finite cap models modems that give up; it turns channel load into frame loss the
   * real radios would not have, and tells the upper layers earlier that the channel is saturated.
   */
  maxAttempts: number
}

export interface SimRadioConfig {
  /**
   * Metres. Unit disk: the hard reception range. Log-distance: the distance where the mean received
   * power equals the receiver sensitivity (50 % reception without shadowing);
   * sensitivity = txPowerDbm − pathLoss(range).
   */
  range: number
  /** On-air bits/s (after coding). Sets airtime, hence channel occupancy and the duty-cycle cost. */
  bitrate: number
  /** Largest frame, bytes. */
  mtu: number
  /** Independent per-receiver per-frame loss probability after a successful decode, 0..1. */
  loss: number
  /** Preamble and PHY header time added to every frame, ms. */
  preambleMs: number
  /** `unit-disk`: deterministic ranges. `log-distance`: path loss + log-normal shadowing + logistic reception curve. */
  propagation: 'unit-disk' | 'log-distance'
  /**
   * Unit disk only, metres: signals from within this distance interfere and are sensed by carrier
   * sense; null means `range`. Values below `range` act as `range` (whatever can be decoded also
   * interferes). Default 550 m for a 250 m range: the 2.2× that ns-2/ns-3 802.11 models use. A larger
   * value gives more hidden-terminal protection by carrier sense but fewer concurrent transmissions.
   */
  interferenceRange: number | null
  /** Transmit power, dBm. Only differences matter (to the sensitivity and the noise floor). */
  txPowerDbm: number
  /** Path loss exponent: 2 free space, 2.7–3.5 suburban/urban, 4+ indoor or ground level. */
  pathLossExponent: number
  /** Path loss at the 1 m reference distance, dB (free space: 40.0 at 2.4 GHz, 31.2 at 868 MHz). */
  referenceLossDb: number
  /** Log-normal shadowing sigma, dB, sampled per frame per receiver (log-distance only). 0 = none. */
  shadowingDb: number
  /** Noise floor, dBm (thermal noise over the channel bandwidth plus the receiver noise figure). */
  noiseFloorDbm: number
  /**
   * Width of the logistic reception curve around the sensitivity, dB (log-distance only):
   * p = 1 / (1 + exp(−(rxPower − sensitivity) / transitionDb)); from 10 % to 90 % takes 4.4 × this.
   * 0 is a hard threshold.
   */
  transitionDb: number
  /**
   * Capture, dB. null: any overlapping signal destroys the frame being received. Otherwise the frame
   * the receiver locked onto survives if its power exceeds the sum of all interferers plus noise by at
   * least this much for the whole overlap. Frames arriving while locked are always lost.
   */
  captureThresholdDb: number | null
  csma: CsmaConfig
  /** Fraction of airtime allowed in any window of `dutyCycleWindowMs` (1 = unlimited; 0.01 = 1 %, EU 868 MHz). */
  dutyCycle: number
  /** Duty-cycle window, ms (regulators use one hour). */
  dutyCycleWindowMs: number
  /** Frames waiting in the tx queue (not counting the one on air); beyond it send() emits 'dropped' ERR_QUEUE_FULL. */
  queueLimit: number
  /** A frame that has waited this long (carrier sense, duty cycle) is emitted 'dropped' ERR_EXPIRED, ms. */
  queueTtlMs: number
}

/**
 * Log-distance: a signal is sensed by carrier sense, and interferes, when its received power is at
 * least the receiver sensitivity minus this many dB. With a path loss exponent of 3 that is 2.15 ×
 * range, matching the unit-disk default of 2.2 × range. Weaker signals are ignored entirely.
 */
export const SENSE_MARGIN_DB = 10

/**
 * Log-distance: a receiver locks onto a frame (starts decoding it) only when the frame's decode
 * probability is at least this. Weaker frames are treated as interference and do not block a later,
 * stronger frame.
 */
export const DECODE_FLOOR = 0.01

/**
 * Log-distance: shadowing is truncated at this many sigmas when the medium decides which receivers a
 * transmission can reach at all (a 3σ excursion has probability 0.13 %). Only affects the scan range.
 */
export const SHADOWING_CUTOFF_SIGMAS = 3

/** Speed of light, metres per millisecond (propagation delay = d / c). */
export const SPEED_OF_LIGHT_M_PER_MS = 299_792.458

export const DEFAULT_CSMA: CsmaConfig = Object.freeze({
  enabled: true,
  slotMs: 0.02, // 802.11b DSSS slot, 20 µs
  minWindow: 32, // 802.11b CWmin 31 → window of 32 slots
  maxWindow: 1024, // CWmax 1023
  maxAttempts: Infinity, // DCF defers as long as it takes; queueTtlMs bounds the wait
})

/** 802.11b-like, the MANET scenarios' radio (PROTOCOLS.md §7 `manet-*`). */
export const DEFAULT_SIM_RADIO: SimRadioConfig = Object.freeze({
  range: 250,
  bitrate: 2_000_000,
  mtu: 1500,
  loss: 0,
  preambleMs: 0.192, // long PLCP preamble + header, 192 µs
  propagation: 'unit-disk',
  interferenceRange: 550, // ns-2: 250 m rx range, 550 m carrier-sense range
  txPowerDbm: 20,
  pathLossExponent: 3,
  referenceLossDb: 40.05, // free space at 1 m, 2.4 GHz
  shadowingDb: 4,
  noiseFloorDbm: -94, // −174 dBm/Hz + 10·log10(22 MHz) + 6.6 dB noise figure
  transitionDb: 1,
  captureThresholdDb: 10, // ns-2 CPThresh
  csma: DEFAULT_CSMA,
  dutyCycle: 1,
  dutyCycleWindowMs: 3_600_000,
  queueLimit: 50, // ns-2 interface queue length
  queueTtlMs: 10_000,
}) as SimRadioConfig

/**
 * LoRa-like (SF7, 125 kHz, CR 4/5): 5.47 kbit/s, 255-byte frames, 12.25-symbol preamble, 14 dBm,
 * sensitivity ≈ −123 dBm at 2 km with exponent 3.2, noise floor −117 dBm, 1 % duty cycle (PROTOCOLS.md
 * §7 `lora-field`). Apply over the default: `{ ...DEFAULT_SIM_RADIO, ...LORA_SIM_RADIO }` or pass it as
 * the medium's `radio`.
 */
export const LORA_SIM_RADIO: Partial<SimRadioConfig> = Object.freeze({
  range: 2000,
  bitrate: 5470,
  mtu: 255,
  preambleMs: 12.544, // (8 + 4.25) symbols × 1.024 ms
  propagation: 'log-distance',
  interferenceRange: null,
  txPowerDbm: 14, // EU 868 MHz ERP limit
  pathLossExponent: 3.2,
  referenceLossDb: 31.2, // free space at 1 m, 868 MHz
  shadowingDb: 4,
  noiseFloorDbm: -117, // −174 + 10·log10(125 kHz) + 6 dB
  transitionDb: 1,
  captureThresholdDb: 6, // LoRa co-spreading-factor capture
  csma: Object.freeze({ enabled: true, slotMs: 5, minWindow: 32, maxWindow: 1024, maxAttempts: Infinity }),
  dutyCycle: 0.01,
  dutyCycleWindowMs: 3_600_000,
  queueLimit: 32,
  queueTtlMs: 300_000,
}) as Partial<SimRadioConfig>

const FIELDS = Object.keys(DEFAULT_SIM_RADIO) as Array<keyof SimRadioConfig>
const CSMA_FIELDS = Object.keys(DEFAULT_CSMA) as Array<keyof CsmaConfig>

/**
 * Merge `partial` over `base` (csma merged field by field) and validate. Unknown fields are refused,
 * so a typo in a scenario file does not silently fall back to a default.
 */
export function resolveSimRadioConfig(
  partial?: Partial<SimRadioConfig>,
  base: SimRadioConfig = DEFAULT_SIM_RADIO,
  path = 'radio',
): SimRadioConfig {
  if (partial === undefined) return validateSimRadioConfig({ ...base, csma: { ...base.csma } }, path)
  if (partial === null || typeof partial !== 'object') throw new TypeError(`${path} must be an object, got ${String(partial)}`)
  for (const k of Object.keys(partial)) {
    if (!(FIELDS as string[]).includes(k)) throw new TypeError(`${path}.${k} is not a radio setting (known: ${FIELDS.join(', ')})`)
  }
  const csmaPart = partial.csma as Partial<CsmaConfig> | undefined
  if (csmaPart !== undefined) {
    if (csmaPart === null || typeof csmaPart !== 'object') throw new TypeError(`${path}.csma must be an object, got ${String(csmaPart)}`)
    for (const k of Object.keys(csmaPart)) {
      if (!(CSMA_FIELDS as string[]).includes(k)) throw new TypeError(`${path}.csma.${k} is not a csma setting (known: ${CSMA_FIELDS.join(', ')})`)
    }
  }
  const merged: SimRadioConfig = { ...base }
  for (const k of FIELDS) if (partial[k] !== undefined) (merged as unknown as Record<string, unknown>)[k] = partial[k]
  merged.csma = { ...base.csma }
  if (csmaPart) for (const k of CSMA_FIELDS) if (csmaPart[k] !== undefined) (merged.csma as unknown as Record<string, unknown>)[k] = csmaPart[k]
  return validateSimRadioConfig(merged, path)
}

function num(path: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${path} must be a number, got ${describe(v)}`)
  return v
}
function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}
function finite(path: string, v: unknown): number {
  const n = num(path, v)
  if (!Number.isFinite(n)) throw new RangeError(`${path} must be finite, got ${n}`)
  return n
}
function positive(path: string, v: unknown, allowInfinity = false): number {
  const n = num(path, v)
  if (!(n > 0)) throw new RangeError(`${path} must be > 0, got ${n}`)
  if (!allowInfinity && n === Infinity) throw new RangeError(`${path} must be finite, got ${n}`)
  return n
}
function nonNegative(path: string, v: unknown): number {
  const n = finite(path, v)
  if (n < 0) throw new RangeError(`${path} must be >= 0, got ${n}`)
  return n
}
function integer(path: string, v: unknown, min: number): number {
  const n = num(path, v)
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${path} must be an integer >= ${min}, got ${n}`)
  return n
}

/** Throws TypeError/RangeError naming the first bad field; returns `c` unchanged. */
export function validateSimRadioConfig(c: SimRadioConfig, path = 'radio'): SimRadioConfig {
  positive(`${path}.range`, c.range)
  positive(`${path}.bitrate`, c.bitrate)
  integer(`${path}.mtu`, c.mtu, 1)
  const loss = finite(`${path}.loss`, c.loss)
  if (loss < 0 || loss > 1) throw new RangeError(`${path}.loss must be in [0, 1], got ${loss}`)
  nonNegative(`${path}.preambleMs`, c.preambleMs)
  if (c.propagation !== 'unit-disk' && c.propagation !== 'log-distance') {
    throw new RangeError(`${path}.propagation must be 'unit-disk' or 'log-distance', got ${describe(c.propagation)}`)
  }
  if (c.interferenceRange !== null) positive(`${path}.interferenceRange`, c.interferenceRange)
  finite(`${path}.txPowerDbm`, c.txPowerDbm)
  positive(`${path}.pathLossExponent`, c.pathLossExponent)
  finite(`${path}.referenceLossDb`, c.referenceLossDb)
  nonNegative(`${path}.shadowingDb`, c.shadowingDb)
  finite(`${path}.noiseFloorDbm`, c.noiseFloorDbm)
  nonNegative(`${path}.transitionDb`, c.transitionDb)
  if (c.captureThresholdDb !== null) finite(`${path}.captureThresholdDb`, c.captureThresholdDb)
  const cs = c.csma
  if (cs === null || typeof cs !== 'object') throw new TypeError(`${path}.csma must be an object, got ${String(cs)}`)
  if (typeof cs.enabled !== 'boolean') throw new TypeError(`${path}.csma.enabled must be a boolean, got ${describe(cs.enabled)}`)
  positive(`${path}.csma.slotMs`, cs.slotMs)
  integer(`${path}.csma.minWindow`, cs.minWindow, 1)
  integer(`${path}.csma.maxWindow`, cs.maxWindow, 1)
  if (cs.maxWindow < cs.minWindow) {
    throw new RangeError(`${path}.csma.maxWindow must be >= csma.minWindow (${cs.minWindow}), got ${cs.maxWindow}`)
  }
  if (cs.maxAttempts !== Infinity) integer(`${path}.csma.maxAttempts`, cs.maxAttempts, 1)
  const dc = finite(`${path}.dutyCycle`, c.dutyCycle)
  if (!(dc > 0) || dc > 1) throw new RangeError(`${path}.dutyCycle must be in (0, 1], got ${dc}`)
  positive(`${path}.dutyCycleWindowMs`, c.dutyCycleWindowMs)
  integer(`${path}.queueLimit`, c.queueLimit, 1)
  positive(`${path}.queueTtlMs`, c.queueTtlMs, true)
  return c
}
