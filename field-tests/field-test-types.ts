/**
 * What simulated and live field tests share (issue 10): the event log a real node writes (the
 * same events a simulation trace has, trace.ts, plus the node's clocks), the live run's schedule,
 * and what the metrics JSON (metrics-result.ts) carries for reports: delivery over time, per node,
 * the latency distribution and a topology snapshot. A simulated run and a collected live run of
 * the same scenario produce the same fields, so one report shows either, or both side by side.
 */

/**
 * One line of a node's event log (JSON lines, runtime/event-log.ts) or of a simulation trace.
 * Events and their fields (as in trace.ts):
 * - `log-start`: `{ name?, address, version, monoStartMs }` — first line of every log file
 *   (after a rotation too), so any file alone maps its monotonic times to wall times.
 * - `tx` / `rx` / `radio-drop`: a frame on air, heard, or refused by the radio; the link header
 *   decoded: `{ kind, src, dst?, seq, proto?, len }`, tx adds `airtimeMs`, rx `rssi?`, `snr?`,
 *   radio-drop `code`.
 * - `app-send` `{ flow, seq, dst, size }` / `app-deliver` `{ origin, flow, seq, hops }`: traffic
 *   packets (field-tests/traffic.ts application header), at the sender and at each receiver.
 * - `neighbour-up` / `neighbour-down` `{ neighbour }`, `tx-failed` `{ to, proto, code }`.
 * - protocol events (trace.ts TRACED_PROTOCOL_EVENTS), `radio-state` `{ state, reason }`.
 */
export interface LogEvent {
  /** The node's monotonic clock, ms (a simulation trace: virtual ms from the start of the run). */
  t: number
  /** The node's wall clock when it logged, ms since the epoch (absent in simulation traces). */
  wall?: number
  /** The node's address. */
  node: number
  ev: string
  [field: string]: unknown
}

/** One traffic flow of a live run, with real node addresses (plan.ts writes them, nodes run them). */
export interface ScheduledFlow {
  /** The flow id in application headers (field-tests/traffic.ts). */
  id: number
  pattern: 'unicast' | 'multicast' | 'broadcast'
  from: number
  /** Node address (unicast), group address (multicast) or 0xffffffff (broadcast). */
  dst: number
  /** The nodes that should deliver it. */
  receivers: number[]
  /** Seconds after the run's start. */
  startS: number
  stopS: number
  /** Packets per second, and their size in bytes (application header included). */
  rate: number
  size: number
}

/** A live run's plan (plan.ts → schedule.json; collect.ts reads it to know what was expected). */
export interface RunSchedule {
  scenario: string
  seed: number
  protocol: string
  /** Scenario node id (1..n) → the real node. */
  nodes: Array<{ id: number; name: string; address: number; position?: [number, number] }>
  flows: ScheduledFlow[]
  durationS: number
  /** Wall clock of the run's start, ms since the epoch (set when the run is started). */
  startWallMs?: number
}

/** Delivery by send time, in buckets (the report's "PDR over time"). */
export interface RunTimeline {
  bucketS: number
  /** `t`: bucket start, seconds from the run's start; packets sent in the bucket, expected and delivered deliveries. */
  points: Array<{ t: number; expected: number; delivered: number }>
}

/** Per node (the report's "PDR per node" and "airtime per node"). */
export interface NodeMetrics {
  /** The scenario node id (a live run: the schedule's id; a node not in the schedule: its address). */
  node: number
  name?: string
  /** The node's real address (live runs). */
  address?: number
  /** Traffic packets it sent. */
  sent: number
  /** Deliveries expected at it, and made. */
  expected: number
  delivered: number
  /** Frames it put on air, their bytes and airtime. */
  txFrames: number
  txBytes: number
  airtimeMs: number
}

/** Where nodes were and which links they had (the report's map), at the end of the run. */
export interface TopologySnapshot {
  /** `node` as in NodeMetrics (scenario id), `address` the real one (live runs). */
  nodes: Array<{ node: number; name?: string; address?: number; x?: number; y?: number }>
  /** Between `node` keys. */
  links: Array<{ a: number; b: number; quality?: number }>
}

/** How a live run's logs were read (collect.ts). */
export interface CollectInfo {
  files: number
  lines: number
  events: number
  /** Lines that were not events: cut short (a crash mid-write), not JSON, or not a log event. */
  skipped: { truncated: number; corrupt: number; invalid: number }
  /** Per node: its wall clock minus the reference node's, ms, estimated from exchanged beacons. */
  clockOffsetsMs: Record<string, number>
  /** The reference node of the offsets (address): the first node of the schedule in the largest group of nodes linked by measured pairs. */
  clockReference: number
  /** Nodes whose offset could not be estimated (heard no beacons from a node with an offset): 0 assumed. */
  unsynchronised: number[]
  /** Scheduled packets no app-send line was found for (expected anyway, at their planned times). */
  notSent?: number
  /** Σ `count` of the senders' `flow-skipped` lines (packets a late or restarted node did not send). */
  skippedBySenders?: number
  /** Σ `count` of `log-dropped` lines (events a node could not write). */
  logDropped?: number
}
