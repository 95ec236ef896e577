/**
 * The neighbour table: who this node hears, since when, how well.
 *
 * - Any valid frame from a node makes it a neighbour ('up') and refreshes it; RSSI and SNR are
 *   exponentially weighted moving averages of the frames' values.
 * - Beacons carry the sender's beacon counter and interval. Quality is the share of its expected
 *   beacons heard over the last `qualityWindow` beacon slots: a shift register gets a 1 per beacon
 *   heard and a 0 per counter value skipped; slots overdue since the last beacon heard count as
 *   missed. A neighbour never heard beaconing has quality 1 (no evidence either way).
 * - A neighbour expires `max(expiryFloorMs, (allowedBeaconLoss + 1.5) × interval)` after it was
 *   last heard ('down'). One timer serves the whole table: it is set for the earliest deadline and
 *   re-armed when it fires, so refreshing a neighbour costs no timer operation.
 * - The table holds at most `maxNeighbours`; a newcomer then evicts the one heard least recently.
 *
 * `BeaconSchedule` decides when this node beacons.
 */
import type { Addr } from '../core/addr.ts'
import { seqDiff16 } from '../core/bytes.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { NeighbourInfo } from './link-types.ts'

export interface NeighbourTableOptions {
  scheduler: Scheduler
  expiryFloorMs: number
  allowedBeaconLoss: number
  qualityWindow: number
  rssiAlpha: number
  maxNeighbours: number
  onUp(n: NeighbourInfo): void
  onDown(n: NeighbourInfo, reason: 'expired' | 'evicted'): void
}

interface Entry {
  addr: Addr
  firstHeard: number
  lastHeard: number
  rssi: number | undefined
  snr: number | undefined
  /** Advertised beacon interval, ms; 0 until a beacon is heard. */
  intervalMs: number
  lastBeaconSeq: number
  lastBeaconAt: number
  /** Bit i = beacon slot i back from the last heard beacon was heard. */
  reg: number
  /** Beacon slots observed so far (capped at the window). */
  span: number
  deadline: number
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

export class NeighbourTable {
  private readonly entries = new Map<Addr, Entry>()
  private readonly windowMask: number
  private timer: Timer | null = null
  private timerAt = Infinity
  private closed = false

  constructor(private readonly o: NeighbourTableOptions) {
    this.windowMask = o.qualityWindow >= 32 ? 0xffffffff : (1 << o.qualityWindow) - 1
  }

  get size(): number {
    return this.entries.size
  }

  has(addr: Addr): boolean {
    return this.entries.has(addr)
  }

  /** A valid frame from `addr` was received at `at`. */
  heard(addr: Addr, at: number, rssi?: number, snr?: number): void {
    if (this.closed) return
    let e = this.entries.get(addr)
    const isNew = e === undefined
    if (e === undefined) {
      if (this.entries.size >= this.o.maxNeighbours) this.evictStalest()
      e = { addr, firstHeard: at, lastHeard: at, rssi: undefined, snr: undefined, intervalMs: 0, lastBeaconSeq: 0, lastBeaconAt: 0, reg: 0, span: 0, deadline: 0 }
      this.entries.set(addr, e)
    }
    e.lastHeard = at
    const a = this.o.rssiAlpha
    if (rssi !== undefined && Number.isFinite(rssi)) e.rssi = e.rssi === undefined ? rssi : e.rssi + a * (rssi - e.rssi)
    if (snr !== undefined && Number.isFinite(snr)) e.snr = e.snr === undefined ? snr : e.snr + a * (snr - e.snr)
    this.refreshDeadline(e)
    if (isNew) this.o.onUp(this.snapshot(e, at))
  }

  /** A beacon from `addr` (call after `heard`). */
  beacon(addr: Addr, seq: number, intervalMs: number, at: number): void {
    const e = this.entries.get(addr)
    if (e === undefined) return
    const W = this.o.qualityWindow
    if (e.intervalMs === 0 || e.span === 0) {
      e.reg = 1
      e.span = 1
    } else {
      const d = seqDiff16(seq, e.lastBeaconSeq)
      if (d <= 0 && d > -W) return // duplicate or reordered beacon: no news
      if (d <= 0 || d > 4 * W) {
        // The neighbour restarted its counter (or was silent for very long): start over.
        e.reg = 1
        e.span = 1
      } else {
        e.reg = d >= 32 ? 1 : (((e.reg << d) | 1) & this.windowMask) >>> 0
        e.span = Math.min(W, e.span + d)
      }
    }
    e.lastBeaconSeq = seq
    e.lastBeaconAt = at
    const intervalChanged = e.intervalMs !== intervalMs
    e.intervalMs = intervalMs
    if (intervalChanged) this.refreshDeadline(e)
  }

  get(addr: Addr, now: number): NeighbourInfo | undefined {
    const e = this.entries.get(addr)
    return e && this.snapshot(e, now)
  }

  /** Every neighbour, sorted by address. */
  list(now: number): NeighbourInfo[] {
    const out: NeighbourInfo[] = []
    for (const e of this.entries.values()) out.push(this.snapshot(e, now))
    return out.sort((a, b) => a.addr - b.addr)
  }

  /** Stop the expiry timer; the table stays readable. */
  close(): void {
    this.closed = true
    this.timer?.cancel()
    this.timer = null
    this.timerAt = Infinity
  }

  private quality(e: Entry, now: number): number {
    if (e.intervalMs === 0 || e.span === 0) return 1
    const W = this.o.qualityWindow
    // Slots whose beacon should have arrived by now (half an interval of grace for jitter).
    const overdue = Math.max(0, Math.floor((now - e.lastBeaconAt) / e.intervalMs - 0.5))
    if (overdue >= W) return 0
    const reg = overdue >= 32 ? 0 : ((e.reg << overdue) & this.windowMask) >>> 0
    const span = Math.min(W, e.span + overdue)
    return popcount(reg) / span
  }

  private snapshot(e: Entry, now: number): NeighbourInfo {
    const n: NeighbourInfo = { addr: e.addr, firstHeard: e.firstHeard, lastHeard: e.lastHeard, quality: this.quality(e, now) }
    if (e.rssi !== undefined) n.rssi = e.rssi
    if (e.snr !== undefined) n.snr = e.snr
    return n
  }

  private expiryOf(e: Entry): number {
    const byBeacons = e.intervalMs > 0 ? (this.o.allowedBeaconLoss + 1.5) * e.intervalMs : 0
    return Math.max(this.o.expiryFloorMs, byBeacons)
  }

  private refreshDeadline(e: Entry): void {
    e.deadline = e.lastHeard + this.expiryOf(e)
    if (e.deadline < this.timerAt) this.arm(e.deadline)
  }

  private arm(deadline: number): void {
    this.timer?.cancel()
    this.timerAt = deadline
    this.timer = this.o.scheduler.at(Math.max(0, deadline - this.o.scheduler.now()), () => this.sweep())
  }

  private sweep(): void {
    this.timer = null
    this.timerAt = Infinity
    const now = this.o.scheduler.now()
    let next = Infinity
    const expired: Entry[] = []
    for (const e of this.entries.values()) {
      if (e.deadline <= now) expired.push(e)
      else if (e.deadline < next) next = e.deadline
    }
    for (const e of expired) this.entries.delete(e.addr)
    if (next < Infinity) this.arm(next)
    for (const e of expired.sort((a, b) => a.addr - b.addr)) this.o.onDown(this.snapshot(e, now), 'expired')
  }

  private evictStalest(): void {
    let stalest: Entry | undefined
    for (const e of this.entries.values()) if (!stalest || e.lastHeard < stalest.lastHeard) stalest = e
    if (!stalest) return
    this.entries.delete(stalest.addr)
    this.o.onDown(this.snapshot(stalest, this.o.scheduler.now()), 'evicted')
  }
}

/**
 * When this node beacons: beacon k at phase + k·interval + U[0, jitter·interval), with a random
 * phase in [0, interval). On a grid, the schedule never drifts; with the phase and jitter, nodes
 * started together never beacon in lockstep.
 */
export class BeaconSchedule {
  private readonly origin: number
  private k = 0
  private timer: Timer | null = null
  private stopped = false

  constructor(private readonly o: { scheduler: Scheduler; rng: Rng; intervalMs: number; jitter: number; fire: () => void }) {
    this.origin = o.scheduler.now() + o.rng.float() * o.intervalMs
    this.next()
  }

  stop(): void {
    this.stopped = true
    this.timer?.cancel()
    this.timer = null
  }

  private next(): void {
    const { scheduler, rng, intervalMs: I, jitter } = this.o
    const t = this.origin + this.k * I + rng.float() * jitter * I
    this.timer = scheduler.at(Math.max(0, t - scheduler.now()), () => {
      this.timer = null
      this.k++
      this.o.fire()
      if (!this.stopped) this.next()
    })
  }
}
