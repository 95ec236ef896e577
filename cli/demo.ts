/**
 * `spinmesh demo` (issue 9, the README's main job): a simulated field of sensor nodes feeding a
 * gateway that streams to MQTT; prints what a subscriber receives as it arrives, then a summary.
 * Options: --broker URL (default: the embedded broker), --duration S (field seconds), --speed X,
 * --json FILE (the summary), --spool DIR (keep the spool), --http PORT|off (dashboard), --seed N,
 * --scenario FILE, --interval S (between a sensor's samples), --embedded-port P, --quiet,
 * --drain S (how long to wait at the end for the broker and the subscriber). The --json summary
 * lists every accepted sample's id (`acceptedIds`). Exit code 1 when the subscriber missed any.
 */
import { writeFileSync } from 'node:fs'
import { formatDemoSummary, runDemo } from '../gateway/demo.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

function num(v: string | undefined, name: string, check: (n: number) => boolean): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: bad value ${JSON.stringify(v)}`)
  return n
}

export async function demoCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    broker: { type: 'string' }, duration: { type: 'string' }, speed: { type: 'string' }, json: { type: 'string' }, spool: { type: 'string' },
    http: { type: 'string' }, seed: { type: 'string' }, scenario: { type: 'string' }, interval: { type: 'string' }, 'embedded-port': { type: 'string' },
    quiet: { type: 'boolean' }, drain: { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`demo takes no positional arguments, got ${positionals.join(' ')}`)
  const port = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65_535
  const summary = await runDemo({
    scenario: values.scenario,
    seed: num(values.seed, 'seed', (n) => Number.isInteger(n) && n >= 0),
    durationS: num(values.duration, 'duration', (n) => n > 0 && n <= 86_400),
    speed: num(values.speed, 'speed', (n) => n > 0 && n <= 1000),
    broker: values.broker,
    embeddedPort: num(values['embedded-port'], 'embedded-port', port),
    spool: values.spool,
    httpPort: values.http === 'off' ? null : num(values.http, 'http', port),
    sampleIntervalS: num(values.interval, 'interval', (n) => n >= 0.1 && n <= 3600),
    drainMs: num(values.drain, 'drain', (n) => n >= 0 && n <= 600) !== undefined ? Number(values.drain) * 1000 : undefined,
    print: !values.quiet,
    out: (line) => io.out(line + '\n'),
  })
  io.out(formatDemoSummary(summary))
  if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2) + '\n')
  return summary.samples.missing === 0 ? 0 : 1
}
