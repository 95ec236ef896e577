/**
 * A simulated field of sensor nodes reporting to a gateway (issue 9, `spinmesh demo`): a scenario's
 * mesh (field-tests/scenarios/sensor-field.yaml: LoRa radios, AODV) with a sample uplink
 * (uplink.ts) from every other node to the gateway node. Each sensor measures one feed of
 * DEMO_FEEDS every `sampleIntervalMs` (jittered), with values that drift like real weather and
 * soil; the gateway node decodes what reaches it and hands it to `onSample` (the Gateway).
 *
 * Virtual time: the caller advances it (`advanceTo`), paced to the wall clock by the demo. Sample
 * timestamps are `epochMs + simMs / speed`, so they read as wall-clock times of a run paced at
 * `speed` × real time.
 */
import { formatNodeAddress, type Addr } from '../core/addr.ts'
import { SeededRng } from '../core/rng.ts'
import type { Aodv } from '../adhoc/aodv/index.ts'
import { validateFeedSchema, type FeedSample, type FeedSchema } from '../gossip/feeds/sample.ts'
import { buildSimulation, type Simulation } from '../field-tests/runner.ts'
import type { Scenario } from '../field-tests/scenario.ts'
import type { MeshView } from './gateway.ts'
import { UplinkReceiver, UplinkSender } from './uplink.ts'

export const DEMO_FEEDS: readonly FeedSchema[] = [
  validateFeedSchema({ id: 1, name: 'climate', fields: [{ name: 'temperature', unit: 'degC' }, { name: 'humidity', unit: '%' }] }),
  validateFeedSchema({ id: 2, name: 'soil', fields: [{ name: 'moisture', unit: '%' }, { name: 'temperature', unit: 'degC' }] }),
]

export interface SensorFieldOptions {
  scenario: Scenario
  seed?: number
  /** The gateway's node id in the scenario (default 1). */
  gateway?: number
  /** Mean time between a sensor's samples, ms of virtual time (default 5000; each interval ±20 %). */
  sampleIntervalMs?: number
  /** Sensors start after this much virtual time, ms (default 2000: beacons have found neighbours). */
  startMs?: number
  feeds?: readonly FeedSchema[]
  /** Wall-clock ms of virtual time 0 (default: now). */
  epochMs?: number
  /** Virtual ms per wall ms the run is paced at (timestamps only; default 1). */
  speed?: number
  onSample: (s: FeedSample & { hops: number; at: number }) => void
}

/** A sensor's slowly varying readings: a daily-like cycle plus a random walk, per feed kind. */
class Reading {
  private walk = 0
  constructor(private readonly rng: SeededRng, private readonly base: number[], private readonly swing: number[], private readonly phase: number) {}
  next(tMs: number): number[] {
    this.walk = Math.max(-3, Math.min(3, this.walk + (this.rng.float() - 0.5) * 0.4))
    const cycle = Math.sin((2 * Math.PI * tMs) / 600_000 + this.phase)
    return this.base.map((b, i) => Math.round((b + this.swing[i] * cycle + this.walk * (i === 0 ? 1 : -1) + (this.rng.float() - 0.5) * 0.2) * 100) / 100)
  }
}

export class SensorField {
  readonly sim: Simulation
  readonly gateway: Addr
  readonly receiver: UplinkReceiver
  readonly sensors: ReadonlyArray<{ node: Addr; feed: FeedSchema }>
  private readonly senders = new Map<Addr, UplinkSender>()
  readonly feeds: readonly FeedSchema[]

  constructor(o: SensorFieldOptions) {
    this.sim = buildSimulation(o.scenario, { seed: o.seed })
    if (o.scenario.protocol !== 'aodv') throw new RangeError(`the sensor field routes samples with AODV; scenario ${o.scenario.name} uses ${o.scenario.protocol}`)
    this.gateway = o.gateway ?? 1
    const routers = this.sim.protocols as Map<Addr, Aodv>
    if (!routers.has(this.gateway)) throw new RangeError(`gateway node ${this.gateway} is not in scenario ${o.scenario.name} (${o.scenario.nodes.count} nodes)`)
    this.feeds = o.feeds ?? DEMO_FEEDS
    this.receiver = new UplinkReceiver(routers.get(this.gateway)!, this.feeds)
    this.receiver.on('sample', (s) => o.onSample(s))
    const rng = new SeededRng(`sensor-field/${this.sim.seed}`)
    const sensors: Array<{ node: Addr; feed: FeedSchema }> = []
    const interval = o.sampleIntervalMs ?? 5000
    const speed = o.speed ?? 1
    const epoch = o.epochMs ?? Date.now()
    for (const [node, router] of routers) {
      if (node === this.gateway) continue
      const feed = this.feeds[(node - 1) % this.feeds.length]
      const sender = new UplinkSender({ router, gateway: this.gateway })
      this.senders.set(node, sender)
      sensors.push({ node, feed })
      const r = rng.fork('reading', node)
      const reading = feed.name === 'soil' ? new Reading(r, [32, 14], [4, 3], node) : new Reading(r, [19, 58], [5, -12], node)
      const values = (t: number) => (feed.fields.length === 2 ? reading.next(t) : feed.fields.map(() => r.float()))
      const tick = (): void => {
        const t = this.sim.scheduler.now()
        sender.send(feed, Math.round(epoch + t / speed), values(t))
        this.sim.scheduler.at(interval * (0.8 + 0.4 * r.float()), tick)
      }
      this.sim.scheduler.at((o.startMs ?? 2000) + interval * r.float(), tick)
    }
    this.sensors = sensors
  }

  /** Virtual time now, ms. */
  get now(): number {
    return this.sim.scheduler.now()
  }

  /** Run virtual time up to `ms`. */
  advanceTo(ms: number): void {
    if (ms > this.sim.scheduler.now()) this.sim.scheduler.run({ until: ms })
  }

  /** Samples the sensors sent. */
  get sent(): number {
    let n = 0
    for (const s of this.senders.values()) n += s.sent
    return n
  }

  /** The mesh as the dashboard draws it: positions, links with quality, every node's route to the gateway. */
  meshView(): MeshView {
    const hex = formatNodeAddress
    const { sim } = this
    const nodes: MeshView['nodes'] = []
    const links: MeshView['links'] = []
    const routes: MeshView['routes'] = []
    for (const [id, link] of sim.links) {
      const p = sim.medium.position(id)
      const radio = sim.medium.radio(id)
      nodes.push({
        address: hex(id), name: id === this.gateway ? 'gateway' : `sensor ${id}`, role: id === this.gateway ? 'gateway' : 'sensor', position: [p.x, p.y],
        radio: { state: radio.state, airtimeMs: Math.round(sim.metrics.value('medium', id, 'airtimeMs')), queued: radio.queueLength },
      })
      for (const n of link.neighbours()) if (id < n.addr) links.push({ a: hex(id), b: hex(n.addr), quality: Math.max(0, Math.min(1, n.quality)), ...(n.rssi !== undefined ? { rssi: n.rssi } : {}), ...(n.snr !== undefined ? { snr: n.snr } : {}) })
      const r = id === this.gateway ? undefined : (sim.protocols.get(id) as Aodv).route(this.gateway)
      if (r?.valid) routes.push({ from: hex(id), dst: hex(this.gateway), nextHop: hex(r.nextHop), hops: r.hops })
    }
    return { nodes, links, routes, trees: [] }
  }
}
