/**
 * pbcast's unicast service between gateways on a LAN or WAN: real UDP (node:dgram). Every member
 * has one socket and a static table of its peers (group address → IP and port); there is no
 * discovery and no NAT traversal.
 *
 * Wire (docs/WIRE.md, "pbcast over UDP"): each UDP datagram is
 *
 *   offset  size  field
 *   0       4     sender: the sending member's node address, u32 big-endian
 *   4       n     payload (0 ≤ n ≤ maxPayload), the pbcast datagram
 *
 * A received datagram is dropped and counted (`stats.dropped`) when it is shorter than 4 bytes
 * (`short`), carries more than maxPayload bytes of payload (`oversize`), names a sender that is not
 * in the peer table (`unknownSender`), or comes from another IP:port than that peer's entry
 * (`wrongSource`). The source check stops casual spoofing and misrouted traffic only: it is not
 * authentication (an on-path attacker can forge both); pbcast authenticates its messages end to end.
 *
 * Peer hosts are IP literals (the source check compares them with the datagram's source address);
 * resolve names before building the table. Socket errors are emitted as 'error' events (and counted),
 * never thrown asynchronously; eventemitter3 does not throw on an 'error' nobody listens to.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIP } from 'node:net'
import { isNodeAddr, type Addr } from '../core/addr.ts'
import { ByteReader, ByteWriter } from '../core/bytes.ts'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { RealScheduler } from '../core/scheduler.ts'
import type { DatagramEvents, Datagrams } from '../gossip/pbcast/pbcast-types.ts'

/** Bytes before the payload in every UDP datagram. */
export const UDP_DATAGRAM_HEADER_SIZE = 4
/** Default maxPayload: an Ethernet frame (1,500) less IPv6 (40) and UDP (8) headers, our 4 and margin. */
export const UDP_DEFAULT_MAX_PAYLOAD = 1400
/** Largest maxPayload accepted: a UDP datagram over IPv4 carries at most 65,507 bytes. */
export const UDP_MAX_PAYLOAD_LIMIT = 65_507 - UDP_DATAGRAM_HEADER_SIZE

export interface UdpEndpoint {
  /** An IP literal (IPv4 or IPv6). */
  host: string
  port: number
}

export interface UdpDatagramsOptions {
  /** This member's node address (written in every datagram it sends). */
  address: Addr
  /** Where to bind: an IP literal (or a name node:dgram resolves) and a port (0: the OS chooses). */
  bind: { host: string; port: number }
  /** The other members; more can be added after `open` with `setPeer` (e.g. once their ports are known). */
  peers?: Map<Addr, UdpEndpoint> | Record<string, UdpEndpoint>
  /** Largest payload, bytes (default 1,400); datagrams from peers carrying more are dropped. */
  maxPayload?: number
  /** The clock of `DatagramRx.at` (default a RealScheduler started at open). */
  clock?: { now(): number }
}

export type UdpDropReason = 'short' | 'oversize' | 'unknownSender' | 'wrongSource'

export interface UdpDatagramsStats {
  sent: number
  received: number
  /** Send callbacks that reported an error (each also emitted as 'error'). */
  sendErrors: number
  /** Datagrams not sent: the destination is not in the peer table. */
  unsent: { unknownPeer: number }
  dropped: Record<UdpDropReason, number>
}

export interface UdpDatagramsEvents extends DatagramEvents {
  /** A socket or send error; the endpoint stays open unless the socket closed. */
  error: (e: Error) => void
}

/** The bytes of one datagram: sender address then payload. */
export function encodeUdpDatagram(from: Addr, payload: Uint8Array): Uint8Array {
  const w = new ByteWriter(UDP_DATAGRAM_HEADER_SIZE + payload.length)
  w.u32(from)
  w.raw(payload)
  return w.done()
}

/** Total: the sender address (any u32) and the rest as payload (a view), or DecodeError when shorter than 4 bytes. */
export function decodeUdpDatagram(bytes: Uint8Array): { from: number; payload: Uint8Array } {
  const r = new ByteReader(bytes, 'udp datagram')
  const from = r.u32('sender')
  return { from, payload: r.rest() }
}

/** 'a.b.c.d' for '::ffff:a.b.c.d'; IPv6 in canonical lower-case form; IPv4 as is. */
function canonicalHost(host: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)
  if (v4mapped) return v4mapped[1]
  if (isIP(host) === 6) return new URL(`http://[${host}]`).hostname.slice(1, -1)
  return host
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${what}: port must be an integer in [0, 65535], got ${port}`)
}

export class UdpDatagrams extends Emitter<UdpDatagramsEvents> implements Datagrams {
  readonly address: Addr
  readonly maxPayload: number
  readonly stats: UdpDatagramsStats = { sent: 0, received: 0, sendErrors: 0, unsent: { unknownPeer: 0 }, dropped: { short: 0, oversize: 0, unknownSender: 0, wrongSource: 0 } }
  private readonly peers = new Map<Addr, { host: string; port: number; key: string }>()
  private readonly socket: Socket
  private readonly clock: { now(): number }
  private readonly family: 4 | 6
  private closed = false

  /** Bind a socket and resolve once it listens; rejects (naming host:port) when it cannot bind. */
  static async open(o: UdpDatagramsOptions): Promise<UdpDatagrams> {
    const d = new UdpDatagrams(o)
    await d.bind(o.bind)
    return d
  }

  private constructor(o: UdpDatagramsOptions) {
    super()
    if (!isNodeAddr(o.address)) throw new RangeError(`udp-datagrams: address must be a node address (1..0x7fffffff), got ${o.address}`)
    const max = o.maxPayload ?? UDP_DEFAULT_MAX_PAYLOAD
    if (!Number.isInteger(max) || max < 1 || max > UDP_MAX_PAYLOAD_LIMIT) {
      throw new RangeError(`udp-datagrams: maxPayload must be an integer in [1, ${UDP_MAX_PAYLOAD_LIMIT}], got ${max}`)
    }
    if (typeof o.bind?.host !== 'string' || o.bind.host === '') throw new RangeError('udp-datagrams: bind.host must be a non-empty string')
    checkPort(o.bind.port, 'udp-datagrams bind')
    this.address = o.address
    this.maxPayload = max
    this.clock = o.clock ?? new RealScheduler()
    this.family = isIP(o.bind.host) === 6 ? 6 : 4
    const entries = o.peers instanceof Map ? [...o.peers] : Object.entries(o.peers ?? {}).map(([k, v]) => [Number(k), v] as const)
    for (const [addr, ep] of entries) this.setPeer(addr, ep)
    this.socket = createSocket({ type: this.family === 6 ? 'udp6' : 'udp4' })
  }

  private bind(at: { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        this.closed = true
        try {
          this.socket.close()
        } catch {
          // Not running: nothing to close.
        }
        const code = (e as NodeJS.ErrnoException).code
        reject(new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `udp-datagrams: cannot bind ${at.host}:${at.port}: ${code ?? e.message}`, { cause: e }))
      }
      this.socket.once('error', failed)
      this.socket.once('listening', () => {
        this.socket.off('error', failed)
        this.socket.on('error', (e) => this.emit('error', e))
        this.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo))
        resolve()
      })
      try {
        this.socket.bind(at.port, at.host)
      } catch (e) {
        failed(e as Error)
      }
    })
  }

  /**
   * Widened to any[] only so the class satisfies Datagrams, whose `eventNames()` lists 'receive'
   * alone (ours also has 'error'); as Aodv does for its interfaces.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override eventNames(): any[] {
    return super.eventNames()
  }

  /** The bound host and port (the port the OS chose when bind.port was 0). */
  local(): UdpEndpoint {
    const a = this.socket.address()
    return { host: a.address, port: a.port }
  }

  /** Add or replace member `addr`'s endpoint. */
  setPeer(addr: Addr, ep: UdpEndpoint): void {
    if (!isNodeAddr(addr)) throw new RangeError(`udp-datagrams: peer address must be a node address (1..0x7fffffff), got ${addr}`)
    if (addr === this.address) throw new RangeError(`udp-datagrams: ${addr} is this member's own address`)
    if (typeof ep?.host !== 'string' || isIP(ep.host) === 0) throw new RangeError(`udp-datagrams: peer ${addr}: host must be an IP literal, got ${String(ep?.host)} (resolve names first)`)
    checkPort(ep.port, `udp-datagrams peer ${addr}`)
    if (ep.port === 0) throw new RangeError(`udp-datagrams: peer ${addr}: port 0 is not a peer's port`)
    const host = canonicalHost(ep.host)
    if (this.family === 4 && isIP(host) === 6) throw new RangeError(`udp-datagrams: peer ${addr} ${host} is IPv6 but the socket is bound to IPv4`)
    this.peers.set(addr, { host, port: ep.port, key: `${host}|${ep.port}` })
  }

  deletePeer(addr: Addr): boolean {
    return this.peers.delete(addr)
  }

  peerAddrs(): Addr[] {
    return [...this.peers.keys()]
  }

  /**
   * Throws RangeError for a payload above maxPayload; CLOSED after close. A member not in the peer
   * table is unreachable: the datagram is lost and counted (`unsent.unknownPeer`), as the
   * Datagrams contract says (a member may be in an audience before its address is configured).
   */
  send(to: Addr, payload: Uint8Array): void {
    if (this.closed) throw new SpinmeshError(ErrorCodes.CLOSED, `udp-datagrams endpoint ${this.address} is closed`)
    if (!(payload instanceof Uint8Array)) throw new TypeError('udp-datagrams: payload must be a Uint8Array')
    if (payload.length > this.maxPayload) throw new RangeError(`udp-datagrams: payload of ${payload.length} bytes exceeds maxPayload ${this.maxPayload}`)
    const peer = this.peers.get(to)
    if (peer === undefined) {
      this.stats.unsent.unknownPeer++
      return
    }
    // An IPv6 socket reaches IPv4 peers through mapped addresses (dual stack).
    const host = this.family === 6 && isIP(peer.host) === 4 ? `::ffff:${peer.host}` : peer.host
    this.stats.sent++
    this.socket.send(encodeUdpDatagram(this.address, payload), peer.port, host, (e) => {
      if (e) {
        this.stats.sendErrors++
        this.emit('error', e)
      }
    })
  }

  private receive(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return
    // A plain Uint8Array view: Buffer#slice does not copy, Uint8Array#slice does (what receivers expect).
    const msg = new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
    if (msg.length < UDP_DATAGRAM_HEADER_SIZE) return void this.stats.dropped.short++
    if (msg.length - UDP_DATAGRAM_HEADER_SIZE > this.maxPayload) return void this.stats.dropped.oversize++
    const { from, payload } = decodeUdpDatagram(msg)
    const peer = this.peers.get(from)
    if (peer === undefined) return void this.stats.dropped.unknownSender++
    if (peer.key !== `${canonicalHost(rinfo.address)}|${rinfo.port}`) return void this.stats.dropped.wrongSource++
    this.stats.received++
    this.emit('receive', { from, payload, at: this.clock.now() })
  }

  /** Close the socket and drop listeners; idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.socket.close()
    this.removeAllListeners()
  }
}
