/**
 * ODSBR route discovery with fault avoidance (seed 003 §4.1, figure 2 and steps I–V; PROTOCOLS.md
 * §4 phase 1) as a sans-IO core: it is handed REQUEST/RESPONSE payloads (`receive`) and broadcasts
 * through `send(payload, delayMs)`; timers come from the scheduler, signatures from OriginAuth.
 *
 * - REQUEST: the source signs and floods it with its weight list (ttl = `maxHops`). A node drops
 *   copies of requests it already handled (bounded memory, `maxFloodMemory`) and verifies the
 *   source's signature BEFORE remembering the request, so a forged copy cannot suppress the
 *   genuine one. The destination answers with a signed RESPONSE echoing the weight list; other
 *   nodes rebroadcast with ttl − 1, hops + 1 after a jitter U[0, floodJitterMs).
 * - RESPONSE: flooded back. A node X adds up the listed weights along dst → hops… → X and handles
 *   the response only if none for (source, dst, reqId) was handled before or this one is strictly
 *   lighter (figure 2 line 21 read as the text says). Cheap checks run first (X already on the
 *   path, sender is not the last hop, too long, heavier); then the destination's and every hop's
 *   signature are verified (a signature verified before is not verified again). A relay appends
 *   its own (id, signature) and rebroadcasts after jitter; the source keeps the lightest path,
 *   waits `responseCollectMs` after the first verified response and emits `route`.
 * - Retries: no verified response within `discoveryTimeoutMs` → a new REQUEST (new reqId), up to
 *   `requestRetries` times; then `unreachable`.
 * - A signature that cannot be checked yet (the signer's certificate is being fetched from the
 *   neighbour that relayed the message) suspends the message; it is handled again, from the start,
 *   once every missing certificate has arrived (`verifyPending`).
 *
 * The sender of a RESPONSE must be its last hop (the destination when there is none): an honest
 * relay broadcasts the copy it signed, and the link layer authenticates `from`, so a node that
 * rebroadcasts without appending itself is not believed (`responseWrongSender`). This does not
 * stop "virtual links" (a colluder cutting the last hops, or a wormhole); fault detection handles
 * those (paper §4.1, §5).
 *
 * Counters (scope given): requestsSent, requestsForwarded, requestDuplicates, requestBadSignature,
 * responsesSent, responsesForwarded, responseHeavier, responseBadSignature, responseLoops,
 * responseWrongSender, responseTooLong, responseUnsolicited, verifyPending, routesFound,
 * discoveryFailures, decodeErrors, ignoredMessages.
 */
import { isNodeAddr, type Addr } from '../../core/addr.ts'
import { bytesEqual, toHex } from '../../core/bytes.ts'
import { DecodeError, ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { Emitter } from '../../core/events.ts'
import type { Counter, MetricsScope } from '../../core/metrics.ts'
import type { Rng } from '../../core/rng.ts'
import type { Scheduler, Timer } from '../../core/scheduler.ts'
import type { OriginAuth, OriginVerdict } from '../../crypto/origin-auth.ts'
import {
  MAX_WEIGHT_ENTRIES, MSG_REQUEST, MSG_RESPONSE, decodeDiscovery, encodeRequest, encodeResponse, relayRequest, requestSignedBytes,
  responseHopSignedBytes, responseSignedBytes, type OdsbrRequest, type OdsbrResponse,
} from './discovery-messages.ts'
import type { OdsbrConfig } from './odsbr-defaults.ts'
import { linkKey, samePath, type LinkKey, type Path } from './odsbr-types.ts'
import { listWeight, type WeightEntry } from './weights.ts'

/** Verified signatures remembered, so a response that grew by one hop costs one verification. */
const VERIFIED_MAX = 256
const MAX_WIRE_WEIGHT = 0xffff

const COUNTERS = [
  'requestsSent', 'requestsForwarded', 'requestDuplicates', 'requestBadSignature',
  'responsesSent', 'responsesForwarded', 'responseHeavier', 'responseBadSignature', 'responseLoops', 'responseWrongSender', 'responseTooLong', 'responseUnsolicited',
  'verifyPending', 'routesFound', 'discoveryFailures', 'decodeErrors', 'ignoredMessages',
] as const
type CounterName = (typeof COUNTERS)[number]

export interface DiscoveryOptions {
  self: Addr
  auth: OriginAuth
  config: OdsbrConfig
  scheduler: Scheduler
  rng: Rng
  metrics: MetricsScope
  /** Broadcast `payload` on the ODSBR port after `delayMs`. */
  send(payload: Uint8Array, delayMs: number): void
  /** The source's current weight list (heaviest first, e.g. LinkWeights' list); trimmed to `maxWeightListEntries`. */
  weightList(): WeightEntry[]
  /** Breaks ties between paths of equal weight at the source: the lower wins (default 0 for all). */
  suspicion?(path: Path): number
}

export interface DiscoveryEvents {
  /**
   * A least-weight path source → dst was found (`path[0]` is this node, the last entry `dst`).
   * `spares`: the other verified paths that arrived in the same collection window, lightest first
   * (at most `MAX_SPARES`), with the weights they had under this discovery's weight list.
   */
  route: (dst: Addr, path: Path, weight: number, spares: ReadonlyArray<{ path: Path; weight: number }>) => void
  /** Every attempt timed out without a verified response. */
  unreachable: (dst: Addr) => void
}

interface Running {
  readonly dst: Addr
  /** Request ids of every attempt (responses to an earlier attempt still count). */
  readonly reqIds: number[]
  attempts: number
  timer: Timer | null
  collect: Timer | null
  best: Found | null
  /** Every distinct verified path, in arrival order (bounded by MAX_SPARES + 1). */
  found: Found[]
  /** Equal or heavier responses verified so far (bounded by MAX_SPARE_CHECKS). */
  spareChecks: number
}

interface Found {
  path: Path
  weight: number
  suspicion: number
}

/** Spare paths a discovery reports besides the best one. */
export const MAX_SPARES = 8
/** Equal or heavier responses the source verifies per discovery, looking for spares. */
export const MAX_SPARE_CHECKS = 2 * MAX_SPARES

interface Verified {
  signer: Addr
  bytes: Uint8Array
}

export class RouteDiscovery extends Emitter<DiscoveryEvents> {
  private readonly o: DiscoveryOptions
  private readonly m: Record<CounterName, Counter>
  private readonly running = new Map<Addr, Running>()
  /** (source, reqId) of requests handled (verified), oldest first. */
  private readonly requests = new Map<string, true>()
  /** (source, dst, reqId) → weight of the lightest response handled, oldest first. */
  private readonly responses = new Map<string, number>()
  private readonly verified = new Map<string, Verified>()
  private nextReqId: number
  private closed = false

  constructor(o: DiscoveryOptions) {
    super()
    if (!isNodeAddr(o.self)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `RouteDiscovery: self ${o.self} is not a node address`)
    this.o = o
    this.m = Object.fromEntries(COUNTERS.map((n) => [n, o.metrics.counter(n)])) as Record<CounterName, Counter>
    this.nextReqId = o.rng.int(0x1_0000_0000) >>> 0
  }

  /** Whether a discovery for `dst` is running. */
  active(dst: Addr): boolean {
    return this.running.has(dst)
  }

  /** Find a route to `dst`: `route` or `unreachable` follows. Idempotent while one is running. */
  discover(dst: Addr): void {
    if (this.closed || this.running.has(dst)) return
    if (!isNodeAddr(dst) || dst === this.o.self) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `RouteDiscovery: cannot discover a route from ${this.o.self} to ${dst}`)
    const r: Running = { dst, reqIds: [], attempts: 0, timer: null, collect: null, best: null, found: [], spareChecks: 0 }
    this.running.set(dst, r)
    this.sendRequest(r)
  }

  /** A payload heard on the ODSBR port from neighbour `from`. REQUEST and RESPONSE are handled, other types ignored. */
  receive(from: Addr, payload: Uint8Array): void {
    if (this.closed) return
    const type = payload[0]
    if (type !== MSG_REQUEST && type !== MSG_RESPONSE) return void this.m.ignoredMessages.inc()
    let msg
    try {
      msg = decodeDiscovery(payload)
    } catch (e) {
      if (e instanceof DecodeError) return void this.m.decodeErrors.inc()
      throw e
    }
    if (msg.type === 'request') this.onRequest(msg, payload, from)
    else this.onResponse(msg, from)
  }

  /** Stop: cancel every timer; later messages and resumed verifications are ignored. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const r of this.running.values()) {
      r.timer?.cancel()
      r.collect?.cancel()
    }
    this.running.clear()
    this.requests.clear()
    this.responses.clear()
    this.verified.clear()
  }

  // ---- source ----------------------------------------------------------------------------------

  private sendRequest(r: Running): void {
    const reqId = this.nextReqId
    this.nextReqId = (this.nextReqId + 1) >>> 0
    const fields = { ttl: this.o.config.maxHops, hops: 0, reqId, source: this.o.self, dst: r.dst, weights: this.requestWeights() }
    const signature = this.o.auth.sign(requestSignedBytes(fields))
    remember(this.requests, requestKey(this.o.self, reqId), true, this.o.config.maxFloodMemory)
    r.reqIds.push(reqId)
    r.attempts++
    this.m.requestsSent.inc()
    this.o.send(encodeRequest({ ...fields, signature }), 0)
    r.timer = this.o.scheduler.at(this.o.config.discoveryTimeoutMs, () => this.timedOut(r))
  }

  private timedOut(r: Running): void {
    r.timer = null
    if (this.closed || this.running.get(r.dst) !== r || r.collect !== null) return
    if (r.attempts <= this.o.config.requestRetries) return this.sendRequest(r)
    this.running.delete(r.dst)
    this.m.discoveryFailures.inc()
    this.emit('unreachable', r.dst)
  }

  /** The weight list a REQUEST carries: valid entries above the base weight, heaviest first, at most `maxWeightListEntries`. */
  private requestWeights(): WeightEntry[] {
    const { baseLinkWeight: base, maxWeightListEntries } = this.o.config
    const max = Math.min(maxWeightListEntries, MAX_WEIGHT_ENTRIES)
    const candidates = this.o.weightList()
      .filter((e) => isNodeAddr(e.a) && isNodeAddr(e.b) && e.a !== e.b && Number.isFinite(e.weight) && e.weight > base)
      .sort((x, y) => y.weight - x.weight) // stable: the provider's order breaks ties
    const seen = new Set<LinkKey>()
    const out: WeightEntry[] = []
    for (const e of candidates) {
      if (out.length >= max) break
      const k = linkKey(e.a, e.b)
      if (seen.has(k)) continue
      seen.add(k)
      out.push({ a: e.a, b: e.b, weight: Math.min(MAX_WIRE_WEIGHT, Math.round(e.weight)) })
    }
    return out
  }

  /** A verified response at the source: keep the lightest path (among equals the least suspicious, then the first). */
  private consider(r: Running, p: OdsbrResponse, weight: number): void {
    const path: Addr[] = [this.o.self]
    for (let i = p.hops.length - 1; i >= 0; i--) path.push(p.hops[i].node)
    path.push(p.dst)
    const f: Found = { path, weight, suspicion: this.o.suspicion?.(path) ?? 0 }
    if (r.best === null || lighter(f, r.best)) r.best = f
    if (r.found.length <= MAX_SPARES && !r.found.some((x) => samePath(x.path, path))) r.found.push(f)
    if (r.collect !== null) return
    r.timer?.cancel()
    r.timer = null
    r.collect = this.o.scheduler.at(this.o.config.responseCollectMs, () => this.collected(r))
  }

  private collected(r: Running): void {
    r.collect = null
    if (this.closed || this.running.get(r.dst) !== r || r.best === null) return
    this.running.delete(r.dst)
    this.m.routesFound.inc()
    const best = r.best
    const spares = r.found.filter((f) => !samePath(f.path, best.path)).sort((x, y) => x.weight - y.weight || x.suspicion - y.suspicion)
      .slice(0, MAX_SPARES).map(({ path, weight }) => ({ path, weight }))
    this.emit('route', r.dst, best.path, best.weight, spares)
  }

  // ---- requests --------------------------------------------------------------------------------

  private onRequest(q: OdsbrRequest, bytes: Uint8Array, from: Addr): void {
    if (this.closed) return
    const key = requestKey(q.source, q.reqId)
    if (q.source === this.o.self || this.requests.has(key)) return void this.m.requestDuplicates.inc()
    let kept = bytes
    const v = this.o.auth.verify(q.source, requestSignedBytes(q), q.signature, from, () => this.onRequest(q, kept, from))
    if (v === 'bad') return void this.m.requestBadSignature.inc()
    if (v === 'pending') {
      kept = bytes.slice() // the link's buffer may be reused before the certificate arrives
      return void this.m.verifyPending.inc()
    }
    remember(this.requests, key, true, this.o.config.maxFloodMemory)
    if (q.dst === this.o.self) return this.respond(q)
    if (q.ttl > 1 && q.hops < 255) {
      this.m.requestsForwarded.inc()
      this.o.send(relayRequest(bytes, q), this.jitter())
    }
  }

  /** Destination: sign a RESPONSE echoing the request's weight list and broadcast it. */
  private respond(q: OdsbrRequest): void {
    const header = { reqId: q.reqId, source: q.source, dst: this.o.self, weights: q.weights }
    const dstSignature = this.o.auth.sign(responseSignedBytes(header))
    this.m.responsesSent.inc()
    this.o.send(encodeResponse({ ...header, dstSignature, hops: [] }), 0)
  }

  // ---- responses -------------------------------------------------------------------------------

  private onResponse(p: OdsbrResponse, from: Addr): void {
    if (this.closed) return
    const self = this.o.self
    if (p.dst === self || p.hops.some((h) => h.node === self)) return void this.m.responseLoops.inc()
    const last = p.hops.length > 0 ? p.hops[p.hops.length - 1].node : p.dst
    if (from !== last) return void this.m.responseWrongSender.inc()
    const isSource = p.source === self
    // Links of the path this node would end up with: X → last … → dst, plus X's own link to the source side.
    if (p.hops.length + (isSource ? 1 : 2) > this.o.config.maxHops) return void this.m.responseTooLong.inc()
    const r = isSource ? this.running.get(p.dst) : undefined
    if (isSource && (r === undefined || !r.reqIds.includes(p.reqId))) return void this.m.responseUnsolicited.inc()
    const weight = this.weightAtSelf(p)
    const key = `${p.source}/${p.dst}/${p.reqId}`
    const before = this.responses.get(key)
    // A relay passes on only a response lighter than any it passed on; the source also verifies
    // equal or heavier ones as spares, at most MAX_SPARE_CHECKS per discovery (a relay could send
    // any number of them) and never a path it has already.
    if (before !== undefined && weight >= before) {
      if (r === undefined || r.found.length > MAX_SPARES || r.spareChecks >= MAX_SPARE_CHECKS) return void this.m.responseHeavier.inc()
      if (r.found.some((f) => sameResponsePath(f.path, p))) return void this.m.responseHeavier.inc()
      r.spareChecks++
    }
    const v = this.verifyResponse(p, from, () => this.onResponse(p, from))
    if (v === 'bad') return void this.m.responseBadSignature.inc()
    if (v === 'pending') return void this.m.verifyPending.inc()
    if (before === undefined || weight < before) remember(this.responses, key, weight, this.o.config.maxFloodMemory)
    if (r !== undefined) return this.consider(r, p, weight)
    const signature = this.o.auth.sign(responseHopSignedBytes(p, p.hops.length, self))
    this.m.responsesForwarded.inc()
    this.o.send(encodeResponse({ ...p, hops: [...p.hops, { node: self, signature }] }), this.jitter())
  }

  /** Σ listWeight over dst → hops[0] → … → last hop → this node, with the response's list. */
  private weightAtSelf(p: OdsbrResponse): number {
    const base = this.o.config.baseLinkWeight
    let prev = p.dst
    let w = 0
    for (const h of p.hops) {
      w += listWeight(p.weights, prev, h.node, base)
      prev = h.node
    }
    return w + listWeight(p.weights, prev, this.o.self, base)
  }

  /**
   * The destination's and every hop's signature: 'bad' at the first bad one; 'pending' when some
   * signer's certificate is being fetched (`resume` runs once all of them arrived).
   */
  private verifyResponse(p: OdsbrResponse, via: Addr, resume: () => void): OriginVerdict {
    let missing = 0
    let abandoned = false
    const arrived = (): void => {
      if (!abandoned && --missing === 0) resume()
    }
    const checks: Array<[Addr, () => Uint8Array, Uint8Array]> = [[p.dst, () => responseSignedBytes(p), p.dstSignature]]
    p.hops.forEach((h, i) => checks.push([h.node, () => responseHopSignedBytes(p, i), h.signature]))
    for (const [signer, bytes, signature] of checks) {
      const v = this.verifyOnce(signer, bytes(), signature, via, arrived)
      if (v === 'bad') {
        abandoned = true
        return 'bad'
      }
      if (v === 'pending') missing++
    }
    return missing > 0 ? 'pending' : 'ok'
  }

  private verifyOnce(signer: Addr, bytes: Uint8Array, signature: Uint8Array, via: Addr, resume: () => void): OriginVerdict {
    const key = toHex(signature)
    const seen = this.verified.get(key)
    if (seen !== undefined && seen.signer === signer && bytesEqual(seen.bytes, bytes) && this.o.auth.trusted(signer)) return 'ok'
    const v = this.o.auth.verify(signer, bytes, signature, via, resume)
    if (v === 'ok') remember(this.verified, key, { signer, bytes }, VERIFIED_MAX)
    return v
  }

  private jitter(): number {
    const j = this.o.config.floodJitterMs
    return j > 0 ? this.o.rng.float() * j : 0
  }
}

function requestKey(source: Addr, reqId: number): string {
  return `${source}/${reqId}`
}

/** Insert or refresh `key` as the newest entry of a bounded insertion-ordered map. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key)
  if (map.size >= max) map.delete(map.keys().next().value as string)
  map.set(key, value)
}

function lighter(a: Found, b: Found): boolean {
  return a.weight < b.weight || (a.weight === b.weight && a.suspicion < b.suspicion)
}

/** Whether `path` (source first) is the path response `p` describes (its hops reversed, then dst). */
function sameResponsePath(path: Path, p: OdsbrResponse): boolean {
  const n = p.hops.length
  if (path.length !== n + 2 || path[n + 1] !== p.dst) return false
  for (let i = 0; i < n; i++) if (path[i + 1] !== p.hops[n - 1 - i].node) return false
  return true
}
