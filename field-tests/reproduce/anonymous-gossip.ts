/**
 * `npm run reproduce -- anonymous-gossip`: issue 4's must-show. Runs manet-multicast for MAODV and
 * MAODV + anonymous gossip × max speed 1, 5, 10, 20 m/s × seeds 1..N (the same seeds for both),
 * on a pool of worker processes, then writes anonymous-gossip.json (every run's key numbers, the
 * per (protocol, speed) summaries and the verdict) and anonymous-gossip.html (charts and tables).
 * Nothing in either file depends on the clock except the wall-time fields.
 */
import type { MetricsResult } from '../metrics-result.ts'
import { runPool, type RunJob } from '../run-pool.ts'
import { parseScenario, readScenarioText } from '../scenario.ts'
import { analyse, armsFor, keyNumbers, type Analysis, type RunKeys } from './anonymous-gossip-analysis.ts'
import { renderReport } from './anonymous-gossip-report.ts'
import { writeReportFiles } from './report-files.ts'
import type { ReproduceOptions, ReproduceResult, Reproduction } from './reproduction.ts'

export const NAME = 'anonymous-gossip'
export const SCENARIO = 'field-tests/scenarios/manet-multicast.yaml'
export const PROTOCOLS = ['maodv', 'maodv+ag']
export const SPEEDS = [1, 5, 10, 20]

export interface AnonymousGossipOptions extends ReproduceOptions {
  /** Scenario file (default manet-multicast) and optionally its text (tests pass a small one). */
  scenario?: string
  text?: string
  speeds?: number[]
  /** Extra overrides for every run (e.g. a shorter duration). */
  sets?: string[]
}

interface Planned {
  job: RunJob
  label: string
  speed: number
}

function plan(o: AnonymousGossipOptions, file: string, text: string): { arms: ReturnType<typeof armsFor>; speeds: number[]; seeds: number[]; planned: Planned[] } {
  const arms = armsFor(o.protocols ?? PROTOCOLS)
  if (arms.length !== 2) throw new RangeError(`--protocols needs exactly two protocols, baseline then candidate (e.g. maodv,maodv+ag), got ${arms.length}`)
  const speeds = o.speeds ?? SPEEDS
  const seeds = Array.from({ length: o.seeds }, (_, i) => i + 1)
  const planned: Planned[] = []
  for (const speed of speeds) {
    for (const arm of arms) {
      const sets = [`security.mode=${o.security ?? 'open'}`, ...(o.sets ?? []), `protocol=${arm.protocol}`, `mobility.maxSpeed=${speed}`]
      // Fail at once on an unknown protocol or a bad field, not after an hour of runs.
      parseScenario(text, sets, file)
      for (const seed of seeds) planned.push({ job: { file, text, sets, seed }, label: arm.label, speed })
    }
  }
  return { arms, speeds, seeds, planned }
}

/** Run everything and return the analysis (no files written). */
export async function runAnonymousGossip(o: AnonymousGossipOptions): Promise<{ analysis: Analysis; wallSeconds: number }> {
  const t0 = performance.now()
  const file = o.scenario ?? SCENARIO
  const text = o.text ?? readScenarioText(file)
  const { arms, speeds, seeds, planned } = plan(o, file, text)
  const total = planned.length
  const keys: RunKeys[] = new Array(total)
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`
  const onDone = (i: number, r: MetricsResult, done: number) => {
    const p = planned[i]
    keys[i] = keyNumbers(r, p.label, p.speed)
    o.log(`[${String(done).padStart(String(total).length)}/${total}] ${p.label} speed ${p.speed} seed ${r.seed}: ` +
      `PDR ${(r.delivery.ratio * 100).toFixed(2)} %, run ${r.wallSeconds.toFixed(1)} s, elapsed ${elapsed()}`)
  }
  o.log(`${NAME}: ${total} runs (${arms.map((a) => a.protocol).join(', ')} × speeds ${speeds.join(', ')} × seeds 1..${seeds.length}) on ${Math.min(o.jobs, total)} worker${o.jobs === 1 ? '' : 's'}`)
  await runPool(planned.map((p) => p.job), { workers: o.jobs, onDone: (i, r, done) => onDone(i, r, done) })
  const analysis = analyse(arms, speeds, seeds, keys)
  return { analysis, wallSeconds: (performance.now() - t0) / 1000 }
}

function command(o: AnonymousGossipOptions): string {
  const parts = ['npm run reproduce --', NAME, `--seeds ${o.seeds}`]
  if (o.protocols) parts.push(`--protocols ${o.protocols.join(',')}`)
  if (o.security) parts.push(`--security ${o.security}`)
  return parts.join(' ')
}

export const anonymousGossip: Reproduction = {
  name: NAME,
  description: 'MAODV vs MAODV + anonymous gossip on manet-multicast across speeds: loss, per-member delivery, overhead, jitter (issue 4)',
  async run(o: AnonymousGossipOptions): Promise<ReproduceResult> {
    const { analysis, wallSeconds } = await runAnonymousGossip(o)
    const scenario = o.scenario ?? SCENARIO
    const sets = [`security.mode=${o.security ?? 'open'}`, ...(o.sets ?? [])]
    const v = analysis.verdict
    const verdict = `${v.pass ? 'PASS' : 'FAIL'}: ${v.candidate} vs ${v.baseline}: passes at ${v.bySpeed.filter((r) => r.pass).length} of ${v.bySpeed.length} speeds, ` +
      `1/100 goal at ${v.bySpeed.filter((r) => r.goal100).length}, member stdev lower at ${v.bySpeed.filter((r) => r.stdevLower).length}`
    const json = {
      reproduction: NAME,
      scenario,
      sets,
      axis: 'mobility.maxSpeed',
      command: command(o),
      jobs: o.jobs,
      wallSeconds: Math.round(wallSeconds * 1000) / 1000,
      ...analysis,
    }
    const files = writeReportFiles(o.out, { name: NAME, verdict, pass: v.pass, command: command(o), wallSeconds }, json,
      renderReport(analysis, { scenario, command: command(o), sets, wallSeconds, jobs: Math.min(o.jobs, analysis.runs.length) }))
    const lines = v.bySpeed.map((r) => `  speed ${r.speed}: ${v.baseline} loss ${(r.baselineLoss * 100).toFixed(3)} %, ${v.candidate} ${(r.candidateLoss * 100).toFixed(3)} %` +
      `${r.ratio === null ? '' : ` (ratio ${r.ratio.toFixed(4)})`} ${r.pass ? 'pass' : 'FAIL'}${r.goal100 ? ', 1/100 goal met' : ''}${r.stdevLower ? ', member stdev lower' : ''}`)
    o.log(lines.join('\n'))
    return { files, pass: v.pass, verdict, wallSeconds }
  },
}
