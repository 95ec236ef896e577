/**
 * Writing a reproduction's two files, NAME.json and NAME.html, the same way for every
 * reproduction: the JSON opens with a common `meta` block (what index-page.ts reads to list the
 * reports without knowing each one's shape), then the reproduction's own fields.
 *
 * `meta` is deterministic like the rest of the JSON except `wallSeconds`: when a report was
 * generated is not stored in it (that would make two runs of the same code differ); the index page
 * takes it from the file's modification time instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The common head of every NAME.json. */
export interface ReportMeta {
  /** The reproduction's name (= the file's base name). */
  name: string
  /** The one-line verdict the command prints. */
  verdict: string
  /** Whether the reproduced claim holds. */
  pass: boolean
  /** The command that regenerates the report. */
  command: string
  /** Wall time of the whole reproduction, s (rounded to ms; the one non-deterministic field). */
  wallSeconds: number
}

export function reportMeta(m: ReportMeta): ReportMeta {
  return { name: m.name, verdict: m.verdict, pass: m.pass, command: m.command, wallSeconds: Math.round(m.wallSeconds * 1000) / 1000 }
}

/**
 * Write `out`/NAME.json ({ meta, ...body }, two-space indented, newline-terminated) and
 * `out`/NAME.html, creating `out` if needed; returns the two paths, JSON first.
 */
export function writeReportFiles(out: string, meta: ReportMeta, body: Record<string, unknown>, html: string): [string, string] {
  if ('meta' in body) throw new RangeError(`${meta.name}: the report body has its own "meta" field`)
  mkdirSync(out, { recursive: true })
  const jsonFile = join(out, `${meta.name}.json`)
  const htmlFile = join(out, `${meta.name}.html`)
  writeFileSync(jsonFile, JSON.stringify({ meta: reportMeta(meta), ...body }, null, 2) + '\n')
  writeFileSync(htmlFile, html)
  return [jsonFile, htmlFile]
}
