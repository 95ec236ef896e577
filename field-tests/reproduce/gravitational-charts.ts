/**
 * A scatter chart for the gravitational report (field-tests/report/svg.ts has line, bar and
 * distribution charts but no scatter): point series over linear x and y axes, plus straight lines
 * y = a + b·x across the plot, each optionally with a shaded band of ± `band` around it (the y = x
 * line with its ±0.05 tolerance, a least-squares fit). Like svg.ts: a pure function of its input,
 * fixed number formatting, escaped text, no coordinate ever NaN or Infinity (non-finite points
 * are left out and counted in a footnote).
 */
import { PALETTE, escapeXml, formatTick, linearTicks } from '../report/svg.ts'

export interface ScatterPoint {
  x: number
  y: number
}

export interface ScatterSeries {
  name: string
  points: ScatterPoint[]
}

export interface ScatterLine {
  name: string
  a: number
  b: number
  /** Shade y ∈ [a + b·x − band, a + b·x + band]. */
  band?: number
  dashed?: boolean
}

export interface ScatterOptions {
  title?: string
  xTitle?: string
  yTitle?: string
  width?: number
  height?: number
  series: ScatterSeries[]
  lines?: ScatterLine[]
  xMin?: number
  xMax?: number
  yMin?: number
  yMax?: number
  /** Dot radius (default 2.2: thousands of points stay legible). */
  radius?: number
}

const LINE_COLORS = ['#333', '#9467bd', '#8c564b']

function c(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`scatter: non-finite coordinate ${v}`)
  const r = Math.round(v * 100) / 100
  return String(Object.is(r, -0) ? 0 : r)
}

const finite = (v: number) => Number.isFinite(v) && Math.abs(v) <= 1e12

/** A round [min, max] covering the values (or the forced ends), with its ticks. */
function axisRange(values: number[], force: { min?: number; max?: number }): { min: number; max: number; ticks: number[] } {
  let min = force.min ?? (values.length ? Math.min(...values) : 0)
  let max = force.max ?? (values.length ? Math.max(...values) : 1)
  if (!(max - min > 1e-9 * Math.max(1, Math.abs(min), Math.abs(max)))) {
    const pad = Math.abs(min) > 1e-6 ? Math.abs(min) * 0.1 : 1
    if (force.min === undefined) min -= pad
    if (force.max === undefined) max += pad
    if (!(max > min)) max = min + 2 * pad
  }
  const ticks = linearTicks(min, max)
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : max - min
  if (force.min === undefined) min = Math.floor(min / step + 1e-9) * step
  if (force.max === undefined) max = Math.ceil(max / step - 1e-9) * step
  return { min, max, ticks: linearTicks(min, max) }
}

export function scatterChart(o: ScatterOptions): string {
  const w = o.width ?? 640
  const h = o.height ?? 400
  const lines = o.lines ?? []
  const names = [...o.series.map((s) => s.name), ...lines.map((l) => l.name)]
  // Legend: one row per up to 3 entries.
  const legendRows = Math.ceil(names.length / 3)
  const top = (o.title ? 24 : 8) + legendRows * 18 + 8
  const left = 70, right = w - 16, bottom = h - (o.xTitle ? 44 : 28)
  let omitted = 0
  const series = o.series.map((s) => ({
    name: s.name,
    points: s.points.filter((p) => {
      const ok = finite(p.x) && finite(p.y)
      if (!ok) omitted++
      return ok
    }),
  }))
  const xs = series.flatMap((s) => s.points.map((p) => p.x))
  const ys = series.flatMap((s) => s.points.map((p) => p.y))
  const X = axisRange(xs, { min: o.xMin, max: o.xMax })
  // Lines and bands count toward the y range over the x range.
  for (const l of lines) for (const x of [X.min, X.max]) for (const d of [-(l.band ?? 0), l.band ?? 0]) if (finite(l.a + l.b * x + d)) ys.push(l.a + l.b * x + d)
  const Y = axisRange(ys, { min: o.yMin, max: o.yMax })
  const xAt = (v: number) => left + ((v - X.min) / (X.max - X.min)) * (right - left)
  const yAt = (v: number) => bottom - ((v - Y.min) / (Y.max - Y.min)) * (bottom - top)
  // Same id ⇔ same plot rectangle, so charts sharing a page may share clip paths harmlessly.
  const clipId = `scatter-plot-${w}-${h}-${c(top)}-${c(bottom)}`.replace(/\./g, '_')
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(o.title ?? 'scatter chart')}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#fff"/>`,
    `<defs><clipPath id="${clipId}"><rect x="${left}" y="${c(top)}" width="${c(right - left)}" height="${c(bottom - top)}"/></clipPath></defs>`,
  ]
  const clip = `clip-path="url(#${clipId})"`
  if (o.title) out.push(`<text x="${c(w / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`)
  if (o.xTitle) out.push(`<text x="${c((left + right) / 2)}" y="${c(h - 8)}" text-anchor="middle">${escapeXml(o.xTitle)}</text>`)
  if (o.yTitle) out.push(`<text x="14" y="${c((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 14 ${c((top + bottom) / 2)})">${escapeXml(o.yTitle)}</text>`)
  names.forEach((name, i) => {
    const x = left + (i % 3) * ((right - left) / 3)
    const y = (o.title ? 24 : 8) + 12 + Math.floor(i / 3) * 18
    const isLine = i >= series.length
    const color = isLine ? LINE_COLORS[(i - series.length) % LINE_COLORS.length] : PALETTE[i % PALETTE.length]
    out.push(isLine
      ? `<line x1="${c(x)}" x2="${c(x + 14)}" y1="${c(y - 4)}" y2="${c(y - 4)}" stroke="${color}" stroke-width="2"${lines[i - series.length].dashed ? ' stroke-dasharray="5 3"' : ''}/>`
      : `<circle cx="${c(x + 7)}" cy="${c(y - 4)}" r="4" fill="${color}"/>`)
    out.push(`<text x="${c(x + 18)}" y="${c(y)}">${escapeXml(name)}</text>`)
  })
  for (const t of Y.ticks) {
    out.push(`<line x1="${c(left - 5)}" x2="${c(right)}" y1="${c(yAt(t))}" y2="${c(yAt(t))}" stroke="#e4e4e4"/>`)
    out.push(`<text x="${c(left - 8)}" y="${c(yAt(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`)
  }
  for (const t of X.ticks) {
    out.push(`<line x1="${c(xAt(t))}" x2="${c(xAt(t))}" y1="${c(top)}" y2="${c(bottom + 5)}" stroke="#f0f0f0"/>`)
    out.push(`<text x="${c(xAt(t))}" y="${c(bottom + 17)}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`)
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${c(top)}" y2="${c(bottom)}" stroke="#333"/>`)
  out.push(`<line x1="${left}" x2="${c(right)}" y1="${c(bottom)}" y2="${c(bottom)}" stroke="#333"/>`)
  lines.forEach((l, i) => {
    const color = LINE_COLORS[i % LINE_COLORS.length]
    const y0 = l.a + l.b * X.min, y1 = l.a + l.b * X.max
    if (!finite(y0) || !finite(y1)) return
    if (l.band) {
      out.push(`<path d="M${c(xAt(X.min))} ${c(yAt(y0 + l.band))}L${c(xAt(X.max))} ${c(yAt(y1 + l.band))}L${c(xAt(X.max))} ${c(yAt(y1 - l.band))}L${c(xAt(X.min))} ${c(yAt(y0 - l.band))}Z" fill="${color}" fill-opacity="0.1" stroke="none" ${clip}/>`)
    }
    out.push(`<line x1="${c(xAt(X.min))}" x2="${c(xAt(X.max))}" y1="${c(yAt(y0))}" y2="${c(yAt(y1))}" stroke="${color}" stroke-width="1.5"${l.dashed ? ' stroke-dasharray="5 3"' : ''} ${clip}/>`)
  })
  const r = o.radius ?? 2.2
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]
    out.push(`<g class="series" data-series="${escapeXml(s.name)}" fill="${color}" fill-opacity="0.55" ${clip}>`)
    for (const p of s.points) out.push(`<circle cx="${c(xAt(p.x))}" cy="${c(yAt(p.y))}" r="${r}"/>`)
    out.push('</g>')
  })
  if (omitted) out.push(`<text x="${c(right)}" y="${c(h - 8)}" text-anchor="end" font-size="10" fill="#777">${omitted} point${omitted === 1 ? '' : 's'} not finite, not shown</text>`)
  out.push('</svg>')
  return out.join('\n')
}
