/**
 * One node's anonymous-gossip state for one group: its history (what it can serve), its receive
 * state (what it knows it misses), its member cache, and the round timer. A member uses all of it;
 * a node that only sends to the group keeps just the history of its own messages, to answer gossip
 * for them. Bounded by the config (ag-defaults.ts); history changes are reported as
 * 'history-add'/'history-evict' events.
 */
import type { Addr } from '../../core/addr.ts'
import type { Counter } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { AgConfig } from './ag-defaults.ts'
import type { GossipSource, MessageProof } from './ag-messages.ts'
import type { AgCounterName, AgEvents, HistoryEvent } from './ag-types.ts'
import { History } from './history.ts'
import { MemberCache } from './member-cache.ts'
import { ReceiveState } from './receive-state.ts'

export class MemberGroup {
  readonly history: History
  readonly recv: ReceiveState
  readonly cache: MemberCache
  /** The application joined the group (otherwise this node only sends to it). */
  member = false
  lastRoundAt = -Infinity
  private roundId: number
  /** Ids of this member's recent rounds: replies must answer one of them. */
  private readonly recentRounds: number[] = []
  private timer: Timer | null = null
  private closed = false

  constructor(
    readonly group: Addr,
    private readonly c: AgConfig,
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
    m: Record<AgCounterName, Counter>,
    private readonly report: (kind: keyof AgEvents, e: HistoryEvent) => void,
  ) {
    this.roundId = rng.int(0x1_0000)
    this.history = new History({
      maxMessages: c.historySize,
      maxAgeMs: c.historyMaxAgeMs,
      onEvict: (e) => {
        m.historyEvicted.inc()
        report('history-evict', { group, origin: e.origin, seq: e.seq, payload: e.payload, at: scheduler.now() })
      },
    })
    this.recv = new ReceiveState({
      maxSources: c.maxSources,
      maxMissing: c.maxMissing,
      maxGap: c.maxGap,
      backfill: c.backfill,
      resyncDistance: c.resyncDistance,
      missingMaxAgeMs: c.missingMaxAgeMs,
      onGiveUp: () => m.missingGivenUp.inc(),
    })
    this.cache = new MemberCache({ size: c.memberCacheSize, ttlMs: c.memberCacheTtlMs })
  }

  /** Keep a message this member delivered or originated (a payload it owns). */
  keep(origin: Addr, seq: number, payload: Uint8Array, now: number, proof?: MessageProof): void {
    // Age the history here too: a node that only sends runs no rounds (where members expire it).
    this.history.expire(now)
    if (this.history.add(origin, seq, payload, now, proof)) this.report('history-add', { group: this.group, origin, seq, payload, at: now })
  }

  expire(now: number): void {
    this.history.expire(now)
    this.recv.expire(now)
  }

  /** The sources and missing numbers for a GOSSIP, within the per-message limits. */
  digest(): GossipSource[] {
    let budget = this.c.gossipMaxMissing
    const out: GossipSource[] = []
    for (const s of this.recv.digest(this.c.gossipMaxSources, 255)) {
      const missing = s.missing.slice(0, budget)
      budget -= missing.length
      out.push({ source: s.source, next: s.next, missing })
    }
    return out
  }

  nextRoundId(): number {
    this.roundId = (this.roundId + 1) & 0xffff
    this.recentRounds.push(this.roundId)
    if (this.recentRounds.length > this.c.roundsAnswerable) this.recentRounds.shift()
    return this.roundId
  }

  /** Whether a reply with this id answers one of our recent rounds. */
  asked(id: number): boolean {
    return this.recentRounds.includes(id)
  }

  /** Run `round` every gossip period (jittered) until closed. */
  start(round: () => void): void {
    const arm = (): void => {
      if (this.closed) return
      const j = this.c.periodJitter
      this.timer = this.scheduler.at(this.c.gossipPeriodMs * (1 - j / 2 + j * this.rng.float()), () => {
        this.timer = null
        round()
        arm()
      })
    }
    arm()
  }

  /** Stop the rounds; `evict` reports every held message as evicted (the member left). */
  close(evict: boolean): void {
    this.closed = true
    this.timer?.cancel()
    this.timer = null
    if (evict) {
      const now = this.scheduler.now()
      for (const origin of this.history.origins()) {
        for (const e of this.history.of(origin)) this.report('history-evict', { group: this.group, origin, seq: e.seq, payload: e.payload, at: now })
      }
    }
    this.history.clear()
  }
}
