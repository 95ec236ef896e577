/**
 * Test support: a real `mosquitto` broker on 127.0.0.1 (DESIGN.md §6: real parts in tests;
 * `.ci/run` installs mosquitto with apt-get). `Mosquitto.start()` picks a free port, writes a
 * config into a temp dir and resolves once mosquitto reports it is running; `stop()` ends it with
 * SIGTERM (it saves its database, with `persistence`), `start()` brings it back on the same port
 * (a broker restart), `kill()` is a crash (SIGKILL), `dispose()` kills it and removes the dir.
 *
 * Tests call `Mosquitto.available()` to fail with a clear message when the binary is missing,
 * rather than skip silently: CI installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { delimiter, join } from 'node:path'

export interface MosquittoOptions {
  /** Keep sessions, queued and retained messages across stop()/start() (saved on every change). */
  persistence?: boolean
  /** Extra config lines. */
  config?: string[]
}

/** Debian installs mosquitto in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin', '/usr/local/opt/mosquitto/sbin']

/** Listen on port 0, note the port the OS gave, close. (Another process may take it before us: callers retry.) */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const addr = s.address()
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

export class Mosquitto {
  private proc: ChildProcess | undefined
  private logText = ''

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /** The mosquitto binary, or undefined when it is not installed. */
  static binary(): string | undefined {
    const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS]
    for (const d of dirs) {
      const p = join(d, 'mosquitto')
      if (existsSync(p)) return p
    }
    return undefined
  }

  static available(): boolean {
    return Mosquitto.binary() !== undefined
  }

  /** A running mosquitto on a free port of 127.0.0.1, in a new temp dir. */
  static async start(o: MosquittoOptions = {}): Promise<Mosquitto> {
    const binary = Mosquitto.binary()
    if (binary === undefined) throw new Error('mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)')
    const dir = mkdtempSync(join(tmpdir(), 'spinmesh-mosquitto-'))
    for (let attempt = 1; ; attempt++) {
      const m = new Mosquitto(binary, dir, await freePort())
      m.writeConfig(o)
      try {
        await m.start()
        return m
      } catch (e) {
        if (attempt < 5 && /address already in use/i.test((e as Error).message)) continue
        rmSync(dir, { recursive: true, force: true })
        throw e
      }
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** What mosquitto logged (stderr), for failure messages. */
  get log(): string {
    return this.logText
  }

  /** Start (again) on the same port; resolves once it reports running. Retries briefly while the port is in use. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.running) return
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.spawnOnce(timeoutMs)
      } catch (e) {
        if (attempt >= 20 || !/address already in use/i.test((e as Error).message) || !existsSync(this.dir)) throw e
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }

  /** SIGTERM and wait for the exit (mosquitto saves its database first); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    const p = this.proc
    if (p === undefined || !this.running) return
    const exited = waitExit(p)
    p.kill('SIGTERM')
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(t)
  }

  /** SIGKILL (a crash: nothing saved since the last autosave) and wait for the exit. */
  async kill(): Promise<void> {
    const p = this.proc
    if (p === undefined || !this.running) return
    const exited = waitExit(p)
    p.kill('SIGKILL')
    await exited
  }

  /** Kill it and remove its temp dir. */
  async dispose(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }

  private writeConfig(o: MosquittoOptions): void {
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      // Run as root (CI containers), mosquitto would drop to the user `mosquitto`, which cannot write the temp dir.
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_timestamp false',
      // Tests queue long backlogs for offline clean:false subscribers; the default (1000) would drop some.
      'max_queued_messages 0',
    ]
    if (o.persistence) {
      lines.push('persistence true', `persistence_location ${this.dir}/`, 'persistence_file mosquitto.db', 'autosave_on_changes true', 'autosave_interval 1')
    }
    lines.push(...(o.config ?? []))
    writeFileSync(join(this.dir, 'mosquitto.conf'), lines.join('\n') + '\n')
  }

  private spawnOnce(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = spawn(this.binary, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
      this.proc = p
      let out = ''
      let settled = false
      const settle = (err?: Error): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) reject(err)
        else resolve()
      }
      const timer = setTimeout(() => {
        p.kill('SIGKILL')
        settle(new Error(`mosquitto did not start within ${timeoutMs} ms on port ${this.port}: ${out.trim()}`))
      }, timeoutMs)
      p.on('error', (e) => settle(new Error(`cannot run ${this.binary}: ${e.message}`)))
      p.on('exit', (code, signal) => settle(new Error(`mosquitto exited (${signal ?? `code ${code}`}) while starting on port ${this.port}: ${out.trim()}`)))
      p.stderr!.on('data', (d: Buffer) => {
        const s = d.toString()
        this.logText = (this.logText + s).slice(-20_000)
        out += s
        if (/mosquitto version \S+ running/.test(out)) settle()
      })
    })
  }
}

function waitExit(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve()
    p.once('exit', () => resolve())
  })
}
