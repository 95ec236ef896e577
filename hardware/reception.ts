/**
 * The receiving half of a simulated radio: which signals are on the air at this node, which frame
 * it is decoding, and whether that frame survives. The medium creates one `Arrival` per receiver per
 * transmission and calls `arrive` at its start time (transmission start + propagation delay).
 *
 * - Half-duplex: while the node transmits it hears nothing; starting to transmit aborts the frame
 *   being received (rxHalfDuplex).
 * - The receiver locks onto the first lockable frame that arrives while it is idle. Any other signal
 *   overlapping it corrupts it (rxCollisions) unless capture is on and, at every moment of the
 *   overlap (checked whenever a new signal starts, which is when interference can grow):
 *   (1) capture: P_locked − 10·log10(Σ interferers, mW) ≥ captureThresholdDb (interference only, no
 *       noise: ns-2's CPThresh, LoRa co-SF capture), and
 *   (2) decodability under interference: unit disk, P_locked − 10·log10(I + N) ≥ sensitivity − noise
 *       floor (the SNR a frame has at the edge of the range); log-distance, the decode draw at the end
 *       uses the power lowered by the largest noise rise of the overlap, 10·log10(1 + I/N), on the
 *       same logistic curve as any frame (so a weak interferer costs a weak frame a little, not all).
 *   Frames that arrive while it is locked are lost (rxCollisions).
 * - At the end of a clean reception the decode probability (log-distance) and the per-frame loss are
 *   drawn (rxLost; a decode failure that only the interference caused counts rxCollisions), else the
 *   frame is delivered with RSSI and SNR (P − noise floor, interference not included).
 * - Carrier sense: the channel is busy while the node transmits or any signal is on the air here
 *   that started at least one slot ago (detection time, see CsmaConfig.slotMs).
 *
 * Signals that end are dropped lazily from the active list, so a transmission costs one scheduler
 * event per receiver, plus one for the frame each receiver actually locks onto.
 */
import type { Counter } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { dbmToMw, decodeProbability, mwToDbm, type RadioPhysics } from './propagation.ts'
import type { RxFrame } from './radio.ts'

/**
 * Times closer than this (1 ns) are the same instant. Sums of the same times in a different order can
 * differ in the last bit (a frame that ends exactly when the next one starts must not collide with it).
 */
export const TIME_EPS_MS = 1e-6

/** One frame on the air, shared by all of its arrivals. */
export interface Transmission {
  readonly from: number
  readonly bytes: Uint8Array
  readonly airtimeMs: number
  readonly bitrate: number
}

/** One transmission as seen by one receiver. `end` is `start + airtimeMs`. */
export class Arrival {
  constructor(
    readonly tx: Transmission,
    readonly start: number,
    readonly end: number,
    /** Received power, dBm (with this frame's shadowing draw). */
    readonly dbm: number,
    /** Whether the receiver can lock onto it (in range / above the lock threshold, same bitrate). */
    readonly lockable: boolean,
  ) {}
}

export interface ReceiverCounters {
  rxFrames: Counter
  rxCollisions: Counter
  rxHalfDuplex: Counter
  rxLost: Counter
}

export class Receiver {
  /** Signals on the air at this node (some may have ended; pruned lazily). */
  private active: Arrival[] = []
  private locked: Arrival | null = null
  private corrupt = false
  /** Largest summed interference during the locked frame so far, mW (0: none). */
  private lockedImw = 0
  private transmitting = false
  private enabled = true

  constructor(
    private readonly scheduler: Scheduler,
    private readonly phys: RadioPhysics,
    private readonly loss: number,
    /** Per-receiver randomness: the decode and loss draws. */
    readonly rng: SeededRng,
    private readonly counters: ReceiverCounters,
    private readonly senseDelayMs: number,
    private readonly deliver: (frame: RxFrame) => void,
  ) {}

  private prune(now: number): void {
    const act = this.active
    const t = now + TIME_EPS_MS
    let w = 0
    for (let k = 0; k < act.length; k++) if (act[k].end > t) act[w++] = act[k]
    act.length = w
  }

  /**
   * Whether `locked` survives every other signal now on the air (rules (1) and (2) of the module
   * comment); records the interference for the final decode draw.
   */
  private survives(locked: Arrival): boolean {
    let imw = 0
    for (const s of this.active) if (s !== locked) imw += dbmToMw(s.dbm)
    if (imw === 0) return true
    const p = this.phys
    const thr = p.captureThresholdDb
    if (thr === null || locked.dbm - mwToDbm(imw) < thr) return false
    if (imw > this.lockedImw) this.lockedImw = imw
    return p.logDistance || locked.dbm - mwToDbm(imw + p.noiseMw) >= p.sensitivityDbm - p.noiseFloorDbm
  }

  /** A signal starts arriving (called by the scheduler at `a.start`). */
  arrive(a: Arrival): void {
    if (!this.enabled) return
    const now = a.start
    const prev = this.locked
    // A frame that ends exactly now does not overlap this one: finish it first.
    if (prev !== null && prev.end <= now + TIME_EPS_MS && !this.transmitting) {
      this.finish(prev)
      if (!this.enabled) return
    }
    this.prune(now)
    this.active.push(a)
    if (this.transmitting) {
      if (a.lockable) this.counters.rxHalfDuplex.inc()
      return
    }
    const locked = this.locked
    if (locked !== null) {
      if (a.lockable) this.counters.rxCollisions.inc()
      if (!this.corrupt && !this.survives(locked)) this.corrupt = true
      return
    }
    if (!a.lockable) return
    this.locked = a
    this.lockedImw = 0
    this.corrupt = this.active.length > 1 && !this.survives(a)
    this.scheduler.at(a.tx.airtimeMs, () => this.finish(a))
  }

  private finish(a: Arrival): void {
    if (this.locked !== a) return // aborted by our own transmission, or already finished
    this.locked = null
    const c = this.counters
    if (this.corrupt) {
      c.rxCollisions.inc()
      return
    }
    const p = this.phys
    if (p.logDistance) {
      const clean = decodeProbability(a.dbm, p.sensitivityDbm, p.transitionDb)
      const imw = this.lockedImw
      // SINR instead of SNR: the interference raised the noise by 10·log10(1 + I/N) dB.
      const pd = imw === 0 ? clean : decodeProbability(a.dbm - 10 * Math.log10(1 + imw / p.noiseMw), p.sensitivityDbm, p.transitionDb)
      if (pd < 1) {
        const u = this.rng.float()
        if (!(u < pd)) {
          // One draw decides both: would the frame have made it without the interference?
          if (u < clean) c.rxCollisions.inc()
          else c.rxLost.inc()
          return
        }
      }
    }
    if (this.loss > 0 && this.rng.float() < this.loss) {
      c.rxLost.inc()
      return
    }
    c.rxFrames.inc()
    this.deliver({ bytes: a.tx.bytes.slice(), rssi: a.dbm, snr: a.dbm - p.noiseFloorDbm, at: a.end })
  }

  /**
   * A frame that came through a private tunnel (SimMedium.addTunnel, wormhole adversaries), at its
   * end `at`: delivered as received, with no interference, half-duplex, decode or loss draw; only
   * a closed receiver drops it. Counted rxFrames like any received frame.
   */
  tunnelled(bytes: Uint8Array, at: number, dbm: number): void {
    if (!this.enabled) return
    this.counters.rxFrames.inc()
    this.deliver({ bytes: bytes.slice(), rssi: dbm, snr: dbm - this.phys.noiseFloorDbm, at })
  }

  /** Carrier sense at `now`. */
  busy(now: number): boolean {
    if (this.transmitting) return true
    const sensedBefore = now - this.senseDelayMs
    const act = this.active
    const t = now + TIME_EPS_MS
    for (let k = 0; k < act.length; k++) {
      const s = act[k]
      if (s.end > t && s.start <= sensedBefore) return true
    }
    return false
  }

  /** Our own transmission starts: half-duplex. */
  beginTx(now: number): void {
    const l = this.locked
    // A frame ending exactly now was received in full; its end event (also now) delivers it.
    if (l !== null && l.end > now + TIME_EPS_MS) {
      this.locked = null
      this.counters.rxHalfDuplex.inc()
    }
    this.transmitting = true
  }

  endTx(): void {
    this.transmitting = false
  }

  /** The radio is closed: forget everything, hear nothing more. */
  close(): void {
    this.enabled = false
    this.active.length = 0
    this.locked = null
  }
}
