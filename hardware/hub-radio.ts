/**
 * A Radio that is a client of the live emulation hub (hub.ts, hardware/LIVE.md): frames go to the hub
 * over UDP, which forwards them to the nodes in range of this one with the topology's loss, delay and
 * airtime; frames forwarded to us arrive with the link's RSSI and SNR (hub-topology.ts).
 *
 * States: 'connecting' (HELLO every helloIntervalMs) until the hub answers WELCOME → 'up'. While up a
 * PING goes every keepaliveIntervalMs; when nothing has come from the hub for keepaliveTimeoutMs, or
 * the hub answers REFUSE not-registered (it restarted and forgot us), → 'reconnecting' (HELLO again)
 * → 'up' on WELCOME. Frames accepted while not up are held in the bounded tx queue and sent on
 * reconnect, or dropped ERR_EXPIRED after queueTtlMs. REFUSE unknown-node (our id is not in the hub's
 * topology) is fatal: 'error' (ERR_CONFIG) and 'down'. close() sends BYE.
 *
 * Wire format (version 1), every datagram between client and hub:
 *
 *   offset  size  field
 *   0       1     version = 1
 *   1       1     type
 *   2       …     body by type (integers big-endian):
 *     1 HELLO    c→h  node u32, session u32                       10 bytes
 *     2 WELCOME  h→c  node u32, session u32 (echoed)              10 bytes
 *     3 REFUSE   h→c  code u8 (1 unknown-node, 2 not-registered), node u32     7 bytes
 *     4 FRAME    c→h  frame (1..n bytes, the rest)                2 + n
 *     5 DELIVER  h→c  from u32, rssi i16, snr i16 (both 0.01 dB), frame (the rest)   10 + n
 *     6 PING     c→h  node u32, session u32                       10 bytes
 *     7 PONG     h→c  node u32, session u32 (echoed)              10 bytes
 *     8 BYE      c→h  (nothing)                                   2 bytes
 *
 * The session is the client's random id per radio: a WELCOME or PONG for another session is stale and
 * ignored. The hub knows a client by its source address after HELLO; FRAME carries no node id, and a
 * FRAME from an address the hub does not know is ignored. A PING whose (node, session, address) the
 * hub has not registered gets REFUSE not-registered: that is how a client learns the hub restarted.
 */
import { randomInt } from 'node:crypto'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIP } from 'node:net'
import { isNodeAddr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { RealScheduler, type Scheduler, type Timer } from '../core/scheduler.ts'
import type { RadioState } from './radio.ts'
import { validateHubRadioConfig, type HubRadioConfig } from './udp-defaults.ts'
import { DatagramRadio } from './udp-radio.ts'

export const HUB_WIRE_VERSION = 1

export const HubMessageType = { HELLO: 1, WELCOME: 2, REFUSE: 3, FRAME: 4, DELIVER: 5, PING: 6, PONG: 7, BYE: 8 } as const
export const HubRefuseCode = { UNKNOWN_NODE: 1, NOT_REGISTERED: 2 } as const

export type HubMessage =
  | { type: 'hello'; node: number; session: number }
  | { type: 'welcome'; node: number; session: number }
  | { type: 'refuse'; code: 'unknown-node' | 'not-registered'; node: number }
  | { type: 'frame'; frame: Uint8Array }
  | { type: 'deliver'; from: number; rssi: number; snr: number; frame: Uint8Array }
  | { type: 'ping'; node: number; session: number }
  | { type: 'pong'; node: number; session: number }
  | { type: 'bye' }

const KIND_TYPE = { hello: 'HELLO', welcome: 'WELCOME', ping: 'PING', pong: 'PONG' } as const

/** dB → i16 hundredths, clamped. */
function centi(v: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(v * 100))) & 0xffff
}
function fromCenti(u: number): number {
  return (u >= 0x8000 ? u - 0x10000 : u) / 100
}

export function encodeHubMessage(m: HubMessage): Uint8Array {
  const t = HubMessageType
  switch (m.type) {
    case 'hello':
    case 'welcome':
    case 'ping':
    case 'pong':
      return new ByteWriter(10).u8(HUB_WIRE_VERSION).u8(t[KIND_TYPE[m.type]]).u32(m.node).u32(m.session).done()
    case 'refuse':
      return new ByteWriter(7).u8(HUB_WIRE_VERSION).u8(t.REFUSE)
        .u8(m.code === 'unknown-node' ? HubRefuseCode.UNKNOWN_NODE : HubRefuseCode.NOT_REGISTERED).u32(m.node).done()
    case 'frame':
      return new ByteWriter(2 + m.frame.length).u8(HUB_WIRE_VERSION).u8(t.FRAME).raw(m.frame).done()
    case 'deliver':
      return new ByteWriter(10 + m.frame.length).u8(HUB_WIRE_VERSION).u8(t.DELIVER).u32(m.from)
        .u16(centi(m.rssi)).u16(centi(m.snr)).raw(m.frame).done()
    case 'bye':
      return Uint8Array.of(HUB_WIRE_VERSION, t.BYE)
  }
}

/**
 * Total: a HubMessage or DecodeError. Rejects another version, an unknown type or refuse code, a
 * node id that is not a node address, an empty frame, and trailing bytes after fixed-size messages.
 * Frames are views into the input.
 */
export function decodeHubMessage(bytes: Uint8Array): HubMessage {
  const r = new ByteReader(bytes, 'hub message')
  const v = r.u8('version')
  if (v !== HUB_WIRE_VERSION) r.fail(`unsupported version ${v}`)
  const type = r.u8('type')
  const t = HubMessageType
  let m: HubMessage
  switch (type) {
    case t.HELLO:
    case t.WELCOME:
    case t.PING:
    case t.PONG: {
      const node = r.nodeAddr('node')
      const kind = type === t.HELLO ? 'hello' : type === t.WELCOME ? 'welcome' : type === t.PING ? 'ping' : 'pong'
      m = { type: kind, node, session: r.u32('session') }
      break
    }
    case t.REFUSE: {
      const code = r.u8('code')
      if (code !== HubRefuseCode.UNKNOWN_NODE && code !== HubRefuseCode.NOT_REGISTERED) r.fail(`unknown refuse code ${code}`)
      m = { type: 'refuse', code: code === HubRefuseCode.UNKNOWN_NODE ? 'unknown-node' : 'not-registered', node: r.nodeAddr('node') }
      break
    }
    case t.FRAME: {
      const frame = r.rest()
      if (frame.length === 0) r.fail('empty frame')
      return { type: 'frame', frame }
    }
    case t.DELIVER: {
      const from = r.nodeAddr('from')
      const rssi = fromCenti(r.u16('rssi'))
      const snr = fromCenti(r.u16('snr'))
      const frame = r.rest()
      if (frame.length === 0) r.fail('empty frame')
      return { type: 'deliver', from, rssi, snr, frame }
    }
    case t.BYE:
      m = { type: 'bye' }
      break
    default:
      return r.fail(`unknown message type ${type}`)
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing byte(s) after ${m.type}`)
  return m
}

export type HubRadioOptions = Partial<HubRadioConfig> & {
  /** This node's id in the hub's topology (a node address). */
  node: number
  /** Time source for `at` fields and timers (default a RealScheduler). */
  scheduler?: Scheduler
  /** Session id (default random from node:crypto). */
  session?: number
}

export class HubRadio extends DatagramRadio {
  declare readonly config: Readonly<HubRadioConfig>
  readonly node: number
  readonly session: number
  private readonly socket: Socket
  private readonly hubHost: string
  private listening = false
  private helloTimer: Timer | null = null
  private keepaliveTimer: Timer | null = null
  private lastHeard = 0

  /** A radio the hub has accepted ('up'); rejects if it goes down first (refused, socket error). */
  static async open(options: HubRadioOptions): Promise<HubRadio> {
    const r = new HubRadio(options)
    try {
      await r.whenUp()
    } catch (e) {
      await r.close()
      throw e
    }
    return r
  }

  constructor(options: HubRadioOptions) {
    const { node, scheduler, session, ...rest } = options
    const config = validateHubRadioConfig(rest)
    super(config, scheduler ?? new RealScheduler())
    if (!isNodeAddr(node)) throw new RangeError(`hub radio: node must be a node address (1..0x7fffffff), got ${node}`)
    if (session !== undefined && !(Number.isInteger(session) && session >= 0 && session <= 0xffffffff)) {
      throw new RangeError(`hub radio: session must be a u32, got ${session}`)
    }
    this.node = node
    this.session = session ?? randomInt(0, 0x100000000)
    this.hubHost = config.hubHost
    this.socket = createSocket({ type: isIP(config.hubHost) === 6 ? 'udp6' : 'udp4' })
    this.socket.on('error', (e) => this.fail(`hub radio socket error: ${(e as NodeJS.ErrnoException).code ?? e.message}`, e))
    this.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo))
    this.socket.once('listening', () => {
      this.listening = true
      if (this.state !== 'down') this.startHello()
    })
    this.socket.bind(0)
  }

  /** Resolves once up; rejects if the radio goes down first. */
  whenUp(): Promise<void> {
    if (this.state === 'up') return Promise.resolve()
    if (this.state === 'down') return Promise.reject(new SpinmeshError(ErrorCodes.CLOSED, 'hub radio is down'))
    return new Promise((resolve, reject) => {
      const on = (s: { state: RadioState; reason: string }): void => {
        if (s.state === 'up') resolve()
        else if (s.state === 'down') reject(new SpinmeshError(ErrorCodes.CLOSED, `hub radio went down: ${s.reason}`))
        else return
        this.off('state', on)
      }
      this.on('state', on)
    })
  }

  private get hubName(): string {
    return `${this.hubHost}:${this.config.hubPort}`
  }

  private control(m: HubMessage, cb?: () => void): void {
    // Control datagrams are best effort: a lost HELLO or PING is re-sent by its timer.
    this.socket.send(encodeHubMessage(m), this.config.hubPort, this.hubHost, () => cb?.())
  }

  private startHello(): void {
    this.keepaliveTimer?.cancel()
    this.keepaliveTimer = null
    if (this.helloTimer !== null) return
    const tick = (): void => {
      this.helloTimer = null
      if (this.state !== 'connecting' && this.state !== 'reconnecting') return
      this.control({ type: 'hello', node: this.node, session: this.session })
      this.helloTimer = this.scheduler.at(this.config.helloIntervalMs, tick)
    }
    tick()
  }

  private startKeepalive(): void {
    this.helloTimer?.cancel()
    this.helloTimer = null
    this.keepaliveTimer?.cancel()
    const tick = (): void => {
      this.keepaliveTimer = null
      if (this.state !== 'up') return
      const silent = this.scheduler.now() - this.lastHeard
      if (silent >= this.config.keepaliveTimeoutMs) {
        this.lost(`no answer from hub ${this.hubName} for ${Math.round(silent)} ms`)
        return
      }
      this.control({ type: 'ping', node: this.node, session: this.session })
      this.keepaliveTimer = this.scheduler.at(this.config.keepaliveIntervalMs, tick)
    }
    this.keepaliveTimer = this.scheduler.at(this.config.keepaliveIntervalMs, tick)
  }

  private lost(reason: string): void {
    this.setState('reconnecting', reason)
    if (this.state === 'reconnecting') this.startHello()
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.state === 'down') return
    if (rinfo.port !== this.config.hubPort || !sameHost(rinfo.address, this.hubHost)) {
      this.stats.ignored++
      return
    }
    let m: HubMessage
    try {
      m = decodeHubMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length))
    } catch {
      this.stats.ignored++
      return
    }
    if ((m.type === 'welcome' || m.type === 'pong' || m.type === 'refuse') && m.node !== this.node) return void this.stats.ignored++
    if ((m.type === 'welcome' || m.type === 'pong') && m.session !== this.session) return void this.stats.ignored++
    this.lastHeard = this.scheduler.now()
    switch (m.type) {
      case 'welcome':
        if (this.state !== 'up') {
          this.startKeepalive()
          this.setState('up', `hub ${this.hubName} accepted node ${this.node}`)
        }
        return
      case 'refuse':
        if (m.code === 'unknown-node') {
          this.fail(`hub ${this.hubName} refused node ${this.node}: it is not in the hub's topology`, undefined, ErrorCodes.CONFIG)
        } else if (this.state === 'up') this.lost(`hub ${this.hubName} does not know node ${this.node} (it restarted)`)
        return
      case 'deliver':
        this.deliver(m.frame.slice(), m.rssi, m.snr)
        return
      case 'pong':
        return
      default:
        this.stats.ignored++ // a client→hub message sent to us
    }
  }

  protected transmit(bytes: Uint8Array, done: (err: Error | null) => void): void {
    this.socket.send(encodeHubMessage({ type: 'frame', frame: bytes }), this.config.hubPort, this.hubHost, (e) => done(e ?? null))
  }

  protected async closeTransport(): Promise<void> {
    this.helloTimer?.cancel()
    this.keepaliveTimer?.cancel()
    this.helloTimer = this.keepaliveTimer = null
    if (this.listening) {
      // Tell the hub, so it stops forwarding to us at once (best effort; it times us out otherwise).
      await new Promise<void>((resolve) => {
        try {
          this.control({ type: 'bye' }, resolve)
        } catch {
          resolve()
        }
      })
    }
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)
  return m !== null && m[1] === b
}
