/**
 * Test support: a pair of connected ptys made by `socat` (DESIGN.md §6: real serial devices in
 * tests; `.ci/run` installs socat). `start()` resolves when socat reports its transfer loop, so
 * both paths exist; `kill()` removes them, as an unplugged USB adapter does.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

export class SocatPair {
  private proc: ChildProcess | undefined

  constructor(readonly a: string, readonly b: string) {}

  /** Spawn socat; resolves once both ptys exist (rejects naming what failed, e.g. socat missing). */
  start(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: ['ignore', 'ignore', 'pipe'] })
      this.proc = p
      let log = ''
      const timer = setTimeout(() => reject(new Error(`socat did not start within ${timeoutMs} ms: ${log}`)), timeoutMs)
      p.on('error', (e) => {
        clearTimeout(timer)
        reject(new Error(`cannot run socat (install it: apt-get install socat): ${e.message}`))
      })
      p.stderr!.on('data', (d: Buffer) => {
        log += d.toString()
        if (log.includes('starting data transfer loop')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  }

  /**
   * Kill socat and wait until it is gone, then remove its links: a killed socat leaves them
   * pointing at /dev/pts/N, which another process may get next (a test would open the wrong pty).
   */
  async kill(): Promise<void> {
    const p = this.proc
    this.proc = undefined
    if (p !== undefined && p.exitCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve())
        p.kill('SIGKILL')
      })
    }
    for (const link of [this.a, this.b]) rmSync(link, { force: true })
  }
}
