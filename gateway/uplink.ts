/**
 * Sensor uplink (issue 9): a sensor node sends each sample of its feeds to a gateway, routed by the
 * mesh's unicast router (AODV `sendRouted`, inner protocol `Proto.SAMPLE`); the gateway decodes it
 * into a FeedSample. Convergecast, as LoRa sensor fields run: many sensors, one or a few gateways.
 * Hop-by-hop reliability is the link layer's (acked unicast with retries); a sample lost on the
 * way is lost (the gateway counts gaps per (origin, feed) from the seq numbers, `gaps`). A sensor
 * that restarts numbers from 0 again: a sample behind the expected seq but newer (by ts) than
 * any before is taken as such a restart, not as a duplicate.
 *
 * Wire (docs/WIRE.md §19), after the routed header:
 *
 *   offset size  field
 *   0      1     version = 1
 *   1      2     feed id, u16 big-endian (the feed's schema id)
 *   3      4     seq, u32 big-endian: per (origin, feed), from 0, +1 per sample
 *   7      …     the sample body of gossip/feeds/sample.ts (version, ts u48 ms, count, values)
 *
 * A PMU-like sample of 3 f32 values is 7 + 20 = 27 bytes. The decoder is total.
 */
import { EventEmitter } from 'eventemitter3'
import type { Addr } from '../core/addr.ts'
import { ByteReader } from '../core/bytes.ts'
import { tryDecode } from '../core/errors.ts'
import type { RoutedMessage, UnicastRouter } from '../adhoc/routing.ts'
import { Proto } from '../adhoc/protocols.ts'
import { decodeSampleBody, encodeSampleBody, type FeedSample, type FeedSchema, type ValuePrecision } from '../gossip/feeds/sample.ts'

export const UPLINK_VERSION = 1
/** Skipped seqs remembered per (origin, feed), so that a late sample is told from a duplicate. */
export const MAX_MISSING = 256
/** (origin, feed) pairs the receiver keeps seq state for; the least recently heard is forgotten. */
export const MAX_STREAMS = 65_536
export const UPLINK_HEADER_SIZE = 7

export interface UplinkMessage {
  feed: number
  seq: number
  ts: number
  values: Float64Array | readonly number[]
}

export function encodeUplink(m: UplinkMessage, precision: ValuePrecision = 'f32'): Uint8Array {
  if (!Number.isInteger(m.feed) || m.feed < 0 || m.feed > 0xffff) throw new RangeError(`feed id must be a u16, got ${m.feed}`)
  if (!Number.isInteger(m.seq) || m.seq < 0 || m.seq > 0xffffffff) throw new RangeError(`seq must be a u32, got ${m.seq}`)
  const body = encodeSampleBody({ ts: m.ts, values: m.values }, precision)
  const out = new Uint8Array(UPLINK_HEADER_SIZE + body.length)
  const v = new DataView(out.buffer)
  out[0] = UPLINK_VERSION
  v.setUint16(1, m.feed)
  v.setUint32(3, m.seq)
  out.set(body, UPLINK_HEADER_SIZE)
  return out
}

/** Total: an UplinkMessage (values as Float64Array) or a DecodeError. */
export function decodeUplink(bytes: Uint8Array): UplinkMessage & { values: Float64Array } {
  const r = new ByteReader(bytes, 'sample uplink')
  const version = r.u8('version')
  if (version !== UPLINK_VERSION) r.fail(`unknown version ${version} (this decoder reads ${UPLINK_VERSION})`)
  const feed = r.u16('feed')
  const seq = r.u32('seq')
  const body = decodeSampleBody(bytes.subarray(UPLINK_HEADER_SIZE))
  return { feed, seq, ts: body.ts, values: body.values }
}

/** A sensor's side: numbers each feed's samples and routes them to the gateway. */
export class UplinkSender {
  private readonly seqs = new Map<number, number>()
  sent = 0

  constructor(private readonly o: { router: UnicastRouter; gateway: Addr; precision?: ValuePrecision }) {}

  /** Send one sample of `feed`; returns its seq. Throws RangeError for a sample the codec refuses. */
  send(feed: FeedSchema, ts: number, values: readonly number[] | Float64Array): number {
    if (values.length !== feed.fields.length) throw new RangeError(`feed ${feed.name} has ${feed.fields.length} fields, got ${values.length} values`)
    const seq = this.seqs.get(feed.id) ?? 0
    const bytes = encodeUplink({ feed: feed.id, seq, ts, values }, this.o.precision)
    this.seqs.set(feed.id, (seq + 1) >>> 0)
    this.o.router.sendRouted(this.o.gateway, Proto.SAMPLE, bytes)
    this.sent++
    return seq
  }
}

export interface UplinkReceiverEvents {
  sample: (s: FeedSample & { hops: number; at: number }) => void
  /** A routed SAMPLE that did not decode, or named a feed the gateway does not know. */
  rejected: (r: { origin: Addr; reason: string }) => void
}

/** The gateway's side: routed SAMPLE messages → FeedSamples of known feeds. */
export class UplinkReceiver extends EventEmitter<UplinkReceiverEvents> {
  private readonly feeds: Map<number, FeedSchema>
  /**
   * Per `${origin}/${feed}`: the next expected seq, the seqs skipped by a jump (counted as gaps
   * until they arrive late; at most MAX_MISSING remembered, oldest forgotten), and the newest ts.
   */
  private readonly next = new Map<string, { seq: number; missing: Set<number>; lastTs: number }>()
  received = 0
  rejected = 0
  duplicates = 0
  gaps = 0
  /** Sensors seen starting their seq numbers again (a reboot): their samples are accepted. */
  restarts = 0
  private readonly onRouted = (m: RoutedMessage): void => this.routed(m)

  constructor(private readonly router: UnicastRouter, feeds: readonly FeedSchema[]) {
    super()
    this.feeds = new Map(feeds.map((f) => [f.id, f]))
    router.on('routed', this.onRouted)
  }

  feed(id: number): FeedSchema | undefined {
    return this.feeds.get(id)
  }

  private routed(m: RoutedMessage): void {
    if (m.proto !== Proto.SAMPLE) return
    const u = tryDecode(decodeUplink, m.payload)
    const reject = (reason: string) => {
      this.rejected++
      this.emit('rejected', { origin: m.origin, reason })
    }
    if (u === undefined) return reject('undecodable sample')
    const schema = this.feeds.get(u.feed)
    if (schema === undefined) return reject(`unknown feed id ${u.feed}`)
    if (u.values.length !== schema.fields.length) return reject(`feed ${schema.name} has ${schema.fields.length} fields, the sample ${u.values.length} values`)
    const k = `${m.origin}/${u.feed}`
    const state = this.next.get(k)
    if (state === undefined) this.remember(k, { seq: (u.seq + 1) >>> 0, missing: new Set(), lastTs: u.ts })
    else {
      const ahead = (u.seq - state.seq) >>> 0
      if (ahead >= 0x8000_0000) {
        // Behind the expected seq: a late sample we counted as a gap, a copy we already have, or a
        // sensor that restarted (its seq numbers start again at 0): a restarted sensor's sample is
        // newer than any we had from it, a copy or a late one is not.
        if (state.missing.delete(u.seq)) this.gaps--
        else if (u.ts > state.lastTs) {
          this.restarts++
          state.seq = (u.seq + 1) >>> 0
          state.missing.clear()
        } else {
          this.duplicates++
          return
        }
      } else {
        this.gaps += ahead
        for (let i = 0; i < Math.min(ahead, MAX_MISSING); i++) state.missing.add((u.seq - 1 - i) >>> 0)
        while (state.missing.size > MAX_MISSING) state.missing.delete(state.missing.values().next().value!)
        state.seq = (u.seq + 1) >>> 0
      }
      state.lastTs = Math.max(state.lastTs, u.ts)
      this.remember(k, state)
    }
    this.received++
    this.emit('sample', { feed: u.feed, origin: m.origin, seq: u.seq, ts: u.ts, values: u.values, hops: m.hops, at: m.at })
  }

  /** Keep `state` as the most recently heard; forget the least recently heard beyond MAX_STREAMS. */
  private remember(k: string, state: { seq: number; missing: Set<number>; lastTs: number }): void {
    this.next.delete(k)
    this.next.set(k, state)
    if (this.next.size > MAX_STREAMS) this.next.delete(this.next.keys().next().value!)
  }

  close(): void {
    this.router.off('routed', this.onRouted)
  }
}

