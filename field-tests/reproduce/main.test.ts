import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeReportFiles } from './report-files.ts'
import { REPRODUCTIONS, USAGE, main, selectReproductions, type IndexWriter } from './main.ts'
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
/** Records where the index would go instead of writing it (these tests' --out folders are not temp folders). */
const indexed: string[] = []
const noIndex: IndexWriter = (out, k) => {
  indexed.push(`${out}: ${k.map((r) => r.name).join(',')}`)
  return `${out}/index.html`
}

test('unknown names fail with the list of known reproductions', async () => {
  assert.throws(() => selectReproductions(['zzz'], known), /unknown reproduction "zzz"; known: a, b/)
  assert.equal(selectReproductions([], known).map((r) => r.name), ['a', 'b'])
  const t = io()
  assert.is(await main(['zzz'], t.io, known, noIndex), 2)
  assert.match(t.err.join(''), /known: a, b/)
})

test('options are parsed and checked; no name runs every reproduction', async () => {
  seen.length = 0
  const t = io()
  indexed.length = 0
  assert.is(await main(['--seeds', '2', '--jobs', '3', '--out', '/tmp/x', '--protocols', 'maodv,maodv'], t.io, known, noIndex), 1, 'b fails')
  assert.equal(seen.map((o) => [o.seeds, o.jobs, o.out, o.protocols]), [[2, 3, '/tmp/x', ['maodv', 'maodv']], [2, 3, '/tmp/x', ['maodv', 'maodv']]])
  assert.match(t.out.join(''), /a: PASS\n  wrote \/tmp\/x\/a\.json/)
  assert.match(t.out.join(''), /index: wrote \/tmp\/x\/index\.html\ntotal wall time/)
  assert.equal(indexed, ['/tmp/x: a,b'], 'the index lists every known reproduction')
  seen.length = 0
  assert.is(await main(['a'], io().io, known, noIndex), 0)
  assert.equal(seen.map((o) => [o.seeds, o.out, o.protocols]), [[5, 'field-tests/reports', undefined]])
  for (const bad of [['--seeds', '0'], ['--jobs', 'x'], ['--protocols', 'maodv'], ['--nope']]) {
    const u = io()
    assert.is(await main(bad, u.io, known, noIndex), 2, bad.join(' '))
    assert.match(u.err.join(''), /^reproduce: /)
  }
  const h = io()
  assert.is(await main(['--help'], h.io, known, noIndex), 0)
  assert.match(h.out.join(''), /--protocols a,b/)
  assert.equal(indexed, ['/tmp/x: a,b', 'field-tests/reports: a,b'], 'no index for a usage mistake or --help')
})

test('four reproductions are known: pbcast is its own, with --sizes and --trials', () => {
  assert.equal(REPRODUCTIONS.map((r) => r.name), ['anonymous-gossip', 'odsbr', 'gravitational', 'pbcast'])
  assert.equal(selectReproductions([]).map((r) => r.name), ['anonymous-gossip', 'odsbr', 'gravitational', 'pbcast'])
  assert.equal(selectReproductions(['pbcast', 'gravitational']).map((r) => r.name), ['pbcast', 'gravitational'])
  assert.throws(() => selectReproductions(['bimodal']), /known: anonymous-gossip, odsbr, gravitational, pbcast/)
  for (const r of REPRODUCTIONS) assert.match(USAGE, `  ${r.name.padEnd(18)} ${r.description}`)
  assert.match(USAGE, /--sizes a,b {8}pbcast: /)
  assert.match(USAGE, /--trials N {9}pbcast: /)
  assert.not.match(REPRODUCTIONS.find((r) => r.name === 'gravitational')!.description, /pbcast|bimodal/)
})

test('every run, passing, failing or crashed, rewrites the index of its folder', async () => {
  const out = mkdtempSync(join(tmpdir(), 'reproduce-main-'))
  try {
    const writes = (name: string, pass: boolean): Reproduction => ({
      name, description: `writes ${name}`,
      run: async (o) => {
        const files = writeReportFiles(o.out, { name, verdict: pass ? 'PASS: fine' : 'FAIL: not fine', pass, command: `npm run reproduce -- ${name}`, wallSeconds: 0 }, {}, '<p></p>')
        return { files, verdict: pass ? 'PASS: fine' : 'FAIL: not fine', pass, wallSeconds: 0 }
      },
    })
    const crashes: Reproduction = { name: 'c', description: 'throws', run: async () => { throw new Error('boom') } }
    const all = [writes('a', true), writes('b', false), crashes]
    const t = io()
    assert.is(await main(['a', '--out', out], t.io, all), 0)
    assert.match(t.out.join(''), `index: wrote ${join(out, 'index.html')}`)
    let page = readFileSync(join(out, 'index.html'), 'utf8')
    assert.match(page, '1 of 3 reports in this folder: 1 pass, 0 fail')
    assert.match(page, '<h2><a href="a.html">a</a> <span class="badge pass">PASS</span></h2>')
    assert.is(await main(['b', 'c', '--out', out], io().io, all), 1)
    page = readFileSync(join(out, 'index.html'), 'utf8')
    assert.match(page, '2 of 3 reports in this folder: 1 pass, 1 fail')
    const u = io()
    assert.is(await main(['c', '--out', out], u.io, all), 1)
    assert.match(u.err.join(''), /c failed: boom/)
    assert.match(u.out.join(''), /index: wrote /)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test.run()
