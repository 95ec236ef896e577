/**
 * `npm run reproduce -- gravitational`: the must-show of bimodal multicast and gravitational
 * gossip (PROTOCOLS.md §5–6), four checks:
 * 1. share vs rating and 2. load vs rating: the grid-feeds scenario (300 gateways, 20 PMU feeds,
 *    protocol gravitational) × seeds 1..N (`--seeds`, default 3), on the run pool (`--jobs`); each
 *    run lasts `--duration` s (default 30, traffic stopping 1 s before the end: a 60-s run, the
 *    scenario's own, takes about a minute of wall time on one core, and 30 s give ~900 samples per
 *    feed, so a rating-0.1 subscriber's share is still measured over ~90 samples);
 * 3. per-member load of a plain pbcast group as it grows (`--sizes`, default 50 … 2,000), in this
 *    process: one publisher at 10 msg/s for 20 s of virtual time at 1 % loss;
 * 4. the delivery histogram of one message whose origin crashes after its first dissemination,
 *    `--trials` (default 2,000) fresh 50-member groups at 30 % loss, against the analytic model
 *    (gossip/pbcast/analysis.ts) with the same parameters; plus, for contrast and not judged, the
 *    same at fanout 2 and gcRounds 10, where 9 rounds of pull at 30 % loss do not finish the epidemic.
 * Then writes gravitational.json (every number) and gravitational.html. Deterministic: nothing
 * depends on the worker count or the clock except the wall-time fields.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runPool, type RunJob } from '../run-pool.ts'
import { parseScenario, readScenarioText } from '../scenario.ts'
import { analyse, memberRows, type Analysis, type MemberRow } from './gravitational-analysis.ts'
import { crashTrials, scalingRun, type CrashParams, type ScalingRun } from './gravitational-pbcast.ts'
import { renderReport } from './gravitational-report.ts'
import type { ReproduceOptions, ReproduceResult, Reproduction } from './reproduction.ts'

export const NAME = 'gravitational'
export const SCENARIO = 'field-tests/scenarios/grid-feeds.yaml'
/** Seeds when --seeds is not given (the other reproductions' default, 5, would take ~2.5 min more). */
export const DEFAULT_SEEDS = 3
/** grid-feeds run length, s (the scenario's own is 60). */
export const DEFAULT_DURATION = 30
export const SIZES = [50, 100, 200, 500, 1000, 2000]
/** The scaling experiment: one publisher, `rate` msg/s of `size`-byte bodies for `seconds`, 1 % loss, PlainAudience defaults (fanout 3, view 30), 3 first copies. */
export const SCALING = { rate: 10, seconds: 20, loss: 0.01, firstFanout: 3, size: 64 } as const
export const TRIALS = 2000
/**
 * The crash experiment: n = 50, loss 0.3, one first copy, fanout 3, gcRounds 15 (14 rounds of
 * gossip). Chosen with the model so that both modes show: the first copy is lost in 30 % of the
 * trials (nobody gets it) and otherwise the epidemic, pull only, finishes. The first setting tried,
 * fanout 2 and gcRounds 10, leaves most trials half-way (model and protocol agree): not bimodal.
 */
export const CRASH: CrashParams = { n: 50, loss: 0.3, firstFanout: 1, fanout: 3, gcRounds: 15 }
/** Shown for contrast, not judged: the first setting tried (fanout 2, gcRounds 10); most trials end half-way when GC stops gossip. */
export const CRASH_CONTRAST: CrashParams[] = [{ n: 50, loss: 0.3, firstFanout: 1, fanout: 2, gcRounds: 10 }]

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
  /** Group sizes of the scaling experiment (default SIZES). */
  sizes?: number[]
  /** Publishing time of the scaling experiment, virtual s (default 20). */
  scalingSeconds?: number
  /** Crash trials (default 2,000). */
  trials?: number
  /** Crash-experiment settings (default CRASH) and the contrast settings (default CRASH_CONTRAST; [] for none). */
  crash?: CrashParams
  crashContrast?: CrashParams[]
}

export interface Walls {
  grid: number
  scaling: number
  crash: number
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
export async function runGravitational(o: GravitationalOptions): Promise<{ analysis: Analysis; wallSeconds: number; walls: Walls }> {
  const t0 = performance.now()
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`
  const file = o.scenario ?? SCENARIO
  const text = o.text ?? readScenarioText(file)
  const jobs = plan(o, file, text)
  const sizes = o.sizes ?? SIZES
  const crash = o.crash ?? CRASH
  const contrast = o.crashContrast ?? CRASH_CONTRAST
  const trials = o.trials ?? TRIALS
  if (!(Number.isInteger(trials) && trials >= 1)) throw new RangeError(`--trials must be an integer >= 1, got ${trials}`)
  for (const n of sizes) if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`--sizes are group sizes >= 2, got ${n}`)

  o.log(`${NAME}: ${jobs.length} ${file} runs (seeds 1..${jobs.length}, ${jobs[0].sets!.join(' ')}) on ${Math.min(o.jobs, jobs.length)} worker${o.jobs === 1 ? '' : 's'}; ` +
    `then pbcast load at sizes ${sizes.join(', ')} and ${trials} crash trials × ${1 + contrast.length} settings in this process`)
  const rows: MemberRow[][] = new Array(jobs.length)
  await runPool(jobs, { workers: o.jobs, onDone: (i, r, done) => {
    rows[i] = memberRows(r, jobs[i].seed)
    o.log(`[${done}/${jobs.length}] grid-feeds seed ${r.seed}: ${rows[i].length} (member, feed) rows, PDR ${(r.delivery.ratio * 100).toFixed(2)} %, run ${r.wallSeconds.toFixed(1)} s, elapsed ${elapsed()}`)
  } })
  const tGrid = performance.now()

  const scaling: ScalingRun[] = []
  for (const n of sizes) {
    const r = scalingRun({ n, ...SCALING, seconds: o.scalingSeconds ?? SCALING.seconds, seed: '1' })
    scaling.push(r)
    o.log(`  pbcast n = ${n}: ${r.perRound.mean.toFixed(2)} datagrams per member per round [${r.perRound.min}–${r.perRound.max}], publisher ${r.publisherPerRound}, ` +
      `delivery ${(r.deliveryRatio * 100).toFixed(2)} %, run ${r.wallSeconds.toFixed(1)} s, elapsed ${elapsed()}`)
  }
  const tScaling = performance.now()

  const runTrials = (p: CrashParams, label: string) => {
    const t = performance.now()
    const receivers = crashTrials(p, trials, `gravitational/crash/${p.n}/${p.loss}/${p.firstFanout}/${p.fanout}/${p.gcRounds}`)
    o.log(`  crash trials (${label}: n ${p.n}, loss ${p.loss}, firstFanout ${p.firstFanout}, fanout ${p.fanout}, gcRounds ${p.gcRounds}): ${trials} in ${((performance.now() - t) / 1000).toFixed(1)} s, elapsed ${elapsed()}`)
    return { params: p, receivers }
  }
  const main = runTrials(crash, 'judged')
  const extra = contrast.map((p) => runTrials(p, 'contrast'))
  const tCrash = performance.now()
  const analysis = analyse({ seeds: jobs.map((j) => j.seed!), rows: rows.flat(), scaling, crash: main, crashContrast: extra })
  const s = (a: number, b: number) => Math.round((b - a)) / 1000
  return { analysis, wallSeconds: (performance.now() - t0) / 1000, walls: { grid: s(t0, tGrid), scaling: s(tGrid, tScaling), crash: s(tScaling, tCrash) } }
}

export function command(o: GravitationalOptions): string {
  const parts = ['npm run reproduce --', NAME]
  if (!o.seedsDefaulted) parts.push(`--seeds ${o.seeds}`)
  if (o.duration !== undefined) parts.push(`--duration ${o.duration}`)
  if (o.sizes) parts.push(`--sizes ${o.sizes.join(',')}`)
  if (o.trials !== undefined) parts.push(`--trials ${o.trials}`)
  if (o.security) parts.push(`--security ${o.security}`)
  return parts.join(' ')
}

export const gravitational: Reproduction = {
  name: NAME,
  description: 'gravitational gossip on grid-feeds (share and load vs rating) and pbcast (load as the group grows, bimodal delivery vs the model)',
  async run(o: GravitationalOptions): Promise<ReproduceResult> {
    const { analysis, wallSeconds, walls } = await runGravitational(o)
    mkdirSync(o.out, { recursive: true })
    const jsonFile = join(o.out, `${NAME}.json`)
    const htmlFile = join(o.out, `${NAME}.html`)
    const scenario = o.scenario ?? SCENARIO
    const sets = gridSets(o)
    const ctx = { scenario, command: command(o), sets, wallSeconds, jobs: Math.min(o.jobs, analysis.seeds.length) }
    const settings = { duration: o.duration ?? DEFAULT_DURATION, scaling: { ...SCALING, seconds: o.scalingSeconds ?? SCALING.seconds }, trials: o.trials ?? TRIALS }
    writeFileSync(jsonFile, JSON.stringify({ reproduction: NAME, scenario, sets, command: ctx.command, jobs: o.jobs, wallSeconds: Math.round(wallSeconds * 1000) / 1000, walls, settings, ...analysis }, null, 2) + '\n')
    writeFileSync(htmlFile, renderReport(analysis, { ...ctx, walls, settings }))
    const v = analysis.verdict
    o.log(v.checks.map((c) => `  ${c.id}: ${c.pass ? 'pass' : 'FAIL'}: ${c.measured}`).join('\n'))
    return {
      files: [jsonFile, htmlFile],
      pass: v.pass,
      verdict: `${v.pass ? 'PASS' : 'FAIL'}: ${v.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')} ` +
        `(max |share − rating| ${analysis.share.maxAbsDev.toFixed(4)}; load R² ${analysis.load.fit.r2.toFixed(3)}, multi-feed median error ${(analysis.multiFeed.check.medianRelError * 100).toFixed(1)} %, ` +
        `measured / k·full ${analysis.multiFeed.check.medianFullRatio.toFixed(2)}; load spread ${(analysis.scaling.spread * 100).toFixed(1)} % over ${analysis.scaling.runs.map((r) => r.n).join('/')}; ` +
        `crash TV ${analysis.crash.tv.toFixed(3)}, middle ${(analysis.crash.bimodal.measured.middle * 100).toFixed(1)} %)`,
      wallSeconds,
    }
  },
}
