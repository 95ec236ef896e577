/**
 * Bimodal multicast (pbcast; PROTOCOLS.md §5, seed 004): an unreliable first dissemination and
 * rounds of anti-entropy, over any best-effort unicast (`Datagrams`), for any `Audience`.
 *
 * publish(stream, body) holds the message (the origin holds its own from that moment), delivers
 * it locally if this member wants it, and sends one DATA to each of audience.firstTargets.
 *
 * Rounds. Round r starts at phase + r·roundMs of scheduler time (phase 0 with roundPhase
 * 'aligned', drawn once in [0, roundMs) with 'random'). At its start the store skips what is still
 * missing behind messages gcRounds old and collects messages whose age is ≥ gcRounds; then one
 * DIGEST goes to each of audience.roundTargets, listing the held messages the target wants that
 * arrived before round r and are younger than gcRounds (so a message received during round k is
 * listed from round k + 1 on). The digest is flagged complete unless maxDigestIds or the
 * transport's maxPayload cut it (the youngest are kept).
 *
 * On a DIGEST: pull: one SOLICIT asks the digest sender for every listed message this member wants
 * and lacks (at most maxSolicitPerDigest); push, only when the digest is complete: DATA (flag R) of
 * every held message the sender wants (audience.peerWants) but did not list, at least
 * pushAfterRounds old. Pull costs three datagrams (digest → solicit → DATA), push two.
 * On a SOLICIT: DATA (flag R) of each asked message held, to a peer that wants it (else `refused`).
 * Retransmissions and pushes share a budget of maxRetransmitsPerRound per round (`retransmitCapHits`).
 * On DATA: if this member wants it and it is new, it is held and delivered in FIFO order per
 * (origin, stream) (store.ts), via 'first' for a first-dissemination DATA, 'gossip' for flag R.
 *
 * Age. No clock travels: DATA carries its age in 1/256 rounds as the sender measures it on its
 * own clock (now − MessageMeta.ts; 0 from the origin). The receiver takes MessageMeta.ts to be
 * now − age·roundMs/256 in its own clock, and the origination round to be the round of its own
 * numbering that holds that instant; so members agree on a message's age in rounds up to their
 * round phases and the network latency, and errors do not add up hop by hop.
 *
 * Malformed datagrams are counted (`decodeErrors`), never thrown. close() stops the rounds and
 * stops listening; the transport stays open (it belongs to the caller).
 */
import type { Addr } from '../../core/addr.ts'
import { ErrorCodes, SpinmeshError, tryDecode } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import { MetricsRegistry, type Counter, type Histogram, type MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import { validatePbcastConfig, type PbcastConfig, type PbcastConfigInput } from './pbcast-defaults.ts'
import {
  AGE_UNITS_PER_ROUND, MAX_AGE, MAX_BODY, PbcastMsgType, streamShares, dataSize, decodePbcast, encodeData, encodeDigest, encodeSolicit, entryIds, fitIds, rangesHave,
  type IdRange, type PbData, type PbDigest, type PbSolicit,
} from './pbcast-messages.ts'
import type { Audience, DatagramRx, Datagrams, MessageId, MessageMeta, PbcastDelivery } from './pbcast-types.ts'
import { MessageStore, type AddInput, type HeldMessage, type StoreEvent } from './store.ts'

/** Later seqs looked at to tell whether a missing message is old (knownOld). */
const PULL_LOOKAHEAD = 4

export interface PbcastOptions {
  transport: Datagrams
  scheduler: Scheduler
  rng: Rng
  audience: Audience
  /** Counters (PBCAST_COUNTERS) and the `latencyMs` histogram, in a scope the caller chooses (e.g. 'pbcast'). */
  metrics?: MetricsScope
  config?: PbcastConfigInput
  /** Path for config errors (default 'pbcast'). */
  configPath?: string
}

export interface PbcastEvents {
  deliver: (d: PbcastDelivery) => void
  skipped: (id: MessageId) => void
}

/**
 * Counters per member. Datagram counts: firstSent (first-dissemination DATA), digestsSent,
 * solicitsSent (SOLICIT datagrams; solicitedIds the ids they ask for), retransmitsSent (DATA
 * answering a SOLICIT), pushesSent, datagramsSent/bytesSent (everything sent) and
 * datagramsReceived/bytesReceived (everything received, malformed included: decodeErrors).
 * Messages: published, delivered (deliveredViaGossip: recovered by anti-entropy), duplicates
 * (copies already held, delivered or skipped), skipped (wanted, never came), unwanted (DATA this
 * member does not want), gcCollected, storeEvictions. retransmitCapHits: a retransmission refused by
 * maxRetransmitsPerRound (a push loop stops at its first); refused: asked ids the asking peer may
 * not have; solicitMisses: asked ids not held (collected, or never had); oversize: held messages too
 * large for this transport. beforeJoin, restarts, streamEvictions, skippedBulk: see store.ts.
 */
export const PBCAST_COUNTERS = [
  'published', 'firstSent', 'delivered', 'deliveredViaGossip', 'duplicates', 'digestsSent', 'solicitsSent', 'retransmitsSent',
  'pushesSent', 'retransmitCapHits', 'refused', 'gcCollected', 'storeEvictions', 'skipped', 'decodeErrors', 'datagramsSent',
  'datagramsReceived', 'bytesSent', 'bytesReceived', 'rounds',
  // Beyond the core list: DATA this member does not want, SOLICITs for messages not held, DATA too
  // large for the transport, ids asked for, and the store's own (store.ts).
  'unwanted', 'solicitMisses', 'oversize', 'solicitedIds', 'beforeJoin', 'restarts', 'streamEvictions', 'skippedBulk',
] as const
export type PbcastCounterName = (typeof PBCAST_COUNTERS)[number]

export interface PbcastLoad {
  datagramsSent: number
  datagramsReceived: number
  bytesSent: number
  bytesReceived: number
  rounds: number
}

export class Pbcast extends Emitter<PbcastEvents> {
  readonly config: PbcastConfig
  readonly address: Addr
  private readonly t: Datagrams
  private readonly s: Scheduler
  private readonly rng: Rng
  private readonly audience: Audience
  private readonly store: MessageStore
  private readonly n: Record<PbcastCounterName, Counter>
  private readonly latency: Histogram
  /** Start of round 0 in scheduler time, in [0, roundMs). */
  private readonly phase: number
  /** The current round: the index of the last round started (the one before the first, until it starts). */
  private round: number
  /** Retransmissions + pushes left this round. */
  private budget: number
  /** Next seq per stream this member publishes on (≤ 65 536 entries: stream is u16). */
  private readonly nextSeq = new Map<number, number>()
  /**
   * Every held message, as an array for the per-digest loops: rebuilt at each round start (after
   * GC) and when the store evicts, appended to as messages arrive. Same bound as the store.
   */
  private heldList: HeldMessage[] = []
  private heldListEvicted = 0
  private timer: Timer | undefined
  private closed = false
  /** Whether this member sent a complete digest in its latest round (only then is it pushed to). */
  private sentComplete = false
  /** Bytes per stream (loadByStream); at most maxStreams entries. */
  private readonly streamLoad = new Map<number, { bytesSent: number; bytesReceived: number }>()
  /** Ids solicited this round (solicitOncePerRound); cleared at each round start. */
  private readonly askedThisRound = new Set<string>()
  private readonly onReceive = (d: DatagramRx): void => this.receive(d)

  constructor(o: PbcastOptions) {
    super()
    this.config = validatePbcastConfig(o.config ?? {}, o.configPath ?? 'pbcast')
    this.t = o.transport
    this.s = o.scheduler
    this.rng = o.rng
    this.audience = o.audience
    this.address = o.transport.address
    const m = o.metrics ?? new MetricsRegistry().scope('pbcast')
    this.n = Object.fromEntries(PBCAST_COUNTERS.map((k) => [k, m.counter(k)])) as Record<PbcastCounterName, Counter>
    this.latency = m.histogram('latencyMs')
    this.store = new MessageStore({ config: this.config, metrics: m, wants: (origin, stream, seq) => this.selfWants({ origin, stream, seq }) })
    const R = this.config.roundMs
    this.phase = this.config.roundPhase === 'aligned' ? 0 : this.rng.float() * R
    const first = Math.ceil((this.s.now() - this.phase) / R) || 0 // not -0
    this.round = first - 1
    this.budget = this.config.maxRetransmitsPerRound
    this.schedule(first)
    this.t.on('receive', this.onReceive)
  }

  /** The current round of this member (see class doc). */
  get currentRound(): number {
    return this.round
  }

  /** Messages held now. */
  get heldCount(): number {
    return this.store.size
  }

  /** Whether this member holds the message (delivered or waiting, not yet collected). */
  holds(id: MessageId): boolean {
    return this.store.get(id.origin, id.stream, id.seq) !== undefined
  }

  /**
   * Originate a message on `stream` (0..65535): held from now, delivered here if this member
   * wants it, sent to the audience's first targets. RangeError when its DATA exceeds the
   * transport's maxPayload.
   */
  publish(stream: number, body: Uint8Array): MessageMeta {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `pbcast ${this.address} is closed`)
    if (!Number.isInteger(stream) || stream < 0 || stream > 0xffff) throw new RangeError(`stream must be an integer in [0, 65535], got ${stream}`)
    if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array')
    if (body.length > MAX_BODY || dataSize(body.length) > this.t.maxPayload) {
      throw new RangeError(`a ${body.length}-byte body makes a ${dataSize(body.length)}-byte DATA, over the transport's maxPayload ${this.t.maxPayload}`)
    }
    const seq = this.nextSeq.get(stream) ?? 0
    if (seq > 0xffffffff) throw new RangeError(`stream ${stream} has used every sequence number`)
    this.nextSeq.set(stream, seq + 1)
    const meta: MessageMeta = { origin: this.address, stream, seq, ts: this.s.now(), key: this.audience.keyOf(this.address, stream, seq) }
    const copy = body.slice()
    const out: StoreEvent[] = []
    this.hold({ meta, body: copy, originRound: this.round, heldRound: this.round, via: 'first', wanted: this.audience.selfWants(meta) }, out)
    this.n.published.inc()
    const bytes = encodeData({ retransmission: false, origin: this.address, stream, seq, age: 0, body: copy })
    for (const to of this.audience.firstTargets(meta, this.rng)) {
      if (to === this.address) continue
      this.send(to, bytes)
      this.n.firstSent.inc()
    }
    this.emitAll(out)
    return meta
  }

  /** Per-member load so far. */
  load(): PbcastLoad {
    const n = this.n
    return { datagramsSent: n.datagramsSent.value, datagramsReceived: n.datagramsReceived.value, bytesSent: n.bytesSent.value, bytesReceived: n.bytesReceived.value, rounds: n.rounds.value }
  }

  /** Stop the rounds and stop listening (idempotent). The transport is left open. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.timer?.cancel()
    this.timer = undefined
    this.t.off('receive', this.onReceive)
  }

  private schedule(round: number): void {
    const at = this.phase + round * this.config.roundMs
    this.timer = this.s.at(Math.max(0, at - this.s.now()), () => this.tick(round))
  }

  private tick(r: number): void {
    this.timer = undefined
    if (this.closed) return
    this.round = r
    this.n.rounds.inc()
    this.budget = this.config.maxRetransmitsPerRound
    this.askedThisRound.clear()
    this.sentComplete = false
    // The next round is scheduled first: nothing that happens in this one can stop the rounds.
    this.schedule(r + 1)
    const out: StoreEvent[] = []
    this.store.tick(r, out)
    this.refreshHeld()
    this.emitAll(out)
    if (this.closed) return
    const gc = this.config.gcRounds
    const listable: HeldMessage[] = []
    for (const h of this.heldList) if (h.heldRound < r && r - h.originRound < gc) listable.push(h)
    // Youngest first: what a cut digest keeps.
    listable.sort((a, b) => b.originRound - a.originRound || b.heldRound - a.heldRound)
    for (const target of this.audience.roundTargets(this.rng)) {
      if (target.peer === this.address) continue
      const ids: MessageId[] = []
      for (const h of listable) {
        if (ids.length >= this.config.maxDigestIds) break
        if (target.wants(h.meta)) ids.push(h.meta)
      }
      let wanted = ids.length
      if (wanted === this.config.maxDigestIds) {
        // Count what was left out past the id limit (only then can the digest be incomplete by it).
        wanted = 0
        for (const h of listable) if (target.wants(h.meta)) wanted++
      }
      const fit = fitIds(ids, this.t.maxPayload)
      const complete = target.covers !== false && fit.all && wanted === ids.length
      if (complete) this.sentComplete = true
      this.send(target.peer, encodeDigest({ complete, entries: fit.entries }))
      this.n.digestsSent.inc()
    }
  }

  private receive(d: DatagramRx): void {
    if (this.closed) return
    this.n.datagramsReceived.inc()
    this.n.bytesReceived.inc(d.payload.length)
    const m = tryDecode(decodePbcast, d.payload, this.n.decodeErrors)
    if (m === undefined) return
    streamShares(d.payload, this.addReceived)
    switch (m.type) {
      case PbcastMsgType.DATA: return this.onData(m)
      case PbcastMsgType.DIGEST: return this.onDigest(d.from, m)
      case PbcastMsgType.SOLICIT: return this.onSolicit(d.from, m)
    }
  }

  private selfWants(id: MessageId, ts = this.s.now()): boolean {
    return this.audience.selfWants({ origin: id.origin, stream: id.stream, seq: id.seq, ts, key: this.audience.keyOf(id.origin, id.stream, id.seq) })
  }

  private onData(m: PbData): void {
    const now = this.s.now()
    const meta: MessageMeta = {
      origin: m.origin, stream: m.stream, seq: m.seq, ts: now - (m.age / AGE_UNITS_PER_ROUND) * this.config.roundMs, key: this.audience.keyOf(m.origin, m.stream, m.seq),
    }
    if (!this.audience.selfWants(meta)) {
      this.n.unwanted.inc()
      return
    }
    // Copy only what will be held (the transport may reuse its buffer); a duplicate is just counted.
    const body = this.store.lacks(m.origin, m.stream, m.seq) ? m.body.slice() : m.body
    const out: StoreEvent[] = []
    // The round holding the origination instant, never after the current one.
    const originRound = Math.min(this.round, Math.floor((meta.ts - this.phase) / this.config.roundMs))
    this.hold({ meta, body, originRound, heldRound: this.round, via: m.retransmission ? 'gossip' : 'first' }, out)
    this.emitAll(out)
  }

  private onDigest(from: Addr, m: PbDigest): void {
    const c = this.config
    const ask: MessageId[] = []
    if (c.maxSolicitPerDigest > 0) {
      const now = this.s.now()
      let examined = 0
      // Plain loops, not entryIds(): this runs for every id of every digest (no allocation per id).
      scan: for (const { origin, stream, ranges } of m.entries) {
        for (const r of ranges) {
          for (let seq = r.first; seq < r.first + r.count; seq++) {
            if (examined++ >= c.maxDigestIds || ask.length >= c.maxSolicitPerDigest) break scan
            if (!this.store.lacks(origin, stream, seq) || !this.selfWants({ origin, stream, seq }, now)) continue
            if (this.knownOld(origin, stream, seq)) continue // push brings old messages (PROTOCOLS.md §5)
            if (c.solicitOncePerRound) {
              const key = `${origin}/${stream}/${seq}`
              if (this.askedThisRound.has(key)) continue
              this.askedThisRound.add(key)
            }
            ask.push({ origin, stream, seq })
          }
        }
      }
    }
    if (ask.length > 0) {
      const fit = fitIds(ask, this.t.maxPayload)
      this.send(from, encodeSolicit({ entries: fit.entries }))
      this.n.solicitsSent.inc()
      let asked = 0
      for (const e of fit.entries) for (const r of e.ranges) asked += r.count
      this.n.solicitedIds.inc(asked)
    }
    if (!m.complete || c.pushAfterRounds >= c.gcRounds) return
    const listed = new Map<number, IdRange[]>()
    for (const e of m.entries) listed.set(e.origin * 65536 + e.stream, e.ranges)
    if (this.heldListEvicted !== this.store.evicted) this.refreshHeld()
    for (const h of this.heldList) {
      const age = this.round - h.originRound
      // Not in the last round before GC: the digest sender's round phase may put it a round
      // ahead, so it may have collected the message already and would only count a duplicate.
      if (age < c.pushAfterRounds || age >= c.gcRounds - 1) continue
      const { origin, stream, seq } = h.meta
      if (origin === from) continue // the sender originated it: it holds it or collected it
      const ranges = listed.get(origin * 65536 + stream)
      if (ranges !== undefined && rangesHave(ranges, seq)) continue
      if (!this.audience.peerWants(from, h.meta)) continue
      if (this.budget <= 0) {
        this.n.retransmitCapHits.inc()
        break
      }
      if (this.sendData(from, h)) this.n.pushesSent.inc()
    }
  }

  /**
   * Pull for young messages, push for old: a missing message is old when this member holds one of
   * the next PULL_LOOKAHEAD seqs of its stream and that one is at least pushAfterRounds old (a
   * later seq was published later). Then a holder pushes it when this member's next digest shows
   * it missing, and pulling it too would only bring a second copy. With push off, everything is pulled.
   */
  private knownOld(origin: Addr, stream: number, seq: number): boolean {
    const c = this.config
    // Only holders that get a complete digest from this member push to it.
    if (c.pushAfterRounds >= c.gcRounds - 1 || !this.sentComplete) return false
    for (let j = 1; j <= PULL_LOOKAHEAD; j++) {
      const later = this.store.get(origin, stream, seq + j)
      if (later !== undefined) return this.round - later.originRound >= c.pushAfterRounds
    }
    return false
  }

  private onSolicit(from: Addr, m: PbSolicit): void {
    for (const id of entryIds(m.entries, this.config.maxDigestIds)) {
      const h = this.store.get(id.origin, id.stream, id.seq)
      if (h === undefined || this.round - h.originRound >= this.config.gcRounds) {
        this.n.solicitMisses.inc()
        continue
      }
      if (!this.audience.peerWants(from, h.meta)) {
        this.n.refused.inc()
        continue
      }
      if (this.budget <= 0) {
        this.n.retransmitCapHits.inc()
        continue
      }
      if (this.sendData(from, h)) this.n.retransmitsSent.inc()
    }
  }

  private hold(m: AddInput, out: StoreEvent[]): void {
    if (this.store.add(m, out) === 'duplicate') return
    if (this.heldListEvicted !== this.store.evicted) this.refreshHeld()
    else this.heldList.push(this.store.get(m.meta.origin, m.meta.stream, m.meta.seq)!)
  }

  private refreshHeld(): void {
    this.heldList = [...this.store.messages()]
    this.heldListEvicted = this.store.evicted
  }

  /** One retransmission or push (flag R), charged to this round's budget. */
  private sendData(to: Addr, h: HeldMessage): boolean {
    const age = Math.min(MAX_AGE, Math.max(0, Math.round(((this.s.now() - h.meta.ts) / this.config.roundMs) * AGE_UNITS_PER_ROUND)))
    const { origin, stream, seq } = h.meta
    const bytes = encodeData({ retransmission: true, origin, stream, seq, age, body: h.body })
    if (bytes.length > this.t.maxPayload) {
      this.n.oversize.inc()
      return false
    }
    this.budget--
    this.send(to, bytes)
    return true
  }

  private send(to: Addr, bytes: Uint8Array): void {
    this.n.datagramsSent.inc()
    this.n.bytesSent.inc(bytes.length)
    streamShares(bytes, this.addSent)
    this.t.send(to, bytes)
  }

  /**
   * Bytes sent and received per stream (DATA to its stream, digest and solicit entries to theirs):
   * what a member pays for each subgroup it is in. At most `maxStreams` streams are tracked.
   */
  loadByStream(): Map<number, { bytesSent: number; bytesReceived: number }> {
    return new Map([...this.streamLoad].map(([k, v]) => [k, { ...v }]))
  }

  private streamEntry(stream: number): { bytesSent: number; bytesReceived: number } | undefined {
    let e = this.streamLoad.get(stream)
    if (e === undefined && this.streamLoad.size < this.config.maxStreams) this.streamLoad.set(stream, (e = { bytesSent: 0, bytesReceived: 0 }))
    return e
  }

  private readonly addSent = (stream: number, n: number): void => {
    const e = this.streamEntry(stream)
    if (e) e.bytesSent += n
  }

  private readonly addReceived = (stream: number, n: number): void => {
    const e = this.streamEntry(stream)
    if (e) e.bytesReceived += n
  }

  private emitAll(out: readonly StoreEvent[]): void {
    const at = this.s.now()
    for (const ev of out) {
      if (ev.type === 'skip') {
        this.emit('skipped', ev.id)
        continue
      }
      const h = ev.message
      this.n.delivered.inc()
      if (h.via === 'gossip') this.n.deliveredViaGossip.inc()
      this.latency.record(at - h.meta.ts)
      this.emit('deliver', { ...h.meta, body: h.body, at, via: h.via })
    }
  }
}
