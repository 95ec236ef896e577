/**
 * Mobility models. Positions are metres, speeds m/s, times ms of scheduler time. A model is asked
 * `position(t)` with non-decreasing `t` per node and answers lazily: no scheduler events, so a
 * thousand moving nodes cost nothing while nobody transmits.
 */
import type { SeededRng } from '../core/rng.ts'

export interface Position {
  x: number
  y: number
}

export interface Mobility {
  /** Position at scheduler time `tMs`; called with non-decreasing `tMs` per node. */
  position(tMs: number): Position
  /**
   * Upper bound on the node's speed, m/s. Lets the medium index nodes spatially and rebuild the
   * index only when nodes may have moved far; leave it out (or Infinity) for models without a bound,
   * which the medium then checks on every transmission.
   */
  readonly maxSpeed?: number
}

function checkPoint(what: string, p: unknown): Position {
  if (p === null || typeof p !== 'object') throw new TypeError(`${what} must be an object {x, y}, got ${String(p)}`)
  const { x, y } = p as Position
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new RangeError(`${what}.x must be a finite number of metres, got ${String(x)}`)
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new RangeError(`${what}.y must be a finite number of metres, got ${String(y)}`)
  return { x, y }
}

/** A node that never moves. */
export class StaticMobility implements Mobility {
  readonly maxSpeed = 0
  private readonly p: Readonly<Position>
  constructor(p: Position) {
    this.p = Object.freeze(checkPoint('position', p))
  }
  position(_tMs?: number): Position {
    return this.p
  }
}

export interface RandomWaypointOptions {
  rng: SeededRng
  /** Field, metres: the node moves in [0, width] × [0, height]. */
  width: number
  height: number
  /** Speed of each leg is uniform in [minSpeed, maxSpeed] m/s; minSpeed must be > 0. */
  minSpeed: number
  maxSpeed: number
  /** Pause at each waypoint, ms. */
  pauseMs: number
  start: Position
}

/** One straight leg of a random waypoint trajectory, then a pause until `pauseUntilMs`. */
export interface Leg {
  readonly fromMs: number
  readonly from: Position
  readonly toMs: number
  readonly to: Position
  readonly speed: number
  readonly pauseUntilMs: number
}

/**
 * Random waypoint (Johnson & Maltz): from time 0 the node moves in a straight line at a speed uniform
 * in [minSpeed, maxSpeed] to a destination uniform in the field, pauses `pauseMs`, and repeats.
 *
 * minSpeed must be > 0: with speeds near 0 a node can draw a leg that lasts practically forever and
 * the average speed decays over the run (Yoon, Liu & Noble 2003). Note also that nodes start from
 * `start`, not from the model's stationary distribution (which is denser in the middle of the
 * field); discard a warm-up period if that matters for a measurement.
 */
export class RandomWaypoint implements Mobility {
  readonly maxSpeed: number
  private readonly rng: SeededRng
  private readonly width: number
  private readonly height: number
  private readonly minSpeed: number
  private readonly pauseMs: number
  // current leg
  private t0 = 0
  private x0: number
  private y0: number
  private t1 = 0
  private x1: number
  private y1: number
  private t2 = 0
  private speed = 0

  constructor(o: RandomWaypointOptions) {
    if (o === null || typeof o !== 'object') throw new TypeError(`RandomWaypoint options must be an object, got ${String(o)}`)
    if (!o.rng || typeof o.rng.float !== 'function') throw new TypeError('RandomWaypoint rng must be a SeededRng')
    const w = o.width, h = o.height
    if (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w)) throw new RangeError(`RandomWaypoint width must be a finite number > 0 m, got ${w}`)
    if (typeof h !== 'number' || !(h > 0) || !Number.isFinite(h)) throw new RangeError(`RandomWaypoint height must be a finite number > 0 m, got ${h}`)
    if (typeof o.minSpeed !== 'number' || !(o.minSpeed > 0) || !Number.isFinite(o.minSpeed)) {
      throw new RangeError(`RandomWaypoint minSpeed must be > 0 m/s (a speed of 0 can freeze a node forever), got ${o.minSpeed}`)
    }
    if (typeof o.maxSpeed !== 'number' || !(o.maxSpeed >= o.minSpeed) || !Number.isFinite(o.maxSpeed)) {
      throw new RangeError(`RandomWaypoint maxSpeed must be finite and >= minSpeed (${o.minSpeed} m/s), got ${o.maxSpeed}`)
    }
    if (typeof o.pauseMs !== 'number' || !(o.pauseMs >= 0) || !Number.isFinite(o.pauseMs)) {
      throw new RangeError(`RandomWaypoint pauseMs must be a finite number >= 0, got ${o.pauseMs}`)
    }
    const s = checkPoint('RandomWaypoint start', o.start)
    if (s.x < 0 || s.x > w || s.y < 0 || s.y > h) {
      throw new RangeError(`RandomWaypoint start (${s.x}, ${s.y}) must lie in the field [0, ${w}] × [0, ${h}]`)
    }
    this.rng = o.rng
    this.width = w
    this.height = h
    this.minSpeed = o.minSpeed
    this.maxSpeed = o.maxSpeed
    this.pauseMs = o.pauseMs
    this.x0 = this.x1 = s.x
    this.y0 = this.y1 = s.y
    this.nextLeg()
  }

  private nextLeg(): void {
    this.t0 = this.t2
    this.x0 = this.x1
    this.y0 = this.y1
    this.x1 = this.rng.float() * this.width
    this.y1 = this.rng.float() * this.height
    this.speed = this.minSpeed + (this.maxSpeed - this.minSpeed) * this.rng.float()
    const dist = Math.hypot(this.x1 - this.x0, this.y1 - this.y0)
    this.t1 = this.t0 + (dist / this.speed) * 1000
    this.t2 = this.t1 + this.pauseMs
  }

  position(tMs: number): Position {
    while (tMs >= this.t2) this.nextLeg()
    if (tMs >= this.t1) return { x: this.x1, y: this.y1 }
    if (tMs <= this.t0) return { x: this.x0, y: this.y0 }
    const f = (tMs - this.t0) / (this.t1 - this.t0)
    return { x: this.x0 + (this.x1 - this.x0) * f, y: this.y0 + (this.y1 - this.y0) * f }
  }

  /** The leg in progress (or the pause after it) at the last `position` call. */
  get currentLeg(): Leg {
    return {
      fromMs: this.t0,
      from: { x: this.x0, y: this.y0 },
      toMs: this.t1,
      to: { x: this.x1, y: this.y1 },
      speed: this.speed,
      pauseUntilMs: this.t2,
    }
  }
}

export interface Waypoint {
  tMs: number
  x: number
  y: number
}

/**
 * A scripted trajectory: linear interpolation between waypoints, holding the first before it and the
 * last after it. Two waypoints at the same time make a jump (the later one wins from that time on).
 */
export class ScriptedWaypoints implements Mobility {
  readonly maxSpeed: number
  private readonly pts: Waypoint[]
  private i = 0

  constructor(points: Array<{ tMs: number; x: number; y: number }>) {
    if (!Array.isArray(points) || points.length === 0) throw new RangeError('ScriptedWaypoints needs at least one waypoint')
    this.pts = points.map((p, k) => {
      const { x, y } = checkPoint(`waypoint[${k}]`, p)
      const t = p.tMs
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new RangeError(`waypoint[${k}].tMs must be a finite number, got ${String(t)}`)
      if (k > 0 && t < points[k - 1].tMs) {
        throw new RangeError(`waypoint[${k}].tMs must not be before waypoint[${k - 1}].tMs (${points[k - 1].tMs}), got ${t}`)
      }
      return { tMs: t, x, y }
    })
    let v = 0
    for (let k = 1; k < this.pts.length; k++) {
      const a = this.pts[k - 1], b = this.pts[k]
      const d = Math.hypot(b.x - a.x, b.y - a.y)
      if (d === 0) continue
      v = Math.max(v, b.tMs === a.tMs ? Infinity : (d / (b.tMs - a.tMs)) * 1000)
    }
    this.maxSpeed = v
  }

  position(tMs: number): Position {
    const p = this.pts
    if (this.i > 0 && tMs < p[this.i].tMs) this.i = 0 // asked about the past: search again from the start
    while (this.i + 1 < p.length && p[this.i + 1].tMs <= tMs) this.i++
    const a = p[this.i]
    if (this.i + 1 >= p.length || tMs <= a.tMs) return { x: a.x, y: a.y }
    const b = p[this.i + 1]
    const f = (tMs - a.tMs) / (b.tMs - a.tMs)
    return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f }
  }
}
