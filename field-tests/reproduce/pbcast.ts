/**
 * `npm run reproduce -- pbcast`: the must-show of bimodal multicast (PROTOCOLS.md §5), two checks
 * on pbcast groups built directly in this process (virtual time, no scenario runner):
 * 1. per-member load of a plain pbcast group as it grows (`--sizes`, default 50 … 2,000): one
 *    publisher at 10 msg/s for 20 s of virtual time at 1 % loss;
 * 2. the delivery histogram of one message whose origin crashes after its first dissemination,
 *    `--trials` (default 2,000) fresh 50-member groups at 30 % loss, against the analytic model
 *    (gossip/pbcast/analysis.ts) with the same parameters; plus, for contrast and not judged, the
 *    same at fanout 2 and gcRounds 10, where 9 rounds of pull at 30 % loss do not finish the epidemic.
 * Then writes pbcast.json (every number) and pbcast.html. Deterministic: nothing depends on the
 * clock except the wall-time fields; `--seeds` and `--jobs` do not apply (one fixed seed, one
 * process). Until it got its own name this was part of the gravitational reproduction; the
 * settings, seeds and bars are unchanged, so are the numbers.
 */
import { analysePbcast, type PbcastAnalysis } from './pbcast-analysis.ts'
import { crashTrials, scalingRun, type CrashParams, type ScalingRun } from './pbcast-experiments.ts'
import { renderPbcastReport } from './pbcast-report.ts'
import { writeReportFiles } from './report-files.ts'
import type { ReproduceOptions, ReproduceResult, Reproduction } from './reproduction.ts'

export const NAME = 'pbcast'
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

export interface PbcastOptions extends ReproduceOptions {
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
  scaling: number
  crash: number
}

/** Run both experiments and return the analysis (no files written). */
export async function runPbcast(o: PbcastOptions): Promise<{ analysis: PbcastAnalysis; wallSeconds: number; walls: Walls }> {
  const t0 = performance.now()
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`
  const sizes = o.sizes ?? SIZES
  const crash = o.crash ?? CRASH
  const contrast = o.crashContrast ?? CRASH_CONTRAST
  const trials = o.trials ?? TRIALS
  if (!(Number.isInteger(trials) && trials >= 1)) throw new RangeError(`--trials must be an integer >= 1, got ${trials}`)
  for (const n of sizes) if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`--sizes are group sizes >= 2, got ${n}`)

  o.log(`${NAME}: load at sizes ${sizes.join(', ')} and ${trials} crash trials × ${1 + contrast.length} settings in this process`)
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
    // The seed keeps its old `gravitational/` prefix so that the receivers, hence the numbers, do not change.
    const receivers = crashTrials(p, trials, `gravitational/crash/${p.n}/${p.loss}/${p.firstFanout}/${p.fanout}/${p.gcRounds}`)
    o.log(`  crash trials (${label}: n ${p.n}, loss ${p.loss}, firstFanout ${p.firstFanout}, fanout ${p.fanout}, gcRounds ${p.gcRounds}): ${trials} in ${((performance.now() - t) / 1000).toFixed(1)} s, elapsed ${elapsed()}`)
    return { params: p, receivers }
  }
  const judged = runTrials(crash, 'judged')
  const extra = contrast.map((p) => runTrials(p, 'contrast'))
  const tCrash = performance.now()
  const analysis = analysePbcast({ scaling, crash: judged, crashContrast: extra })
  const s = (a: number, b: number) => Math.round((b - a)) / 1000
  return { analysis, wallSeconds: (performance.now() - t0) / 1000, walls: { scaling: s(t0, tScaling), crash: s(tScaling, tCrash) } }
}

export function command(o: PbcastOptions): string {
  const parts = ['npm run reproduce --', NAME]
  if (o.sizes) parts.push(`--sizes ${o.sizes.join(',')}`)
  if (o.trials !== undefined) parts.push(`--trials ${o.trials}`)
  return parts.join(' ')
}

/** The one-line verdict (printed by the command and kept in the JSON's meta). */
export function verdictLine(a: PbcastAnalysis): string {
  const v = a.verdict
  return `${v.pass ? 'PASS' : 'FAIL'}: ${v.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FAIL'}`).join(', ')} ` +
    `(load spread ${(a.scaling.spread * 100).toFixed(1)} % over ${a.scaling.runs.map((r) => r.n).join('/')}; ` +
    `crash TV ${a.crash.tv.toFixed(3)}, middle ${(a.crash.bimodal.measured.middle * 100).toFixed(1)} %)`
}

export const pbcast: Reproduction = {
  name: NAME,
  description: 'bimodal multicast (pbcast): per-member load as the group grows, and the crashed-origin delivery histogram vs the analytic model',
  async run(o: PbcastOptions): Promise<ReproduceResult> {
    const { analysis, wallSeconds, walls } = await runPbcast(o)
    const cmd = command(o)
    const settings = { scaling: { ...SCALING, seconds: o.scalingSeconds ?? SCALING.seconds }, trials: o.trials ?? TRIALS }
    const v = analysis.verdict
    const verdict = verdictLine(analysis)
    const files = writeReportFiles(o.out, { name: NAME, verdict, pass: v.pass, command: cmd, wallSeconds },
      { reproduction: NAME, command: cmd, wallSeconds: Math.round(wallSeconds * 1000) / 1000, walls, settings, ...analysis },
      renderPbcastReport(analysis, { command: cmd, wallSeconds, walls, settings }))
    o.log(v.checks.map((c) => `  ${c.id}: ${c.pass ? 'pass' : 'FAIL'}: ${c.measured}`).join('\n'))
    return { files, pass: v.pass, verdict, wallSeconds }
  },
}
