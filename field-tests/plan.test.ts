/** field-test plan: the simulator's flows with real addresses, configs the daemon accepts, and what a live run cannot do refused by name. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configError } from '../core/testing.ts'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import { loadNodeConfig } from '../runtime/config.ts'
import { buildSimulation } from './runner.ts'
import { parseInventory, planFieldTest } from './plan.ts'
import { loadScenario, parseScenario } from './scenario.ts'

const scenarioFile = new URL('./scenarios/live-small.yaml', import.meta.url).pathname
const inventoryText = (n: number, extra = '') => ['security: { mode: open }', 'nodes:', ...Array.from({ length: n }, (_, i) => `  - { name: n${i + 1}, radio: { kind: hub, hub: '127.0.0.1:7400' }${extra} }`)].join('\n')

test('the plan carries the simulator\'s flows with real addresses, and every config is one the daemon accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-plan-'))
  try {
    const scenario = loadScenario(scenarioFile)
    const { schedule, configs, hub } = planFieldTest(scenario, parseInventory(inventoryText(6), join(dir, 'inv.yaml')), join(dir, 'run'))
    const sim = buildSimulation(scenario)
    const addr = (id: number) => schedule.nodes[id - 1].address
    assert.equal(schedule.flows.map((f) => [f.id, f.from, f.dst, f.startS * 1000, f.stopS * 1000, 1000 / f.rate]), sim.collector.flowList().map((f) => [f.id, addr(f.from), addr(f.dst), f.startMs, f.stopMs, f.intervalMs]))
    assert.is(configs.length, 6)
    for (const [i, file] of configs.entries()) {
      const c = loadNodeConfig(file)
      assert.ok(c.flows.every((f) => f.from === schedule.nodes[i].address))
      assert.ok(c.log !== undefined && c.run === undefined)
    }
    assert.ok(hub && existsSync(hub) && /preambleMs/.test(readFileSync(hub, 'utf8')))
    assert.is(configError(() => planFieldTest(scenario, parseInventory(inventoryText(6), join(dir, 'inv.yaml')), join(dir, 'run'))).path, 'out', 'an existing plan needs --force')
    planFieldTest(scenario, parseInventory(inventoryText(6), join(dir, 'inv.yaml')), join(dir, 'run'), { force: true })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('what a live run cannot reproduce is refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-plan-'))
  try {
    const base = readFileSync(scenarioFile, 'utf8')
    const inv = parseInventory(inventoryText(6), join(dir, 'inv.yaml'))
    const path = (yaml: string, sets: string[] = []) => configError(() => planFieldTest(parseScenario(yaml, sets), inv, join(dir, `r${Math.random()}`))).path
    assert.is(path(base, ['protocol=flood']), 'protocol')
    assert.is(path(base, ['mobility={model: random-waypoint, minSpeed: 1, maxSpeed: 2, pause: 0}']), 'mobility.model')
    assert.is(path(base, ['adversaries=[{model: blackhole, fraction: 0.2}]']), 'adversaries')
    assert.is(path(base, ['links=[{a: 1, b: 2, down: [5, 10]}]']), 'links')
    assert.is(path(base, ['traffic.0.pattern=broadcast']), 'traffic.0.pattern')
    assert.is(path(base, ['nodes.count=7']), 'nodes')
    // The same identity for two nodes.
    saveIdentity(generateIdentity(), join(dir, 'same.key'))
    const twice = parseInventory(['nodes:', ...[1, 2, 3, 4, 5, 6].map((i) => `  - { name: n${i}, identity: ${i <= 2 ? './same.key' : `./k${i}.key`}, radio: { kind: hub, hub: '127.0.0.1:7400' } }`)].join('\n'), join(dir, 'inv.yaml'))
    for (const i of [3, 4, 5, 6]) saveIdentity(generateIdentity(), join(dir, `k${i}.key`))
    assert.is(configError(() => planFieldTest(loadScenario(scenarioFile), twice, join(dir, 'rt'))).path, 'nodes[1].identity')
    // Inventory mistakes.
    const inventoryPath = (text: string) => configError(() => parseInventory(text, 'inv.yaml')).path
    assert.is(inventoryPath('nodes: []'), 'nodes')
    assert.is(inventoryPath('nodes: [{ name: Bad_Name, radio: { kind: udp } }]'), 'nodes[0].name')
    assert.is(inventoryPath('nodes: [{ name: a, radio: { kind: udp } }, { name: a, radio: { kind: udp } }]'), 'nodes[1].name')
    assert.is(inventoryPath('nodes: [{ name: a, radio: { kind: udp }, position: [1] }]'), 'nodes[0].position')
    assert.is(inventoryPath('nodes: [{ name: a }]'), 'nodes[0].radio')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
