/**
 * Dependency-free SVG charts for field-test reports (DESIGN.md: reports are HTML with SVG charts):
 * a line chart (numeric x, linear or log10 y, optional min–max error bars), a grouped bar chart and
 * a distribution chart (per category, several series side by side: every member's value as a dot
 * over a median/quartile box).
 *
 * Output is a pure function of the input: no randomness, no clock, fixed number formatting, so the
 * same data gives byte-identical SVG. Text is XML-escaped. Non-finite values (NaN, ±Infinity, and
 * anything beyond ±1e12) and, on a log axis, values ≤ 0 are left out and counted in a footnote; no coordinate in the output is
 * ever NaN or Infinity.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** A coordinate: two decimals, never NaN/Infinity (that would be a bug in the layout). */
function c(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`svg: non-finite coordinate ${v}`)
  const r = Math.round(v * 100) / 100
  return String(Object.is(r, -0) ? 0 : r)
}

/** A tick label: short and deterministic (up to 4 significant digits, no exponent for usual ranges). */
export function formatTick(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e6 || a < 1e-4) return v.toExponential(0).replace('e+', 'e')
  return String(Number(v.toPrecision(4)))
}

/** Values beyond ±1e12 are treated like non-finite ones: nothing we plot is that large, and spans of
 * such values would overflow the layout arithmetic. */
const LIMIT = 1e12
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= LIMIT
/** Whether [min, max] is wide enough to scale over (not empty, not a rounding-error sliver). */
const wide = (min: number, max: number) => max - min > 1e-9 * Math.max(1, Math.abs(min), Math.abs(max))

/** The round step (1, 2, 5 × 10^k) giving about `count` intervals over [min, max]. */
function tickStep(min: number, max: number, count = 5): number {
  const raw = (max - min) / Math.max(1, count)
  const mag = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!
}

/** ~`count` round ticks (1, 2, 5 × 10^k steps) within [min, max]. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const step = tickStep(min, max, count)
  const out: number[] = []
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)))
  return out
}

/** Every power of ten from 10^floor(log10 min) to 10^ceil(log10 max) (at least two). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min))
  let hi = Math.ceil(Math.log10(max))
  if (hi <= lo) hi = lo + 1
  const out: number[] = []
  for (let k = lo; k <= hi; k++) out.push(Number((10 ** k).toPrecision(12)))
  return out
}

interface Axis {
  ticks: number[]
  minor: number[]
  /** Data value → pixel. */
  at: (v: number) => number
  accepts: (v: number) => boolean
}

function linearAxis(values: number[], from: number, to: number, force?: { min?: number; max?: number }): Axis {
  let min = force?.min ?? (values.length ? Math.min(...values) : 0)
  let max = force?.max ?? (values.length ? Math.max(...values) : 1)
  if (!wide(min, max)) {
    const pad = Math.abs(min) > 1e-6 ? Math.abs(min) * 0.1 : 1
    if (force?.max !== undefined) min = max - pad
    else {
      if (force?.min === undefined) min -= pad
      max = min + 2 * pad
    }
  }
  const step = tickStep(min, max)
  if (force?.min === undefined) min = Math.floor(min / step + 1e-9) * step
  if (force?.max === undefined) max = Math.ceil(max / step - 1e-9) * step
  return { ticks: linearTicks(min, max), minor: [], at: (v) => from + ((v - min) / (max - min)) * (to - from), accepts: () => true }
}

function logAxis(values: number[], from: number, to: number): Axis {
  const pos = values.filter((v) => v > 0)
  const ticks = pos.length ? logTicks(Math.min(...pos), Math.max(...pos)) : [0.01, 1]
  const lo = Math.log10(ticks[0])
  const hi = Math.log10(ticks[ticks.length - 1])
  const minor: number[] = []
  for (let k = lo; k < hi; k++) for (let m = 2; m <= 9; m++) minor.push(m * 10 ** k)
  return { ticks, minor, at: (v) => from + ((Math.log10(v) - lo) / (hi - lo)) * (to - from), accepts: (v) => v > 0 }
}

export interface ChartFrame {
  title?: string
  xTitle?: string
  yTitle?: string
  width?: number
  height?: number
  /** Formats y tick labels (default formatTick). */
  yFormat?: (v: number) => string
}

interface Layout {
  w: number
  h: number
  left: number
  right: number
  top: number
  bottom: number
}

function layout(f: ChartFrame, legendRows: number): Layout {
  const w = f.width ?? 640
  const h = f.height ?? 340
  const top = (f.title ? 24 : 8) + legendRows * 18 + 8
  return { w, h, left: 64, right: w - 16, top, bottom: h - (f.xTitle ? 44 : 28) }
}

function open(f: ChartFrame, l: Layout): string[] {
  const label = escapeXml(f.title ?? 'chart')
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${l.w} ${l.h}" width="${l.w}" height="${l.h}" role="img" aria-label="${label}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${l.w}" height="${l.h}" fill="#fff"/>`,
  ]
  if (f.title) out.push(`<text x="${c(l.w / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(f.title)}</text>`)
  if (f.xTitle) out.push(`<text x="${c((l.left + l.right) / 2)}" y="${c(l.h - 8)}" text-anchor="middle">${escapeXml(f.xTitle)}</text>`)
  if (f.yTitle) {
    const y = (l.top + l.bottom) / 2
    out.push(`<text x="14" y="${c(y)}" text-anchor="middle" transform="rotate(-90 14 ${c(y)})">${escapeXml(f.yTitle)}</text>`)
  }
  return out
}

/** Legend entries laid out left to right, wrapping; returns rows used and the SVG. */
function legend(names: string[], l: { w: number; left: number; right: number }, y0: number): { rows: number; svg: string[] } {
  const svg: string[] = []
  let x = l.left
  let row = 0
  names.forEach((name, i) => {
    const wEntry = 22 + name.length * 6.5 + 14
    if (x + wEntry > l.right && x > l.left) {
      row++
      x = l.left
    }
    const y = y0 + row * 18
    svg.push(`<rect x="${c(x)}" y="${c(y - 9)}" width="14" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`)
    svg.push(`<text x="${c(x + 18)}" y="${c(y)}">${escapeXml(name)}</text>`)
    x += wEntry
  })
  return { rows: names.length ? row + 1 : 0, svg }
}

function legendRows(names: string[], width: number): number {
  return legend(names, { w: width, left: 64, right: width - 16 }, 0).rows
}

function yAxisSvg(axis: Axis, l: Layout, fmt: (v: number) => string): string[] {
  const out: string[] = []
  for (const m of axis.minor) {
    const y = axis.at(m)
    out.push(`<line x1="${c(l.left - 3)}" x2="${c(l.right)}" y1="${c(y)}" y2="${c(y)}" stroke="#f0f0f0"/>`)
  }
  for (const t of axis.ticks) {
    const y = axis.at(t)
    out.push(`<line x1="${c(l.left - 5)}" x2="${c(l.right)}" y1="${c(y)}" y2="${c(y)}" stroke="#ddd"/>`)
    out.push(`<text x="${c(l.left - 8)}" y="${c(y + 4)}" text-anchor="end">${escapeXml(fmt(t))}</text>`)
  }
  out.push(`<line x1="${c(l.left)}" x2="${c(l.left)}" y1="${c(l.top)}" y2="${c(l.bottom)}" stroke="#333"/>`)
  out.push(`<line x1="${c(l.left)}" x2="${c(l.right)}" y1="${c(l.bottom)}" y2="${c(l.bottom)}" stroke="#333"/>`)
  return out
}

function footnote(out: string[], l: Layout, omitted: number, why: string): void {
  if (omitted > 0) {
    out.push(`<text x="${c(l.right)}" y="${c(l.h - 8)}" text-anchor="end" font-size="10" fill="#777">${omitted} value${omitted === 1 ? '' : 's'} ${escapeXml(why)} not shown</text>`)
  }
}

function errorBar(x: number, y1: number, y2: number, color: string): string {
  return `<path d="M${c(x)} ${c(y1)}V${c(y2)}M${c(x - 4)} ${c(y1)}H${c(x + 4)}M${c(x - 4)} ${c(y2)}H${c(x + 4)}" stroke="${color}" fill="none"/>`
}

export interface LinePoint {
  x: number
  y: number | null
  /** Optional error bar (e.g. min and max over seeds). */
  lo?: number | null
  hi?: number | null
}

export interface LineSeries {
  name: string
  points: LinePoint[]
}

export interface LineChartOptions extends ChartFrame {
  series: LineSeries[]
  yScale?: 'linear' | 'log'
  /** Fix the linear y range (e.g. 0..1 for a ratio). */
  yMin?: number
  yMax?: number
  /** x ticks (default: every distinct x when there are ≤ 12, else round ticks). */
  xTicks?: number[]
  /** Draw a dot at every point (default true; off for dense lines such as a CDF). */
  markers?: boolean
  /** Nudge several series apart sideways so their error bars do not overlap (default true). */
  dodge?: boolean
}

/** Lines with markers for several series over a numeric x; series are nudged apart where bars overlap. */
export function lineChart(o: LineChartOptions): string {
  const log = o.yScale === 'log'
  const ok = (v: number | null | undefined): v is number => finite(v) && (!log || v > 0)
  let omitted = 0
  const series = o.series.map((s) => ({
    name: s.name,
    points: s.points.filter((p) => finite(p.x)).map((p) => {
      if (!ok(p.y) && p.y !== null) omitted++
      return { x: p.x, y: ok(p.y) ? p.y : null, lo: finite(p.lo) ? p.lo : null, hi: finite(p.hi) ? p.hi : null }
    }),
  }))
  const width = o.width ?? 640
  const l = layout(o, legendRows(series.map((s) => s.name), width))
  const out = open(o, l)
  out.push(...legend(series.map((s) => s.name), l, (o.title ? 24 : 8) + 12).svg)

  const ys: number[] = []
  for (const s of series) for (const p of s.points) for (const v of [p.y, p.lo, p.hi]) if (ok(v)) ys.push(v)
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b)
  const yAxis = log ? logAxis(ys, l.bottom, l.top) : linearAxis(ys, l.bottom, l.top, { min: o.yMin, max: o.yMax })
  const xMin = xs.length ? xs[0] : 0
  const xMax = xs.length ? xs[xs.length - 1] : 1
  const pad = wide(xMin, xMax) ? 0.06 * (xMax - xMin) : Math.max(1, Math.abs(xMin) * 0.1)
  const x0 = xMin - pad
  const x1 = xMax + pad
  const xAt = (v: number) => l.left + ((v - x0) / (x1 - x0)) * (l.right - l.left)
  out.push(...yAxisSvg(yAxis, l, o.yFormat ?? formatTick))
  const xTicks = (o.xTicks ?? (xs.length <= 12 ? xs : linearTicks(xMin, xMax))).filter(finite)
  for (const t of xTicks) {
    const x = xAt(t)
    if (x < l.left - 1e-6 || x > l.right + 1e-6) continue
    out.push(`<line x1="${c(x)}" x2="${c(x)}" y1="${c(l.bottom)}" y2="${c(l.bottom + 5)}" stroke="#333"/>`)
    out.push(`<text x="${c(x)}" y="${c(l.bottom + 17)}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`)
  }
  const yClamp = (v: number) => (yAxis.accepts(v) ? Math.min(l.bottom, Math.max(l.top, yAxis.at(v))) : l.bottom)
  const dodge = series.length > 1 && o.dodge !== false ? 6 : 0
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]
    const off = (si - (series.length - 1) / 2) * dodge
    const pts = [...s.points].sort((a, b) => a.x - b.x)
    let d = ''
    let pen = false
    for (const p of pts) {
      if (p.y === null) {
        pen = false
        continue
      }
      d += `${pen ? 'L' : 'M'}${c(xAt(p.x) + off)} ${c(yClamp(p.y))}`
      pen = true
    }
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`)
    if (d) out.push(`<path d="${d}" stroke="${color}" stroke-width="2" fill="none"/>`)
    for (const p of pts) {
      const x = xAt(p.x) + off
      if (p.lo !== null && p.hi !== null && (ok(p.lo) || ok(p.hi))) out.push(errorBar(x, yClamp(p.lo), yClamp(p.hi), color))
      if (p.y !== null && o.markers !== false) out.push(`<circle cx="${c(x)}" cy="${c(yClamp(p.y))}" r="3.5" fill="${color}"/>`)
    }
    out.push('</g>')
  })
  footnote(out, l, omitted, log ? '≤ 0 (or not finite) on the log axis' : 'not finite (or beyond ±1e12)')
  out.push('</svg>')
  return out.join('\n')
}

export interface BarSeries {
  name: string
  /** One value per category; null = no bar. Optional error bars per category. */
  values: Array<number | null>
  lo?: Array<number | null>
  hi?: Array<number | null>
}

export interface BarChartOptions extends ChartFrame {
  categories: string[]
  series: BarSeries[]
  /** Label only every n-th category on the x axis (default 1: all), for many narrow categories. */
  labelEvery?: number
}

/** Bars grouped per category, one bar per series; the y axis always includes 0. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 640
  const l = layout(o, legendRows(o.series.map((s) => s.name), width))
  const out = open(o, l)
  out.push(...legend(o.series.map((s) => s.name), l, (o.title ? 24 : 8) + 12).svg)
  let omitted = 0
  const vals: number[] = [0]
  for (const s of o.series) {
    for (const v of [...s.values, ...(s.lo ?? []), ...(s.hi ?? [])]) {
      if (finite(v)) vals.push(v)
    }
    for (const v of s.values) if (v !== null && !finite(v)) omitted++
  }
  const yAxis = linearAxis(vals, l.bottom, l.top)
  out.push(...yAxisSvg(yAxis, l, o.yFormat ?? formatTick))
  const n = Math.max(1, o.categories.length)
  const slot = (l.right - l.left) / n
  const groupW = slot * 0.8
  const barW = groupW / Math.max(1, o.series.length)
  const zero = yAxis.at(0)
  o.categories.forEach((cat, ci) => {
    const cx = l.left + slot * (ci + 0.5)
    if (ci % Math.max(1, Math.floor(o.labelEvery ?? 1) || 1) === 0) out.push(`<text x="${c(cx)}" y="${c(l.bottom + 17)}" text-anchor="middle">${escapeXml(cat)}</text>`)
    o.series.forEach((s, si) => {
      const v = s.values[ci]
      if (!finite(v)) return
      const color = PALETTE[si % PALETTE.length]
      const x = cx - groupW / 2 + si * barW
      const y = yAxis.at(v)
      out.push(`<rect x="${c(x + 1)}" y="${c(Math.min(y, zero))}" width="${c(Math.max(1, barW - 2))}" height="${c(Math.abs(zero - y))}" fill="${color}"><title>${escapeXml(`${s.name}, ${cat}: ${formatTick(v)}`)}</title></rect>`)
      const lo = s.lo?.[ci]
      const hi = s.hi?.[ci]
      if (finite(lo) && finite(hi)) out.push(errorBar(x + barW / 2, yAxis.at(lo), yAxis.at(hi), '#333'))
    })
  })
  footnote(out, l, omitted, 'not finite (or beyond ±1e12)')
  out.push('</svg>')
  return out.join('\n')
}

/** Linear-interpolation quantile (R type 7) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  const pos = (sorted.length - 1) * q
  const i = Math.floor(pos)
  const f = pos - i
  return i + 1 < sorted.length ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i]
}

export interface DistributionSeries {
  name: string
  /** Per category, the members' values. */
  values: number[][]
}

export interface DistributionChartOptions extends ChartFrame {
  categories: string[]
  series: DistributionSeries[]
  yMin?: number
  yMax?: number
}

/** Per category, one column per series: a quartile box with a median line and every value as a dot. */
export function distributionChart(o: DistributionChartOptions): string {
  const width = o.width ?? 640
  const l = layout(o, legendRows(o.series.map((s) => s.name), width))
  const out = open(o, l)
  out.push(...legend(o.series.map((s) => s.name), l, (o.title ? 24 : 8) + 12).svg)
  let omitted = 0
  const clean = o.series.map((s) =>
    o.categories.map((_, ci) => {
      const vs = s.values[ci] ?? []
      const ok = vs.filter(finite)
      omitted += vs.length - ok.length
      return ok
    }),
  )
  const all = clean.flat(2)
  const yAxis = linearAxis(all, l.bottom, l.top, { min: o.yMin, max: o.yMax })
  out.push(...yAxisSvg(yAxis, l, o.yFormat ?? formatTick))
  const n = Math.max(1, o.categories.length)
  const slot = (l.right - l.left) / n
  const groupW = slot * 0.84
  const colW = groupW / Math.max(1, o.series.length)
  const yc = (v: number) => Math.min(l.bottom, Math.max(l.top, yAxis.at(v)))
  o.categories.forEach((cat, ci) => {
    const cx = l.left + slot * (ci + 0.5)
    out.push(`<text x="${c(cx)}" y="${c(l.bottom + 17)}" text-anchor="middle">${escapeXml(cat)}</text>`)
    o.series.forEach((s, si) => {
      const vs = [...clean[si][ci]].sort((a, b) => a - b)
      if (!vs.length) return
      const color = PALETTE[si % PALETTE.length]
      const mid = cx - groupW / 2 + (si + 0.5) * colW
      const boxW = colW * 0.7
      const q1 = yc(quantile(vs, 0.25))
      const q3 = yc(quantile(vs, 0.75))
      const med = yc(quantile(vs, 0.5))
      out.push(`<g class="dist" data-series="${escapeXml(s.name)}" data-category="${escapeXml(cat)}">`)
      out.push(`<rect x="${c(mid - boxW / 2)}" y="${c(Math.min(q1, q3))}" width="${c(boxW)}" height="${c(Math.abs(q1 - q3))}" fill="${color}" fill-opacity="0.15" stroke="${color}"/>`)
      out.push(`<line x1="${c(mid - boxW / 2)}" x2="${c(mid + boxW / 2)}" y1="${c(med)}" y2="${c(med)}" stroke="${color}" stroke-width="2.5"/>`)
      // Dots spread across the box by a fixed low-discrepancy sequence: deterministic, few overlaps.
      vs.forEach((v, i) => {
        const dx = (((i * 0.6180339887) % 1) - 0.5) * boxW * 0.9
        out.push(`<circle cx="${c(mid + dx)}" cy="${c(yc(v))}" r="2" fill="${color}" fill-opacity="0.7"/>`)
      })
      out.push('</g>')
    })
  })
  footnote(out, l, omitted, 'not finite (or beyond ±1e12)')
  out.push('</svg>')
  return out.join('\n')
}
