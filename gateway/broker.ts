/**
 * The embedded MQTT broker (aedes 1.x on a `net` server): what a gateway runs when no external
 * broker is configured (DESIGN.md §6), and the in-process broker of tests.
 *
 * `pause()` closes the listener and destroys every client connection; `resume()` listens again on
 * the same port: a broker outage, for tests and for the gateway's own use (e.g. while it changes
 * configuration). aedes' sessions survive a pause — a subscriber with `clean: false` and a QoS 1
 * subscription gets, after it reconnects, what was published while it was away.
 *
 * Sessions, queued QoS 1 messages and retained messages live only in aedes' in-memory
 * persistence: `stop()` — and so a gateway restart — loses them. Subscribers that must not miss
 * records across gateway restarts should use an external broker with persistence (mosquitto
 * `persistence true`); the gateway's own spool still guarantees the gateway→broker leg.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { Aedes, type AedesOptions } from 'aedes'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'

export interface EmbeddedBrokerOptions {
  /** Address to listen on (keep 127.0.0.1 unless subscribers run on other machines). */
  host?: string
  /** TCP port (0: the OS chooses; read `port`). */
  port?: number
  /** Passed to `Aedes.createBroker` (authentication hooks, limits, another persistence). */
  aedes?: AedesOptions
}

export interface EmbeddedBrokerEvents {
  /** The listener failed after start (it stops accepting). Client errors are aedes' own `clientError` events. */
  error: (err: SpinmeshError) => void
}

export class EmbeddedBroker extends Emitter<EmbeddedBrokerEvents> {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private stopped = false

  private constructor(
    readonly aedes: Aedes,
    readonly host: string,
    private portValue: number,
  ) {
    super()
  }

  /** Create the broker and listen; rejects naming the address when it cannot (port in use). */
  static async start(o: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const host = o.host ?? '127.0.0.1'
    const port = o.port ?? 0
    if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) throw new RangeError(`embedded broker: port must be an integer 0..65535, got ${port}`)
    const aedes = await Aedes.createBroker(o.aedes)
    const broker = new EmbeddedBroker(aedes, host, port)
    try {
      await broker.listen()
    } catch (e) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      throw e
    }
    return broker
  }

  get port(): number {
    return this.portValue
  }

  /** `mqtt://host:port`. */
  get url(): string {
    return `mqtt://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.portValue}`
  }

  /** True while clients can connect. */
  get listening(): boolean {
    return this.server !== undefined
  }

  /** Stop accepting and cut every connection; sessions and retained messages are kept. Idempotent. */
  async pause(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await closed
  }

  /** Listen again on the same port. Idempotent while listening. */
  async resume(): Promise<void> {
    if (this.stopped) throw new SpinmeshError(ErrorCodes.CLOSED, 'embedded broker is stopped')
    if (this.server !== undefined) return
    await this.listen()
  }

  /** Close the listener, every connection and aedes (its sessions are lost). */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.pause()
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()))
  }

  private listen(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
      this.aedes.handle(socket)
    })
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        reject(new SpinmeshError(ErrorCodes.IO, `embedded broker cannot listen on ${this.host}:${this.portValue}: ${e.message}`, { cause: e }))
      }
      server.once('error', onError)
      server.listen(this.portValue, this.host, () => {
        server.off('error', onError)
        server.on('error', (e) => this.emit('error', new SpinmeshError(ErrorCodes.IO, `embedded broker listener on ${this.host}:${this.portValue}: ${e.message}`, { cause: e })))
        const addr = server.address()
        if (addr !== null && typeof addr === 'object') this.portValue = addr.port
        this.server = server
        resolve()
      })
    })
  }
}
