/**
 * Test support: `spinmesh` commands as real processes — daemons that run until stopped (ready when
 * their output shows a pattern; their output keeps accumulating in `out` for later patterns) and
 * one-shot commands.
 */
import { spawn, type ChildProcess } from 'node:child_process'

const bin = new URL('../cli/spinmesh.js', import.meta.url).pathname

/** Start `spinmesh args`; resolves once stdout shows `ready` (rejects on exit or after 20 s). */
export function daemon(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; out: string[] }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    const timer = setTimeout(() => reject(new Error(`spinmesh ${args.join(' ')} not ready: ${out.join('')}`)), 20_000)
    proc.stdout!.on('data', (d: Buffer) => {
      out.push(d.toString())
      if (ready.test(out.join(''))) {
        clearTimeout(timer)
        resolve({ proc, out })
      }
    })
    proc.stderr!.on('data', (d: Buffer) => out.push(d.toString()))
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`spinmesh ${args.join(' ')} exited (${code}): ${out.join('')}`))
    })
  })
}

/** Run `spinmesh args` to completion. */
export function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    proc.on('exit', (code) => resolve({ code, out }))
  })
}

export function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    p.once('exit', () => resolve())
    p.kill('SIGTERM')
  })
}


/** Resolves once the accumulated output `out` matches `pattern` (checks as output arrives; rejects after `ms`). */
export function outputMatches(proc: ChildProcess, out: string[], pattern: RegExp, ms = 20_000): Promise<void> {
  if (pattern.test(out.join(''))) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`output never matched ${pattern}: ${out.join('')}`)), ms)
    const check = () => {
      if (!pattern.test(out.join(''))) return
      clearTimeout(t)
      proc.stdout!.off('data', check)
      proc.stderr!.off('data', check)
      resolve()
    }
    // The daemon() listeners push first (registered earlier), so `out` is current here.
    proc.stdout!.on('data', check)
    proc.stderr!.on('data', check)
  })
}
