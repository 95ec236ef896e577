/**
 * A node's flows in a live run: in virtual time they send the simulator's packets (startFlow's
 * times and seqs), skip what was due long before a late start, log app-send; config `flows:`,
 * `log:` and `run:` are validated naming the field. Then three real nodes on the live hub: node 0
 * sends a unicast flow to node 2 and both event logs show it (app-send, app-deliver, beacons).
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { groupAddr } from '../core/addr.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { configError } from '../core/testing.ts'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import type { ScheduledFlow } from '../field-tests/field-test-types.ts'
import { decodeAppHeader, startFlow, type Flow } from '../field-tests/traffic.ts'
import { loadNodeConfig, validateNodeConfig } from './config.ts'
import { checkNodeFlows, NodeFlows } from './node-flows.ts'
import { MeshNode } from './node.ts'
import { hubNodes } from './hub-nodes.ts'

const ME = 0x0a0b0c0d
const PEER = 0x01020304
const START = 1_700_000_000_000

const flow = (over: Partial<ScheduledFlow> = {}): ScheduledFlow =>
  ({ id: 3, pattern: 'unicast', from: ME, dst: PEER, receivers: [PEER], startS: 1, stopS: 4, rate: 10, size: 20, ...over })

/** A NodeTraffic stand-in recording what was sent when. */
function fakeTraffic(sched: SimScheduler, max = 200) {
  const sent: Array<{ at: number; dst: number; flow: number; seq: number; size: number }> = []
  return {
    sent,
    maxPayload: () => max,
    send(dst: number, payload: Uint8Array) {
      const h = decodeAppHeader(payload)
      sent.push({ at: sched.now(), dst, flow: h.flow, seq: h.seq, size: payload.length })
    },
  }
}

test('rate × duration packets, seqs in order, at startFlow\'s times (the simulator\'s packets), each logged app-send', () => {
  for (const rate of [10, 3, 7, 0.5, 33]) {
    const sched = new SimScheduler()
    sched.run({ until: 500 })
    const traffic = fakeTraffic(sched)
    const log: Array<[string, Record<string, unknown>]> = []
    // The run starts 2 s after this node: flow time 0 is scheduler time 2500.
    const f = flow({ rate })
    const flows = new NodeFlows({ address: ME, flows: [f], run: { startWallMs: START }, traffic, scheduler: sched, wallNow: () => START - 2000, log: (ev, x = {}) => log.push([ev, x]) })
    sched.run()
    // The simulator's generator for the same flow, on a scheduler whose 0 is the run's start.
    const sim = new SimScheduler()
    const want: Array<{ at: number; seq: number }> = []
    const simFlow: Flow = { id: f.id, pattern: 'unicast', from: ME, dst: PEER, receivers: [PEER], startMs: f.startS * 1000, stopMs: f.stopS * 1000, intervalMs: 1000 / rate, size: f.size }
    startFlow(simFlow, sim, (_f, seq) => want.push({ at: sim.now(), seq }))
    sim.run()
    // rate × duration; at rate 7 the simulator's added-up interval lands just before stopS: one more, here too.
    assert.is(traffic.sent.length, want.length, `rate ${rate}`)
    assert.is(want.length, Math.ceil(rate * (f.stopS - f.startS)) + (rate === 7 ? 1 : 0), `rate ${rate}`)
    assert.equal(traffic.sent.map((s) => s.seq), want.map((w) => w.seq))
    traffic.sent.forEach((s, k) => assert.ok(Math.abs(s.at - 2500 - want[k].at) < 1e-6, `rate ${rate}: packet ${k} at ${s.at - 2500}, simulated ${want[k].at}`))
    assert.ok(traffic.sent.every((s) => s.dst === PEER && s.flow === 3 && s.size === 20))
    assert.equal(log.map(([ev, x]) => [ev, x.flow, x.seq, x.dst, x.size]), want.map((w) => ['app-send', 3, w.seq, PEER, 20]))
    assert.equal(flows.stats(), [{ id: 3, sent: want.length, skipped: 0, failed: 0, done: true }])
  }
})

test('a node started late skips what was due over a second ago and sends the rest on time; stop() ends a flow', () => {
  const sched = new SimScheduler()
  const traffic = fakeTraffic(sched)
  const log: Array<[string, Record<string, unknown>]> = []
  const flows = new NodeFlows({ address: ME, flows: [flow({ startS: 0, stopS: 4 }), flow({ id: 4, startS: 0, stopS: 1 })], run: { startWallMs: START }, traffic, scheduler: sched, wallNow: () => START + 2500, log: (ev, x = {}) => log.push([ev, x]) })
  sched.run()
  const three = traffic.sent.filter((s) => s.flow === 3)
  assert.is(three[0].seq, 15, 'due at 1.5 s: within the grace, sent at once')
  assert.is(three[0].at, 0)
  assert.is(three.at(-1)!.seq, 39)
  assert.is(three.find((s) => s.seq === 26)!.at, 100, 'due at 2.6 s = 0.1 s after the start')
  assert.equal(traffic.sent.filter((s) => s.flow === 4), [], 'all of flow 4 was due before')
  assert.equal(log.filter(([ev]) => ev === 'flow-skipped').map(([, x]) => x), [{ flow: 3, count: 15 }, { flow: 4, count: 10 }])
  assert.equal(flows.stats().map((s) => [s.sent, s.skipped, s.done]), [[25, 15, true], [0, 10, true]])

  const s2 = new SimScheduler()
  const t2 = fakeTraffic(s2)
  const f2 = new NodeFlows({ address: ME, flows: [flow()], run: { startWallMs: START }, traffic: t2, scheduler: s2, wallNow: () => START })
  s2.run({ until: 1550 })
  f2.stop()
  s2.run()
  assert.is(t2.sent.length, 6)
})

test('a send that throws is logged app-send-failed and the flow goes on', () => {
  const sched = new SimScheduler()
  const log: string[] = []
  let n = 0
  const traffic = { maxPayload: () => 200, send: () => { if (n++ === 1) throw new RangeError('queue full') } }
  const flows = new NodeFlows({ address: ME, flows: [flow({ startS: 0, stopS: 0.5 })], run: { startWallMs: START }, traffic, scheduler: sched, wallNow: () => START, log: (ev) => log.push(ev) })
  sched.run()
  assert.equal(log, ['app-send', 'app-send', 'app-send-failed', 'app-send', 'app-send', 'app-send'])
  assert.equal(flows.stats()[0], { id: 3, sent: 5, skipped: 0, failed: 1, done: true })
})

test('what only the running node knows: its own flows, packets that fit, a multicast section for groups (the run start may come later, by start-run)', () => {
  const traffic = { maxPayload: (dst: number) => (dst === PEER ? 100 : 0), send: () => {} }
  const at = (fn: () => void) => configError(fn).path
  const run = { startWallMs: START }
  assert.is(at(() => checkNodeFlows({ address: ME, flows: [flow({ from: PEER })], run, traffic })), 'flows.0.from')
  checkNodeFlows({ address: ME, flows: [flow()], traffic }) // no run yet: start-run times the flows
  assert.is(at(() => checkNodeFlows({ address: ME, flows: [flow(), flow({ size: 101 })], run, traffic })), 'flows.1.size')
  assert.is(at(() => checkNodeFlows({ address: ME, flows: [flow({ pattern: 'multicast', dst: groupAddr(2) })], run, traffic })), 'flows.0.dst')
  checkNodeFlows({ address: ME, flows: [], traffic })
  checkNodeFlows({ address: ME, flows: [flow()], run })
})

test('config: flows, log and run validated field by field; addresses as numbers or as printed', () => {
  const base = { identity: 'n.key', radio: { kind: 'hub', hub: '127.0.0.1:7400' }, security: { mode: 'open' } }
  const c = validateNodeConfig({ ...base, log: { dir: './logs' }, run: { startWallMs: START }, flows: [
    flow(),
    { ...flow({ id: 4, pattern: 'multicast', receivers: [] }), from: '0a0b0c0d', dst: 'group:5' },
  ] }, '/etc/spinmesh/n.yaml')
  assert.equal(c.log, { dir: '/etc/spinmesh/logs', maxBytes: 8 * 1024 * 1024, files: 5 })
  assert.equal(c.run, { startWallMs: START })
  assert.equal(c.flows[1], { ...flow({ id: 4, pattern: 'multicast', receivers: [] }), dst: groupAddr(5) })
  assert.equal(validateNodeConfig(base).flows, [])
  const path = (raw: Record<string, unknown>) => configError(() => validateNodeConfig({ ...base, ...raw })).path
  assert.is(path({ flows: [flow({ pattern: 'broadcast', dst: 0xffffffff })] }), 'flows.0.pattern')
  assert.is(path({ flows: [flow({ dst: groupAddr(1) })] }), 'flows.0.dst')
  assert.is(path({ flows: [flow({ pattern: 'multicast' })] }), 'flows.0.dst')
  assert.is(path({ flows: [{ ...flow(), dst: 'nowhere' }] }), 'flows.0.dst')
  assert.is(path({ flows: [{ ...flow(), from: true }] }), 'flows.0.from')
  assert.is(path({ flows: [{ ...flow(), from: 0 }] }), 'flows.0.from')
  assert.is(path({ flows: [flow({ stopS: 1 })] }), 'flows.0.stopS')
  assert.is(path({ flows: [flow({ size: 5 })] }), 'flows.0.size')
  assert.is(path({ flows: [flow({ rate: 0 })] }), 'flows.0.rate')
  assert.is(path({ flows: [flow(), flow()] }), 'flows.1.id')
  assert.is(path({ flows: [{ ...flow(), colour: 1 }] }), 'flows.0.colour')
  assert.is(path({ log: {} }), 'log.dir')
  assert.is(path({ log: { dir: 'x', maxBytes: 10 } }), 'log.maxBytes')
  assert.is(path({ run: { startWallMs: -1 } }), 'run.startWallMs')
})

const hex = (a: number) => a.toString(16).padStart(8, '0')

test('three nodes on the hub: node 0 sends 3 s at 10 packets/s to node 2; its log has the app-sends, node 2\'s the app-delivers, both the beacons with t and wall', async () => {
  const field = await hubNodes(3, { prefix: 'spinmesh-flows-' })
  const { dir, ids, hub } = field
  const nodes: MeshNode[] = []
  try {
    const startWallMs = Date.now() + 1500
    const f: ScheduledFlow = { id: 7, pattern: 'unicast', from: ids[0].address, dst: ids[2].address, receivers: [ids[2].address], startS: 0, stopS: 3, rate: 10, size: 32 }
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `n${i}.yaml`)
      writeFileSync(file, [
        `name: n${i}`,
        `identity: ./n${i}.key`,
        `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`,
        'security: { mode: open }',
        'log: { dir: ./logs }',
        `run: { startWallMs: ${startWallMs} }`,
        `flows: ${JSON.stringify(i === 0 ? [f] : [])}`,
      ].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(file)))
    }
    await new Promise((r) => setTimeout(r, startWallMs + 3000 + 1500 - Date.now()))
    const status = nodes[0].status() as { flows: Array<{ sent: number; done: boolean }>; log: { errors: number; dropped: number } }
    assert.equal(status.flows.map((x) => [x.sent, x.done]), [[30, true]])
    assert.equal([status.log.errors, status.log.dropped], [0, 0])
    for (const n of nodes.splice(0)) await n.close()
    assert.equal(readdirSync(join(dir, 'logs')).sort(), ids.map((id) => `${hex(id.address)}.jsonl`).sort())
    const read = (i: number) => readFileSync(join(dir, 'logs', `${hex(ids[i].address)}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const [log0, log2] = [read(0), read(2)]
    for (const [i, log] of [[0, log0], [2, log2]] as const) {
      assert.equal([log[0].ev, log[0].name, log[0].address], ['log-start', `n${i}`, hex(ids[i].address)])
      assert.ok(log.every((e) => e.node === ids[i].address && typeof e.t === 'number' && typeof e.wall === 'number'))
      const tx = log.find((e) => e.ev === 'tx' && e.kind === 'beacon')
      const rx = log.find((e) => e.ev === 'rx' && e.kind === 'beacon')
      assert.ok(tx && typeof tx.airtimeMs === 'number' && tx.src === ids[i].address, JSON.stringify(tx))
      assert.ok(rx && rx.src === ids[1].address, JSON.stringify(rx))
      assert.ok(log.some((e) => e.ev === 'neighbour-up' && e.neighbour === ids[1].address))
    }
    const sends = log0.filter((e) => e.ev === 'app-send')
    assert.equal(sends.map((e) => [e.flow, e.seq, e.dst, e.size]), Array.from({ length: 30 }, (_, k) => [7, k, ids[2].address, 32]))
    assert.ok(Math.abs((sends[0].wall as number) - startWallMs) < 200, `first send ${(sends[0].wall as number) - startWallMs} ms after the start`)
    assert.ok(log0.some((e) => e.ev === 'route-found' && e.dst === ids[2].address))
    const delivers = log2.filter((e) => e.ev === 'app-deliver')
    assert.ok(delivers.length >= 28, `${delivers.length} of 30 delivered`)
    for (const d of delivers) assert.equal([d.origin, d.flow, d.hops], [ids[0].address, 7, 2])
    const seqs = delivers.map((d) => d.seq as number)
    assert.equal([...new Set(seqs)].length, seqs.length, 'each delivered once')
    assert.ok(seqs.every((s) => s >= 0 && s < 30))
  } finally {
    for (const n of nodes) await n.close()
    await field.close()
  }
})

test('a node refuses to start with another node\'s flows (before opening its radio)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-flows-'))
  try {
    saveIdentity(generateIdentity(), join(dir, 'n.key'))
    writeFileSync(join(dir, 'n.yaml'), ['identity: ./n.key', 'radio: { kind: hub, hub: 127.0.0.1:9 }', 'security: { mode: open }', `run: { startWallMs: ${START} }`, `flows: ${JSON.stringify([flow()])}`].join('\n'))
    const e = await MeshNode.start(loadNodeConfig(join(dir, 'n.yaml'))).then(() => undefined, (x: unknown) => x as Error & { path?: string })
    assert.is(e?.path, 'flows.0.from')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
