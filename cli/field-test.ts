/**
 * `spinmesh field-test SUBCOMMAND ...` (issue 10): field tests on real nodes. A dispatcher over
 * subcommands, one function each:
 *
 *   plan SCENARIO --inventory FILE --out DIR [--seed N] [--start ISO|+S] [--force]
 *       per-node configs, identities, schedule.json (and the live hub's topology) for real nodes
 *   run DIR [--start-in S]
 *       a planned run on this machine: the live hub and one daemon per node, real processes
 *   collect DIR... [--schedule FILE] [--out FILE] [--quiet]
 *       a live run's metrics JSON (docs/METRICS.md, `source: live`) from its nodes' event logs
 */
import { writeFileSync } from 'node:fs'
import { formatNodeAddress } from '../core/addr.ts'
import { collectRun, findSchedule, loadSchedule, type LiveMetricsResult } from '../field-tests/collect.ts'
import { loadScenario } from '../field-tests/scenario.ts'
import { loadInventory, planFieldTest } from '../field-tests/plan.ts'
import { runLive } from '../field-tests/live-run.ts'
import type { Io } from './sim.ts'
import { formatSummary } from './summary.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

export const FIELD_TEST_HELP = `spinmesh field-test — field tests on real nodes

Usage:
  spinmesh field-test plan SCENARIO --inventory FILE --out DIR [--seed N] [--start ISO|+S] [--force]
      map the scenario's nodes onto the inventory's real nodes (in order) and write DIR/nodes/NAME.yaml
      (radio, link, routing, multicast, flows, event log), DIR/keys, DIR/schedule.json and, when the
      radios are the live hub, DIR/hub.yaml; the flows are the simulator's for the same seed. --start
      fixes the run's start in every config (for real devices); without it, field-test run starts it
  spinmesh field-test run DIR [--start-in S]
      run a plan on this machine: the live hub and a spinmesh run daemon per node; flows start S
      seconds (default 3) after every daemon is up; logs go to DIR/logs
  spinmesh field-test collect DIR... [--schedule FILE] [--out FILE] [--quiet]
      read the event logs (<address>.jsonl, rotated .jsonl.N) in each DIR and its subdirectories,
      estimate the nodes' clock offsets from the frames they heard, and write the run's metrics
      JSON (docs/METRICS.md, source: live); the schedule is DIR/schedule.json (or its parent's)
      unless --schedule names it; --out - writes the JSON to stdout
`

type Subcommand = (argv: string[], io: Io) => Promise<number>

const SUBCOMMANDS: Record<string, Subcommand> = {
  plan: planCommand,
  run: runCommand,
  collect: collectCommand,
}

async function planCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { inventory: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, start: { type: 'string' }, force: { type: 'boolean' } })
  if (positionals.length !== 1) throw new UsageError('field-test plan needs one scenario file')
  if (!values.inventory || !values.out) throw new UsageError('field-test plan needs --inventory FILE and --out DIR')
  const seed = values.seed === undefined ? undefined : Number(values.seed)
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be an integer >= 0, got ${values.seed}`)
  let startWallMs: number | undefined
  if (values.start !== undefined) {
    startWallMs = values.start.startsWith('+') ? Date.now() + Number(values.start.slice(1)) * 1000 : Date.parse(values.start)
    if (!Number.isFinite(startWallMs)) throw new UsageError(`--start is an ISO time (2026-11-22T10:00:00Z) or +SECONDS from now, got ${values.start}`)
  }
  const plan = planFieldTest(loadScenario(positionals[0]), loadInventory(values.inventory), values.out, { seed, startWallMs, force: values.force })
  const s = plan.schedule
  io.out(`planned ${s.scenario} (seed ${s.seed}, ${s.protocol}) on ${s.nodes.length} nodes: ${s.flows.length} flows over ${s.durationS} s\n`)
  for (const n of s.nodes) io.out(`  node ${n.id} → ${n.name} ${formatNodeAddress(n.address)}\n`)
  io.out(`configs in ${values.out}/nodes, schedule ${values.out}/schedule.json${plan.hub ? `, hub topology ${plan.hub}` : ''}\n`)
  io.out(startWallMs === undefined ? `run it here: spinmesh field-test run ${values.out}\n` : `start each node's daemon (spinmesh run --config ...) before ${new Date(startWallMs).toISOString()}\n`)
  return 0
}

async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { 'start-in': { type: 'string' } })
  if (positionals.length !== 1) throw new UsageError('field-test run needs the plan directory')
  const startInS = values['start-in'] === undefined ? undefined : Number(values['start-in'])
  if (startInS !== undefined && !(startInS >= 0 && startInS <= 3600)) throw new UsageError(`--start-in is seconds (0..3600), got ${values['start-in']}`)
  await runLive(positionals[0], { startInS, out: (line) => io.out(line + '\n') })
  io.out(`collect it: spinmesh field-test collect ${positionals[0]} --out results.json\n`)
  return 0
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
  const offsets = Object.entries(c.clockOffsetsMs).map(([n, o]) => `${formatNodeAddress(Number(n))} ${o >= 0 ? '+' : ''}${o.toFixed(1)}`).join(', ')
  const rows = [
    `logs          ${c.files} file(s), ${c.lines} lines, ${c.events} events; skipped ${skipped} (truncated ${c.skipped.truncated}, corrupt ${c.skipped.corrupt}, invalid ${c.skipped.invalid})`,
    `clock offsets ms vs ${formatNodeAddress(c.clockReference)}: ${offsets || '-'}`,
  ]
  if (c.notSent !== undefined && (c.notSent || c.skippedBySenders || c.logDropped)) rows.push(`not sent      ${c.notSent} scheduled packets (${c.skippedBySenders ?? 0} skipped by late senders), ${c.logDropped ?? 0} log lines dropped`)
  if (c.unsynchronised.length) rows.push(`unsynchronised ${c.unsynchronised.map(formatNodeAddress).join(' ')} (offset 0 assumed)`)
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
