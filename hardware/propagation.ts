/**
 * Propagation: path loss, received power, the reception curve and propagation delay, as pure
 * functions, plus `RadioPhysics`, the per-radio constants the medium derives once from a config so
 * that the per-frame path does no repeated work.
 *
 *   pathLoss(d)  = referenceLossDb + 10 · n · log10(max(d, 1 m))            dB
 *   rxPower(d)   = txPowerDbm − pathLoss(d) [+ N(0, shadowingDb²) per frame] dBm
 *   sensitivity  = txPowerDbm − pathLoss(range)                            dBm
 *   p(decode)    = 1 / (1 + exp(−(rxPower − sensitivity) / transitionDb))
 *   delay        = d / c
 */
import {
  DECODE_FLOOR,
  SENSE_MARGIN_DB,
  SHADOWING_CUTOFF_SIGMAS,
  SPEED_OF_LIGHT_M_PER_MS,
  type SimRadioConfig,
} from './sim-defaults.ts'

type PathLossParams = Pick<SimRadioConfig, 'txPowerDbm' | 'pathLossExponent' | 'referenceLossDb'>

/** Log-distance path loss, dB. Distances under the 1 m reference distance count as 1 m. */
export function pathLossDb(distanceM: number, exponent: number, referenceLossDb: number): number {
  return referenceLossDb + 10 * exponent * Math.log10(distanceM > 1 ? distanceM : 1)
}

/** Mean received power at `distanceM`, dBm (no shadowing). */
export function meanRxPowerDbm(distanceM: number, c: PathLossParams): number {
  return c.txPowerDbm - pathLossDb(distanceM, c.pathLossExponent, c.referenceLossDb)
}

/** The distance at which the mean received power falls to `powerDbm`, metres. */
export function distanceForPowerDbm(powerDbm: number, c: PathLossParams): number {
  return Math.pow(10, (c.txPowerDbm - c.referenceLossDb - powerDbm) / (10 * c.pathLossExponent))
}

/** Receiver sensitivity implied by a config: the mean power at `range`, dBm. */
export function sensitivityDbm(c: PathLossParams & Pick<SimRadioConfig, 'range'>): number {
  return meanRxPowerDbm(c.range, c)
}

/** Logistic reception probability around the sensitivity; `transitionDb` 0 is a hard threshold. */
export function decodeProbability(rxPowerDbm: number, sensitivity: number, transitionDb: number): number {
  if (transitionDb === 0) return rxPowerDbm >= sensitivity ? 1 : 0
  return 1 / (1 + Math.exp(-(rxPowerDbm - sensitivity) / transitionDb))
}

/** Propagation delay over `distanceM`, ms. */
export function propagationDelayMs(distanceM: number): number {
  return distanceM / SPEED_OF_LIGHT_M_PER_MS
}

export function dbmToMw(dbm: number): number {
  return Math.pow(10, dbm / 10)
}

export function mwToDbm(mw: number): number {
  return 10 * Math.log10(mw)
}

/** Per-radio constants derived from its config (transmitter side and receiver side). */
export interface RadioPhysics {
  readonly logDistance: boolean
  // transmitter side: how the signal spreads
  readonly txPowerDbm: number
  readonly referenceLossDb: number
  /** 10 · pathLossExponent */
  readonly tenN: number
  readonly shadowingDb: number
  /** Unit disk: squared decode range, m². */
  readonly rangeSq: number
  /** Unit disk: squared interference/sensing range (at least the range), m². */
  readonly interferenceSq: number
  // receiver side: how a signal is judged
  readonly sensitivityDbm: number
  /** Log-distance: weaker signals are not sensed and do not interfere. */
  readonly senseThresholdDbm: number
  /** Log-distance: weaker frames are not locked onto (decode probability under DECODE_FLOOR). */
  readonly lockThresholdDbm: number
  readonly transitionDb: number
  readonly noiseFloorDbm: number
  readonly noiseMw: number
  readonly captureThresholdDb: number | null
}

export function derivePhysics(c: SimRadioConfig): RadioPhysics {
  const sens = sensitivityDbm(c)
  const interference = Math.max(c.interferenceRange ?? c.range, c.range)
  // p(lock) = DECODE_FLOOR  ⇔  rx − sens = transitionDb · ln(p / (1 − p))
  const lockOffset = c.transitionDb === 0 ? 0 : c.transitionDb * Math.log(DECODE_FLOOR / (1 - DECODE_FLOOR))
  return {
    logDistance: c.propagation === 'log-distance',
    txPowerDbm: c.txPowerDbm,
    referenceLossDb: c.referenceLossDb,
    tenN: 10 * c.pathLossExponent,
    shadowingDb: c.propagation === 'log-distance' ? c.shadowingDb : 0,
    rangeSq: c.range * c.range,
    interferenceSq: interference * interference,
    sensitivityDbm: sens,
    senseThresholdDbm: sens - SENSE_MARGIN_DB,
    lockThresholdDbm: sens + lockOffset,
    transitionDb: c.transitionDb,
    noiseFloorDbm: c.noiseFloorDbm,
    noiseMw: dbmToMw(c.noiseFloorDbm),
    captureThresholdDb: c.captureThresholdDb,
  }
}

/**
 * How far a transmission from a radio with config `c` can matter, metres: the interference range
 * (unit disk), or where the mean power plus SHADOWING_CUTOFF_SIGMAS · sigma falls below the weakest
 * sense threshold of any receiver (log-distance).
 */
export function reachM(c: SimRadioConfig, minSenseThresholdDbm: number): number {
  if (c.propagation === 'unit-disk') return Math.max(c.interferenceRange ?? c.range, c.range)
  return distanceForPowerDbm(minSenseThresholdDbm - SHADOWING_CUTOFF_SIGMAS * c.shadowingDb, c)
}
