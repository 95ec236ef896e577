/**
 * A self-contained HTML page builder for field-test reports: inline CSS, no scripts, nothing
 * fetched from the network, so a report is one file that opens anywhere and diffs cleanly. Text is
 * escaped unless it is explicitly marked as HTML with `html()` (SVG charts, nested tables).
 */
import { escapeXml } from './svg.ts'

/** Escape text for HTML content and attribute values. */
export const escapeHtml = escapeXml

/** Markup that is inserted as is (the caller vouches for it). */
export interface Html {
  html: string
}

export function html(markup: string): Html {
  return { html: markup }
}

/** A table cell: text (escaped), a number, nothing, markup, or any of these with a CSS class. */
export type Cell = string | number | null | undefined | Html | { value: string | number | null | Html; class: string }

function isHtml(x: unknown): x is Html {
  return typeof x === 'object' && x !== null && 'html' in x
}

function content(v: string | number | null | undefined | Html): string {
  if (v === null || v === undefined) return '—'
  if (isHtml(v)) return v.html
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '—'
  return escapeHtml(v)
}

function cell(tag: 'td' | 'th', v: Cell): string {
  if (typeof v === 'object' && v !== null && !isHtml(v)) {
    return `<${tag} class="${escapeHtml(v.class)}">${content(v.value)}</${tag}>`
  }
  return `<${tag}>${content(v)}</${tag}>`
}

export interface TableOptions {
  caption?: string
  /** CSS class of the table. */
  class?: string
}

/** A table with one header row. */
export function table(headers: readonly Cell[], rows: ReadonlyArray<readonly Cell[]>, o: TableOptions = {}): string {
  const cls = o.class ? ` class="${escapeHtml(o.class)}"` : ''
  return [
    `<table${cls}>`,
    o.caption ? `<caption>${escapeHtml(o.caption)}</caption>` : '',
    `<thead><tr>${headers.map((h) => cell('th', h)).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((v) => cell('td', v)).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].filter(Boolean).join('\n')
}

/** A paragraph of escaped text. */
export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`
}

/** A chart (SVG markup) with an optional caption. */
export function figure(svg: string, caption?: string): string {
  return `<figure>\n${svg}\n${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>\n` : ''}</figure>`
}

export interface Section {
  title: string
  /** Stable anchor (default: from the title). */
  id?: string
  /** Markup: built with table(), figure(), paragraph() or html(). */
  body: string[]
}

export interface PageOptions {
  title: string
  /** Escaped paragraphs under the title. */
  intro?: string[]
  sections: Section[]
  /** Escaped text at the bottom (e.g. how to regenerate the page). */
  footer?: string
  /** CSS added after the page's own (the caller vouches for it). */
  css?: string
}

const CSS = `
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.pass { background: #e3f5e1; } .fail { background: #fbe3e1; } .na { color: #888; }
figure { margin: 1.5em 0; } figcaption { font-size: .9em; color: #555; max-width: 640px; }
nav ul { columns: 2; } footer { margin-top: 3em; font-size: .85em; color: #666; }
code { background: #f4f4f4; padding: 0 .2em; }
`.trim()

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section'
}

/** The whole page: title, intro, a table of contents, the sections, a footer. */
export function page(o: PageOptions): string {
  const ids = o.sections.map((s) => s.id ?? slug(s.title))
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(o.title)}</title>`,
    `<style>\n${CSS}${o.css ? `\n${o.css.trim()}` : ''}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(o.title)}</h1>`,
    ...(o.intro ?? []).map(paragraph),
    o.sections.length > 1 ? `<nav><ul>\n${o.sections.map((s, i) => `<li><a href="#${escapeHtml(ids[i])}">${escapeHtml(s.title)}</a></li>`).join('\n')}\n</ul></nav>` : '',
    ...o.sections.map((s, i) => `<section id="${escapeHtml(ids[i])}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.body.join('\n')}\n</section>`),
    o.footer ? `<footer>${escapeHtml(o.footer)}</footer>` : '',
    '</body>',
    '</html>',
  ].filter((x) => x !== '').join('\n') + '\n'
}
