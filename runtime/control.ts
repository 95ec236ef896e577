/**
 * The local control socket of a running node (`spinmesh status|ping|traceroute` talk to the
 * daemon through it, issue 8): a Unix domain socket carrying JSON lines. A request is
 * `{"id": n, "method": "status", "params": {...}}`; the answer `{"id": n, "result": ...}` or
 * `{"id": n, "error": {"code": "...", "message": "..."}}`. One connection may carry many requests;
 * a method may also stream (`--monitor`): it calls `push(value)` for `{"id": n, "event": value}`
 * lines until the client disconnects.
 *
 * Bounded: a request line longer than MAX_LINE bytes closes the connection; at most MAX_CLIENTS
 * connections. The socket file is made mode 0600 (only the node's user may control it; put it in
 * a directory only that user can write, since the mode is set just after listening). An existing
 * path is replaced only if it is a socket nobody listens on (a crashed daemon's).
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { ErrorCodes, SpinmeshError, isSpinmeshError } from '../core/errors.ts'

export const MAX_LINE = 64 * 1024
export const MAX_CLIENTS = 32

export interface MethodContext {
  /** For streaming methods: send one event line; false once the client has gone. */
  push(value: unknown): boolean
  /** Resolves when the client disconnects. */
  closed: Promise<void>
}

export type Method = (params: Record<string, unknown>, ctx: MethodContext) => Promise<unknown>

export class ControlServer {
  private readonly server: Server
  private readonly clients = new Set<Socket>()

  private constructor(readonly path: string, private readonly methods: Readonly<Record<string, Method>>) {
    this.server = createServer((s) => this.accept(s))
  }

  /** Listen on `path` (a stale socket file left by a crashed daemon is replaced). */
  static async listen(path: string, methods: Readonly<Record<string, Method>>): Promise<ControlServer> {
    const c = new ControlServer(path, methods)
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket()) throw new SpinmeshError(ErrorCodes.CONFIG, `control socket path ${path} exists and is not a socket (refusing to replace it)`)
      const alive = await new Promise<boolean>((resolve) => {
        const probe = createConnection(path)
        probe.once('connect', () => (probe.destroy(), resolve(true)))
        probe.once('error', () => resolve(false))
      })
      if (alive) throw new SpinmeshError(ErrorCodes.CONFIG, `control socket ${path} is in use by a running node`)
      unlinkSync(path)
    }
    await new Promise<void>((resolve, reject) => {
      c.server.once('error', (e) => reject(new SpinmeshError(ErrorCodes.CONFIG, `cannot listen on control socket ${path}: ${e.message}`)))
      c.server.listen(path, () => resolve())
    })
    chmodSync(path, 0o600)
    return c
  }

  async close(): Promise<void> {
    for (const s of this.clients) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    try {
      unlinkSync(this.path)
    } catch {
      // already gone
    }
  }

  private accept(s: Socket): void {
    if (this.clients.size >= MAX_CLIENTS) {
      s.end(JSON.stringify({ id: null, error: { code: ErrorCodes.QUEUE_FULL, message: `more than ${MAX_CLIENTS} control clients` } }) + '\n')
      return
    }
    this.clients.add(s)
    let closedResolve!: () => void
    const closed = new Promise<void>((r) => (closedResolve = r))
    let buf = ''
    s.setEncoding('utf8')
    s.on('data', (chunk: string) => {
      buf += chunk
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line.length > MAX_LINE) return void s.destroy()
        if (line.trim()) void this.handle(s, line, closed)
      }
      if (buf.length > MAX_LINE) s.destroy()
    })
    s.on('close', () => {
      this.clients.delete(s)
      closedResolve()
    })
    s.on('error', () => {})
  }

  private async handle(s: Socket, line: string, closed: Promise<void>): Promise<void> {
    let id: unknown = null
    const reply = (o: Record<string, unknown>) => {
      if (!s.destroyed) s.write(JSON.stringify({ id, ...o }) + '\n')
    }
    try {
      const parsed: unknown = JSON.parse(line)
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('a request is a JSON object {id, method, params}')
      const req = parsed as { id?: unknown; method?: unknown; params?: unknown }
      id = req.id ?? null
      if (typeof req.method !== 'string' || !Object.hasOwn(this.methods, req.method)) {
        throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `unknown method ${JSON.stringify(req.method)}; known: ${Object.keys(this.methods).join(', ')}`)
      }
      const params = typeof req.params === 'object' && req.params !== null && !Array.isArray(req.params) ? (req.params as Record<string, unknown>) : {}
      const result = await this.methods[req.method](params, { push: (value) => (s.destroyed ? false : (reply({ event: value }), true)), closed })
      reply({ result })
    } catch (e) {
      const code = isSpinmeshError(e) ? e.code : e instanceof SyntaxError ? ErrorCodes.DECODE : e instanceof RangeError ? ErrorCodes.INVALID_ARGUMENT : 'ERR_INTERNAL'
      reply({ error: { code, message: (e as Error).message } })
    }
  }
}

/**
 * One request to a node's control socket; resolves with the result, rejects with a SpinmeshError
 * (the node's error, or: no node listening there). `onEvent` receives streamed events.
 */
export function controlRequest(path: string, method: string, params: Record<string, unknown> = {}, onEvent?: (e: unknown) => void, timeoutMs = 600_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path)
    let buf = ''
    let settled = false
    const timer = setTimeout(() => {
      s.destroy()
      reject(new SpinmeshError(ErrorCodes.EXPIRED, `no answer from ${path} to ${method} within ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref()
    s.once('close', () => {
      clearTimeout(timer)
      if (!settled) reject(new SpinmeshError(ErrorCodes.CLOSED, `the node on ${path} closed the connection before answering ${method}`))
    })
    s.setEncoding('utf8')
    s.once('error', (e: NodeJS.ErrnoException) => {
      settled = true
      reject(new SpinmeshError(ErrorCodes.CLOSED, `no node is listening on ${path} (${e.code ?? e.message}); is \`spinmesh run\` running with this control socket?`))
    })
    s.once('connect', () => s.write(JSON.stringify({ id: 1, method, params }) + '\n'))
    s.on('data', (chunk: string) => {
      buf += chunk
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl)) as { event?: unknown; result?: unknown; error?: { code: string; message: string } }
        buf = buf.slice(nl + 1)
        if ('event' in msg) onEvent?.(msg.event)
        else {
          settled = true
          s.end()
          if (msg.error) reject(new SpinmeshError(msg.error.code as never, msg.error.message))
          else resolve(msg.result)
        }
      }
    })
  })
}
