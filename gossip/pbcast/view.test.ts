import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../../core/rng.ts'
import { configError } from '../../core/testing.ts'
import { PlainAudience } from './view.ts'

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => from + i)
const META = { origin: 1, stream: 0, seq: 0, ts: 0, key: 1 }

test('plain audience: key 1, everyone wants everything', () => {
  const a = new PlainAudience({ self: 1, members: range(5), firstFanout: 2 })
  assert.is(a.keyOf(), 1)
  assert.ok(a.selfWants())
  assert.ok(a.peerWants())
  assert.equal(a.members, [2, 3, 4, 5], 'self is not a member to gossip with')
})

test('roundTargets: fanout distinct peers, never self, from the view', () => {
  const rng = new SeededRng('rt')
  const a = new PlainAudience({ self: 7, members: range(100), fanout: 4, viewSize: 10, firstFanout: 1 })
  for (let i = 0; i < 200; i++) {
    const t = a.roundTargets(rng).map((x) => x.peer)
    assert.is(t.length, 4)
    assert.is(new Set(t).size, 4)
    assert.not.ok(t.includes(7))
    for (const p of t) assert.ok(a.currentView.includes(p))
    assert.ok(a.roundTargets(rng).every((x) => x.wants(META)))
  }
  const small = new PlainAudience({ self: 1, members: [1, 2], fanout: 3, firstFanout: 'all' })
  assert.equal(small.roundTargets(rng).map((x) => x.peer), [2], 'fewer members than fanout: all of them')
  assert.equal(new PlainAudience({ self: 1, members: [1], firstFanout: 'all' }).roundTargets(rng), [])
})

test('the view is resampled every viewRefreshRounds calls, and after setMembers', () => {
  const rng = new SeededRng('refresh')
  const a = new PlainAudience({ self: 1, members: range(200), viewSize: 20, viewRefreshRounds: 5, firstFanout: 1 })
  a.roundTargets(rng)
  const v1 = [...a.currentView]
  assert.is(v1.length, 20)
  for (let i = 0; i < 4; i++) a.roundTargets(rng)
  assert.equal(a.currentView, v1, 'unchanged for 5 calls')
  a.roundTargets(rng)
  assert.not.equal(a.currentView, v1, 'resampled on the 6th')
  a.setMembers(range(30, 1000))
  a.roundTargets(rng)
  assert.ok(a.currentView.every((p) => p >= 1000), 'new membership in the next view')
})

test('uniform without locality bias: every member about equally often a partner', () => {
  const rng = new SeededRng('uniform')
  const a = new PlainAudience({ self: 1, members: range(41), fanout: 3, viewSize: 10, viewRefreshRounds: 1, firstFanout: 1 })
  const hits = new Map<number, number>()
  const rounds = 4000
  for (let i = 0; i < rounds; i++) for (const t of a.roundTargets(rng)) hits.set(t.peer, (hits.get(t.peer) ?? 0) + 1)
  const expected = (rounds * 3) / 40
  assert.is(hits.size, 40)
  for (const [, h] of hits) assert.ok(Math.abs(h - expected) < 0.2 * expected, `${h} vs ${expected}`)
})

test('locality bias: near members are in the view far more often', () => {
  const rng = new SeededRng('near')
  // Members 2..11 at distance 1, 12..101 at distance 20.
  const distance = (p: number): number => (p <= 11 ? 1 : 20)
  const count = (bias: number): number => {
    const a = new PlainAudience({ self: 1, members: range(101), viewSize: 10, viewRefreshRounds: 1, localityBias: bias, distance, firstFanout: 1 })
    let near = 0
    for (let i = 0; i < 300; i++) {
      a.roundTargets(rng)
      near += a.currentView.filter((p) => p <= 11).length
    }
    return near / 300
  }
  const uniform = count(0), biased = count(2)
  assert.ok(uniform > 0.5 && uniform < 1.5, `uniform: ${uniform} near members of 10 (expected 1)`)
  assert.ok(biased > 8, `bias 2: ${biased} near members of 10`)
})

test('firstTargets: firstFanout random distinct members, or all', () => {
  const rng = new SeededRng('first')
  const two = new PlainAudience({ self: 3, members: range(50), firstFanout: 2 })
  const seen = new Set<number>()
  for (let i = 0; i < 100; i++) {
    const t = two.firstTargets(META, rng)
    assert.is(t.length, 2)
    assert.is(new Set(t).size, 2)
    assert.not.ok(t.includes(3))
    t.forEach((p) => seen.add(p))
  }
  assert.ok(seen.size > 40, 'drawn from the whole group, not the view')
  assert.equal(new PlainAudience({ self: 3, members: range(5), firstFanout: 'all' }).firstTargets(META, rng), [1, 2, 4, 5])
  assert.equal(new PlainAudience({ self: 3, members: range(5), firstFanout: 0 }).firstTargets(META, rng), [])
})

test('bad options: ConfigError naming the field', () => {
  const cases: Array<[object, string]> = [
    [{ fanout: 0 }, 'audience.fanout'],
    [{ viewSize: 1.5 }, 'audience.viewSize'],
    [{ localityBias: -1 }, 'audience.localityBias'],
    [{ viewRefreshRounds: 0 }, 'audience.viewRefreshRounds'],
    [{ firstFanout: -2 }, 'audience.firstFanout'],
    [{ members: [0] }, 'audience.members'],
    [{ self: 0x80000000 }, 'audience.self'],
  ]
  for (const [bad, path] of cases) {
    const e = configError(() => new PlainAudience({ self: 1, members: [1, 2], firstFanout: 1, ...bad }))
    assert.is(e.path, path)
  }
  assert.is(configError(() => new PlainAudience({ self: 1, members: [], firstFanout: 1, fanout: 0, path: 'group.view' })).path, 'group.view.fanout')
})

test.run()
