// spinmesh gateway dashboard (issue 9). Plain ES2020, no framework, no build step, no requests
// beyond its own origin. Fetches /api/state, then follows /api/stream (Server-Sent Events:
// `state`, `sample`, `event`, `state-error`) and redraws. The DOM is marked for tests:
// `data-nodes` on #topology, `data-points` on each .feed-chart, `data-connected` on <body>.
// The types it draws are in gateway/dashboard-state.ts.
'use strict'

;(() => {
  const SVG = 'http://www.w3.org/2000/svg'
  const WINDOW_MS = 60000
  const MIN_SPAN_MS = 10000
  const MAX_POINTS = 600 // per series
  const MAX_EVENTS = 50
  const TOPO = { w: 800, h: 520, margin: 40 }
  const CHART = { w: 600, h: 200, left: 56, right: 12, top: 12, bottom: 28 }
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f']

  let state = null
  /** feed name → { fields, selected, series: Map<origin, Array<{ts, values}>>, el } */
  const feeds = new Map()
  let chartsDirty = false
  let source = null
  let retryMs = 1000
  let retryTimer = null

  const $ = (id) => document.getElementById(id)

  function el(tag, attrs, text) {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
    if (text !== undefined) e.textContent = String(text)
    return e
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
    if (text !== undefined) e.textContent = String(text)
    return e
  }

  function title(parent, text) {
    parent.appendChild(svg('title', {}, text))
    return parent
  }

  function colour(i) {
    return PALETTE[i % PALETTE.length]
  }

  /** Red (0) through amber to green (1). */
  function qualityColour(q) {
    return `hsl(${Math.round(Math.max(0, Math.min(1, q)) * 120)}, 70%, 42%)`
  }

  function fmt(n, digits) {
    if (typeof n !== 'number' || !Number.isFinite(n)) return '—'
    const a = Math.abs(n)
    if (digits !== undefined) return n.toFixed(digits)
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return n.toExponential(2)
    return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2)
  }

  // ---- connection ------------------------------------------------------------------------

  function setConnected(on, text) {
    document.body.dataset.connected = String(on)
    const s = $('connection')
    s.dataset.connected = String(on)
    s.textContent = text
  }

  function connect() {
    clearTimeout(retryTimer)
    if (source) source.close()
    source = new EventSource('api/stream')
    source.addEventListener('open', () => {
      retryMs = 1000
      setConnected(true, 'live')
    })
    source.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself; CLOSED: it gave up (503, bad response), so we retry.
      if (source.readyState === EventSource.CLOSED) {
        setConnected(false, `disconnected, retrying in ${Math.round(retryMs / 1000)} s`)
        retryTimer = setTimeout(connect, retryMs)
        retryMs = Math.min(retryMs * 2, 30000)
      } else {
        setConnected(false, 'reconnecting…')
      }
    })
    source.addEventListener('state', (e) => onState(parse(e)))
    source.addEventListener('sample', (e) => onSample(parse(e)))
    source.addEventListener('event', (e) => onEvent(parse(e)))
    source.addEventListener('state-error', (e) => {
      const m = parse(e)
      setConnected(true, `live, state unavailable: ${m ? m.message : '?'}`)
    })
  }

  function parse(e) {
    try {
      return JSON.parse(e.data)
    } catch {
      return null
    }
  }

  async function start() {
    try {
      const r = await fetch('api/state', { cache: 'no-store' })
      if (r.ok) onState(await r.json())
    } catch {
      // The stream's first message carries the state too.
    }
    connect()
  }

  // ---- state -----------------------------------------------------------------------------

  function onState(s) {
    if (!s || !Array.isArray(s.nodes)) return
    state = s
    $('network').textContent = s.network
    $('gateway').textContent = s.gateway
    $('state-at').textContent = new Date(s.at).toLocaleTimeString()
    $('state-at').setAttribute('datetime', new Date(s.at).toISOString())
    drawTopology(s)
    drawRadios(s)
    drawRoutes(s)
    drawStream(s.stream || {})
    for (const f of s.feeds || []) feedEntry(f.name, f.fields)
    chartsDirty = true
    scheduleCharts()
  }

  function nodeLabel(n) {
    return n.name ? n.name : n.address
  }

  /** Screen coordinates for every node: positioned ones scaled to fit, the rest on a circle. */
  function layout(nodes) {
    const placed = nodes.filter((n) => Array.isArray(n.position))
    const loose = nodes.filter((n) => !Array.isArray(n.position))
    const world = new Map()
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity
    for (const n of placed) {
      const [x, y] = n.position
      world.set(n.address, [x, y])
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y)
    }
    if (placed.length === 0) { minX = -1; maxX = 1; minY = -1; maxY = 1 }
    const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2
    const radius = placed.length === 0 ? 1 : Math.max(maxX - minX, maxY - minY, 1) * 0.6
    loose.forEach((n, i) => {
      const a = (2 * Math.PI * i) / loose.length - Math.PI / 2
      world.set(n.address, [cx + radius * Math.cos(a), cy + radius * Math.sin(a)])
    })
    for (const [x, y] of world.values()) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y)
    }
    const spanX = Math.max(maxX - minX, 1e-9), spanY = Math.max(maxY - minY, 1e-9)
    const scale = Math.min((TOPO.w - 2 * TOPO.margin) / spanX, (TOPO.h - 2 * TOPO.margin) / spanY)
    const offX = (TOPO.w - scale * spanX) / 2, offY = (TOPO.h - scale * spanY) / 2
    const screen = new Map()
    for (const [addr, [x, y]] of world) {
      // North up: world y grows upwards, SVG y downwards.
      screen.set(addr, [offX + (x - minX) * scale, TOPO.h - (offY + (y - minY) * scale)])
    }
    return screen
  }

  function drawTopology(s) {
    const root = $('topology')
    root.replaceChildren()
    const at = layout(s.nodes)
    const defs = svg('defs')
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' })
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'route-head' }))
    defs.appendChild(marker)
    root.appendChild(defs)

    const gTrees = svg('g', { class: 'trees' })
    const gLinks = svg('g', { class: 'links' })
    const gRoutes = svg('g', { class: 'routes' })
    const gNodes = svg('g', { class: 'nodes' })
    root.append(gTrees, gLinks, gRoutes, gNodes)

    let treeLinks = 0
    const legend = $('legend')
    for (const old of legend.querySelectorAll('.tree-entry')) old.remove()
    ;(s.trees || []).forEach((t, i) => {
      const c = colour(i + 2)
      for (const l of t.links) {
        const p = at.get(l.a), q = at.get(l.b)
        if (!p || !q) continue
        gTrees.appendChild(title(svg('line', { x1: p[0], y1: p[1], x2: q[0], y2: q[1], stroke: c, class: 'tree-link', 'data-group': t.group }), `tree ${t.group}: ${l.a} – ${l.b}`))
        treeLinks++
      }
      const leader = at.get(t.leader)
      if (leader) gTrees.appendChild(title(svg('circle', { cx: leader[0], cy: leader[1], r: 17, stroke: c, class: 'tree-leader' }), `leader of ${t.group}`))
      const item = el('li', { class: 'tree-entry' })
      const sw = el('span', { class: 'swatch tree' })
      sw.style.background = c
      item.append(sw, `multicast tree ${t.group} (leader ${t.leader}, ring)`)
      legend.appendChild(item)
    })

    let links = 0
    for (const l of s.links || []) {
      const p = at.get(l.a), q = at.get(l.b)
      if (!p || !q) continue
      const extra = [l.rssi !== undefined ? `RSSI ${l.rssi} dBm` : '', l.snr !== undefined ? `SNR ${l.snr} dB` : ''].filter(Boolean).join(', ')
      gLinks.appendChild(title(svg('line', {
        x1: p[0], y1: p[1], x2: q[0], y2: q[1], class: 'link',
        stroke: qualityColour(l.quality), 'stroke-width': (1 + 4 * l.quality).toFixed(2), 'data-quality': l.quality,
      }), `${l.a} – ${l.b}: quality ${Math.round(l.quality * 100)} %${extra ? `, ${extra}` : ''}`))
      links++
    }

    let routes = 0
    for (const r of s.routes || []) {
      if (r.dst !== s.gateway) continue
      const p = at.get(r.from), q = at.get(r.nextHop)
      if (!p || !q || r.from === r.nextHop) continue
      // Shorten towards the next hop so the arrow head stays outside its circle.
      const dx = q[0] - p[0], dy = q[1] - p[1], d = Math.hypot(dx, dy) || 1
      const k = (d - 14) / d
      gRoutes.appendChild(title(svg('line', {
        x1: p[0] + (dx * 10) / d, y1: p[1] + (dy * 10) / d, x2: p[0] + dx * k, y2: p[1] + dy * k, class: 'route', 'marker-end': 'url(#arrow)',
      }), `route ${r.from} → ${r.dst} via ${r.nextHop}, ${r.hops} hop${r.hops === 1 ? '' : 's'}`))
      routes++
    }

    for (const n of s.nodes) {
      const p = at.get(n.address)
      const isGateway = n.role === 'gateway' || n.address === s.gateway
      const g = svg('g', { class: `node ${n.role}${isGateway && n.role !== 'gateway' ? ' gateway' : ''}`, 'data-address': n.address })
      g.appendChild(svg('circle', { cx: p[0], cy: p[1], r: isGateway ? 12 : 8 }))
      g.appendChild(svg('text', { x: p[0], y: p[1] + (isGateway ? 26 : 21), 'text-anchor': 'middle' }, nodeLabel(n)))
      const radio = n.radio ? `, radio ${n.radio.state}` : ''
      title(g, `${n.address}${n.name ? ` (${n.name})` : ''}: ${n.role}${radio}`)
      gNodes.appendChild(g)
    }
    root.dataset.nodes = String(s.nodes.length)
    root.dataset.links = String(links)
    root.dataset.routes = String(routes)
    root.dataset.treeLinks = String(treeLinks)
  }

  function drawRadios(s) {
    const body = $('radios').tBodies[0]
    body.replaceChildren()
    for (const n of s.nodes) {
      if (!n.radio) continue
      const r = n.radio
      const tr = el('tr', { 'data-address': n.address, 'data-state': r.state })
      tr.append(
        el('td', {}, nodeLabel(n)),
        el('td', {}, n.role),
        el('td', { class: `radio-state ${r.state}` }, r.state),
        el('td', { class: 'num' }, `${fmt(r.airtimeMs / 1000, 2)} s`),
        el('td', { class: 'num' }, r.channelLoadPermille === undefined ? '—' : `${fmt(r.channelLoadPermille / 10, 1)} %`),
        el('td', { class: 'num' }, r.queued === undefined ? '—' : r.queued),
      )
      body.appendChild(tr)
    }
  }

  function drawRoutes(s) {
    const body = $('routes').tBodies[0]
    body.replaceChildren()
    const names = new Map(s.nodes.map((n) => [n.address, nodeLabel(n)]))
    const name = (a) => names.get(a) || a
    for (const r of s.routes || []) {
      const tr = el('tr', { class: r.dst === s.gateway ? 'to-gateway' : '' })
      tr.append(el('td', {}, name(r.from)), el('td', {}, name(r.dst)), el('td', {}, name(r.nextHop)), el('td', { class: 'num' }, r.hops))
      body.appendChild(tr)
    }
  }

  function drawStream(st) {
    $('stream-accepted').textContent = fmt(st.accepted, 0)
    $('stream-streamed').textContent = fmt(st.streamed, 0)
    $('stream-spooled').textContent = fmt(st.spooled, 0)
    const b = $('stream-broker')
    b.textContent = st.brokerConnected ? 'connected' : 'disconnected'
    b.dataset.connected = String(Boolean(st.brokerConnected))
    const sinks = $('sinks')
    sinks.replaceChildren()
    for (const [k, v] of Object.entries(st.sinks || {})) {
      sinks.append(el('dt', {}, k), el('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v)))
    }
  }

  // ---- events ----------------------------------------------------------------------------

  function onEvent(e) {
    if (!e || typeof e.kind !== 'string') return
    const list = $('events')
    const { kind, at, ...rest } = e
    const li = el('li', { 'data-kind': kind })
    li.append(el('time', {}, new Date(at).toLocaleTimeString()), ' ', el('strong', {}, kind), ' ', Object.keys(rest).length ? JSON.stringify(rest) : '')
    list.prepend(li)
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove()
  }

  // ---- feeds -----------------------------------------------------------------------------

  function feedEntry(name, fields) {
    let f = feeds.get(name)
    if (!f) {
      f = { fields: [], selected: 0, series: new Map(), el: null }
      feeds.set(name, f)
    }
    if (fields && fields.length) f.fields = fields
    if (!f.el) f.el = makeChart(name, f)
    syncFieldSelect(f)
    return f
  }

  function makeChart(name, f) {
    const box = el('figure', { class: 'feed', 'data-feed': name })
    const cap = el('figcaption')
    const select = el('select', { 'aria-label': `field of ${name}` })
    select.addEventListener('change', () => {
      f.selected = Number(select.value)
      chartsDirty = true
      scheduleCharts()
    })
    cap.append(el('strong', {}, name), ' ', select)
    const chart = svg('svg', { class: 'feed-chart', 'data-feed': name, 'data-points': 0, viewBox: `0 0 ${CHART.w} ${CHART.h}`, role: 'img', 'aria-label': `feed ${name}` })
    const legend = el('ul', { class: 'legend origins' })
    box.append(cap, chart, legend)
    $('feeds').appendChild(box)
    return { box, select, chart, legend }
  }

  function syncFieldSelect(f) {
    const sel = f.el.select
    const want = f.fields.map((x) => `${x.name}${x.unit ? ` (${x.unit})` : ''}`)
    const have = Array.from(sel.options).map((o) => o.textContent)
    if (want.join('\n') === have.join('\n')) return
    sel.replaceChildren(...want.map((t, i) => el('option', { value: i }, t)))
    if (f.selected >= want.length) f.selected = 0
    sel.value = String(f.selected)
  }

  function onSample(s) {
    if (!s || typeof s.feed !== 'string' || !Array.isArray(s.values)) return
    const f = feedEntry(s.feed)
    if (f.fields.length < s.values.length) {
      for (let i = f.fields.length; i < s.values.length; i++) f.fields.push({ name: `value ${i}`, unit: '' })
      syncFieldSelect(f)
    }
    let series = f.series.get(s.origin)
    if (!series) f.series.set(s.origin, (series = []))
    series.push({ ts: s.ts, values: s.values })
    if (series.length > 1 && series[series.length - 2].ts > s.ts) series.sort((a, b) => a.ts - b.ts)
    if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS)
    chartsDirty = true
    scheduleCharts()
  }

  let chartTimer = null
  function scheduleCharts() {
    if (chartTimer !== null) return
    chartTimer = setTimeout(() => {
      chartTimer = null
      if (!chartsDirty) return
      chartsDirty = false
      for (const [name, f] of feeds) drawChart(name, f)
    }, 100)
  }

  function drawChart(name, f) {
    const { chart, legend } = f.el
    chart.replaceChildren()
    legend.replaceChildren()
    const field = f.fields[f.selected] || { name: 'value', unit: '' }
    const k = f.selected
    let tMax = -Infinity
    for (const series of f.series.values()) if (series.length) tMax = Math.max(tMax, series[series.length - 1].ts)
    let tFirst = tMax
    for (const series of f.series.values()) {
      let drop = 0
      while (drop < series.length && series[drop].ts < tMax - WINDOW_MS) drop++
      if (drop) series.splice(0, drop)
      if (series.length) tFirst = Math.min(tFirst, series[0].ts)
    }
    // The time axis spans what is there, from 10 s up to the full window, so a fresh page shows lines, not a sliver.
    const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, Math.ceil((tMax - tFirst) / 10000) * 10000))
    const tMin = tMax - span
    let lo = Infinity, hi = -Infinity
    for (const series of f.series.values()) {
      for (const p of series) {
        const v = p.values[k]
        if (typeof v === 'number' && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v) }
      }
    }
    if (lo === Infinity) { lo = 0; hi = 1 }
    if (lo === hi) { lo -= 1; hi += 1 }
    const pad = (hi - lo) * 0.05
    lo -= pad; hi += pad
    const x0 = CHART.left, x1 = CHART.w - CHART.right, y0 = CHART.h - CHART.bottom, y1 = CHART.top
    const X = (t) => x0 + ((t - tMin) / span) * (x1 - x0)
    const Y = (v) => y0 - ((v - lo) / (hi - lo)) * (y0 - y1)

    const axes = svg('g', { class: 'axes' })
    axes.append(
      svg('line', { x1: x0, y1: y0, x2: x1, y2: y0 }),
      svg('line', { x1: x0, y1: y0, x2: x0, y2: y1 }),
      svg('text', { x: x0 - 4, y: y1 + 4, 'text-anchor': 'end' }, fmt(hi)),
      svg('text', { x: x0 - 4, y: y0, 'text-anchor': 'end' }, fmt(lo)),
      svg('text', { x: x0, y: CHART.h - 8, 'text-anchor': 'start' }, `−${span / 1000} s`),
      svg('text', { x: (x0 + x1) / 2, y: CHART.h - 8, 'text-anchor': 'middle' }, `−${span / 2000} s`),
      svg('text', { x: x1, y: CHART.h - 8, 'text-anchor': 'end' }, 'latest'),
      svg('text', { class: 'axis-label', x: 12, y: (y0 + y1) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(y0 + y1) / 2})` }, field.unit ? `${field.name} (${field.unit})` : field.name),
    )
    chart.appendChild(axes)

    let points = 0
    let i = 0
    for (const [origin, series] of f.series) {
      const c = colour(i++)
      // A non-finite value (sensor fault) splits the line into segments.
      let seg = []
      let lastXY = null
      const flush = () => {
        if (seg.length) chart.appendChild(title(svg('polyline', { points: seg.join(' '), stroke: c, class: 'series', 'data-origin': origin }), `${origin}: ${field.name}`))
        seg = []
      }
      for (const p of series) {
        const v = p.values[k]
        if (typeof v !== 'number' || !Number.isFinite(v)) { flush(); continue }
        lastXY = [X(p.ts), Y(v)]
        seg.push(`${lastXY[0].toFixed(1)},${lastXY[1].toFixed(1)}`)
        points++
      }
      flush()
      // A dot on the latest value (also what shows a series of one point).
      if (lastXY) chart.appendChild(svg('circle', { cx: lastXY[0].toFixed(1), cy: lastXY[1].toFixed(1), r: 3, fill: c, class: 'latest' }))
      const item = el('li')
      const sw = el('span', { class: 'swatch series' })
      sw.style.background = c
      const last = series.length ? series[series.length - 1].values[k] : undefined
      item.append(sw, `${origin}: ${fmt(last)}${field.unit ? ` ${field.unit}` : ''}`)
      legend.appendChild(item)
    }
    chart.dataset.points = String(points)
    chart.dataset.series = String(f.series.size)
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
