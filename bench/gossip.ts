/**
 * Feed samples per second through publish → gravitational gossip → deliver, on one core, for
 * BENCHMARKS.md (issue 7). Every member runs in this process on one SimIpNetwork (1 % loss, 1–5 ms
 * latency, virtual time), so the wall time is all members' protocol work: sample encoding, first
 * dissemination, digests, solicitations, retransmissions, the store, FIFO delivery, decoding the
 * sample at each subscriber. A delivery is one sample handed to one subscriber's handler.
 * Run alone: `node --import tsx bench/gossip.ts`.
 */
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { FeedDirectory, FeedNode } from '../gossip/feeds/feed-node.ts'
import { SimIpNetwork } from '../gossip/pbcast/sim-ip.ts'

interface Result { published: number; deliveries: number; seconds: number; expected: number }

/** `members` nodes, one publisher at `rate` samples/s of virtual time for `seconds`, subscribers rated `ratings` in turn. */
function run(members: number, ratings: readonly number[], rate: number, seconds: number): Result {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(1)
  const net = new SimIpNetwork({ scheduler, rng: rng.fork('net'), loss: 0.01, minLatencyMs: 1, maxLatencyMs: 5 })
  const directory = new FeedDirectory()
  const nodes = Array.from({ length: members }, (_, i) => new FeedNode({ transport: net.attach(i + 1), scheduler, rng: rng.fork('n', i), directory, audience: { firstFanout: 'audience' } }))
  let deliveries = 0
  let expectedShare = 0
  for (let i = 1; i < members; i++) {
    const rating = ratings[(i - 1) % ratings.length]
    expectedShare += rating
    nodes[i].subscribe(1, { rating }, () => deliveries++)
  }
  const values = [50.001, 12.5, 230_000]
  const total = rate * seconds
  for (let k = 0; k < total; k++) scheduler.at(1000 + (k * 1000) / rate, () => nodes[0].publish(1, { values }))
  const t0 = performance.now()
  scheduler.run({ until: 1000 + seconds * 1000 + 3000 })
  return { published: total, deliveries, seconds: (performance.now() - t0) / 1000, expected: Math.round(total * expectedShare) }
}

const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 })

export function gossipBenchSection(): string {
  const cases = [
    ['20 members, all rated 1', run(20, [1], 1000, 20)],
    ['20 members, ratings 0.1–1', run(20, [0.1, 0.25, 0.5, 0.75, 1], 1000, 20)],
    ['100 members, all rated 1', run(100, [1], 200, 20)],
  ] as const
  const lines = cases.map(([what, r]) =>
    `| ${what} | ${fmt(r.published)} | ${fmt(r.deliveries)} (${((100 * r.deliveries) / r.expected).toFixed(2)} % of the audiences) | ${r.seconds.toFixed(2)} | ${fmt(r.published / r.seconds)} | ${fmt(r.deliveries / r.seconds)} |`)
  return `## Feed samples through gravitational gossip (bench/gossip.ts)

One PMU-like feed (3 values, a 20-byte sample body) published at a fixed rate of virtual time;
every member a FeedNode (pbcast with the gravitational audience: 100 ms rounds, the first
dissemination to the whole audience, as IP multicast would, so gossip only repairs the 1 % lost)
on one simulated IP network, all in one process on one core. With the default first fanout of 3
the rest of the audience must pull each sample, and the per-round retransmission cap (20) bounds
a feed to roughly 200 samples/s per holder. Samples/s: published samples
per wall second; deliveries/s: samples handed to subscribers' handlers per wall second (each
published sample is delivered to every subscriber in its audience).

| case | samples published | deliveries | wall s | samples/s | deliveries/s |
|---|---|---|---|---|---|
${lines.join('\n')}
`
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(gossipBenchSection())
