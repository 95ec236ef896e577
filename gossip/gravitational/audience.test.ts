import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Addr } from '../../core/addr.ts'
import { SeededRng } from '../../core/rng.ts'
import { configError } from '../../core/testing.ts'
import type { MessageMeta } from '../pbcast/pbcast-types.ts'
import {
  DEFAULT_AUDIENCE_CONFIG, GravitationalAudience, PHI32, hashKey, validateAudienceConfig, weylKey,
  type AudienceConfig, type Subscription,
} from './audience.ts'

const meta = (origin: Addr, stream: number, seq: number, key: number): MessageMeta => ({ origin, stream, seq, ts: 0, key })

/** Share of seqs start..start+n−1 with key ≤ r. */
function share(key: (o: Addr, s: number, q: number) => number, origin: Addr, stream: number, start: number, n: number, r: number): number {
  let c = 0
  for (let q = start; q < start + n; q++) if (key(origin, stream, q) <= r) c++
  return c / n
}

/** 100 members of stream 1: node i has rating i/100 (node 100: 1). */
const ladder = (stream = 1): Subscription[] => Array.from({ length: 100 }, (_, i) => ({ node: i + 1, stream, rating: (i + 1) / 100 }))

test('keys: in (0, 1], pure, the Weyl rule is 1 − frac(h/2^32 + seq·φ) in 32-bit fixed point', () => {
  assert.is(PHI32, Math.round(((Math.sqrt(5) - 1) / 2) * 2 ** 32))
  for (const key of [weylKey, hashKey]) {
    for (let q = 0; q < 5000; q++) {
      const u = key(17, 3, q * 7919)
      assert.ok(u > 0 && u <= 1, `key ${u}`)
      assert.is(key(17, 3, q * 7919), u)
    }
  }
  const h = 1 - weylKey(5, 2, 0)
  const phi = (Math.sqrt(5) - 1) / 2
  for (const q of [1, 2, 100, 65_535]) {
    const frac = (h + q * phi) % 1
    assert.ok(Math.abs(1 - weylKey(5, 2, q) - frac) < 1e-5 * Math.max(1, q / 1000), `seq ${q}`)
  }
  assert.is.not(weylKey(5, 2, 0), weylKey(6, 2, 0), 'origins get different offsets')
  assert.is.not(weylKey(5, 2, 0), weylKey(5, 3, 0), 'streams get different offsets')
  const a = new GravitationalAudience({ self: 1, subscriptions: [], keyRule: 'hash' })
  assert.is(a.keyOf(9, 1, 4), hashKey(9, 1, 4))
  assert.is(new GravitationalAudience({ self: 1, subscriptions: [] }).keyOf(9, 1, 4), weylKey(9, 1, 4))
})

test("'weyl': over 10,000 seqs every rating's share is within ±0.01 of it (measured ≤ 0.0005)", () => {
  let worst = 0
  for (const origin of [1, 42, 0x7fffffff]) {
    for (const start of [0, 1_000_003, 4_294_000_000]) {
      for (let i = 1; i <= 100; i++) {
        const r = i / 100
        worst = Math.max(worst, Math.abs(share(weylKey, origin, 7, start, 10_000, r) - r))
      }
      for (const r of [0.001, 0.0123, 0.333, 0.987]) worst = Math.max(worst, Math.abs(share(weylKey, origin, 7, start, 10_000, r) - r))
    }
  }
  assert.ok(worst <= 0.01, `worst ${worst}`)
  assert.ok(worst <= 0.0005, `worst ${worst}`)
})

test("'weyl' is low-discrepancy: over any N consecutive seqs |share − r| ≤ (1 + ln N)/N; 'hash' is binomial", () => {
  const ratings = Array.from({ length: 199 }, (_, i) => (i + 1) / 200)
  for (const n of [10, 20, 50, 100, 300, 1000, 3000, 10_000, 100_000]) {
    const bound = (1 + Math.log(n)) / n
    let worst = 0, worstHash = 0
    for (const start of [0, 13, 5_000, 123_456_789]) {
      for (const r of ratings) {
        worst = Math.max(worst, Math.abs(share(weylKey, 3, 1, start, n, r) - r))
        if (n <= 10_000) worstHash = Math.max(worstHash, Math.abs(share(hashKey, 3, 1, start, n, r) - r))
      }
    }
    assert.ok(worst <= bound, `N ${n}: weyl worst ${worst} > ${bound}`)
    // Independent keys drift like √(r(1−r)/N): far above the Weyl bound once N ≥ 100.
    if (n >= 100 && n <= 10_000) assert.ok(worstHash > 2 * worst, `N ${n}: hash ${worstHash} vs weyl ${worst}`)
    if (n === 10_000) assert.ok(worstHash <= 0.02, `hash worst at 10,000: ${worstHash}`)
  }
})

test('a member with rating 0.2 gets every 5th sample, give or take one (three-gap theorem)', () => {
  let last = -1
  const gaps = new Set<number>()
  for (let q = 0; q < 10_000; q++) {
    if (weylKey(8, 1, q) <= 0.2) {
      if (last >= 0) gaps.add(q - last)
      last = q
    }
  }
  assert.ok(gaps.size <= 3 && Math.min(...gaps) >= 3 && Math.max(...gaps) <= 8, `gaps ${[...gaps]}`)
})

test('selfWants / peerWants: key ≤ rating; not subscribed: false; a publisher wants its own messages', () => {
  const a = new GravitationalAudience({
    self: 5,
    subscriptions: [{ node: 5, stream: 1, rating: 0.4 }, { node: 6, stream: 1, rating: 0.9 }, { node: 6, stream: 2, rating: 1 }],
    publishers: [{ node: 5, stream: 2 }],
  })
  assert.ok(a.selfWants(meta(9, 1, 0, 0.4)))
  assert.not.ok(a.selfWants(meta(9, 1, 0, 0.41)))
  assert.not.ok(a.selfWants(meta(9, 3, 0, 0.01)), 'not subscribed')
  assert.ok(a.selfWants(meta(5, 2, 0, 0.99)), 'own message of a stream it publishes')
  assert.not.ok(a.selfWants(meta(9, 2, 0, 0.5)), "others' messages of that stream")
  assert.ok(a.peerWants(6, meta(9, 1, 0, 0.9)))
  assert.not.ok(a.peerWants(6, meta(9, 1, 0, 0.91)))
  assert.not.ok(a.peerWants(7, meta(9, 1, 0, 0.01)))
  assert.is(a.ratingOf(6, 2), 1)
  assert.is(a.ratingOf(7, 2), 0)
  assert.equal(a.streams(), [1, 2])
})

test('firstTargets: only audience members, never self, firstFanout of them or all', () => {
  const rng = new SeededRng('first')
  const subs = ladder()
  const a = new GravitationalAudience({ self: 100, subscriptions: subs })
  for (let q = 0; q < 2000; q++) {
    const key = a.keyOf(100, 1, q)
    const t = a.firstTargets(meta(100, 1, q, key), rng)
    const audience = a.audience(1, key).filter((x) => x !== 100)
    assert.is(t.length, Math.min(3, audience.length))
    assert.is(new Set(t).size, t.length)
    for (const x of t) assert.ok(x !== 100 && a.ratingOf(x, 1) >= key, `seq ${q}: ${x} (rating ${a.ratingOf(x, 1)}) for key ${key}`)
  }
  const all = new GravitationalAudience({ self: 100, subscriptions: subs, firstFanout: 'audience' })
  const m = meta(100, 1, 0, 0.755)
  assert.equal(all.firstTargets(m, rng).sort((x, y) => x - y), Array.from({ length: 24 }, (_, i) => 76 + i))
  assert.equal(all.audience(1, 0.755).length, 25)
  assert.equal(all.firstTargets(meta(100, 9, 0, 0.1), rng), [], 'unknown stream')
  const one = new GravitationalAudience({ self: 1, subscriptions: [{ node: 1, stream: 1, rating: 1 }] })
  assert.equal(one.firstTargets(meta(1, 1, 0, 0.5), rng), [], 'alone')
})

test('roundTargets: never self; per band `fanout` distinct peers rated above its floor; wants = stream, band and peer rating', () => {
  const rng = new SeededRng('round')
  for (const self of [1, 15, 50, 73, 100]) {
    const a = new GravitationalAudience({ self, subscriptions: ladder() })
    const r = self / 100
    for (let round = 0; round < 200; round++) {
      const plan = a.roundPlan(rng)
      const perBand = new Map<number, Addr[]>()
      for (const p of plan) {
        assert.is.not(p.peer, self)
        assert.ok(p.rating > (p.band - 1) / 10, `band ${p.band} peer rating ${p.rating}`)
        assert.is(p.rating, a.ratingOf(p.peer, 1))
        assert.ok(p.band <= Math.ceil(r * 10 - 1e-9))
        perBand.set(p.band, [...(perBand.get(p.band) ?? []), p.peer])
      }
      assert.is(perBand.size, Math.max(1, Math.ceil(r * 10 - 1e-9)))
      for (const peers of perBand.values()) {
        assert.is(peers.length, 3)
        assert.is(new Set(peers).size, 3)
      }
      const targets = a.roundTargets(rng)
      assert.is(new Set(targets.map((t) => t.peer)).size, targets.length, 'one target per peer')
      for (const t of targets) {
        assert.is.not(t.peer, self)
        const pr = a.ratingOf(t.peer, 1)
        for (const u of [0.01, 0.1, 0.15, 0.5, 0.55, 0.95, 1]) {
          if (t.wants(meta(9, 1, 0, u))) assert.ok(u <= pr && u <= Math.max(0.1, Math.ceil(r * 10 - 1e-9) / 10), `key ${u} to peer rated ${pr}`)
        }
        assert.not.ok(t.wants(meta(9, 2, 0, 0.01)), 'other stream')
      }
    }
  }
})

test('digests per round grow with own rating: fanout·ceil(r·bands)', () => {
  const counts: number[] = []
  for (let self = 1; self <= 100; self++) {
    const a = new GravitationalAudience({ self, subscriptions: ladder() })
    const n = a.digestsPerRound(1)
    assert.is(n, 3 * Math.ceil((self / 100) * 10 - 1e-9), `rating ${self / 100}`)
    assert.is(a.roundPlan(new SeededRng(self)).length, n)
    if (counts.length) assert.ok(n >= counts[counts.length - 1])
    counts.push(n)
  }
  assert.is(counts[9], 3)
  assert.is(counts[99], 30)
  assert.is(new GravitationalAudience({ self: 1, subscriptions: ladder(), fanout: 5, bands: 4 }).digestsPerRound(1), 5)
  // A band with fewer eligible peers than fanout: all of them.
  const top = new GravitationalAudience({ self: 100, subscriptions: ladder(), bands: 100 })
  assert.is(top.digestsPerRound(1), 3 * 97 + 2 + 1, 'bands 1–97: 3; 98: nodes 98, 99; 99: node 99; 100: nobody')
})

test('members of several streams get targets for each; a publisher gossips its stream at full rating', () => {
  const subs: Subscription[] = [...ladder(1), ...ladder(2).map((s) => ({ ...s, rating: Math.min(1, s.rating * 2) })), { node: 200, stream: 3, rating: 0.3 }]
  const a = new GravitationalAudience({ self: 30, subscriptions: subs, publishers: [{ node: 30, stream: 3 }] })
  assert.equal(a.streams(), [1, 2, 3])
  const plan = a.roundPlan(new SeededRng(3))
  const byStream = (s: number): number => plan.filter((p) => p.stream === s).length
  assert.is(byStream(1), 9)
  assert.is(byStream(2), 18)
  assert.is(byStream(3), 3, 'band 1–3 each: the only subscriber (node 200)')
  assert.ok(plan.filter((p) => p.stream === 3).every((p) => p.peer === 200))
  const targets = a.roundTargets(new SeededRng(3))
  assert.ok(targets.some((t) => t.wants(meta(30, 3, 0, 0.25))))
  assert.not.ok(targets.some((t) => t.wants(meta(30, 3, 0, 0.35))), 'nobody wants keys above 0.3 of stream 3')
})

test('bad subscriptions are rejected naming the subscription; nothing changes', () => {
  const ok = ladder()
  const cases: Array<[unknown, string, RegExp]> = [
    [{ node: 7, stream: 2, rating: 0 }, 'audience.subscriptions[1].rating', /subscription of node 7 to stream 2: rating must be a number in \(0, 1\], got 0/],
    [{ node: 7, stream: 2, rating: 1.5 }, 'audience.subscriptions[1].rating', /node 7 to stream 2.*got 1.5/],
    [{ node: 7, stream: 2, rating: NaN }, 'audience.subscriptions[1].rating', /got NaN/],
    [{ node: 7, stream: 2, rating: -0.2 }, 'audience.subscriptions[1].rating', /got -0.2/],
    [{ node: 7, stream: 2, rating: '0.5' }, 'audience.subscriptions[1].rating', /got 0.5/],
    [{ node: 7, stream: 2 }, 'audience.subscriptions[1].rating', /got undefined/],
    [{ node: 0, stream: 2, rating: 0.5 }, 'audience.subscriptions[1].node', /node address/],
    [{ node: 7, stream: -1, rating: 0.5 }, 'audience.subscriptions[1].stream', /subscription of node 7: stream/],
    [{ node: 7, stream: 1, rating: 0.5 }, 'audience.subscriptions[1]', /already subscribed/],
    [null, 'audience.subscriptions[1]', /node, stream, rating/],
  ]
  for (const [bad, path, message] of cases) {
    const subs = [ok[6], bad] as Subscription[]
    const e = configError(() => new GravitationalAudience({ self: 1, subscriptions: subs }))
    assert.is(e.path, path, JSON.stringify(bad))
    assert.match(e.message, message)
  }
  const a = new GravitationalAudience({ self: 1, subscriptions: ok })
  configError(() => a.setSubscriptions([{ node: 1, stream: 1, rating: 2 }]))
  assert.is(a.ratingOf(50, 1), 0.5, 'unchanged after a refused update')
  a.setSubscriptions([{ node: 1, stream: 1, rating: 1 }, { node: 2, stream: 1, rating: 0.5 }])
  assert.is(a.ratingOf(50, 1), 0)
  assert.is(a.digestsPerRound(1), 5, 'bands 1–5: node 2; 6–10: nobody')
  assert.is(configError(() => a.setSubscriptions([], [{ node: 1, stream: 1.5 }])).path, 'audience.publishers[0].stream')
  assert.is(configError(() => new GravitationalAudience({ self: 0x80000001, subscriptions: [] })).path, 'audience.self')
})

test('config: defaults, errors naming the field; custom key rules are checked', () => {
  assert.equal(validateAudienceConfig(), { ...DEFAULT_AUDIENCE_CONFIG })
  const cases: Array<[Partial<Record<keyof AudienceConfig, unknown>>, string, RegExp]> = [
    [{ fanout: 0 }, 'audience.fanout', />= 1/],
    [{ bands: 2.5 }, 'audience.bands', /integer/],
    [{ firstFanout: 'all' }, 'audience.firstFanout', /'audience'/],
    [{ keyRule: 'random' }, 'audience.keyRule', /'weyl', 'hash' or a function/],
    [{ localityBias: -1 }, 'audience.localityBias', />= 0/],
    [{ bandEdges: 'quantiles' }, 'audience.bandEdges', /'ratings' or 'grid'/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => new GravitationalAudience({ self: 1, subscriptions: [], ...(input as object) }))
    assert.is(e.path, path)
    assert.match(e.message, message)
  }
  const custom = new GravitationalAudience({ self: 1, subscriptions: [], keyRule: (_o, _s, q) => (q % 4 + 1) / 4 })
  assert.is(custom.keyOf(3, 1, 2), 0.75)
  const broken = new GravitationalAudience({ self: 1, subscriptions: [], keyRule: () => 0 })
  assert.throws(() => broken.keyOf(3, 1, 2), /keyRule returned 0 for origin 3, stream 1, seq 2/)
})

test('locality bias: near peers are picked more often, and still distinct', () => {
  const subs = ladder().map((s) => ({ ...s, rating: 1 }))
  const distance = (a: Addr, b: Addr): number => Math.abs(a - b)
  const biased = new GravitationalAudience({ self: 50, subscriptions: subs, distance, localityBias: 2, bands: 1 })
  const uniform = new GravitationalAudience({ self: 50, subscriptions: subs, distance, localityBias: 0, bands: 1 })
  const rng = new SeededRng('locality')
  const near = (a: GravitationalAudience): number => {
    let c = 0
    for (let i = 0; i < 2000; i++) {
      const peers = a.roundPlan(rng).map((p) => p.peer)
      assert.is(new Set(peers).size, 3)
      assert.not.ok(peers.includes(50))
      c += peers.filter((p) => Math.abs(p - 50) <= 5).length
    }
    return c / 6000
  }
  const nb = near(biased), nu = near(uniform)
  assert.ok(nu < 0.15 && nb > 0.6, `near share: biased ${nb}, uniform ${nu}`)
})

type Mode = 'ratings' | 'grid' | 'uniform'

/**
 * Rounds of gossip driven by the audiences alone (no pbcast, no loss): node 1 publishes stream 1
 * and sends each message to one audience member; each round every member tells each round target
 * about the held messages its `wants` accepts, and the target takes the ones it misses. 'uniform'
 * draws as many peers as the band rule would (same load) uniformly from the stream, each told about
 * the held messages it is rated for. `after(round, held)` sees who holds what after each round.
 */
function epidemic(subs: Subscription[], mode: Mode, rounds: number, messages: number, after: (round: number, held: Map<Addr, Set<number>>, keys: number[]) => void): void {
  const bandEdges = mode === 'grid' ? 'grid' : 'ratings'
  const audiences = subs.map((s) => new GravitationalAudience({ self: s.node, subscriptions: subs, publishers: [{ node: 1, stream: 1 }], firstFanout: 1, bandEdges }))
  const rng = new SeededRng(`epidemic-${mode}`)
  const held = new Map<Addr, Set<number>>(subs.map((s) => [s.node, new Set<number>()]))
  const keys = Array.from({ length: messages }, (_, q) => audiences[0].keyOf(1, 1, q))
  for (let q = 0; q < messages; q++) {
    held.get(1)!.add(q)
    for (const t of audiences[0].firstTargets(meta(1, 1, q, keys[q]), rng)) held.get(t)!.add(q)
  }
  const nodes = subs.map((s) => s.node)
  for (let round = 1; round <= rounds; round++) {
    const sends: Array<[Addr, number]> = []
    for (const a of audiences) {
      const targets = mode !== 'uniform'
        ? a.roundTargets(rng)
        : rng.shuffle(nodes.filter((x) => x !== a.self)).slice(0, a.digestsPerRound(1)).map((peer) => ({ peer, wants: (m: MessageMeta) => m.key <= a.ratingOf(peer, 1) }))
      for (const t of targets) for (const q of held.get(a.self)!) if (t.wants(meta(1, 1, q, keys[q]))) sends.push([t.peer, q])
    }
    for (const [to, q] of sends) held.get(to)!.add(q)
    after(round, held, keys)
  }
}

/** Share of (message with key in (lo, hi], member of its audience other than node 1) pairs delivered. */
function delivered(subs: Subscription[], held: Map<Addr, Set<number>>, keys: number[], lo = 0, hi = 1): number {
  let pairs = 0, got = 0
  for (const s of subs) {
    if (s.node === 1) continue
    keys.forEach((u, q) => {
      if (u > lo && u <= hi && u <= s.rating) {
        pairs++
        if (held.get(s.node)!.has(q)) got++
      }
    })
  }
  return got / pairs
}

test('gossip by bands reaches exactly each message\'s audience; delivered shares match ratings (±0.05)', () => {
  // 76 members rated 0.05–0.65 and 4 rated 1 (node 1 publishes).
  const subs: Subscription[] = Array.from({ length: 80 }, (_, i) => ({ node: i + 1, stream: 1, rating: i < 4 ? 1 : 0.05 + (0.6 * (i - 4)) / 75 }))
  epidemic(subs, 'ratings', 8, 300, (round, held, keys) => {
    for (const s of subs) for (const q of held.get(s.node)!) assert.ok(keys[q] <= s.rating || s.node === 1, `node ${s.node} (rating ${s.rating}) holds key ${keys[q]}`)
    if (round < 8) return
    assert.is(delivered(subs, held, keys), 1, 'after 8 rounds every audience member holds every message')
    for (const s of subs.slice(1)) assert.ok(Math.abs(held.get(s.node)!.size / keys.length - s.rating) <= 0.05, `node ${s.node}: share for rating ${s.rating}`)
  })
})

test("band edges snapped to ratings: keys just above a crowd's rating reach the few above it; 'grid' starves them, uniform peers are slower", () => {
  // 290 members rated 0.25 and 10 relays rated 1. Keys in (0.25, 0.3] are wanted by the relays only.
  const subs: Subscription[] = Array.from({ length: 300 }, (_, i) => ({ node: i + 1, stream: 1, rating: i < 10 ? 1 : 0.25 }))
  const a = new GravitationalAudience({ self: 1, subscriptions: subs })
  assert.equal(a.bandEdges(1).map((e) => +e.toFixed(9)), [0, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
  assert.is(a.bandOf(1, 0.26), 4)
  assert.is(new GravitationalAudience({ self: 1, subscriptions: subs, bandEdges: 'grid' }).bandOf(1, 0.26), 3)
  const curves: Record<Mode, number[]> = { ratings: [], grid: [], uniform: [] }
  const all: Record<Mode, number> = { ratings: 0, grid: 0, uniform: 0 }
  for (const mode of ['ratings', 'grid', 'uniform'] as Mode[]) {
    epidemic(subs, mode, 8, 200, (round, held, keys) => {
      curves[mode].push(delivered(subs, held, keys, 0.25, 0.3))
      if (round === 8) all[mode] = delivered(subs, held, keys)
    })
  }
  // Measured (seeded), share delivered after rounds 1, 2, 3 … 8: 'ratings' 0.58, 0.98, 1;
  // 'grid' 0.20 … 0.24; uniform 0.38, 0.69, 0.73, 0.83, 0.93, 1.
  assert.ok(curves.ratings[2] === 1, `ratings: ${curves.ratings}`)
  assert.ok(curves.grid[7] < 0.6, `grid: ${curves.grid}`)
  assert.ok(curves.uniform[2] < 0.9, `uniform: ${curves.uniform}`)
  assert.is(all.ratings, 1)
  assert.ok(all.grid < 1, `grid ${all.grid}`)
})

test.run()
