/**
 * `spinmesh field-test SUBCOMMAND ...` (issue 10): field tests on real nodes. A dispatcher over
 * subcommands, one function each:
 *
 *   collect DIR... [--schedule FILE] [--out FILE] [--quiet]
 *       a live run's metrics JSON (docs/METRICS.md, `source: live`) from its nodes' event logs
 */
import { writeFileSync } from 'node:fs'
import { collectRun, findSchedule, loadSchedule, type LiveMetricsResult } from '../field-tests/collect.ts'
import type { Io } from './sim.ts'
import { formatSummary } from './summary.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

export const FIELD_TEST_HELP = `spinmesh field-test — field tests on real nodes

Usage:
  spinmesh field-test collect DIR... [--schedule FILE] [--out FILE] [--quiet]
      read the event logs (<address>.jsonl, rotated .jsonl.N) in each DIR and its subdirectories,
      estimate the nodes' clock offsets from the frames they heard, and write the run's metrics
      JSON (docs/METRICS.md, source: live); the schedule is DIR/schedule.json (or its parent's)
      unless --schedule names it; --out - writes the JSON to stdout
`

type Subcommand = (argv: string[], io: Io) => Promise<number>

const SUBCOMMANDS: Record<string, Subcommand> = {
  collect: collectCommand,
}

export async function fieldTestCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    io.out(FIELD_TEST_HELP)
    return sub === undefined ? 2 : 0
  }
  const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined
  if (run === undefined) throw new UsageError(`unknown field-test subcommand "${sub}" (available: ${Object.keys(SUBCOMMANDS).join(', ')})`)
  return await run(rest, io)
}

function collectLines(r: LiveMetricsResult): string {
  const c = r.collect
  const skipped = c.skipped.truncated + c.skipped.corrupt + c.skipped.invalid
  const offsets = Object.entries(c.clockOffsetsMs).map(([n, o]) => `${Number(n).toString(16).padStart(8, '0')} ${o >= 0 ? '+' : ''}${o.toFixed(1)}`).join(', ')
  const rows = [
    `logs          ${c.files} file(s), ${c.lines} lines, ${c.events} events; skipped ${skipped} (truncated ${c.skipped.truncated}, corrupt ${c.skipped.corrupt}, invalid ${c.skipped.invalid})`,
    `clock offsets ms vs ${c.clockReference.toString(16).padStart(8, '0')}: ${offsets || '-'}`,
  ]
  if (c.unsynchronised.length) rows.push(`unsynchronised ${c.unsynchronised.map((n) => n.toString(16).padStart(8, '0')).join(' ')} (offset 0 assumed)`)
  return rows.join('\n')
}

async function collectCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    schedule: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
  })
  if (positionals.length === 0) throw new UsageError('field-test collect needs at least one log directory, e.g. spinmesh field-test collect run1/ --out results.json')
  const file = values.schedule ?? findSchedule(positionals)
  if (file === undefined) throw new UsageError(`no schedule.json in ${positionals.join(', ')} (or their parents): name it with --schedule FILE`)
  const result = await collectRun(positionals, loadSchedule(file))
  const json = JSON.stringify(result, null, 2) + '\n'
  if (values.out === '-') io.out(json)
  else if (values.out) {
    try {
      writeFileSync(values.out, json)
    } catch (e) {
      throw new UsageError(`cannot write ${values.out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
  }
  if (!values.quiet && values.out !== '-') io.out(`${formatSummary(result)}\n${collectLines(result)}\n`)
  return 0
}
