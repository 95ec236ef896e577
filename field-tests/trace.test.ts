import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseScenario } from './scenario.ts'
import { buildSimulation, runSimulation } from './runner.ts'
import { attachTrace } from './trace.ts'

test('the trace has one line per frame on air, per packet sent and per delivery, in time order', () => {
  const sim = buildSimulation(parseScenario(`
duration: 6
nodes: { count: 4, placement: explicit, positions: [[0, 0], [100, 0], [200, 0], [300, 0]] }
field: { width: 300, height: 10 }
radio: { range: 150 }
traffic: [{ pattern: unicast, from: 1, to: 4, start: 1, stop: 5, rate: 2, size: 40 }]
`))
  const events: Array<Record<string, unknown>> = []
  attachTrace(sim, (e) => events.push(e))
  const r = runSimulation(sim)
  const count = (ev: string) => events.filter((e) => e.ev === ev).length
  assert.is(count('app-send'), r.traffic.packetsSent)
  assert.is(count('app-deliver'), r.delivery.delivered + r.delivery.duplicates + r.delivery.stray)
  assert.is(count('tx'), r.counters.medium.txFrames)
  assert.is(count('rx'), r.counters.medium.rxFrames)
  const deliver = events.find((e) => e.ev === 'app-deliver')!
  assert.is(deliver.node, 4)
  assert.is(deliver.hops, 3)
  assert.type(deliver.latencyMs, 'number')
  const tx = events.find((e) => e.ev === 'tx' && e.kind === 'data')!
  assert.ok(['src', 'dst', 'proto', 'seq', 'len'].every((k) => k in tx), JSON.stringify(tx))
  for (const e of events) assert.ok(JSON.stringify(e).length < 400, 'payload bytes are not dumped')
  for (let i = 1; i < events.length; i++) assert.ok((events[i].t as number) >= (events[i - 1].t as number), `event ${i} goes back in time`)
})

test.run()
