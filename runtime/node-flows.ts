/**
 * A node's part of a live run (issue 10): the traffic flows it sends (config `flows:`, the
 * ScheduledFlows field-tests/plan.ts writes), timed from the run's start (`run.startWallMs`).
 * Constant bit rate, as the simulator's startFlow (field-tests/traffic.ts): packet 0 at `startS`,
 * then one every 1000/rate ms (the times added up as the simulator adds them) while before
 * `stopS`, each carrying the application header (flow, seq) padded to `size`; so a simulated and a
 * live run of one plan send the same packets. Times are kept on the scheduler's monotonic clock
 * from the run's start, so a late timer delays one packet and not all that follow. A node started
 * after its flows began skips the packets due more than a second before (counted, `flow-skipped`
 * logged) and sends the rest at their times. Each packet is logged `app-send {flow, seq, dst, size}`
 * before it is handed to NodeTraffic; a send that throws is logged `app-send-failed`.
 */
import { formatNodeAddress, isGroupAddr, type Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { ScheduledFlow } from '../field-tests/field-test-types.ts'
import { encodeAppPacket } from '../field-tests/traffic.ts'
import type { EventSink } from './event-log.ts'

/** Packets due longer ago than this when the node starts are skipped, not sent in a burst. */
export const LATE_START_GRACE_MS = 1000
/** Longest single timer (Node's setTimeout fires at once beyond 2^31-1 ms): longer waits are chained. */
const MAX_TIMER_MS = 2 ** 30

/** What flows send through: NodeTraffic. */
export interface FlowTraffic {
  send(dst: Addr, payload: Uint8Array): void
  maxPayload(dst: Addr): number
}

export interface NodeFlowsOptions {
  address: Addr
  flows: readonly ScheduledFlow[]
  run?: { startWallMs: number }
  traffic: FlowTraffic
  scheduler: Scheduler
  /** The wall clock, ms since the epoch (default Date.now): only read once, to place the run's start. */
  wallNow?: () => number
  log?: EventSink
}

export interface FlowStats {
  id: number
  sent: number
  skipped: number
  failed: number
  done: boolean
}

/**
 * Checks what only a running node knows (ConfigError naming the field): the flows are this node's,
 * and (given `traffic`) each packet fits what it sends to the destination. Without `run`, the
 * flows wait for the control method `start-run` (runtime/node.ts).
 */
export function checkNodeFlows(o: Pick<NodeFlowsOptions, 'address' | 'flows' | 'run'> & { traffic?: FlowTraffic }): void {
  if (o.flows.length === 0) return
  o.flows.forEach((f, i) => {
    if (f.from !== o.address) throw new ConfigError(`flows.${i}.from`, `is ${formatNodeAddress(f.from)}, not this node (${formatNodeAddress(o.address)}): a node runs the flows it sends`)
    if (o.traffic === undefined) return
    const max = o.traffic.maxPayload(f.dst)
    if (isGroupAddr(f.dst) && max === 0) throw new ConfigError(`flows.${i}.dst`, 'a multicast flow needs a multicast section in this node\'s config')
    if (f.size > max) throw new ConfigError(`flows.${i}.size`, `${f.size} bytes exceed the ${max} a packet to its destination carries here`)
  })
}

export class NodeFlows {
  private readonly timers = new Map<number, Timer>()
  private readonly tallies: FlowStats[]
  private stopped = false

  constructor(private readonly o: NodeFlowsOptions) {
    checkNodeFlows(o)
    this.tallies = o.flows.map((f) => ({ id: f.id, sent: 0, skipped: 0, failed: 0, done: false }))
    if (o.run === undefined) return
    const s = o.scheduler
    // The run's start on the scheduler's clock.
    const origin = s.now() + (o.run.startWallMs - (o.wallNow ?? Date.now)())
    o.flows.forEach((f, i) => this.start(f, this.tallies[i], origin))
  }

  stats(): FlowStats[] {
    return this.tallies.map((t) => ({ ...t }))
  }

  /** Stop sending (packets not yet due are not sent). */
  stop(): void {
    this.stopped = true
    for (const t of this.timers.values()) t.cancel()
    this.timers.clear()
  }

  private start(f: ScheduledFlow, tally: FlowStats, origin: number): void {
    const s = this.o.scheduler
    const intervalMs = 1000 / f.rate
    const stopMs = f.stopS * 1000
    let at = f.startS * 1000 // ms from the run's start, added up as startFlow's timers add up
    let seq = 0
    const late = s.now() - origin - LATE_START_GRACE_MS
    while (at < stopMs && at < late) {
      at += intervalMs
      seq++
    }
    if (seq > 0) {
      tally.skipped = seq
      this.o.log?.('flow-skipped', { flow: f.id, count: seq })
    }
    const tick = () => {
      if (this.stopped) return
      this.send(f, seq, tally)
      seq++
      at += intervalMs
      this.wait(f.id, origin + at, at < stopMs ? tick : () => (tally.done = true))
    }
    if (at < stopMs) this.wait(f.id, origin + at, tick)
    else tally.done = true
  }

  /** Run `fn` at scheduler time `t` (chaining timers for waits beyond what one timer takes). */
  private wait(id: number, t: number, fn: () => void): void {
    const s = this.o.scheduler
    const delay = Math.max(0, t - s.now())
    if (delay > MAX_TIMER_MS) this.timers.set(id, s.at(MAX_TIMER_MS, () => this.wait(id, t, fn)))
    else this.timers.set(id, s.at(delay, fn))
  }

  private send(f: ScheduledFlow, seq: number, tally: FlowStats): void {
    this.o.log?.('app-send', { flow: f.id, seq, dst: f.dst, size: f.size })
    tally.sent++
    try {
      this.o.traffic.send(f.dst, encodeAppPacket(f.id, seq, f.size))
    } catch (e) {
      tally.failed++
      this.o.log?.('app-send-failed', { flow: f.id, seq, error: (e as Error).message })
    }
  }
}
