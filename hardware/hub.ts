/**
 * The live emulation hub (DESIGN.md §6, hardware/LIVE.md): a UDP server on 127.0.0.1 that joins
 * several local node processes (each with a `HubRadio`) into one emulated radio network, applying a
 * topology's range, loss and delay in user space (this machine has no `tc netem`).
 *
 * A client registers with HELLO (its node id must be in the topology) and is known by its source
 * address from then on. Each FRAME it sends is:
 * 1. serialised: it occupies the sender's emulated channel for its airtime
 *    (`preambleMs + bytes·8·1000/bitrate`, the topology's), starting when the sender's previous frame
 *    ended (or now); a frame that would start more than `maxBacklogMs` from now is refused
 *    (`backlogDrops`);
 * 2. copied to every node the sender is linked to (hub-topology.ts: range or explicit links, plus
 *    run-time `setLink` overrides); each copy is lost with the link's probability (a seeded Rng: the
 *    same seed and the same order of frames give the same losses) or else
 * 3. delivered at end-of-airtime + delayMs + U[0, jitterMs), never earlier (a timer that fires early
 *    is re-armed) and in order per link (a copy never overtakes an earlier one on the same link),
 *    as a DELIVER with the link's RSSI/SNR — if the receiver is registered at that moment.
 * Every pending copy is bounded by `maxPending` (more are counted `overflow`). Clients silent for
 * `clientTimeoutMs` are forgotten. The wire format is in hub-radio.ts and LIVE.md.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIP } from 'node:net'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { SeededRng, type Rng } from '../core/rng.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import { airtimeMs } from './airtime.ts'
import { decodeHubMessage, encodeHubMessage, type HubMessage } from './hub-radio.ts'
import { buildLinkTable, defaultLinkParams, pairKey, resolveLink, topologyLink, type HubTopology, type LinkParams, type ResolvedLink } from './hub-topology.ts'
import { HUB_SEND_BATCH, validateHubConfig, type HubConfig } from './udp-defaults.ts'

export type HubOptions = Partial<HubConfig> & {
  topology: HubTopology
  /** Timers and clock (default a RealScheduler). */
  scheduler?: Scheduler
  /** Loss and jitter draws (default `new SeededRng(seed ?? 'hub')`). */
  rng?: Rng
  seed?: number | string
}

/** Counters of one direction of a link. */
export interface HubLinkStats {
  from: number
  to: number
  /** Copies of frames the sender put on this link. */
  frames: number
  /** Copies lost by the link's loss draw. */
  lost: number
  /** Copies sent to the receiver, and their frame bytes. */
  delivered: number
  bytes: number
  /** Copies due while the receiver was not registered (not delivered). */
  unheard: number
}

export interface HubStats {
  /** FRAMEs accepted from registered clients. */
  frames: number
  /** FRAMEs refused because the sender's emulated channel was booked beyond maxBacklogMs. */
  backlogDrops: number
  /** Copies not scheduled because maxPending deliveries were already waiting. */
  overflow: number
  /** Datagrams that did not decode, were not client→hub messages, or FRAMEs from unregistered addresses. */
  ignored: number
  /** REFUSEs sent (HELLO for a node not in the topology, PING from a client not registered). */
  refused: number
}

export interface HubEvents {
  /** A client registered (or re-registered) or left (BYE, timeout). */
  client: (e: { node: number; event: 'join' | 'leave'; reason: string }) => void
  /** A FRAME accepted from `from` (hub time). */
  frame: (e: { from: number; bytes: Uint8Array; at: number }) => void
  /** A FRAME refused: the sender's emulated channel is booked beyond maxBacklogMs. */
  backlog: (e: { from: number; bytes: Uint8Array; at: number }) => void
  /** A copy was sent to `to`, or lost on the link (`lost: true`), or due while `to` was away (`unheard: true`). */
  copy: (e: { from: number; to: number; bytes: Uint8Array; at: number; lost: boolean; unheard: boolean }) => void
}

interface Client {
  node: number
  host: string
  port: number
  key: string
  session: number
  lastHeard: number
}

interface Due {
  at: number
  from: number
  bytes: Uint8Array
}

/** One direction of a link: its counters and its FIFO of copies in flight. */
interface LinkState extends HubLinkStats {
  queue: Due[]
  timer: Timer | null
  lastArrival: number
  link: ResolvedLink
}

export class Hub extends Emitter<HubEvents> {
  readonly config: HubConfig
  readonly topology: HubTopology
  readonly stats: HubStats = { frames: 0, backlogDrops: 0, overflow: 0, ignored: 0, refused: 0 }
  private readonly scheduler: Scheduler
  private readonly rng: Rng
  private readonly socket: Socket
  private table: Map<number, ResolvedLink[]>
  /** Run-time overrides by unordered pair: params (up) or null (down). */
  private readonly overrides = new Map<string, LinkParams | null>()
  private readonly links = new Map<string, LinkState>()
  private readonly clientsByNode = new Map<number, Client>()
  private readonly clientsByAddr = new Map<string, Client>()
  private readonly busyUntil = new Map<number, number>()
  private readonly nodeIds: Set<number>
  private pendingCopies = 0
  private sweepTimer: Timer | null = null
  private closed = false

  /** A hub listening on host:port; rejects (naming them) when it cannot bind. */
  static async open(options: HubOptions): Promise<Hub> {
    const hub = new Hub(options)
    await hub.bind()
    return hub
  }

  private constructor(options: HubOptions) {
    super()
    const { topology, scheduler, rng, seed, ...rest } = options
    this.config = validateHubConfig(rest)
    this.topology = topology
    this.scheduler = scheduler ?? new RealScheduler()
    this.rng = rng ?? new SeededRng(seed ?? 'hub')
    this.table = buildLinkTable(topology)
    this.nodeIds = new Set(topology.nodes.map((n) => n.id))
    this.socket = createSocket({ type: isIP(this.config.host) === 6 ? 'udp6' : 'udp4' })
  }

  private bind(): Promise<void> {
    const { host, port } = this.config
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        this.closed = true
        try {
          this.socket.close()
        } catch {
          // not running
        }
        reject(new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `hub: cannot bind ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e }))
      }
      this.socket.once('error', failed)
      this.socket.once('listening', () => {
        this.socket.off('error', failed)
        // After bind, socket errors concern one datagram (the hub keeps serving).
        this.socket.on('error', () => void this.stats.ignored++)
        this.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo))
        this.sweepTimer = this.scheduler.at(this.config.clientTimeoutMs / 2, () => this.sweep())
        resolve()
      })
      this.socket.bind(port, host)
    })
  }

  /** The port the hub listens on (the OS's choice when config.port was 0). */
  get port(): number {
    return this.socket.address().port
  }

  get host(): string {
    return this.config.host
  }

  /** Copies scheduled and not yet due. */
  get pending(): number {
    return this.pendingCopies
  }

  /** Registered node ids, ascending. */
  clients(): number[] {
    return [...this.clientsByNode.keys()].sort((a, b) => a - b)
  }

  /** The nodes `from` currently reaches, with their link parameters. */
  neighbours(from: number): ResolvedLink[] {
    return (this.table.get(from) ?? []).map((l) => ({ ...l }))
  }

  /** Counters of every directed link that carried anything, sorted by (from, to). */
  linkStats(): HubLinkStats[] {
    return [...this.links.values()]
      .map(({ from, to, frames, lost, delivered, bytes, unheard }) => ({ from, to, frames, lost, delivered, bytes, unheard }))
      .sort((x, y) => x.from - y.from || x.to - y.to)
  }

  /**
   * Override the link a–b (both directions) at run time: false cuts it, true restores the topology's
   * link (or, for a pair the topology does not link, the default parameters), parameters set it up
   * with them (unset fields from the topology's defaults). Copies already in flight still arrive.
   */
  setLink(a: number, b: number, state: boolean | Partial<LinkParams>): void {
    for (const [id, field] of [[a, 'a'], [b, 'b']] as const) {
      if (!this.nodeIds.has(id)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `hub.setLink: ${field} = ${id} is not a node of the topology`)
    }
    if (a === b) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'hub.setLink: a and b are the same node')
    const t = this.topology
    let params: LinkParams | null
    if (state === false) params = null
    else if (state === true) params = topologyLink(t, a, b) ?? defaultLinkParams(t)
    else {
      params = { ...defaultLinkParams(t), ...state }
      if (!(params.loss >= 0 && params.loss <= 1) || !(params.delayMs >= 0) || !(params.jitterMs >= 0)) {
        throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `hub.setLink: loss must be in [0, 1] and delays >= 0, got ${JSON.stringify(state)}`)
      }
    }
    this.overrides.set(pairKey(a, b), params)
    this.rebuild()
  }

  /** Drop every run-time override: back to the topology. */
  resetLinks(): void {
    this.overrides.clear()
    this.rebuild()
  }

  private rebuild(): void {
    const table = buildLinkTable(this.topology)
    for (const [key, params] of this.overrides) {
      const [a, b] = key.split('|').map(Number)
      for (const [x, y] of [[a, b], [b, a]]) {
        const list = table.get(x)!.filter((l) => l.to !== y)
        if (params) list.push(resolveLink(this.topology, x, y, params))
        table.set(x, list)
      }
    }
    this.table = table
  }

  private send(c: { host: string; port: number }, m: HubMessage): void {
    if (this.closed) return
    this.socket.send(encodeHubMessage(m), c.port, c.host, () => {
      // Delivery to a client is best effort, as a radio's is; errors are per datagram.
    })
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return
    let m: HubMessage
    try {
      m = decodeHubMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length))
    } catch {
      this.stats.ignored++
      return
    }
    const from = { host: rinfo.address, port: rinfo.port }
    const key = `${rinfo.address}|${rinfo.port}`
    const client = this.clientsByAddr.get(key)
    if (client) client.lastHeard = this.scheduler.now()
    switch (m.type) {
      case 'hello':
        return this.hello(m.node, m.session, from, key)
      case 'frame':
        if (client) this.frame(client.node, m.frame)
        else this.stats.ignored++ // not registered (the hub restarted): the client's next PING learns it
        return
      case 'ping':
        if (client && client.node === m.node && client.session === m.session) return this.send(from, { type: 'pong', node: m.node, session: m.session })
        this.stats.refused++
        return this.send(from, { type: 'refuse', code: 'not-registered', node: m.node })
      case 'bye':
        if (client) this.unregister(client, 'bye')
        return
      default:
        this.stats.ignored++ // a hub→client message sent to the hub
    }
  }

  private hello(node: number, session: number, from: { host: string; port: number }, key: string): void {
    if (!this.nodeIds.has(node)) {
      this.stats.refused++
      return this.send(from, { type: 'refuse', code: 'unknown-node', node })
    }
    const old = this.clientsByNode.get(node)
    if (old && old.key !== key) this.unregister(old, `replaced by ${from.host}:${from.port}`)
    const byAddr = this.clientsByAddr.get(key)
    if (byAddr && byAddr.node !== node) this.unregister(byAddr, `its address now belongs to node ${node}`)
    const fresh = !old || old.key !== key || old.session !== session
    const c: Client = { node, host: from.host, port: from.port, key, session, lastHeard: this.scheduler.now() }
    this.clientsByNode.set(node, c)
    this.clientsByAddr.set(key, c)
    this.send(from, { type: 'welcome', node, session })
    if (fresh) this.emit('client', { node, event: 'join', reason: `HELLO from ${from.host}:${from.port}` })
  }

  private unregister(c: Client, reason: string): void {
    if (this.clientsByNode.get(c.node) === c) this.clientsByNode.delete(c.node)
    if (this.clientsByAddr.get(c.key) === c) this.clientsByAddr.delete(c.key)
    this.emit('client', { node: c.node, event: 'leave', reason })
  }

  private sweep(): void {
    this.sweepTimer = null
    if (this.closed) return
    const now = this.scheduler.now()
    for (const c of [...this.clientsByNode.values()]) {
      if (now - c.lastHeard >= this.config.clientTimeoutMs) this.unregister(c, `silent for ${Math.round(now - c.lastHeard)} ms`)
    }
    this.sweepTimer = this.scheduler.at(this.config.clientTimeoutMs / 2, () => this.sweep())
  }

  private frame(from: number, bytes: Uint8Array): void {
    const now = this.scheduler.now()
    const t = this.topology
    const start = Math.max(now, this.busyUntil.get(from) ?? now)
    if (start - now > this.config.maxBacklogMs) {
      this.stats.backlogDrops++
      this.emit('backlog', { from, bytes: bytes.slice(), at: now })
      return
    }
    const end = start + airtimeMs(bytes.length, t.bitrate, t.preambleMs)
    this.busyUntil.set(from, end)
    this.stats.frames++
    const frame = bytes.slice()
    const copies = this.table.get(from) ?? []
    for (const link of copies) {
      const ls = this.linkState(from, link)
      ls.frames++
      if (link.loss > 0 && this.rng.float() < link.loss) {
        ls.lost++
        this.emit('copy', { from, to: link.to, bytes: frame, at: now, lost: true, unheard: false })
        continue
      }
      if (this.pendingCopies >= this.config.maxPending) {
        this.stats.overflow++
        continue
      }
      const jitter = link.jitterMs > 0 ? this.rng.float() * link.jitterMs : 0
      const at = Math.max(end + link.delayMs + jitter, ls.lastArrival)
      ls.lastArrival = at
      ls.queue.push({ at, from, bytes: frame })
      this.pendingCopies++
      if (ls.timer === null) this.arm(ls)
    }
    // After the copies are decided: a listener may change links for the next frame, not this one.
    this.emit('frame', { from, bytes: frame, at: now })
  }

  private linkState(from: number, link: ResolvedLink): LinkState {
    const key = `${from}>${link.to}`
    let ls = this.links.get(key)
    if (!ls) {
      ls = { from, to: link.to, frames: 0, lost: 0, delivered: 0, bytes: 0, unheard: 0, queue: [], timer: null, lastArrival: -Infinity, link }
      this.links.set(key, ls)
    }
    ls.link = link // the current parameters (RSSI of a re-set link)
    return ls
  }

  /** One timer per link, for its head copy. */
  private arm(ls: LinkState): void {
    const head = ls.queue[0]
    ls.timer = this.scheduler.at(Math.max(0, head.at - this.scheduler.now()), () => {
      ls.timer = null
      if (this.closed) return
      const now = this.scheduler.now()
      // At most HUB_SEND_BATCH per timer: a burst sent in one go would overflow the receiver's socket buffer.
      let n = 0
      while (n++ < HUB_SEND_BATCH && ls.queue.length > 0 && ls.queue[0].at <= now) this.due(ls, ls.queue.shift()!)
      if (ls.queue.length > 0) this.arm(ls)
    })
  }

  private due(ls: LinkState, d: Due): void {
    this.pendingCopies--
    const c = this.clientsByNode.get(ls.to)
    const at = this.scheduler.now()
    if (!c) {
      ls.unheard++
      this.emit('copy', { from: d.from, to: ls.to, bytes: d.bytes, at, lost: false, unheard: true })
      return
    }
    ls.delivered++
    ls.bytes += d.bytes.length
    this.send(c, { type: 'deliver', from: d.from, rssi: ls.link.rssi, snr: ls.link.snr, frame: d.bytes })
    this.emit('copy', { from: d.from, to: ls.to, bytes: d.bytes, at, lost: false, unheard: false })
  }

  /** Stop: cancel every timer, forget clients and copies in flight, close the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.sweepTimer?.cancel()
    this.sweepTimer = null
    for (const ls of this.links.values()) {
      ls.timer?.cancel()
      ls.timer = null
      this.pendingCopies -= ls.queue.length
      ls.queue.length = 0
    }
    this.clientsByNode.clear()
    this.clientsByAddr.clear()
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
