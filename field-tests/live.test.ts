/**
 * The must-show, as a user runs it: `spinmesh field-test plan` maps the small scenario
 * (scenarios/live-small.yaml) onto six local nodes of an inventory, `field-test run` runs the live
 * hub and six `spinmesh run` daemons on loopback (real processes, real time), `field-test collect`
 * turns their event logs into the metrics JSON, `spinmesh sim` runs the same scenario in the
 * simulator, and `spinmesh report` puts both side by side. Both results have every report section's
 * data, their PDRs agree within 5 points, and the page renders in headless Chromium without errors
 * or requests to the network.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../runtime/processes.ts'
import { loadPage } from '../gateway/chromium.ts'
import type { MetricsResult } from './metrics-result.ts'
import { SECTION_IDS } from './report/field-report.ts'

const scenario = new URL('./scenarios/live-small.yaml', import.meta.url).pathname

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

test('a live run and a simulated run of the same scenario: same report sections, PDR within 5 points', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-live-'))
  try {
    const port = await freePort()
    const inventory = join(dir, 'inventory.yaml')
    writeFileSync(inventory, ['security: { mode: open }', 'nodes:', ...[1, 2, 3, 4, 5, 6].map((i) => `  - { name: n${i}, radio: { kind: hub, hub: '127.0.0.1:${port}' } }`)].join('\n'))
    const plan = await run(['field-test', 'plan', scenario, '--inventory', inventory, '--out', join(dir, 'run')])
    assert.is(plan.code, 0, plan.out)
    assert.match(plan.out, /planned live-small \(seed 1, aodv\) on 6 nodes: 3 flows/)
    const live = await run(['field-test', 'run', join(dir, 'run')])
    assert.is(live.code, 0, live.out)
    const collect = await run(['field-test', 'collect', join(dir, 'run'), '--out', join(dir, 'live.json')])
    assert.is(collect.code, 0, collect.out)
    const sim = await run(['sim', scenario, '--json', join(dir, 'sim.json')])
    assert.is(sim.code, 0, sim.out)
    const [l, s] = ['live.json', 'sim.json'].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as MetricsResult & { collect?: { skipped: Record<string, number>; files: number } })
    assert.equal([l.source, s.source], ['live', 'simulation'])
    assert.ok(l.delivery.expected > 150, `the live nodes sent the scenario's traffic: ${l.delivery.expected} expected deliveries`)
    assert.ok(Math.abs(l.delivery.ratio - s.delivery.ratio) <= 0.05, `PDR live ${l.delivery.ratio} vs simulated ${s.delivery.ratio}`)
    assert.equal(l.collect!.skipped, { truncated: 0, corrupt: 0, invalid: 0 })
    assert.is(l.collect!.files, 6)
    // Both carry the data of every section.
    for (const r of [l, s]) {
      assert.ok(r.timeline!.points.length > 0 && r.perNode!.length === 6 && r.latencyCdf!.length === 101 && r.topology!.nodes.length === 6, r.source)
      assert.ok(r.topology!.links.length >= 5, `${r.source} links ${r.topology!.links.length}`)
      assert.ok(r.airtime.totalSeconds > 0 && r.overhead.controlPackets > 0, r.source)
    }
    const report = await run(['report', join(dir, 'sim.json'), join(dir, 'live.json'), '--out', join(dir, 'report.html'), '--labels', 'simulated,live'])
    assert.is(report.code, 0, report.out)
    const html = readFileSync(join(dir, 'report.html'), 'utf8')
    for (const id of SECTION_IDS) assert.ok(html.includes(`id="${id}"`), `section ${id}`)
    assert.not.match(html, /No data/i, 'no section lacks data for either run')
    const page = await loadPage(`file://${join(dir, 'report.html')}`, { waitFor: "document.querySelectorAll('section svg').length >= 8", timeoutMs: 20_000 })
    assert.ok(page.satisfied, 'every chart is drawn')
    assert.equal(page.consoleErrors, [])
    assert.equal(page.externalRequests, [])
    assert.equal(page.requests.filter((u) => !u.startsWith('file:')), [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
