/**
 * Runs many scenario runs on a pool of worker child processes, so a sweep uses every core.
 *
 * Each job is (scenario text or file, `--set` overrides, seed); each returns the run's
 * MetricsResult, and results come back in job order, whatever order they finish in. Workers are
 * forked from this very file (`fork` with tsx's loader and an IPC channel) and each runs several
 * jobs one after another, since starting Node + tsx costs about half a second. A job that throws,
 * or a worker that dies, fails the whole pool with an error naming the job and the reason; the
 * other workers are killed. If the parent is interrupted (SIGINT, SIGTERM) or exits, the workers
 * are killed too, and a worker whose parent has gone exits on its own (IPC disconnect).
 *
 * Simulation is deterministic and runs share nothing, so a job's result does not depend on which
 * worker ran it or on how many workers there are (only `wallSeconds` differs).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { MetricsResult } from './metrics-result.ts'
import { instrumentOdsbr } from './odsbr-metrics.ts'
import { buildSimulation, runSimulation } from './runner.ts'
import { parseScenario, readScenarioText } from './scenario.ts'

export interface RunJob {
  /** Scenario file: read by the worker when `text` is absent, else only named in errors. */
  file: string
  /** The scenario's YAML text (saves each worker a read, and allows scenarios with no file). */
  text?: string
  /** `key.path=value` overrides, as for `spinmesh sim --set`. */
  sets?: readonly string[]
  /** Overrides the scenario's seed. */
  seed?: number
  /**
   * Instrumentation to attach between building and running the simulation (by name: jobs cross
   * process boundaries): `odsbr` = field-tests/odsbr-metrics.ts (convictions as they happen,
   * frames by kind, every packet's route).
   */
  instrument?: 'odsbr'
}

export interface RunPoolOptions {
  /** Worker processes (default: `os.availableParallelism()`, never more than there are jobs). */
  workers?: number
  /** Called when a job is handed to a worker. */
  onStart?: (index: number, job: RunJob) => void
  /** Called when a job's result arrives (in completion order). */
  onDone?: (index: number, result: MetricsResult, done: number, total: number) => void
}

/** A job failed (it threw, or its worker died); names the job and carries the reason. */
export class RunJobError extends Error {
  override name = 'RunJobError'
  constructor(
    readonly index: number,
    readonly job: RunJob,
    readonly reason: string,
  ) {
    super(`run ${index + 1} (${describeJob(job)}) failed: ${reason}`)
  }
}

/** `file --set a=b seed 3`, for messages. */
export function describeJob(job: RunJob): string {
  const sets = (job.sets ?? []).map((s) => ` --set ${s}`).join('')
  return `${job.file}${sets}${job.seed === undefined ? '' : ` seed ${job.seed}`}`
}

/** Run one job in this process (what a worker does for each job it gets). */
export function runJob(job: RunJob): MetricsResult {
  const text = job.text ?? readScenarioText(job.file)
  const scenario = parseScenario(text, job.sets ?? [], job.file)
  const sim = buildSimulation(scenario, job.seed === undefined ? {} : { seed: job.seed })
  if (job.instrument === 'odsbr') instrumentOdsbr(sim)
  return runSimulation(sim)
}

type ToWorker = { type: 'run'; index: number; job: RunJob }
type FromWorker =
  | { type: 'result'; index: number; result: MetricsResult }
  | { type: 'error'; index: number; error: string }

const WORKER_ENV = 'SPINMESH_RUN_POOL_WORKER'

function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx')
  } catch {
    return 'tsx'
  }
}

/**
 * Run every job on up to `workers` child processes; results in job order. With one worker the
 * jobs run in this process instead (same callbacks, same RunJobError): no fork for a serial run.
 */
export function runPool(jobs: readonly RunJob[], opts: RunPoolOptions = {}): Promise<MetricsResult[]> {
  const total = jobs.length
  if (total === 0) return Promise.resolve([])
  const wanted = opts.workers ?? availableParallelism()
  if (!Number.isInteger(wanted) || wanted < 1) throw new RangeError(`run pool: workers must be an integer >= 1, got ${wanted}`)
  const count = Math.min(wanted, total)
  if (count === 1) return runHere(jobs, opts)
  const results: MetricsResult[] = new Array(total)
  const children: ChildProcess[] = []
  const running = new Map<ChildProcess, number>()
  let next = 0
  let done = 0
  let settled = false

  return new Promise<MetricsResult[]>((resolve, reject) => {
    const killAll = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    }
    const onSignal = (signal: NodeJS.Signals) => {
      killAll()
      cleanup()
      process.kill(process.pid, signal)
    }
    const onExit = () => killAll()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    process.once('exit', onExit)
    function cleanup() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      process.off('exit', onExit)
    }
    const fail = (index: number, reason: string) => {
      if (settled) return
      settled = true
      killAll()
      cleanup()
      reject(new RunJobError(index, jobs[index], reason))
    }
    const finish = () => {
      settled = true
      cleanup()
      for (const c of children) if (c.connected) c.disconnect()
      resolve(results)
    }
    const dispatch = (child: ChildProcess) => {
      if (settled) return
      if (next >= total) {
        running.delete(child)
        if (child.connected) child.disconnect()
        return
      }
      const index = next++
      running.set(child, index)
      opts.onStart?.(index, jobs[index])
      const msg: ToWorker = { type: 'run', index, job: jobs[index] }
      child.send(msg)
    }

    const loader = tsxLoader()
    const self = fileURLToPath(import.meta.url)
    for (let w = 0; w < count; w++) {
      const child = fork(self, [], {
        execArgv: ['--import', loader],
        env: { ...process.env, [WORKER_ENV]: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      })
      children.push(child)
      child.on('message', (m: FromWorker) => {
        if (settled) return
        if (m.type === 'error') return fail(m.index, m.error)
        results[m.index] = m.result
        done++
        opts.onDone?.(m.index, m.result, done, total)
        if (done === total) finish()
        else dispatch(child)
      })
      child.on('error', (e) => {
        const index = running.get(child)
        fail(index ?? Math.min(next, total - 1), `worker process error: ${e.message}`)
      })
      child.on('exit', (code, signal) => {
        const index = running.get(child)
        if (index !== undefined && !settled) {
          fail(index, `its worker exited (${signal ? `signal ${signal}` : `code ${code}`}) before returning a result`)
        }
      })
      dispatch(child)
    }
  })
}

function runHere(jobs: readonly RunJob[], opts: RunPoolOptions): Promise<MetricsResult[]> {
  const results: MetricsResult[] = []
  for (const [index, job] of jobs.entries()) {
    opts.onStart?.(index, job)
    try {
      results.push(runJob(job))
    } catch (e) {
      return Promise.reject(new RunJobError(index, job, e instanceof Error ? `${e.name}: ${e.message}` : String(e)))
    }
    opts.onDone?.(index, results[index], index + 1, jobs.length)
  }
  return Promise.resolve(results)
}

/** Worker side: only when this file was forked by runPool. */
function isForkedWorker(): boolean {
  if (process.env[WORKER_ENV] !== '1' || !process.send || !process.argv[1]) return false
  return pathToFileURL(process.argv[1]).href === import.meta.url
}

if (isForkedWorker()) {
  process.on('disconnect', () => process.exit(0))
  process.on('message', (m: ToWorker) => {
    if (m?.type !== 'run') return
    let reply: FromWorker
    try {
      reply = { type: 'result', index: m.index, result: runJob(m.job) }
    } catch (e) {
      const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      reply = { type: 'error', index: m.index, error: err }
    }
    process.send!(reply)
  })
}
