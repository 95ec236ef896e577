/**
 * The simulated radio medium: nodes with positions (mobility.ts), radios (sim-radio.ts), and the
 * physics between them (propagation.ts, reception.ts). See hardware/README.md for the model.
 *
 * When a radio starts a transmission the medium finds every node the signal can matter to (a uniform
 * grid over node positions, widened by how far nodes may have moved since it was built), computes
 * distance at the transmission start, honours scripted link-downs, computes received power (plus
 * the link's shadowing, shadowing.ts), and schedules one `Arrival` per receiver at start +
 * propagation delay.
 *
 * Tunnels (`addTunnel`, the wormhole adversaries of field-tests/adversaries.ts): two nodes joined by a
 * private out-of-band link. Every frame one of them transmits is also received by the other whatever
 * the distance, at the end of the frame's airtime, with the power a 1 m link would have, and neither
 * interferes with nor suffers from anyone else's signals (nor from the receiver's own
 * transmissions). The tunnel replaces the air between them: a peer in radio range gets the tunnel
 * copy only, so it never receives a frame twice.
 */
import { isNodeAddr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler } from '../core/scheduler.ts'
import type { Mobility, Position } from './mobility.ts'
import { derivePhysics, reachM } from './propagation.ts'
import { Arrival, type Transmission } from './reception.ts'
import { LinkShadowing, SHADOWING_MAX_NODES } from './shadowing.ts'
import { resolveSimRadioConfig, SPEED_OF_LIGHT_M_PER_MS, type SimRadioConfig } from './sim-defaults.ts'
import { SimRadio, type SimMediumPort } from './sim-radio.ts'
import { UniformGrid } from './spatial-index.ts'

export interface SimMediumOptions {
  /** Virtual time (a SimScheduler; any Scheduler works). */
  scheduler: Scheduler
  /** Root of all the medium's randomness; each radio forks its own streams from it. */
  rng: SeededRng
  /** Radio settings for every node, over DEFAULT_SIM_RADIO (e.g. LORA_SIM_RADIO). */
  radio?: Partial<SimRadioConfig>
  /** Where per-node counters go (`scope('medium', id)`); a private registry if absent. */
  metrics?: MetricsRegistry
}

/** Moving nodes are re-indexed once they may have moved this fraction of a grid cell. */
const REINDEX_FRACTION = 0.5

export class SimMedium implements SimMediumPort {
  readonly scheduler: Scheduler
  readonly metrics: MetricsRegistry
  /** The medium-wide radio settings (each node may override some). */
  readonly config: Readonly<SimRadioConfig>
  private readonly rng: SeededRng
  private readonly shadowing: LinkShadowing
  private readonly byId = new Map<number, number>()
  private readonly radios: SimRadio[] = []
  private readonly mobs: Mobility[] = []
  private readonly speed: number[] = []
  // Position cache: position of node i at time pt[i] (Infinity: static, always valid).
  private readonly px: number[] = []
  private readonly py: number[] = []
  private readonly pt: number[] = []
  private readonly reach: number[] = []
  private minSenseDbm = Infinity
  private grid = new UniformGrid(1)
  private gridT = 0
  private vmax = 0
  private readonly unindexed: number[] = []
  private readonly cand: number[] = []
  /** Scripted link-downs: lower id → higher id → flat [from, to, from, to, ...]. */
  private readonly downs = new Map<number, Map<number, number[]>>()
  /** Tunnels: node id → ids of its tunnel peers. */
  private readonly tunnels = new Map<number, number[]>()

  constructor(o: SimMediumOptions) {
    if (o === null || typeof o !== 'object') throw new TypeError(`SimMedium options must be an object, got ${String(o)}`)
    const s = o.scheduler
    if (!s || typeof s.now !== 'function' || typeof s.at !== 'function') throw new TypeError('SimMedium scheduler must be a Scheduler')
    if (!o.rng || typeof o.rng.fork !== 'function') throw new TypeError('SimMedium rng must be a SeededRng')
    if (o.metrics !== undefined && !(o.metrics instanceof MetricsRegistry)) throw new TypeError('SimMedium metrics must be a MetricsRegistry')
    this.scheduler = s
    this.rng = o.rng
    this.shadowing = new LinkShadowing(o.rng.fork('shadowing'))
    this.metrics = o.metrics ?? new MetricsRegistry()
    this.config = Object.freeze(resolveSimRadioConfig(o.radio, undefined, 'radio'))
  }

  /**
   * Add node `id` (its address, a positive integer) moving by `mobility`; returns its radio. `radio`
   * overrides the medium's settings for this node; a bad value throws ConfigError with path
   * `nodes.<id>.radio.<field>`.
   */
  addNode(id: number, mobility: Mobility, radio?: Partial<SimRadioConfig>): SimRadio {
    if (!isNodeAddr(id)) throw new RangeError(`node id must be an integer in [1, ${0x7fffffff}], got ${id}`)
    if (this.byId.has(id)) throw new RangeError(`node ${id} is already on the medium`)
    if (this.radios.length >= SHADOWING_MAX_NODES) throw new RangeError(`a medium holds at most ${SHADOWING_MAX_NODES} nodes`)
    if (!mobility || typeof mobility.position !== 'function') throw new TypeError(`node ${id} mobility must have a position(tMs) method`)
    const cfg = Object.freeze(resolveSimRadioConfig(radio, this.config, `nodes.${id}.radio`))
    if (cfg.propagation !== this.config.propagation) {
      throw new ConfigError(`nodes.${id}.radio.propagation`, `must match the medium's (${this.config.propagation}), got ${cfg.propagation}`)
    }
    const v = mobility.maxSpeed
    const speed = typeof v === 'number' && v >= 0 ? v : Infinity
    const i = this.radios.length
    const physics = derivePhysics(cfg)
    const r = new SimRadio(this, id, cfg, physics, this.rng.fork('radio', id), this.rng.fork('rx', id), this.metrics.scope('medium', id))
    r._index = i
    this.byId.set(id, i)
    this.radios.push(r)
    this.mobs.push(mobility)
    this.speed.push(speed)
    this.px.push(0)
    this.py.push(0)
    this.pt.push(NaN)
    this.reach.push(0)
    const now = this.scheduler.now()
    this.locate(i, now)
    if (speed === 0) this.pt[i] = Infinity
    let rebuild = false
    if (physics.senseThresholdDbm < this.minSenseDbm) {
      this.minSenseDbm = physics.senseThresholdDbm
      // A more sensitive receiver: everyone's signals reach further (log-distance).
      for (let k = 0; k < i; k++) this.reach[k] = reachM(this.radios[k].config, this.minSenseDbm)
    }
    this.reach[i] = reachM(cfg, this.minSenseDbm)
    let maxReach = 0
    for (let k = 0; k <= i; k++) if (this.reach[k] > maxReach) maxReach = this.reach[k]
    if (maxReach > this.grid.cellSize) rebuild = true
    if (speed === Infinity) this.unindexed.push(i)
    else if (speed > this.vmax) this.vmax = speed
    if (rebuild) this.rebuild(now, Math.max(maxReach, 1))
    else if (speed !== Infinity) this.grid.insert(i, this.px[i], this.py[i])
    return r
  }

  /** The radio of node `id`. */
  radio(id: number): SimRadio {
    return this.radios[this.indexOf(id)]
  }

  /** Node ids in the order they were added. */
  nodeIds(): number[] {
    return this.radios.map((r) => r.id)
  }

  /** Position of node `id` at `scheduler.now()`. */
  position(id: number): Position {
    const i = this.indexOf(id)
    this.locate(i, this.scheduler.now())
    return { x: this.px[i], y: this.py[i] }
  }

  /**
   * Scripted partition: nodes `a` and `b` neither hear nor interfere with each other for transmissions
   * that start in [fromMs, toMs). `toMs` may be Infinity. Nodes need not have been added yet.
   */
  setLinkDown(a: number, b: number, fromMs: number, toMs: number): void {
    if (!isNodeAddr(a)) throw new RangeError(`setLinkDown: node id a must be a positive integer, got ${a}`)
    if (!isNodeAddr(b)) throw new RangeError(`setLinkDown: node id b must be a positive integer, got ${b}`)
    if (a === b) throw new RangeError(`setLinkDown: a and b must differ, got ${a} twice`)
    if (typeof fromMs !== 'number' || !Number.isFinite(fromMs)) throw new RangeError(`setLinkDown: fromMs must be a finite number, got ${fromMs}`)
    if (typeof toMs !== 'number' || !(toMs > fromMs)) throw new RangeError(`setLinkDown: toMs must be > fromMs (${fromMs}), got ${toMs}`)
    const lo = Math.min(a, b), hi = Math.max(a, b)
    let inner = this.downs.get(lo)
    if (!inner) this.downs.set(lo, (inner = new Map()))
    const list = inner.get(hi)
    if (list) list.push(fromMs, toMs)
    else inner.set(hi, [fromMs, toMs])
  }

  /**
   * Join nodes `a` and `b` by a private tunnel (see the module comment) for the rest of the run.
   * Nodes need not have been added yet; a node may have tunnels to several others.
   */
  addTunnel(a: number, b: number): void {
    if (!isNodeAddr(a)) throw new RangeError(`addTunnel: node id a must be a positive integer, got ${a}`)
    if (!isNodeAddr(b)) throw new RangeError(`addTunnel: node id b must be a positive integer, got ${b}`)
    if (a === b) throw new RangeError(`addTunnel: a and b must differ, got ${a} twice`)
    if (this.tunnels.get(a)?.includes(b)) throw new RangeError(`addTunnel: nodes ${a} and ${b} are already tunnelled`)
    for (const [x, y] of [[a, b], [b, a]]) {
      const peers = this.tunnels.get(x)
      if (peers) peers.push(y)
      else this.tunnels.set(x, [y])
    }
  }

  /** Ids of the nodes `id` is tunnelled to, ascending. */
  tunnelPeers(id: number): number[] {
    return [...(this.tunnels.get(id) ?? [])].sort((x, y) => x - y)
  }

  /** Whether a scripted link-down separates `a` and `b` at time `t`. */
  private linkDown(a: number, b: number, t: number): boolean {
    const lo = a < b ? a : b, hi = a < b ? b : a
    const inner = this.downs.get(lo)
    if (inner === undefined) return false
    const list = inner.get(hi)
    if (list === undefined) return false
    let down = false
    let w = 0
    for (let k = 0; k < list.length; k += 2) {
      const from = list[k], to = list[k + 1]
      if (to <= t) continue // over for good (time only moves forward): forget it
      if (from <= t) down = true
      list[w++] = from
      list[w++] = to
    }
    list.length = w
    if (w === 0) {
      inner.delete(hi)
      if (inner.size === 0) this.downs.delete(lo)
    }
    return down
  }

  /**
   * Whether `b` can decode `a` at now, ignoring interference, shadowing and randomness: unit disk
   * within range, log-distance mean power at or above `b`'s sensitivity (≥ 50 % reception without
   * shadowing); same bitrate; link up. (Shadowing is left out so that asking never draws randomness
   * and cannot change a run.)
   */
  inRange(a: number, b: number): boolean {
    const i = this.indexOf(a), j = this.indexOf(b)
    if (i === j) return false
    return this.reachable(i, j, this.scheduler.now())
  }

  /** Ids of the nodes that can decode `id` at now (as `inRange`), ascending. */
  neighbours(id: number): number[] {
    const i = this.indexOf(id)
    const now = this.scheduler.now()
    this.locate(i, now)
    const out: number[] = []
    for (const j of this.candidates(this.px[i], this.py[i], this.reach[i], now)) {
      if (j !== i && this.reachable(i, j, now)) out.push(this.radios[j].id)
    }
    return out.sort((x, y) => x - y)
  }

  private reachable(i: number, j: number, now: number): boolean {
    const ri = this.radios[i], rj = this.radios[j]
    if (ri.bitrate !== rj.bitrate || this.linkDown(ri.id, rj.id, now)) return false
    this.locate(i, now)
    this.locate(j, now)
    const dx = this.px[i] - this.px[j], dy = this.py[i] - this.py[j]
    const d2 = dx * dx + dy * dy
    const p = ri.physics
    if (!p.logDistance) return d2 <= p.rangeSq
    const d = Math.sqrt(d2)
    return p.txPowerDbm - p.referenceLossDb - p.tenN * Math.log10(d > 1 ? d : 1) >= rj.physics.sensitivityDbm
  }

  private indexOf(id: number): number {
    const i = this.byId.get(id)
    if (i === undefined) throw new RangeError(`no node ${id} on this medium`)
    return i
  }

  private locate(i: number, t: number): void {
    if (this.pt[i] === t || this.pt[i] === Infinity) return
    const p = this.mobs[i].position(t)
    this.px[i] = p.x
    this.py[i] = p.y
    this.pt[i] = t
  }

  private rebuild(now: number, cellSize = this.grid.cellSize): void {
    this.grid = new UniformGrid(cellSize)
    this.gridT = now
    for (let i = 0; i < this.radios.length; i++) {
      if (this.speed[i] === Infinity) continue
      this.locate(i, now)
      this.grid.insert(i, this.px[i], this.py[i])
    }
  }

  /** Node indices that may lie within `r` of (x, y) at `now` (a superset; callers check distance). */
  private candidates(x: number, y: number, r: number, now: number): number[] {
    let slack = (this.vmax * (now - this.gridT)) / 1000
    if (slack > REINDEX_FRACTION * this.grid.cellSize) {
      this.rebuild(now)
      slack = 0
    }
    const out = this.cand
    out.length = 0
    this.grid.query(x, y, r + slack, out)
    for (let k = 0; k < this.unindexed.length; k++) out.push(this.unindexed[k])
    return out
  }

  /** A frame of `from` starting now reaches its tunnel peers at its end. */
  private tunnel(from: SimRadio, peers: readonly number[], bytes: Uint8Array, airtimeMs: number, now: number): void {
    const p = from.physics
    const dbm = p.txPowerDbm - p.referenceLossDb
    const end = now + airtimeMs
    for (const id of peers) {
      const j = this.byId.get(id)
      if (j === undefined) continue
      const rx = this.radios[j]
      if (rx.state === 'down') continue
      this.scheduler.at(airtimeMs, () => rx.receiver.tunnelled(bytes, end, dbm))
    }
  }

  /** @internal Called by a SimRadio when it starts transmitting (its receiver already switched off). */
  _startTransmission(from: SimRadio, bytes: Uint8Array, airtimeMs: number): void {
    const sched = this.scheduler
    const now = sched.now()
    const s = from._index
    this.locate(s, now)
    const sx = this.px[s], sy = this.py[s]
    const reach = this.reach[s]
    const reachSq = reach * reach
    const p = from.physics
    const logDistance = p.logDistance
    const tx: Transmission = { from: from.id, bytes, airtimeMs, bitrate: from.bitrate }
    const checkDowns = this.downs.size > 0
    const peers = this.tunnels.get(from.id)
    if (peers !== undefined) this.tunnel(from, peers, bytes, airtimeMs, now)
    const cand = this.candidates(sx, sy, reach, now)
    for (let k = 0; k < cand.length; k++) {
      const j = cand[k]
      if (j === s) continue
      const rx = this.radios[j]
      if (rx.state === 'down') continue
      if (peers !== undefined && peers.includes(rx.id)) continue // the tunnel carries it
      this.locate(j, now)
      const dx = this.px[j] - sx, dy = this.py[j] - sy
      const d2 = dx * dx + dy * dy
      if (d2 > reachSq) continue
      if (checkDowns && this.linkDown(from.id, rx.id, now)) continue
      const d = Math.sqrt(d2)
      let dbm = p.txPowerDbm - p.referenceLossDb - p.tenN * Math.log10(d > 1 ? d : 1)
      let lockable: boolean
      const receiver = rx.receiver
      if (logDistance) {
        if (p.shadowingDb > 0) {
          const corr = Math.min(from.config.shadowingCorrelationM, rx.config.shadowingCorrelationM)
          const moving = this.speed[s] !== 0 || this.speed[j] !== 0
          dbm += p.shadowingDb * this.shadowing.z(s, from.id, sx, sy, j, rx.id, this.px[j], this.py[j], moving, corr, now)
        }
        const q = rx.physics
        if (dbm < q.senseThresholdDbm) continue
        lockable = dbm >= q.lockThresholdDbm
      } else {
        lockable = d2 <= p.rangeSq
      }
      if (lockable && rx.bitrate !== from.bitrate) lockable = false
      const delay = d / SPEED_OF_LIGHT_M_PER_MS
      const start = now + delay
      const a = new Arrival(tx, start, start + airtimeMs, dbm, lockable)
      sched.at(delay, () => receiver.arrive(a))
    }
  }
}
