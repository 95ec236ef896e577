// The field report (field-report.ts) and `spinmesh report` (cli/report.ts): sections in order with
// stable ids, a self-contained page (no scripts, no URLs), escaping, "no data" notes for missing
// fields, input checks naming the file, a real simulation's result, and the page in headless Chromium.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../core/errors.ts'
import { main } from '../../cli/main.ts'
import { loadReportInputs } from '../../cli/report.ts'
import { loadPage } from '../../gateway/chromium.ts'
import type { CollectInfo } from '../field-test-types.ts'
import type { MetricsResult } from '../metrics-result.ts'
import { runScenario } from '../runner.ts'
import { parseScenario } from '../scenario.ts'
import { parseMetricsResult, renderFieldReport, SECTION_IDS, type ReportInput } from './field-report.ts'

type Fixture = MetricsResult & { collect?: CollectInfo }

/** A small, complete result of `nodes` nodes on a line; `live` adds collect info. */
function fixture(o: { scenario?: string; source?: 'simulation' | 'live'; seed?: number; pdr?: number; nodes?: number } = {}): Fixture {
  const n = o.nodes ?? 5
  const pdr = o.pdr ?? 0.9
  const expected = 400
  const delivered = Math.round(expected * pdr)
  const ids = Array.from({ length: n }, (_, i) => i + 1)
  const r: Fixture = {
    scenario: o.scenario ?? 'line-5',
    seed: o.seed ?? 1,
    protocol: 'flood',
    source: o.source ?? 'simulation',
    nodes: n,
    simSeconds: 20,
    wallSeconds: 0.5,
    events: 1000,
    delivery: {
      expected,
      delivered,
      recovered: 0,
      ratio: delivered / expected,
      perReceiver: { min: pdr - 0.05, mean: pdr, max: 1, stdev: 0.02 },
      duplicates: 3,
      stray: 0,
      malformed: 0,
      receivers: ids.slice(1).map((node) => ({ node, expected: 100, delivered: Math.round(100 * pdr) })),
    },
    latencyMs: { mean: 30, p50: 25, p95: 80, max: 120 },
    jitterMs: 4.5,
    recoveredLatencyMs: { count: 0, mean: 0, p50: 0, p95: 0, max: 0 },
    overhead: { controlPackets: 200, controlBytes: 4000, dataTransmissions: 900, dataBytes: 90000, perDelivered: 200 / delivered, framesPerDelivered: 1100 / delivered },
    airtime: { totalSeconds: 3.2, maxNodeShare: 0.05 },
    traffic: { flows: 1, packetsSent: 100 },
    adversaries: [],
    counters: {},
    histograms: {},
    timeline: { bucketS: 1, points: Array.from({ length: 20 }, (_, t) => ({ t, expected: 20, delivered: Math.round(20 * pdr) })) },
    perNode: ids.map((node) => ({
      node, sent: node === 1 ? 100 : 0, expected: node === 1 ? 0 : 100, delivered: node === 1 ? 0 : Math.round(100 * pdr), txFrames: 200 + node, txBytes: 20000, airtimeMs: 500 + 100 * node,
    })),
    latencyCdf: Array.from({ length: 101 }, (_, p) => [10 + p * (o.seed ?? 1), p / 100] as [number, number]),
    topology: { nodes: ids.map((node) => ({ node, x: node * 100, y: 0 })), links: ids.slice(1).map((b) => ({ a: b - 1, b, quality: b / n })) },
    schedule: { flows: 1, durationS: 20 },
  }
  if (o.source === 'live') {
    r.collect = {
      files: 5, lines: 12345, events: 12300, skipped: { truncated: 1, corrupt: 2, invalid: 42 },
      clockOffsetsMs: { 1: 0, 2: -3.5, 3: 12.25, 4: 7 }, clockReference: 1, unsynchronised: [5],
    }
    r.topology!.nodes.forEach((x) => Object.assign(x, { name: `pi-${x.node}`, x: undefined, y: undefined }))
  }
  return r
}

const live = (): ReportInput => ({ file: 'live.json', result: fixture({ source: 'live', seed: 7, pdr: 0.8 }) })
const sim = (): ReportInput => ({ file: 'sim.json', result: fixture({ seed: 7 }) })
const sectionIds = (html: string) => [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1])

test('sections are written in order with stable ids; comparison only with two results or more', () => {
  const one = renderFieldReport([sim()])
  assert.equal(sectionIds(one.html), SECTION_IDS.filter((s) => s !== 'comparison'))
  assert.equal(one.sections.map((s) => s.id), sectionIds(one.html))
  assert.ok(one.sections.every((s) => s.hasData))
  const two = renderFieldReport([sim(), live()])
  assert.equal(sectionIds(two.html), [...SECTION_IDS])
  assert.ok(two.sections.every((s) => s.hasData))
  assert.not.match(two.html, /class="no-data"/)
  // one chart per chart section, two overhead charts, one map per result
  assert.is((two.html.match(/<svg/g) ?? []).length, 8)
})

test('the page is self-contained: inline CSS and SVG, no scripts, no URLs, no src=', () => {
  const { html } = renderFieldReport([sim(), live()])
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.match(html, /<style>/)
  assert.not.match(html, /https?:\/\//)
  assert.not.match(html, /<script|<link|<img|<iframe|src=|@import|url\(/i)
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) assert.ok(href.startsWith('#'), href)
})

test('the summary has one column per result, with the collect info of live runs', () => {
  const { html } = renderFieldReport([sim(), live()])
  const summary = html.slice(html.indexOf('<section id="summary">'), html.indexOf('<section id="pdr-over-time">'))
  assert.match(summary, /<th>line-5 · simulation · seed 7<\/th><th>line-5 · live · seed 7<\/th>/)
  assert.match(summary, /<td>PDR<\/td><td>90.0 % \(360 \/ 400\)<\/td><td>80.0 % \(320 \/ 400\)<\/td>/)
  assert.match(summary, /25.0 \/ 80.0 ms/)
  assert.match(summary, /5 files, 12,345 lines, 12,300 events/)
  assert.match(summary, /1 truncated, 2 corrupt, 42 invalid/)
  assert.match(summary, /−3.5 … 12.3 ms vs node 1 \(4 nodes\)|-3.5 … 12.3 ms vs node 1 \(4 nodes\)/)
  assert.match(summary, /1: 5 \(offset 0 assumed\)/)
  assert.match(summary, /<td class="na">n\/a \(simulation\)<\/td>/)
  // a simulation alone has no collect rows
  assert.not.match(renderFieldReport([sim()]).html, /logs collected/)
})

test('the comparison gives differences to the first result, PDR in points, coloured better or worse', () => {
  const { html } = renderFieldReport([sim(), live()], { title: 'sim vs live' })
  const cmp = html.slice(html.indexOf('<section id="comparison">'))
  assert.match(cmp, /<td>PDR<\/td><td>90.0 %<\/td><td>80.0 %<\/td><td class="worse">−10.0 pp<\/td>/)
  assert.match(cmp, /<td>latency p50<\/td><td>25.0 ms<\/td><td>25.0 ms<\/td><td>±0<\/td>/)
  // fewer deliveries for the same control traffic: more control packets per delivered, worse
  assert.match(cmp, /control packets per delivered<\/td><td>0.56<\/td><td>0.63<\/td><td class="worse">\+0.07 \(\+12 %\)<\/td>/)
  assert.match(html, /<title>sim vs live<\/title>/)
})

test('every string from the input is escaped', () => {
  const evil = '<script>alert("x")</script>'
  const r = fixture({ scenario: evil, source: 'live' })
  r.protocol = '<b>p</b>'
  r.topology!.nodes[0].name = '<img src=x>'
  r.perNode![0].name = '"><svg onload=1>'
  const { html } = renderFieldReport([{ file: 'a<b>.json', result: r }, { file: 'b.json', result: fixture(), label: '<i>label</i>' }])
  assert.not.match(html, /<script|<img|<b>|<i>|<svg onload/)
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/)
  assert.match(html, /&lt;i&gt;label&lt;\/i&gt;/)
  assert.match(html, /a&lt;b&gt;.json/)
  assert.match(html, /&lt;img src=x&gt;/)
})

test('missing report fields give a "no data" note, not a crash', () => {
  const bare = fixture({ scenario: 'old' }) as Partial<Fixture>
  for (const k of ['timeline', 'perNode', 'latencyCdf', 'topology', 'schedule', 'source'] as const) delete bare[k]
  delete (bare.delivery as unknown as { receivers?: unknown }).receivers
  const liveNoCollect = fixture({ source: 'live' })
  delete liveNoCollect.collect
  const { html, sections } = renderFieldReport([{ file: 'old.json', result: bare as Fixture }, { file: 'live.json', result: liveNoCollect }])
  assert.equal(sectionIds(html), [...SECTION_IDS])
  assert.match(html, /No data: old · simulation · seed 1 has no delivery timeline/)
  assert.match(html, /No data: old · simulation · seed 1 has no per-node deliveries/)
  assert.match(html, /No data: old · simulation · seed 1 has no latency distribution/)
  assert.match(html, /No data: old · simulation · seed 1 has no per-node airtime/)
  assert.match(html, /No data: old · simulation · seed 1 has no topology snapshot/)
  assert.match(html, /<td>no data<\/td>|<td class="na">no data<\/td>/)
  assert.ok(sections.every((s) => s.hasData), 'the live result still has data everywhere')

  // Nothing at all: every chart section has only its note; nothing delivered has no latency.
  const empty = fixture({ pdr: 0 }) as Partial<Fixture>
  for (const k of ['timeline', 'perNode', 'topology'] as const) delete empty[k]
  empty.latencyCdf = []
  empty.overhead = { ...empty.overhead!, perDelivered: null, framesPerDelivered: null }
  const r = renderFieldReport([{ file: 'e.json', result: empty as Fixture }])
  assert.equal(r.sections.filter((s) => !s.hasData).map((s) => s.id), ['pdr-over-time', 'latency-cdf', 'airtime-per-node', 'topology'])
  assert.match(r.html, /nothing was delivered, so there is no latency/)
  assert.match(r.html, /nothing was delivered, so there is no cost per delivered packet/)
  assert.ok(r.sections.find((s) => s.id === 'pdr-per-node')!.hasData, 'receivers stand in for perNode')
})

test('labels: given ones are used; equal default labels get their file names', () => {
  const a = renderFieldReport([{ file: 'runs/a.json', result: fixture() }, { file: 'runs/b.json', result: fixture() }])
  assert.match(a.html, /<th>line-5 · simulation · seed 1 \(a.json\)<\/th><th>line-5 · simulation · seed 1 \(b.json\)<\/th>/)
  const b = renderFieldReport([{ file: 'x.json', result: fixture(), label: 'before' }, { file: 'x.json', result: fixture(), label: 'after' }])
  assert.match(b.html, /<th>before<\/th><th>after<\/th>/)
})

test('parseMetricsResult rejects what is not a metrics result, naming the file and the problem', () => {
  const good = JSON.stringify(fixture())
  assert.is(parseMetricsResult(good, 'a.json').scenario, 'line-5')
  const bad = (text: string, re: RegExp) => {
    try {
      parseMetricsResult(text, 'runs/a.json')
    } catch (e) {
      assert.instance(e, ConfigError)
      assert.match((e as Error).message, /^runs\/a\.json /)
      assert.match((e as Error).message, re)
      return
    }
    assert.unreachable(`accepted ${text.slice(0, 60)}`)
  }
  bad('', /is empty/)
  bad('{"scenario": ', /is not JSON/)
  bad('{"t":0,"node":1,"ev":"tx"}\n{"t":1,"node":2,"ev":"rx"}\n', /is not JSON.*JSON lines, like a trace/)
  bad('[1, 2]', /expected a JSON object, got an array/)
  bad('42', /got number/)
  bad(JSON.stringify({ scenario: 'x.yaml', seeds: [1], axes: [], rows: [] }), /is a sweep result/)
  bad(JSON.stringify({ name: 'flood-grid', nodes: { count: 3 } }), /is not a metrics result .*no scenario, protocol, delivery, latencyMs, overhead, airtime/)
  const withField = (f: (r: any) => void) => {
    const r = JSON.parse(good)
    f(r)
    return JSON.stringify(r)
  }
  bad(withField((r) => (r.delivery.ratio = 'high')), /delivery\.ratio: expected number, received string/)
  bad(withField((r) => delete r.latencyMs.p95), /latencyMs\.p95: missing/)
  bad(withField((r) => (r.timeline.points[3].expected = -1)), /timeline\.points\.3\.expected: /)
  bad(withField((r) => (r.latencyCdf[5] = [12, 50])), /latencyCdf\.5\.1: /)
  bad(withField((r) => (r.source = 'dream')), /source: /)
  bad(withField((r) => ((r.delivery.ratio = 'x'), (r.nodes = 'y'))), /\(and 1 more problem\)/)
})

test('property: parseMetricsResult returns a result or throws a ConfigError naming the file, on any input', () => {
  const valid = fixture()
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => JSON.stringify({ ...valid, timeline: v }))), (text) => {
      try {
        parseMetricsResult(text, 'p.json')
      } catch (e) {
        return e instanceof ConfigError && e.message.startsWith('p.json ')
      }
      return true
    }),
    { numRuns: 500 },
  )
})

test('property: any valid result renders, with every section, no URL and no NaN', () => {
  const num = fc.double({ min: -1e13, max: 1e13, noNaN: true })
  const cnt = fc.nat({ max: 1e6 })
  fc.assert(
    fc.property(
      fc.array(fc.record({ t: cnt, expected: cnt, delivered: cnt }), { maxLength: 30 }),
      fc.array(fc.record({ node: fc.nat({ max: 2 ** 32 - 1 }), sent: cnt, expected: cnt, delivered: cnt, txFrames: cnt, txBytes: cnt, airtimeMs: cnt }), { maxLength: 30 }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 101 }),
      fc.array(fc.record({ node: fc.nat({ max: 40 }), x: fc.option(num, { nil: undefined }), y: fc.option(num, { nil: undefined }) }), { maxLength: 20 }),
      fc.array(fc.record({ a: fc.nat({ max: 40 }), b: fc.nat({ max: 40 }), quality: fc.option(num, { nil: undefined }) }), { maxLength: 40 }),
      (points, perNode, cdf, nodes, links) => {
        const r = fixture()
        Object.assign(r, { timeline: { bucketS: 1, points }, perNode, latencyCdf: cdf.sort((a, b) => a[0] - b[0]), topology: { nodes, links } })
        const parsed = parseMetricsResult(JSON.stringify(r), 'r.json')
        const { html } = renderFieldReport([{ file: 'r.json', result: parsed }, { file: 's.json', result: fixture() }])
        return sectionIds(html).length === SECTION_IDS.length && !/NaN|Infinity|https?:/.test(html)
      },
    ),
    { numRuns: 60 },
  )
})

test('spinmesh report: bad inputs are named, exit 1, nothing written; usage mistakes exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-report-'))
  try {
    const good = join(dir, 'good.json')
    writeFileSync(good, JSON.stringify(fixture()))
    const notJson = join(dir, 'trace.jsonl')
    writeFileSync(notJson, '{"t":0,"node":1,"ev":"tx"}\n{"t":1,"node":2,"ev":"rx"}\n')
    const out = join(dir, 'report.html')
    const run = async (argv: string[]) => {
      let o = ''
      let e = ''
      const code = await main(argv, { out: (s) => (o += s), err: (s) => (e += s), tty: false })
      return { code, out: o, err: e }
    }
    for (const [argv, code, re] of [
      [['report', good, notJson, '--out', out], 1, new RegExp(`error: ${notJson.replace(/[.]/g, '\\.')} is not JSON`)],
      [['report', good, join(dir, 'missing.json'), '--out', out], 1, /cannot read .*missing\.json: no such file/],
      [['report', good, dir, '--out', out], 1, /it is a directory/],
      [['report', '--out', out], 2, /at least one metrics JSON file/],
      [['report', good], 2, /needs --out FILE/],
      [['report', good, '--out', good], 2, /is one of the input files/],
      [['report', good, good, '--out', out, '--labels', 'a'], 2, /--labels has 1 label for 2 files/],
      [['report', good, '--out', join(dir, 'no', 'such', 'dir.html')], 1, /cannot write .*ENOENT/],
    ] as Array<[string[], number, RegExp]>) {
      const r = await run(argv)
      assert.is(r.code, code, argv.join(' '))
      assert.match(r.err, re)
      assert.not.match(r.err, /\n./, 'one line')
      assert.not.ok(existsSync(out), 'nothing written')
    }
    assert.throws(() => loadReportInputs([good, notJson]), (e: Error) => e instanceof ConfigError && e.message.includes(notJson))

    const ok = await run(['report', good, good, '--out', out, '--title', 'T', '--labels', 'a, b'])
    assert.is(ok.code, 0, ok.err)
    assert.is(ok.out, `${out}\nsections: ${SECTION_IDS.join(', ')}\n`)
    assert.ok(existsSync(out))
    const help = await run(['--help'])
    assert.match(help.out, /spinmesh report <metrics\.json>\.\.\. --out FILE/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a real simulation result renders with data in every section', () => {
  const scenario = parseScenario(`
name: tiny-grid
duration: 12
nodes: { count: 9, placement: grid, spacing: 100 }
field: { width: 200, height: 200 }
radio: { range: 150, bitrate: 2000000, mtu: 1500, loss: 0 }
protocol: flood
traffic: [{ pattern: broadcast, from: 5, start: 2, stop: 10, rate: 4, size: 64 }]
`)
  const a = runScenario(scenario, { seed: 1 })
  const b = runScenario(scenario, { seed: 2 })
  const inputs = [a, b].map((r, i) => ({ file: `run${i}.json`, result: parseMetricsResult(JSON.stringify(r), `run${i}.json`) }))
  const report = renderFieldReport(inputs)
  assert.equal(report.sections.map((s) => s.id), [...SECTION_IDS])
  assert.equal(report.sections.filter((s) => !s.hasData).map((s) => s.id), [], 'the simulator writes every report field')
})

test('headless Chromium: the page loads without errors or requests, every chart is drawn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-report-'))
  try {
    const file = join(dir, 'report.html')
    writeFileSync(file, renderFieldReport([sim(), live()]).html)
    const svgs = "document.querySelectorAll('section svg').length"
    const r = await loadPage(`file://${file}`, { waitFor: `${svgs} >= 8`, timeoutMs: 20_000, screenshot: process.env.FIELD_REPORT_SCREENSHOT })
    assert.ok(r.satisfied, 'every SVG is in the DOM')
    assert.equal(r.consoleErrors, [])
    assert.equal(r.externalRequests, [])
    assert.equal(r.requests.filter((u) => !u.startsWith('file:')), [])
    for (const id of SECTION_IDS) assert.match(r.dom, new RegExp(`<section id="${id}">`))
    assert.ok((r.dom.match(/<svg/g) ?? []).length >= 6)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
