/**
 * The field report's topology map (field-report.ts; svg.ts has no map): nodes at their positions
 * (x, y in metres, one scale on both axes, y up) or, when any node has no position, evenly on a
 * circle in address order; links drawn between them coloured by quality (the share of beacons
 * heard, adhoc/neighbours.ts: 0 red → 1 green; grey when unknown), the worst drawn last so they
 * stand out. Like svg.ts: a pure function of its input, fixed number formatting, escaped text, no
 * coordinate ever NaN or Infinity (links to nodes the snapshot does not list are left out and
 * counted in a footnote).
 */
import type { TopologySnapshot } from '../field-test-types.ts'
import { escapeXml, formatTick, linearTicks } from './svg.ts'

/** A coordinate: two decimals, never NaN/Infinity (that would be a bug in the layout). */
function c(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`map: non-finite coordinate ${v}`)
  const r = Math.round(v * 100) / 100
  return String(Object.is(r, -0) ? 0 : r)
}

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e12

/** How a node is named on the page: its name, else its address (simulation ids as is, real addresses as 8 hex digits). */
export function nodeLabel(node: number, name?: string): string {
  if (name) return name
  return node >= 0 && node < 0x10000 ? String(node) : (node >>> 0).toString(16).padStart(8, '0')
}

/** Link quality 0..1 as a colour from red through yellow to green; grey when unknown. */
export function qualityColor(q: number | undefined): string {
  if (!finite(q)) return '#999'
  const f = Math.min(1, Math.max(0, q))
  return `hsl(${Math.round(f * 120)}, 75%, 40%)`
}

export interface MapOptions {
  title?: string
  width?: number
  height?: number
  /** Write node names next to the nodes (default: when there are at most 30). */
  labels?: boolean
}

/** The map of one topology snapshot (see the top of this file). */
export function topologyMap(t: TopologySnapshot, o: MapOptions = {}): string {
  const w = o.width ?? 480
  const nodes = [...new Map(t.nodes.map((n) => [n.node, n])).values()].sort((a, b) => a.node - b.node)
  const positioned = nodes.length > 0 && nodes.every((n) => finite(n.x) && finite(n.y))
  const top = (o.title ? 24 : 6) + 24
  const margin = { left: positioned ? 52 : 16, right: 14, bottom: positioned ? 40 : 16 }
  let h = o.height ?? 460
  // The field's extent with a 5 % margin; a wide, flat field gets a lower picture, not empty space.
  let x0 = 0, x1 = 1, y0 = 0, y1 = 1
  if (positioned) {
    const xs = nodes.map((n) => n.x!)
    const ys = nodes.map((n) => n.y!)
    ;[x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
    const pad = Math.max(x1 - x0, y1 - y0, 1) * 0.05
    ;[x0, x1, y0, y1] = [x0 - pad, x1 + pad, y0 - pad, y1 + pad]
    const fit = ((w - margin.left - margin.right) / (x1 - x0)) * (y1 - y0)
    h = Math.min(h, Math.max(160, Math.ceil(top + fit + margin.bottom)))
  }
  const box = { left: margin.left, right: w - margin.right, top, bottom: h - margin.bottom }
  const out = [
    `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(o.title ?? 'topology')}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#fff"/>`,
  ]
  if (o.title) out.push(`<text x="${c(w / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`)
  out.push(...mapLegend(box.left, top - 10))

  const at = new Map<number, [number, number]>()
  if (positioned) {
    const s = Math.min((box.right - box.left) / (x1 - x0), (box.bottom - box.top) / (y1 - y0))
    const ox = box.left + ((box.right - box.left) - s * (x1 - x0)) / 2
    const oy = box.bottom - ((box.bottom - box.top) - s * (y1 - y0)) / 2
    const px = (x: number) => ox + (x - x0) * s
    const py = (y: number) => oy - (y - y0) * s
    for (const n of nodes) at.set(n.node, [px(n.x!), py(n.y!)])
    out.push(`<rect x="${c(px(x0))}" y="${c(py(y1))}" width="${c(s * (x1 - x0))}" height="${c(s * (y1 - y0))}" fill="none" stroke="#ccc"/>`)
    for (const v of linearTicks(x0, x1, 4)) {
      out.push(`<text x="${c(px(v))}" y="${c(py(y0) + 14)}" text-anchor="middle">${escapeXml(formatTick(v))}</text>`)
    }
    for (const v of linearTicks(y0, y1, 4)) {
      out.push(`<text x="${c(px(x0) - 4)}" y="${c(py(v) + 4)}" text-anchor="end">${escapeXml(formatTick(v))}</text>`)
    }
    out.push(`<text x="${c((box.left + box.right) / 2)}" y="${c(h - 8)}" text-anchor="middle">x, m</text>`)
    const my = (box.top + box.bottom) / 2
    out.push(`<text x="12" y="${c(my)}" text-anchor="middle" transform="rotate(-90 12 ${c(my)})">y, m</text>`)
  } else {
    const cx = (box.left + box.right) / 2
    const cy = (box.top + box.bottom) / 2
    const r = Math.max(10, Math.min(box.right - box.left, box.bottom - box.top) / 2 - 18)
    nodes.forEach((n, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length
      at.set(n.node, [cx + r * Math.cos(a), cy + r * Math.sin(a)])
    })
  }

  let dropped = 0
  const links = t.links.filter((l) => {
    const ok = at.has(l.a) && at.has(l.b) && l.a !== l.b
    if (!ok) dropped++
    return ok
  })
  // Unknown quality first, then best to worst: poor links are drawn on top.
  links.sort((p, q) => (finite(q.quality) ? q.quality : 2) - (finite(p.quality) ? p.quality : 2))
  const name = new Map(nodes.map((n) => [n.node, nodeLabel(n.node, n.name)]))
  out.push('<g class="links">')
  for (const l of links) {
    const [ax, ay] = at.get(l.a)!
    const [bx, by] = at.get(l.b)!
    const q = finite(l.quality) ? `quality ${formatTick(Number(l.quality.toFixed(3)))}` : 'quality unknown'
    out.push(`<line x1="${c(ax)}" y1="${c(ay)}" x2="${c(bx)}" y2="${c(by)}" stroke="${qualityColor(l.quality)}" stroke-width="1.6"><title>${escapeXml(`${name.get(l.a)} – ${name.get(l.b)}: ${q}`)}</title></line>`)
  }
  out.push('</g>')
  const radius = nodes.length <= 30 ? 5 : nodes.length <= 200 ? 3.5 : 2
  const labels = o.labels ?? nodes.length <= 30
  out.push('<g class="nodes">')
  for (const n of nodes) {
    const [x, y] = at.get(n.node)!
    const label = escapeXml(name.get(n.node)!)
    out.push(`<circle cx="${c(x)}" cy="${c(y)}" r="${radius}" fill="#222"><title>${label}</title></circle>`)
    if (labels) out.push(`<text x="${c(x + radius + 2)}" y="${c(y - radius - 1)}" font-size="10" fill="#444">${label}</text>`)
  }
  out.push('</g>')
  const notes = [`${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${links.length} link${links.length === 1 ? '' : 's'}`]
  if (!positioned && nodes.length) notes.push('no positions: on a circle')
  if (dropped) notes.push(`${dropped} link${dropped === 1 ? '' : 's'} to unlisted nodes not shown`)
  out.push(`<text x="${c(w - 6)}" y="${c(h - (positioned ? 24 : 4))}" text-anchor="end" font-size="10" fill="#777">${escapeXml(notes.join('; '))}</text>`)
  out.push('</svg>')
  return out.join('\n')
}

/** The colour key: quality 0, .25, …, 1 and unknown. */
function mapLegend(x0: number, y: number): string[] {
  const out = [`<text x="${c(x0)}" y="${c(y)}">link quality</text>`]
  let x = x0 + 70
  for (const q of [0, 0.25, 0.5, 0.75, 1, undefined]) {
    out.push(`<rect x="${c(x)}" y="${c(y - 9)}" width="14" height="10" fill="${qualityColor(q)}"/>`)
    const text = q === undefined ? 'unknown' : formatTick(q)
    out.push(`<text x="${c(x + 18)}" y="${c(y)}">${text}</text>`)
    x += 26 + text.length * 6.5
  }
  return out
}
