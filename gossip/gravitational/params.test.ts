import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configError } from '../../core/testing.ts'
import { MAX_FANOUT, expectedRounds, gossipParameters, residual } from './params.ts'

const close = (a: number, b: number, eps = 1e-3): void => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`)

test('R(b) = log_{1+b}(n) + ln(n)/b', () => {
  // n = 1000: ln n = 6.9078. b = 1: 9.9658 + 6.9078; b = 2: 6.2877 + 3.4539.
  close(expectedRounds(1000, 1), 16.8736)
  close(expectedRounds(1000, 2), 9.7416)
  close(expectedRounds(1000, 3), 4.9829 + 2.3026)
  assert.is(expectedRounds(1, 3), 0)
  // Residual n^−(c·b − 2) with c·ln n rounds: n = 1000, b = 2, 11 rounds → c = 1.5924 → 1000^−1.1848.
  close(residual(1000, 2, 11), 2.78e-4, 1e-5)
  assert.ok(residual(1000, 2, 11) <= 0.001)
  assert.ok(residual(1000, 2, 10) > 0.001, '10 rounds are not enough at 0.999')
})

test('n = 1000, 100 ms rounds, 1 s deadline, 0.999: fanout 2 (9.74 rounds), gcRounds 11', () => {
  const p = gossipParameters({ groupSize: 1000, timelinessMs: 1000, roundMs: 100, reliability: 0.999, loss: 0 })
  assert.is(p.fanout, 2, 'fanout 1 needs 16.87 rounds = 1,687 ms')
  close(p.expectedRoundsToAll, 9.7416)
  close(p.expectedMs, 974.16, 0.01)
  // c = (2 + ln 1000 / ln 1000)/2 = 1.5; c·ln n = 10.36 → 11.
  close(p.c, 1.5)
  assert.is(p.gcRounds, 11)
  assert.is(p.effectiveFanout, 2)
})

test('loss raises the fanout: 10 % loss → b′ = b·0.729, fanout 3 (b′ 2.187, 9.12 rounds), gcRounds 10', () => {
  const p = gossipParameters({ groupSize: 1000, timelinessMs: 1000, roundMs: 100, reliability: 0.999, loss: 0.1 })
  assert.is(p.fanout, 3)
  close(p.effectiveFanout, 2.187)
  close(p.expectedRoundsToAll, 9.1182)
  // (2·6.9078 + 6.9078)/2.187 = 9.476 → 10 (and ≥ ceil(9.12)).
  assert.is(p.gcRounds, 10)
})

test('tighter deadlines and larger groups need more fanout; fewer rounds are then kept', () => {
  const p = gossipParameters({ groupSize: 1000, timelinessMs: 600, roundMs: 100 })
  assert.is(p.fanout, 5)
  close(p.expectedRoundsToAll, 5.2368)
  assert.is(p.gcRounds, 6, '(13.8155 + 6.9078)/5 = 4.14 → 5, but reaching everyone takes 5.24 → 6')
  const q = gossipParameters({ groupSize: 10_000, timelinessMs: 500, roundMs: 100 })
  assert.is(q.fanout, 10)
  close(q.expectedRoundsToAll, 4.762)
  assert.is(q.gcRounds, 5)
  const small = gossipParameters({ groupSize: 50, timelinessMs: 2000, roundMs: 200, reliability: 0.9999, loss: 0.05 })
  assert.is(small.fanout, 2)
  close(small.effectiveFanout, 1.71475)
  // (2·3.912 + 9.2103)/1.71475 = 9.93 → 10.
  assert.is(small.gcRounds, 10)
  let last = 0
  for (const reliability of [0.9, 0.99, 0.999, 0.9999, 0.999999]) {
    const g = gossipParameters({ groupSize: 1000, timelinessMs: 1000, roundMs: 100, reliability }).gcRounds
    assert.ok(g >= last, `gcRounds grows with reliability: ${g} at ${reliability}`)
    last = g
  }
  assert.is(last, 14, '(13.8155 + 13.8155)/2 = 13.8 → 14')
})

test('tiny groups', () => {
  assert.equal(gossipParameters({ groupSize: 1, timelinessMs: 100, roundMs: 100 }), { fanout: 1, gcRounds: 1, expectedRoundsToAll: 0, expectedMs: 0, effectiveFanout: 1, c: 0 })
  const two = gossipParameters({ groupSize: 2, timelinessMs: 100, roundMs: 100 })
  assert.is(two.fanout, 2, 'fanout 1 needs 1 + 0.69 rounds')
  assert.is(two.gcRounds, 5)
})

test('no fanout ≤ 16 on time: a ConfigError naming timelinessMs and what the fastest needs', () => {
  const e = configError(() => gossipParameters({ groupSize: 10_000, timelinessMs: 200, roundMs: 100 }, 'gravitational'))
  assert.is(e.path, 'gravitational.timelinessMs')
  assert.match(e.message, /no fanout <= 16 reaches 10000 members within 200 ms with 100 ms rounds and 0 % loss: fanout 16 \(effective 16\) needs 3.83 rounds = 383 ms/)
  const lossy = configError(() => gossipParameters({ groupSize: 1000, timelinessMs: 400, roundMs: 100, loss: 0.5 }))
  assert.match(lossy.message, /50 % loss: fanout 16 \(effective 2\) needs 9.74 rounds/)
  assert.is(MAX_FANOUT, 16)
})

test('bad inputs: ConfigError naming the field', () => {
  const base = { groupSize: 100, timelinessMs: 1000, roundMs: 100 }
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...base, groupSize: 0 }, 'gossip.groupSize', />= 1/],
    [{ ...base, groupSize: 10.5 }, 'gossip.groupSize', /integer/],
    [{ ...base, timelinessMs: 0 }, 'gossip.timelinessMs', /> 0/],
    [{ ...base, roundMs: -5 }, 'gossip.roundMs', /> 0/],
    [{ ...base, roundMs: Infinity }, 'gossip.roundMs', /finite/],
    [{ ...base, reliability: 1 }, 'gossip.reliability', /must be < 1/],
    [{ ...base, reliability: 0 }, 'gossip.reliability', /> 0/],
    [{ ...base, loss: 0.95 }, 'gossip.loss', /<= 0.9/],
    [{ ...base, fanout: 3 }, 'gossip.fanout', /unknown field/],
    [{ timelinessMs: 1, roundMs: 1 }, 'gossip.groupSize', /must be a number/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => gossipParameters(input as never))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
})

test.run()
