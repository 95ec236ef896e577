import { writeFileSync } from 'node:fs'
import { ConfigError } from '../core/errors.ts'
import { readScenarioText } from '../field-tests/scenario.ts'
import { parseAxis, runSweepJobs, type SweepRow } from '../field-tests/sweep.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

const pct = (x: number) => (x * 100).toFixed(1)

export function formatSweep(rows: SweepRow[]): string {
  const keys = Object.keys(rows[0]?.values ?? {})
  const header = [...keys, 'runs', 'PDR % median [min-max]', 'control/delivered median [min-max]', 'latency p50 ms', 'wall s']
  const body = rows.map((r) => {
    const s = r.summary
    const c = s.controlPerDelivered
    return [
      ...keys.map((k) => r.values[k]),
      String(r.runs.length),
      `${pct(s.pdr.median)} [${pct(s.pdr.min)}-${pct(s.pdr.max)}]`,
      c ? `${c.median.toFixed(2)} [${c.min.toFixed(2)}-${c.max.toFixed(2)}]` : '-',
      s.latencyP50Ms.toFixed(1),
      s.wallSeconds.toFixed(1),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...body.map(line)].join('\n')
}

export async function sweepCommand(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommandArgs(argv, {
    vary: { type: 'string', multiple: true },
    seeds: { type: 'string' },
    'seed-base': { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'string' },
    jobs: { type: 'string' },
    quiet: { type: 'boolean' },
  })
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw new UsageError('sweep needs one scenario file, e.g. spinmesh sweep field-tests/scenarios/manet-unicast.yaml --vary mobility.maxSpeed=1,5,10,20 --seeds 5')
  const int = (name: string, v: string | undefined, dflt: number, min: number) => {
    if (v === undefined) return dflt
    if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`)
    return Number(v)
  }
  const n = int('seeds', values.seeds, 3, 1)
  const base = int('seed-base', values['seed-base'], 1, 0)
  const jobs = int('jobs', values.jobs, 1, 1)
  const seeds = Array.from({ length: n }, (_, i) => base + i)
  let axes
  try {
    axes = (values.vary ?? []).map(parseAxis)
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--vary ${e.message}`)
    throw e
  }
  const file = positionals[0]
  const text = readScenarioText(file)
  const rows = await runSweepJobs({
    text,
    file,
    axes,
    seeds,
    jobs,
    sets: values.set ?? [],
    onRun: values.quiet || !io.tty ? undefined : (i, total, v, seed) =>
      io.err(`\rrun ${i + 1}/${total}: ${Object.entries(v).map(([k, x]) => `${k}=${x}`).join(' ')} seed ${seed}        `),
  })
  if (!values.quiet && io.tty) io.err('\n')
  if (values.json) {
    const json = JSON.stringify({ scenario: file, seeds, axes, rows }, null, 2) + '\n'
    if (values.json === '-') io.out(json)
    else writeFileSync(values.json, json)
  }
  if (!values.quiet && values.json !== '-') io.out(formatSweep(rows) + '\n')
  return 0
}
