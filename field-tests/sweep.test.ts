import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../core/errors.ts'
import { combinations, median, parseAxis, runSweep, runSweepJobs } from './sweep.ts'
import { formatSweep } from '../cli/sweep.ts'

const text = `
name: sweep-chain
duration: 6
nodes: { count: 3, placement: explicit, positions: [[0, 0], [100, 0], [200, 0]] }
field: { width: 200, height: 10 }
radio: { range: 150 }
traffic: [{ pattern: unicast, from: 1, to: 3, start: 1, stop: 5, rate: 2, size: 20 }]
`

test('axes parse, combine in order, and medians are medians', () => {
  assert.equal(parseAxis('mobility.maxSpeed=1, 5,20'), { key: 'mobility.maxSpeed', values: ['1', '5', '20'] })
  assert.throws(() => parseAxis('novalues='), (e: unknown) => e instanceof ConfigError)
  assert.equal(combinations([parseAxis('a=1,2'), parseAxis('b=x,y')]), [
    { a: '1', b: 'x' }, { a: '1', b: 'y' }, { a: '2', b: 'x' }, { a: '2', b: 'y' },
  ])
  assert.is(median([3, 1, 2]), 2)
  assert.is(median([4, 1, 3, 2]), 2.5)
})

test('a sweep runs every combination for every seed and summarises over seeds', () => {
  const calls: string[] = []
  const rows = runSweep({
    text, file: 'x.yaml', axes: [parseAxis('radio.loss=0,1')], seeds: [1, 2],
    onRun: (i, total, v, seed) => calls.push(`${i}/${total} ${v['radio.loss']} ${seed}`),
  })
  assert.equal(calls, ['0/4 0 1', '1/4 0 2', '2/4 1 1', '3/4 1 2'])
  assert.is(rows.length, 2)
  assert.equal(rows[0].runs.map((r) => r.seed), [1, 2])
  assert.is(rows[0].summary.pdr.median, 1)
  assert.is(rows[1].summary.pdr.median, 0, 'loss 1 delivers nothing')
  assert.is(rows[1].summary.controlPerDelivered, null)
  assert.match(formatSweep(rows), /radio\.loss\s+runs\s+PDR/)
})

test('a bad value in any combination fails before anything runs', () => {
  let ran = 0
  try {
    runSweep({ text, file: 'x.yaml', axes: [parseAxis('radio.range=100,-1')], seeds: [1], onRun: () => ran++ })
    assert.unreachable()
  } catch (e) {
    assert.instance(e, ConfigError)
    assert.is((e as ConfigError).path, 'radio.range')
  }
  assert.is(ran, 0)
})

test('with two jobs the rows are those of the in-process sweep', async () => {
  const o = { text, file: 'x.yaml', axes: [parseAxis('radio.loss=0,0.5')], seeds: [1, 2] }
  const calls: string[] = []
  const par = await runSweepJobs({ ...o, jobs: 2, onRun: (i, total, v, seed) => calls.push(`${i}/${total} ${v['radio.loss']} ${seed}`) })
  assert.equal(calls, ['0/4 0 1', '1/4 0 2', '2/4 0.5 1', '3/4 0.5 2'])
  const seq = runSweep(o)
  const noWall = (rows: typeof seq) => rows.map((r) => ({
    values: r.values,
    runs: r.runs.map((x) => ({ ...x, wallSeconds: 0 })),
    summary: { ...r.summary, wallSeconds: 0 },
  }))
  assert.equal(noWall(par), noWall(seq))
})

test('with several jobs a bad value still fails before anything runs', async () => {
  let ran = 0
  try {
    await runSweepJobs({ text, file: 'x.yaml', axes: [parseAxis('radio.range=100,-1')], seeds: [1], jobs: 2, onRun: () => ran++ })
    assert.unreachable()
  } catch (e) {
    assert.instance(e, ConfigError)
  }
  assert.is(ran, 0)
})

test.run()
