/**
 * The `npm run reproduce -- [NAME...] [options]` command: runs the named reproductions (all of
 * them when none is named), prints where their reports went and the total wall time, then
 * rewrites the folder's index.html (index-page.ts: every known reproduction and its report's
 * verdict), also after a failed run. Returns the exit code: 0 when every reproduced claim holds,
 * 1 when one does not (or a run failed), 2 for a usage mistake.
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { anonymousGossip } from './anonymous-gossip.ts'
import { gravitational } from './gravitational.ts'
import { writeIndex } from './index-page.ts'
import { odsbr } from './odsbr.ts'
import { pbcast } from './pbcast.ts'
import type { Reproduction } from './reproduction.ts'

export const REPRODUCTIONS: readonly Reproduction[] = [anonymousGossip, odsbr, gravitational, pbcast]

export const USAGE = `Usage: npm run reproduce -- [NAME...] [options]

Runs the named reproductions (every one when no name is given), writes NAME.json and NAME.html
into the output folder, then rewrites its index.html (every reproduction and its verdict).

Options:
  --seeds N          seeds 1..N per configuration (default 5; gravitational: 3; pbcast: not used,
                     one fixed seed)
  --jobs N           simulations at once in worker processes (default: the number of cores;
                     pbcast runs in this process)
  --out DIR          output folder (default field-tests/reports)
  --protocols a,b    the two protocols to compare, baseline first (anonymous-gossip: default maodv,maodv+ag;
                     odsbr: default aodv,odsbr)
  --security MODE    open (default: the papers compare protocols without security) or authenticated
                     (odsbr always runs authenticated)
  --models a,b       odsbr: adversary models besides blackhole (default all six; none for none)
  --model-fractions  odsbr: their fractions of adversaries, e.g. 0.1,0.2,0.3,0.4 (default 0.2,0.4)
  --model-seeds N    odsbr: seeds 1..N for them (default 2, at most --seeds)
  --duration S       gravitational: length of each grid-feeds run in seconds, traffic stopping 1 s
                     before (default 30; the scenario's own is 60, about a minute per run)
  --sizes a,b        pbcast: group sizes of the load-vs-size check (default 50,100,200,500,1000,2000)
  --trials N         pbcast: crashed-origin trials of the bimodal check (default 2000)
  --help             this text

Reproductions:
${REPRODUCTIONS.map((r) => `  ${r.name.padEnd(18)} ${r.description}`).join('\n')}
`

export interface MainIo {
  out: (s: string) => void
  err: (s: string) => void
}

const defaultIo: MainIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }

/** Writes `out`/index.html for the known reproductions and returns its path (tests pass their own). */
export type IndexWriter = (out: string, known: readonly Reproduction[]) => string

class UsageMistake extends Error {}

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageMistake(`--${name} must be an integer >= 1, got "${v}"`)
  return Number(v)
}

/** Which reproductions to run; unknown names are an error listing the known ones. */
export function selectReproductions(names: readonly string[], known: readonly Reproduction[] = REPRODUCTIONS): Reproduction[] {
  if (names.length === 0) return [...known]
  const unknown = names.filter((n) => !known.some((r) => r.name === n))
  if (unknown.length) {
    throw new UsageMistake(`unknown reproduction${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${known.map((r) => r.name).join(', ')}`)
  }
  return names.map((n) => known.find((r) => r.name === n)!)
}

export async function main(argv: string[], io: MainIo = defaultIo, known: readonly Reproduction[] = REPRODUCTIONS, index: IndexWriter = writeIndex): Promise<number> {
  let selected: Reproduction[]
  let opts
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        seeds: { type: 'string' },
        jobs: { type: 'string' },
        out: { type: 'string' },
        protocols: { type: 'string' },
        security: { type: 'string' },
        models: { type: 'string' },
        'model-fractions': { type: 'string' },
        'model-seeds': { type: 'string' },
        duration: { type: 'string' },
        sizes: { type: 'string' },
        trials: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) {
      io.out(USAGE)
      return 0
    }
    selected = selectReproductions(positionals, known)
    const protocols = values.protocols?.split(',').map((p) => p.trim()).filter(Boolean)
    if (protocols && protocols.length !== 2) throw new UsageMistake(`--protocols needs two protocols, baseline then candidate (e.g. maodv,maodv+ag), got "${values.protocols}"`)
    if (values.security !== undefined && values.security !== 'open' && values.security !== 'authenticated') {
      throw new UsageMistake(`--security must be open or authenticated, got "${values.security}"`)
    }
    const list = (v: string | undefined) => v?.split(',').map((x) => x.trim()).filter(Boolean)
    const models = list(values.models)
    const fractions = list(values['model-fractions'])?.map((f) => {
      if (!/^(0(\.\d+)?|\.\d+)$/.test(f)) throw new UsageMistake(`--model-fractions are fractions in [0, 1), got "${f}"`)
      return Number(f)
    })
    const sizes = list(values.sizes)?.map((n) => {
      if (!/^\d+$/.test(n) || Number(n) < 2) throw new UsageMistake(`--sizes are group sizes >= 2, got "${n}"`)
      return Number(n)
    })
    if (values.duration !== undefined && int('duration', values.duration, 30) < 3) throw new UsageMistake(`--duration must be at least 3 s, got "${values.duration}"`)
    opts = {
      ...(values.duration !== undefined ? { duration: int('duration', values.duration, 30) } : {}),
      ...(sizes ? { sizes } : {}),
      ...(values.trials !== undefined ? { trials: int('trials', values.trials, 2000) } : {}),
      ...(values.seeds === undefined ? { seedsDefaulted: true } : {}),
      ...(models ? { models: models.length === 1 && models[0] === 'none' ? [] : models } : {}),
      ...(fractions ? { modelFractions: fractions } : {}),
      ...(values['model-seeds'] !== undefined ? { modelSeeds: int('model-seeds', values['model-seeds'], 2) } : {}),
      ...(values.security ? { security: values.security as 'open' | 'authenticated' } : {}),
      seeds: int('seeds', values.seeds, 5),
      jobs: int('jobs', values.jobs, availableParallelism()),
      out: values.out ?? 'field-tests/reports',
      ...(protocols ? { protocols } : {}),
      log: (line: string) => io.err(line + '\n'),
    }
  } catch (e) {
    const msg = e instanceof UsageMistake ? e.message : (e as Error).message
    io.err(`reproduce: ${msg}\n`)
    return 2
  }
  const t0 = performance.now()
  let code = 0
  for (const r of selected) {
    try {
      const res = await r.run(opts)
      if (!res.pass) code = 1
      io.out(`${r.name}: ${res.verdict}\n${res.files.map((f) => `  wrote ${f}\n`).join('')}  wall time ${res.wallSeconds.toFixed(1)} s\n`)
    } catch (e) {
      io.err(`reproduce: ${r.name} failed: ${(e as Error).message}\n`)
      code = 1
      break
    }
  }
  try {
    io.out(`index: wrote ${index(opts.out, known)}\n`)
  } catch (e) {
    io.err(`reproduce: could not write the index page: ${(e as Error).message}\n`)
    code = 1
  }
  io.out(`total wall time ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  return code
}
