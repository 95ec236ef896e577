import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { classifyLosses, HolderLog, type ComponentSamples, type LossFlow, type LossReasons } from './loss-reasons.ts'

/** Samples every second from 0 to endMs; `comp(t, node)` gives the component (0 unless told). */
function samples(endMs: number, comp: (t: number, node: number) => number = () => 0): ComponentSamples {
  const times: number[] = []
  for (let t = 0; t <= endMs; t += 1000) times.push(t)
  return {
    count: times.length,
    timeAt: (k) => times[k],
    firstAtOrAfter: (t) => {
      const k = times.findIndex((x) => x >= t)
      return k < 0 ? times.length : k
    },
    componentOf: (k, node) => comp(times[k], node),
  }
}

/** Flow 0 from node 1 to receivers 2, 3, 4; `delivered` maps receiver → [seq, at] first deliveries. */
function setup(sentAt: number[], delivered: Record<number, Array<[number, number]>>) {
  const holders = new HolderLog()
  holders.track(0)
  const seqs = new Map<number, Set<number>>()
  for (const r of [2, 3, 4]) seqs.set(r, new Set())
  for (const [r, list] of Object.entries(delivered)) {
    for (const [seq, at] of list) {
      seqs.get(Number(r))!.add(seq)
      holders.held(Number(r), 0, seq, at)
    }
  }
  const flow: LossFlow = { id: 0, receivers: [2, 3, 4], sentAt, delivered: (r) => seqs.get(r)! }
  return { holders, flow }
}

const none = (): LossReasons => ({ total: 0, neverReachedTree: 0, partitioned: 0, agedOut: 0, unrecovered: 0 })

test('nothing lost: all zeros', () => {
  const { holders, flow } = setup([0], { 2: [[0, 10]], 3: [[0, 10]], 4: [[0, 10]] })
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: samples(5000), endMs: 5000 }), none())
})

test('neverReachedTree: no receiver delivered it, even if the sender held it and receivers were cut off', () => {
  const { holders, flow } = setup([500], {})
  holders.held(1, 0, 0, 500) // the origin's own history
  const conn = samples(5000, (_t, n) => n) // everyone alone
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: conn, endMs: 5000 }), { ...none(), total: 3, neverReachedTree: 3 })
})

test('partitioned: cut off from every holder at every sample where someone held it (MAODV: holders hold for ever)', () => {
  // seq 0 sent at 500, delivered at 2 at 700; 3 is always alone; 4 shares 2's component from 3 s.
  const { holders, flow } = setup([500], { 2: [[0, 700]] })
  const conn = samples(10_000, (t, n) => (n === 3 ? 3 : n === 4 && t < 3000 ? 4 : 0))
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: conn, endMs: 10_000 }), { ...none(), total: 2, partitioned: 1, unrecovered: 1 })
})

test('partitioned takes precedence over agedOut; the window ends with the last eviction', () => {
  // seq 0 sent at 1000, held by 2 from 1200 to 4000. Sample 1000: nobody holds it (not counted).
  // 3 is cut off at 2 s and 3 s and joins 2 only at 5 s, after the eviction: partitioned.
  // 4 shares 2's component at 3 s: not partitioned, and every holder evicted: agedOut.
  const { holders, flow } = setup([1000], { 2: [[0, 1200]] })
  holders.evicted(2, 0, 0, 4000)
  const conn = samples(10_000, (t, n) => (n === 3 && t < 5000 ? 3 : n === 4 && t < 3000 ? 4 : 0))
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: conn, endMs: 10_000 }), { ...none(), total: 2, partitioned: 1, agedOut: 1 })
})

test('agedOut: every holder (receivers and a history-add at the origin) evicted it before the end', () => {
  const { holders, flow } = setup([500], { 2: [[0, 600]] })
  holders.held(1, 0, 0, 500)
  holders.evicted(2, 0, 0, 3000)
  holders.evicted(1, 0, 0, 4000)
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: samples(10_000), endMs: 10_000 }), { ...none(), total: 2, agedOut: 2 })
})

test('unrecovered: some holder still held it at the end', () => {
  const { holders, flow } = setup([500], { 2: [[0, 600]] })
  holders.held(1, 0, 0, 500)
  holders.evicted(2, 0, 0, 3000)
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: samples(10_000), endMs: 10_000 }), { ...none(), total: 2, unrecovered: 2 })
})

test('no sample at which someone held it: not partitioned', () => {
  // Held only within (9500, 9700): no sample falls there, so nothing says the receivers were cut off.
  const { holders, flow } = setup([9500], { 2: [[0, 9600]] })
  holders.evicted(2, 0, 0, 9700)
  const conn = samples(10_000, (_t, n) => n)
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: conn, endMs: 10_000 }), { ...none(), total: 2, agedOut: 2 })
})

test('without connectivity samples nothing is partitioned', () => {
  const { holders, flow } = setup([500], { 2: [[0, 700]] })
  assert.equal(classifyLosses({ flows: [flow], holders, endMs: 10_000 }), { ...none(), total: 2, unrecovered: 2 })
})

test('a mix over several packets adds up, one reason per pair', () => {
  const { holders, flow } = setup([0, 1000, 2000, 3000], { 2: [[1, 1100], [2, 2100], [3, 3100]], 3: [[3, 3200]] })
  holders.evicted(2, 0, 2, 5000)
  // seq 0: nobody → 3 neverReachedTree. seq 1: 3 and 4 lost, 2 holds for ever → 3 partitioned (always
  // alone), 4 unrecovered. seq 2: 2 evicted → 3 partitioned, 4 agedOut. seq 3: only 4 lost, it shares
  // a component with holder 2 → unrecovered.
  const conn = samples(10_000, (_t, n) => (n === 3 ? 3 : 0))
  assert.equal(classifyLosses({ flows: [flow], holders, connectivity: conn, endMs: 10_000 }), {
    total: 3 + 2 + 2 + 1,
    neverReachedTree: 3,
    partitioned: 2,
    agedOut: 1,
    unrecovered: 2,
  })
})

test('HolderLog: re-holding is a no-op, eviction closes, a history-add after eviction reopens, other flows are ignored', () => {
  const h = new HolderLog()
  h.track(0)
  h.held(2, 0, 5, 100)
  h.held(2, 0, 5, 200)
  assert.equal(h.intervals(0, 5), [2, 100, Infinity])
  h.evicted(3, 0, 5, 250) // never held there
  h.evicted(2, 0, 5, 300)
  h.evicted(2, 0, 5, 350)
  assert.equal(h.intervals(0, 5), [2, 100, 300])
  h.held(2, 0, 5, 400)
  assert.equal(h.intervals(0, 5), [2, 100, 300, 2, 400, Infinity])
  h.held(2, 1, 5, 100)
  assert.ok(!h.tracks(1))
  assert.equal(h.intervals(1, 5), [])
  assert.equal(h.intervals(0, 6), [])
})

test.run()
