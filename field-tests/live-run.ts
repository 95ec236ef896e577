/**
 * `spinmesh field-test run DIR` (issue 10): runs a planned field test (plan.ts) on this machine —
 * the live hub when the plan has one (hub.yaml), and one `spinmesh run` daemon per node, real
 * processes on loopback. Once every daemon is up, it sets a common start a few seconds ahead
 * (control method `start-run` on each node, and schedule.json), waits until the scenario's
 * duration has passed, then stops them (SIGTERM: their event logs are flushed). Collect the logs with `spinmesh field-test collect DIR`.
 *
 * On real gateways, plan with `--start` instead and start each node's daemon on its device; the
 * nodes begin their flows at that wall-clock time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../core/errors.ts'
import { controlRequest } from '../runtime/control.ts'
import type { RunSchedule } from './field-test-types.ts'

const bin = new URL('../cli/spinmesh.js', import.meta.url).pathname

export interface LiveRunOptions {
  /** Seconds from when every daemon is up until the flows start (default 3: nodes meet their neighbours). */
  startInS?: number
  /** Seconds after the scenario's end before the daemons stop (default 3: late deliveries arrive). */
  tailS?: number
  /** Progress lines. */
  out?: (line: string) => void
}

interface Proc {
  name: string
  proc: ChildProcess
  output: string[]
}

function start(name: string, args: string[], ready: RegExp, ms = 20_000): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const output: string[] = []
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${ms} ms: ${output.join('').slice(-500)}`)), ms)
    const onData = (d: Buffer) => {
      output.push(d.toString())
      if (output.length > 200) output.splice(0, output.length - 200)
      if (ready.test(output.join(''))) {
        clearTimeout(timer)
        resolve({ name, proc, output })
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code}): ${output.join('').slice(-500)}`))
    })
  })
}

/** Whether the process has ended (by its own exit or a signal: a killed process keeps exitCode null). */
const ended = (p: Proc): boolean => p.proc.exitCode !== null || p.proc.signalCode !== null

function stop(p: Proc): Promise<void> {
  if (ended(p)) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => p.proc.kill('SIGKILL'), 10_000)
    p.proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    p.proc.kill('SIGTERM')
  })
}

export function readSchedule(dir: string): RunSchedule {
  const file = join(dir, 'schedule.json')
  if (!existsSync(file)) throw new ConfigError('', `${dir} holds no plan (schedule.json): run spinmesh field-test plan first`)
  return JSON.parse(readFileSync(file, 'utf8')) as RunSchedule
}

/** Run the plan in `dir`; resolves with the schedule (its startWallMs set) once every daemon has stopped. */
export async function runLive(dir: string, o: LiveRunOptions = {}): Promise<RunSchedule> {
  const say = o.out ?? (() => {})
  const schedule = readSchedule(dir)
  const planned = new Set(schedule.nodes.map((n) => `${n.name}.yaml`))
  // The schedule's nodes only (a re-plan with other names may have left older configs behind).
  const configs = readdirSync(join(dir, 'nodes')).filter((f) => planned.has(f)).sort()
  if (configs.length !== planned.size) throw new ConfigError('nodes', `${join(dir, 'nodes')} lacks configs of ${[...planned].filter((f) => !configs.includes(f)).join(', ')}`)
  // The planned configs carry no start time: the daemons come up (in parallel; a loaded machine
  // may take many seconds), then each is told the common start over its control socket.
  const sockets = configs.map((f) => {
    const file = join(dir, 'nodes', f)
    const node = parseYaml(readFileSync(file, 'utf8')) as { run?: unknown; control?: { socket?: string } }
    if (node.run !== undefined) throw new ConfigError('run', `${file} has a fixed start (run:): plan without --start to run it here`)
    if (!node.control?.socket) throw new ConfigError('control.socket', `${file} has no control socket: the run starts the node's flows through it`)
    return resolve(dirname(file), node.control.socket)
  })
  const procs: Proc[] = []
  try {
    if (existsSync(join(dir, 'hub.yaml'))) {
      const first = parseYaml(readFileSync(join(dir, 'nodes', configs[0]), 'utf8')) as { radio?: { hub?: string } }
      const port = first.radio?.hub?.split(':')[1] ?? '7400'
      procs.push(await start('hub', ['hub', '--topology', join(dir, 'hub.yaml'), '--port', port], /hub listening/))
      say(`hub on port ${port}`)
    }
    const started = await Promise.allSettled(configs.map((f) => start(f.replace(/\.yaml$/, ''), ['run', '--config', join(dir, 'nodes', f)], /running/)))
    for (const r of started) if (r.status === 'fulfilled') procs.push(r.value)
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    const startWallMs = Date.now() + (o.startInS ?? 3) * 1000
    schedule.startWallMs = startWallMs
    writeFileSync(join(dir, 'schedule.json'), JSON.stringify(schedule, null, 2) + '\n')
    await Promise.all(sockets.map((sock) => controlRequest(sock, 'start-run', { startWallMs })))
    say(`${configs.length} nodes running; flows start at ${new Date(startWallMs).toISOString()}, for ${schedule.durationS} s`)
    const end = startWallMs + schedule.durationS * 1000 + (o.tailS ?? 3) * 1000
    while (Date.now() < end) {
      const dead = procs.find(ended)
      if (dead) throw new Error(`${dead.name} stopped during the run (${dead.proc.signalCode ?? `exit ${dead.proc.exitCode}`}): ${dead.output.join('').slice(-500)}`)
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(10, end - Date.now()))))
    }
  } finally {
    // Nodes first (they flush their logs), the hub last.
    await Promise.all(procs.filter((p) => p.name !== 'hub').map(stop))
    await Promise.all(procs.filter((p) => p.name === 'hub').map(stop))
  }
  say(`run done; logs in ${join(dir, 'logs')}`)
  return schedule
}
