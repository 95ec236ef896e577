/**
 * `spinmesh report A.json [B.json ...] --out report.html [--title T] [--labels a,b]`: the field
 * report (field-tests/report/field-report.ts), one self-contained HTML page over the metrics JSON
 * of simulated runs (`spinmesh sim --json`) and collected live runs, side by side. Every file is
 * read and checked before anything is written: a bad one is named with what is wrong (exit 1).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../core/errors.ts'
import { parseMetricsResult, renderFieldReport, type ReportInput } from '../field-tests/report/field-report.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

/** Read and check every file (labels, when given, one per file); the first problem is thrown, naming its file. */
export function loadReportInputs(files: readonly string[], labels?: readonly string[]): ReportInput[] {
  return files.map((file, i) => {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      throw new ConfigError('', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(e))}`)
    }
    return { file, result: parseMetricsResult(text, file), ...(labels ? { label: labels[i] } : {}) }
  })
}

export async function reportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string', short: 'o' },
    title: { type: 'string' },
    labels: { type: 'string' },
  })
  if (!positionals.length) throw new UsageError('report needs at least one metrics JSON file, e.g. spinmesh report a.json --out report.html (spinmesh sim --json a.json writes one)')
  if (!values.out) throw new UsageError('report needs --out FILE (the HTML page to write)')
  if (positionals.some((f) => resolve(f) === resolve(values.out!))) throw new UsageError(`--out ${values.out} is one of the input files`)
  let labels: string[] | undefined
  if (values.labels !== undefined) {
    labels = values.labels.split(',').map((l) => l.trim())
    if (labels.length !== positionals.length) throw new UsageError(`--labels has ${labels.length} label${labels.length === 1 ? '' : 's'} for ${positionals.length} file${positionals.length === 1 ? '' : 's'}`)
    if (labels.some((l) => !l)) throw new UsageError('--labels has an empty label')
  }
  const inputs = loadReportInputs(positionals, labels)
  const report = renderFieldReport(inputs, { title: values.title })
  try {
    writeFileSync(values.out, report.html)
  } catch (e) {
    throw new ConfigError('', `cannot write ${values.out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  const empty = report.sections.filter((s) => !s.hasData).map((s) => s.id)
  io.out(`${values.out}\n`)
  io.out(`sections: ${report.sections.map((s) => s.id).join(', ')}\n`)
  if (empty.length) io.out(`no data for: ${empty.join(', ')} (the inputs do not carry it; the sections say so)\n`)
  return 0
}
