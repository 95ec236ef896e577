/**
 * Parameter sweeps: run a scenario for every combination of varied fields × every seed, and
 * summarise each combination by median (and range) over seeds — the numbers papers report.
 * `runSweep` runs in this process; `runSweepJobs` can spread the runs over worker processes
 * (field-tests/run-pool.ts) with the same rows as a result.
 */
import { ConfigError } from '../core/errors.ts'
import { runScenario } from './runner.ts'
import type { MetricsResult } from './metrics-result.ts'
import { runPool } from './run-pool.ts'
import { parseScenario } from './scenario.ts'

export interface SweepAxis {
  /** Scenario field path, e.g. `mobility.maxSpeed`. */
  key: string
  /** Values as written on the command line (read as YAML, like --set). */
  values: string[]
}

export interface SweepSummary {
  /** Median, min and max over seeds. */
  pdr: { median: number; min: number; max: number }
  controlPerDelivered: { median: number; min: number; max: number } | null
  latencyP50Ms: number
  wallSeconds: number
}

export interface SweepRow {
  values: Record<string, string>
  runs: MetricsResult[]
  summary: SweepSummary
}

/** Parse `key=v1,v2,...`. */
export function parseAxis(spec: string): SweepAxis {
  const eq = spec.indexOf('=')
  if (eq <= 0 || eq === spec.length - 1) throw new ConfigError(spec, 'a sweep axis must look like key.path=v1,v2,...')
  return { key: spec.slice(0, eq), values: spec.slice(eq + 1).split(',').map((v) => v.trim()).filter(Boolean) }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function range(xs: number[]) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }
}

export function summarise(runs: readonly MetricsResult[]): SweepSummary {
  const cpd = runs.map((r) => r.overhead.perDelivered).filter((x): x is number => x !== null)
  return {
    pdr: range(runs.map((r) => r.delivery.ratio)),
    controlPerDelivered: cpd.length ? range(cpd) : null,
    latencyP50Ms: median(runs.map((r) => r.latencyMs.p50)),
    wallSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0),
  }
}

/** Every combination of the axes' values, in order (the last axis varies fastest). */
export function combinations(axes: readonly SweepAxis[]): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}]
  for (const a of axes) out = out.flatMap((c) => a.values.map((v) => ({ ...c, [a.key]: v })))
  return out
}

export interface SweepOptions {
  text: string
  file: string
  axes: SweepAxis[]
  seeds: number[]
  sets?: string[]
  /** Called before each run (for progress); with several jobs, when the run is handed to a worker. */
  onRun?: (i: number, total: number, values: Record<string, string>, seed: number) => void
  /** Worker processes for `runSweepJobs` (1 = in this process, like `runSweep`). */
  jobs?: number
}

function overrides(o: SweepOptions, values: Record<string, string>): string[] {
  return [...(o.sets ?? []), ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]
}

/** Validates every combination before running any, so a typo fails at once, not an hour in. */
export function runSweep(o: SweepOptions): SweepRow[] {
  const combos = combinations(o.axes)
  const scenarios = combos.map((c) => parseScenario(o.text, overrides(o, c), o.file))
  const total = combos.length * o.seeds.length
  let i = 0
  return combos.map((values, ci) => {
    const runs = o.seeds.map((seed) => {
      o.onRun?.(i++, total, values, seed)
      return runScenario(scenarios[ci], { seed })
    })
    return { values, runs, summary: summarise(runs) }
  })
}

/**
 * `runSweep` on `o.jobs` worker processes (default 1: runPool runs them in this process). Every
 * combination is still validated here before anything runs; rows and runs come back in the same
 * order as `runSweep`'s.
 */
export async function runSweepJobs(o: SweepOptions): Promise<SweepRow[]> {
  const combos = combinations(o.axes)
  for (const c of combos) parseScenario(o.text, overrides(o, c), o.file)
  const cells = combos.flatMap((values) => o.seeds.map((seed) => ({ values, seed })))
  const results = await runPool(
    cells.map(({ values, seed }) => ({ file: o.file, text: o.text, sets: overrides(o, values), seed })),
    { workers: o.jobs ?? 1, onStart: (i) => o.onRun?.(i, cells.length, cells[i].values, cells[i].seed) },
  )
  return combos.map((values, ci) => {
    const runs = results.slice(ci * o.seeds.length, (ci + 1) * o.seeds.length)
    return { values, runs, summary: summarise(runs) }
  })
}
