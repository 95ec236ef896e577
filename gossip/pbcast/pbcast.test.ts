import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Addr } from '../../core/addr.ts'
import { MetricsRegistry } from '../../core/metrics.ts'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { configError } from '../../core/testing.ts'
import { DATA_HEADER_SIZE, DATA_R, PbcastMsgType, decodePbcast, encodeData, encodeDigest, encodeSolicit, type PbcastWireMessage } from './pbcast-messages.ts'
import { Pbcast } from './pbcast.ts'
import { DEFAULT_PBCAST_CONFIG, validatePbcastConfig, type PbcastConfigInput } from './pbcast-defaults.ts'
import type { Audience, MessageId, PbcastDelivery } from './pbcast-types.ts'
import { SimIpNetwork } from './sim-ip.ts'
import { PlainAudience } from './view.ts'

interface GroupOptions {
  seed?: string | number
  loss?: number
  firstFanout?: number | 'all'
  config?: PbcastConfigInput
}

/** n members 1..n of a plain pbcast group over a simulated IP network (1–5 ms latency), aligned rounds. */
function group(n: number, o: GroupOptions = {}) {
  const s = new SimScheduler()
  const rng = new SeededRng(o.seed ?? 'pbcast')
  const net = new SimIpNetwork({ scheduler: s, rng: rng.fork('net'), loss: o.loss ?? 0, minLatencyMs: 1, maxLatencyMs: 5 })
  const reg = new MetricsRegistry()
  const addrs = Array.from({ length: n }, (_, i) => i + 1)
  const delivered = new Map<Addr, PbcastDelivery[]>()
  const skipped: MessageId[] = []
  const members = addrs.map((a) => {
    const pb = new Pbcast({
      transport: net.attach(a), scheduler: s, rng: rng.fork('member', a), metrics: reg.scope('pbcast', a),
      audience: new PlainAudience({ self: a, members: addrs, firstFanout: o.firstFanout ?? 3 }),
      config: { roundPhase: 'aligned', ...o.config },
    })
    delivered.set(a, [])
    pb.on('deliver', (d) => delivered.get(a)!.push(d))
    pb.on('skipped', (id) => skipped.push(id))
    return pb
  })
  return { s, net, reg, members, delivered, skipped, addrs, total: (name: string) => reg.total('pbcast', name) }
}

/** A bare endpoint that records the pbcast messages it receives. */
function probe(net: SimIpNetwork, addr: Addr) {
  const ep = net.attach(addr)
  const got: Array<{ from: Addr; at: number; m: PbcastWireMessage }> = []
  ep.on('receive', (d) => got.push({ from: d.from, at: d.at, m: decodePbcast(d.payload) }))
  return { ep, got }
}

/** A one-member setup with probes as peers and a scripted audience. */
function solo(audience: Partial<Audience> & Pick<Audience, 'roundTargets'>, config: PbcastConfigInput = {}) {
  const s = new SimScheduler()
  const net = new SimIpNetwork({ scheduler: s, rng: new SeededRng('solo') })
  const reg = new MetricsRegistry()
  const full: Audience = { keyOf: () => 1, selfWants: () => true, firstTargets: () => [], peerWants: () => true, ...audience }
  const pb = new Pbcast({ transport: net.attach(1), scheduler: s, rng: new SeededRng('solo-member'), audience: full, metrics: reg.scope('pbcast'), config: { roundPhase: 'aligned', ...config } })
  const log: string[] = []
  pb.on('deliver', (d) => log.push(`d${d.seq}@${d.at}:${d.via}`))
  pb.on('skipped', (id) => log.push(`s${id.seq}@${s.now()}`))
  return { s, net, pb, log, count: (name: string) => reg.value('pbcast', '-', name) }
}

const body = (n: number, len = 32): Uint8Array => new Uint8Array(len).fill(n & 255)

test('50 members, 1 % loss, 20 msg/s for 10 s: every member delivers every message once, FIFO', () => {
  const g = group(50, { loss: 0.01 })
  const pub = g.members[0]
  let k = 0
  const next = (): void => {
    pub.publish(0, body(k))
    if (++k < 200) g.s.at(50, next)
  }
  g.s.at(1003, next)
  g.s.run({ until: 12_500 })
  for (const [a, ds] of g.delivered) {
    assert.is(ds.length, 200, `member ${a} delivered ${ds.length}`)
    ds.forEach((d, i) => {
      assert.is(d.seq, i, `member ${a}: FIFO`)
      assert.is(d.origin, 1)
      assert.is(d.body[0], i & 255)
    })
  }
  assert.is(g.total('skipped'), 0)
  assert.is(g.skipped.length, 0)
  // Seed 'pbcast': 10 000 deliveries, 9 203 (92 %) by gossip (firstFanout 3); 10 953 duplicate
  // copies arrived (several digests in a round list the same message, and pushes cross pulls),
  // all recognised, none delivered twice.
  assert.is(g.total('delivered'), 10_000)
  assert.ok(g.total('duplicates') > 0)
  assert.ok(g.total('deliveredViaGossip') > 9000)
})

test('a first dissemination to only 2 members reaches everyone by gossip within gcRounds', () => {
  const g = group(50, { firstFanout: 2 })
  const at: number[] = []
  for (let i = 0; i < 5; i++) g.s.at(1050 + 400 * i, () => at.push(g.members[9].publish(0, body(i)).ts))
  g.s.run({ until: 5000 })
  for (const [a, ds] of g.delivered) {
    assert.equal(ds.map((d) => d.seq), [0, 1, 2, 3, 4], `member ${a}`)
    for (const d of ds) assert.ok(d.at - at[d.seq] < 10 * 100, `member ${a} got seq ${d.seq} after ${d.at - at[d.seq]} ms`)
  }
  assert.is(g.total('firstSent'), 10)
  assert.is(g.total('deliveredViaGossip'), 5 * 47)
})

test('crashed publisher at 40 % loss: a message reaches almost all or almost none (bimodal)', () => {
  const n = 25, trials = 100
  const outcomes: number[] = []
  for (let t = 0; t < trials; t++) {
    const g = group(n, { seed: `bimodal-${t}`, loss: 0.4, firstFanout: 2 })
    g.s.at(150, () => {
      g.members[0].publish(0, body(t))
      g.net.down(1) // crashes right after the first dissemination left
    })
    g.s.run({ until: 1600 })
    let got = 0
    for (const [a, ds] of g.delivered) if (a !== 1 && ds.length > 0) got++
    outcomes.push(got / (n - 1))
  }
  const none = outcomes.filter((x) => x <= 0.1).length
  const all = outcomes.filter((x) => x >= 0.9).length
  const middle = trials - none - all
  // Seeds 'bimodal-t': 17 trials reached none (both first copies lost: 0.4² = 16 % expected), 83
  // reached ≥ 90 % of the members, 0 ended in between.
  assert.ok(none >= 5, `${none} trials reached almost none`)
  assert.ok(all >= 70, `${all} trials reached almost all`)
  assert.ok(middle <= 3, `${middle} trials ended in the middle`)
})

test('per-member load per round stays constant as the group grows from 50 to 400', () => {
  const perRound = (n: number): number => {
    const g = group(n, { loss: 0.01, seed: 'load' })
    let k = 0
    const next = (): void => {
      g.members[0].publish(0, body(k))
      if (++k < 30) g.s.at(50, next)
    }
    g.s.at(303, next)
    g.s.run({ until: 2850 })
    let sent = 0, rounds = 0
    for (const m of g.members) {
      const l = m.load()
      sent += l.datagramsSent
      rounds += l.rounds
    }
    for (const ds of g.delivered.values()) assert.is(ds.length, 30)
    return sent / rounds
  }
  const small = perRound(50), large = perRound(400)
  // Seed 'load': 6.13 datagrams sent per member per round at 50 members, 6.01 at 400 (−1.9 %):
  // 3 digests, plus the solicits, retransmissions and pushes of 30 messages published at 2 per round (firstFanout 3, so
  // nearly every copy is gossip), averaged over the 29 rounds of the run.
  assert.ok(Math.abs(large - small) / small < 0.15, `${small.toFixed(2)} at 50 vs ${large.toFixed(2)} at 400`)
})

test('caps: retransmissions + pushes per member and round never exceed maxRetransmitsPerRound', () => {
  const s = new SimScheduler()
  const rng = new SeededRng('caps')
  const net = new SimIpNetwork({ scheduler: s, rng: rng.fork('net'), loss: 0.1, minLatencyMs: 1, maxLatencyMs: 5 })
  const reg = new MetricsRegistry()
  const addrs = Array.from({ length: 20 }, (_, i) => i + 1)
  const perRound = new Map<string, number>()
  const members = addrs.map((a) => {
    const ep = net.attach(a)
    const send = ep.send.bind(ep)
    ep.send = (to: Addr, p: Uint8Array): void => {
      if (p[0] === PbcastMsgType.DATA && (p[1] & DATA_R) !== 0) {
        const k = `${a}/${Math.floor(s.now() / 100)}`
        perRound.set(k, (perRound.get(k) ?? 0) + 1)
      }
      send(to, p)
    }
    return new Pbcast({
      transport: ep, scheduler: s, rng: rng.fork('m', a), metrics: reg.scope('pbcast', a),
      audience: new PlainAudience({ self: a, members: addrs, firstFanout: 1 }),
      config: { roundPhase: 'aligned', maxRetransmitsPerRound: 2 },
    })
  })
  s.at(150, () => { for (let i = 0; i < 30; i++) members[0].publish(0, body(i)) })
  s.run({ until: 2000 })
  assert.ok(Math.max(...perRound.values()) <= 2, `at most 2, got ${Math.max(...perRound.values())}`)
  assert.ok(reg.total('pbcast', 'retransmitCapHits') > 0, 'the cap was reached')
})

test('a solicit from a peer outside the audience is refused; one from inside is answered', () => {
  const { s, net, pb, count } = solo({ roundTargets: () => [], peerWants: (peer) => peer !== 3 })
  const inside = probe(net, 2), outside = probe(net, 3)
  s.at(150, () => pb.publish(4, body(7)))
  const ask = encodeSolicit({ entries: [{ origin: 1, stream: 4, ranges: [{ first: 0, count: 1 }] }] })
  s.at(200, () => {
    inside.ep.send(1, ask)
    outside.ep.send(1, ask)
  })
  s.run({ until: 400 })
  assert.is(count('refused'), 1)
  assert.is(outside.got.length, 0)
  assert.is(inside.got.length, 1)
  const m = inside.got[0].m
  assert.ok(m.type === PbcastMsgType.DATA && m.retransmission && m.seq === 0 && m.stream === 4 && m.age === 131, 'published at 150 ms, asked for at 201 ms: 0.51 rounds = 131/256')
  assert.is(count('retransmitsSent'), 1)
})

test('aligned rounds: listed from the round after arrival while younger than gcRounds, then collected', () => {
  const { s, net, pb, count } = solo({ roundTargets: () => [{ peer: 2, wants: () => true }] }, { gcRounds: 4 })
  const peer = probe(net, 2)
  s.at(250, () => pb.publish(0, body(0))) // during round 2
  s.run({ until: 999 })
  const listing = peer.got.filter((g) => g.m.type === PbcastMsgType.DIGEST && g.m.entries.length > 0).map((g) => Math.round(g.at / 100 - 0.5))
  assert.equal(listing, [3, 4, 5], 'rounds 3..5 (age 1..3 < 4)')
  assert.ok(peer.got.every((g) => g.m.type === PbcastMsgType.DIGEST && g.m.complete))
  assert.is(count('gcCollected'), 1)
  assert.is(pb.heldCount, 0)
  assert.is(count('rounds'), 10, 'rounds 0..9 (the first at t = 0)')
})

test('pull is digest → solicit → DATA (three datagrams)', () => {
  const { s, net, count } = solo({ roundTargets: () => [] })
  const peer = probe(net, 2)
  // The peer's digest lists two messages of origin 9 that member 1 lacks.
  s.at(120, () => peer.ep.send(1, encodeDigest({ complete: false, entries: [{ origin: 9, stream: 0, ranges: [{ first: 0, count: 2 }] }] })))
  s.run({ until: 150 })
  assert.is(peer.got.length, 1)
  const sol = peer.got[0].m
  assert.ok(sol.type === PbcastMsgType.SOLICIT)
  assert.equal(sol.entries, [{ origin: 9, stream: 0, ranges: [{ first: 0, count: 2 }] }])
  peer.ep.send(1, encodeData({ retransmission: true, origin: 9, stream: 0, seq: 0, age: 1, body: body(1) }))
  s.run({ until: 200 })
  assert.is(count('solicitsSent'), 1)
  assert.is(count('solicitedIds'), 2)
  assert.is(count('deliveredViaGossip'), 1)
  assert.is(count('pushesSent'), 0, 'the digest was incomplete: no push')
})

test('push is digest → DATA (two datagrams), only for a complete digest and messages pushAfterRounds old', () => {
  const { s, net, pb, count } = solo({ roundTargets: () => [] }, { pushAfterRounds: 3 })
  const peer = probe(net, 2)
  const at = (t: number, fn: () => void): void => void s.at(t - s.now(), fn)
  at(230, () => pb.publish(0, body(2))) // round 2
  const digest = (complete: boolean, listed: boolean) => () =>
    peer.ep.send(1, encodeDigest({ complete, entries: listed ? [{ origin: 1, stream: 0, ranges: [{ first: 0, count: 1 }] }] : [] }))
  at(420, digest(true, false)) // age 2: too young to push
  at(520, digest(true, false)) // age 3: pushed
  at(540, digest(false, false)) // incomplete: no push
  at(550, digest(true, true)) // lists it: no push
  at(560, digest(true, false)) // pushed again
  s.run({ until: 600 })
  const pushes = peer.got.filter((g) => g.m.type === PbcastMsgType.DATA)
  assert.equal(pushes.map((g) => Math.floor(g.at)), [522, 562], 'digest and DATA each take 1 ms')
  // Ages in 1/256 rounds: published at 230 ms, pushed at 521 and 561 ms (2.91 and 3.31 rounds).
  assert.equal(pushes.map((g) => (g.m.type === PbcastMsgType.DATA && g.m.retransmission && g.m.origin === 1 ? g.m.age : -1)), [745, 847])
  assert.is(count('pushesSent'), 2)
  assert.is(peer.got.length, 2, 'nothing else was sent')
})

test('a missing wanted message is skipped after the horizon, and FIFO continues', () => {
  const { s, net, log } = solo({ roundTargets: () => [] })
  const origin = probe(net, 9)
  const data = (seq: number): Uint8Array => encodeData({ retransmission: false, origin: 9, stream: 0, seq, age: 0, body: body(seq) })
  s.at(150, () => origin.ep.send(1, data(0)))
  s.at(160, () => origin.ep.send(1, data(2))) // seq 1 never comes
  s.at(1300, () => origin.ep.send(1, data(3)))
  s.run({ until: 1500 })
  assert.equal(log, ['d0@151:first', 's1@1100', 'd2@1100:first', 'd3@1301:first'], 'seq 2 is 10 rounds old at round 11')
})

test('malformed datagrams are counted, never thrown; close() is idempotent and stops everything', () => {
  const { s, net, pb, count } = solo({ roundTargets: () => [{ peer: 2, wants: () => true }] })
  const peer = probe(net, 2)
  s.at(110, () => {
    peer.ep.send(1, Uint8Array.of(1, 0, 0))
    peer.ep.send(1, Uint8Array.of(99))
    peer.ep.send(1, new Uint8Array(0))
  })
  s.run({ until: 350 })
  assert.is(count('decodeErrors'), 3)
  assert.is(count('datagramsReceived'), 3)
  pb.close()
  pb.close()
  const before = peer.got.length
  peer.ep.send(1, Uint8Array.of(7))
  s.run({ until: 1000 })
  assert.is(peer.got.length, before, 'no more rounds')
  assert.is(count('decodeErrors'), 3, 'no more receiving')
  assert.throws(() => pb.publish(0, body(0)), /closed/)
})

test('publish checks its arguments; a message larger than maxPayload is a RangeError', () => {
  const { pb } = solo({ roundTargets: () => [] })
  assert.throws(() => pb.publish(0, new Uint8Array(1400 - DATA_HEADER_SIZE + 1)), RangeError)
  assert.throws(() => pb.publish(65536, body(0)), RangeError)
  const m = pb.publish(0, new Uint8Array(1400 - DATA_HEADER_SIZE))
  assert.equal([m.origin, m.stream, m.seq, m.key], [1, 0, 0, 1])
  assert.is(pb.publish(0, body(0)).seq, 1)
  assert.is(pb.publish(1, body(0)).seq, 0, 'seqs count per stream')
})

test('random phase: each member starts its rounds at its own offset, then every roundMs', () => {
  const s = new SimScheduler()
  const net = new SimIpNetwork({ scheduler: s, rng: new SeededRng('phase') })
  const peer = probe(net, 99)
  const audience: Audience = { keyOf: () => 1, selfWants: () => true, firstTargets: () => [], peerWants: () => true, roundTargets: () => [{ peer: 99, wants: () => true }] }
  const rng = new SeededRng('phase-members')
  for (let a = 1; a <= 5; a++) new Pbcast({ transport: net.attach(a), scheduler: s, rng: rng.fork(a), audience, config: { roundPhase: 'random' } })
  s.run({ until: 350 })
  const times = new Map<Addr, number[]>()
  for (const g of peer.got) times.set(g.from, [...(times.get(g.from) ?? []), g.at - 1])
  const firsts = [...times.values()].map((t) => t[0])
  assert.is(new Set(firsts.map((t) => Math.floor(t))).size, 5, `distinct phases: ${firsts.map((t) => t.toFixed(1))}`)
  for (const t of times.values()) {
    assert.ok(t[0] >= 0 && t[0] < 100)
    for (let i = 1; i < t.length; i++) assert.ok(Math.abs(t[i] - t[i - 1] - 100) < 1e-6)
  }
})

test('bad config: ConfigError naming the field', () => {
  const make = (config: Record<string, unknown>, configPath?: string) => () => {
    const s = new SimScheduler()
    const net = new SimIpNetwork({ scheduler: s, rng: new SeededRng(1) })
    return new Pbcast({ transport: net.attach(1), scheduler: s, rng: new SeededRng(2), audience: new PlainAudience({ self: 1, members: [1], firstFanout: 1 }), config, configPath })
  }
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ roundMs: 0 }, 'pbcast.roundMs', /> 0/],
    [{ gcRounds: 256 }, 'pbcast.gcRounds', /<= 255/],
    [{ pushAfterRounds: 11 }, 'pbcast.pushAfterRounds', /<= gcRounds/],
    [{ roundPhase: 'sync' }, 'pbcast.roundPhase', /random, aligned/],
    [{ maxRetransmitsPerRound: 0 }, 'pbcast.maxRetransmitsPerRound', />= 1/],
    [{ maxDigestIds: 2.5 }, 'pbcast.maxDigestIds', /integer/],
    [{ joinBackfill: 2000 }, 'pbcast.joinBackfill', /<= dedupWindow/],
    [{ gcRound: 3 }, 'pbcast.gcRound', /unknown/],
  ]
  for (const [config, path, message] of cases) {
    const e = configError(make(config))
    assert.is(e.path, path, JSON.stringify(config))
    assert.match(e.message, message)
  }
  assert.is(configError(make({ dedupWindow: 0 }, 'groups.feed')).path, 'groups.feed.dedupWindow')
  assert.equal(validatePbcastConfig(), { ...DEFAULT_PBCAST_CONFIG })
  assert.ok(Object.isFrozen(DEFAULT_PBCAST_CONFIG))
  assert.is(validatePbcastConfig({ pushAfterRounds: 10 }).pushAfterRounds, 10, 'equal to gcRounds: push off')
})

test.run()
