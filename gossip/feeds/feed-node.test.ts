/**
 * The feed API: publish(feed, sample) and subscribe(feed, { rating }, handler) over gravitational
 * gossip on a simulated IP network, with a PMU generator publishing.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { SimIpNetwork } from '../pbcast/sim-ip.ts'
import { FeedDirectory, FeedNode } from './feed-node.ts'
import { PmuGenerator } from './pmu.ts'
import type { FeedSample } from './sample.ts'

function field(n: number, seed = 1) {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(seed)
  const net = new SimIpNetwork({ scheduler, rng: rng.fork('net'), loss: 0.01, minLatencyMs: 2, maxLatencyMs: 15 })
  const directory = new FeedDirectory()
  const nodes = Array.from({ length: n }, (_, i) => new FeedNode({
    transport: net.attach(i + 1), scheduler, rng: rng.fork('node', i + 1), directory, clock: () => 1_700_000_000_000 + Math.round(scheduler.now()), pbcast: { roundMs: 200 },
  }))
  return { scheduler, net, directory, nodes }
}

test('subscribers get their rating share of a PMU feed, in order per publisher, with origin, seq and timestamp', () => {
  const { scheduler, nodes } = field(30)
  const ratings = [1, 1, 0.5, 0.5, 0.25, 0.25, 0.1]
  const got = ratings.map(() => [] as FeedSample[])
  ratings.forEach((rating, i) => nodes[i + 1].subscribe(7, { rating }, (s) => got[i].push(s)))
  const published: FeedSample[] = []
  const pmu = new PmuGenerator({ scheduler, rng: new SeededRng('pmu'), rate: 30, clock: () => 1_700_000_000_000 + Math.round(scheduler.now()) })
  scheduler.at(1000, () => pmu.start((values, ts) => published.push(nodes[0].publish(7, { values, ts }))))
  scheduler.at(31_000, () => pmu.stop())
  scheduler.run({ until: 35_000 })
  assert.is(published.length, 900)
  ratings.forEach((rating, i) => {
    const share = got[i].length / published.length
    assert.ok(Math.abs(share - rating) <= 0.02, `rating ${rating}: share ${share}`)
    const seqs = got[i].map((s) => s.seq)
    assert.equal(seqs, [...seqs].sort((a, b) => a - b), 'in order')
    for (const s of got[i]) {
      const p = published[s.seq]
      assert.is(s.origin, 1)
      assert.is(s.ts, p.ts)
      assert.equal([...s.values], [...p.values])
    }
  })
  // A full-rated subscriber got every sample; PMU values are physical.
  assert.is(got[0].length, 900)
  assert.ok(got[0].every((s) => Math.abs(s.values[0] - 50) < 0.5 && s.values[1] > -180 && s.values[1] <= 180))
})

test('a node in two feeds pays about the sum of rating × rate, not twice a full feed', () => {
  const { scheduler, nodes } = field(40, 2)
  // Feed 1 and feed 2, 30 samples/s each, published by nodes 1 and 2; 12 subscribers each.
  for (let i = 3; i <= 14; i++) nodes[i - 1].subscribe(1, { rating: i <= 8 ? 1 : 0.2 }, () => {})
  for (let i = 15; i <= 26; i++) nodes[i - 1].subscribe(2, { rating: i <= 20 ? 1 : 0.2 }, () => {})
  nodes[26].subscribe(1, { rating: 0.2 }, () => {}) // node 27: two feeds at 0.2
  nodes[26].subscribe(2, { rating: 0.2 }, () => {})
  nodes[27].subscribe(1, { rating: 1 }, () => {}) // node 28: one feed at 1
  for (const [pub, feed] of [[0, 1], [1, 2]] as const) {
    for (let k = 0; k < 600; k++) scheduler.at(1000 + (k * 1000) / 30, () => nodes[pub].publish(feed, { values: [k] }))
  }
  scheduler.run({ until: 25_000 })
  const bytes = (i: number) => { const l = nodes[i].pbcast.load(); return l.bytesSent + l.bytesReceived }
  const twoAtLow = bytes(26), oneAtFull = bytes(27)
  // Σ rating·rate = 0.4 × 30/s against 1 × 30/s: well under the full feed, let alone two.
  assert.ok(twoAtLow < 0.7 * oneAtFull, `two feeds at 0.2: ${twoAtLow} B, one feed at 1: ${oneAtFull} B`)
})

test('unsubscribe stops delivery; bad feeds and ratings are refused; a closed node refuses work', () => {
  const { scheduler, nodes, directory } = field(6)
  const got: number[] = []
  const off = nodes[1].subscribe(3, { rating: 1 }, (s) => got.push(s.seq))
  for (let k = 0; k < 20; k++) scheduler.at(500 + k * 100, () => nodes[0].publish(3, { values: [k] }))
  scheduler.at(1300, () => off())
  scheduler.run({ until: 6000 })
  assert.ok(got.length >= 5 && got.length < 20, `${got.length} samples before unsubscribing`)
  assert.is(directory.subscriptions().length, 0)
  assert.throws(() => nodes[1].subscribe(3, { rating: 0 }, () => {}), /rating/)
  assert.throws(() => nodes[1].subscribe(70_000, { rating: 1 }, () => {}), /feed id/)
  assert.throws(() => nodes[0].publish(-1, { values: [1] }), /feed id/)
  nodes[0].close()
  nodes[0].close()
  assert.throws(() => nodes[0].publish(3, { values: [1] }), /closed/)
})

test('two subscriptions on one node each get their own share; ending one twice does nothing', () => {
  const { scheduler, nodes, directory } = field(8)
  const full: number[] = [], tenth: number[] = []
  nodes[1].subscribe(5, { rating: 1 }, (s) => full.push(s.seq))
  const offTenth = nodes[1].subscribe(5, { rating: 0.1 }, (s) => tenth.push(s.seq))
  for (let k = 0; k < 200; k++) scheduler.at(500 + k * 20, () => nodes[0].publish(5, { values: [k] }))
  scheduler.run({ until: 8000 })
  assert.is(full.length, 200, 'the rating-1 handler gets every sample although a 0.1 one subscribed after it')
  assert.ok(Math.abs(tenth.length - 20) <= 1, `the 0.1 handler gets a tenth: ${tenth.length}`)
  offTenth()
  const again = nodes[1].subscribe(5, { rating: 0.5 }, () => {})
  offTenth() // already ended: must not touch the newer subscription
  assert.equal(directory.subscriptions().map((x) => x.rating), [1])
  again()
  assert.equal(directory.subscriptions().map((x) => x.rating), [1])
})

test.run()
