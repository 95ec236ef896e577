import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ErrorCodes, SpinmeshError } from '../../core/errors.ts'
import { validateOdsbrConfig } from './odsbr-defaults.ts'
import { linkKey, type LinkKey } from './odsbr-types.ts'
import { LinkWeights, listWeight, pathWeight, type WeightEntry } from './weights.ts'

const cfg = validateOdsbrConfig({}) // τ = 0.1, base 1, max 1024
const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-6, `${msg ?? ''} expected ${b}, got ${a}`)
const throwsCode = (fn: () => unknown, code: string) => {
  try { fn() } catch (e) { assert.ok(e instanceof SpinmeshError && e.code === code, String(e)); return }
  assert.unreachable('expected a throw')
}

test('weights: an unknown link has base weight; conviction doubles it and caps at maxLinkWeight', () => {
  const w = new LinkWeights(validateOdsbrConfig({ baseLinkWeight: 1, maxLinkWeight: 8 }))
  const l = linkKey(3, 2)
  assert.is(w.weight(l), 1)
  assert.equal([1, 1, 1, 1, 1].map(() => w.convict(l, 1)), [2, 4, 8, 8, 8])
  assert.is(w.weight(l), 8)
  assert.is(w.weight(linkKey(2, 4)), 1)
  const b = new LinkWeights(validateOdsbrConfig({ baseLinkWeight: 3, maxLinkWeight: 20 }))
  assert.equal([1, 1, 1, 1].map(() => b.convict(l, 1)), [6, 12, 20, 20])
})

test('weights: the counter grows by μ/τ per conviction', () => {
  const w = new LinkWeights(cfg)
  const l = linkKey(1, 2)
  w.convict(l, 5)
  near(w.counter(l), 50)
  w.convict(l, 3)
  near(w.counter(l), 80)
  assert.is(w.counter(linkKey(1, 3)), 0)
})

test('weights: a good packet drains each non-zero counter by 1/m; at zero the weight halves back to base', () => {
  const w = new LinkWeights(cfg)
  const a = linkKey(1, 2), b = linkKey(2, 3)
  w.convict(a, 1) // counter 10, weight 2
  w.convict(b, 2) // counter 20, weight 2
  w.goodPacket()
  near(w.counter(a), 9.5)
  near(w.counter(b), 19.5)
  for (let i = 0; i < 18; i++) w.goodPacket() // 19 packets × 1/2
  assert.is(w.weight(a), 2, 'a not yet drained')
  w.goodPacket() // 20 × 1/2 = 10: a reaches zero
  assert.is(w.counter(a), 0)
  assert.is(w.weight(a), 1, 'halved back to base')
  assert.is(w.size, 1, 'a forgotten at zero')
  near(w.counter(b), 10)
  for (let i = 0; i < 9; i++) w.goodPacket() // now m = 1: 1 per packet
  near(w.counter(b), 1)
  assert.is(w.weight(b), 2)
  w.goodPacket()
  assert.is(w.weight(b), 1)
  assert.is(w.size, 0)
  w.goodPacket() // nothing tracked: no-op
  assert.is(w.size, 0)
})

test('weights: each conviction share halves once when drained; never below base', () => {
  const w = new LinkWeights(validateOdsbrConfig({ lossThreshold: 0.5, maxLinkWeight: 4 }))
  const l = linkKey(5, 9)
  w.convict(l, 1) // share 2, weight 2
  w.convict(l, 1) // share 2, weight 4
  w.convict(l, 1) // capped: adds 2 to the newest share, weight 4
  near(w.counter(l), 6)
  const seen: number[] = []
  for (let i = 0; i < 7; i++) { w.goodPacket(); seen.push(w.weight(l)) }
  assert.equal(seen, [4, 2, 2, 2, 2, 1, 1], "shares [2, 2+2]: halves after 2 and after 6 good packets")
  assert.is(w.size, 0)
})

test('weights: list() is heaviest first, ties most recently convicted first, only above base, capped', () => {
  const w = new LinkWeights(cfg)
  const a = linkKey(1, 2), b = linkKey(4, 3), c = linkKey(5, 6), d = linkKey(7, 8)
  w.convict(a, 1)
  w.convict(b, 1); w.convict(b, 1) // 4
  w.convict(c, 1)
  w.convict(d, 1)
  assert.equal(w.list(10), [
    { a: 3, b: 4, weight: 4 },
    { a: 7, b: 8, weight: 2 },
    { a: 5, b: 6, weight: 2 },
    { a: 1, b: 2, weight: 2 },
  ])
  assert.equal(w.list(2), [{ a: 3, b: 4, weight: 4 }, { a: 7, b: 8, weight: 2 }])
  assert.equal(w.list(0), [])
  // base == max: convictions count (counters) but no link is above base, so nothing is listed
  const flat = new LinkWeights(validateOdsbrConfig({ baseLinkWeight: 2, maxLinkWeight: 2 }))
  assert.is(flat.convict(a, 1), 2)
  assert.is(flat.size, 1)
  assert.equal(flat.list(5), [])
  throwsCode(() => w.list(-1), ErrorCodes.INVALID_ARGUMENT)
})

test('weights: listWeight and pathWeight use the list, base otherwise, either endpoint order', () => {
  const list: WeightEntry[] = [{ a: 2, b: 3, weight: 8 }, { a: 4, b: 5, weight: 2 }]
  assert.is(listWeight(list, 2, 3, 1), 8)
  assert.is(listWeight(list, 3, 2, 1), 8)
  assert.is(listWeight(list, 1, 2, 1), 1)
  assert.is(listWeight([], 1, 2, 3), 3)
  assert.is(pathWeight(list, [1, 2, 3, 4, 5], 1), 1 + 8 + 1 + 2)
  assert.is(pathWeight(list, [5, 4], 1), 2)
  assert.is(pathWeight(list, [7], 1), 0)
  // a source's own list gives what discovery computes
  const w = new LinkWeights(cfg)
  w.convict(linkKey(2, 3), 1); w.convict(linkKey(2, 3), 1)
  assert.is(pathWeight(w.list(cfg.maxWeightListEntries), [1, 2, 3, 4], cfg.baseLinkWeight), 1 + 4 + 1)
})

test('weights: size is bounded; the lightest, least recently convicted link is evicted', () => {
  const w = new LinkWeights(cfg, 3)
  const a = linkKey(1, 2), b = linkKey(2, 3), c = linkKey(3, 4), d = linkKey(4, 5)
  w.convict(a, 1); w.convict(a, 1) // 4
  w.convict(b, 1) // 2
  w.convict(c, 1) // 2, newer than b
  w.convict(d, 1) // evicts b
  assert.is(w.size, 3)
  assert.is(w.weight(b), 1)
  assert.is(w.counter(b), 0)
  assert.equal([w.weight(a), w.weight(c), w.weight(d)], [4, 2, 2])
  throwsCode(() => new LinkWeights(cfg, 0), ErrorCodes.INVALID_ARGUMENT)
})

test('weights: bad μ is refused', () => {
  const w = new LinkWeights(cfg)
  for (const bad of [0, -1, Number.NaN, Infinity]) throwsCode(() => w.convict(linkKey(1, 2), bad), ErrorCodes.INVALID_ARGUMENT)
  assert.is(w.size, 0)
})

test('weights: property: random convictions and good packets keep the invariants', () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('convict' as const), a: fc.integer({ min: 1, max: 6 }), b: fc.integer({ min: 7, max: 9 }), mu: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant('good' as const), n: fc.integer({ min: 1, max: 200 }) }),
  )
  fc.assert(fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (steps, maxLinks) => {
    const config = validateOdsbrConfig({ maxLinkWeight: 64 })
    const w = new LinkWeights(config, maxLinks)
    const keys = new Set<LinkKey>()
    for (const s of steps) {
      if (s.kind === 'convict') { keys.add(linkKey(s.a, s.b)); w.convict(linkKey(s.a, s.b), s.mu) } else {
        for (let i = 0; i < s.n; i++) w.goodPacket()
      }
      assert.ok(w.size <= maxLinks)
      const list = w.list(100)
      for (const e of list) {
        assert.ok(e.a < e.b && e.weight > 1 && e.weight <= 64)
        assert.ok(w.counter(linkKey(e.a, e.b)) > 0, 'a heavy link owes good packets')
      }
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].weight >= list[i].weight)
    }
    // Every good packet drains the total counter by 1 (m links × 1/m): enough of them rehabilitate all.
    let total = 0
    for (const k of keys) total += w.counter(k)
    for (let i = 0; i < Math.ceil(total) + 1; i++) w.goodPacket()
    assert.is(w.size, 0)
    for (const k of keys) assert.is(w.weight(k), 1)
  }), { seed: 6, numRuns: 200 })
})

test.run()
