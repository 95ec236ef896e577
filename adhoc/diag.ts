/**
 * Mesh diagnostics (`spinmesh ping ADDR`, `spinmesh traceroute ADDR`, issue 8), sans-IO:
 *
 * - ping: an ECHO-REQUEST routed to the destination by the unicast router (AODV, inner protocol
 *   DIAG), answered by an ECHO-REPLY routed back; the result is the round-trip time and the hops
 *   each way (the routed packets' hop counts);
 * - traceroute: AODV relays do not look inside routed packets, so instead of TTL tricks the
 *   source walks the routing tables: it asks its next hop towards the destination (a ROUTE-QUERY,
 *   one link hop, proto DIAG) for that node's next hop, then asks that one, and so on until the
 *   destination answers. Each answer is one hop of the path, with its round-trip time. If the
 *   source has no route yet, a ping first makes the router find one.
 *
 * Wire formats: docs/WIRE.md §18.
 */
import { isNodeAddr, type Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { ErrorCodes, SpinmeshError, tryDecode } from '../core/errors.ts'
import type { Scheduler, Timer } from '../core/scheduler.ts'
import type { Link, LinkPort } from './link-types.ts'
import { Proto } from './protocols.ts'
import type { RoutedMessage, UnicastRouter } from './routing.ts'

export const DiagType = { ECHO_REQUEST: 1, ECHO_REPLY: 2, ROUTE_QUERY: 3, ROUTE_ANSWER: 4 } as const

/** ECHO: type, id u16, seq u16, hops u8 (reply: the request's hop count; request: 0), padding length u16, padding. */
export const ECHO_HEADER_SIZE = 8
/** ROUTE-QUERY: type, id u16, target u32. ROUTE-ANSWER: + nextHop u32 (0: none; the target itself: arrived), hops u8. */
export const ROUTE_QUERY_SIZE = 7
export const ROUTE_ANSWER_SIZE = 12

export type DiagMessage =
  | { type: 'echo-request' | 'echo-reply'; id: number; seq: number; hops: number; padding: number }
  | { type: 'route-query'; id: number; target: Addr }
  | { type: 'route-answer'; id: number; target: Addr; nextHop: Addr; hops: number }

export function encodeDiag(m: DiagMessage): Uint8Array {
  if (m.type === 'echo-request' || m.type === 'echo-reply') {
    const w = new ByteWriter(ECHO_HEADER_SIZE + m.padding)
    w.u8(m.type === 'echo-request' ? DiagType.ECHO_REQUEST : DiagType.ECHO_REPLY).u16(m.id).u16(m.seq).u8(m.hops).u16(m.padding)
    return w.bytes
  }
  if (m.type === 'route-query') return new ByteWriter(ROUTE_QUERY_SIZE).u8(DiagType.ROUTE_QUERY).u16(m.id).u32(m.target).done()
  if (m.type !== 'route-answer') throw new RangeError(`diag: unknown message type ${String((m as { type: unknown }).type)}`)
  return new ByteWriter(ROUTE_ANSWER_SIZE).u8(DiagType.ROUTE_ANSWER).u16(m.id).u32(m.target).u32(m.nextHop).u8(m.hops).done()
}

/** Total: a message or a DecodeError. */
export function decodeDiag(bytes: Uint8Array): DiagMessage {
  const r = new ByteReader(bytes, 'diag message')
  const type = r.u8('type')
  const id = r.u16('id')
  let m: DiagMessage
  if (type === DiagType.ECHO_REQUEST || type === DiagType.ECHO_REPLY) {
    const seq = r.u16('seq')
    const hops = r.u8('hops')
    const padding = r.u16('padding')
    r.bytesView(padding, 'padding')
    m = { type: type === DiagType.ECHO_REQUEST ? 'echo-request' : 'echo-reply', id, seq, hops, padding }
  } else if (type === DiagType.ROUTE_QUERY) {
    m = { type: 'route-query', id, target: r.nodeAddr('target') }
  } else if (type === DiagType.ROUTE_ANSWER) {
    const target = r.nodeAddr('target')
    const nextHop = r.u32('nextHop')
    if (nextHop !== 0 && !isNodeAddr(nextHop)) r.fail(`nextHop ${nextHop} is not a node address`)
    m = { type: 'route-answer', id, target, nextHop, hops: r.u8('hops') }
  } else {
    return r.fail(`unknown diag message type ${type}`)
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s)`)
  return m
}

/** A reply, with the hops the routed reply travelled (echo replies). */
type Answer = DiagMessage & { back?: number }

export interface PingResult {
  seq: number
  /** null when no reply came within the timeout. */
  rttMs: number | null
  /** Radio hops of the request (at the destination) and of the reply (back here). */
  hopsThere?: number
  hopsBack?: number
}

export interface TraceHop {
  /** 1-based. */
  hop: number
  node: Addr
  /** Round trip of the question to this node, ms (null: it did not answer). */
  rttMs: number | null
}

export interface DiagOptions {
  link: Link
  router: UnicastRouter
  scheduler: Scheduler
  /** Give up on one echo or route question after this long (default 2,000 ms). */
  timeoutMs?: number
}

/** Outstanding requests at most (each a timer); further ones are refused. */
const MAX_OUTSTANDING = 256

export class Diag {
  readonly address: Addr
  private readonly o: DiagOptions
  private readonly port: LinkPort
  private readonly timeoutMs: number
  private nextId = 1
  private readonly waiting = new Map<string, { resolve: (m: Answer | null) => void; timer: Timer }>()
  private closed = false
  private readonly onRouted = (m: RoutedMessage): void => {
    if (m.proto !== Proto.DIAG || this.closed) return
    const d = tryDecode(decodeDiag, m.payload)
    if (d === undefined) return
    if (d.type === 'echo-request') {
      this.o.router.sendRouted(m.origin, Proto.DIAG, encodeDiag({ ...d, type: 'echo-reply', hops: Math.min(255, m.hops) }))
    } else if (d.type === 'echo-reply') {
      this.answer(`e${d.id}/${d.seq}/${m.origin}`, { ...d, back: m.hops }) // only the pinged node answers
    } else if (d.type === 'route-query') {
      this.o.router.sendRouted(m.origin, Proto.DIAG, encodeDiag(this.routeAnswer(d.id, d.target)))
    } else this.answer(`r${d.id}/${m.origin}`, d)
  }

  constructor(o: DiagOptions) {
    this.o = o
    this.address = o.link.address
    this.timeoutMs = o.timeoutMs ?? 2000
    this.port = o.link.port(Proto.DIAG)
    this.port.on('receive', (rx) => {
      if (this.closed) return
      const d = tryDecode(decodeDiag, rx.payload)
      if (d === undefined) return
      if (d.type === 'route-query') this.port.send(rx.from, encodeDiag(this.routeAnswer(d.id, d.target)))
      else if (d.type === 'route-answer') this.answer(`r${d.id}/${rx.from}`, d)
    })
    o.router.on('routed', this.onRouted)
  }

  /** Send `count` echoes to `dst`, one every `intervalMs`; resolves with one result per echo. */
  async ping(dst: Addr, o: { count?: number; intervalMs?: number; size?: number; cancelled?: () => boolean } = {}): Promise<PingResult[]> {
    this.open()
    if (!isNodeAddr(dst) || dst === this.address) throw new RangeError(`ping: ${dst} is not another node's address`)
    const count = o.count ?? 4, interval = o.intervalMs ?? 1000, padding = o.size ?? 0
    const id = this.id()
    const results: Array<Promise<PingResult>> = []
    for (let seq = 0; seq < count; seq++) {
      if (seq > 0) await this.sleep(interval)
      if (this.closed || o.cancelled?.()) break // the asker went away, or this node stops
      const sentAt = this.o.scheduler.now()
      const reply = this.wait(`e${id}/${seq}/${dst}`)
      this.o.router.sendRouted(dst, Proto.DIAG, encodeDiag({ type: 'echo-request', id, seq, hops: 0, padding }))
      results.push(reply.then((m) => (m === null || m.type !== 'echo-reply' ? { seq, rttMs: null } : { seq, rttMs: this.o.scheduler.now() - sentAt, hopsThere: m.hops, hopsBack: m.back })))
    }
    return Promise.all(results)
  }

  /**
   * The path to `dst`, hop by hop, from the routing tables of the nodes on it (at most `maxHops`).
   * Ends at `dst`, or where a node has no route (the last hop is then that node).
   */
  async traceroute(dst: Addr, o: { maxHops?: number } = {}): Promise<TraceHop[]> {
    this.open()
    if (!isNodeAddr(dst) || dst === this.address) throw new RangeError(`traceroute: ${dst} is not another node's address`)
    if (!this.o.router.route(dst)?.valid) await this.ping(dst, { count: 1 }) // makes the router find a route
    const first = this.o.router.route(dst)
    if (!first?.valid) return []
    const hops: TraceHop[] = []
    const seen = new Set<Addr>([this.address])
    let at = first.nextHop
    for (let hop = 1; hop <= (o.maxHops ?? 32) && !this.closed; hop++) {
      // The first hop is our neighbour: ask it over the link. Further hops are asked by a routed
      // query (the router finds them; the answer comes back routed).
      seen.add(at)
      const id = this.id()
      const sentAt = this.o.scheduler.now()
      const query = encodeDiag({ type: 'route-query', id, target: dst })
      const answer = this.wait(`r${id}/${at}`)
      if (hop === 1) this.port.send(at, query)
      else this.o.router.sendRouted(at, Proto.DIAG, query)
      const a = await answer
      hops.push({ hop, node: at, rttMs: a === null ? null : this.o.scheduler.now() - sentAt })
      if (a === null || a.type !== 'route-answer' || a.target !== dst || at === dst || a.nextHop === 0 || a.nextHop === at) break
      // A routing loop (or a lying answer) names a node already on the path: stop there.
      if (seen.has(a.nextHop)) break
      at = a.nextHop
    }
    return hops
  }

  /** This node's answer to "what is your next hop to `target`?". */
  private routeAnswer(id: number, target: Addr): DiagMessage {
    if (target === this.address) return { type: 'route-answer', id, target, nextHop: this.address, hops: 0 }
    const route = this.o.router.route(target)
    return { type: 'route-answer', id, target, nextHop: route?.valid ? route.nextHop : 0, hops: route?.valid ? Math.min(255, route.hops) : 0 }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.o.router.off('routed', this.onRouted)
    for (const w of this.waiting.values()) {
      w.timer.cancel()
      w.resolve(null)
    }
    this.waiting.clear()
  }

  private open(): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'diag is closed')
  }

  private id(): number {
    const id = this.nextId
    this.nextId = (this.nextId % 0xffff) + 1
    return id
  }

  private wait(key: string): Promise<Answer | null> {
    if (this.waiting.size >= MAX_OUTSTANDING) throw new SpinmeshError(ErrorCodes.QUEUE_FULL, `diag: ${MAX_OUTSTANDING} requests outstanding`)
    return new Promise((resolve) => {
      const timer = this.o.scheduler.at(this.timeoutMs, () => {
        this.waiting.delete(key)
        resolve(null)
      })
      this.waiting.set(key, { resolve, timer })
    })
  }

  private answer(key: string, m: Answer): void {
    const w = this.waiting.get(key)
    if (w === undefined) return
    this.waiting.delete(key)
    w.timer.cancel()
    w.resolve(m)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.scheduler.at(ms, resolve))
  }
}
