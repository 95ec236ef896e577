import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runJob, runPool, RunJobError } from './run-pool.ts'

// A 5-node chain flooded for 5 s: a run takes milliseconds, so the cost is the workers' start-up.
const text = `
name: pool-flood
duration: 5
protocol: flood
nodes: { count: 5, placement: explicit, positions: [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0]] }
field: { width: 400, height: 10 }
radio: { range: 150 }
traffic: [{ pattern: broadcast, from: 1, start: 1, stop: 4, rate: 2, size: 20 }]
`

const strip = <T extends { wallSeconds: number }>(r: T) => ({ ...r, wallSeconds: 0 })

test('two jobs on two workers return the in-process results, in job order', async () => {
  const jobs = [
    { file: 'pool.yaml', text, seed: 2, sets: ['radio.loss=0.3'] },
    { file: 'pool.yaml', text, seed: 1 },
  ]
  const started: number[] = []
  const finished: number[] = []
  const results = await runPool(jobs, {
    workers: 2,
    onStart: (i) => started.push(i),
    onDone: (i, _r, done, total) => {
      finished.push(i)
      assert.is(total, 2)
      assert.ok(done >= 1 && done <= 2)
    },
  })
  assert.equal(started, [0, 1])
  assert.equal([...finished].sort(), [0, 1])
  assert.equal(results.map((r) => r.seed), [2, 1])
  assert.equal(results.map(strip), jobs.map((j) => strip(runJob(j))))
})

test('one worker runs several jobs in turn', async () => {
  const results = await runPool([1, 2, 3].map((seed) => ({ file: 'pool.yaml', text, seed })), { workers: 1 })
  assert.equal(results.map((r) => r.seed), [1, 2, 3])
  assert.equal(await runPool([]), [])
})

test('a failing job names itself and the reason', async () => {
  try {
    await runPool([
      { file: 'pool.yaml', text, seed: 1 },
      { file: 'pool.yaml', text, seed: 1, sets: ['radio.range=-5'] },
    ], { workers: 2 })
    assert.unreachable()
  } catch (e) {
    assert.instance(e, RunJobError)
    const err = e as RunJobError
    assert.is(err.index, 1)
    assert.match(err.message, /run 2 \(pool\.yaml --set radio\.range=-5 seed 1\) failed: ConfigError: radio\.range/)
  }
})

test.run()
