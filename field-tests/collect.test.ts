import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { formatNodeAddress } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import { classifyLine, collectRun, findLogFiles, findSchedule, LineSplitter, LiveCollector, loadSchedule, parseSchedule, readLogFiles, type LiveMetricsResult } from './collect.ts'
import type { LogEvent, RunSchedule } from './field-test-types.ts'
import type { MetricsResult } from './metrics-result.ts'
import { buildSimulation, runSimulation } from './runner.ts'
import { parseScenario } from './scenario.ts'
import { attachTrace } from './trace.ts'

const BASE = Date.UTC(2025, 5, 1, 12)
const root = new URL('..', import.meta.url).pathname
const tmp = () => mkdtempSync(join(tmpdir(), 'collect-'))

// ------------------------------------------------------------------------------------------
// Lines

test('classifyLine is total: any text is an event or a named kind of damage', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), fc.boolean(), (text, last) => {
      const v = classifyLine(text, last)
      if (typeof v === 'string') return ['truncated', 'corrupt', 'invalid'].includes(v) && (v !== 'truncated' || last)
      return typeof v.t === 'number' && typeof v.node === 'number' && typeof v.ev === 'string'
    }),
    { seed: 3 },
  )
  assert.equal(classifyLine('{"t":1,"wall":2,"node":3,"ev":"tx","len":9}'), { t: 1, wall: 2, node: 3, ev: 'tx', len: 9 })
  assert.is(classifyLine('{"t":1,"node":3,"ev":"t', true), 'truncated')
  assert.is(classifyLine('{"t":1,"node":3,"ev":"t', false), 'corrupt')
  assert.is(classifyLine('\u0000\u0000\u0000', false), 'corrupt')
  assert.is(classifyLine('', false), 'corrupt')
  for (const bad of ['[1,2]', '"x"', 'null', '{"node":3,"ev":"tx"}', '{"t":"1","node":3,"ev":"tx"}', '{"t":1,"node":-3,"ev":"tx"}', '{"t":1,"node":3.5,"ev":"tx"}', '{"t":1,"node":3,"ev":""}', '{"t":1,"node":3,"ev":"tx","wall":"now"}']) {
    assert.is(classifyLine(bad), 'invalid', bad)
    assert.is(classifyLine(bad, true), 'invalid', bad)
  }
})

test('LineSplitter: any chunking gives the same lines; longer lines come out as null without being held', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 12 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (lines, trailing, cuts) => {
      const text = lines.map((l) => l.replaceAll('\n', ' ')).join('\n') + (trailing ? '\n' : '')
      const bytes = Buffer.from(text)
      const got: Array<[string | null, boolean]> = []
      const sp = new LineSplitter((l, last) => got.push([l, last]), 20)
      for (let at = 0, k = 0; at < bytes.length; k++) {
        const n = cuts[k % cuts.length]
        sp.push(bytes.subarray(at, at + n))
        at += n
      }
      sp.end()
      const want: Array<[string | null, boolean]> = []
      const parts = text.split('\n')
      if (parts[parts.length - 1] === '') parts.pop()
      parts.forEach((p, i) => want.push([Buffer.byteLength(p) > 20 ? null : p, i === parts.length - 1 && !text.endsWith('\n')]))
      assert.equal(got, want)
    }),
    { seed: 4 },
  )
  const got: Array<string | null> = []
  const sp = new LineSplitter((l) => got.push(l))
  sp.push(Buffer.from('a\r\nb\n'))
  sp.end()
  assert.equal(got, ['a', 'b'])
})

test('reading logs: files per node oldest first, subdirectories, damage counted, walls from log-start when absent', async () => {
  const dir = tmp()
  try {
    mkdirSync(join(dir, 'logs', 'gw1'), { recursive: true })
    const a = formatNodeAddress(0x0a0b0c0d)
    writeFileSync(join(dir, 'logs', `${a}.jsonl.2`), '{"t":0,"wall":1000,"node":168496141,"ev":"log-start"}\n{"t":5,"node":168496141,"ev":"x"}\n')
    writeFileSync(join(dir, 'logs', `${a}.jsonl.1`), '{"t":10,"wall":2000,"node":168496141,"ev":"log-start"}\nnot json\n{"t":12,"node":168496141,"ev":"y"}\n')
    writeFileSync(join(dir, 'logs', `${a}.jsonl`), '{"t":20,"wall":3000,"node":168496141,"ev":"log-start"}\n{"a":1}\n' + `{"t":21,"wall":3001,"node":168496141,"ev":"z","pad":"${'x'.repeat(300)}"}\n{"t":22,"node":16849`)
    writeFileSync(join(dir, 'logs', 'gw1', '00000001.jsonl'), '\u0000\u0000\u0000\u0000\n{"t":1,"node":1,"ev":"w"}')
    writeFileSync(join(dir, 'logs', 'notes.txt'), 'ignored')
    writeFileSync(join(dir, 'logs', '0000000g.jsonl'), 'ignored')
    const files = findLogFiles([join(dir, 'logs')])
    assert.equal(files.map((f) => [f.node, f.rotation, f.path.slice(dir.length)]), [
      [1, 0, '/logs/gw1/00000001.jsonl'],
      [0x0a0b0c0d, 2, `/logs/${a}.jsonl.2`],
      [0x0a0b0c0d, 1, `/logs/${a}.jsonl.1`],
      [0x0a0b0c0d, 0, `/logs/${a}.jsonl`],
    ])
    const events: Array<[string, number]> = []
    const counts = await readLogFiles(files, (e, wall) => events.push([e.ev, wall]), 256)
    assert.equal(events, [['w', 1], ['log-start', 1000], ['x', 1005], ['log-start', 2000], ['y', 2002], ['log-start', 3000]])
    assert.equal(counts, { files: 4, lines: 11, events: 6, skipped: { truncated: 1, corrupt: 3, invalid: 1 } })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('schedules are checked field by field', () => {
  const ok: RunSchedule = {
    scenario: 's', seed: 1, protocol: 'aodv', durationS: 10, startWallMs: BASE,
    nodes: [{ id: 1, name: 'n1', address: 0x10, position: [0, 0] }, { id: 2, name: 'n2', address: 0x20 }],
    flows: [{ id: 0, pattern: 'unicast', from: 0x10, dst: 0x20, receivers: [0x20], startS: 1, stopS: 9, rate: 2, size: 32 }],
  }
  assert.equal(parseSchedule(JSON.parse(JSON.stringify(ok))), ok)
  const bad: Array<[(s: Record<string, any>) => void, RegExp]> = [
    [(s) => delete s.durationS, /^durationS: must be a number/],
    [(s) => (s.flows[0].receivers = ['x']), /^flows\.0\.receivers\.0: must be a number/],
    [(s) => (s.flows[0].pattern = 'anycast'), /^flows\.0\.pattern: must be one of unicast, multicast, broadcast/],
    [(s) => (s.flows[0].stopS = 0.5), /^flows\.0\.stopS: must be >= 1/],
    [(s) => s.flows.push({ ...s.flows[0] }), /^flows\.1\.id: flow id 0 is used twice/],
    [(s) => (s.nodes[1].position = [1]), /^nodes\.1\.position: must be \[x, y\]/],
    [(s) => (s.nodes = {}), /^nodes: must be a list/],
  ]
  for (const [edit, msg] of bad) {
    const s = JSON.parse(JSON.stringify(ok))
    edit(s)
    try {
      parseSchedule(s)
      assert.unreachable(msg.source)
    } catch (e) {
      assert.instance(e, ConfigError)
      assert.match((e as Error).message, msg)
    }
  }
  const dir = tmp()
  try {
    writeFileSync(join(dir, 'schedule.json'), '{"scenario": ')
    assert.throws(() => loadSchedule(join(dir, 'schedule.json')), /schedule\.json: not valid JSON/)
    mkdirSync(join(dir, 'logs'))
    assert.is(findSchedule([join(dir, 'logs')]), join(dir, 'schedule.json'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('LiveCollector never throws on event content: any fields, any values, any clocks', () => {
  const schedule: RunSchedule = {
    scenario: 's', seed: 1, protocol: 'aodv', durationS: 5,
    nodes: [{ id: 1, name: 'a', address: 1 }, { id: 2, name: 'b', address: 2 }],
    flows: [{ id: 0, pattern: 'unicast', from: 1, dst: 2, receivers: [2], startS: 0, stopS: 5, rate: 2, size: 10 }],
  }
  const small = fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom(0xffff, 4e9, 0xffffffff, 2 ** 53, -0.5, 1e300, NaN), fc.string({ maxLength: 3 }), fc.constant(null), fc.boolean())
  const event = fc.record({
    t: fc.double({ noNaN: true, noDefaultInfinity: true }),
    node: fc.integer({ min: 0, max: 3 }),
    ev: fc.constantFrom('tx', 'rx', 'app-send', 'app-deliver', 'neighbour-up', 'neighbour-down', 'log-start', 'other'),
    kind: fc.constantFrom('beacon', 'data', 'ack', 'undecodable', 7),
    src: small, seq: small, flow: small, proto: small, len: small, airtimeMs: small, neighbour: small, name: small,
  }, { requiredKeys: ['t', 'node', 'ev'] })
  fc.assert(
    fc.property(fc.array(fc.tuple(event, fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e13, max: 1e13 }))), { maxLength: 60 }), fc.option(fc.integer({ min: 0, max: 10_000 })), (events, start) => {
      const c = new LiveCollector(start === null ? schedule : { ...schedule, startWallMs: start }, {})
      for (const [e, wall] of events) c.add(e as LogEvent, wall)
      const r = c.result({ files: 1, lines: events.length, events: events.length, skipped: { truncated: 0, corrupt: 0, invalid: 0 } })
      return r.delivery.delivered <= r.delivery.expected && r.timeline.points.length >= 5 && JSON.stringify(r).length > 0
    }),
    { seed: 5, numRuns: 300 },
  )
  // A damaged seq far past the flow's packets is ignored, not a 4-billion-slot array.
  const c = new LiveCollector({ ...schedule, startWallMs: 0 })
  c.add({ t: 0, node: 1, ev: 'app-send', flow: 0, seq: 4e9 }, 100)
  c.add({ t: 0, node: 2, ev: 'app-deliver', flow: 0, seq: 4e9 }, 200)
  const r = c.result({ files: 1, lines: 2, events: 2, skipped: { truncated: 0, corrupt: 0, invalid: 0 } })
  assert.equal([r.traffic.packetsSent, r.delivery.stray], [0, 1])
})

// ------------------------------------------------------------------------------------------
// A simulated run, written as live logs, collected, compared with the simulator's own metrics

interface SimRun {
  result: MetricsResult
  events: LogEvent[]
  schedule: RunSchedule
}

function simulate(yaml: string): SimRun {
  const scenario = parseScenario(yaml)
  const sim = buildSimulation(scenario)
  const events: LogEvent[] = []
  const lastTx = new Map<number, LogEvent>()
  attachTrace(sim, (e) => {
    const ev = e as LogEvent
    events.push(ev)
    if (ev.ev === 'tx') lastTx.set(ev.node, ev)
  })
  // The trace's tx lines may lack the frame's airtime (an event log has it): add it from the same radio event.
  for (const node of sim.links.keys()) sim.medium.radio(node).on('sent', (s) => (lastTx.get(node)!.airtimeMs = s.airtimeMs))
  const result = runSimulation(sim)
  const schedule: RunSchedule = {
    scenario: scenario.name, seed: sim.seed, protocol: scenario.protocol, durationS: scenario.duration, startWallMs: BASE,
    nodes: [...sim.links.keys()].map((id) => ({ id, name: `n${id}`, address: id, position: [sim.medium.position(id).x, sim.medium.position(id).y] as [number, number] })),
    flows: sim.collector.flowList().map((f) => ({
      id: f.id, pattern: f.pattern, from: f.from, dst: f.dst, receivers: f.receivers, startS: f.startMs / 1000, stopS: f.stopMs / 1000, rate: 1000 / f.intervalMs, size: f.size,
    })),
  }
  return { result, events, schedule }
}

/** Damage written into the logs, to be counted back. */
interface Damage {
  corrupt: number
  invalid: number
  truncated: number
}

/**
 * Per-node log files as runtime/event-log.ts writes them (wall = t + the node's clock offset, a
 * log-start line opening each file, rotated into `files` pieces), plus damage: garbage lines,
 * JSON that is not an event, and one file's last line cut short. Returns the damage written.
 */
function writeLogs(dir: string, run: SimRun, offsets: Map<number, number>, files = 3): Damage {
  const byNode = new Map<number, LogEvent[]>()
  for (const e of run.events) {
    const { t, node, ev, ...rest } = e
    const line = { t, wall: BASE + t + offsets.get(node)!, node, ev, ...rest }
    let l = byNode.get(node)
    if (l === undefined) byNode.set(node, (l = []))
    l.push(line)
  }
  const damage: Damage = { corrupt: 0, invalid: 0, truncated: 0 }
  for (const [node, events] of byNode) {
    const per = Math.ceil(events.length / files)
    for (let k = 0; k < files; k++) {
      const part = events.slice(k * per, (k + 1) * per)
      const t0 = part[0]?.t ?? 0
      const head = { t: t0, wall: BASE + t0 + offsets.get(node)!, node, ev: 'log-start', name: `n${node}`, address: formatNodeAddress(node), version: 'test', monoStartMs: t0 }
      const lines = [head, ...part].map((e) => JSON.stringify(e))
      if (node % 2 === 0 && lines.length > 10) {
        lines.splice(5, 0, 'garbage {{{', '\u0000'.repeat(40))
        lines.splice(9, 0, '{"t":1,"ev":"tx"}')
        damage.corrupt += 2
        damage.invalid++
      }
      const name = join(dir, `${formatNodeAddress(node)}.jsonl${files - 1 - k ? `.${files - 1 - k}` : ''}`)
      writeFileSync(name, lines.join('\n') + '\n')
      if (node === 3 && k === files - 1) {
        appendFileSync(name, lines[lines.length - 1].slice(0, 25))
        damage.truncated++
      }
    }
  }
  return damage
}

function compare(sim: MetricsResult, live: LiveMetricsResult): void {
  const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: live ${a} vs sim ${b}`)
  const rel = (a: number, b: number, tol: number, what: string) => near(a, b, tol * Math.max(Math.abs(b), 1e-9), what)
  assert.is(live.source, 'live')
  for (const k of ['expected', 'delivered', 'ratio', 'duplicates', 'stray', 'malformed', 'receivers', 'perReceiver'] as const) assert.equal(live.delivery[k], sim.delivery[k], `delivery.${k}`)
  for (const k of ['mean', 'p50', 'p95', 'max'] as const) near(live.latencyMs[k], sim.latencyMs[k], 1, `latencyMs.${k}`)
  if (sim.jitterMs === null) assert.is(live.jitterMs, null)
  else near(live.jitterMs!, sim.jitterMs, 1, 'jitterMs')
  assert.equal(live.overhead, sim.overhead)
  assert.equal(live.traffic, sim.traffic)
  rel(live.airtime.totalSeconds, sim.airtime.totalSeconds, 1e-3, 'airtime.totalSeconds')
  rel(live.airtime.maxNodeShare, sim.airtime.maxNodeShare, 1e-3, 'airtime.maxNodeShare')
  assert.is(live.simSeconds, sim.simSeconds)
  assert.equal(live.timeline, sim.timeline)
  assert.equal(live.schedule, sim.schedule)
  assert.is(live.latencyCdf.length, sim.latencyCdf!.length)
  live.latencyCdf.forEach(([ms, f], i) => {
    near(ms, sim.latencyCdf![i][0], 1, `latencyCdf[${i}]`)
    assert.is(f, sim.latencyCdf![i][1])
  })
  assert.equal(live.perNode.map(({ node, sent, expected, delivered }) => ({ node, sent, expected, delivered })), sim.perNode!.map(({ node, sent, expected, delivered }) => ({ node, sent, expected, delivered })))
  live.perNode.forEach((n, i) => {
    const s = sim.perNode![i]
    // The medium counts a frame when it starts, a log when it ends: a frame still on air at the end differs.
    near(n.txFrames, s.txFrames, 1, `perNode[${n.node}].txFrames`)
    rel(n.airtimeMs, s.airtimeMs, 1e-3, `perNode[${n.node}].airtimeMs`)
    assert.is(n.name, `n${n.node}`)
  })
  assert.equal(live.topology.links.map(({ a, b }) => [a, b]), sim.topology!.links.map(({ a, b }) => [a, b]))
  assert.equal(live.topology.nodes.map(({ node, x, y }) => [node, x, y]), sim.topology!.nodes.map(({ node, x, y }) => [node, x, y]))
  assert.equal([live.events, live.counters, live.histograms, live.adversaries], [0, {}, {}, []])
}

const GRID_AODV = `
name: collect-aodv
seed: 5
duration: 25
nodes: { count: 6, placement: grid, spacing: 200 }
field: { width: 600, height: 400 }
radio: { range: 250, loss: 0.03 }
link: { beaconIntervalMs: 1000 }
protocol: aodv
traffic:
  - { pattern: unicast, flows: 3, start: [3, 4], stop: 23, rate: 4, size: 64 }
`

test('a simulated AODV run written as damaged live logs with skewed clocks collects to the simulator\'s metrics', async () => {
  const run = simulate(GRID_AODV)
  assert.ok(run.result.delivery.delivered > 100 && run.result.latencyMs.mean > 0, 'the scenario moves traffic over several hops')
  const offsets = new Map([[1, 0], [2, 2000], [3, -2000], [4, 300], [5, -300], [6, 1234.5]])
  const dir = tmp()
  try {
    mkdirSync(join(dir, 'logs'))
    const damage = writeLogs(join(dir, 'logs'), run, offsets)
    writeFileSync(join(dir, 'schedule.json'), JSON.stringify(run.schedule))
    const live = await collectRun([dir], loadSchedule(join(dir, 'schedule.json')))
    compare(run.result, live)
    const c = live.collect
    assert.equal(c.skipped, damage)
    assert.ok(damage.corrupt > 0 && damage.invalid > 0 && damage.truncated === 1)
    assert.is(c.files, 18)
    assert.is(c.events, run.events.length + 18)
    assert.is(c.lines, c.events + damage.corrupt + damage.invalid + damage.truncated)
    assert.is(c.clockReference, 1)
    assert.equal(c.unsynchronised, [])
    assert.equal([c.notSent, c.skippedBySenders, c.logDropped], [0, 0, 0])
    for (const [n, off] of offsets) assert.ok(Math.abs(c.clockOffsetsMs[String(n)] - off) < 0.01, `offset of ${n}: ${c.clockOffsetsMs[String(n)]}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a flooded broadcast, collected without startWallMs (the start implied by the sends) and from several directories', async () => {
  const run = simulate(`
name: collect-flood
seed: 2
duration: 12
nodes: { count: 5, placement: grid, spacing: 150 }
field: { width: 450, height: 300 }
radio: { range: 200 }
link: { beaconIntervalMs: 500 }
protocol: flood
traffic:
  - { pattern: broadcast, senders: 2, start: 1, stop: 11, rate: 5, size: 40 }
`)
  delete run.schedule.startWallMs
  const offsets = new Map([[1, -300], [2, 0], [3, 700], [4, -2000], [5, 40]])
  const dir = tmp()
  try {
    for (const d of ['a', 'b']) mkdirSync(join(dir, d))
    writeLogs(join(dir, 'a'), { ...run, events: run.events.filter((e) => e.node <= 2) }, offsets, 1)
    writeLogs(join(dir, 'b'), { ...run, events: run.events.filter((e) => e.node > 2) }, offsets, 2)
    const live = await collectRun([join(dir, 'a'), join(dir, 'b')], run.schedule)
    compare(run.result, live)
    assert.is(live.collect.clockReference, 1)
    for (const [n, off] of offsets) assert.ok(Math.abs(live.collect.clockOffsetsMs[String(n)] - (off + 300)) < 0.01)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a node that heard nobody is unsynchronised (offset 0); events outside the run do not count', async () => {
  const schedule: RunSchedule = {
    scenario: 's', seed: 1, protocol: 'flood', durationS: 10, startWallMs: BASE,
    nodes: [{ id: 1, name: 'a', address: 1 }, { id: 2, name: 'b', address: 2 }, { id: 3, name: 'c', address: 3 }],
    flows: [{ id: 7, pattern: 'broadcast', from: 1, dst: 0xffffffff, receivers: [2, 3], startS: 1, stopS: 9, rate: 1, size: 10 }],
  }
  const dir = tmp()
  try {
    const lines = (node: number, evs: Array<Record<string, unknown>>) =>
      writeFileSync(join(dir, `${formatNodeAddress(node)}.jsonl`), evs.map((e) => JSON.stringify({ node, ...e })).join('\n') + '\n')
    lines(1, [{ t: 0, wall: BASE, ev: 'log-start' }, { t: 1000, wall: BASE + 1000, ev: 'app-send', flow: 7, seq: 0 }, { t: 2000, wall: BASE + 2000, ev: 'app-send', flow: 7, seq: 1 }])
    // Node 3's clock is a minute ahead and it heard no frames: its deliveries fall after the run.
    const late = 60_000
    lines(3, [
      { t: 0, wall: BASE + late, ev: 'log-start' },
      { t: 1010, wall: BASE + late + 1010, ev: 'app-deliver', flow: 7, seq: 0 },
      { t: 1015, wall: BASE + late + 1015, ev: 'app-deliver', flow: 7, seq: 0 },
      { t: 1020, wall: BASE + late + 1020, ev: 'app-deliver', flow: 9, seq: 0 },
      { t: 1030, wall: BASE + late + 1030, ev: 'app-deliver', origin: 1 },
    ])
    const live = await collectRun([dir], schedule)
    assert.equal(live.collect.unsynchronised, [3])
    assert.equal(live.collect.clockOffsetsMs, { 1: 0, 3: 0 })
    // The schedule's 8 packets are expected (6 have no app-send line: node 1's log ends early).
    assert.equal([live.delivery.expected, live.delivery.delivered, live.traffic.packetsSent, live.collect.notSent], [16, 0, 2, 6])
    assert.equal(live.perNode.map((n) => [n.node, n.name, n.sent, n.expected]), [[1, 'a', 2, 0], [2, 'b', 0, 8], [3, 'c', 0, 8]])
    assert.equal(live.timeline.points.slice(0, 3), [{ t: 0, expected: 0, delivered: 0 }, { t: 1, expected: 2, delivered: 0 }, { t: 2, expected: 2, delivered: 0 }])
    assert.equal(live.timeline.points.slice(8, 10), [{ t: 8, expected: 2, delivered: 0 }, { t: 9, expected: 0, delivered: 0 }])
    assert.equal(live.latencyCdf, [])
    // Its clock set right by hand, they count: a first delivery, a duplicate, a stray, a malformed one.
    const f3 = join(dir, '00000003.jsonl')
    writeFileSync(f3, readFileSync(f3, 'utf8').replace(/"wall":(\d+)/g, (_, w: string) => `"wall":${Number(w) - late}`))
    const moved = await collectRun([dir], schedule)
    assert.equal([moved.delivery.delivered, moved.delivery.duplicates, moved.delivery.stray, moved.delivery.malformed], [1, 1, 1, 1])
    assert.equal(moved.latencyMs.max, 10)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// ------------------------------------------------------------------------------------------
// Live runs: clocks, schedules, node keys, topology, duplicate paths

const NO_READ = { files: 1, lines: 0, events: 0, skipped: { truncated: 0, corrupt: 0, invalid: 0 } }

/**
 * A LiveCollector fed with events at true times (ms since BASE) logged on clocks `offsets` ahead;
 * `beacons` pairs exchange a beacon each way every second from −5 s to 20 s, so offsets are known.
 */
function live(schedule: RunSchedule, offsets: Map<number, number>, beacons: Array<[number, number]>) {
  const c = new LiveCollector(schedule)
  const ev = (node: number, trueMs: number, e: Record<string, unknown>) => c.add({ t: trueMs, node, ...e } as LogEvent, BASE + trueMs + offsets.get(node)!)
  for (let k = -5; k < 20; k++) {
    for (const [a, b] of beacons.flatMap(([a, b]) => [[a, b], [b, a]])) {
      const t = k * 1000 + (a % 100) * 7
      ev(a, t, { ev: 'tx', kind: 'beacon', src: a, seq: k + 5, len: 9, airtimeMs: 1 })
      ev(b, t + 3, { ev: 'rx', kind: 'beacon', src: a, seq: k + 5, len: 9 })
    }
  }
  return { c, ev, result: () => c.result(NO_READ) }
}

test('a sender times its flow on its own clock: ahead or behind the reference, none of its packets is lost to the run\'s window', () => {
  for (const off2 of [0, 50, -50, 400]) {
    for (const [startS, stopS] of [[0, 10], [3, 8]]) {
      const schedule: RunSchedule = {
        scenario: 'x', seed: 1, protocol: 'aodv', durationS: 10, startWallMs: BASE,
        nodes: [{ id: 1, name: 'a', address: 1 }, { id: 2, name: 'b', address: 2 }],
        flows: [{ id: 1, pattern: 'unicast', from: 2, dst: 1, receivers: [1], startS, stopS, rate: 1, size: 16 }],
      }
      const { ev, result } = live(schedule, new Map([[1, 0], [2, off2]]), [[1, 2]])
      // Packet k is due at startS + k on node 2's clock: true time that minus its offset.
      for (let seq = 0; seq < stopS - startS; seq++) {
        const trueSend = (startS + seq) * 1000 - off2
        ev(2, trueSend, { ev: 'app-send', flow: 1, seq, dst: 1, size: 16 })
        ev(1, trueSend + 5, { ev: 'app-deliver', origin: 2, flow: 1, seq, hops: 1 })
      }
      const r = result()
      const n = stopS - startS
      assert.equal([r.traffic.packetsSent, r.delivery.expected, r.delivery.delivered, r.delivery.stray, r.collect.notSent], [n, n, n, 0, 0], `offset ${off2}, flow [${startS}, ${stopS})`)
      assert.ok(Math.abs(r.latencyMs.max - 5) < 0.01 && Math.abs(r.collect.clockOffsetsMs['2'] - off2) < 0.01)
    }
  }
})

test('expected deliveries are the schedule\'s packets: skipped by a late sender, not sent by one that died, lost log lines; counted in collect', () => {
  const schedule: RunSchedule = {
    scenario: 'x', seed: 1, protocol: 'flood', durationS: 10, startWallMs: BASE,
    nodes: [{ id: 1, name: 'a', address: 1 }, { id: 2, name: 'b', address: 2 }, { id: 3, name: 'c', address: 3 }],
    flows: [
      // 10 packets at 0, 0.5, …, 4.5 s; node 1 started late and skipped the first 4.
      { id: 1, pattern: 'broadcast', from: 1, dst: 0xffffffff, receivers: [2, 3], startS: 0, stopS: 5, rate: 2, size: 16 },
      // 0.1 s apart from 2 s to before 3 s: 10 packets (0.1 added up ten times is not 1, as startFlow adds it).
      { id: 2, pattern: 'unicast', from: 2, dst: 3, receivers: [3], startS: 2, stopS: 3, rate: 10, size: 16 },
      // Stops after the run's end: only the packets up to 10 s are expected, as the simulator stops there.
      { id: 3, pattern: 'unicast', from: 3, dst: 1, receivers: [1], startS: 8, stopS: 12, rate: 1, size: 16 },
    ],
  }
  const { ev, result } = live(schedule, new Map([[1, 0], [2, 0], [3, 0]]), [[1, 2], [2, 3]])
  ev(1, 2100, { ev: 'flow-skipped', flow: 1, count: 4 })
  for (let seq = 4; seq < 10; seq++) {
    ev(1, seq * 500, { ev: 'app-send', flow: 1, seq })
    for (const r of [2, 3]) ev(r, seq * 500 + 4, { ev: 'app-deliver', origin: 1, flow: 1, seq })
  }
  // Node 2 died after its 6th packet.
  for (let seq = 0; seq < 6; seq++) {
    ev(2, 2000 + seq * 100, { ev: 'app-send', flow: 2, seq })
    ev(3, 2000 + seq * 100 + 4, { ev: 'app-deliver', origin: 2, flow: 2, seq })
  }
  // Node 3 lost the log line of its first packet (delivered anyway) and logged the gap; its last
  // packet (sent at the run's end) arrives after it, as in a simulation that stops there.
  ev(1, 8004, { ev: 'app-deliver', origin: 3, flow: 3, seq: 0 })
  ev(3, 8500, { ev: 'log-dropped', count: 3 })
  for (const seq of [1, 2]) {
    ev(3, 8000 + seq * 1000, { ev: 'app-send', flow: 3, seq })
    ev(1, 8000 + seq * 1000 + 4, { ev: 'app-deliver', origin: 3, flow: 3, seq })
  }
  const r = result()
  assert.equal([r.delivery.expected, r.delivery.delivered, r.traffic.packetsSent], [2 * 10 + 10 + 3, 12 + 6 + 2, 6 + 6 + 2])
  assert.equal([r.collect.notSent, r.collect.skippedBySenders, r.collect.logDropped], [4 + 4 + 1, 4, 3])
  assert.equal(r.perNode.map((n) => [n.node, n.sent, n.expected, n.delivered]), [[1, 6, 3, 2], [2, 6, 10, 6], [3, 2, 20, 12]])
  // Unsent packets are expected at their planned times.
  assert.equal(r.timeline.points.slice(0, 3), [{ t: 0, expected: 4, delivered: 0 }, { t: 1, expected: 4, delivered: 0 }, { t: 2, expected: 14, delivered: 10 }])
  assert.equal(r.timeline.points.slice(8), [{ t: 8, expected: 1, delivered: 1 }, { t: 9, expected: 1, delivered: 1 }, { t: 10, expected: 1, delivered: 0 }])
  assert.is(r.latencyMs.max, 4)
})

test('live nodes are keyed by the schedule\'s scenario ids (with address and name), nodes not in it after by address', () => {
  const [A, B, C, X] = [0x30, 0x10, 0x20, 0x05]
  const schedule: RunSchedule = {
    scenario: 'x', seed: 1, protocol: 'flood', durationS: 10, startWallMs: BASE,
    nodes: [{ id: 2, name: 'b', address: B, position: [5, 6] }, { id: 1, name: 'a', address: A, position: [1, 2] }, { id: 3, name: 'c', address: C }],
    flows: [{ id: 1, pattern: 'unicast', from: A, dst: B, receivers: [B], startS: 1, stopS: 3, rate: 1, size: 16 }],
  }
  const { c, ev, result } = live(schedule, new Map([[A, 0], [B, 0], [C, 0], [X, 0]]), [[A, B], [B, C], [C, X]])
  c.add({ t: 0, node: X, ev: 'log-start', name: 'stranger' }, BASE)
  for (const [a, b] of [[A, B], [B, A], [B, C], [C, B], [C, X], [X, C]]) ev(a, 500, { ev: 'neighbour-up', neighbour: b })
  for (const seq of [0, 1]) {
    ev(A, 1000 + seq * 1000, { ev: 'app-send', flow: 1, seq })
    ev(B, 1010 + seq * 1000, { ev: 'app-deliver', origin: A, flow: 1, seq })
  }
  const r = result()
  assert.equal(r.perNode.map((n) => [n.node, n.name, n.address, n.sent, n.expected, n.delivered]), [[1, 'a', A, 2, 0, 0], [2, 'b', B, 0, 2, 2], [3, 'c', C, 0, 0, 0], [X, 'stranger', X, 0, 0, 0]])
  assert.equal(r.topology.nodes, [{ node: 1, name: 'a', address: A, x: 1, y: 2 }, { node: 2, name: 'b', address: B, x: 5, y: 6 }, { node: 3, name: 'c', address: C }, { node: X, name: 'stranger', address: X }])
  assert.equal(r.topology.links, [{ a: 1, b: 2 }, { a: 2, b: 3 }, { a: 3, b: X }])
})

test('topology keeps neighbours found before the run started; changes after its end do not count', () => {
  const schedule: RunSchedule = { scenario: 'x', seed: 1, protocol: 'aodv', durationS: 20, startWallMs: BASE, nodes: [1, 2, 3, 4].map((a) => ({ id: a, name: `n${a}`, address: a })), flows: [] }
  const { ev, result } = live(schedule, new Map([[1, 0], [2, 0], [3, 0], [4, 0]]), [])
  // Daemons up 3 s before the run: 1-2, 2-3 and 3-4 meet then.
  for (const [a, b] of [[1, 2], [2, 1], [2, 3], [3, 2], [3, 4], [4, 3]]) ev(a, -2000, { ev: 'neighbour-up', neighbour: b })
  // In the run 1 also meets 3; 3-4 breaks after the run's end.
  for (const [a, b] of [[1, 3], [3, 1]]) ev(a, 5000, { ev: 'neighbour-up', neighbour: b })
  ev(3, 25_000, { ev: 'neighbour-down', neighbour: 4 })
  assert.equal(result().topology.links, [{ a: 1, b: 2 }, { a: 1, b: 3 }, { a: 2, b: 3 }, { a: 3, b: 4 }])
})

test('the clock reference is taken in the largest group of nodes that heard each other, not an isolated first node', () => {
  const schedule: RunSchedule = { scenario: 'x', seed: 1, protocol: 'aodv', durationS: 10, startWallMs: BASE, nodes: [1, 2, 3, 4].map((a) => ({ id: a, name: `n${a}`, address: a })), flows: [] }
  const { c, result } = live(schedule, new Map([[1, 0], [2, 0], [3, 700], [4, -300]]), [[2, 3], [3, 4]])
  c.add({ t: 0, node: 1, ev: 'log-start' }, BASE)
  const r = result()
  assert.is(r.collect.clockReference, 2)
  assert.equal(r.collect.unsynchronised, [1])
  assert.equal(r.collect.clockOffsetsMs, { 1: 0, 2: 0, 3: 700, 4: -300 })
})

test('a log file reached by two paths (relative and absolute, a symlink) is read once', () => {
  const dir = tmp()
  try {
    mkdirSync(join(dir, 'run', 'logs'), { recursive: true })
    writeFileSync(join(dir, 'run', 'logs', '00000001.jsonl'), '{"t":0,"node":1,"ev":"log-start"}\n')
    symlinkSync(join(dir, 'run', 'logs'), join(dir, 'alias'))
    const rel = relative(process.cwd(), join(dir, 'run'))
    const files = findLogFiles([rel, join(dir, 'run', 'logs'), join(dir, 'alias')])
    assert.equal(files.map((f) => f.path), [join(rel, 'logs', '00000001.jsonl')])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('spinmesh field-test collect writes the metrics JSON; mistakes are one line', () => {
  const run = simulate(GRID_AODV.replace('duration: 25', 'duration: 8').replace('stop: 23', 'stop: 7'))
  const dir = tmp()
  try {
    mkdirSync(join(dir, 'logs'))
    writeLogs(join(dir, 'logs'), run, new Map([[1, 0], [2, 50], [3, -50], [4, 0], [5, 0], [6, 9]]))
    writeFileSync(join(dir, 'schedule.json'), JSON.stringify(run.schedule))
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'cli/spinmesh.js'), 'field-test', ...args], { encoding: 'utf8', timeout: 120_000 })
    const ok = cli('collect', join(dir, 'logs'), '--out', join(dir, 'results.json'))
    assert.is(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /delivery +\d+ \/ \d+/)
    assert.match(ok.stdout, /logs +18 file\(s\).*truncated 1/)
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as LiveMetricsResult
    assert.equal(json.delivery.expected, run.result.delivery.expected)
    const cases: Array<[string[], number, RegExp]> = [
      [['collect'], 2, /needs at least one log directory/],
      [['frob'], 2, /unknown field-test subcommand "frob" \(available: .*collect/],
      [['collect', tmpdir(), '--schedule', join(dir, 'nope.json')], 1, /cannot read schedule .*nope\.json: ENOENT/],
      [['collect', join(tmpdir(), 'collect-no-such-dir', 'logs')], 2, /no schedule\.json/],
      [['collect', root + 'docs', '--schedule', join(dir, 'schedule.json')], 1, /no event logs/],
    ]
    for (const [argv, code, msg] of cases) {
      const r = cli(...argv)
      assert.is(r.status, code, `${argv.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
