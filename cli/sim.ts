import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { loadScenario } from '../field-tests/scenario.ts'
import { buildSimulation, runSimulation } from '../field-tests/runner.ts'
import { attachTrace } from '../field-tests/trace.ts'
import { formatSummary } from './summary.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
  /** Whether progress may be drawn (stderr is a terminal). */
  tty: boolean
}

function progressBar(io: Io) {
  let last = 0
  return (simMs: number, totalMs: number) => {
    const now = performance.now()
    if (now - last < 100 && simMs < totalMs) return
    last = now
    const f = simMs / totalMs
    const width = 30
    const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.')
    io.err(`\r[${bar}] ${(f * 100).toFixed(0).padStart(3)} %  ${(simMs / 1000).toFixed(0)} / ${(totalMs / 1000).toFixed(0)} s simulated`)
    if (simMs >= totalMs) io.err('\n')
  }
}

/** A JSON-lines file written in 1 MB chunks (a trace can have millions of lines). */
function openTrace(file: string): { write: (e: Record<string, unknown>) => void; close: () => void } {
  let fd: number
  try {
    fd = openSync(file, 'w')
  } catch (e) {
    throw new UsageError(`cannot write trace file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  let buf: string[] = []
  let size = 0
  const flush = () => {
    if (buf.length) writeSync(fd, buf.join(''))
    buf = []
    size = 0
  }
  return {
    write: (e) => {
      const line = JSON.stringify(e) + '\n'
      buf.push(line)
      size += line.length
      if (size > 1 << 20) flush()
    },
    close: () => {
      flush()
      closeSync(fd)
    },
  }
}

export async function simCommand(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommandArgs(argv, {
    seed: { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'string' },
    trace: { type: 'string' },
    quiet: { type: 'boolean' },
  })
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `sim takes one scenario file, got ${positionals.length}` : 'sim needs a scenario file, e.g. spinmesh sim field-tests/scenarios/flood-grid.yaml')
  let seed: number | undefined
  if (values.seed !== undefined) {
    seed = Number(values.seed)
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`)
  }
  const scenario = loadScenario(positionals[0], values.set ?? [])
  const opts = { seed, onProgress: !values.quiet && io.tty ? progressBar(io) : undefined }
  const sim = buildSimulation(scenario, opts)
  const trace = values.trace ? openTrace(values.trace) : undefined
  if (trace) attachTrace(sim, trace.write)
  let result
  try {
    result = runSimulation(sim, opts)
  } finally {
    trace?.close()
  }
  const json = JSON.stringify(result, null, 2) + '\n'
  if (values.json === '-') io.out(json)
  else if (values.json) writeFileSync(values.json, json)
  if (!values.quiet && values.json !== '-') io.out(formatSummary(result) + '\n')
  return 0
}
