/**
 * `MultiRadio`: N ≥ 1 radios behind one Radio, so that one link layer drives a gateway with a LoRa
 * serial radio and a UDP radio on the LAN, and the node bridges the two segments. It keeps the Radio
 * contract (hardware/radio.ts) and behaves like a learning Ethernet switch port set:
 *
 * - `mtu` is the smallest of the radios' (a frame must fit every radio it may go out on); `bitrate`
 *   is the smallest and `airtimeMs(n)` the largest, so airtime estimates above are pessimistic (the
 *   slowest radio's). A composite 'sent' reports the airtime of the copy that went on air first,
 *   which may be shorter than `airtimeMs(n)` when the radios differ. Per-radio airtime and state:
 *   read `radios[i]`.
 * - `state` is 'up' if any radio is up, else 'reconnecting' if any is, else 'connecting' if any is,
 *   else 'down'. 'state' fires only when that composite changes, its reason naming the radio whose
 *   change caused it (`radio 1 (serial): unplugged`).
 * - Receive: every radio's 'frame' is the composite's 'frame', tagged with the radio's index. A
 *   frame that reaches the node on two radios (a neighbour with the same two radios sent it on
 *   both) is passed once: copies of the same bytes from another radio within `duplicateWindowMs`
 *   are dropped here (in an authenticated network the link layer would take the second copy for a
 *   replay). The radio each source was last heard on is learnt only when the link layer accepted
 *   the frame (`sourceAccepted`, hardware/radio.ts): bounded, least recently heard evicted.
 * - Send: a unicast (its destination read by the injected `addresses` peek) whose destination was
 *   last heard on radio i, while radio i is up, goes out on i only; anything else (broadcast,
 *   unknown destination, that radio not up, no `addresses`) goes out
 *   on every radio. A radio that refuses (throws) is skipped; if all refuse, the first refusal is
 *   rethrown. Learning never expires on its own: a node that moved is relearned from its next frame
 *   (beacons), and a learned radio going down sends on all again.
 * - Each composite send ends in exactly one event: 'sent' when its first copy goes on air (that
 *   copy's `at` and `airtimeMs`), or 'dropped' once every copy was dropped (the first copy's code,
 *   every copy's reason joined). Radios copy frames and may reorder urgent ones, so a radio's
 *   'sent'/'dropped' is matched to the oldest of its pending copies with equal bytes. Events only
 *   ever come from the radios' later events, never from inside `send`.
 *
 * hardware/ does not know link headers: the caller injects `addresses` (a peek at the link header,
 * e.g. built on adhoc/link-frame.ts), which must be total (undefined for what it cannot read).
 */
import { createHash } from 'node:crypto'
import { bytesEqual } from '../core/bytes.ts'
import { ErrorCodes, SpinmeshError, type ErrorCode } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { checkFrame } from './check-frame.ts'
import type { Radio, RadioEvents, RadioState, RxFrame, SendOptions } from './radio.ts'

/** Link addresses of a frame: `dst` undefined means broadcast. */
export interface FrameAddresses {
  src: number
  dst?: number
}

export interface MultiRadioOptions {
  /** The radios, indexed 0..N-1 in this order; at least one, each at most once. */
  radios: readonly Radio[]
  /** A name per radio (same length as `radios`), used in state reasons and drop reasons. */
  names?: readonly string[]
  /** Peek at a frame's link addresses; undefined when it cannot tell. Enables learning. */
  addresses?: (frame: Uint8Array) => FrameAddresses | undefined
  /** Sources whose radio is remembered, at most (default 4096; least recently heard evicted). */
  learnLimit?: number
  /** Copies awaiting 'sent'/'dropped' per radio, at most (default 4096); past it the radio is skipped. */
  pendingLimit?: number
  /**
   * A frame whose bytes another radio delivered within this long is a copy and is dropped, ms
   * (default 10 s: longer than a LoRa frame's airtime, so the LoRa copy of a frame that came over
   * the LAN first is caught; link frames carry a sequence number or an authentication counter,
   * so equal bytes within the window are the same transmission).
   */
  duplicateWindowMs?: number
}

export const MULTI_RADIO_DEFAULTS = { learnLimit: 4096, pendingLimit: 4096, duplicateWindowMs: 10_000 } as const
/** Received frames remembered for duplicate suppression, at most. */
const DUPLICATE_MEMORY = 4096

/** One composite send: its copy of the frame and the copies still awaiting their radio's event. */
interface Pending {
  readonly bytes: Uint8Array
  left: number
  done: boolean
  readonly drops: Array<{ code: ErrorCode; reason: string }>
}

interface Handlers {
  frame: (f: RxFrame) => void
  state: (c: { state: RadioState; reason: string }) => void
  error: (e: SpinmeshError) => void
  sent: (s: { bytes: Uint8Array; at: number; airtimeMs: number }) => void
  dropped: (d: { bytes: Uint8Array; code: ErrorCode; reason: string }) => void
}

const STATE_ORDER: readonly RadioState[] = ['up', 'reconnecting', 'connecting']

/** The composite of radio states: up > reconnecting > connecting > down. */
export function compositeState(states: readonly RadioState[]): RadioState {
  for (const s of STATE_ORDER) if (states.includes(s)) return s
  return 'down'
}


function limitOption(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`multi-radio: ${name} must be a positive integer, got ${v}`)
  return v
}

export class MultiRadio extends Emitter<RadioEvents> implements Radio {
  readonly radios: readonly Radio[]
  /** `radio i` or `radio i (name)`, as used in reasons. */
  readonly labels: readonly string[]
  private readonly addresses: MultiRadioOptions['addresses']
  private readonly learnLimit: number
  private readonly pendingLimit: number
  /** Source address → index of the radio it was last heard on; insertion order = least recent first. */
  private readonly learned = new Map<number, number>()
  /** Recently received frames (by hash): the radio of the first copy and when, oldest first. */
  private readonly recent = new Map<string, { radio: number; at: number }>()
  private readonly duplicateWindowMs: number
  /** Copies of a frame dropped because another radio delivered it first. */
  duplicatesDropped = 0
  /** Per radio, copies handed to it and not yet reported, oldest first. */
  private readonly pending: Pending[][]
  private readonly handlers: Handlers[]
  private stateValue: RadioState
  private closing: Promise<void> | undefined
  /** Per radio, whether its 'sent'/'dropped' listeners are still attached (after close, until drained). */
  private readonly attached: boolean[]

  constructor(o: MultiRadioOptions) {
    super()
    if (o === null || typeof o !== 'object') throw new TypeError(`multi-radio: options must be an object, got ${String(o)}`)
    const radios = o.radios
    if (!Array.isArray(radios) || radios.length === 0) throw new RangeError('multi-radio: radios must be a non-empty array of Radio')
    radios.forEach((r, i) => {
      if (!r || typeof r.send !== 'function' || typeof r.on !== 'function' || typeof r.airtimeMs !== 'function') {
        throw new TypeError(`multi-radio: radios[${i}] is not a Radio`)
      }
      if (radios.indexOf(r) !== i) throw new RangeError(`multi-radio: radios[${i}] is the same radio as radios[${radios.indexOf(r)}]`)
    })
    if (o.names !== undefined) {
      if (!Array.isArray(o.names) || o.names.length !== radios.length) {
        throw new RangeError(`multi-radio: names must have one name per radio (${radios.length}), got ${Array.isArray(o.names) ? o.names.length : String(o.names)}`)
      }
      o.names.forEach((n, i) => {
        if (typeof n !== 'string' || n === '') throw new TypeError(`multi-radio: names[${i}] must be a non-empty string, got ${String(n)}`)
      })
    }
    if (o.addresses !== undefined && typeof o.addresses !== 'function') throw new TypeError('multi-radio: addresses must be a function')
    this.radios = Object.freeze([...radios])
    this.labels = Object.freeze(radios.map((_, i) => (o.names ? `radio ${i} (${o.names[i]})` : `radio ${i}`)))
    this.addresses = o.addresses
    this.learnLimit = limitOption(o.learnLimit, MULTI_RADIO_DEFAULTS.learnLimit, 'learnLimit')
    this.pendingLimit = limitOption(o.pendingLimit, MULTI_RADIO_DEFAULTS.pendingLimit, 'pendingLimit')
    this.duplicateWindowMs = limitOption(o.duplicateWindowMs, MULTI_RADIO_DEFAULTS.duplicateWindowMs, 'duplicateWindowMs')
    this.pending = radios.map(() => [])
    this.attached = radios.map(() => true)
    this.stateValue = compositeState(radios.map((r) => r.state))
    this.handlers = radios.map((r, i) => {
      const l: Handlers = {
        frame: (f) => this.received(i, f),
        state: (c) => this.radioState(i, c.reason),
        error: (e) => this.emit('error', e),
        sent: (s) => this.copySent(i, s.bytes, s.at, s.airtimeMs),
        dropped: (d) => this.copyDropped(i, d.bytes, d.code, d.reason),
      }
      r.on('frame', l.frame)
      r.on('state', l.state)
      r.on('error', l.error)
      r.on('sent', l.sent)
      r.on('dropped', l.dropped)
      return l
    })
  }

  /** The smallest MTU of the radios. */
  get mtu(): number {
    return Math.min(...this.radios.map((r) => r.mtu))
  }

  /** The smallest bitrate of the radios (airtime accounting above is pessimistic). */
  get bitrate(): number {
    return Math.min(...this.radios.map((r) => r.bitrate))
  }

  get state(): RadioState {
    return this.stateValue
  }

  /** The longest airtime of the radios for `bytes`. */
  airtimeMs(bytes: number): number {
    return Math.max(...this.radios.map((r) => r.airtimeMs(bytes)))
  }

  /** The radio `src` was last heard on, when learned. */
  learnedRadio(src: number): number | undefined {
    return this.learned.get(src)
  }

  send(frame: Uint8Array, opts?: SendOptions): void {
    checkFrame(frame, this.mtu, this.closing !== undefined)
    const bytes = frame.slice()
    const p: Pending = { bytes, left: 0, done: false, drops: [] }
    let first: unknown
    for (const i of this.targets(bytes)) {
      const list = this.pending[i]
      if (list.length >= this.pendingLimit) {
        first ??= new SpinmeshError(ErrorCodes.QUEUE_FULL, `${this.labels[i]}: ${list.length} frames awaiting sent/dropped`)
        continue
      }
      list.push(p) // before send: the entry exists whatever the radio reports later
      try {
        this.radios[i].send(bytes, opts)
        p.left++
      } catch (e) {
        list.splice(list.lastIndexOf(p), 1)
        first ??= e
      }
    }
    if (p.left === 0) throw first
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing
    this.closing = this.closeAll()
    return this.closing
  }

  private async closeAll(): Promise<void> {
    this.radios.forEach((r, i) => {
      const l = this.handlers[i]
      r.off('frame', l.frame)
      r.off('state', l.state)
      r.off('error', l.error)
    })
    const changed = this.stateValue !== 'down'
    this.stateValue = 'down'
    // Radios drop their waiting frames (→ composite 'dropped'); a frame on air is still reported sent.
    const results = await Promise.allSettled(this.radios.map((r) => r.close()))
    this.radios.forEach((_, i) => this.detachIfDrained(i))
    this.learned.clear()
    if (changed) this.emit('state', { state: 'down', reason: 'closed' })
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected')
    if (failed) throw failed.reason
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Radio indices a frame goes out on. */
  private targets(bytes: Uint8Array): readonly number[] {
    const dst = this.addresses?.(bytes)?.dst
    const i = dst === undefined ? undefined : this.learned.get(dst)
    if (i !== undefined && this.radios[i].state === 'up') return [i]
    return this.radios.map((_, k) => k)
  }

  private received(i: number, f: RxFrame): void {
    // A frame a two-radio neighbour sent on both radios reaches us twice: pass the first copy,
    // drop copies of the same bytes from another radio within the window. Copies on the same radio
    // pass (a retransmission the link layer must ack again).
    const key = createHash('sha256').update(f.bytes).digest('base64')
    const now = f.at
    const seen = this.recent.get(key)
    if (seen !== undefined && now - seen.at <= this.duplicateWindowMs && seen.radio !== i) {
      this.duplicatesDropped++
      return
    }
    this.recent.delete(key)
    this.recent.set(key, { radio: i, at: now })
    for (const [k, v] of this.recent) {
      if (this.recent.size <= DUPLICATE_MEMORY && now - v.at <= this.duplicateWindowMs) break
      this.recent.delete(k)
    }
    this.emit('frame', { ...f, radio: i })
  }

  /**
   * The link layer accepted `frame` from `src` (authenticated, in an authenticated network): learn
   * the radio it came on. Learning only from accepted frames keeps a forged frame on one segment
   * from pulling a node's unicasts away from the radio that really reaches it.
   */
  sourceAccepted(src: number, frame: RxFrame): void {
    const i = frame.radio
    if (i === undefined || !Number.isInteger(i) || i < 0 || i >= this.radios.length) return
    this.learned.delete(src)
    this.learned.set(src, i)
    if (this.learned.size > this.learnLimit) this.learned.delete(this.learned.keys().next().value as number)
  }

  private radioState(i: number, reason: string): void {
    const next = compositeState(this.radios.map((r) => r.state))
    if (next === this.stateValue) return
    this.stateValue = next
    this.emit('state', { state: next, reason: `${this.labels[i]}: ${reason}` })
  }

  /** Remove and return radio i's oldest pending copy with these bytes. */
  private take(i: number, bytes: Uint8Array): Pending | undefined {
    const list = this.pending[i]
    const k = list.findIndex((p) => bytesEqual(p.bytes, bytes))
    if (k < 0) return undefined
    const [p] = list.splice(k, 1)
    p.left--
    return p
  }

  private copySent(i: number, bytes: Uint8Array, at: number, airtimeMs: number): void {
    const p = this.take(i, bytes)
    if (p && !p.done) {
      p.done = true
      this.emit('sent', { bytes: p.bytes, at, airtimeMs })
    }
    this.detachIfDrained(i)
  }

  private copyDropped(i: number, bytes: Uint8Array, code: ErrorCode, reason: string): void {
    const p = this.take(i, bytes)
    if (p && !p.done) {
      p.drops.push({ code, reason: `${this.labels[i]}: ${reason}` })
      if (p.left === 0) {
        p.done = true
        this.emit('dropped', { bytes: p.bytes, code: p.drops[0].code, reason: p.drops.map((d) => d.reason).join('; ') })
      }
    }
    this.detachIfDrained(i)
  }

  /** After close, stop listening to radio i once it reported every copy handed to it. */
  private detachIfDrained(i: number): void {
    if (!this.closing || !this.attached[i] || this.pending[i].length > 0) return
    this.attached[i] = false
    const l = this.handlers[i]
    this.radios[i].off('sent', l.sent)
    this.radios[i].off('dropped', l.dropped)
  }
}
