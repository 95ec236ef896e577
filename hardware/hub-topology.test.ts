import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configError } from '../core/testing.ts'
import { buildLinkTable, chain, loadHubTopology, parseHubTopology, rssiAt, topologyLink, validateHubTopology } from './hub-topology.ts'
import { DEFAULT_HUB_TOPOLOGY } from './udp-defaults.ts'

const YAML = `
nodes:
  - { id: 1, position: [0, 0] }
  - { id: 2, position: [80, 0] }
  - { id: 3, position: [400, 0] }
range: 100
loss: 0.05
delayMs: 20
jitterMs: 4
bitrate: 250000
links:
  - { a: 3, b: 2, loss: 0.3 }
  - { a: 1, b: 2, up: false }
`

test('a YAML topology: defaults filled, explicit links override range in both directions', () => {
  const t = parseHubTopology(YAML)
  assert.is(t.bitrate, 250_000)
  assert.is(t.preambleMs, 0)
  assert.is(t.txPowerDbm, DEFAULT_HUB_TOPOLOGY.txPowerDbm)
  const table = buildLinkTable(t)
  assert.equal(table.get(1), [])
  assert.equal(table.get(2)!.map((l) => [l.to, l.loss, l.delayMs, l.jitterMs, l.distance]), [[3, 0.3, 20, 4, 320]])
  assert.equal(table.get(3)!.map((l) => [l.to, l.loss]), [[2, 0.3]])
  assert.is(topologyLink(t, 1, 2), null)
  assert.equal(topologyLink(t, 2, 3), { loss: 0.3, delayMs: 20, jitterMs: 4 })
  assert.is(topologyLink(t, 1, 3), null)
})

test('chain(n): neighbours only, ids from 1, options become topology defaults', () => {
  const t = chain(5, { delayMs: 7 })
  const table = buildLinkTable(t)
  assert.equal([...table].map(([id, ls]) => [id, ls.map((l) => l.to)]), [[1, [2]], [2, [1, 3]], [3, [2, 4]], [4, [3, 5]], [5, [4]]])
  assert.is(table.get(2)![0].delayMs, 7)
  assert.equal(chain(2, { firstId: 10, spacing: 10 }).nodes.map((n) => n.id), [10, 11])
  assert.throws(() => chain(0), /positive integer/)
})

test('RSSI is the log-distance mean power; SNR is RSSI − noise floor', () => {
  // 20 dBm − 40.05 − 30·log10(d); 1 m floor.
  assert.ok(Math.abs(rssiAt(DEFAULT_HUB_TOPOLOGY, 100) - -80.05) < 1e-9)
  assert.ok(Math.abs(rssiAt(DEFAULT_HUB_TOPOLOGY, 0) - -20.05) < 1e-9)
  const l = buildLinkTable(chain(2, { spacing: 10 })).get(1)![0]
  assert.ok(Math.abs(l.rssi - -50.05) < 1e-9)
  assert.ok(Math.abs(l.snr - (l.rssi + 94)) < 1e-9)
})

test('topology errors name the field', () => {
  const node = (id: unknown, position: unknown = [0, 0]): unknown => ({ id, position })
  const cases: Array<[unknown, string, RegExp]> = [
    [{ range: 10 }, 'nodes', /non-empty list/],
    [{ nodes: [], range: 10 }, 'nodes', /non-empty list/],
    [{ nodes: [node(1), node(1)], range: 10 }, 'nodes.1.id', /duplicate node id 1 \(also nodes\.0\.id\)/],
    [{ nodes: [node(0)], range: 10 }, 'nodes.0.id', />= 1/],
    [{ nodes: [node(1.5)], range: 10 }, 'nodes.0.id', /integer/],
    [{ nodes: [node(1, [0])], range: 10 }, 'nodes.0.position', /\[x, y\]/],
    [{ nodes: [node(1, [0, 'a'])], range: 10 }, 'nodes.0.position.1', /number/],
    [{ nodes: [{ id: 1, position: [0, 0], name: 'x' }], range: 10 }, 'nodes.0.name', /unknown field/],
    [{ nodes: [node(1)] }, 'range', /give range \(metres\) or links/],
    [{ nodes: [node(1)], range: 0 }, 'range', /> 0/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 3 }] }, 'links.0.b', /node 3 is not in nodes/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 1 }] }, 'links.0.b', /same node/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 2 }, { a: 2, b: 1 }] }, 'links.1', /second link between 2 and 1 \(also links\.0\)/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 2, loss: 2 }] }, 'links.0.loss', /<= 1/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 2, up: 'no' }] }, 'links.0.up', /true or false/],
    [{ nodes: [node(1), node(2)], links: [{ a: 1, b: 2, up: false }] }, 'range', /give range/],
    [{ nodes: [node(1)], range: 10, delayMs: -1 }, 'delayMs', />= 0/],
    [{ nodes: [node(1)], range: 10, bitrate: 0 }, 'bitrate', />= 1/],
    [{ nodes: [node(1)], range: 10, rnage: 1 }, 'rnage', /unknown field/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validateHubTopology(input))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
  assert.is(configError(() => validateHubTopology({ nodes: [node(1)] }, 'live')).path, 'live.range')
  assert.match(configError(() => parseHubTopology('nodes: [', 'net.yaml')).message, /net\.yaml is not valid YAML/)
  assert.match(configError(() => parseHubTopology('- 1', 'net.yaml')).message, /must be a YAML mapping/)
})

test('loadHubTopology reads a file; a missing file is a ConfigError naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spinmesh-topo-'))
  try {
    const file = join(dir, 'net.yaml')
    await writeFile(file, YAML)
    assert.is((await loadHubTopology(file)).nodes.length, 3)
    try {
      await loadHubTopology(join(dir, 'nope.yaml'))
      assert.unreachable('missing file')
    } catch (e) {
      assert.match((e as Error).message, /cannot read topology .*nope\.yaml: ENOENT/)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
