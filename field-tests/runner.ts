/**
 * The scenario runner: builds a simulated network from a validated scenario (medium, radios, link
 * layers, protocols, adversaries, traffic), runs it in virtual time and returns the metrics JSON
 * documented in docs/METRICS.md. Same scenario and seed → identical result (but `wallSeconds`).
 */
import { GROUP_BASE, type Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import { tryDecode } from '../core/errors.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { LinkLayer } from '../adhoc/link.ts'
import type { NetProtocol } from '../adhoc/net-protocol.ts'
import { SimMedium } from '../hardware/sim-medium.ts'
import { RandomWaypoint, ScriptedWaypoints, StaticMobility, type Mobility, type Position } from '../hardware/mobility.ts'
import { placeGrid, placeUniform } from '../hardware/placement.ts'
import { assignAdversaries } from './adversaries.ts'
import { SimNetwork } from '../crypto/sim-network.ts'
import { DeliveryCollector } from './collector.ts'
import { ConnectivitySampler, decodeCutoffM } from './connectivity.ts'
import { HolderLog } from './loss-reasons.ts'
import { buildMetricsResult, type MetricsResult } from './metrics-result.ts'
import { resolveLayers } from './layers.ts'
import type { Scenario } from './scenario.ts'
import { buildFlows, decodeAppHeader, startFlow } from './traffic.ts'
import type { ScenarioGroups } from './protocols.ts'

export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number
  /** Called after each slice of virtual time (about 1 % of the run). */
  onProgress?: (simMs: number, totalMs: number) => void
}

/** A built, not yet run, simulation: exposed for tests and tools that want to poke inside. */
export interface Simulation {
  scenario: Scenario
  seed: number
  scheduler: SimScheduler
  medium: SimMedium
  metrics: MetricsRegistry
  links: Map<Addr, LinkLayer>
  protocols: Map<Addr, NetProtocol>
  collector: DeliveryCollector
  /** Who held which multicast packet when (loss-reasons.ts). */
  holders: HolderLog
  /** Radio components over time; only when the scenario has multicast flows (connectivity.ts). */
  connectivity?: ConnectivitySampler
  adversaries: Addr[]
  flows: number
  /** Multicast groups of the traffic: members, ratings (gravitational), publishers. */
  groups: ScenarioGroups
  /** Receives app-send/app-deliver events when a trace is attached (field-tests/trace.ts). */
  traceApp?: (event: Record<string, unknown>) => void
}

/**
 * The history events a recovering protocol (anonymous gossip, gossip/anonymous/ag-types.ts) emits,
 * as far as the loss accounting needs them. Every protocol is subscribed; one that never emits
 * them costs nothing.
 */
interface HistoryEmitter {
  on(event: 'history-add' | 'history-evict', fn: (e: { payload: Uint8Array; at: number }) => void): unknown
}

function positions(s: Scenario, rng: SeededRng): Position[] {
  const { count, placement, spacing } = s.nodes
  if (placement === 'grid') return placeGrid(count, s.field.width, s.field.height, spacing)
  if (placement === 'explicit') return s.nodes.positions!.map(([x, y]) => ({ x, y }))
  return placeUniform(count, s.field.width, s.field.height, rng.fork('placement'))
}

function mobility(s: Scenario, id: number, start: Position, rng: SeededRng): Mobility {
  const m = s.mobility
  if (m.model === 'random-waypoint') {
    return new RandomWaypoint({
      rng: rng.fork('mobility', id),
      width: s.field.width,
      height: s.field.height,
      minSpeed: m.minSpeed,
      maxSpeed: m.maxSpeed,
      pauseMs: m.pause * 1000,
      start,
    })
  }
  const script = m.model === 'waypoints' ? m.waypoints?.[String(id)] : undefined
  if (script) return new ScriptedWaypoints([{ tMs: 0, ...start }, ...script.map(([t, x, y]) => ({ tMs: t * 1000, x, y }))])
  return new StaticMobility(start)
}

/** Build a simulation from a validated scenario. Throws ConfigError for impossible requests. */
export function buildSimulation(scenario: Scenario, opts: RunOptions = {}): Simulation {
  const seed = opts.seed ?? scenario.seed
  const rng = new SeededRng(seed)
  const scheduler = new SimScheduler()
  const metrics = new MetricsRegistry()
  const n = scenario.nodes.count

  const layers = resolveLayers(scenario)
  const medium = new SimMedium({ scheduler, rng: rng.fork('medium'), radio: layers.radio, metrics })
  const start = positions(scenario, rng)
  for (let id = 1; id <= n; id++) medium.addNode(id, mobility(scenario, id, start[id - 1], rng))
  for (const l of scenario.links) medium.setLinkDown(l.a, l.b, l.down[0] * 1000, l.down[1] * 1000)

  const { flows, members, ratings } = buildFlows(scenario.traffic, n, scenario.duration, rng)
  const publishers = new Map<Addr, Addr[]>()
  for (const f of flows) if (f.pattern === 'multicast') publishers.set(f.dst, [...(publishers.get(f.dst) ?? []), f.from])
  const groups = { members, ratings, publishers }
  if (layers.protocol.directory) {
    // pbcast numbers messages per (origin, stream): two flows of one sender on one group would
    // share that numbering, and the expected deliveries (by flow seq) would not match.
    const seen = new Set<string>()
    for (const f of flows) {
      if (f.pattern !== 'multicast') continue
      const k = `${f.from}/${f.dst}`
      if (seen.has(k)) throw new ConfigError('traffic', `node ${f.from} sends twice to group ${f.dst - GROUP_BASE}: protocol ${scenario.protocol} needs one flow per sender and group (merge the entries)`)
      seen.add(k)
    }
  }
  if (layers.protocol.wants) {
    for (const f of flows) if (f.pattern === 'multicast') f.wants = layers.protocol.wants(layers.protocolConfig, ratings.get(f.dst) ?? new Map(), f.from, f.dst)
  }
  const trusted = new Set<Addr>()
  for (const f of flows) {
    trusted.add(f.from)
    for (const r of f.receivers) if (f.pattern !== 'broadcast') trusted.add(r)
  }
  const adversaries = assignAdversaries(scenario.adversaries, n, trusted, rng)
  // Wormholes: their private tunnels (each pair once).
  for (const [id, beh] of adversaries) for (const peer of beh.tunnelPeers ?? []) if (id < peer) medium.addTunnel(id, peer)

  const network = layers.security.config.mode === 'authenticated' ? new SimNetwork({ nodes: n, security: layers.security, scheduler, rng, metrics }) : undefined
  const links = new Map<Addr, LinkLayer>()
  const protocols = new Map<Addr, NetProtocol>()
  const holders = new HolderLog()
  const collector = new DeliveryCollector({ onFirstDelivery: (node, flow, seq, at) => holders.held(node, flow, seq, at) })
  const sim: Simulation = { scenario, seed, scheduler, medium, metrics, links, protocols, collector, holders, adversaries: [...adversaries.keys()], flows: flows.length, groups }
  for (let id = 1; id <= n; id++) {
    const security = network?.node(id)
    const link = new LinkLayer({
      address: id,
      radio: medium.radio(id),
      scheduler,
      rng: rng.fork('link', id),
      metrics: metrics.scope('link', id),
      config: layers.link,
      auth: security?.link,
    })
    const proto = layers.protocol.create({
      id, link, scheduler, rng: rng.fork('protocol', id), metrics, config: layers.protocolConfig, adversary: adversaries.get(id), security,
      securityMode: layers.security.config.mode, linkConfig: layers.link, groups, position: (node) => medium.position(node),
    })
    proto.on('deliver', (d) => {
      const latencyMs = collector.delivered(id, d.payload, d.at, d.recovered === true)
      if (sim.traceApp) {
        const h = tryDecode(decodeAppHeader, d.payload)
        sim.traceApp({ t: d.at, node: id, ev: 'app-deliver', origin: d.origin, flow: h?.flow, seq: h?.seq, hops: d.hops, latencyMs })
      }
    })
    const history = proto as unknown as HistoryEmitter
    history.on('history-add', (e) => {
      const h = tryDecode(decodeAppHeader, e.payload)
      if (h) holders.held(id, h.flow, h.seq, e.at)
    })
    history.on('history-evict', (e) => {
      const h = tryDecode(decodeAppHeader, e.payload)
      if (h) holders.evicted(id, h.flow, h.seq, e.at)
    })
    links.set(id, link)
    protocols.set(id, proto)
  }
  if (!layers.protocol.directory) for (const [group, ids] of members) for (const id of ids) protocols.get(id)!.join(group)

  for (const flow of flows) {
    collector.addFlow(flow)
    if (flow.pattern === 'multicast') holders.track(flow.id)
    const sender = protocols.get(flow.from)!
    startFlow(flow, scheduler, (f, seq, payload) => {
      collector.sent(f.id, seq, scheduler.now())
      sim.traceApp?.({ t: scheduler.now(), node: f.from, ev: 'app-send', flow: f.id, seq, dst: f.dst, size: payload.length })
      sender.send(f.dst, payload)
    })
  }

  if (flows.some((f) => f.pattern === 'multicast')) {
    sim.connectivity = new ConnectivitySampler(medium, { cutoffM: decodeCutoffM(medium) })
    sim.connectivity.schedule(scheduler, scenario.duration * 1000)
  }

  return sim
}

/** Run a built simulation to the scenario's duration and compute its metrics. */
export function runSimulation(sim: Simulation, opts: RunOptions = {}): MetricsResult {
  const wallStart = performance.now()
  const totalMs = sim.scenario.duration * 1000
  const slice = Math.max(totalMs / 100, 1)
  for (let t = slice; ; t += slice) {
    const until = Math.min(t, totalMs)
    sim.scheduler.run({ until })
    opts.onProgress?.(until, totalMs)
    if (until >= totalMs) break
  }
  const result = buildMetricsResult(sim, (performance.now() - wallStart) / 1000)
  for (const p of sim.protocols.values()) p.close()
  for (const l of sim.links.values()) l.close()
  return result
}

export function runScenario(scenario: Scenario, opts: RunOptions = {}): MetricsResult {
  return runSimulation(buildSimulation(scenario, opts), opts)
}
