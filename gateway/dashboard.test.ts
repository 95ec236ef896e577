// The dashboard page in headless Chromium (gateway/chromium.ts) against a real GatewayHttp with
// a fake state, while samples are published every 50 ms: the topology, charts, radio table and
// counters are drawn, the stream connects, nothing is logged as an error, nothing leaves the machine.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { GatewayHttp } from './http.ts'
import { externalUrls, loadPage } from './chromium.ts'
import type { DashboardState } from './dashboard-state.ts'

const T0 = 1_700_000_000_000

function meshState(withPositions = true): DashboardState {
  const nodes: DashboardState['nodes'] = [
    { address: '0000000a', role: 'gateway', name: 'gateway', position: [0, 0], radio: { state: 'up', airtimeMs: 5400, channelLoadPermille: 42, queued: 2 } },
    { address: '0000000b', role: 'relay', name: 'relay-north', position: [120, 80], radio: { state: 'up', airtimeMs: 2100, channelLoadPermille: 30, queued: 0 } },
    { address: '0000000c', role: 'relay', position: [-110, 90], radio: { state: 'reconnecting', airtimeMs: 800 } },
    { address: '0000000d', role: 'sensor', name: 'greenhouse', position: [230, 160], radio: { state: 'up', airtimeMs: 300, queued: 0 } },
    { address: '0000000e', role: 'sensor', name: 'barn', position: [-220, 170] },
    { address: '0000000f', role: 'sensor', position: [10, 260] },
  ]
  if (!withPositions) for (const n of nodes) delete n.position
  return {
    network: 'farm',
    gateway: '0000000a',
    at: T0,
    nodes,
    links: [
      { a: '0000000a', b: '0000000b', quality: 0.95, rssi: -71, snr: 9.5 },
      { a: '0000000a', b: '0000000c', quality: 0.7, rssi: -88, snr: 4 },
      { a: '0000000b', b: '0000000d', quality: 0.55 },
      { a: '0000000c', b: '0000000e', quality: 0.3, rssi: -112, snr: -6 },
      { a: '0000000b', b: '0000000f', quality: 0.15 },
    ],
    routes: [
      { from: '0000000d', dst: '0000000a', nextHop: '0000000b', hops: 2 },
      { from: '0000000b', dst: '0000000a', nextHop: '0000000a', hops: 1 },
      { from: '0000000a', dst: '0000000d', nextHop: '0000000b', hops: 2 },
    ],
    trees: [{ group: 'group:0', leader: '0000000a', links: [{ a: '0000000a', b: '0000000c' }, { a: '0000000c', b: '0000000e' }] }],
    feeds: [
      { id: 1, name: 'temperature', fields: [{ name: 'air', unit: '°C' }, { name: 'soil', unit: '°C' }] },
      { id: 2, name: 'battery', fields: [{ name: 'voltage', unit: 'V' }] },
    ],
    stream: { accepted: 1234, streamed: 1200, spooled: 34, brokerConnected: true, sinks: { mqtt: { acked: 1200 } } },
  }
}

/** Publish a sample of each feed from two origins every 50 ms until stopped. */
function publishEvery50ms(g: GatewayHttp): () => void {
  let seq = 0
  const timer = setInterval(() => {
    seq++
    const ts = T0 + seq * 50
    for (const [i, origin] of ['0000000d', '0000000e'].entries()) {
      g.publish({ feed: 'temperature', origin, seq, ts, values: [20 + 2 * i + Math.sin(seq / 5 + i), 15 + seq / 100] })
      g.publish({ feed: 'battery', origin, seq, ts, values: [3.7 - i / 10 - seq / 1000] })
    }
    if (seq % 10 === 0) g.event({ kind: 'route-change', at: ts, node: '0000000d' })
  }, 50)
  return () => clearInterval(timer)
}

/** The value of attribute `attr` on the element whose opening tag matches `tag` (e.g. `svg id="topology"`). */
function attrOf(dom: string, tag: RegExp, attr: string): string | undefined {
  const open = dom.match(tag)?.[0]
  return open?.match(new RegExp(`\\s${attr}="([^"]*)"`))?.[1]
}

const READY = `(() => {
  const topo = document.getElementById('topology')
  const charts = [...document.querySelectorAll('svg.feed-chart')]
  return document.body.dataset.connected === 'true' && topo && topo.dataset.nodes !== '0' &&
    charts.length === 2 && charts.every((c) => Number(c.dataset.points) > 0)
})()`

test('the page draws topology, radios, counters and live charts, with no console errors and no external requests', async () => {
  const g = await GatewayHttp.start({ host: '127.0.0.1', port: 0, state: () => ({ ...meshState(), at: Date.now() }), stateIntervalMs: 200 })
  const stop = publishEvery50ms(g)
  try {
    // DASHBOARD_SCREENSHOT=/tmp/dashboard.png saves what the browser drew, to look at.
    const r = await loadPage(g.url, { waitFor: READY, timeoutMs: 20_000, settleMs: 1500, screenshot: process.env.DASHBOARD_SCREENSHOT })
    assert.ok(r.satisfied, `page never became ready; errors: ${r.consoleErrors.join(' | ')}`)
    assert.equal(r.consoleErrors, [], 'console errors')
    assert.equal(r.externalRequests, [], 'external requests')
    assert.ok(r.requests.length >= 4 && r.requests.every((u) => u.startsWith(g.url)), `requests: ${r.requests.join(', ')}`)
    assert.ok(r.requests.includes(g.url + 'api/state') && r.requests.includes(g.url + 'api/stream'))

    const topo = /<svg id="topology"[^>]*>/
    assert.is(attrOf(r.dom, topo, 'data-nodes'), '6')
    assert.is(attrOf(r.dom, topo, 'data-links'), '5')
    assert.is(attrOf(r.dom, topo, 'data-routes'), '2', 'only routes towards the gateway are drawn')
    assert.is(attrOf(r.dom, topo, 'data-tree-links'), '2')
    assert.is((r.dom.match(/<g class="node /g) ?? []).length, 6)
    assert.match(r.dom, /<g class="node gateway" data-address="0000000a">/)
    assert.match(r.dom, 'multicast tree group:0')
    assert.is(attrOf(r.dom, /<body[^>]*>/, 'data-connected'), 'true')

    for (const feed of ['temperature', 'battery']) {
      const chart = new RegExp(`<svg class="feed-chart" data-feed="${feed}"[^>]*>`)
      const points = Number(attrOf(r.dom, chart, 'data-points'))
      assert.ok(points > 0, `${feed}: ${points} points`)
      assert.is(attrOf(r.dom, chart, 'data-series'), '2', `${feed}: one line per origin`)
    }
    assert.match(r.dom, 'air (°C)')
    assert.match(r.dom, 'voltage (V)')
    assert.ok((r.dom.match(/<polyline /g) ?? []).length >= 4)

    assert.is((r.dom.match(/<tr data-address=/g) ?? []).length, 4, 'one radio row per node with a radio')
    assert.match(r.dom, /<tr data-address="0000000c" data-state="reconnecting">/)
    assert.match(r.dom, '5.40 s')
    assert.match(r.dom, '4.2 %')
    assert.match(r.dom, /<dd id="stream-accepted">1234<\/dd>/)
    assert.match(r.dom, /<dd id="stream-broker" data-connected="true">connected<\/dd>/)
    assert.match(r.dom, /<li data-kind="route-change">/)

    // Nothing the browser was given names another host either.
    const dir = new URL('./dashboard/', import.meta.url)
    for (const f of ['index.html', 'dashboard.js', 'dashboard.css']) assert.equal(externalUrls(readFileSync(new URL(f, dir), 'utf8')), [], f)
    assert.equal(externalUrls(r.dom), [])
    assert.ok(g.stats().sent > 0)
  } finally {
    stop()
    await g.close()
  }
})

test('nodes without positions are laid out on a circle inside the picture', async () => {
  const g = await GatewayHttp.start({ state: () => meshState(false), stateIntervalMs: 200 })
  const stop = publishEvery50ms(g)
  try {
    const r = await loadPage(g.url, { waitFor: READY, timeoutMs: 20_000, screenshot: process.env.DASHBOARD_SCREENSHOT?.replace(/\.png$/, '-circle.png') })
    assert.ok(r.satisfied)
    assert.equal(r.consoleErrors, [])
    const circles = [...r.dom.matchAll(/<g class="node[^"]*"[^>]*><circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])])
    assert.is(circles.length, 6)
    for (const [x, y] of circles) assert.ok(x >= 0 && x <= 800 && y >= 0 && y <= 520, `${x},${y} inside the viewBox`)
    const distinct = new Set(circles.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`))
    assert.is(distinct.size, 6)
  } finally {
    stop()
    await g.close()
  }
})

test('the page shows a lost stream and reconnects when the gateway is back', async () => {
  const g1 = await GatewayHttp.start({ state: () => meshState(), stateIntervalMs: 200 })
  const port = g1.port
  // Polled every 100 ms: the sequence of data-connected values seen (the retry is 2 s, so none is missed).
  const seen = `(() => {
    const c = document.body.dataset.connected, t = (window.__seen = window.__seen || [])
    if (t[t.length - 1] !== c) t.push(c)
    return t.join(',') === 'false,true,false,true' && document.getElementById('connection').textContent === 'live'
  })()`
  const page = loadPage(g1.url, { waitFor: seen, timeoutMs: 20_000 })
  let g2: GatewayHttp | undefined
  try {
    const deadline = Date.now() + 15_000
    while (g1.stats().clients === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.is(g1.stats().clients, 1, 'the page connected')
    await new Promise((r) => setTimeout(r, 300)) // let it see "true"
    await g1.close()
    g2 = await GatewayHttp.start({ state: () => meshState(), stateIntervalMs: 200, port })
    const r = await page
    assert.ok(r.satisfied, `connection states never went false,true,false,true; errors: ${r.consoleErrors.join(' | ')}`)
    assert.ok(g2.stats().sent > 0, 'the new gateway streamed to the page')
    assert.equal(r.externalRequests, [])
    assert.equal(r.console.filter((m) => m.type === 'exception'), [])
  } finally {
    await g1.close()
    await g2?.close()
  }
})

test('externalUrls ignores this machine and namespace URIs', () => {
  assert.equal(externalUrls('fetch("http://127.0.0.1:8080/x") new URL("http://localhost/") "http://www.w3.org/2000/svg"'), [])
  assert.equal(externalUrls('<script src="https://cdn.example.com/lib.js"></script> wss://broker.example:443/'), ['https://cdn.example.com/lib.js', 'wss://broker.example:443/'])
})

test.run()
