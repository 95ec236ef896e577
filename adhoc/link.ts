/**
 * The link layer: one per node, between its radio and every network protocol (DESIGN.md §2).
 *
 * Sending: a datagram goes out as one DATA frame, or as up to 255 fragments when it does not fit
 * the radio MTU. Unicast can be reliable (the default): each frame asks for an ack and is
 * retransmitted up to `maxRetries` times, one outstanding frame per neighbour (stop-and-wait) with a
 * bounded queue behind it; the ack timer starts when the radio reports the frame `sent`. A datagram
 * that cannot be delivered (no ack, radio refused or dropped it, queue full or expired, link closed)
 * is reported once by 'tx-failed' — from a scheduler callback or radio event, never from inside
 * `send()`, so a protocol may send again from its handler — except at `close()`, which reports
 * every pending reliable datagram with ERR_CLOSED before it returns. Broadcast is never acked.
 *
 * Sequence numbers (u16) are counted per stream: one per (destination, reliable?) and one for
 * broadcast, so the receiver's window for a (sender, stream) sees frames in the order they were
 * sent. Reliable frames take their numbers when they leave the queue.
 *
 * Receiving, cheapest checks first: decode the header (a total decoder) → drop own and overheard
 * frames → refresh the neighbour → ack if asked (even a duplicate: the first ack may have been
 * lost) → duplicate suppression → drop protocols nobody listens to → reassembly → 'receive' on the
 * link and on the protocol's port.
 *
 * Metrics (scope 'link'; names in docs/METRICS.md): every frame handed to the radio counts in
 * txFrames/txBytes and in txControl* (beacons, acks, control protocols) or txData* (by
 * trafficClass(proto)), retries and fragments included (so are fragmentsSent and retries);
 * rxFrames/rxBytes count every frame heard, valid or not. Besides the documented ones: acksReceived, txAcked, rxDelivered, rxOverheard, rxOwn,
 * rxUnknownProto, txDropped (radio 'dropped' reports), txErrors (radio.send threw), txQueueDrops,
 * reassembled, reassemblyErrors/Evictions/Duplicates.
 */
import { BROADCAST, isNodeAddr, type Addr } from '../core/addr.ts'
import { DecodeError, ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Logger } from '../core/logger.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../core/metrics.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Radio, RxFrame } from '../hardware/radio.ts'
import { SeqWindows } from './dedup.ts'
import { Reassembler, encodeDatagram, fragmentCount } from './fragment.ts'
import { resolveLinkTiming, validateLinkConfig, type LinkConfig, type LinkConfigInput, type LinkTiming } from './link-defaults.ts'
import { MAX_FRAGMENTS, dataHeaderSize, decodeLinkFrame, encodeAck, encodeBeacon, ownTxFrameKey, txFrameKey, type DataFrame, type LinkFrame } from './link-frame.ts'
import type { Link, LinkEvents, LinkPort, LinkPortEvents, LinkRx, NeighbourInfo, SendOptions, TxFailure } from './link-types.ts'
import { BeaconSchedule, NeighbourTable } from './neighbours.ts'
import { trafficClass, type TrafficClass } from './protocols.ts'

export interface LinkLayerOptions {
  address: Addr
  radio: Radio
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'link' for this node. */
  metrics?: MetricsScope
  logger?: Logger
  config?: LinkConfigInput
}

/** Stream classes: the receiver keeps one duplicate window per (sender, class). */
const STREAM_UNICAST = 0
const STREAM_BROADCAST = 1
const STREAM_RELIABLE = 2

/** Caps on bookkeeping maps (each entry is a few dozen bytes). */
const MAX_TX_STREAMS = 1024
const MAX_IN_RADIO = 4096

const COUNTERS = [
  'txFrames', 'txBytes', 'txControlFrames', 'txControlBytes', 'txDataFrames', 'txDataBytes',
  'rxFrames', 'rxBytes', 'rxDuplicates', 'decodeErrors', 'beaconsSent', 'acksSent', 'acksReceived',
  'retries', 'txFailed', 'txAcked', 'fragmentsSent', 'neighbourUps', 'neighbourDowns', 'rxDelivered',
  'rxOverheard', 'rxOwn', 'rxUnknownProto', 'txDropped', 'txErrors', 'txQueueDrops',
] as const
type CounterName = (typeof COUNTERS)[number]

/** A datagram being sent; `settled` once delivered (acked) or reported failed. */
interface OutDatagram { to: Addr; proto: number; payload: Uint8Array; queuedAt: number; settled: boolean }

/** One frame on its way; `key` = txFrameKey (-1 for broadcast). */
interface OutFrame { dg: OutDatagram; seq: number; key: number; reliable: boolean; bytes: Uint8Array; frag: boolean }

/**
 * Reliable-unicast state towards one neighbour: a queue of datagrams, and the frames of the one in
 * flight (`frames[idx]` outstanding; empty when idle). States: idle → radio (handed to the radio,
 * waiting for its `sent`) → ack (ack timer running) → backoff (waiting to retransmit) → radio ...
 */
interface Peer {
  to: Addr
  queue: OutDatagram[]
  frames: OutFrame[]
  idx: number
  attempts: number
  state: 'idle' | 'radio' | 'ack' | 'backoff'
  timer: Timer | null
}

/** The view of the link for one protocol number (`LinkLayer.port`). */
class LinkPortImpl extends Emitter<LinkPortEvents> implements LinkPort {
  constructor(private readonly link: LinkLayer, readonly proto: number) {
    super()
  }
  get address(): Addr { return this.link.address }
  get maxDatagram(): number { return this.link.maxDatagram }
  send(to: Addr, payload: Uint8Array, opts?: SendOptions): void { this.link.send(to, this.proto, payload, opts) }
  neighbours(): NeighbourInfo[] { return this.link.neighbours() }
}

export class LinkLayer extends Emitter<LinkEvents> implements Link {
  readonly address: Addr
  readonly maxDatagram: number
  readonly config: LinkConfig
  readonly timing: LinkTiming
  private readonly radio: Radio
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly logger: Logger | undefined
  private readonly m: Record<CounterName, Counter>
  private readonly dedup: SeqWindows
  private readonly nbrs: NeighbourTable
  private readonly reasm: Reassembler
  private readonly ports = new Map<number, LinkPortImpl>()
  /** Next sequence number per stream (destination × 2 + reliable), LRU-capped. */
  private readonly txSeq = new Map<number, number>()
  private readonly peers = new Map<Addr, Peer>()
  /** Our unicast frames handed to the radio and not yet reported sent/dropped. */
  private readonly inRadio = new Map<number, OutFrame>()
  /** Reliable datagrams queued behind the outstanding ones, over all peers. */
  private queued = 0
  private beaconSeq: number
  private readonly beacons: BeaconSchedule | null = null
  private failures: TxFailure[] = []
  private failTimer: Timer | null = null
  /** The frame inside radio.send right now, and what the radio reported synchronously about it. */
  private transmitting: OutFrame | null = null
  private syncReport: { sent: true } | { sent: false; code: ErrorCode; reason: string } | null = null
  private closed = false

  private readonly onFrame = (f: RxFrame): void => this.receiveFrame(f)
  private readonly onSent = (s: { bytes: Uint8Array }): void => this.radioSent(s.bytes)
  private readonly onDropped = (d: { bytes: Uint8Array; code: ErrorCode; reason: string }): void => this.radioDropped(d.bytes, d.code, d.reason)

  constructor(o: LinkLayerOptions) {
    super()
    if (!isNodeAddr(o.address)) throw new RangeError(`address must be a node address (1..0x7fffffff), got ${o.address}`)
    const minMtu = dataHeaderSize(false, true) + 1
    if (!Number.isInteger(o.radio.mtu) || o.radio.mtu < minMtu) throw new RangeError(`radio.mtu must be an integer >= ${minMtu}, got ${o.radio.mtu}`)
    this.address = o.address
    this.radio = o.radio
    this.scheduler = o.scheduler
    this.rng = o.rng
    this.logger = o.logger
    this.config = validateLinkConfig(o.config)
    this.timing = resolveLinkTiming(this.config, o.radio)
    const cfg = this.config
    this.maxDatagram = Math.min(cfg.maxDatagram, MAX_FRAGMENTS * (o.radio.mtu - dataHeaderSize(false, true)))
    const metrics = o.metrics ?? new MetricsRegistry().scope('link', o.address)
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, metrics.counter(n)])) as Record<CounterName, Counter>
    this.dedup = new SeqWindows({ bits: 16, window: cfg.dedupWindow, maxOrigins: cfg.dedupMaxOrigins, resyncAfter: cfg.dedupResyncAfter })
    const { maxReassemblies, reassemblyTimeoutMs: timeoutMs } = cfg
    this.reasm = new Reassembler({ scheduler: o.scheduler, maxReassemblies, maxDatagram: this.maxDatagram, timeoutMs, metrics })
    const { allowedBeaconLoss, qualityWindow, rssiAlpha, maxNeighbours } = cfg
    const [onUp, onDown] = [(n: NeighbourInfo) => this.neighbourUp(n), (n: NeighbourInfo) => this.neighbourDown(n)]
    this.nbrs = new NeighbourTable({ scheduler: o.scheduler, expiryFloorMs: cfg.neighbourExpiryMs, allowedBeaconLoss, qualityWindow, rssiAlpha, maxNeighbours, onUp, onDown })
    this.beaconSeq = o.rng.int(65536)
    o.radio.on('frame', this.onFrame)
    o.radio.on('sent', this.onSent)
    o.radio.on('dropped', this.onDropped)
    if (cfg.beaconIntervalMs > 0) {
      const fire = (): void => this.beacon()
      this.beacons = new BeaconSchedule({ scheduler: o.scheduler, rng: o.rng, intervalMs: cfg.beaconIntervalMs, jitter: cfg.beaconJitter, fire })
    }
  }

  // ---- API -------------------------------------------------------------------------------------

  send(to: Addr, proto: number, payload: Uint8Array, opts?: SendOptions): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'link is closed')
    if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) throw new RangeError(`proto must be an integer in [0, 255], got ${proto}`)
    const bcast = to === BROADCAST
    if (!bcast && !isNodeAddr(to)) throw new RangeError(`to must be a node address or BROADCAST, got ${to}`)
    if (to === this.address) throw new RangeError(`cannot send to this node's own address ${to}`)
    if (payload.length > this.maxDatagram) {
      throw new SpinmeshError(ErrorCodes.DATAGRAM_TOO_LARGE, `datagram of ${payload.length} bytes exceeds the link maximum of ${this.maxDatagram}`)
    }
    const reliable = !bcast && (opts?.reliable ?? this.config.reliableUnicast)
    const dg: OutDatagram = { to, proto, payload, queuedAt: this.scheduler.now(), settled: false }
    if (!reliable) {
      for (const f of this.makeFrames(dg, false)) {
        const err = this.transmit(f)
        if (err && !bcast) this.fail(dg, err.code, err.reason)
      }
      return
    }
    let peer = this.peers.get(to)
    if (peer === undefined) {
      peer = { to, queue: [], frames: [], idx: 0, attempts: 0, state: 'idle', timer: null }
      this.peers.set(to, peer)
    }
    if (peer.state !== 'idle') {
      if (peer.queue.length >= this.config.txQueuePerNeighbour || this.queued >= this.config.txQueueTotal) {
        this.m.txQueueDrops.inc()
        return this.fail(dg, ErrorCodes.QUEUE_FULL, `reliable queue full (${peer.queue.length} datagrams to ${to}, ${this.queued} in all)`)
      }
      dg.payload = payload.slice() // frames are built when it leaves the queue: keep our own copy
    }
    peer.queue.push(dg)
    this.queued++
    this.startNext(peer)
  }

  neighbours(): NeighbourInfo[] {
    return this.nbrs.list(this.scheduler.now())
  }

  port(proto: number): LinkPort {
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) throw new RangeError(`proto must be an integer in [0, 255], got ${proto}`)
    let p = this.ports.get(proto)
    if (p === undefined) this.ports.set(proto, (p = new LinkPortImpl(this, proto)))
    return p
  }

  /** Stop: cancel every timer, detach from the radio, fail pending reliable sends with ERR_CLOSED. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.radio.off('frame', this.onFrame)
    this.radio.off('sent', this.onSent)
    this.radio.off('dropped', this.onDropped)
    this.beacons?.stop()
    this.nbrs.close()
    this.reasm.close()
    for (const peer of this.peers.values()) {
      peer.timer?.cancel()
      if (peer.frames.length > 0) this.fail(peer.frames[0].dg, ErrorCodes.CLOSED, 'link closed')
      for (const dg of peer.queue) this.fail(dg, ErrorCodes.CLOSED, 'link closed')
    }
    this.peers.clear()
    this.inRadio.clear()
    this.queued = 0
    this.failTimer?.cancel()
    this.failTimer = null
    this.flushFailures()
  }

  // ---- transmit --------------------------------------------------------------------------------

  /** Encode every frame of a datagram, taking a block of sequence numbers from its stream. */
  private makeFrames(dg: OutDatagram, reliable: boolean): OutFrame[] {
    const mtu = this.radio.mtu
    const n = fragmentCount(dg.payload.length, mtu, dg.to === BROADCAST)
    const stream = dg.to * 2 + (reliable ? 1 : 0)
    let first = this.txSeq.get(stream)
    if (first === undefined) {
      if (this.txSeq.size >= MAX_TX_STREAMS) this.txSeq.delete(this.txSeq.keys().next().value as number)
      first = this.rng.int(65536)
    } else {
      this.txSeq.delete(stream)
    }
    this.txSeq.set(stream, (first + n) & 0xffff)
    return encodeDatagram(this.address, dg.to, first, reliable, dg.proto, dg.payload, mtu).map((bytes, i) => {
      const seq = (first + i) & 0xffff
      const key = dg.to === BROADCAST ? -1 : txFrameKey(dg.to, reliable, seq)
      return { dg, seq, key, reliable, bytes, frag: n > 1 }
    })
  }

  /** Hand a frame to the radio. Returns why it was refused or dropped at once, or null. */
  private transmit(f: OutFrame): { code: ErrorCode; reason: string } | null {
    if (f.key >= 0) {
      if (this.inRadio.size >= MAX_IN_RADIO) this.inRadio.delete(this.inRadio.keys().next().value as number)
      this.inRadio.set(f.key, f)
    }
    this.transmitting = f
    this.syncReport = null
    let refused: { code: ErrorCode; reason: string } | null = null
    try {
      this.radio.send(f.bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.m.txErrors.inc()
      refused = { code: e.code, reason: `radio refused the frame: ${e.message}` }
    } finally {
      this.transmitting = null
    }
    if (refused) {
      this.inRadio.delete(f.key)
      return refused
    }
    this.countTx(f.bytes, trafficClass(f.dg.proto))
    if (f.frag) this.m.fragmentsSent.inc()
    return this.droppedAtOnce()
  }

  /** What the radio reported synchronously inside the last radio.send, if it was a drop. */
  private droppedAtOnce(): { code: ErrorCode; reason: string } | null {
    const r = this.syncReport
    return r !== null && !r.sent ? { code: r.code, reason: r.reason } : null
  }

  private countTx(bytes: Uint8Array, cls: TrafficClass): void {
    const m = this.m
    m.txFrames.inc()
    m.txBytes.inc(bytes.length)
    ;(cls === 'control' ? m.txControlFrames : m.txDataFrames).inc()
    ;(cls === 'control' ? m.txControlBytes : m.txDataBytes).inc(bytes.length)
  }

  /** Send control frames (beacons, acks): no tracking, failures only counted. */
  private transmitControl(bytes: Uint8Array): boolean {
    try {
      this.radio.send(bytes)
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.m.txErrors.inc()
      return false
    }
    this.countTx(bytes, 'control')
    return true
  }

  // ---- reliable unicast ------------------------------------------------------------------------

  private current(peer: Peer): OutFrame | undefined {
    return peer.frames.length > 0 ? peer.frames[peer.idx] : undefined
  }

  /** Start the next queued datagram if the peer is idle; forget the peer when nothing is left. */
  private startNext(peer: Peer): void {
    while (peer.state === 'idle') {
      const dg = peer.queue.shift()
      if (dg === undefined) {
        this.peers.delete(peer.to)
        return
      }
      this.queued--
      if (dg.settled) continue
      if (this.scheduler.now() - dg.queuedAt > this.config.txQueueTtlMs) {
        this.fail(dg, ErrorCodes.EXPIRED, `waited over ${this.config.txQueueTtlMs} ms in the reliable queue to ${peer.to}`)
        continue
      }
      peer.frames = this.makeFrames(dg, true)
      peer.idx = 0
      peer.attempts = 0
      this.sendCurrent(peer)
    }
  }

  /** (Re)transmit the outstanding frame. On an immediate failure the peer is left idle. */
  private sendCurrent(peer: Peer): void {
    const f = this.current(peer)!
    peer.attempts++
    if (peer.attempts > 1) this.m.retries.inc()
    peer.state = 'radio'
    const err = this.transmit(f)
    if (err) return this.abort(peer, err.code, err.reason)
    if (this.syncReport?.sent) return this.awaitAck(peer, f)
    const guard = this.config.radioReportTimeoutMs
    if (guard > 0) peer.timer = this.scheduler.at(guard, () => this.radioSilent(peer, f))
  }

  private awaitAck(peer: Peer, f: OutFrame): void {
    peer.timer?.cancel()
    peer.state = 'ack'
    peer.timer = this.scheduler.at(this.timing.ackTimeoutMs, () => this.ackTimeout(peer, f))
  }

  private ackTimeout(peer: Peer, f: OutFrame): void {
    peer.timer = null
    if (this.current(peer) !== f) return
    if (peer.attempts > this.config.maxRetries) {
      this.abort(peer, ErrorCodes.NO_ACK, `no ack from ${peer.to} after ${peer.attempts} transmission(s)`)
      return this.startNext(peer)
    }
    peer.state = 'backoff'
    const delay = this.rng.float() * this.timing.retryBackoffMs * 2 ** (peer.attempts - 1)
    peer.timer = this.scheduler.at(delay, () => {
      peer.timer = null
      if (this.current(peer) !== f) return
      this.sendCurrent(peer)
      this.startNext(peer)
    })
  }

  private radioSilent(peer: Peer, f: OutFrame): void {
    peer.timer = null
    if (this.current(peer) !== f || peer.state !== 'radio') return
    this.inRadio.delete(f.key)
    this.abort(peer, ErrorCodes.EXPIRED, `radio reported neither sent nor dropped within ${this.config.radioReportTimeoutMs} ms`)
    this.startNext(peer)
  }

  /** Give up the datagram in flight (the caller decides when to start the next). */
  private abort(peer: Peer, code: ErrorCode, reason: string): void {
    peer.timer?.cancel()
    peer.timer = null
    const f = this.current(peer)
    peer.frames = []
    peer.state = 'idle'
    if (f) {
      this.inRadio.delete(f.key)
      this.fail(f.dg, code, reason)
    }
  }

  private acked(from: Addr, seq: number): void {
    const peer = this.peers.get(from)
    const f = peer && this.current(peer)
    if (!peer || !f || f.seq !== seq) return
    peer.timer?.cancel()
    peer.timer = null
    this.inRadio.delete(f.key)
    peer.idx++
    peer.attempts = 0
    if (peer.idx < peer.frames.length) {
      this.sendCurrent(peer)
    } else {
      f.dg.settled = true
      this.m.txAcked.inc()
      peer.frames = []
      peer.state = 'idle'
    }
    this.startNext(peer)
  }

  private radioSent(bytes: Uint8Array): void {
    const key = ownTxFrameKey(bytes, this.address)
    const f = key >= 0 ? this.inRadio.get(key) : undefined
    if (!f) return
    this.inRadio.delete(key)
    if (this.transmitting === f) {
      this.syncReport = { sent: true }
      return
    }
    if (!f.reliable) return
    const peer = this.peers.get(f.dg.to)
    if (peer && this.current(peer) === f && peer.state === 'radio') this.awaitAck(peer, f)
  }

  private radioDropped(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    this.m.txDropped.inc()
    const key = ownTxFrameKey(bytes, this.address)
    const f = key >= 0 ? this.inRadio.get(key) : undefined
    if (!f) return
    this.inRadio.delete(key)
    if (this.transmitting === f) {
      this.syncReport = { sent: false, code, reason }
      return
    }
    if (!f.reliable) return this.fail(f.dg, code, reason)
    const peer = this.peers.get(f.dg.to)
    if (!peer || this.current(peer) !== f) return
    this.abort(peer, code, reason)
    this.startNext(peer)
  }

  /** Report a datagram as failed, once, from a fresh scheduler turn. */
  private fail(dg: OutDatagram, code: ErrorCode, reason: string): void {
    if (dg.settled) return
    dg.settled = true
    this.m.txFailed.inc()
    this.failures.push({ to: dg.to, proto: dg.proto, payload: dg.payload, code, reason })
    if (this.failTimer === null && !this.closed) {
      this.failTimer = this.scheduler.at(0, () => {
        this.failTimer = null
        this.flushFailures()
      })
    }
  }

  private flushFailures(): void {
    const list = this.failures
    this.failures = []
    for (const f of list) {
      this.logger?.debug('tx failed', { to: f.to, proto: f.proto, code: f.code, reason: f.reason })
      this.emit('tx-failed', f)
      this.ports.get(f.proto)?.emit('tx-failed', f)
    }
  }

  // ---- beacons and neighbours ------------------------------------------------------------------

  private beacon(): void {
    if (this.transmitControl(encodeBeacon(this.address, this.beaconSeq, this.config.beaconIntervalMs))) this.m.beaconsSent.inc()
    this.beaconSeq = (this.beaconSeq + 1) & 0xffff
  }

  private neighbourUp(n: NeighbourInfo): void {
    this.m.neighbourUps.inc()
    this.emit('neighbour-up', n)
    for (const p of this.ports.values()) p.emit('neighbour-up', n)
  }

  private neighbourDown(n: NeighbourInfo): void {
    this.m.neighbourDowns.inc()
    for (const s of [STREAM_UNICAST, STREAM_BROADCAST, STREAM_RELIABLE]) this.dedup.forget(n.addr * 4 + s)
    this.emit('neighbour-down', n)
    for (const p of this.ports.values()) p.emit('neighbour-down', n)
  }

  // ---- receive ---------------------------------------------------------------------------------

  private receiveFrame(rx: RxFrame): void {
    const m = this.m
    m.rxFrames.inc()
    m.rxBytes.inc(rx.bytes.length)
    let fr: LinkFrame
    try {
      fr = decodeLinkFrame(rx.bytes)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      m.decodeErrors.inc()
      if (this.logger?.enabled('debug')) this.logger.debug('undecodable frame', { error: e.message, bytes: rx.bytes.length })
      return
    }
    if (fr.src === this.address) {
      m.rxOwn.inc()
      return
    }
    if (fr.kind !== 'beacon' && fr.dst !== BROADCAST && fr.dst !== this.address) {
      m.rxOverheard.inc()
      this.nbrs.heard(fr.src, rx.at, rx.rssi, rx.snr)
      return
    }
    this.nbrs.heard(fr.src, rx.at, rx.rssi, rx.snr)
    if (fr.kind === 'beacon') return this.nbrs.beacon(fr.src, fr.seq, fr.intervalMs, rx.at)
    if (fr.kind === 'ack') {
      m.acksReceived.inc()
      return this.acked(fr.src, fr.seq)
    }
    if (fr.ackReq && this.transmitControl(encodeAck(this.address, fr.src, fr.seq))) m.acksSent.inc()
    this.receiveData(fr, rx)
  }

  private receiveData(fr: DataFrame, rx: RxFrame): void {
    const bcast = fr.dst === BROADCAST
    const stream = fr.src * 4 + (bcast ? STREAM_BROADCAST : fr.ackReq ? STREAM_RELIABLE : STREAM_UNICAST)
    if (!this.dedup.accept(stream, fr.seq)) {
      this.m.rxDuplicates.inc()
      return
    }
    const port = this.ports.get(fr.proto)
    if (this.listenerCount('receive') === 0 && (port === undefined || port.listenerCount('receive') === 0)) {
      this.m.rxUnknownProto.inc()
      return
    }
    let payload = fr.payload
    if (fr.frag) {
      const key = stream * 65536 + ((fr.seq - fr.frag.index) & 0xffff)
      const done = this.reasm.add(key, fr.frag.index, fr.frag.count, fr.proto, fr.payload)
      if (done === null) return
      payload = done.payload
    }
    const out: LinkRx = { from: fr.src, to: bcast ? BROADCAST : this.address, proto: fr.proto, payload, at: rx.at }
    if (rx.rssi !== undefined) out.rssi = rx.rssi
    if (rx.snr !== undefined) out.snr = rx.snr
    this.m.rxDelivered.inc()
    this.emit('receive', out)
    port?.emit('receive', out)
  }
}

