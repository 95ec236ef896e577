/**
 * `npm run reproduce -- gravitational`: the must-show of gravitational gossip (PROTOCOLS.md §6),
 * two checks on the grid-feeds scenario (300 gateways, 20 PMU feeds, protocol gravitational) ×
 * seeds 1..N (`--seeds`, default 3), on the run pool (`--jobs`):
 * 1. share vs rating and 2. load vs rating (and multi-feed members' load against the sum of their
 *    per-feed loads). Each run lasts `--duration` s (default 30, traffic stopping 1 s before the
 *    end: a 60-s run, the scenario's own, takes about a minute of wall time on one core, and 30 s
 *    give ~900 samples per feed, so a rating-0.1 subscriber's share is still measured over ~90
 *    samples).
 * Then writes gravitational.json (every number) and gravitational.html. Deterministic: nothing
 * depends on the worker count or the clock except the wall-time fields. The bimodal multicast
 * checks (load as the group grows, bimodal delivery) are `npm run reproduce -- pbcast` (pbcast.ts).
 */
import { runPool, type RunJob } from '../run-pool.ts'
import { parseScenario, readScenarioText } from '../scenario.ts'
import { analyse, memberRows, type Analysis, type MemberRow } from './gravitational-analysis.ts'
import { renderReport } from './gravitational-report.ts'
import { writeReportFiles } from './report-files.ts'
import type { ReproduceOptions, ReproduceResult, Reproduction } from './reproduction.ts'

export const NAME = 'gravitational'
export const SCENARIO = 'field-tests/scenarios/grid-feeds.yaml'
/** Seeds when --seeds is not given (the other reproductions' default, 5, would take ~2.5 min more). */
export const DEFAULT_SEEDS = 3
/** grid-feeds run length, s (the scenario's own is 60). */
export const DEFAULT_DURATION = 30

export interface GravitationalOptions extends ReproduceOptions {
  /** Set by the command when --seeds was not given: then DEFAULT_SEEDS seeds, not `seeds`. */
  seedsDefaulted?: boolean
  /** Scenario file (default grid-feeds) and optionally its text (tests pass a small one). */
  scenario?: string
  text?: string
  /** grid-feeds run length, s (default 30); traffic.0.stop is set 1 s before it. */
  duration?: number
  /** Extra overrides for every grid-feeds run. */
  sets?: string[]
}

const seedList = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

export function seedsOf(o: GravitationalOptions): number {
  return o.seedsDefaulted ? DEFAULT_SEEDS : o.seeds
}

/** The overrides of every grid-feeds run (before the seed). */
export function gridSets(o: GravitationalOptions): string[] {
  const d = o.duration ?? DEFAULT_DURATION
  if (!(Number.isInteger(d) && d >= 3)) throw new RangeError(`--duration must be an integer number of seconds >= 3, got ${d}`)
  return [`security.mode=${o.security ?? 'open'}`, `duration=${d}`, `traffic.0.stop=${d - 1}`, ...(o.sets ?? [])]
}

/** The grid-feeds jobs, one per seed; the scenario is parsed once so a bad override fails at once. */
export function plan(o: GravitationalOptions, file: string, text: string): RunJob[] {
  const sets = gridSets(o)
  const s = parseScenario(text, sets, file)
  if (s.protocol !== 'gravitational') throw new RangeError(`${file}: the gravitational reproduction needs protocol gravitational, got ${s.protocol}`)
  return seedList(seedsOf(o)).map((seed) => ({ file, text, sets, seed }))
}

/** Run everything and return the analysis (no files written). */
export async function runGravitational(o: GravitationalOptions): Promise<{ analysis: Analysis; wallSeconds: number }> {
  const t0 = performance.now()
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`
  const file = o.scenario ?? SCENARIO
  const text = o.text ?? readScenarioText(file)
  const jobs = plan(o, file, text)
  o.log(`${NAME}: ${jobs.length} ${file} runs (seeds 1..${jobs.length}, ${jobs[0].sets!.join(' ')}) on ${Math.min(o.jobs, jobs.length)} worker${o.jobs === 1 ? '' : 's'}`)
  const rows: MemberRow[][] = new Array(jobs.length)
  await runPool(jobs, { workers: o.jobs, onDone: (i, r, done) => {
    rows[i] = memberRows(r, jobs[i].seed)
    o.log(`[${done}/${jobs.length}] grid-feeds seed ${r.seed}: ${rows[i].length} (member, feed) rows, PDR ${(r.delivery.ratio * 100).toFixed(2)} %, run ${r.wallSeconds.toFixed(1)} s, elapsed ${elapsed()}`)
  } })
  const analysis = analyse({ seeds: jobs.map((j) => j.seed!), rows: rows.flat() })
  return { analysis, wallSeconds: (performance.now() - t0) / 1000 }
}

export function command(o: GravitationalOptions): string {
  const parts = ['npm run reproduce --', NAME]
  if (!o.seedsDefaulted) parts.push(`--seeds ${o.seeds}`)
  if (o.duration !== undefined) parts.push(`--duration ${o.duration}`)
  if (o.security) parts.push(`--security ${o.security}`)
  return parts.join(' ')
}

/** The one-line verdict (printed by the command and kept in the JSON's meta). */
export function verdictLine(a: Analysis): string {
  const v = a.verdict
  return `${v.pass ? 'PASS' : 'FAIL'}: ${v.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')} ` +
    `(max |share − rating| ${a.share.maxAbsDev.toFixed(4)}; load R² ${a.load.fit.r2.toFixed(3)}, multi-feed median error ${(a.multiFeed.check.medianRelError * 100).toFixed(1)} %, ` +
    `measured / k·full ${a.multiFeed.check.medianFullRatio.toFixed(2)})`
}

export const gravitational: Reproduction = {
  name: NAME,
  description: 'gravitational gossip on grid-feeds: share and load vs rating, and the load of members in several feeds',
  async run(o: GravitationalOptions): Promise<ReproduceResult> {
    const { analysis, wallSeconds } = await runGravitational(o)
    const scenario = o.scenario ?? SCENARIO
    const sets = gridSets(o)
    const ctx = { scenario, command: command(o), sets, wallSeconds, jobs: Math.min(o.jobs, analysis.seeds.length) }
    const settings = { duration: o.duration ?? DEFAULT_DURATION }
    const v = analysis.verdict
    const verdict = verdictLine(analysis)
    const files = writeReportFiles(o.out, { name: NAME, verdict, pass: v.pass, command: ctx.command, wallSeconds },
      { reproduction: NAME, scenario, sets, command: ctx.command, jobs: o.jobs, wallSeconds: Math.round(wallSeconds * 1000) / 1000, settings, ...analysis },
      renderReport(analysis, { ...ctx, settings }))
    o.log(v.checks.map((c) => `  ${c.id}: ${c.pass ? 'pass' : 'FAIL'}: ${c.measured}`).join('\n'))
    return { files, pass: v.pass, verdict, wallSeconds }
  },
}
