import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../core/errors.ts'
import { SeededRng } from '../core/rng.ts'
import { assignAdversaries } from './adversaries.ts'

const pkt = { origin: 1, dst: 2, seq: 0, hops: 1, payload: new Uint8Array(6) }

test('a fraction of non-endpoint nodes is chosen, deterministically', () => {
  const trusted = new Set([1, 2, 3])
  const a = assignAdversaries([{ model: 'blackhole', fraction: 0.2, dropProbability: 0.5 }], 20, trusted, new SeededRng(4))
  const b = assignAdversaries([{ model: 'blackhole', fraction: 0.2, dropProbability: 0.5 }], 20, trusted, new SeededRng(4))
  assert.equal([...a.keys()], [...b.keys()])
  assert.is(a.size, 4)
  for (const id of a.keys()) assert.not.ok(trusted.has(id))
  for (const beh of a.values()) assert.not.ok(beh.forwardFilter(pkt))
})

test('a grey hole drops about its drop probability', () => {
  const m = assignAdversaries([{ model: 'greyhole', nodes: [7], dropProbability: 0.3 }], 10, new Set(), new SeededRng(1))
  const g = m.get(7)!
  let forwarded = 0
  for (let i = 0; i < 10_000; i++) if (g.forwardFilter(pkt)) forwarded++
  assert.ok(Math.abs(forwarded / 10_000 - 0.7) < 0.02, `forwarded ${forwarded}`)
})

test('impossible or unavailable requests are ConfigErrors naming the field', () => {
  const err = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      assert.instance(e, ConfigError)
      return (e as ConfigError).path
    }
    assert.unreachable()
  }
  assert.is(err(() => assignAdversaries([{ model: 'wormhole', fraction: 0.1, dropProbability: 0.5 }], 10, new Set(), new SeededRng(1))), 'adversaries.0.model')
  assert.is(err(() => assignAdversaries([{ model: 'blackhole', nodes: [1], dropProbability: 0.5 }], 10, new Set([1]), new SeededRng(1))), 'adversaries.0.nodes')
  assert.is(err(() => assignAdversaries([{ model: 'blackhole', fraction: 1, dropProbability: 0.5 }], 10, new Set([1]), new SeededRng(1))), 'adversaries.0.fraction')
})

test.run()
