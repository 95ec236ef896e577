import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { SeededRng } from '../core/rng.ts'
import { ClockSync, type SyncKind } from './clock-sync.ts'

const BASE = Date.UTC(2025, 5, 1, 12)

interface Net {
  /** Node → its wall clock minus true time, ms. */
  offsets: Map<number, number>
  /** Directed hearing: [sender, receiver]. */
  hears: Array<[number, number]>
}

/**
 * Every node sends a frame of `kind` every `periodMs` for `durationMs` (u16 seq from `seq0`,
 * wrapping), heard by its listeners after a random 5–50 ms; walls are true time plus the node's offset.
 */
function simulate(sync: ClockSync, net: Net, o: { kind?: SyncKind; periodMs?: number; durationMs?: number; seed?: number; seq0?: number; jitterStart?: boolean } = {}): void {
  const rng = new SeededRng(o.seed ?? 1)
  const kind = o.kind ?? 'beacon'
  const period = o.periodMs ?? 1000
  const duration = o.durationMs ?? 300_000
  for (const [node, off] of net.offsets) {
    const listeners = net.hears.filter(([a]) => a === node).map(([, b]) => b)
    let seq = (o.seq0 ?? 65_500) & 0xffff
    for (let t = rng.range(0, period); t < duration; t += period * (o.jitterStart ? rng.range(0.9, 1.1) : 1)) {
      sync.tx(node, kind, seq, BASE + t + off)
      for (const b of listeners) if (rng.float() > 0.1) sync.rx(b, kind, node, seq, BASE + t + rng.range(5, 50) + net.offsets.get(b)!)
      seq = (seq + 1) & 0xffff
    }
  }
}

const both = (pairs: Array<[number, number]>): Array<[number, number]> => pairs.flatMap(([a, b]) => [[a, b], [b, a]] as Array<[number, number]>)

test('a chain with known offsets (±2 s, ±300 ms), symmetric random delays and seq wrap: within a few ms; the isolated node is listed', () => {
  const offsets = new Map([[10, 0], [11, 2000], [12, -2000], [13, 300], [14, -300], [15, 777]])
  const sync = new ClockSync()
  simulate(sync, { offsets, hears: both([[10, 11], [11, 12], [12, 13], [13, 14]]) })
  const est = sync.estimate(10, offsets.keys())
  for (const n of [10, 11, 12, 13, 14]) {
    const got = est.offsetsMs.get(n)!
    assert.ok(Math.abs(got - offsets.get(n)!) < 5, `node ${n}: ${got} vs ${offsets.get(n)}`)
  }
  assert.equal(est.unsynchronised, [15])
  assert.is(est.offsetsMs.get(15), 0)
  assert.is(est.tree.length, 4)
})

test('offsets relative to another reference node; a one-way link gives no pair', () => {
  const offsets = new Map([[1, 500], [2, -1500], [3, 40]])
  const sync = new ClockSync()
  simulate(sync, { offsets, hears: [...both([[1, 2]]), [3, 1]] })
  const est = sync.estimate(2, [1, 2, 3])
  assert.ok(Math.abs(est.offsetsMs.get(1)! - 2000) < 5, String(est.offsetsMs.get(1)))
  assert.is(est.offsetsMs.get(2), 0)
  assert.equal(est.unsynchronised, [3])
  assert.equal(est.pairs.map((p) => [p.a, p.b]), [[1, 2]])
})

test('data frames stand in for beacons, across several seq wraps and clocks hours apart', () => {
  const offsets = new Map([[1, 0], [2, 3 * 3600_000 + 12.5], [3, -45_000]])
  const sync = new ClockSync()
  // 20 frames/s for 2 h: the u16 seq wraps twice, and every seq names two or three frames.
  simulate(sync, { offsets, hears: both([[1, 2], [2, 3]]) }, { kind: 'data', periodMs: 50, durationMs: 2 * 3600_000, seq0: 0, jitterStart: true })
  const est = sync.estimate(1, [1, 2, 3])
  for (const [n, off] of offsets) assert.ok(Math.abs(est.offsetsMs.get(n)! - off) < 5, `node ${n}: ${est.offsetsMs.get(n)} vs ${off}`)
  assert.ok(est.pairs.every((p) => p.kind === "data"), JSON.stringify(est.pairs))
})

test('beacons are preferred over data frames for a pair that has both', () => {
  const offsets = new Map([[1, 0], [2, 250]])
  const sync = new ClockSync()
  simulate(sync, { offsets, hears: both([[1, 2]]) })
  // Data frames with a skewed delay one way would pull the estimate off by 100 ms.
  for (let i = 0; i < 50; i++) {
    sync.tx(1, 'data', i, BASE + i * 100)
    sync.rx(2, 'data', 1, i, BASE + i * 100 + 250 + 200)
    sync.tx(2, 'data', i, BASE + i * 100 + 250)
    sync.rx(1, 'data', 2, i, BASE + i * 100 + 5)
  }
  const est = sync.estimate(1, [1, 2])
  assert.is(est.pairs[0].kind, 'beacon')
  assert.ok(Math.abs(est.offsetsMs.get(2)! - 250) < 5)
})

test('the spanning tree chains offsets over the pairs with more matched frames', () => {
  const offsets = new Map([[1, 0], [2, 1000], [3, -700]])
  const sync = new ClockSync()
  simulate(sync, { offsets, hears: both([[1, 2], [2, 3]]) })
  // 1–3 measured by only three beacons each way, with a 60 ms asymmetry: the tree goes around it.
  for (let i = 0; i < 3; i++) {
    sync.tx(1, 'beacon', 40_000 + i, BASE + 400_000 + i * 1000)
    sync.rx(3, 'beacon', 1, 40_000 + i, BASE + 400_000 + i * 1000 - 700 + 130)
    sync.tx(3, 'beacon', 40_000 + i, BASE + 400_000 + i * 1000 - 700)
    sync.rx(1, 'beacon', 3, 40_000 + i, BASE + 400_000 + i * 1000 + 10)
  }
  const est = sync.estimate(1, [1, 2, 3])
  assert.equal(est.tree.map((p) => [p.a, p.b]), [[1, 2], [2, 3]])
  assert.ok(Math.abs(est.offsetsMs.get(3)! + 700) < 5, String(est.offsetsMs.get(3)))
  assert.ok(est.pairs.some((p) => p.a === 1 && p.b === 3 && Math.abs(p.offsetMs + 640) < 1))
})

// Per pair the error is half the difference of two medians of ~540 delays uniform in 5–50 ms (sd
// about 0.7 ms); chained over up to 6 hops, 8 ms is beyond 4 sd.
test('property: random offsets and topologies of connected nodes are recovered within a few ms', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 2, maxLength: 7 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 1, max: 1e6 }),
      (offs, seq0, seed) => {
        const offsets = new Map(offs.map((o, i) => [100 + i, o]))
        const rng = new SeededRng(seed)
        // A random tree (each node hears one earlier node both ways) plus a few random extra links.
        const links: Array<[number, number]> = []
        for (let i = 1; i < offs.length; i++) links.push([100 + rng.int(i), 100 + i])
        for (let k = 0; k < 2; k++) {
          const a = rng.int(offs.length), b = rng.int(offs.length)
          if (a !== b) links.push([100 + a, 100 + b])
        }
        const isolated = 100 + offs.length
        offsets.set(isolated, 1234)
        const sync = new ClockSync()
        simulate(sync, { offsets, hears: both(links) }, { seed, seq0, durationMs: 600_000 })
        const est = sync.estimate(100, offsets.keys())
        for (let i = 0; i < offs.length; i++) {
          const err = Math.abs(est.offsetsMs.get(100 + i)! - (offs[i] - offs[0]))
          if (err > 8) return false
        }
        return est.unsynchronised.length === 1 && est.unsynchronised[0] === isolated
      },
    ),
    { numRuns: 40, seed: 10 },
  )
})

test('no frames: every other node is unsynchronised, the reference is 0', () => {
  const est = new ClockSync().estimate(5, [3, 5, 7])
  assert.equal(est.unsynchronised, [3, 7])
  assert.equal([...est.offsetsMs], [[5, 0], [3, 0], [7, 0]])
})

test('a list of candidates: the reference is the first one in the largest connected component (an isolated first node is passed over)', () => {
  const sync = new ClockSync()
  // 1 heard nobody; 2-3 and 4-5-6 are two islands.
  simulate(sync, { offsets: new Map([[1, 0], [2, 0], [3, 700], [4, -50], [5, 400], [6, 1200]]), hears: both([[2, 3], [4, 5], [5, 6]]) })
  const est = sync.estimate([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6])
  assert.is(est.reference, 4)
  assert.equal(est.unsynchronised, [1, 2, 3])
  assert.ok(Math.abs(est.offsetsMs.get(5)! - 450) < 5 && Math.abs(est.offsetsMs.get(6)! - 1250) < 5, String([...est.offsetsMs]))
  // Ties go to the earliest candidate; without any pairs, that is the first.
  const two = new ClockSync()
  simulate(two, { offsets: new Map([[1, 0], [2, 0], [3, 700], [4, -50], [5, 400]]), hears: both([[2, 3], [4, 5]]) })
  assert.is(two.estimate([1, 5, 4, 2, 3], [1, 2, 3, 4, 5]).reference, 5)
  assert.ok(Math.abs(two.estimate([1, 5, 4, 2, 3], [1, 2, 3, 4, 5]).offsetsMs.get(4)! + 450) < 5)
  assert.is(new ClockSync().estimate([7, 3], [3, 7]).reference, 7)
  assert.throws(() => new ClockSync().estimate([], []), /no candidate reference/)
})

test.run()
