import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from './main.ts'

const root = new URL('..', import.meta.url).pathname

async function run(argv: string[]) {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s), tty: false })
  return { code, out, err }
}

test('--help and --version', async () => {
  const h = await run(['--help'])
  assert.is(h.code, 0)
  assert.match(h.out, /spinmesh sim <scenario\.yaml>/)
  const v = await run(['--version'])
  assert.is(v.code, 0)
  assert.match(v.out, /^spinmesh \d+\.\d+\.\d+\n$/)
})

test('user mistakes are one line and a non-zero exit, never a stack trace', async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['sim'], 2, /needs a scenario file/],
    [['sim', 'a.yaml', 'b.yaml'], 2, /one scenario file/],
    [['sim', 'x.yaml', '--bogus'], 2, /bogus/],
    [['sim', 'field-tests/scenarios/flood-grid.yaml', '--seed', 'abc'], 2, /--seed must be a non-negative integer/],
    [['sim', '/nonexistent.yaml'], 1, /cannot read scenario/],
    [['sim', 'field-tests/scenarios/flood-grid.yaml', '--set', 'radio.range=-3'], 1, /radio\.range: /],
    [['sim', 'field-tests/scenarios/flood-grid.yaml', '--set', 'protocol=carrier-pigeon'], 1, /unknown protocol "carrier-pigeon"; available: flood/],
  ]
  for (const [argv, code, msg] of cases) {
    const r = await run(argv)
    assert.is(r.code, code, argv.join(' '))
    assert.match(r.err, msg)
    assert.is(r.err.trim().split('\n').length, 1, `one line for ${argv.join(' ')}: ${r.err}`)
    assert.not.match(r.err, /\n\s+at /)
  }
})

test('the installed bin runs from a checkout (npx spinmesh)', () => {
  const out = execFileSync(process.execPath, [join(root, 'cli/spinmesh.js'), '--version'], { encoding: 'utf8' })
  assert.match(out, /^spinmesh /)
  const bad = spawnSync(process.execPath, [join(root, 'cli/spinmesh.js'), 'sim', '/nope.yaml'], { encoding: 'utf8' })
  assert.is(bad.status, 1)
  assert.match(bad.stderr, /^spinmesh: error: /)
})

test('sim writes the metrics JSON and a summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-cli-'))
  const scenario = join(dir, 's.yaml')
  writeFileSync(scenario, `
name: tiny
duration: 6
nodes: { count: 3, placement: explicit, positions: [[0, 0], [100, 0], [200, 0]] }
field: { width: 300, height: 10 }
radio: { range: 150 }
traffic: [{ pattern: unicast, from: 1, to: 3, start: 2, stop: 5, rate: 2, size: 20 }]
`)
  const json = join(dir, 'out.json')
  const r = await run(['sim', scenario, '--seed', '3', '--json', json])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /delivery\s+6 \/ 6 = 100\.0 %/)
  const m = JSON.parse(readFileSync(json, 'utf8'))
  assert.is(m.scenario, 'tiny')
  assert.is(m.seed, 3)
  assert.is(m.delivery.ratio, 1)
  const q = await run(['sim', scenario, '--quiet', '--json', '-'])
  assert.is(JSON.parse(q.out).delivery.delivered, 6)
})

test.run()
