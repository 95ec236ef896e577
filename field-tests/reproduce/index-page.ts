/**
 * The index of a reports folder, `<out>/index.html`, rewritten by `npm run reproduce` after every
 * run: every known reproduction with what it shows, whether its report is in the folder, and if so
 * a link to NAME.html, the verdict (pass or fail and the one-line verdict), when NAME.json was
 * written and the command that regenerates it, all read from NAME.json's `meta` block
 * (report-files.ts). A report written before `meta` existed still shows its pass/fail and command
 * from the older top-level fields.
 *
 * One self-contained page like the reports: inline CSS, no scripts, nothing fetched, relative
 * links only; every piece of text read from a file is escaped. "Generated" is the JSON file's
 * modification time (the JSON itself holds no date, to stay deterministic).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { escapeHtml } from '../report/html.ts'

export const INDEX_FILE = 'index.html'

/** What the index needs of a reproduction. */
export interface IndexedReproduction {
  name: string
  description: string
}

export interface ReportEntry {
  name: string
  description: string
  /** NAME.json and NAME.html are in the folder. */
  json: boolean
  html: boolean
  /** From NAME.json; null when absent or not readable. */
  pass: boolean | null
  verdict: string | null
  command: string | null
  wallSeconds: number | null
  /** NAME.json's modification time, ISO 8601 UTC to the second; null without the file. */
  generatedAt: string | null
  /** Why the JSON could not be read fully (unreadable, no meta block, another reproduction's), else null. */
  problem: string | null
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null)
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)
const bool = (x: unknown): boolean | null => (typeof x === 'boolean' ? x : null)

/** What `dir` holds of reproduction `r`. */
export function readReportEntry(dir: string, r: IndexedReproduction): ReportEntry {
  const jsonFile = join(dir, `${r.name}.json`)
  const e: ReportEntry = {
    name: r.name, description: r.description, json: existsSync(jsonFile), html: existsSync(join(dir, `${r.name}.html`)),
    pass: null, verdict: null, command: null, wallSeconds: null, generatedAt: null, problem: null,
  }
  if (!e.json) return e
  try {
    e.generatedAt = new Date(Math.floor(statSync(jsonFile).mtimeMs / 1000) * 1000).toISOString().replace('.000Z', 'Z')
    const j: unknown = JSON.parse(readFileSync(jsonFile, 'utf8'))
    if (!isObject(j)) throw new Error('not a JSON object')
    if (isObject(j.meta)) {
      const m = j.meta
      e.pass = bool(m.pass)
      e.verdict = str(m.verdict)
      e.command = str(m.command)
      e.wallSeconds = num(m.wallSeconds)
      if (m.name !== r.name) e.problem = `its meta names ${typeof m.name === 'string' ? `"${m.name}"` : 'no reproduction'}, not "${r.name}"`
      else if (e.pass === null || e.verdict === null || e.command === null) e.problem = 'its meta block lacks pass, verdict or command'
    } else {
      // Written before the meta block: the older fields every reproduction had.
      e.pass = isObject(j.verdict) ? bool(j.verdict.pass) : null
      e.command = str(j.command)
      e.wallSeconds = num(j.wallSeconds)
      e.problem = 'no meta block (written by an older version: run it again for the verdict line)'
    }
  } catch (err) {
    e.problem = `${r.name}.json is unreadable: ${(err as Error).message}`
  }
  return e
}

const CSS = `
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin: 0 0 .3em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
section { border: 1px solid #ddd; border-radius: 4px; padding: .8em 1em; margin: 1em 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .5em 0 0; }
dt { color: #555; } dd { margin: 0; }
.pass { background: #e3f5e1; } .fail { background: #fbe3e1; } .na { color: #888; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 3px; font-size: .85em; font-weight: bold; }
.problem { color: #8a5a00; }
code { background: #f4f4f4; padding: 0 .2em; }
footer { margin-top: 3em; font-size: .85em; color: #666; }
`.trim()

const href = (file: string) => escapeHtml(encodeURIComponent(file))

function status(e: ReportEntry): { text: string; class: string } {
  if (!e.json && !e.html) return { text: 'no report', class: 'na' }
  if (e.pass === true) return { text: 'PASS', class: 'pass' }
  if (e.pass === false) return { text: 'FAIL', class: 'fail' }
  return { text: 'unknown', class: 'na' }
}

function files(e: ReportEntry): string {
  if (e.json && e.html) return `<a href="${href(`${e.name}.html`)}">${escapeHtml(e.name)}.html</a>, <a href="${href(`${e.name}.json`)}">${escapeHtml(e.name)}.json</a>`
  if (e.html) return `<a href="${href(`${e.name}.html`)}">${escapeHtml(e.name)}.html</a> (no ${escapeHtml(e.name)}.json)`
  if (e.json) return `<a href="${href(`${e.name}.json`)}">${escapeHtml(e.name)}.json</a> (no ${escapeHtml(e.name)}.html)`
  return 'not in this folder'
}

const title = (e: ReportEntry) => (e.html ? `<a href="${href(`${e.name}.html`)}">${escapeHtml(e.name)}</a>` : escapeHtml(e.name))
const text = (s: string | null) => (s === null ? '<span class="na">—</span>' : escapeHtml(s))

function section(e: ReportEntry): string {
  const st = status(e)
  const rows: Array<[string, string]> = [['files', files(e)]]
  if (e.json) {
    rows.push(['verdict', text(e.verdict)])
    rows.push(['generated', text(e.generatedAt)])
    rows.push(['wall time', e.wallSeconds === null ? text(null) : `${escapeHtml(e.wallSeconds.toFixed(1))} s`])
    rows.push(['command', e.command === null ? text(null) : `<code>${escapeHtml(e.command)}</code>`])
  } else {
    rows.push(['command', `<code>${escapeHtml(`npm run reproduce -- ${e.name}`)}</code>`])
  }
  if (e.problem) rows.push(['note', `<span class="problem">${escapeHtml(e.problem)}</span>`])
  return [
    `<section id="${escapeHtml(e.name)}">`,
    `<h2>${title(e)} <span class="badge ${st.class}">${escapeHtml(st.text)}</span></h2>`,
    `<p>${escapeHtml(e.description)}</p>`,
    `<dl>\n${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join('\n')}\n</dl>`,
    '</section>',
  ].join('\n')
}

/** The page for these entries (in the order given). */
export function renderIndex(entries: readonly ReportEntry[]): string {
  const present = entries.filter((e) => e.json || e.html)
  const pass = entries.filter((e) => e.pass === true).length
  const fail = entries.filter((e) => e.pass === false).length
  const summary = [
    '<table>',
    '<thead><tr><th>reproduction</th><th>report</th><th>generated (UTC)</th></tr></thead>',
    '<tbody>',
    ...entries.map((e) => {
      const st = status(e)
      return `<tr><td><a href="#${escapeHtml(e.name)}">${escapeHtml(e.name)}</a></td><td class="${st.class}">${escapeHtml(st.text)}</td><td>${text(e.generatedAt)}</td></tr>`
    }),
    '</tbody>',
    '</table>',
  ].join('\n')
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<title>spinmesh paper reproductions</title>',
    `<style>\n${CSS}\n</style>`,
    '</head>',
    '<body>',
    '<h1>spinmesh paper reproductions</h1>',
    `<p>${escapeHtml(`${present.length} of ${entries.length} reports in this folder: ${pass} pass, ${fail} fail. ` +
      'Each report is NAME.html (charts and tables) with its numbers in NAME.json; "generated" is when NAME.json was written.')}</p>`,
    summary,
    ...entries.map(section),
    `<footer>${escapeHtml('Rewritten by npm run reproduce after every run (field-tests/reproduce/index-page.ts). Regenerate every report: npm run reproduce')}</footer>`,
    '</body>',
    '</html>',
  ].join('\n') + '\n'
}

/** Write `dir`/index.html for `known` (creating `dir` if needed); returns its path. */
export function writeIndex(dir: string, known: readonly IndexedReproduction[]): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, INDEX_FILE)
  writeFileSync(file, renderIndex(known.map((r) => readReportEntry(dir, r))))
  return file
}
