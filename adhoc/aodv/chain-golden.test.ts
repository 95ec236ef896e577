/**
 * Reference behaviour (PROTOCOLS.md §1): a 5-node chain whose middle node leaves a third of the way
 * through. Nodes 1–5 stand 100 m apart on a line (150 m range, SimMedium: airtime, carrier sense,
 * collisions); node 1 sends node 5 four packets a second from 1 s to 29 s. At 10 s node 3 jumps
 * 400 m away (the chain breaks); at 12 s node 6 appears at (200, −100), in range of 2, 3's old spot
 * and 4, so the chain can be bridged again. Expected: route set-up through 3 (rings 1, 3, 5), a link
 * break at 2 (tx-failure on data), RERR to 1, a rediscovery from the last hop count (TTL 4 + 2 = 6),
 * a NET_DIAMETER RREQ while still partitioned, and its backoff retry 2.8 s later succeeding through
 * 6; the packets buffered meanwhile are delivered.
 *
 * The trace of every AODV event (t, node, event, fields) and a summary of counters is compared with
 * golden/chain.jsonl line by line: any behavioural change fails this test. After an intended change,
 * rewrite it with `UPDATE_GOLDEN=1 node scripts/test.mjs adhoc/aodv/chain-golden` and review the diff.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MetricsRegistry } from '../../core/metrics.ts'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { ScriptedWaypoints, StaticMobility } from '../../hardware/mobility.ts'
import { SimMedium } from '../../hardware/sim-medium.ts'
import { LinkLayer } from '../link.ts'
import { Aodv } from './aodv.ts'
import { TRACED } from './aodv-fixtures.ts'

const GOLDEN = fileURLToPath(new URL('./golden/chain.jsonl', import.meta.url))
const round = (x: number) => Math.round(x * 1000) / 1000

function runChain(): { lines: string[]; nodes: Aodv[]; delivered: number[]; sent: number[] } {
  const scheduler = new SimScheduler()
  const rng = new SeededRng('aodv-chain')
  const metrics = new MetricsRegistry()
  const medium = new SimMedium({ scheduler, rng: rng.fork('medium'), radio: { range: 150 }, metrics })
  for (let id = 1; id <= 5; id++) {
    const at = { x: (id - 1) * 100, y: 0 }
    const leaves = [{ tMs: 0, ...at }, { tMs: 10_000, ...at }, { tMs: 10_000, x: 200, y: 400 }]
    medium.addNode(id, id === 3 ? new ScriptedWaypoints(leaves) : new StaticMobility(at))
  }
  medium.addNode(6, new ScriptedWaypoints([{ tMs: 0, x: 200, y: -1000 }, { tMs: 12_000, x: 200, y: -1000 }, { tMs: 12_000, x: 200, y: -100 }]))

  const lines: string[] = []
  const nodes: Aodv[] = []
  const delivered: number[] = []
  for (let id = 1; id <= 6; id++) {
    const link = new LinkLayer({ address: id, radio: medium.radio(id), scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), config: { beaconIntervalMs: 0 } })
    const aodv = new Aodv({ link, scheduler, rng: rng.fork('aodv', id), metrics: metrics.scope('aodv', id) })
    for (const ev of TRACED) {
      ;(aodv as unknown as { on(e: string, f: (x: Record<string, unknown>) => void): void }).on(ev, (x) => {
        const fields: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(x)) fields[k] = v instanceof Uint8Array ? v.length : typeof v === 'number' ? round(v) : v
        lines.push(JSON.stringify({ t: round(scheduler.now()), node: id, ev, ...fields }))
      })
    }
    aodv.on('deliver', (d) => delivered.push(new DataView(d.payload.buffer, d.payload.byteOffset).getUint32(0)))
    nodes.push(aodv)
  }
  const sent: number[] = []
  for (let k = 0; k < 112; k++) {
    scheduler.at(1000 + k * 250, () => {
      const p = new Uint8Array(64)
      new DataView(p.buffer).setUint32(0, k)
      sent.push(k)
      nodes[0].send(5, p)
    })
  }
  scheduler.run({ until: 30_000 })
  const routes = nodes.map((n) => n.routes().filter((r) => r.valid).map((r) => `${r.dst}>${r.nextHop}/${r.hops}`))
  const totals = metrics.totals()
  lines.push(JSON.stringify({ summary: { sent: sent.length, delivered: delivered.length, routes, aodv: totals.aodv, link: totals.link } }))
  return { lines, nodes, delivered, sent }
}

test('5-node chain, middle node leaves at 10 s: set-up, RERR, rediscovery through node 6 (golden trace)', () => {
  const run = runChain()
  const { lines } = run
  const events = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>)
  const of = (ev: string, node?: number) => events.filter((e) => e.ev === ev && (node === undefined || e.node === node))

  // The story, independent of the exact numbers.
  const found = of('route-found', 1)
  assert.ok(found.length >= 2, 'found twice')
  assert.equal([found[0].dst, found[0].hops], [5, 4])
  assert.ok((found[0].t as number) < 2000)
  const lost2 = of('route-lost', 2).find((e) => e.dst === 5)!
  assert.ok(lost2 && (lost2.t as number) >= 10_000 && (lost2.t as number) < 10_500, `2 loses its route to 5 right after 10 s: ${JSON.stringify(lost2)}`)
  assert.ok(of('rerr', 2).length >= 1)
  assert.ok(of('route-lost', 1).some((e) => e.dst === 5 && e.reason === 'rerr' && (e.t as number) < 10_500), '1 learns it by RERR')
  const again = found.at(-1)!
  const rings = of('rreq', 1).filter((e) => (e.t as number) > 10_000).map((e) => [e.t, e.ttl])
  assert.is(rings.length, 3, `rings ${JSON.stringify(rings)}`)
  const t0 = rings[0][0] as number
  assert.equal(rings.map(([t, ttl]) => [round((t as number) - t0), ttl]), [[0, 6], [640, 35], [640 + 2800, 35]])
  assert.ok((again.t as number) > t0 + 3440 && (again.t as number) < t0 + 3600, `rediscovered by the retry: ${JSON.stringify(again)}`)
  assert.is(again.hops, 4)
  assert.is(run.nodes[1].route(5)!.nextHop, 6, 'the new path goes through 6')
  assert.equal(of('unreachable'), [])
  const late = run.delivered.filter((k) => k >= 40) // sent from 11 s on: buffered, then delivered
  assert.is(late.length, 112 - 40)
  assert.ok(run.delivered.length >= 110, `delivered ${run.delivered.length} of 112`)

  // Byte-for-byte against the golden trace.
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN, lines.join('\n') + '\n')
    return
  }
  const golden = readFileSync(GOLDEN, 'utf8').trimEnd().split('\n')
  for (let i = 0; i < Math.max(golden.length, lines.length); i++) {
    if (golden[i] !== lines[i]) {
      assert.unreachable(`trace differs from golden/chain.jsonl at line ${i + 1}:\n  golden: ${golden[i]}\n  now:    ${lines[i]}\n(UPDATE_GOLDEN=1 rewrites it after an intended change)`)
    }
  }
})

test('the chain run is deterministic', () => {
  assert.equal(runChain().lines, runChain().lines)
})

test.run()
