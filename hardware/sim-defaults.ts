/**
 * Every tunable of the simulated radio medium, in one place, each with its unit and trade-off
 * (DESIGN.md §9, gossipsub style). `resolveSimRadioConfig(partial)` merges a partial over a base and
 * validates the result; every bad value is a `ConfigError` whose `path` names the field
 * (`radio.csma.slotMs`). The bounds live in `SIM_RADIO_LIMITS`, each with its reason; this module is
 * the single source of truth for radio settings (scenario files pass their radio fields straight here).
 *
 * Two presets:
 * - `DEFAULT_SIM_RADIO`: 802.11b-like, 2 Mbit/s, 250 m unit disk with a 550 m interference and
 *   carrier-sense range (the ns-2 values used by the classic MANET papers), CSMA on.
 * - `LORA_SIM_RADIO`: LoRa SF7/125 kHz-like, ≈5.5 kbit/s, 255-byte frames, log-distance path loss
 *   with shadowing, 1 % duty cycle (EU 868 MHz), RNode-style CSMA (PROTOCOLS.md §7 `lora-field`).
 */

import { ConfigError } from '../core/errors.ts'
import { checkBoolean, checkKeys, checkNumber, checkObject, checkOneOf, type NumberRule } from '../core/validate.ts'

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
  /**
   * Log-normal shadowing sigma, dB (log-distance only; 0 = none). Shadowing is a property of a link,
   * not of a frame: one value per node pair, the same in both directions, fixed while the two nodes
   * stand still and decorrelating as they move (see `shadowingCorrelationM`). Per-frame randomness
   * comes from the reception curve (`transitionDb`). Larger: more links much better or worse than
   * their distance suggests, so topologies are less regular.
   */
  shadowingDb: number
  /**
   * Shadowing decorrelation distance, metres (Gudmundson's model): after the two ends of a link have
   * moved a total of Δ metres, its shadowing keeps correlation exp(−Δ / this) with the old value.
   * Small: a moving node's links change quality within a few metres (dense clutter); large: links keep
   * their quality over long moves (open terrain). Infinity freezes each link's shadowing for good.
   * 3GPP TR 38.901 (Table 7.5-6) uses 10–13 m for street-level urban micro-cells, 37–50 m urban
   * macro, 37–120 m rural.
   */
  shadowingCorrelationM: number
  /** Noise floor, dBm (thermal noise over the channel bandwidth plus the receiver noise figure). */
  noiseFloorDbm: number
  /**
   * Width of the logistic reception curve around the sensitivity, dB (log-distance only):
   * p = 1 / (1 + exp(−(rxPower − sensitivity) / transitionDb)); from 10 % to 90 % takes 4.4 × this.
   * 0 is a hard threshold.
   */
  transitionDb: number
  /**
   * Capture, dB (≥ 0), or null: any overlapping signal destroys the frame being received. Otherwise the
   * frame the receiver locked onto survives an overlap iff, at every moment of it, (1) its power exceeds
   * the sum of the interferers (noise not included, as ns-2's CPThresh and LoRa co-SF capture) by at
   * least this much, and (2) interference plus noise still leaves it decodable: unit disk, its SINR is
   * at least the SNR a frame has at the edge of the range (sensitivity − noise floor); log-distance,
   * the decode draw at the end uses the SINR instead of the SNR (power lowered by the noise rise
   * 10·log10(1 + I/N)). Frames arriving while locked are always lost.
   */
  captureThresholdDb: number | null
  csma: CsmaConfig
  /** Fraction of airtime allowed in any window of `dutyCycleWindowMs` (1 = unlimited; 0.01 = 1 %, EU 868 MHz). */
  dutyCycle: number
  /** Duty-cycle window, ms (regulators use one hour). */
  dutyCycleWindowMs: number
  /**
   * Frames waiting in the tx queue (not counting the one on air), urgent ones included; a frame sent to
   * a full queue is reported 'dropped' ERR_QUEUE_FULL (from a later event, never inside send()).
   */
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
  shadowingCorrelationM: 20, // street-level outdoor MANET: between 3GPP UMi (10–13 m) and UMa (37–50 m)
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
  shadowingCorrelationM: 50, // nodes over km of suburban/rural ground: 3GPP UMa NLOS 50 m (RMa 37–120 m)
  noiseFloorDbm: -117, // −174 + 10·log10(125 kHz) + 6 dB
  transitionDb: 1,
  captureThresholdDb: 6, // LoRa co-spreading-factor capture
  csma: Object.freeze({ enabled: true, slotMs: 5, minWindow: 32, maxWindow: 1024, maxAttempts: Infinity }),
  dutyCycle: 0.01,
  dutyCycleWindowMs: 3_600_000,
  queueLimit: 32,
  queueTtlMs: 300_000,
}) as Partial<SimRadioConfig>

/**
 * The accepted range of every numeric setting, and why. Bounds are physical plausibility plus what
 * keeps the simulation well-defined: a value outside them is a unit mistake or would stall virtual
 * time (a 1e-300 ms backoff slot never advances the clock), so it is refused rather than simulated.
 */
export const SIM_RADIO_LIMITS = Object.freeze({
  /** At least the 1 m path-loss reference distance (below it log-distance power is flat); 1000 km is beyond any horizon. */
  range: { min: 1, max: 1e6 },
  /** 1 bit/s up to 1 Gbit/s: a 1-byte frame then still lasts 8 ns, above the medium's 1 ns time resolution. */
  bitrate: { min: 1, max: 1e9 },
  /** Room for a link header (16 bytes) up to a 64 KiB frame. */
  mtu: { min: 16, max: 65_535, integer: true },
  loss: { min: 0, max: 1 },
  /** Up to 10 s (LoRa SF12 with a long wake-up preamble is 1–2 s). */
  preambleMs: { min: 0, max: 10_000 },
  /** Positive, at most 1000 km. Values below `range` act as `range`. */
  interferenceRange: { gt: 0, max: 1e6 },
  /** −50..+60 dBm (10 nW .. 1 kW): anything else is almost surely mW or W given as dBm. */
  txPowerDbm: { min: -50, max: 60 },
  /** 1 (waveguide-like corridors) to 8 (deep indoor, ground level); free space is 2. */
  pathLossExponent: { min: 1, max: 8 },
  /** 0..120 dB at 1 m (free space: 12 dB at 100 MHz, 68 dB at 60 GHz). */
  referenceLossDb: { min: 0, max: 120 },
  /** 0..20 dB (measured sigmas are 2–12 dB). */
  shadowingDb: { min: 0, max: 20 },
  /** 0.1 m (anything shorter is fast fading, not shadowing) to Infinity (frozen link shadowing). */
  shadowingCorrelationM: { min: 0.1, allowInfinity: true },
  /** −180 dBm (thermal noise in 1 Hz is −174) to 0 dBm. */
  noiseFloorDbm: { min: -180, max: 0 },
  /** 0 (a hard threshold at the sensitivity) to 20 dB (a wider curve is not a radio). */
  transitionDb: { min: 0, max: 20 },
  /** 0..60 dB: no frame is captured against interference stronger than itself. */
  captureThresholdDb: { min: 0, max: 60 },
  /**
   * 1 µs (faster than any radio's clear-channel assessment; 802.11a: 9 µs) to 1 s (LoRa SF12 CAD is
   * ~65 ms). The lower bound also keeps every backoff a real step of virtual time.
   */
  slotMs: { min: 0.001, max: 1000 },
  /**
   * At least 2 slots: a window of 1 always draws a zero backoff, so a radio would re-sense a busy
   * channel at the same instant forever. At most 2^20 slots.
   */
  minWindow: { min: 2, max: 2 ** 20, integer: true },
  maxWindow: { min: 2, max: 2 ** 20, integer: true },
  /** 1 .. 1e6 busy checks, or Infinity (never give up; queueTtlMs bounds the wait). */
  maxAttempts: { min: 1, max: 1e6, integer: true, allowInfinity: true },
  /** (0, 1]; 1 = unlimited. */
  dutyCycle: { gt: 0, max: 1 },
  /** 1 ms to 24 h (regulators use 1 h). */
  dutyCycleWindowMs: { min: 1, max: 86_400_000 },
  /** 1 .. 100 000 frames: every queue has a cap (DESIGN.md §9). */
  queueLimit: { min: 1, max: 100_000, integer: true },
  /** At least 1 ms, or Infinity (never expire). */
  queueTtlMs: { min: 1, allowInfinity: true },
} satisfies Record<string, NumberRule>)

const FIELDS = Object.keys(DEFAULT_SIM_RADIO) as Array<keyof SimRadioConfig>
const CSMA_FIELDS = Object.keys(DEFAULT_CSMA) as Array<keyof CsmaConfig>

/**
 * Merge `partial` over `base` (csma merged field by field) and validate. Unknown fields are refused,
 * so a typo in a scenario file does not silently fall back to a default. Throws `ConfigError` whose
 * `path` is `${path}.<field>` (or `${path}.csma.<field>`).
 */
export function resolveSimRadioConfig(
  partial?: Partial<SimRadioConfig>,
  base: SimRadioConfig = DEFAULT_SIM_RADIO,
  path = 'radio',
): SimRadioConfig {
  if (partial === undefined) return validateSimRadioConfig({ ...base, csma: { ...base.csma } }, path)
  const part = checkObject(path, partial)
  checkKeys(path, part, FIELDS)
  const csmaPart = part.csma === undefined ? undefined : checkObject(`${path}.csma`, part.csma)
  if (csmaPart !== undefined) checkKeys(`${path}.csma`, csmaPart, CSMA_FIELDS)
  const merged: Record<string, unknown> = { ...base }
  for (const k of FIELDS) if (part[k] !== undefined) merged[k] = part[k]
  const csma: Record<string, unknown> = { ...base.csma }
  if (csmaPart) for (const k of CSMA_FIELDS) if (csmaPart[k] !== undefined) csma[k] = csmaPart[k]
  merged.csma = csma
  return validateSimRadioConfig(merged as unknown as SimRadioConfig, path)
}

/** Throws ConfigError naming the first bad field (`${path}.<field>`); returns `c` unchanged. */
export function validateSimRadioConfig(c: SimRadioConfig, path = 'radio'): SimRadioConfig {
  const L = SIM_RADIO_LIMITS
  const f = (k: keyof typeof L, v: unknown): number => checkNumber(`${path}.${k}`, v, L[k])
  checkObject(path, c)
  f('range', c.range)
  f('bitrate', c.bitrate)
  f('mtu', c.mtu)
  f('loss', c.loss)
  f('preambleMs', c.preambleMs)
  checkOneOf(`${path}.propagation`, c.propagation, ['unit-disk', 'log-distance'] as const)
  if (c.interferenceRange !== null) f('interferenceRange', c.interferenceRange)
  f('txPowerDbm', c.txPowerDbm)
  f('pathLossExponent', c.pathLossExponent)
  f('referenceLossDb', c.referenceLossDb)
  f('shadowingDb', c.shadowingDb)
  f('shadowingCorrelationM', c.shadowingCorrelationM)
  f('noiseFloorDbm', c.noiseFloorDbm)
  f('transitionDb', c.transitionDb)
  if (c.captureThresholdDb !== null) f('captureThresholdDb', c.captureThresholdDb)
  const cs = checkObject(`${path}.csma`, c.csma)
  const g = (k: 'slotMs' | 'minWindow' | 'maxWindow' | 'maxAttempts'): number => checkNumber(`${path}.csma.${k}`, cs[k], L[k])
  checkBoolean(`${path}.csma.enabled`, cs.enabled)
  g('slotMs')
  const minWindow = g('minWindow')
  const maxWindow = g('maxWindow')
  if (maxWindow < minWindow) throw new ConfigError(`${path}.csma.maxWindow`, `must be >= csma.minWindow (${minWindow}), got ${maxWindow}`)
  g('maxAttempts')
  f('dutyCycle', c.dutyCycle)
  f('dutyCycleWindowMs', c.dutyCycleWindowMs)
  f('queueLimit', c.queueLimit)
  f('queueTtlMs', c.queueTtlMs)
  return c
}
