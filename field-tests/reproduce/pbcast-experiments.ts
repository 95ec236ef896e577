/**
 * The two in-process experiments of the pbcast reproduction (no scenario runner):
 * - `scalingRun`: one plain pbcast group of n members on a simulated IP network, one publisher at
 *   a constant rate; every member's datagrams (sent + received) per round over the publishing
 *   window (PROTOCOLS.md §5: "per-member load per round is constant, whatever the group size");
 * - `crashTrial`: one message whose origin crashes right after its first dissemination, in a fresh
 *   small group at high loss; how many non-origin members delivered it (the bimodal delivery
 *   distribution of seed 004, compared with gossip/pbcast/analysis.ts's model).
 *
 * Both are deterministic for their seed: virtual time (SimScheduler), seeded Rngs, nothing else.
 * The seed strings still start with `gravitational/` (these experiments were part of the
 * gravitational reproduction until pbcast got its own): kept so that the numbers do not change.
 */
import type { Addr } from '../../core/addr.ts'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import type { DeliveryModelParams } from '../../gossip/pbcast/analysis.ts'
import type { PbcastConfigInput } from '../../gossip/pbcast/pbcast-defaults.ts'
import { Pbcast, type PbcastLoad } from '../../gossip/pbcast/pbcast.ts'
import { SimIpNetwork } from '../../gossip/pbcast/sim-ip.ts'
import { PlainAudience } from '../../gossip/pbcast/view.ts'

/** Per-member load of one group size (the scaling experiment). */
export interface ScalingParams {
  n: number
  /** Messages per second from the one publisher. */
  rate: number
  /** Publishing time, virtual seconds. */
  seconds: number
  loss: number
  /** Members that get each message first (PlainAudience's firstFanout; its other tunables are the defaults). */
  firstFanout: number
  /** Body bytes per message. */
  size: number
  seed: string
}

export interface ScalingRun {
  n: number
  /** Rounds each member ran in the measured window (publishing start to end). */
  rounds: number
  /** Over the n − 1 members that do not publish: (sent + received) datagrams per round in the window. */
  perRound: { mean: number; min: number; max: number }
  /** Over the same members: bytes (sent + received) per round in the window. */
  bytesPerRound: { mean: number; min: number; max: number }
  /** The publisher's own datagrams per round (it also sends every first copy: firstFanout × rate × roundMs more). */
  publisherPerRound: number
  /** Members that delivered every message published. */
  completeMembers: number
  /** Deliveries / (messages × (n − 1)), the publisher excluded. */
  deliveryRatio: number
  wallSeconds: number
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6
const spread = (xs: readonly number[]) => ({ mean: r6(xs.reduce((a, b) => a + b, 0) / xs.length), min: r6(Math.min(...xs)), max: r6(Math.max(...xs)) })

/**
 * One group of n members 1..n, member 1 publishing `rate` messages/s from t = 1 s for `seconds`;
 * loads are read when publishing starts and when it ends (rounds before the first message and
 * after the last carry empty digests only, which would flatter nothing but dilute the window).
 */
export function scalingRun(p: ScalingParams): ScalingRun {
  if (!Number.isInteger(p.n) || p.n < 2) throw new RangeError(`scaling: a group needs at least 2 members, got ${p.n}`)
  const t0 = performance.now()
  const s = new SimScheduler()
  const rng = new SeededRng(`gravitational/scaling/${p.seed}/${p.n}`)
  const net = new SimIpNetwork({ scheduler: s, rng: rng.fork('net'), loss: p.loss, minLatencyMs: 1, maxLatencyMs: 5 })
  const addrs = Array.from({ length: p.n }, (_, i) => i + 1)
  const delivered = new Int32Array(p.n + 1)
  const members = addrs.map((a) => {
    const pb = new Pbcast({ transport: net.attach(a), scheduler: s, rng: rng.fork('member', a), audience: new PlainAudience({ self: a, members: addrs, firstFanout: p.firstFanout }) })
    pb.on('deliver', () => delivered[a]++)
    return pb
  })
  const startMs = 1000
  const endMs = startMs + p.seconds * 1000
  const interval = 1000 / p.rate
  const total = Math.round(p.seconds * p.rate)
  const body = new Uint8Array(p.size)
  let before: PbcastLoad[] = []
  let after: PbcastLoad[] = []
  s.at(startMs, () => (before = members.map((m) => m.load())))
  for (let k = 0; k < total; k++) s.at(startMs + k * interval, () => void members[0].publish(0, body))
  s.at(endMs, () => (after = members.map((m) => m.load())))
  // Then let the last messages finish spreading (gcRounds rounds) before counting deliveries.
  s.run({ until: endMs + (members[0].config.gcRounds + 2) * members[0].config.roundMs })
  for (const m of members) m.close()
  const per = members.map((_, i) => {
    const rounds = after[i].rounds - before[i].rounds
    const d = after[i].datagramsSent + after[i].datagramsReceived - before[i].datagramsSent - before[i].datagramsReceived
    const b = after[i].bytesSent + after[i].bytesReceived - before[i].bytesSent - before[i].bytesReceived
    return { rounds, d: rounds ? d / rounds : 0, b: rounds ? b / rounds : 0 }
  })
  let got = 0, complete = 0
  for (let a = 2; a <= p.n; a++) {
    got += delivered[a]
    if (delivered[a] >= total) complete++
  }
  return {
    n: p.n,
    rounds: Math.round(per.reduce((a, x) => a + x.rounds, 0) / per.length),
    perRound: spread(per.slice(1).map((x) => x.d)),
    bytesPerRound: spread(per.slice(1).map((x) => x.b)),
    publisherPerRound: r6(per[0].d),
    completeMembers: complete,
    deliveryRatio: p.n > 1 ? r6(got / (total * (p.n - 1))) : 1,
    wallSeconds: (performance.now() - t0) / 1000,
  }
}

/** The crash experiment's protocol settings; the model gets the same (see `modelParams`). */
export interface CrashParams {
  n: number
  loss: number
  firstFanout: number
  fanout: number
  gcRounds: number
}

/** pbcast's config for the crash trials: aligned rounds, push off, one solicitation per message per round. */
export function crashConfig(p: CrashParams): PbcastConfigInput {
  return { roundPhase: 'aligned', gcRounds: p.gcRounds, pushAfterRounds: p.gcRounds, solicitOncePerRound: true }
}

/**
 * The analytic model with the same parameters. A message published during round r0 is listed in
 * digests from round r0 + 1 while its age is below gcRounds, i.e. in gcRounds − 1 rounds (the
 * pbcast author's note), so `rounds` = gcRounds − 1; push is off (pushAfterRounds = gcRounds:
 * Infinity in the model); solicitOncePerRound ↔ the model's `solicitOnce`.
 */
export function modelParams(p: CrashParams): DeliveryModelParams {
  return { n: p.n, fanout: p.fanout, rounds: p.gcRounds - 1, loss: p.loss, firstFanout: p.firstFanout, originCrashes: true, pushAfterRounds: Infinity, solicitOnce: true }
}

/**
 * One trial: a fresh group of n members (uniform partners: viewSize n − 1), member 1 publishes one
 * message at 150 ms (mid-round) and crashes at once (SimIpNetwork.down right after publish: its
 * first copies are already on the wire). Returns how many of members 2..n delivered it.
 */
export function crashTrial(p: CrashParams, seed: string): number {
  const s = new SimScheduler()
  const rng = new SeededRng(seed)
  const net = new SimIpNetwork({ scheduler: s, rng: rng.fork('net'), loss: p.loss, minLatencyMs: 1, maxLatencyMs: 5 })
  const addrs: Addr[] = Array.from({ length: p.n }, (_, i) => i + 1)
  const got = new Uint8Array(p.n + 1)
  const config = crashConfig(p)
  const members = addrs.map((a) => {
    const audience = new PlainAudience({ self: a, members: addrs, firstFanout: p.firstFanout, fanout: p.fanout, viewSize: Math.max(1, p.n - 1) })
    const pb = new Pbcast({ transport: net.attach(a), scheduler: s, rng: rng.fork('member', a), audience, config })
    pb.on('deliver', () => (got[a] = 1))
    return pb
  })
  const roundMs = members[0].config.roundMs
  s.at(1.5 * roundMs, () => {
    members[0].publish(0, new Uint8Array(16))
    net.down(1)
  })
  s.run({ until: (p.gcRounds + 3) * roundMs })
  for (const m of members) m.close()
  let k = 0
  for (let a = 2; a <= p.n; a++) k += got[a]
  return k
}

/** `trials` independent crash trials (seeds `${seed}/0` …); receiver counts in trial order. */
export function crashTrials(p: CrashParams, trials: number, seed: string): number[] {
  const out: number[] = []
  for (let t = 0; t < trials; t++) out.push(crashTrial(p, `${seed}/${t}`))
  return out
}
