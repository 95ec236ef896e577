/**
 * `npm run reproduce -- odsbr`: issue 6's must-show. Runs the `byzantine` scenario (50 nodes,
 * 1–5 m/s, authenticated) for AODV and ODSBR:
 * - black holes at 0, 10, 20, 30, 40 % × seeds 1..N (`--seeds`, default 5): the verdict;
 * - every other adversary model at `--model-fractions` (default 20 and 40 %) × seeds
 *   1..`--model-seeds` (default 2), sharing the adversary-free runs as their 0 point;
 * then writes odsbr.json (every run's key numbers, the summaries, the verdict) and odsbr.html.
 *
 * Runs are instrumented (field-tests/odsbr-metrics.ts `instrumentOdsbr`: convictions as they
 * happen, frames by kind, the route of every packet) through run-pool.ts jobs with
 * `instrument: 'odsbr'`. Deterministic: nothing depends on the worker count or the clock except
 * the wall-time fields.
 */
import { runPool, type RunJob } from '../run-pool.ts'
import { parseScenario, readScenarioText } from '../scenario.ts'
import { NO_ADVERSARY, VERDICT_MODEL, analyse, keyNumbers, type Analysis, type RunKeys } from './odsbr-analysis.ts'
import { renderReport } from './odsbr-report.ts'
import { writeReportFiles } from './report-files.ts'
import type { ReproduceOptions, ReproduceResult, Reproduction } from './reproduction.ts'

export const NAME = 'odsbr'
export const SCENARIO = 'field-tests/scenarios/byzantine.yaml'
export const PROTOCOLS = ['aodv', 'odsbr']
export const BLACKHOLE_FRACTIONS = [0.1, 0.2, 0.3, 0.4]
export const OTHER_MODELS = ['greyhole', 'flood-rushing', 'wormhole', 'overlay-wormhole', 'modification', 'forged-replies']
export const MODEL_FRACTIONS = [0.2, 0.4]
export const MODEL_SEEDS = 2

export interface OdsbrReproOptions extends ReproduceOptions {
  /** Scenario file (default byzantine) and optionally its text (tests pass a small one). */
  scenario?: string
  text?: string
  /** Extra overrides for every run (e.g. a shorter duration). */
  sets?: string[]
  /** Black-hole fractions above 0 (default 0.1–0.4); the verdict's grid, with seeds 1..`seeds`. */
  fractions?: number[]
  /** Other adversary models (default every one; [] for none). */
  models?: string[]
  modelFractions?: number[]
  modelSeeds?: number
}

export interface Planned {
  job: RunJob
  model: string
  fraction: number
}

const seedList = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** Every run: the adversary-free runs (model `none`), the black-hole grid, the other models; each for both protocols. */
export function plan(o: OdsbrReproOptions, file: string, text: string): Planned[] {
  if (o.security === 'open') throw new RangeError('odsbr runs in authenticated networks only: drop --security open (both protocols run authenticated)')
  const protocols = o.protocols ?? PROTOCOLS
  if (protocols.length !== 2) throw new RangeError(`--protocols needs two protocols, baseline then ODSBR (e.g. aodv,odsbr), got ${protocols.length}`)
  const grid: Array<{ model: string; fraction: number; seeds: number[] }> = [
    { model: NO_ADVERSARY, fraction: 0, seeds: seedList(o.seeds) },
    ...(o.fractions ?? BLACKHOLE_FRACTIONS).map((fraction) => ({ model: VERDICT_MODEL, fraction, seeds: seedList(o.seeds) })),
  ]
  const modelSeeds = seedList(Math.min(o.modelSeeds ?? MODEL_SEEDS, o.seeds))
  for (const model of o.models ?? OTHER_MODELS) for (const fraction of o.modelFractions ?? MODEL_FRACTIONS) grid.push({ model, fraction, seeds: modelSeeds })
  const planned: Planned[] = []
  for (const g of grid) {
    if (!(g.fraction >= 0 && g.fraction < 1)) throw new RangeError(`adversary fractions are in [0, 1), got ${g.fraction}`)
    for (const protocol of protocols) {
      const model = g.model === NO_ADVERSARY ? VERDICT_MODEL : g.model
      const sets = ['security.mode=authenticated', ...(o.sets ?? []), `protocol=${protocol}`, 'adversaries.0.fraction=' + g.fraction, `adversaries.0.model=${model}`]
      // Fail at once on an unknown protocol, model or field, not after ten minutes of runs.
      parseScenario(text, sets, file)
      for (const seed of g.seeds) planned.push({ job: { file, text, sets, seed }, model: g.model, fraction: g.fraction })
    }
  }
  return planned
}

/** Run everything and return the analysis (no files written). */
export async function runOdsbrReproduction(o: OdsbrReproOptions): Promise<{ analysis: Analysis; wallSeconds: number }> {
  const t0 = performance.now()
  const file = o.scenario ?? SCENARIO
  const text = o.text ?? readScenarioText(file)
  const planned = plan(o, file, text)
  const total = planned.length
  const keys: RunKeys[] = new Array(total)
  const w = String(total).length
  o.log(`${NAME}: ${total} runs (${(o.protocols ?? PROTOCOLS).join(', ')}; black holes ${[0, ...(o.fractions ?? BLACKHOLE_FRACTIONS)].join(', ')} × seeds 1..${o.seeds}; ` +
    `${(o.models ?? OTHER_MODELS).join(', ') || 'no other model'} at ${(o.modelFractions ?? MODEL_FRACTIONS).join(', ')} × seeds 1..${Math.min(o.modelSeeds ?? MODEL_SEEDS, o.seeds)}) on ${Math.min(o.jobs, total)} worker${o.jobs === 1 ? '' : 's'}`)
  await runPool(planned.map((p) => ({ ...p.job, instrument: 'odsbr' as const })), { workers: o.jobs, onDone: (i, r, done) => {
    const p = planned[i]
    keys[i] = keyNumbers(r, p.model, p.fraction)
    o.log(`[${String(done).padStart(w)}/${total}] ${r.protocol} ${p.model} ${p.fraction * 100} % seed ${r.seed}: PDR ${(r.delivery.ratio * 100).toFixed(2)} %, ` +
      `run ${r.wallSeconds.toFixed(1)} s, elapsed ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  } })
  return { analysis: analyse(o.protocols ?? PROTOCOLS, keys), wallSeconds: (performance.now() - t0) / 1000 }
}

export function command(o: OdsbrReproOptions): string {
  const parts = ['npm run reproduce --', NAME, `--seeds ${o.seeds}`]
  if (o.models) parts.push(`--models ${o.models.join(',') || 'none'}`)
  if (o.modelFractions) parts.push(`--model-fractions ${o.modelFractions.join(',')}`)
  if (o.modelSeeds !== undefined) parts.push(`--model-seeds ${o.modelSeeds}`)
  if (o.protocols) parts.push(`--protocols ${o.protocols.join(',')}`)
  return parts.join(' ')
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`

export const odsbr: Reproduction = {
  name: NAME,
  description: 'AODV vs ODSBR on byzantine with 0–40 % adversaries of each model: PDR, overhead, convictions, time to route around (issue 6)',
  async run(o: OdsbrReproOptions): Promise<ReproduceResult> {
    const { analysis, wallSeconds } = await runOdsbrReproduction(o)
    const scenario = o.scenario ?? SCENARIO
    const sets = ['security.mode=authenticated', ...(o.sets ?? [])]
    const ctx = { scenario, command: command(o), sets, wallSeconds, jobs: Math.min(o.jobs, analysis.runs.length) }
    const v = analysis.verdict
    const [base, cand] = analysis.protocols
    const free = v.adversaryFree
    const verdict = `${v.pass ? 'PASS' : 'FAIL'}: ${cand} keeps ≥ ${v.bar} of its adversary-free PDR at ${v.rows.filter((r) => r.pass).length} of ${v.rows.length} black-hole fractions ` +
      `(ratios ${v.rows.map((r) => r.odsbrRatio?.toFixed(2) ?? '—').join('/')})` +
      (free?.convictions ? `; adversary-free (${free.runs} runs): ${free.convictions.detection.false} false convictions by fault detection, ${free.convictions.linkBreak.false} broken links weighed` : '')
    const files = writeReportFiles(o.out, { name: NAME, verdict, pass: v.pass, command: ctx.command, wallSeconds },
      { reproduction: NAME, scenario, sets, command: ctx.command, jobs: o.jobs, wallSeconds: Math.round(wallSeconds * 1000) / 1000, ...analysis },
      renderReport(analysis, ctx))
    o.log(v.rows.map((r) => `  black holes ${r.fraction * 100} %: ${base} PDR ${pct(r.aodvPdr)} (ratio ${r.aodvRatio?.toFixed(2) ?? '—'}), ${cand} ${pct(r.odsbrPdr)} ` +
      `(ratio ${r.odsbrRatio?.toFixed(2) ?? '—'}) ${r.pass ? 'pass' : 'FAIL'}`).join('\n'))
    return { files, pass: v.pass, verdict, wallSeconds }
  },
}
