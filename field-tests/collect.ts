/**
 * `spinmesh field-test collect DIR...` (issue 10): a live run's metrics from its nodes' event logs
 * (runtime/event-log.ts) and its schedule (plan.ts), in the simulator's metrics JSON
 * (metrics-result.ts, docs/METRICS.md) with `source: 'live'`, so one report shows either.
 *
 * Reading: every `<address as 8 hex>.jsonl` and rotated `.jsonl.N` in each DIR and its immediate
 * subdirectories (a plan's `logs/`, or one folder per gateway; a file reached by two paths is read
 * once, by its real path), streamed in chunks with a bounded line length. Damage is counted, never thrown: a last line without newline that is not JSON is
 * `truncated` (a crash mid-write), a line that is not JSON (or too long) `corrupt`, JSON that is
 * not a log event (`t`, `node`, `ev`, optional `wall`) `invalid`.
 *
 * Clocks: each event's `wall` (or, without one, the wall time its file's `log-start` maps `t` to)
 * is moved onto the reference node's clock with the offsets clock-sync.ts estimates from frames
 * heard both ways (the reference: the schedule's first node in the largest group of nodes linked
 * by measured pairs). The run is [startWallMs, + durationS] on that clock (without startWallMs:
 * the start the senders' packet times imply); frames outside it are read but not counted, as the
 * simulator stops at its duration. Senders time their flows on their own clocks, so sends are not
 * windowed (the schedule bounds their seqs), deliveries count from the earliest send to the run's
 * end, and neighbour changes from before the run (daemons start early) shape the topology.
 *
 * Metrics have the simulator's meaning: the packets expected are the schedule's — every packet
 * each flow's startFlow would send within the run (as runtime/node-flows.ts counts them), at its
 * app-send time when one was logged, else at its planned time (a node that started late, died or
 * lost log lines: `collect.notSent`; `skippedBySenders` and `logDropped` sum the `flow-skipped`
 * and `log-dropped` lines seen) — times the schedule's receivers of its flow; `traffic.packetsSent`
 * and `perNode.sent` count the packets with an app-send line. The first app-deliver per (flow,
 * seq, receiver) is the delivery, later ones duplicates, others stray; overhead and airtime from `tx` events (control /
 * data by adhoc/protocols.ts trafficClass, as the link layer counts); timeline, perNode,
 * latencyCdf and topology as metrics-result.ts defines them, nodes keyed by the schedule's scenario
 * id (as the simulator's) with their `address`; nodes not in the schedule follow, keyed by address. What logs cannot give is empty:
 * `events` 0 (no scheduler), `counters` and `histograms` {}, `recoveredLatencyMs` zeros (deliveries
 * are not marked recovered), no lostForGood / gossip / trees / odsbr / pbcast; gravitational
 * audiences (`wants`) are not in a schedule, so every receiver expects every packet.
 */
import { createReadStream, readdirSync, realpathSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError } from '../core/errors.ts'
import { trafficClass } from '../adhoc/protocols.ts'
import { ClockSync, median, type ClockSyncOptions } from './clock-sync.ts'
import { findSchedule, loadSchedule, parseSchedule } from './schedule.ts'
import { DeliveryCollector } from './collector.ts'
import type { CollectInfo, LogEvent, NodeMetrics, RunSchedule, RunTimeline, ScheduledFlow, TopologySnapshot } from './field-test-types.ts'
import { round6, TIMELINE_POINTS, type MetricsResult } from './metrics-result.ts'
import { encodeAppPacket } from './traffic.ts'

/** Longer lines are `corrupt` (and not held in memory beyond this). */
export const MAX_LINE_BYTES = 64 * 1024
/** Without neighbour events, a node's links at the end are the nodes it heard beacons from in this last stretch, ms. */
export const TOPOLOGY_BEACON_WINDOW_MS = 30_000
/** Events this close outside the run still count (clock estimates are not exact), ms. */
const RUN_SLACK_MS = 1
/** Sends with seqs this far past the flow's last scheduled packet are ignored (damage). */
const SEQ_MARGIN = 1024
/** A delivery whose log line carries no flow and seq: the collector counts it malformed. */
const NO_HEADER = new Uint8Array(0)

export type LineVerdict = LogEvent | 'truncated' | 'corrupt' | 'invalid'

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** Whether a parsed JSON value is a log event. */
export function isLogEvent(v: unknown): v is LogEvent {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const o = v as Record<string, unknown>
  return isNum(o.t) && isInt(o.node) && o.node >= 0 && o.node <= 0xffffffff && typeof o.ev === 'string' && o.ev.length > 0 && (o.wall === undefined || isNum(o.wall))
}

/** One line of a log (without its newline); `last`: the file's last line, with no newline after it. Total. */
export function classifyLine(text: string, last = false): LineVerdict {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return last ? 'truncated' : 'corrupt'
  }
  return isLogEvent(v) ? v : 'invalid'
}

/** Splits a byte stream into lines of at most `max` bytes; longer lines come out as `null`. */
export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  private overlong = false

  constructor(private readonly onLine: (line: string | null, last: boolean) => void, private readonly max = MAX_LINE_BYTES) {}

  push(chunk: Uint8Array): void {
    let from = 0
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
      this.take(chunk.subarray(from, nl))
      this.emit(false)
      from = nl + 1
    }
    if (from < chunk.length) this.take(chunk.subarray(from))
  }

  /** The end of the stream: a line without newline is the last one. */
  end(): void {
    if (this.size > 0 || this.overlong) this.emit(true)
  }

  private take(bytes: Uint8Array): void {
    if (this.overlong || bytes.length === 0) return
    if (this.size + bytes.length > this.max) {
      this.overlong = true
      this.parts = []
      this.size = 0
      return
    }
    this.parts.push(Buffer.from(bytes))
    this.size += bytes.length
  }

  private emit(last: boolean): void {
    let line: string | null = null
    if (!this.overlong) {
      line = Buffer.concat(this.parts, this.size).toString('utf8')
      if (line.endsWith('\r')) line = line.slice(0, -1)
    }
    this.parts = []
    this.size = 0
    this.overlong = false
    this.onLine(line, last)
  }
}

export interface LogFile {
  path: string
  /** The node address in its name. */
  node: number
  /** 0 for `.jsonl`, N for `.jsonl.N` (higher is older). */
  rotation: number
}

const LOG_NAME = /^([0-9a-f]{8})\.jsonl(?:\.(\d{1,6}))?$/i

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch (e) {
    throw new ConfigError('', `cannot read log directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

/** Event logs in each dir and its immediate subdirectories, per node oldest first; each file once (by real path). */
export function findLogFiles(dirs: readonly string[]): LogFile[] {
  const out: LogFile[] = []
  const seen = new Set<string>()
  const scan = (dir: string, depth: number) => {
    for (const name of listDir(dir)) {
      const path = join(dir, name)
      const m = LOG_NAME.exec(name)
      if (m) {
        const real = realPath(path)
        if (!seen.has(real)) out.push({ path, node: parseInt(m[1], 16), rotation: m[2] === undefined ? 0 : Number(m[2]) })
        seen.add(real)
      } else if (depth === 0 && !name.startsWith('.') && statSync(path, { throwIfNoEntry: false })?.isDirectory()) scan(path, 1)
    }
  }
  for (const d of dirs) scan(d, 0)
  return out.sort((a, b) => a.node - b.node || b.rotation - a.rotation || (a.path < b.path ? -1 : 1))
}

export interface ReadCounts {
  files: number
  lines: number
  events: number
  skipped: CollectInfo['skipped']
}

/**
 * Stream log files, handing each event with its wall time (the line's `wall`, else the file's last
 * `log-start` mapping of `t`, else `t`) to `onEvent`. Never throws on content; unreadable files
 * are ConfigErrors.
 */
export async function readLogFiles(files: readonly LogFile[], onEvent: (e: LogEvent, wall: number) => void, maxLineBytes = MAX_LINE_BYTES): Promise<ReadCounts> {
  const counts: ReadCounts = { files: 0, lines: 0, events: 0, skipped: { truncated: 0, corrupt: 0, invalid: 0 } }
  for (const f of files) {
    counts.files++
    let start: { t: number; wall: number } | undefined
    const splitter = new LineSplitter((line, last) => {
      counts.lines++
      const v = line === null ? 'corrupt' : classifyLine(line, last)
      if (typeof v === 'string') {
        counts.skipped[v]++
        return
      }
      counts.events++
      if (v.ev === 'log-start' && v.wall !== undefined) start = { t: v.t, wall: v.wall }
      onEvent(v, v.wall ?? (start ? start.wall + (v.t - start.t) : v.t))
    }, maxLineBytes)
    try {
      for await (const chunk of createReadStream(f.path, { highWaterMark: 64 * 1024 })) splitter.push(chunk as Buffer)
    } catch (e) {
      throw new ConfigError('', `cannot read event log ${f.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
    splitter.end()
  }
  return counts
}

// ---------------------------------------------------------------------------------------------
// The metrics

/** What a live run's metrics carry (metrics-result.ts fields, all of the report's set). */
export type LiveMetricsResult = MetricsResult & {
  source: 'live'
  timeline: RunTimeline
  perNode: NodeMetrics[]
  latencyCdf: Array<[number, number]>
  topology: TopologySnapshot
  collect: CollectInfo
  schedule: { flows: number; durationS: number }
}

interface Tx { node: number; wall: number; len: number; airtimeMs: number; own: boolean; data: boolean }
interface Stamp { node: number; wall: number }
interface Send extends Stamp { flow: number; seq: number }
interface Deliver extends Stamp { flow: number | undefined; seq: number | undefined }
interface Nb extends Stamp { neighbour: number; up: boolean }
interface Heard extends Stamp { src: number }


/**
 * Planned times (ms from the run's start) of the packets flow `f` sends, index = seq: the first at
 * startS, then every 1000/rate ms (added up, as startFlow's timers and runtime/node-flows.ts add
 * them) while before stopS, and not after the run's end (where the simulator stops).
 */
export function scheduledPackets(f: ScheduledFlow, durationMs: number): number[] {
  const out: number[] = []
  const intervalMs = 1000 / f.rate
  const stopMs = f.stopS * 1000
  for (let at = f.startS * 1000; at < stopMs && at <= durationMs; at += intervalMs) out.push(at)
  return out
}

/**
 * The sans-IO core of collect: add every event read (with its wall time), then `result`. It is not
 * constant memory: every frame sent and heard, traffic event and neighbour change is kept until
 * `result` (about 1.6 × the logs' size on disk), as offsets are only known once all are read.
 */
export class LiveCollector {
  private readonly sync: ClockSync
  private readonly logged = new Set<number>()
  private readonly names = new Map<number, string>()
  private readonly txs: Tx[] = []
  private readonly sends: Send[] = []
  private readonly delivers: Deliver[] = []
  private readonly nbs: Nb[] = []
  private readonly heard: Heard[] = []
  private skippedBySenders = 0
  private logDropped = 0

  constructor(private readonly schedule: RunSchedule, opts: ClockSyncOptions = {}) {
    this.sync = new ClockSync(opts)
  }

  add(e: LogEvent, wall: number): void {
    const node = e.node
    this.logged.add(node)
    const kind = e.kind
    const src = isInt(e.src) ? e.src : undefined
    const seq = isInt(e.seq) ? e.seq : undefined
    const syncKind = kind === 'beacon' || kind === 'data' ? kind : undefined
    switch (e.ev) {
      case 'log-start':
        if (typeof e.name === 'string' && !this.names.has(node)) this.names.set(node, e.name)
        break
      case 'tx': {
        const own = src === node || kind === 'undecodable'
        const data = kind === 'data' && trafficClass(isInt(e.proto) ? e.proto : -1) === 'data'
        this.txs.push({ node, wall, len: isNum(e.len) ? e.len : 0, airtimeMs: isNum(e.airtimeMs) ? e.airtimeMs : 0, own, data })
        if (syncKind && own && seq !== undefined) this.sync.tx(node, syncKind, seq, wall)
        break
      }
      case 'rx':
        if (syncKind && src !== undefined && seq !== undefined) this.sync.rx(node, syncKind, src, seq, wall)
        if (kind === 'beacon' && src !== undefined) this.heard.push({ node, wall, src })
        break
      case 'app-send':
        if (isInt(e.flow) && isInt(e.seq) && e.seq >= 0) this.sends.push({ node, wall, flow: e.flow, seq: e.seq })
        break
      case 'app-deliver':
        // Without a flow and seq an application header could carry, the delivery is malformed.
        if (isInt(e.flow) && e.flow >= 0 && e.flow <= 0xffff && isInt(e.seq) && e.seq >= 0 && e.seq <= 0xffffffff) this.delivers.push({ node, wall, flow: e.flow, seq: e.seq })
        else this.delivers.push({ node, wall, flow: undefined, seq: undefined })
        break
      case 'flow-skipped':
        if (isInt(e.count) && e.count > 0) this.skippedBySenders += e.count
        break
      case 'log-dropped':
        if (isInt(e.count) && e.count > 0) this.logDropped += e.count
        break
      case 'neighbour-up':
      case 'neighbour-down':
        if (isInt(e.neighbour)) this.nbs.push({ node, wall, neighbour: e.neighbour, up: e.ev === 'neighbour-up' })
        break
    }
  }

  result(read: ReadCounts): LiveMetricsResult {
    const s = this.schedule
    const durationMs = s.durationS * 1000
    const flows = new Map(s.flows.map((f) => [f.id, f]))

    // Clocks: offsets to the reference, then every time on the reference's clock.
    // Reference candidates: the schedule's nodes that logged, in its order, then other nodes that logged.
    const scheduled = new Set(s.nodes.map((n) => n.address))
    const candidates = [...new Set([...s.nodes.map((n) => n.address).filter((a) => this.logged.has(a)), ...[...this.logged].sort((a, b) => a - b)])]
    const clocks = this.sync.estimate(candidates.length ? candidates : [s.nodes[0]?.address ?? 0], this.logged)
    const reference = clocks.reference
    const at = (x: Stamp) => x.wall - (clocks.offsetsMs.get(x.node) ?? 0)
    let start = s.startWallMs
    if (start === undefined) {
      const guesses = this.sends.filter((x) => flows.has(x.flow)).map((x) => at(x) - flows.get(x.flow)!.startS * 1000 - (x.seq * 1000) / flows.get(x.flow)!.rate)
      if (guesses.length) start = median(guesses)
      else {
        // No sends to date the run by: its earliest event (one pass, no copy of the log).
        start = Infinity
        for (const list of [this.txs, this.sends, this.delivers, this.nbs, this.heard]) for (const x of list) start = Math.min(start, at(x))
        if (start === Infinity) start = 0
      }
    }
    const runStart = start
    /** Ms from the run's start on the reference clock. */
    const since = (x: Stamp) => at(x) - runStart
    /** Ms from the run's start on the reference clock, or NaN outside the run. */
    const rel = (x: Stamp) => {
      const t = since(x)
      return t >= -RUN_SLACK_MS && t <= durationMs + RUN_SLACK_MS ? t : NaN
    }

    // Sends: the schedule's packets, each at its logged app-send time (the earliest, not windowed:
    // a sender times its flow on its own clock), else at its planned time. Logged seqs past the
    // schedule count as sent; far past it they are damage (and would cost the collector's
    // seq-indexed arrays dearly).
    const plans = new Map(s.flows.map((f) => [f.id, scheduledPackets(f, durationMs)]))
    const loggedAt = new Map<number, Map<number, number>>(s.flows.map((f) => [f.id, new Map()]))
    for (const x of this.sends) {
      const plan = plans.get(x.flow)
      if (plan === undefined || x.seq >= plan.length + SEQ_MARGIN) continue
      const byseq = loggedAt.get(x.flow)!
      const t = since(x)
      const had = byseq.get(x.seq)
      if (had === undefined || t < had) byseq.set(x.seq, t)
    }
    const sentAt: Array<{ t: number; flow: number; seq: number }> = []
    const sentBy = new Map<number, number>()
    let notSent = 0
    for (const f of s.flows) {
      const plan = plans.get(f.id)!
      const byseq = loggedAt.get(f.id)!
      plan.forEach((planned, seq) => {
        if (!byseq.has(seq)) notSent++
        sentAt.push({ t: byseq.get(seq) ?? planned, flow: f.id, seq })
      })
      for (const [seq, t] of byseq) if (seq >= plan.length) sentAt.push({ t, flow: f.id, seq })
      if (byseq.size) sentBy.set(f.from, (sentBy.get(f.from) ?? 0) + byseq.size)
    }
    const packetsSent = sentAt.length - notSent

    // Delivery accounting by the simulator's own collector: sends first, then deliveries in time
    // order (from the earliest send to the run's end), so the first per (flow, seq, receiver) is the delivery.
    const dc = new DeliveryCollector()
    for (const f of s.flows) {
      dc.addFlow({ id: f.id, pattern: f.pattern, from: f.from, dst: f.dst, receivers: f.receivers, startMs: f.startS * 1000, stopMs: f.stopS * 1000, intervalMs: 1000 / f.rate, size: f.size })
    }
    sentAt.sort((p, q) => p.t - q.t)
    for (const x of sentAt) dc.sent(x.flow, x.seq, x.t)
    const firstSend = Math.min(0, sentAt[0]?.t ?? 0) - RUN_SLACK_MS
    const delivers = this.delivers.map((d) => ({ d, t: since(d) })).filter((x) => x.t >= firstSend && x.t <= durationMs + RUN_SLACK_MS).sort((p, q) => p.t - q.t)
    for (const { d, t } of delivers) dc.delivered(d.node, d.flow === undefined || d.seq === undefined ? NO_HEADER : encodeAppPacket(d.flow, d.seq, 0), t)
    const d = dc.stats()
    const latency = dc.latency
    const jitter = dc.jitterMs()
    const bucketS = Math.max(1, Math.ceil(s.durationS / TIMELINE_POINTS))
    const buckets = dc.bySendTime(bucketS * 1000)
    const received = new Map(d.receivers.map((r) => [r.node, r]))

    // Frames on air.
    const o = { controlPackets: 0, controlBytes: 0, dataTransmissions: 0, dataBytes: 0 }
    const air = new Map<number, { txFrames: number; txBytes: number; airtimeMs: number }>()
    let airtimeMs = 0
    for (const x of this.txs) {
      if (Number.isNaN(rel(x))) continue
      let a = air.get(x.node)
      if (a === undefined) air.set(x.node, (a = { txFrames: 0, txBytes: 0, airtimeMs: 0 }))
      a.txFrames++
      a.txBytes += x.len
      a.airtimeMs += x.airtimeMs
      airtimeMs += x.airtimeMs
      if (!x.own) continue
      if (x.data) {
        o.dataTransmissions++
        o.dataBytes += x.len
      } else {
        o.controlPackets++
        o.controlBytes += x.len
      }
    }
    const maxAir = Math.max(0, ...[...air.values()].map((a) => a.airtimeMs))

    // Nodes as the simulator keys them: the schedule's scenario ids, then nodes not in it by address.
    const named = new Map<number, RunSchedule['nodes'][number]>()
    for (const n of s.nodes) if (!named.has(n.address)) named.set(n.address, n)
    const nodes = [...[...named.values()].sort((a, b) => a.id - b.id).map((n) => n.address), ...[...this.logged].filter((a) => !scheduled.has(a)).sort((a, b) => a - b)]
    const keyOf = (address: number) => named.get(address)?.id ?? address
    const nameOf = (n: number) => named.get(n)?.name ?? this.names.get(n)
    const perNode: NodeMetrics[] = nodes.map((address) => {
      const a = air.get(address)
      const name = nameOf(address)
      return {
        node: keyOf(address), ...(name !== undefined ? { name } : {}), address, sent: sentBy.get(address) ?? 0, expected: received.get(address)?.expected ?? 0, delivered: received.get(address)?.delivered ?? 0,
        txFrames: a?.txFrames ?? 0, txBytes: a?.txBytes ?? 0, airtimeMs: round6(a?.airtimeMs ?? 0),
      }
    })
    const nPoints = Math.max(Math.ceil(s.durationS / bucketS), buckets.length)
    const timeline: RunTimeline = { bucketS, points: [] }
    for (let i = 0; i < nPoints; i++) timeline.points.push({ t: i * bucketS, expected: buckets[i]?.expected ?? 0, delivered: buckets[i]?.delivered ?? 0 })
    const latencyCdf: Array<[number, number]> = []
    if (latency.count) for (let p = 0; p <= 100; p++) latencyCdf.push([round6(latency.quantile(p / 100)), p / 100])

    const collect: CollectInfo = {
      ...read,
      clockOffsetsMs: Object.fromEntries([...this.logged].sort((a, b) => a - b).map((n) => [String(n), round6(clocks.offsetsMs.get(n) ?? 0)])),
      clockReference: reference,
      unsynchronised: clocks.unsynchronised.filter((n) => this.logged.has(n)),
      notSent,
      skippedBySenders: this.skippedBySenders,
      logDropped: this.logDropped,
    }
    return {
      scenario: s.scenario,
      seed: s.seed,
      protocol: s.protocol,
      source: 'live',
      nodes: s.nodes.length,
      simSeconds: round6(s.durationS),
      wallSeconds: round6(s.durationS),
      events: 0,
      delivery: {
        ...d,
        ratio: round6(d.ratio),
        perReceiver: { min: round6(d.perReceiver.min), mean: round6(d.perReceiver.mean), max: round6(d.perReceiver.max), stdev: round6(d.perReceiver.stdev) },
      },
      latencyMs: { mean: round6(latency.mean), p50: round6(latency.quantile(0.5)), p95: round6(latency.quantile(0.95)), max: round6(latency.count ? latency.max : 0) },
      jitterMs: jitter === null ? null : round6(jitter),
      recoveredLatencyMs: { count: 0, mean: 0, p50: 0, p95: 0, max: 0 },
      overhead: {
        ...o,
        perDelivered: d.delivered ? round6(o.controlPackets / d.delivered) : null,
        framesPerDelivered: d.delivered ? round6((o.controlPackets + o.dataTransmissions) / d.delivered) : null,
      },
      airtime: { totalSeconds: round6(airtimeMs / 1000), maxNodeShare: round6(maxAir / 1000 / s.durationS) },
      traffic: { flows: s.flows.length, packetsSent },
      adversaries: [],
      counters: {},
      histograms: {},
      timeline,
      perNode,
      latencyCdf,
      topology: this.topology(nodes, keyOf, nameOf, since, durationMs),
      collect,
      schedule: { flows: s.flows.length, durationS: s.durationS },
    }
  }

  /**
   * Nodes (positions from the schedule) and links at the end of the run: pairs that each have the
   * other as a neighbour (every neighbour-up/down up to the run's end, those from before its start
   * too); a node that logged no neighbour changes counts the nodes it heard beacons from in the
   * run's last TOPOLOGY_BEACON_WINDOW_MS instead. Keyed by `keyOf` (scenario ids).
   */
  private topology(nodes: number[], keyOf: (address: number) => number, nameOf: (n: number) => string | undefined, since: (x: Stamp) => number, endMs: number): TopologySnapshot {
    const pos = new Map(this.schedule.nodes.map((n) => [n.address, n.position]))
    const up = new Map<number, Set<number>>()
    const set = (n: number) => {
      let x = up.get(n)
      if (x === undefined) up.set(n, (x = new Set()))
      return x
    }
    const timed = this.nbs.map((x) => ({ x, t: since(x) })).filter((e) => e.t <= endMs + RUN_SLACK_MS).sort((a, b) => a.t - b.t)
    for (const { x } of timed) {
      if (x.up) set(x.node).add(x.neighbour)
      else set(x.node).delete(x.neighbour)
    }
    const byBeacons = new Map<number, Set<number>>()
    for (const h of this.heard) {
      if (up.has(h.node)) continue
      const t = since(h)
      if (t > endMs + RUN_SLACK_MS || t < endMs - TOPOLOGY_BEACON_WINDOW_MS) continue
      let x = byBeacons.get(h.node)
      if (x === undefined) byBeacons.set(h.node, (x = new Set()))
      x.add(h.src)
    }
    for (const [n, x] of byBeacons) up.set(n, x)
    const links: TopologySnapshot['links'] = []
    for (const [a, nbs] of up) {
      for (const b of nbs) {
        if (!(a < b && up.get(b)?.has(a))) continue
        const [ka, kb] = [keyOf(a), keyOf(b)]
        links.push({ a: Math.min(ka, kb), b: Math.max(ka, kb) })
      }
    }
    links.sort((x, y) => x.a - y.a || x.b - y.b)
    return {
      nodes: nodes.map((address) => {
        const p = pos.get(address)
        const name = nameOf(address)
        return { node: keyOf(address), ...(name !== undefined ? { name } : {}), address, ...(p ? { x: p[0], y: p[1] } : {}) }
      }),
      links,
    }
  }
}

/** Read the logs in `dirs` and compute the run's metrics against `schedule`. */
export async function collectRun(dirs: readonly string[], schedule: RunSchedule, opts: ClockSyncOptions & { maxLineBytes?: number } = {}): Promise<LiveMetricsResult> {
  const files = findLogFiles(dirs)
  if (files.length === 0) throw new ConfigError('', `no event logs (<address>.jsonl) in ${dirs.join(', ')}`)
  const c = new LiveCollector(schedule, opts)
  const read = await readLogFiles(files, (e, wall) => c.add(e, wall), opts.maxLineBytes)
  return c.result(read)
}

export { findSchedule, loadSchedule, parseSchedule }
