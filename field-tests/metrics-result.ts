/**
 * The metrics JSON of a run (docs/METRICS.md). Built from the delivery collector (delivery,
 * latency, jitter, recovered deliveries), the loss accounting of multicast flows (loss-reasons.ts
 * over the holder log and connectivity samples) and the per-layer counters every layer writes to
 * the MetricsRegistry (overhead, airtime, gossip cost), plus what reports draw (field-test-types.ts):
 * delivery by send time, per node, the latency distribution, the topology at the end, the schedule.
 */
import type { DeliveryStats } from './collector.ts'
import type { NodeMetrics, RunTimeline, TopologySnapshot } from './field-test-types.ts'
import { classifyLosses, type LossReasons } from './loss-reasons.ts'
import { odsbrMetrics, type OdsbrMetrics } from './odsbr-metrics.ts'
import { gossipMetrics, type GravitationalMember, type PbcastMetrics } from './gossip-metrics.ts'
import type { Simulation } from './runner.ts'
import { treeStats, type GroupTreeStats } from './tree-metrics.ts'

export interface MetricsResult {
  scenario: string
  seed: number
  protocol: string
  /** Where the numbers come from: a simulated run, or a live run's collected logs. */
  source: 'simulation' | 'live'
  nodes: number
  simSeconds: number
  wallSeconds: number
  events: number
  delivery: DeliveryStats
  latencyMs: { mean: number; p50: number; p95: number; max: number }
  /** Mean over (flow, receiver) streams with ≥ 3 first deliveries of the stdev of their inter-arrival times; null when none. */
  jitterMs: number | null
  /** Latency of first deliveries that were recovered (`Delivery.recovered`); zeros when there were none. */
  recoveredLatencyMs: { count: number; mean: number; p50: number; p95: number; max: number }
  /** Why multicast (packet, receiver) pairs were never delivered; only when the scenario has multicast flows. */
  lostForGood?: LossReasons
  /** Anonymous-gossip cost and yield; only when some 'ag' counter exists. */
  gossip?: { messages: number; bytes: number; transmissions: number; perDelivered: number | null; rounds: number; recovered: number }
  overhead: {
    controlPackets: number
    controlBytes: number
    dataTransmissions: number
    dataBytes: number
    /** Control packets transmitted per delivered data packet; null when nothing was delivered. */
    perDelivered: number | null
    /** Every frame on air (link txControlFrames + txDataFrames) per delivered packet; null when nothing was delivered. */
    framesPerDelivered: number | null
  }
  airtime: { totalSeconds: number; maxNodeShare: number }
  traffic: { flows: number; packetsSent: number }
  adversaries: number[]
  counters: Record<string, Record<string, number>>
  /** Every histogram of every layer merged over nodes: `{ layer: { name: {count, mean, min, max, p50, p95} } }`. */
  histograms: Record<string, Record<string, { count: number; mean: number; min: number; max: number; p50: number; p95: number }>>
  /** Multicast trees at the end of the run, for protocols that build them (MAODV). */
  trees?: GroupTreeStats[]
  /** ODSBR convictions (true/false), overhead by message kind, time to route around; only when protocol is odsbr (odsbr-metrics.ts). */
  odsbr?: OdsbrMetrics
  /** Per-member load of bimodal multicast; protocol pbcast or gravitational (gossip-metrics.ts). */
  pbcast?: PbcastMetrics
  /** Per (node, feed): rating, share received, load, latency; protocol gravitational (gossip-metrics.ts). */
  gravitational?: { members: GravitationalMember[] }
  /** Delivery by send time of the traffic packets (sums over points = `delivery.expected` / `delivered`). */
  timeline?: RunTimeline
  /** Per node, sorted by node: traffic sent, deliveries expected and made there, frames and airtime. */
  perNode?: NodeMetrics[]
  /** Latency of first deliveries, `[ms, fraction]` at the 0th, 1st, …, 100th percentile (within 1 %); empty when none. */
  latencyCdf?: Array<[number, number]>
  /** Node positions and mutual link-layer neighbours at the end of the run. */
  topology?: TopologySnapshot
  /** Flows built and the scenario's duration, seconds. */
  schedule?: { flows: number; durationS: number }
}

/** Timeline points for a run of `simSeconds`: at most about 60 buckets, each a whole number of seconds. */
export const TIMELINE_POINTS = 60

/** Round for readable, stable JSON (6 significant decimals is far below any effect we measure). */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

function roundHistograms(h: MetricsResult['histograms']): MetricsResult['histograms'] {
  const out: MetricsResult['histograms'] = {}
  for (const [layer, byName] of Object.entries(h)) {
    out[layer] = {}
    for (const [name, s] of Object.entries(byName)) {
      out[layer][name] = { count: s.count, mean: round6(s.mean), min: round6(s.min), max: round6(s.max), p50: round6(s.p50), p95: round6(s.p95) }
    }
  }
  return out
}

/** The delivery timeline: buckets of whole seconds by send time, covering the run (and every send). */
function timeline(sim: Simulation, simSeconds: number): RunTimeline {
  const bucketS = Math.max(1, Math.ceil(simSeconds / TIMELINE_POINTS))
  const buckets = sim.collector.bySendTime(bucketS * 1000)
  const n = Math.max(Math.ceil(simSeconds / bucketS), buckets.length)
  const points: RunTimeline['points'] = []
  for (let i = 0; i < n; i++) points.push({ t: i * bucketS, expected: buckets[i]?.expected ?? 0, delivered: buckets[i]?.delivered ?? 0 })
  return { bucketS, points }
}

/** Every node: traffic it originated, what it should have received and did, what it put on air (medium counters). */
function perNode(sim: Simulation, d: DeliveryStats): NodeMetrics[] {
  const m = sim.metrics
  const sent = sim.collector.sentBy()
  const received = new Map(d.receivers.map((r) => [r.node, r]))
  const out: NodeMetrics[] = []
  for (let node = 1; node <= sim.scenario.nodes.count; node++) {
    const r = received.get(node)
    out.push({
      node,
      sent: sent.get(node) ?? 0,
      expected: r?.expected ?? 0,
      delivered: r?.delivered ?? 0,
      txFrames: m.value('medium', node, 'txFrames'),
      txBytes: m.value('medium', node, 'txBytes'),
      airtimeMs: round6(m.value('medium', node, 'airtimeMs')),
    })
  }
  return out
}

/** The first-delivery latency at every whole percentile (the collector's histogram: within 1 %). */
function latencyCdf(sim: Simulation): Array<[number, number]> {
  const lat = sim.collector.latency
  if (lat.count === 0) return []
  const out: Array<[number, number]> = []
  for (let p = 0; p <= 100; p++) out.push([round6(lat.quantile(p / 100)), p / 100])
  return out
}

/** Positions now, and the pairs of nodes in each other's neighbour tables (quality: mean of both views). */
function topology(sim: Simulation): TopologySnapshot {
  const nodes: TopologySnapshot['nodes'] = []
  const quality = new Map<number, Map<number, number>>()
  for (let node = 1; node <= sim.scenario.nodes.count; node++) {
    const p = sim.medium.position(node)
    nodes.push({ node, x: round6(p.x), y: round6(p.y) })
    const q = new Map<number, number>()
    for (const n of sim.links.get(node)?.neighbours() ?? []) q.set(n.addr, n.quality)
    quality.set(node, q)
  }
  const links: TopologySnapshot['links'] = []
  for (const [a, qa] of quality) {
    for (const [b, ab] of qa) {
      if (b <= a) continue
      const ba = quality.get(b)?.get(a)
      if (ba === undefined) continue
      const both = [ab, ba].filter((x) => Number.isFinite(x))
      links.push(both.length ? { a, b, quality: round6(both.reduce((x, y) => x + y, 0) / both.length) } : { a, b })
    }
  }
  links.sort((x, y) => x.a - y.a || x.b - y.b)
  return { nodes, links }
}

export function buildMetricsResult(sim: Simulation, wallSeconds: number): MetricsResult {
  const m = sim.metrics
  const simSeconds = sim.scheduler.now() / 1000
  const d = sim.collector.stats()
  const lat = sim.collector.latency
  let maxAirMs = 0
  for (let id = 1; id <= sim.scenario.nodes.count; id++) maxAirMs = Math.max(maxAirMs, m.value('medium', id, 'airtimeMs'))
  const controlPackets = m.total('link', 'txControlFrames')
  const dataTransmissions = m.total('link', 'txDataFrames')
  const trees = treeStats(sim.protocols)
  const counters = m.totals()
  const rec = sim.collector.recoveredLatency
  const jitter = sim.collector.jitterMs()
  const multicast = sim.collector.lossFlows('multicast')
  const lost = multicast.length
    ? classifyLosses({ flows: multicast, holders: sim.holders, connectivity: sim.connectivity, endMs: sim.scheduler.now() })
    : undefined
  const ag = counters.ag
  const agv = (name: string) => ag?.[name] ?? 0
  const gossipMessages = agv('walkHops') + agv('cachedSent') + agv('repliesSent')
  const odsbr = sim.scenario.protocol === 'odsbr' ? odsbrMetrics(sim, d.delivered) : null
  const gossipM = gossipMetrics(sim, d.delivered, sim.groups)
  return {
    scenario: sim.scenario.name,
    seed: sim.seed,
    protocol: sim.scenario.protocol,
    source: 'simulation',
    nodes: sim.scenario.nodes.count,
    simSeconds: round6(simSeconds),
    wallSeconds: round6(wallSeconds),
    events: sim.scheduler.eventsRun,
    delivery: {
      ...d,
      ratio: round6(d.ratio),
      perReceiver: {
        min: round6(d.perReceiver.min),
        mean: round6(d.perReceiver.mean),
        max: round6(d.perReceiver.max),
        stdev: round6(d.perReceiver.stdev),
      },
    },
    latencyMs: { mean: round6(lat.mean), p50: round6(lat.quantile(0.5)), p95: round6(lat.quantile(0.95)), max: round6(lat.count ? lat.max : 0) },
    jitterMs: jitter === null ? null : round6(jitter),
    recoveredLatencyMs: {
      count: rec.count,
      mean: round6(rec.mean),
      p50: round6(rec.quantile(0.5)),
      p95: round6(rec.quantile(0.95)),
      max: round6(rec.count ? rec.max : 0),
    },
    ...(lost ? { lostForGood: lost } : {}),
    ...(ag
      ? {
          gossip: {
            messages: gossipMessages,
            bytes: agv('walkBytes') + agv('cachedBytes') + agv('replyBytes'),
            transmissions: agv('walkHops') + agv('routedHops'),
            perDelivered: d.delivered ? round6(gossipMessages / d.delivered) : null,
            rounds: agv('rounds'),
            recovered: agv('recovered'),
          },
        }
      : {}),
    overhead: {
      controlPackets,
      controlBytes: m.total('link', 'txControlBytes'),
      dataTransmissions,
      dataBytes: m.total('link', 'txDataBytes'),
      perDelivered: d.delivered ? round6(controlPackets / d.delivered) : null,
      framesPerDelivered: d.delivered ? round6((controlPackets + dataTransmissions) / d.delivered) : null,
    },
    airtime: {
      totalSeconds: round6(m.total('medium', 'airtimeMs') / 1000),
      maxNodeShare: simSeconds > 0 ? round6(maxAirMs / 1000 / simSeconds) : 0,
    },
    traffic: { flows: sim.flows, packetsSent: sim.collector.sentPackets },
    adversaries: sim.adversaries,
    counters,
    histograms: roundHistograms(m.histogramTotals()),
    ...(trees ? { trees } : {}),
    ...(odsbr ? { odsbr } : {}),
    ...(gossipM ? gossipM : {}),
    timeline: timeline(sim, simSeconds),
    perNode: perNode(sim, d),
    latencyCdf: latencyCdf(sim),
    topology: topology(sim),
    schedule: { flows: sim.flows, durationS: sim.scenario.duration },
  }
}
