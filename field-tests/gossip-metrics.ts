/**
 * The `pbcast` and `gravitational` sections of a run's metrics (docs/METRICS.md), for `protocol:
 * pbcast` and `protocol: gravitational`:
 * - `pbcast.members`: each member's load (datagrams and bytes sent and received, per round and per
 *   second), from its own counters (scope 'pbcast'); a member is a node in some group or publishing
 *   to one;
 * - `gravitational.members`: one row per (node, feed) subscription: its rating, the share of the
 *   feed it got (first deliveries / samples published on the feed's flows), its node's whole load
 *   (a node in several feeds pays for all of them: compare `loadBytes` with `ratedRate`, Σ
 *   rating·samples/s over its feeds), and its mean latency.
 */
import { GROUP_BASE, type Addr } from '../core/addr.ts'
import type { Simulation } from './runner.ts'
import { PbcastProtocol } from '../gossip/pbcast/pbcast-protocol.ts'

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6

export interface PbcastMemberLoad {
  node: Addr
  datagramsSent: number
  datagramsReceived: number
  bytesSent: number
  bytesReceived: number
  rounds: number
  /** (sent + received) datagrams per round. */
  datagramsPerRound: number
  /** (sent + received) bytes per simulated second. */
  bytesPerS: number
}

export interface PbcastMetrics {
  members: PbcastMemberLoad[]
  /** Over members: datagrams (sent + received) per round. */
  datagramsPerRound: { mean: number; min: number; max: number }
  /** Copies that arrived again, per delivery. */
  duplicatesPerDelivery: number | null
  /** Totals over nodes of the pbcast counters. */
  counters: Record<string, number>
}

export interface GravitationalMember {
  node: Addr
  /** Group number (the stream). */
  feed: number
  rating: number
  /** First deliveries / samples published on the feed (what it received of the whole feed). */
  share: number
  /** This feed's share of the node's pbcast bytes sent + received (DATA, digest and solicit entries of the feed). */
  feedLoadBytes: number
  feedLoadBytesPerS: number
  /** The node's pbcast bytes sent + received over the run (all its feeds). */
  loadBytes: number
  loadBytesPerS: number
  /** Feeds the node is in, and Σ rating·samples/s over them (what it asked to receive per second). */
  feeds: number
  ratedRate: number
  /** Feeds the node publishes (a publisher also pays for sending its feed first and repairing it). */
  publishes: number
  latencyMs: number | null
}

export interface GossipMetricsResult {
  pbcast: PbcastMetrics
  gravitational?: { members: GravitationalMember[] }
}

export function gossipMetrics(sim: Simulation, delivered: number, groups: { members: ReadonlyMap<Addr, readonly Addr[]>; ratings: ReadonlyMap<Addr, ReadonlyMap<Addr, number>> }): GossipMetricsResult | null {
  const protocol = sim.scenario.protocol
  if (protocol !== 'pbcast' && protocol !== 'gravitational') return null
  const m = sim.metrics
  const seconds = sim.scheduler.now() / 1000 || 1
  const flows = sim.collector.flowList().filter((f) => f.pattern === 'multicast')
  const inGroup = new Set<Addr>()
  for (const ids of groups.members.values()) for (const id of ids) inGroup.add(id)
  for (const f of flows) inGroup.add(f.from)
  const members: PbcastMemberLoad[] = [...inGroup].sort((a, b) => a - b).map((node) => {
    const v = (name: string) => m.value('pbcast', node, name)
    const rounds = v('rounds')
    const dgrams = v('datagramsSent') + v('datagramsReceived')
    return {
      node, datagramsSent: v('datagramsSent'), datagramsReceived: v('datagramsReceived'), bytesSent: v('bytesSent'), bytesReceived: v('bytesReceived'),
      rounds, datagramsPerRound: rounds ? r6(dgrams / rounds) : 0, bytesPerS: r6((v('bytesSent') + v('bytesReceived')) / seconds),
    }
  })
  const per = members.map((x) => x.datagramsPerRound)
  const totals = m.totals().pbcast ?? {}
  const pbcast: PbcastMetrics = {
    members,
    datagramsPerRound: per.length ? { mean: r6(per.reduce((a, b) => a + b, 0) / per.length), min: Math.min(...per), max: Math.max(...per) } : { mean: 0, min: 0, max: 0 },
    duplicatesPerDelivery: delivered ? r6((totals.duplicates ?? 0) / delivered) : null,
    counters: totals,
  }
  if (protocol !== 'gravitational') return { pbcast }

  // Samples per second published on each group, and each node's Σ rating·rate.
  const rate = new Map<Addr, number>()
  for (const f of flows) {
    const activeS = Math.max(0, Math.min(f.stopMs, sim.scheduler.now()) - f.startMs) / 1000
    rate.set(f.dst, (rate.get(f.dst) ?? 0) + sim.collector.receiverStats(f.id, f.from).sent / (activeS || 1))
  }
  const load = new Map(members.map((x) => [x.node, x]))
  const rows: GravitationalMember[] = []
  const nodeFeeds = new Map<Addr, Array<{ group: Addr; rating: number }>>()
  for (const [group, ids] of groups.members) for (const node of ids) {
    const rating = groups.ratings.get(group)?.get(node) ?? 1
    nodeFeeds.set(node, [...(nodeFeeds.get(node) ?? []), { group, rating }])
  }
  const publishes = new Map<Addr, number>()
  for (const f of flows) publishes.set(f.from, (publishes.get(f.from) ?? 0) + 1)
  for (const [node, feeds] of [...nodeFeeds].sort((a, b) => a[0] - b[0])) {
    const ratedRate = feeds.reduce((a, f) => a + f.rating * (rate.get(f.group) ?? 0), 0)
    const l = load.get(node)
    const loadBytes = l ? l.bytesSent + l.bytesReceived : 0
    const proto = sim.protocols.get(node)
    const byStream = proto instanceof PbcastProtocol ? proto.pbcast.loadByStream() : new Map<number, { bytesSent: number; bytesReceived: number }>()
    for (const { group, rating } of feeds) {
      let got = 0, sent = 0, latSum = 0, latN = 0
      for (const f of flows) {
        if (f.dst !== group || f.from === node) continue
        const st = sim.collector.receiverStats(f.id, node)
        got += st.delivered
        sent += st.sent
        if (st.meanLatencyMs !== null) {
          latSum += st.meanLatencyMs * st.delivered
          latN += st.delivered
        }
      }
      if (sent === 0) continue // its own feed only
      const fl = byStream.get(group - GROUP_BASE)
      const feedLoadBytes = fl ? fl.bytesSent + fl.bytesReceived : 0
      rows.push({
        node, feed: group - GROUP_BASE, rating: r6(rating), share: r6(got / sent), feedLoadBytes, feedLoadBytesPerS: r6(feedLoadBytes / seconds),
        loadBytes, loadBytesPerS: r6(loadBytes / seconds),
        feeds: feeds.length, ratedRate: r6(ratedRate), publishes: publishes.get(node) ?? 0, latencyMs: latN ? r6(latSum / latN) : null,
      })
    }
  }
  return { pbcast, gravitational: { members: rows } }
}
