/**
 * The gateway's HTTP side (issue 9): the live dashboard page and its data.
 *
 *   GET /                 the page (gateway/dashboard/index.html)
 *   GET /dashboard.js     its script, GET /dashboard.css its style (all read once at start)
 *   GET /api/state        the current DashboardState as JSON
 *   GET /api/stream       Server-Sent Events: `event: state` every `stateIntervalMs` (and at once
 *                         on connect), `event: sample` per published sample, `event: event` per
 *                         network event, and a `: ping` comment every `pingIntervalMs`
 *
 * Anything else is 404 (JSON); methods other than GET/HEAD are 405. Every response carries a
 * Content-Security-Policy that only allows this origin, so the page cannot reach the network even
 * if a future change tries to.
 *
 * Slow clients: each SSE client's unsent bytes (Node's buffer above the socket) are checked after
 * every write; a client beyond `maxClientBufferBytes` is disconnected and counted in
 * `stats().droppedClients` (its EventSource reconnects and gets a fresh state). Nothing waits for
 * a client, so one stuck browser never slows the others. At most `maxClients` streams (503 above).
 *
 * Exposure: it binds to 127.0.0.1 by default and only answers requests whose Host header names a
 * loopback host, so a web page elsewhere cannot read it through DNS rebinding. To show the
 * dashboard to other machines, put a reverse proxy (nginx, Caddy, with its own TLS and
 * authentication) in front, or pass `host` (e.g. `0.0.0.0`) and `allowedHosts` (the names users
 * type, or `'*'`). The dashboard has no authentication of its own: it is read-only, but shows the
 * network's topology and data.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { checkNumber } from '../core/validate.ts'
import { validateDashboardSample, validateDashboardState, type DashboardSample, type DashboardState } from './dashboard-state.ts'

/** A network event for the page's log (route change, neighbour up/down, …). */
export interface GatewayEvent {
  kind: string
  /** ms since the epoch. */
  at: number
  [k: string]: unknown
}

export interface GatewayHttpOptions {
  /** Interface to bind; default 127.0.0.1 (see the module comment before changing it). */
  host?: string
  /** 0 (default) picks a free port. */
  port?: number
  /** Called for `/api/state` and every state tick; must be cheap (a snapshot of tables). */
  state: () => DashboardState
  /** How often streams get a fresh state; default 1000. */
  stateIntervalMs?: number
  /** How often streams get a `: ping` comment (keeps proxies from closing them); default 15000. */
  pingIntervalMs?: number
  /** Unsent bytes one stream may hold before it is dropped; default 1 MiB. */
  maxClientBufferBytes?: number
  /** Concurrent streams; default 64. */
  maxClients?: number
  /**
   * Host header names accepted (without port). Default: loopback names when `host` is a loopback
   * address, anything otherwise. `['*']` accepts any.
   */
  allowedHosts?: readonly string[]
}

export interface GatewayHttpStats {
  /** Open streams. */
  clients: number
  /** SSE messages written, pings included (each client counts). */
  sent: number
  /** Streams disconnected because they could not keep up. */
  droppedClients: number
}

interface StaticFile { body: Buffer; type: string }

const STATIC_FILES: ReadonlyArray<[path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
]

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1']

const COMMON_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

/** One SSE frame. JSON.stringify escapes newlines, so the data fits on one `data:` line. */
function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** The name part of a Host header (`[::1]:8080` → `[::1]`, `a.b:80` → `a.b`). */
function hostName(header: string | undefined): string {
  if (!header) return ''
  const h = header.toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  return colon < 0 ? h : h.slice(0, colon)
}

export class GatewayHttp {
  readonly url: string
  readonly port: number
  private readonly clients = new Set<ServerResponse>()
  private readonly timers: NodeJS.Timeout[] = []
  private sent = 0
  private dropped = 0
  private closed = false

  private constructor(
    private readonly server: Server,
    private readonly opts: Required<Omit<GatewayHttpOptions, 'allowedHosts'>> & { allowedHosts: readonly string[] | undefined },
    private readonly files: ReadonlyMap<string, StaticFile>,
  ) {
    const addr = server.address() as AddressInfo
    this.port = addr.port
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    this.url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${this.port}/`
  }

  /** Read the page's files, listen, and start the state and ping ticks. */
  static async start(options: GatewayHttpOptions): Promise<GatewayHttp> {
    if (typeof options?.state !== 'function') throw new ConfigError('http.state', 'must be a function returning the DashboardState')
    const opts = {
      host: options.host ?? '127.0.0.1',
      port: checkNumber('http.port', options.port ?? 0, { min: 0, max: 65535, integer: true }),
      state: options.state,
      stateIntervalMs: checkNumber('http.stateIntervalMs', options.stateIntervalMs ?? 1000, { min: 10 }),
      pingIntervalMs: checkNumber('http.pingIntervalMs', options.pingIntervalMs ?? 15_000, { min: 10 }),
      maxClientBufferBytes: checkNumber('http.maxClientBufferBytes', options.maxClientBufferBytes ?? 1024 * 1024, { min: 1024, integer: true }),
      maxClients: checkNumber('http.maxClients', options.maxClients ?? 64, { min: 1, integer: true }),
      allowedHosts: options.allowedHosts,
    }
    const dir = new URL('./dashboard/', import.meta.url)
    const files = new Map<string, StaticFile>()
    for (const [path, file, type] of STATIC_FILES) {
      try {
        files.set(path, { body: await readFile(new URL(file, dir)), type })
      } catch (e) {
        throw new SpinmeshError(ErrorCodes.IO, `cannot read dashboard file ${new URL(file, dir).pathname}: ${(e as Error).message}`, { cause: e })
      }
    }
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new SpinmeshError(ErrorCodes.IO, `cannot listen on ${opts.host}:${opts.port}: ${e.message}`, { cause: e })))
      server.listen(opts.port, opts.host, () => resolve())
    })
    const g = new GatewayHttp(server, opts, files)
    server.on('request', (req, res) => g.handle(req, res))
    g.timers.push(setInterval(() => g.tickState(), opts.stateIntervalMs), setInterval(() => g.broadcast(': ping\n\n'), opts.pingIntervalMs))
    for (const t of g.timers) t.unref()
    return g
  }

  /** Send a sample to every open stream. Throws SpinmeshError (ERR_INVALID_ARGUMENT) on a malformed sample. */
  publish(sample: DashboardSample): void {
    let s: DashboardSample
    try {
      s = validateDashboardSample(sample)
    } catch (e) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, (e as Error).message)
    }
    if (this.clients.size === 0) return
    this.broadcast(sseFrame('sample', s))
  }

  /** Send a network event to every open stream. */
  event(e: GatewayEvent): void {
    if (e === null || typeof e !== 'object' || typeof e.kind !== 'string' || e.kind === '' || typeof e.at !== 'number') {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'event must be { kind: non-empty string, at: number, ... }')
    }
    if (this.clients.size === 0) return
    this.broadcast(sseFrame('event', e))
  }

  stats(): GatewayHttpStats {
    return { clients: this.clients.size, sent: this.sent, droppedClients: this.dropped }
  }

  /** End every stream, stop listening and close idle connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    for (const res of this.clients) res.end()
    this.clients.clear()
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    await done
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.hostAllowed(req.headers.host)) return this.json(req, res, 421, { error: 'host not allowed', host: req.headers.host ?? '' })
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return this.json(req, res, 405, { error: 'method not allowed', method: req.method ?? '' })
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const file = this.files.get(path === '/index.html' ? '/' : path)
    if (file) {
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' })
      res.end(req.method === 'HEAD' ? undefined : file.body)
      return
    }
    if (path === '/api/state') {
      let state: DashboardState
      try {
        state = this.snapshot()
      } catch (e) {
        return this.json(req, res, 500, { error: 'state unavailable', message: (e as Error).message })
      }
      return this.json(req, res, 200, state)
    }
    if (path === '/api/stream') return this.openStream(req, res)
    this.json(req, res, 404, { error: 'not found', path })
  }

  private hostAllowed(header: string | undefined): boolean {
    const allowed = this.opts.allowedHosts ?? (isLoopbackHost(this.opts.host) ? LOOPBACK_NAMES : ['*'])
    if (allowed.includes('*')) return true
    const name = hostName(header)
    return allowed.includes(name) || (/^127\.\d+\.\d+\.\d+$/.test(name) && allowed.includes('127.0.0.1'))
  }

  private json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    const bytes = Buffer.from(JSON.stringify(body))
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length, 'Cache-Control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : bytes)
  }

  /** The state, checked (a producer bug shows as a named field, not a broken page). */
  private snapshot(): DashboardState {
    return validateDashboardState(this.opts.state())
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.opts.maxClients) return this.json(req, res, 503, { error: 'too many dashboard clients', max: this.opts.maxClients })
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    if (req.method === 'HEAD') return void res.end()
    req.socket.setNoDelay(true)
    this.clients.add(res)
    res.on('close', () => this.clients.delete(res))
    this.write(res, 'retry: 2000\n\n')
    this.write(res, this.stateFrame())
  }

  private stateFrame(): string {
    try {
      return sseFrame('state', this.snapshot())
    } catch (e) {
      return sseFrame('state-error', { message: (e as Error).message })
    }
  }

  private tickState(): void {
    if (this.clients.size > 0) this.broadcast(this.stateFrame())
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) this.write(res, frame)
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.destroyed || res.writableEnded) return
    res.write(frame)
    this.sent++
    if (res.writableLength > this.opts.maxClientBufferBytes) {
      this.dropped++
      this.clients.delete(res)
      res.destroy()
    }
  }
}
