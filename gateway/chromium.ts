/**
 * Test support: load a page in headless Chromium and report what it did (DESIGN.md §6: the
 * dashboard is checked in a real browser; `.ci/run` installs chromium).
 *
 * Why not `--dump-dom`: with `--virtual-time-budget`, Chromium pauses virtual time while a fetch is
 * pending, and an open EventSource is a fetch that never ends, so the dump often never comes
 * (measured on Chromium 156: most runs hung until killed). Instead this drives Chromium over the
 * DevTools protocol on `--remote-debugging-pipe` (JSON messages ended by NUL on fds 3 and 4, no
 * WebSocket needed): it opens a tab, records console calls, uncaught exceptions, log errors
 * (failed loads, CSP violations) and every request, navigates, waits until a JS expression is
 * true (or the time runs out), and returns the DOM as it is then.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'

export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

/** Flags every run gets: headless without a GPU, sandbox or shared memory (containers, CI). */
export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--metrics-recording-only', '--mute-audio',
]

/** Hosts that count as this machine. */
export const LOCAL_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1']

/** Namespace URIs that look like URLs in markup and scripts but are never fetched. */
const NAMESPACE_URIS = ['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/1999/xlink', 'http://www.w3.org/XML/1998/namespace', 'http://www.w3.org/2000/xmlns/']

export interface ConsoleMessage {
  /** `log`, `warning`, `error`, `assert`, …; `exception` for an uncaught one; `log-error` for a browser log error. */
  type: string
  text: string
}

export interface HeadlessResult {
  /** `document.documentElement.outerHTML` at the end. */
  dom: string
  consoleErrors: string[]
  console: ConsoleMessage[]
  /** Every URL the page requested, in order. */
  requests: string[]
  /** The requests to a host that is not this machine (http, https, ws, wss). */
  externalRequests: string[]
  /** `waitFor` became true before the deadline (true when there was none). */
  satisfied: boolean
}

export interface HeadlessOptions {
  /** A JS expression evaluated in the page every `pollMs` until truthy; default: the load event. */
  waitFor?: string
  /** Give up waiting (and take the DOM as it is) after this long; default 20000. */
  timeoutMs?: number
  pollMs?: number
  /** Keep running this long after `waitFor` held (to catch late errors); default 0. */
  settleMs?: number
  /** Chromium binary; default findChromium(). */
  binary?: string
  windowSize?: [number, number]
  /** Write a PNG of the full page here at the end (for a person looking at a failure). */
  screenshot?: string
}

/** The first Chromium on `$CHROMIUM_BIN`, `$CHROME_BIN` or PATH, or undefined. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK)
      return true
    } catch {
      return false
    }
  }
  for (const v of [env.CHROMIUM_BIN, env.CHROME_BIN]) if (v && executable(v)) return v
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const name of CHROMIUM_NAMES) for (const d of dirs) if (executable(join(d, name))) return join(d, name)
  return undefined
}

function isLocalUrl(url: string): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return true
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return true // data:, blob:, about:, chrome-error:
  return LOCAL_HOSTS.includes(u.hostname) || /^127\.\d+\.\d+\.\d+$/.test(u.hostname)
}

/** The http(s)/ws(s) URLs in `text` (HTML, script, CSS) that point at another host, namespace URIs excepted. */
export function externalUrls(text: string): string[] {
  const found = text.match(/\b(?:https?|wss?):\/\/[^\s"'<>()`]+/gi) ?? []
  return found.filter((u) => !NAMESPACE_URIS.some((ns) => u.startsWith(ns)) && !isLocalUrl(u))
}

type Handler = (params: Record<string, any>, sessionId?: string) => void

/** The DevTools protocol over Chromium's pipe: NUL-ended JSON, requests matched to answers by id. */
class CdpPipe {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; method: string }>()
  private readonly handlers = new Map<string, Handler>()
  private chunks: Buffer[] = []
  private closedWith: Error | undefined

  constructor(private readonly out: Writable, input: Readable) {
    input.on('data', (chunk: Buffer) => this.receive(chunk))
    input.on('error', () => {})
    out.on('error', () => {})
  }

  on(method: string, fn: Handler): void {
    this.handlers.set(method, fn)
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method })
      this.out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0')
    })
  }

  /** Fail every outstanding request (the browser went away). */
  fail(e: Error): void {
    this.closedWith = e
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  private receive(chunk: Buffer): void {
    let start = 0
    for (let i = chunk.indexOf(0); i >= 0; i = chunk.indexOf(0, start)) {
      this.chunks.push(chunk.subarray(start, i))
      const text = Buffer.concat(this.chunks).toString('utf8')
      this.chunks = []
      start = i + 1
      this.dispatch(text)
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start))
  }

  private dispatch(text: string): void {
    let msg: any
    try {
      msg = JSON.parse(text)
    } catch {
      return
    }
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id)
      if (!p) return
      this.pending.delete(msg.id)
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`))
      else p.resolve(msg.result)
    } else if (typeof msg.method === 'string') {
      this.handlers.get(msg.method)?.(msg.params ?? {}, msg.sessionId)
    }
  }
}

function remoteText(arg: any): string {
  if (arg === undefined || arg === null) return ''
  if ('value' in arg) return typeof arg.value === 'string' ? arg.value : JSON.stringify(arg.value)
  return String(arg.description ?? arg.type ?? '')
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Open `url` in a fresh headless Chromium (its own temporary profile), wait as `options` says,
 * and return the DOM with the console errors and requests seen. Rejects (SpinmeshError) when no
 * Chromium is found or it does not start; the browser is always gone when this settles.
 */
export async function loadPage(url: string, options: HeadlessOptions = {}): Promise<HeadlessResult> {
  const binary = options.binary ?? findChromium()
  if (!binary) throw new SpinmeshError(ErrorCodes.UNSUPPORTED, `no Chromium found (looked for $CHROMIUM_BIN, $CHROME_BIN, ${CHROMIUM_NAMES.join(', ')} on PATH); install it, e.g. apt-get install chromium`)
  const timeoutMs = options.timeoutMs ?? 20_000
  const pollMs = options.pollMs ?? 100
  const [w, h] = options.windowSize ?? [1280, 900]
  const profile = mkdtempSync(join(tmpdir(), 'spinmesh-chromium-'))
  const child: ChildProcess = spawn(binary, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--window-size=${w},${h}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  // 'close' comes once every process holding the stdio pipes (the browser and its helpers) is gone;
  // it may not come after a spawn 'error' (binary missing), so either ends the wait.
  const gone = new Promise<void>((resolve) => (child.once('close', () => resolve()), child.once('error', () => resolve())))
  const cdp = new CdpPipe(child.stdio[3] as Writable, child.stdio[4] as Readable)
  child.once('error', (e) => cdp.fail(new SpinmeshError(ErrorCodes.IO, `cannot run ${binary}: ${e.message}`)))
  child.once('exit', (code, signal) => cdp.fail(new SpinmeshError(ErrorCodes.IO, `${binary} exited (${signal ?? code}) before the page was read: ${stderr.slice(-1000)}`)))

  const consoleAll: ConsoleMessage[] = []
  const requests: string[] = []
  let loaded = false
  cdp.on('Runtime.consoleAPICalled', (p) => consoleAll.push({ type: p.type, text: (p.args ?? []).map(remoteText).join(' ') }))
  cdp.on('Runtime.exceptionThrown', (p) => {
    const d = p.exceptionDetails ?? {}
    consoleAll.push({ type: 'exception', text: `${d.text ?? 'Uncaught'} ${d.exception?.description ?? ''}`.trim() })
  })
  cdp.on('Log.entryAdded', (p) => {
    const e = p.entry ?? {}
    if (e.level === 'error') consoleAll.push({ type: 'log-error', text: `${e.text ?? ''}${e.url ? ` (${e.url})` : ''}` })
  })
  cdp.on('Network.requestWillBeSent', (p) => requests.push(String(p.request?.url ?? '')))
  cdp.on('Network.webSocketCreated', (p) => requests.push(String(p.url ?? '')))
  cdp.on('Page.loadEventFired', () => { loaded = true })

  let closeSent = false
  const hardDeadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 15_000)
  try {
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' })
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true })
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await cdp.send(`${domain}.enable`, {}, sessionId)
    const nav = await cdp.send('Page.navigate', { url }, sessionId)
    if (nav.errorText) consoleAll.push({ type: 'log-error', text: `navigation to ${url} failed: ${nav.errorText}` })
    const until = Date.now() + timeoutMs
    let satisfied = false
    while (Date.now() < until) {
      if (options.waitFor === undefined) {
        satisfied = loaded
      } else {
        const r = await cdp.send('Runtime.evaluate', { expression: options.waitFor, returnByValue: true }, sessionId)
        satisfied = !r.exceptionDetails && Boolean(r.result?.value)
      }
      if (satisfied) break
      await sleep(pollMs)
    }
    if (satisfied && options.settleMs) await sleep(options.settleMs)
    const dom = await cdp.send('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true }, sessionId)
    if (options.screenshot) {
      const shot = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId)
      writeFileSync(options.screenshot, Buffer.from(shot.data, 'base64'))
    }
    closeSent = await cdp.send('Browser.close').then(() => true, () => false)
    const consoleErrors = consoleAll.filter((m) => ['error', 'assert', 'exception', 'log-error'].includes(m.type)).map((m) => m.text)
    return {
      dom: String(dom.result?.value ?? ''),
      consoleErrors,
      console: consoleAll,
      requests,
      externalRequests: requests.filter((u) => !isLocalUrl(u)),
      satisfied,
    }
  } finally {
    clearTimeout(hardDeadline)
    // Browser.close shuts down cleanly (helpers flush the profile); a browser that does not is
    // terminated, then killed.
    const term = setTimeout(() => child.kill('SIGTERM'), 3_000)
    const kill = setTimeout(() => child.kill('SIGKILL'), 6_000)
    if (!closeSent && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await gone
    clearTimeout(term)
    clearTimeout(kill)
    // Chromium's helper processes may still be writing the profile just after the browser exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
}
