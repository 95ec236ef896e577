/**
 * The link layer: one per node, between its radio and every network protocol (DESIGN.md §2).
 *
 * Sending: a datagram goes out as one DATA frame, or as up to 255 fragments when it does not fit
 * the radio MTU. Unicast can be reliable (the default; adhoc/reliable.ts): each frame asks for an
 * ack and is retransmitted up to `maxRetries` times, one outstanding frame per neighbour
 * (stop-and-wait) with a bounded queue behind it. A datagram that cannot be delivered (no ack,
 * radio refused or dropped it, queue full or expired, link closed) is reported once by 'tx-failed'
 * — from a scheduler callback or radio event, never from inside `send()`, so a protocol may send
 * again from its handler — except at `close()`, which reports every pending reliable datagram with
 * ERR_CLOSED before it returns. Broadcast is never acked. Acks go to the radio as `urgent`, ahead of
 * frames it has queued, so a backlog at the receiver does not delay them past the sender's timer.
 *
 * Sequence numbers (u16) are counted per stream: one per (destination, reliable?) and one for
 * broadcast, so the receiver's window for a (sender, stream) sees frames in the order they were
 * sent. Reliable frames take their numbers when they leave the queue.
 *
 * Receiving, cheapest checks first: decode the header (a total decoder) → drop own and overheard
 * frames → in an authenticated network, the authenticator's verdict (MAC, replay window, sender
 * admitted; refused frames stop here, counted in rxRefused; unauthenticated key-handshake frames go
 * to the authenticator only) → refresh the neighbour → ack if asked (even a duplicate: the first
 * ack may have been lost) → duplicate suppression → drop protocols nobody listens to → reassembly
 * → 'receive' on the link and on the protocol's port (proto SEC: the authenticator).
 *
 * Security (`auth`, crypto/link-auth.ts): every frame, retransmissions included, is sealed with a
 * fresh counter on its way to the radio, so the radio MTU available to a frame shrinks by the
 * 12-byte trailer (fragmentation and `maxDatagram` account for it).
 *
 * Metrics (scope 'link'; names in docs/METRICS.md). Transmissions are counted when the radio
 * reports a frame `sent`, i.e. on air: txFrames/txBytes, split into txControl* (beacons, acks,
 * control protocols) and txData* (by trafficClass(proto)), and beaconsSent, acksSent,
 * fragmentsSent — so they equal what the medium carried. Frames the radio reports `dropped` count
 * in txDropped and txDropped<Code> (txDroppedQueueFull, txDroppedExpired, ...); frames it refuses
 * by throwing in txErrors. retries counts retransmissions handed to the radio. rxFrames/rxBytes
 * count every frame heard, valid or not. Besides the documented ones: acksReceived, txAcked,
 * rxDelivered, rxOverheard, rxOwn, rxUnknownProto, txQueueDrops, reassembled,
 * reassemblyErrors/Evictions/Duplicates.
 */
import { BROADCAST, isNodeAddr, type Addr } from '../core/addr.ts'
import { tryDecode, type DecodeError, ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import type { Logger } from '../core/logger.ts'
import { MetricsRegistry, type Counter, type MetricsScope } from '../core/metrics.ts'
import type { Rng } from '../core/rng.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Radio, RxFrame } from '../hardware/radio.ts'
import { SeqWindows } from './dedup.ts'
import { Reassembler, encodeDatagram, fragmentCount } from './fragment.ts'
import { resolveLinkTiming, validateLinkConfig, type LinkConfig, type LinkConfigInput, type LinkTiming } from './link-defaults.ts'
import {
  KIND_ACK, KIND_BEACON, KIND_DATA, MAX_FRAGMENTS, dataHeaderSize, decodeLinkFrame, encodeAck, encodeBeacon, isFragmentFrame, ownFrameKind,
  ownTxFrameKey, sentDataProto, txFrameKey, type DataFrame,
} from './link-frame.ts'
import type { Link, LinkAuthenticator, LinkEvents, LinkPort, LinkPortEvents, LinkRx, NeighbourInfo, SendOptions, TxFailure } from './link-types.ts'
import { BeaconSchedule, NeighbourTable } from './neighbours.ts'
import { Proto, trafficClass } from './protocols.ts'
import { ReliableUnicast, type OutDatagram, type OutFrame, type TxRefusal } from './reliable.ts'

export interface LinkLayerOptions {
  address: Addr
  radio: Radio
  scheduler: Scheduler
  rng: Rng
  /** Counters of layer 'link' for this node. */
  metrics?: MetricsScope
  logger?: Logger
  config?: LinkConfigInput
  /** Where `config` sits in the caller's configuration, for error paths; default 'link'. */
  configPath?: string
  /**
   * Frame authentication (crypto/link-auth.ts) in an `authenticated` network; absent in an `open`
   * one. Every frame is sealed before the radio and checked before anything else on receive;
   * refused frames are counted in rxRefused and go nowhere (no neighbour refresh, no ack, no
   * delivery, so never forwarded).
   */
  auth?: LinkAuthenticator
}

/** Stream classes: the receiver keeps one duplicate window per (sender, class). */
const STREAM_UNICAST = 0
const STREAM_BROADCAST = 1
const STREAM_RELIABLE = 2
/** Unauthenticated security handshake frames, kept apart so they cannot disturb the others. */
const STREAM_HANDSHAKE = 3
/** Handshake messages reassembled at once (they are rare: one per new neighbour). */
const HANDSHAKE_REASSEMBLIES = 4

/** Caps on bookkeeping maps (each entry is a few dozen bytes). */
const MAX_TX_STREAMS = 1024
const MAX_IN_RADIO = 4096

const COUNTERS = [
  'txFrames', 'txBytes', 'txControlFrames', 'txControlBytes', 'txDataFrames', 'txDataBytes',
  'rxFrames', 'rxBytes', 'rxDuplicates', 'decodeErrors', 'beaconsSent', 'acksSent', 'acksReceived',
  'retries', 'txFailed', 'txAcked', 'fragmentsSent', 'neighbourUps', 'neighbourDowns', 'rxDelivered',
  'rxOverheard', 'rxOwn', 'rxUnknownProto', 'txDropped', 'txErrors', 'txQueueDrops', 'rxRefused',
] as const

/** `txDropped` + the radio's code in camel case: ERR_QUEUE_FULL → txDroppedQueueFull. */
function dropCounterName(code: ErrorCode): string {
  return 'txDropped' + code.replace(/^ERR_/, '').toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())
}
type CounterName = (typeof COUNTERS)[number]

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
  /** Bytes a frame may have before sealing: the radio MTU less the authentication trailer. */
  private readonly frameMtu: number
  private readonly auth: LinkAuthenticator | undefined
  private readonly radio: Radio
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly logger: Logger | undefined
  private readonly m: Record<CounterName, Counter>
  private readonly metrics: MetricsScope
  private readonly dedup: SeqWindows
  private readonly nbrs: NeighbourTable
  private readonly reasm: Reassembler
  /**
   * Reassembly of unauthenticated handshake messages (a KEY with its certificate can exceed a LoRa
   * frame), kept apart and small so forged fragments cannot push out authenticated reassemblies.
   */
  private readonly reasmHandshake: Reassembler | null
  private readonly ports = new Map<number, LinkPortImpl>()
  /** Next sequence number per stream (destination × 2 + reliable), LRU-capped. */
  private readonly txSeq = new Map<number, number>()
  private readonly reliable: ReliableUnicast
  /** Our unicast frames handed to the radio and not yet reported sent/dropped. */
  private readonly inRadio = new Map<number, OutFrame>()
  private readonly dropCounters = new Map<ErrorCode, Counter>()
  private beaconSeq: number
  private readonly beacons: BeaconSchedule | null = null
  private failures: TxFailure[] = []
  private failTimer: Timer | null = null
  private closed = false

  private readonly onFrame = (f: RxFrame): void => this.receiveFrame(f)
  private readonly onSent = (s: { bytes: Uint8Array }): void => this.radioSent(s.bytes)
  private readonly onDropped = (d: { bytes: Uint8Array; code: ErrorCode; reason: string }): void => this.radioDropped(d.bytes, d.code, d.reason)

  /** Counts (and at debug level logs) a frame that does not decode. */
  private readonly onDecodeError = (e: DecodeError): void => {
    this.m.decodeErrors.inc()
    if (this.logger?.enabled('debug')) this.logger.debug('undecodable frame', { error: e.message })
  }

  constructor(o: LinkLayerOptions) {
    super()
    if (!isNodeAddr(o.address)) throw new RangeError(`address must be a node address (1..0x7fffffff), got ${o.address}`)
    const overhead = o.auth?.overhead ?? 0
    const minMtu = dataHeaderSize(false, true) + 1 + overhead
    if (!Number.isInteger(o.radio.mtu) || o.radio.mtu < minMtu) throw new RangeError(`radio.mtu must be an integer >= ${minMtu}, got ${o.radio.mtu}`)
    this.address = o.address
    this.auth = o.auth
    this.frameMtu = o.radio.mtu - overhead
    this.radio = o.radio
    this.scheduler = o.scheduler
    this.rng = o.rng
    this.logger = o.logger
    this.config = validateLinkConfig(o.config, o.configPath)
    this.timing = resolveLinkTiming(this.config, o.radio)
    const cfg = this.config
    this.maxDatagram = Math.min(cfg.maxDatagram, MAX_FRAGMENTS * (this.frameMtu - dataHeaderSize(false, true)))
    const metrics = o.metrics ?? new MetricsRegistry().scope('link', o.address)
    this.metrics = metrics
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, metrics.counter(n)])) as Record<CounterName, Counter>
    const m = this.m
    this.reliable = new ReliableUnicast({
      scheduler: o.scheduler,
      rng: o.rng,
      config: cfg,
      timing: this.timing,
      frames: (dg) => this.makeFrames(dg, true),
      transmit: (f) => this.transmit(f),
      untrack: (f) => this.inRadio.delete(f.key),
      fail: (dg, code, reason) => this.fail(dg, code, reason),
      counters: { retries: m.retries, txAcked: m.txAcked, txQueueDrops: m.txQueueDrops },
    })
    this.dedup = new SeqWindows({ bits: 16, window: cfg.dedupWindow, maxOrigins: cfg.dedupMaxOrigins, resyncAfter: cfg.dedupResyncAfter })
    const { maxReassemblies, reassemblyTimeoutMs: timeoutMs } = cfg
    this.reasm = new Reassembler({ scheduler: o.scheduler, maxReassemblies, maxDatagram: this.maxDatagram, timeoutMs, metrics })
    this.reasmHandshake = o.auth ? new Reassembler({ scheduler: o.scheduler, maxReassemblies: HANDSHAKE_REASSEMBLIES, maxDatagram: this.maxDatagram, timeoutMs, metrics }) : null
    const { allowedBeaconLoss, qualityWindow, rssiAlpha, maxNeighbours } = cfg
    const [onUp, onDown] = [(n: NeighbourInfo) => this.neighbourUp(n), (n: NeighbourInfo) => this.neighbourDown(n)]
    this.nbrs = new NeighbourTable({ scheduler: o.scheduler, expiryFloorMs: cfg.neighbourExpiryMs, allowedBeaconLoss, qualityWindow, rssiAlpha, maxNeighbours, onUp, onDown })
    this.beaconSeq = o.rng.int(65536)
    o.auth?.attach(
      (to, payload, authenticated) => this.sendSecurity(to, payload, authenticated),
      (token) => this.closed || this.receiveFrame(token as RxFrame),
    )
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
    if (reliable) return this.reliable.send(dg)
    for (const f of this.makeFrames(dg, false)) {
      const refused = this.transmit(f)
      if (refused && !bcast) this.fail(dg, refused.code, refused.reason)
    }
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
    this.reasmHandshake?.close()
    this.reliable.close()
    this.inRadio.clear()
    this.failTimer?.cancel()
    this.failTimer = null
    this.flushFailures()
  }

  // ---- transmit --------------------------------------------------------------------------------

  /** Encode every frame of a datagram, taking a block of sequence numbers from its stream. */
  private makeFrames(dg: OutDatagram, reliable: boolean): OutFrame[] {
    const mtu = this.frameMtu
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
      return { dg, seq, key, reliable, bytes }
    })
  }

  /**
   * Hand a frame to the radio, watching unicast frames for the radio's later report (it never
   * reports inside send). Returns the refusal when the radio throws.
   */
  private transmit(f: OutFrame): TxRefusal | null {
    if (f.key >= 0) {
      if (this.inRadio.size >= MAX_IN_RADIO) this.inRadio.delete(this.inRadio.keys().next().value as number)
      this.inRadio.set(f.key, f)
    }
    const refused = this.radioSend(f.bytes, false)
    if (refused) this.inRadio.delete(f.key)
    return refused
  }

  /**
   * A security message of the authenticator: unreliable, never reported by 'tx-failed' (the
   * handshake retries on its own), unauthenticated when the two nodes share no keys yet.
   */
  private sendSecurity(to: Addr, payload: Uint8Array, authenticated: boolean): void {
    if (this.closed || payload.length > this.maxDatagram) return
    const dg: OutDatagram = { to, proto: Proto.SEC, payload, queuedAt: this.scheduler.now(), settled: true }
    for (const f of this.makeFrames(dg, false)) this.radioSend(f.bytes, false, authenticated)
  }

  private radioSend(bytes: Uint8Array, urgent: boolean, authenticated = true): TxRefusal | null {
    if (this.auth !== undefined && authenticated) {
      const sealed = this.auth.seal(bytes)
      if (sealed === null) return { code: ErrorCodes.NO_KEY, reason: 'no keys shared with that neighbour yet (security handshake pending)' }
      bytes = sealed
    }
    try {
      this.radio.send(bytes, urgent ? { urgent } : undefined)
      return null
    } catch (e) {
      if (!(e instanceof SpinmeshError)) throw e
      this.m.txErrors.inc()
      return { code: e.code, reason: `radio refused the frame: ${e.message}` }
    }
  }

  /** The radio put one of its frames on air: count it by kind and class; time a reliable frame's ack. */
  private radioSent(bytes: Uint8Array): void {
    const kind = ownFrameKind(bytes, this.address)
    if (kind < 0) return // not a frame of ours
    const m = this.m
    let control = true
    if (kind === KIND_BEACON) m.beaconsSent.inc()
    else if (kind === KIND_ACK) m.acksSent.inc()
    else if (kind === KIND_DATA) {
      control = trafficClass(sentDataProto(bytes)) === 'control'
      if (isFragmentFrame(bytes)) m.fragmentsSent.inc()
    }
    m.txFrames.inc()
    m.txBytes.inc(bytes.length)
    ;(control ? m.txControlFrames : m.txDataFrames).inc()
    ;(control ? m.txControlBytes : m.txDataBytes).inc(bytes.length)
    const f = this.tracked(bytes)
    if (f?.reliable) this.reliable.sent(f)
  }

  private radioDropped(bytes: Uint8Array, code: ErrorCode, reason: string): void {
    this.m.txDropped.inc()
    let c = this.dropCounters.get(code)
    if (c === undefined) this.dropCounters.set(code, (c = this.metrics.counter(dropCounterName(code))))
    c.inc()
    const f = this.tracked(bytes)
    if (f === undefined) return
    if (f.reliable) this.reliable.dropped(f, code, reason)
    else this.fail(f.dg, code, reason)
  }

  /** The unicast frame of ours the radio reports on, no longer watched; undefined if none. */
  private tracked(bytes: Uint8Array): OutFrame | undefined {
    const key = ownTxFrameKey(bytes, this.address)
    const f = key >= 0 ? this.inRadio.get(key) : undefined
    if (f !== undefined) this.inRadio.delete(key)
    return f
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
    this.radioSend(encodeBeacon(this.address, this.beaconSeq, this.config.beaconIntervalMs), false)
    this.beaconSeq = (this.beaconSeq + 1) & 0xffff
  }

  private neighbourUp(n: NeighbourInfo): void {
    this.m.neighbourUps.inc()
    this.emit('neighbour-up', n)
    for (const p of this.ports.values()) p.emit('neighbour-up', n)
  }

  private neighbourDown(n: NeighbourInfo): void {
    this.m.neighbourDowns.inc()
    for (const s of [STREAM_UNICAST, STREAM_BROADCAST, STREAM_RELIABLE, STREAM_HANDSHAKE]) this.dedup.forget(n.addr * 4 + s)
    this.emit('neighbour-down', n)
    for (const p of this.ports.values()) p.emit('neighbour-down', n)
  }

  // ---- receive ---------------------------------------------------------------------------------

  private receiveFrame(rx: RxFrame): void {
    const m = this.m
    m.rxFrames.inc()
    m.rxBytes.inc(rx.bytes.length)
    const fr = tryDecode(decodeLinkFrame, rx.bytes, this.onDecodeError)
    if (!fr) return
    if (fr.src === this.address) {
      m.rxOwn.inc()
      return
    }
    if (fr.kind !== 'beacon' && fr.dst !== BROADCAST && fr.dst !== this.address) {
      m.rxOverheard.inc()
      // An overheard frame's MAC is not ours to check: only an open network trusts its source.
      if (this.auth === undefined) this.nbrs.heard(fr.src, rx.at, rx.rssi, rx.snr)
      return
    }
    if (this.auth !== undefined) {
      const verdict = this.auth.open(rx.bytes, fr, rx)
      if (verdict !== 'ok') {
        if (verdict === 'handshake' && fr.kind === 'data') this.receiveData(fr, rx, STREAM_HANDSHAKE)
        else m.rxRefused.inc()
        return
      }
    }
    this.nbrs.heard(fr.src, rx.at, rx.rssi, rx.snr)
    this.radio.sourceAccepted?.(fr.src, rx)
    if (fr.kind === 'beacon') return this.nbrs.beacon(fr.src, fr.seq, fr.intervalMs, rx.at)
    if (fr.kind === 'ack') {
      m.acksReceived.inc()
      return this.reliable.acked(fr.src, fr.seq)
    }
    if (fr.ackReq) this.radioSend(encodeAck(this.address, fr.src, fr.seq), true)
    this.receiveData(fr, rx)
  }

  private receiveData(fr: DataFrame, rx: RxFrame, streamClass?: number): void {
    const bcast = fr.dst === BROADCAST
    const stream = fr.src * 4 + (streamClass ?? (bcast ? STREAM_BROADCAST : fr.ackReq ? STREAM_RELIABLE : STREAM_UNICAST))
    if (!this.dedup.accept(stream, fr.seq)) {
      this.m.rxDuplicates.inc()
      return
    }
    const security = this.auth !== undefined && fr.proto === Proto.SEC
    const port = this.ports.get(fr.proto)
    if (!security && this.listenerCount('receive') === 0 && (port === undefined || port.listenerCount('receive') === 0)) {
      this.m.rxUnknownProto.inc()
      return
    }
    let payload = fr.payload
    if (fr.frag) {
      const key = stream * 65536 + ((fr.seq - fr.frag.index) & 0xffff)
      const table = streamClass === STREAM_HANDSHAKE ? this.reasmHandshake! : this.reasm
      const done = table.add(key, fr.frag.index, fr.frag.count, fr.proto, fr.payload)
      if (done === null) return
      payload = done.payload
    }
    if (security) return this.auth!.control(fr.src, payload, streamClass !== STREAM_HANDSHAKE)
    const out: LinkRx = { from: fr.src, to: bcast ? BROADCAST : this.address, proto: fr.proto, payload, at: rx.at }
    if (rx.rssi !== undefined) out.rssi = rx.rssi
    if (rx.snr !== undefined) out.snr = rx.snr
    this.m.rxDelivered.inc()
    this.emit('receive', out)
    port?.emit('receive', out)
  }
}

