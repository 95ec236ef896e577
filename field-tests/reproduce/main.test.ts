import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { main, selectReproductions } from './main.ts'
import type { ReproduceOptions, Reproduction } from './reproduction.ts'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err }
}

const seen: ReproduceOptions[] = []
const fake = (name: string, pass: boolean): Reproduction => ({
  name,
  description: `fake ${name}`,
  run: async (o) => {
    seen.push(o)
    o.log(`running ${name}`)
    return { files: [`${o.out}/${name}.json`], verdict: pass ? 'PASS' : 'FAIL', pass, wallSeconds: 0 }
  },
})
const known = [fake('a', true), fake('b', false)]

test('unknown names fail with the list of known reproductions', async () => {
  assert.throws(() => selectReproductions(['zzz'], known), /unknown reproduction "zzz"; known: a, b/)
  assert.equal(selectReproductions([], known).map((r) => r.name), ['a', 'b'])
  const t = io()
  assert.is(await main(['zzz'], t.io, known), 2)
  assert.match(t.err.join(''), /known: a, b/)
})

test('options are parsed and checked; no name runs every reproduction', async () => {
  seen.length = 0
  const t = io()
  assert.is(await main(['--seeds', '2', '--jobs', '3', '--out', '/tmp/x', '--protocols', 'maodv,maodv'], t.io, known), 1, 'b fails')
  assert.equal(seen.map((o) => [o.seeds, o.jobs, o.out, o.protocols]), [[2, 3, '/tmp/x', ['maodv', 'maodv']], [2, 3, '/tmp/x', ['maodv', 'maodv']]])
  assert.match(t.out.join(''), /a: PASS\n  wrote \/tmp\/x\/a\.json/)
  assert.match(t.out.join(''), /total wall time/)
  seen.length = 0
  assert.is(await main(['a'], io().io, known), 0)
  assert.equal(seen.map((o) => [o.seeds, o.out, o.protocols]), [[5, 'field-tests/reports', undefined]])
  for (const bad of [['--seeds', '0'], ['--jobs', 'x'], ['--protocols', 'maodv'], ['--nope']]) {
    const u = io()
    assert.is(await main(bad, u.io, known), 2, bad.join(' '))
    assert.match(u.err.join(''), /^reproduce: /)
  }
  const h = io()
  assert.is(await main(['--help'], h.io, known), 0)
  assert.match(h.out.join(''), /--protocols a,b/)
})

test.run()
