import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { INDEX_FILE, readReportEntry, renderIndex, writeIndex, type IndexedReproduction } from './index-page.ts'
import { reportMeta, writeReportFiles } from './report-files.ts'

const KNOWN: IndexedReproduction[] = [
  { name: 'good', description: 'a claim that holds' },
  { name: 'bad', description: 'a claim that does not' },
  { name: 'absent', description: 'never run here' },
  { name: 'old', description: 'written before the meta block' },
  { name: 'broken', description: 'JSON cut short' },
  { name: 'htmlonly', description: 'only the page' },
  { name: 'evil', description: 'tags <script>alert("d")</script> & "quotes"' },
]

/** 2024-03-01 12:34:56 UTC */
const T = Date.UTC(2024, 2, 1, 12, 34, 56) / 1000

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reproduce-index-'))
  writeReportFiles(dir, { name: 'good', verdict: 'PASS: x pass (spread 2.7 %)', pass: true, command: 'npm run reproduce -- good --seeds 3', wallSeconds: 12.3456 }, { reproduction: 'good' }, '<p>good</p>')
  writeReportFiles(dir, { name: 'bad', verdict: 'FAIL: y FAIL', pass: false, command: 'npm run reproduce -- bad', wallSeconds: 1 }, { reproduction: 'bad' }, '<p>bad</p>')
  writeFileSync(join(dir, 'old.json'), JSON.stringify({ reproduction: 'old', command: 'npm run reproduce -- old', wallSeconds: 5, verdict: { pass: true } }))
  writeFileSync(join(dir, 'old.html'), '<p>old</p>')
  writeFileSync(join(dir, 'broken.json'), '{"meta": {')
  writeFileSync(join(dir, 'htmlonly.html'), '<p>page</p>')
  writeReportFiles(dir, { name: 'evil', verdict: 'FAIL: <img src=x onerror=alert(1)> & "q" \'s\'', pass: false, command: 'npm run reproduce -- evil --x "<b>"', wallSeconds: 2 }, {}, '<p>evil</p>')
  for (const f of ['good.json', 'bad.json', 'old.json', 'broken.json', 'evil.json']) utimesSync(join(dir, f), T, T)
  return dir
}

test('writeReportFiles: meta first, wall time rounded, both files; a body with its own meta is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reproduce-files-'))
  try {
    const files = writeReportFiles(dir, { name: 'x', verdict: 'PASS', pass: true, command: 'c', wallSeconds: 1.23456 }, { reproduction: 'x', n: 1 }, '<p>x</p>')
    assert.equal(files, [join(dir, 'x.json'), join(dir, 'x.html')])
    const text = readFileSync(files[0], 'utf8')
    assert.equal(JSON.parse(text), { meta: { name: 'x', verdict: 'PASS', pass: true, command: 'c', wallSeconds: 1.235 }, reproduction: 'x', n: 1 })
    assert.ok(text.startsWith('{\n  "meta": {') && text.endsWith('}\n'))
    assert.is(readFileSync(files[1], 'utf8'), '<p>x</p>')
    assert.throws(() => writeReportFiles(dir, reportMeta({ name: 'y', verdict: '', pass: true, command: '', wallSeconds: 0 }), { meta: 1 }, ''), /own "meta"/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('readReportEntry: present, failing, missing, older format, unreadable, HTML only, another name', () => {
  const dir = folder()
  try {
    const e = (name: string) => readReportEntry(dir, KNOWN.find((r) => r.name === name)!)
    assert.equal(e('good'), {
      name: 'good', description: 'a claim that holds', json: true, html: true, pass: true, verdict: 'PASS: x pass (spread 2.7 %)',
      command: 'npm run reproduce -- good --seeds 3', wallSeconds: 12.346, generatedAt: '2024-03-01T12:34:56Z', problem: null,
    })
    assert.equal([e('bad').pass, e('bad').verdict, e('bad').problem], [false, 'FAIL: y FAIL', null])
    assert.equal(e('absent'), {
      name: 'absent', description: 'never run here', json: false, html: false, pass: null, verdict: null, command: null, wallSeconds: null, generatedAt: null, problem: null,
    })
    const old = e('old')
    assert.equal([old.pass, old.verdict, old.command, old.wallSeconds], [true, null, 'npm run reproduce -- old', 5])
    assert.match(old.problem!, /no meta block/)
    const broken = e('broken')
    assert.equal([broken.json, broken.pass, broken.generatedAt], [true, null, '2024-03-01T12:34:56Z'])
    assert.match(broken.problem!, /^broken\.json is unreadable: /)
    assert.equal([e('htmlonly').json, e('htmlonly').html, e('htmlonly').pass], [false, true, null])
    const other = readReportEntry(dir, { name: 'good', description: '' })
    assert.is(other.problem, null)
    writeFileSync(join(dir, 'renamed.json'), readFileSync(join(dir, 'good.json')))
    assert.match(readReportEntry(dir, { name: 'renamed', description: '' }).problem!, /meta names "good", not "renamed"/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the index lists every reproduction with its state, links the pages it has, and escapes everything', () => {
  const dir = folder()
  try {
    const file = writeIndex(dir, KNOWN)
    assert.is(file, join(dir, INDEX_FILE))
    const html = readFileSync(file, 'utf8')
    assert.is(html, renderIndex(KNOWN.map((r) => readReportEntry(dir, r))), 'the file is the rendering')
    assert.ok(html.startsWith('<!DOCTYPE html>') && html.includes('<style>'))
    // Present: good, bad, old, broken, htmlonly, evil; old's older fields say it passed.
    assert.match(html, '6 of 7 reports in this folder: 2 pass, 2 fail')
    for (const r of KNOWN) assert.match(html, `<section id="${r.name}">`)
    // Links: to the pages (and JSON) that exist, relative, nothing else.
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])
    assert.equal(hrefs.filter((h) => !h.startsWith('#')).sort(), [
      'bad.html', 'bad.html', 'bad.json', 'broken.json', 'evil.html', 'evil.html', 'evil.json', 'good.html', 'good.html', 'good.json', 'htmlonly.html', 'htmlonly.html', 'old.html', 'old.html', 'old.json',
    ])
    assert.not.match(html, 'absent.html')
    assert.match(html, '<h2>absent <span class="badge na">no report</span></h2>')
    assert.match(html, '<h2><a href="good.html">good</a> <span class="badge pass">PASS</span></h2>')
    assert.match(html, '<h2><a href="bad.html">bad</a> <span class="badge fail">FAIL</span></h2>')
    assert.match(html, '<dd>PASS: x pass (spread 2.7 %)</dd>')
    assert.match(html, '<dd>2024-03-01T12:34:56Z</dd>')
    assert.match(html, '<dd>12.3 s</dd>')
    assert.match(html, '<code>npm run reproduce -- good --seeds 3</code>')
    assert.match(html, '<code>npm run reproduce -- absent</code>', 'how to make a missing report')
    assert.match(html, 'a claim that holds')
    assert.match(html, 'no meta block')
    assert.match(html, 'broken.json is unreadable')
    // Escaping: the description, verdict and command of "evil" appear only escaped.
    assert.match(html, 'tags &lt;script&gt;alert(&quot;d&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;')
    assert.match(html, 'FAIL: &lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;s&#39;')
    assert.match(html, '--x &quot;&lt;b&gt;&quot;')
    assert.not.match(html, /<script|<img|<b>|onerror=alert\(1\)>/)
    // Self-contained: no scripts, nothing fetched, no absolute URL.
    assert.not.match(html, /https?:|\/\/|<link|@import|url\(/i)
    assert.not.match(html, /<[^>]*\ssrc=/i, 'no tag loads anything (the src= in the escaped verdict is text)')
    assert.not.match(html, /NaN|undefined|null/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an empty or new folder: every reproduction missing, the folder created', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'reproduce-index-')), 'new', 'reports')
  try {
    const html = readFileSync(writeIndex(dir, KNOWN.slice(0, 2)), 'utf8')
    assert.match(html, '0 of 2 reports in this folder: 0 pass, 0 fail')
    assert.is((html.match(/badge na">no report/g) ?? []).length, 2)
    assert.not.match(html, /\.html"/)
  } finally {
    rmSync(join(dir, '..', '..'), { recursive: true, force: true })
  }
})

test.run()
