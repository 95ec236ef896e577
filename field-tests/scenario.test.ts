import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync } from 'node:fs'
import { applyOverrides, loadScenario, parseScenario } from './scenario.ts'
import { configError } from '../core/testing.ts'

const minimal = `
duration: 10
nodes: { count: 4 }
field: { width: 100, height: 100 }
`

test('a minimal scenario gets documented defaults', () => {
  const s = parseScenario(minimal)
  assert.is(s.protocol, 'flood')
  assert.is(s.radio.preset, 'wifi')
  assert.is(s.radio.range, undefined) // from the preset, resolved by the runner
  assert.is(s.mobility.model, 'static')
  assert.equal(s.traffic, [])
  assert.equal(s.adversaries, [])
})

test('errors name the field that is wrong', () => {
  assert.is(configError(() => parseScenario(minimal + 'radio: { range: -5 }')).path, 'radio.range')
  assert.is(configError(() => parseScenario(minimal + 'radio: { range: abc }')).path, 'radio.range')
  assert.is(configError(() => parseScenario(minimal + 'radio: { preset: zigbee }')).path, 'radio.preset')
  assert.is(configError(() => parseScenario(minimal + 'mobility: { model: teleport }')).path, 'mobility.model')
  assert.is(configError(() => parseScenario(minimal + 'traffic: [{ pattern: unicast, rate: 1, size: 3 }]')).path, 'traffic.0.size')
  assert.is(configError(() => parseScenario('nodes: { count: 4 }\nfield: { width: 1, height: 1 }')).path, 'duration')
  const e = configError(() => parseScenario(minimal + 'radio: { range: -5 }'))
  assert.match(e.message, /^radio\.range: /)
  assert.is(e.code, 'ERR_CONFIG')
})

test('cross-field checks name the field', () => {
  assert.is(configError(() => parseScenario(minimal + 'mobility: { minSpeed: 9, maxSpeed: 2 }')).path, 'mobility.minSpeed')
  assert.is(configError(() => parseScenario(minimal + 'traffic: [{ pattern: unicast, from: 9, to: 1, rate: 1, size: 10 }]')).path, 'traffic.0.from')
  assert.is(configError(() => parseScenario(minimal + 'traffic: [{ pattern: unicast, from: 2, to: 2, rate: 1, size: 10 }]')).path, 'traffic.0.to')
  assert.is(configError(() => parseScenario(minimal + 'traffic: [{ pattern: multicast, receivers: 40, rate: 1, size: 10 }]')).path, 'traffic.0.receivers')
  assert.is(configError(() => parseScenario('duration: 1\nfield: { width: 9, height: 9 }\nnodes: { count: 2, placement: explicit, positions: [[0, 0]] }')).path, 'nodes.positions')
  assert.is(configError(() => parseScenario(minimal + 'links: [{ a: 1, b: 2, down: [5, 1] }]')).path, 'links.0.down')
  assert.is(configError(() => parseScenario(minimal + 'adversaries: [{ model: blackhole }]')).path, 'adversaries.0')
})

test('values that used to crash, hang or be silently ignored are ConfigErrors naming the field', () => {
  const cases: Array<[string, string]> = [
    ['links: [{ a: 1, b: 1, down: [1, 2] }]', 'links.0.b'],
    ['links: [{ a: 1, b: 2, down: [2, 2] }]', 'links.0.down'],
    ['mobility: { model: waypoints, waypoints: { "2": [[5, 10, 10], [3, 20, 20]] } }', 'mobility.waypoints.2.1'],
    ['mobility: { model: waypoints, waypoints: { "02": [[5, 10, 10]] } }', 'mobility.waypoints.02'],
    ['mobility: { model: waypoints, waypoints: { "2": [[5, 500, 10]] } }', 'mobility.waypoints.2.0'],
    ['traffic: [{ pattern: multicast, group: 3000000000, rate: 1, size: 10 }]', 'traffic.0.group'],
    ['traffic: [{ pattern: unicast, rate: 1, size: 5000 }]', 'traffic.0.size'],
    ['traffic: [{ pattern: unicast, rate: 1000000, size: 10 }]', 'traffic.0.rate'],
    ['radio: { range: -5 }', 'radio.range'],
    ['radio: { rnage: 100 }', 'radio.rnage'],
    ['radio: { csma: { slotMs: 1e-300 } }', 'radio.csma.slotMs'],
    ['link: { maxRetries: -1 }', 'link.maxRetries'],
    ['link: { beaconIntervalMz: 5 }', 'link.beaconIntervalMz'],
    ['protocolConfig: { maxJitterMs: -1 }', 'protocolConfig.maxJitterMs'],
    ['radio: { preset: lora }\nlink: { beaconIntervalMs: 1000 }', 'link.beaconIntervalMs'],
  ]
  for (const [yaml, path] of cases) assert.is(configError(() => parseScenario(minimal + yaml)).path, path, yaml)
  assert.is(configError(() => parseScenario('duration: 1e300\nnodes: { count: 2 }\nfield: { width: 9, height: 9 }')).path, 'duration')
  assert.is(configError(() => parseScenario('duration: 1\nfield: { width: 100, height: 100 }\nnodes: { count: 4, placement: grid, spacing: 1000 }')).path, 'nodes.spacing')
  assert.is(configError(() => parseScenario('duration: 1\nfield: { width: 100, height: 100 }\nnodes: { count: 2, placement: explicit, positions: [[0, 0], [500, 0]] }')).path, 'nodes.positions.1')
  // The LoRa preset's own link defaults fit its duty cycle.
  assert.is(parseScenario(minimal + 'radio: { preset: lora }').radio.preset, 'lora')
})

test('invalid YAML and non-mapping documents are clear errors', () => {
  assert.match(configError(() => parseScenario('duration: [1, 2')).message, /not valid YAML/)
  assert.match(configError(() => parseScenario('- 1\n- 2')).message, /mapping/)
  assert.match(configError(() => loadScenario('/nonexistent/x.yaml')).message, /cannot read scenario.*ENOENT/)
})

test('--set overrides parse values as YAML and create nested fields', () => {
  const s = parseScenario(minimal + 'traffic: [{ pattern: unicast, rate: 1, size: 10 }]', [
    'radio.range=300',
    'mobility.model=random-waypoint',
    'traffic.0.start=[1, 2]',
    'nodes.count=6',
    'radio.csma=false',
  ])
  assert.is(s.radio.range, 300)
  assert.is(s.mobility.model, 'random-waypoint')
  assert.equal(s.traffic[0].start, [1, 2])
  assert.is(s.nodes.count, 6)
  assert.is(s.radio.csma, false)
  assert.equal(applyOverrides({}, ['a.b.c=1']), { a: { b: { c: 1 } } })
  assert.is(configError(() => applyOverrides({}, ['novalue'])).path, 'novalue')
  assert.is(configError(() => applyOverrides({ duration: 5 }, ['duration.x=1'])).path, 'duration')
  assert.is(configError(() => applyOverrides({}, ['__proto__.x=1'])).path, '__proto__.x')
})

test('every shipped scenario validates', () => {
  const dir = new URL('./scenarios/', import.meta.url)
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
  assert.ok(files.length >= 3)
  for (const f of files) {
    const s = loadScenario(new URL(f, dir).pathname)
    assert.ok(s.duration > 0, f)
  }
})

test.run()
