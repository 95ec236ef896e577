import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { StaticMobility } from '../hardware/mobility.ts'
import { SimMedium } from '../hardware/sim-medium.ts'
import { CONNECTIVITY_SAMPLE_MS, ConnectivitySampler, decodeCutoffM, type RadioGraph } from './connectivity.ts'

/** Five static nodes on a line, 100 m apart, range 150 m: 1-2-3-4-5 is one chain. */
function line(xs = [0, 100, 200, 300, 400]) {
  const scheduler = new SimScheduler()
  const medium = new SimMedium({ scheduler, rng: new SeededRng(1), radio: { range: 150 } })
  xs.forEach((x, i) => medium.addNode(i + 1, new StaticMobility({ x, y: 0 })))
  return { scheduler, medium }
}

function comps(c: ConnectivitySampler, k: number, nodes: number[]) {
  return nodes.map((n) => c.componentOf(k, n))
}

test('a connected chain is one component; a gap splits it, numbered by first node', () => {
  const { medium } = line([0, 100, 200, 500, 600])
  const c = new ConnectivitySampler(medium, { cutoffM: decodeCutoffM(medium) })
  c.sample(0)
  assert.equal(comps(c, 0, [1, 2, 3, 4, 5]), [0, 0, 0, 1, 1])
  const whole = line()
  const d = new ConnectivitySampler(whole.medium)
  d.sample(0)
  assert.equal(comps(d, 0, [1, 2, 3, 4, 5]), [0, 0, 0, 0, 0])
})

test('scheduled sampling follows virtual time and sees scripted link-downs', () => {
  const { scheduler, medium } = line()
  medium.setLinkDown(2, 3, 1500, 3500)
  const c = new ConnectivitySampler(medium, { cutoffM: decodeCutoffM(medium) })
  c.schedule(scheduler, 5000, 1000)
  scheduler.run({ until: 5000 })
  assert.is(c.count, 6)
  assert.equal([0, 1, 2, 3, 4, 5].map((k) => c.timeAt(k)), [0, 1000, 2000, 3000, 4000, 5000])
  assert.equal(comps(c, 1, [1, 2, 3, 4, 5]), [0, 0, 0, 0, 0])
  assert.equal(comps(c, 2, [1, 2, 3, 4, 5]), [0, 0, 1, 1, 1])
  assert.equal(comps(c, 3, [1, 2, 3, 4, 5]), [0, 0, 1, 1, 1])
  assert.equal(comps(c, 4, [1, 2, 3, 4, 5]), [0, 0, 0, 0, 0])
  assert.is(c.firstAtOrAfter(1500), 2)
  assert.is(c.firstAtOrAfter(2000), 2)
  assert.is(c.firstAtOrAfter(9000), 6)
  assert.throws(() => c.componentOf(0, 9), /no node 9/)
})

test('the x-sweep with a cutoff finds the same components as asking every pair', () => {
  const point = fc.record({ x: fc.integer({ min: 0, max: 1000 }), y: fc.integer({ min: 0, max: 300 }) })
  fc.assert(
    fc.property(fc.array(point, { minLength: 1, maxLength: 40 }), (ps) => {
      const pos = new Map(ps.map((p, i) => [i + 1, p]))
      const graph: RadioGraph = {
        nodeIds: () => [...pos.keys()],
        position: (id) => pos.get(id)!,
        inRange: (a, b) => Math.hypot(pos.get(a)!.x - pos.get(b)!.x, pos.get(a)!.y - pos.get(b)!.y) <= 150,
      }
      const swept = new ConnectivitySampler(graph, { cutoffM: 150 })
      const all = new ConnectivitySampler(graph)
      swept.sample(0)
      all.sample(0)
      const ids = [...pos.keys()]
      assert.equal(comps(swept, 0, ids), comps(all, 0, ids))
    }),
    { seed: 42, numRuns: 200 },
  )
})

test('the default interval is CONNECTIVITY_SAMPLE_MS', () => {
  const { scheduler, medium } = line()
  const c = new ConnectivitySampler(medium)
  c.schedule(scheduler, 3 * CONNECTIVITY_SAMPLE_MS)
  scheduler.run({ until: 10 * CONNECTIVITY_SAMPLE_MS })
  assert.equal([0, 1, 2, 3].map((k) => c.timeAt(k)), [0, 1, 2, 3].map((k) => k * CONNECTIVITY_SAMPLE_MS))
  assert.is(c.count, 4)
})

test('the cutoff of a unit-disk medium is its range', () => {
  const { medium } = line()
  const c = decodeCutoffM(medium)
  assert.ok(c >= 150 && c < 150.001, String(c))
})

test.run()
