// The dashboard of a gateway fed by the simulated sensor field (the demo's 16-node LoRa grid,
// AODV), loaded in headless Chromium while the field runs: the topology shows the 16 nodes, their
// links and the sensors' routes to the gateway, the climate and soil charts fill with the samples
// streamed live; nothing is logged as an error and nothing is requested from another host.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findChromium, loadPage } from './chromium.ts'
import { pace, startFieldGateway } from './demo-test-support.ts'
import { waitFor } from './mqtt-test-support.ts'

/** The value of attribute `attr` on the element whose opening tag matches `tag`. */
function attrOf(dom: string, tag: RegExp, attr: string): string | undefined {
  return dom.match(tag)?.[0].match(new RegExp(`\\s${attr}="([^"]*)"`))?.[1]
}

const READY = `(() => {
  const topo = document.getElementById('topology')
  const chart = (feed) => document.querySelector('svg.feed-chart[data-feed="' + feed + '"]')
  return document.body.dataset.connected === 'true' && topo !== null && topo.dataset.nodes === '16' &&
    Number(topo.dataset.links) > 0 && Number(topo.dataset.routes) > 0 &&
    ['climate', 'soil'].every((f) => chart(f) !== null && Number(chart(f).dataset.points) > 0)
})()`

test('the dashboard of a running sensor field: 16 nodes, links, routes and live climate and soil charts', async () => {
  assert.ok(findChromium(), 'Chromium is installed (apt-get install chromium)')
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-dashboard-field-'))
  const fg = await startFieldGateway({ spoolDir: dir, http: 0, speed: 40 })
  // Beacons find neighbours and the first samples open routes; then the field runs at 40x while the page is open.
  fg.field.advanceTo(60_000)
  const pacer = pace(fg.field, { stepMs: 2000, everyMs: 50 })
  try {
    const url = fg.gateway.httpUrl!
    await waitFor(() => fg.field.meshView().routes.length > 0, 10_000, 'the sensors to have routes to the gateway')
    const r = await loadPage(url, { waitFor: READY, timeoutMs: 25_000, settleMs: 1000, screenshot: process.env.DASHBOARD_SCREENSHOT })
    const topo = /<svg id="topology"[^>]*>/
    assert.ok(r.satisfied, `the page never showed 16 nodes, links, routes and both charts: topology ${r.dom.match(topo)?.[0]}, charts ${(r.dom.match(/<svg class="feed-chart"[^>]*>/g) ?? []).join(' ')}; errors: ${r.consoleErrors.join(' | ')}`)
    assert.equal(r.consoleErrors, [], 'console errors')
    assert.equal(r.externalRequests, [], 'external requests')
    assert.ok(r.requests.every((u) => u.startsWith(url)), `every request went to the gateway: ${r.requests.join(', ')}`)
    assert.is(attrOf(r.dom, topo, 'data-nodes'), '16')
    assert.is((r.dom.match(/<g class="node /g) ?? []).length, 16, 'one node drawn per field node')
    assert.match(r.dom, /<g class="node gateway" data-address="00000001">/)
    const links = Number(attrOf(r.dom, topo, 'data-links'))
    const routes = Number(attrOf(r.dom, topo, 'data-routes'))
    assert.ok(links >= 15, `links ${links}: the grid is connected`)
    assert.ok(routes > 0, `routes ${routes}`)
    for (const feed of ['climate', 'soil']) {
      const points = Number(attrOf(r.dom, new RegExp(`<svg class="feed-chart" data-feed="${feed}"[^>]*>`), 'data-points'))
      assert.ok(points > 0, `${feed} chart: ${points} points`)
    }
    assert.ok(fg.accepted.length > 0)
    console.log(`  dashboard: 16 nodes, ${links} links, ${routes} routes; ${fg.accepted.length} samples accepted; ${r.requests.length} requests`)
  } finally {
    pacer.stop()
    await fg.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
