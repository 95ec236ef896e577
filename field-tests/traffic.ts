/**
 * Traffic generators: constant-bit-rate flows (unicast, multicast, broadcast). A scenario's traffic
 * entries are expanded into flows (one sender each) with their receivers resolved from the seeded
 * Rng, and every packet carries a 6-byte application header (flow id u16, sequence u32, big endian)
 * padded with zeros to the configured size, so deliveries can be matched to what was sent.
 */
import { BROADCAST, groupAddr, type Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { ConfigError } from '../core/errors.ts'
import type { SeededRng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { TrafficSpec } from './scenario.ts'

export const APP_HEADER_BYTES = 6

export interface AppHeader {
  flow: number
  seq: number
}

export function encodeAppPacket(flow: number, seq: number, size: number): Uint8Array {
  const w = new ByteWriter(Math.max(size, APP_HEADER_BYTES))
  w.u16(flow).u32(seq)
  return w.bytes
}

/** Total: returns the header or throws DecodeError. */
export function decodeAppHeader(bytes: Uint8Array): AppHeader {
  const r = new ByteReader(bytes, 'app packet')
  return { flow: r.u16('flow'), seq: r.u32('seq') }
}

export interface Flow {
  id: number
  pattern: TrafficSpec['pattern']
  from: Addr
  /** Node address, group address or BROADCAST. */
  dst: Addr
  /** Nodes expected to receive every packet. */
  receivers: Addr[]
  startMs: number
  stopMs: number
  intervalMs: number
  size: number
  /**
   * Whether `receiver` is expected to get packet `seq` (gravitational gossip: only the packets in
   * its audience, PROTOCOLS.md §6); absent: every receiver expects every packet.
   */
  wants?: (receiver: Addr, seq: number) => boolean
}

/** Distinct random picks from 1..n, excluding `exclude`; sorted, or in draw order. */
function pickNodes(rng: SeededRng, n: number, k: number, exclude: ReadonlySet<number>, path: string, sorted = true): number[] {
  const pool: number[] = []
  for (let id = 1; id <= n; id++) if (!exclude.has(id)) pool.push(id)
  if (pool.length < k) throw new ConfigError(path, `needs ${k} distinct nodes but only ${pool.length} are available`)
  rng.shuffle(pool)
  const out = pool.slice(0, k)
  return sorted ? out.sort((a, b) => a - b) : out
}

/** Expand traffic specs into flows. Multicast entries also return the group memberships to set up. */
export function buildFlows(
  specs: readonly TrafficSpec[],
  nodes: number,
  durationS: number,
  rng: SeededRng,
): { flows: Flow[]; members: Map<Addr, Addr[]>; ratings: Map<Addr, Map<Addr, number>> } {
  const flows: Flow[] = []
  const members = new Map<Addr, Addr[]>()
  const ratings = new Map<Addr, Map<Addr, number>>()
  specs.forEach((spec, i) => {
    const r = rng.fork('traffic', i)
    const path = `traffic.${i}`
    const startOf = () => (Array.isArray(spec.start) ? r.range(spec.start[0], spec.start[1]) : spec.start) * 1000
    const base = { pattern: spec.pattern, stopMs: (spec.stop ?? durationS) * 1000, intervalMs: 1000 / spec.rate, size: spec.size }
    const add = (from: Addr, dst: Addr, receivers: Addr[]) => {
      if (flows.length >= 0xffff) throw new ConfigError(path, 'more than 65535 flows')
      flows.push({ id: flows.length, from, dst, receivers, startMs: startOf(), ...base })
    }
    const senders = spec.from === undefined ? undefined : [spec.from].flat()
    if (spec.pattern === 'unicast') {
      if (senders && spec.to !== undefined) {
        for (const from of senders) add(from, spec.to, [spec.to])
      } else {
        for (let f = 0; f < spec.flows; f++) {
          const exclude = new Set(spec.to === undefined ? [] : [spec.to])
          const from = senders ? senders[f % senders.length] : pickNodes(r, nodes, 1, exclude, `${path}.from`)[0]
          const to = spec.to ?? pickNodes(r, nodes, 1, new Set([from]), `${path}.to`)[0]
          if (to === from) throw new ConfigError(`${path}.to`, 'is also the sender')
          add(from, to, [to])
        }
      }
    } else if (spec.pattern === 'broadcast') {
      const from = senders ?? pickNodes(r, nodes, spec.senders, new Set(), `${path}.senders`)
      for (const s of from) {
        const all: Addr[] = []
        for (let id = 1; id <= nodes; id++) if (id !== s) all.push(id)
        add(s, BROADCAST, all)
      }
    } else {
      for (let g = 0; g < spec.groups; g++) {
        const group = groupAddr(spec.group + g)
        // Kept in draw order: the first `fullRated` receivers stand for a contract's path.
        const receivers = Array.isArray(spec.receivers) ? [...new Set(spec.receivers)] : pickNodes(r, nodes, spec.receivers, new Set(), `${path}.receivers`, false)
        const from = senders ?? pickNodes(r, nodes, spec.senders, new Set(), `${path}.senders`)
        const known = members.get(group) ?? []
        members.set(group, [...new Set([...known, ...receivers])].sort((a, b) => a - b))
        const rated = ratings.get(group) ?? new Map<Addr, number>()
        ratings.set(group, rated)
        receivers.forEach((id, k) => {
          const rating = ratingOf(spec, k, r)
          rated.set(id, Math.max(rated.get(id) ?? 0, rating))
        })
        for (const s of from) {
          if (!rated.has(s)) rated.set(s, 1) // a publisher holds its own feed; as a receiver it keeps its rating
          add(s, group, [])
        }
      }
    }
  })
  // A multicast packet is expected at every member of its group but the sender, whichever traffic
  // entry made them members (PROTOCOLS.md: per receiver, summed).
  for (const f of flows) if (f.pattern === 'multicast') f.receivers = members.get(f.dst)!.filter((id) => id !== f.from)
  return { flows, members, ratings }
}

/** The rating of the k-th receiver (in draw order) of a multicast entry. */
function ratingOf(spec: TrafficSpec, k: number, rng: SeededRng): number {
  if (spec.ratings === undefined || k < spec.fullRated) return 1
  if (Array.isArray(spec.ratings)) return spec.ratings[(k - spec.fullRated) % spec.ratings.length]
  return spec.ratings.min + rng.float() * (spec.ratings.max - spec.ratings.min)
}

/**
 * Start a flow's packets: the first at `startMs`, then one every `intervalMs` while before `stopMs`.
 * Returns a timer that stops the flow.
 */
export function startFlow(
  flow: Flow,
  scheduler: Scheduler,
  send: (flow: Flow, seq: number, payload: Uint8Array) => void,
): Timer {
  let seq = 0
  let timer: Timer | undefined
  const tick = () => {
    if (scheduler.now() >= flow.stopMs) return
    send(flow, seq, encodeAppPacket(flow.id, seq, flow.size))
    seq++
    timer = scheduler.at(flow.intervalMs, tick)
  }
  timer = scheduler.at(Math.max(0, flow.startMs - scheduler.now()), tick)
  return { cancel: () => timer?.cancel() }
}
