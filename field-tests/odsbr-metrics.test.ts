import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { classifyConvictions, classifyLinks, instrumentOdsbr, quantileOf, routeAroundEpisodes, summariseRouteAround, throughAdversary, type ConvictionEvent, type SendRecord } from './odsbr-metrics.ts'
import { buildSimulation, runScenario, runSimulation } from './runner.ts'
import { parseScenario } from './scenario.ts'
import { tinyByzantine } from './tiny-byzantine.ts'

// 14 nodes, 3 flows, 30 s, 30 % black holes: a fraction of a second per run.
const TINY = tinyByzantine({ duration: 30, fraction: 0.3 })

const adv = new Set([7, 9])

test('a conviction is true when one end of the link is an adversary, split by cause', () => {
  const ev = (a: number, b: number, cause: ConvictionEvent['cause']): ConvictionEvent => ({ t: 0, source: 1, a, b, cause })
  const c = classifyConvictions([ev(1, 7, 'detection'), ev(9, 12, 'detection'), ev(2, 3, 'detection'), ev(3, 4, 'link-break'), ev(7, 9, 'link-break')], adv)
  assert.equal({ total: c.total, true: c.true, false: c.false }, { total: 5, true: 3, false: 2 })
  assert.equal(c.detection, { total: 3, true: 2, false: 1 })
  assert.equal(c.linkBreak, { total: 2, true: 1, false: 1 })
  assert.equal(classifyLinks([], adv), { total: 0, true: 0, false: 0 })
})

test('only relays count as being on an adversarial route', () => {
  assert.is(throughAdversary([1, 7, 3], adv), true)
  assert.is(throughAdversary([1, 3], adv), false)
  assert.is(throughAdversary([1, 2, 3, 4], adv), false)
})

test('time to route around: first lost packet on an adversarial route → first packet on a clean route', () => {
  const bad = [1, 7, 3]
  const good = [1, 2, 3]
  const s = (t: number, flow: number, seq: number, route: number[] | null): SendRecord => ({ t, flow, src: 1, dst: 3, seq, route })
  const sends = [
    s(0, 0, 0, good),
    s(250, 0, 1, bad), // delivered: the adversary relayed it (a greyhole may), no episode yet
    s(500, 0, 2, bad), // lost: episode starts
    s(750, 0, 3, null), // no route: still exposed
    s(1000, 0, 4, bad),
    s(1250, 0, 5, good), // routed around after 750 ms
    s(1500, 0, 6, bad), // lost again: second episode, open at the end
    s(100, 1, 0, bad), // flow 1: lost, never routed around
    s(200, 2, 0, good), // flow 2: never attacked
  ].sort((x, y) => x.t - y.t)
  const delivered = (flow: number, seq: number) => !(flow === 0 && seq !== 1 && seq !== 0 && seq !== 5) && flow !== 1
  const eps = routeAroundEpisodes(sends, delivered, adv)
  assert.equal(eps.map((e) => [e.flow, e.startMs, e.ms]), [[1, 100, null], [0, 500, 750], [0, 1500, null]])
  const sum = summariseRouteAround(sends, delivered, adv)
  assert.equal([sum.flows, sum.attacked, sum.routedAround, sum.notRoutedAround, sum.medianMs, sum.p90Ms], [3, 2, 1, 1, 750, 750])
  assert.equal(sum.episodes, { total: 3, closed: 1, medianMs: 750, p90Ms: 750 })
  assert.equal(sum.perFlow.map((e) => e.flow), [0, 1])
})

test('quantiles interpolate (R type 7); none gives null', () => {
  assert.is(quantileOf([], 0.5), null)
  assert.is(quantileOf([1, 2, 3, 4], 0.5), 2.5)
  assert.is(quantileOf([0, 10], 0.9), 9)
})

test('an instrumented run: the same numbers as a plain one, convictions and frames agree with the counters', () => {
  const sc = parseScenario(TINY, [], 'tiny')
  const plain = runScenario(sc, { seed: 2 })
  const sim = buildSimulation(sc, { seed: 2 })
  instrumentOdsbr(sim)
  const r = runSimulation(sim)
  assert.equal(r.delivery, plain.delivery, 'instrumentation only reads')
  assert.equal(r.counters, plain.counters)
  const p = plain.odsbr!
  assert.is(p.instrumented, false)
  assert.equal([p.convictions, p.routeAround, p.overhead], [null, null, null])
  const o = r.odsbr!
  assert.is(o.instrumented, true)
  assert.equal(o.weightListsAtEnd, p.weightListsAtEnd)
  assert.ok(o.convictions!.total > 0, 'this seed convicts links')
  assert.is(o.convictions!.detection.total, o.counters.convictions)
  assert.is(o.convictions!.true + o.convictions!.false, o.convictions!.total)
  assert.is(o.overhead!.requests.frames, o.counters.requestsSent + o.counters.requestsForwarded)
  assert.is(o.overhead!.responses.frames, o.counters.responsesSent + o.counters.responsesForwarded)
  assert.ok(o.overhead!.signatures.count >= o.overhead!.requests.frames + 2 * o.overhead!.responses.frames - o.counters.responsesSent)
  assert.ok(o.routeAround!.flows === 3 && o.routeAround!.attacked >= 1)
  assert.ok(o.overhead!.data.headerBytes > 0 && o.overhead!.data.headerBytes < o.overhead!.data.bytes)
})

test('no odsbr section for other protocols', () => {
  const r = runScenario(parseScenario(TINY, ['protocol=aodv', 'duration=5'], 'tiny'), { seed: 1 })
  assert.is(r.odsbr, undefined)
})

test.run()
