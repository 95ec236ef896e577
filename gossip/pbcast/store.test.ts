import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MetricsRegistry } from '../../core/metrics.ts'
import { MAX_SKIP_EVENTS_PER_GAP, MessageStore, type StoreConfig, type StoreEvent } from './store.ts'

const BASE: StoreConfig = { gcRounds: 10, maxStoreMessages: 100, dedupWindow: 64, joinBackfill: 8, maxStreams: 16 }

function setup(c: Partial<StoreConfig> = {}, wants: (o: number, s: number, q: number) => boolean = () => true) {
  const reg = new MetricsRegistry()
  const store = new MessageStore({ config: { ...BASE, ...c }, wants, metrics: reg.scope('pbcast') })
  const log: string[] = []
  const record = (out: StoreEvent[]): void => {
    for (const e of out) log.push(e.type === 'deliver' ? `d${e.message.meta.seq}` : `s${e.id.seq}`)
  }
  /** Add (origin 1, stream 0, seq) originated in round `origin`, arrived in round `at`. */
  const add = (seq: number, origin = 0, at = origin, o = 1, stream = 0): string => {
    const out: StoreEvent[] = []
    const r = store.add({ meta: { origin: o, stream, seq, ts: origin * 100, key: 1 }, body: Uint8Array.of(seq & 255), originRound: origin, heldRound: at, via: 'first' }, out)
    record(out)
    return r
  }
  const tick = (round: number): void => {
    const out: StoreEvent[] = []
    store.tick(round, out)
    record(out)
  }
  const count = (name: string): number => reg.value('pbcast', '-', name)
  return { store, log, add, tick, count }
}

test('FIFO per (origin, stream): out-of-order arrivals wait for the gap; pairs are independent', () => {
  const { log, add } = setup()
  add(0)
  add(2)
  add(0, 0, 0, 2) // another origin: delivered at once
  assert.equal(log, ['d0', 'd0'])
  add(1)
  assert.equal(log, ['d0', 'd0', 'd1', 'd2'])
})

test('duplicates: held, or behind the cursor even after GC', () => {
  const { store, add, tick, count } = setup()
  assert.is(add(0), 'new')
  assert.is(add(0), 'duplicate')
  tick(10)
  assert.is(store.size, 0)
  assert.is(store.get(1, 0, 0), undefined)
  assert.not.ok(store.lacks(1, 0, 0), 'delivered and collected: still not lacking')
  assert.is(add(0), 'duplicate')
  assert.is(count('duplicates'), 2)
  assert.ok(store.lacks(1, 0, 1))
  assert.ok(store.lacks(1, 1, 0), 'a stream never heard')
})

test('GC: a message is held while its age is below gcRounds', () => {
  const { store, add, tick, count } = setup()
  add(0, 3, 5)
  tick(12)
  assert.ok(store.get(1, 0, 0))
  tick(13)
  assert.is(store.get(1, 0, 0), undefined)
  assert.is(count('gcCollected'), 1)
})

test('a wanted seq still missing when a later seq is gcRounds old is skipped, and FIFO goes on', () => {
  const { store, log, add, tick, count } = setup()
  add(0, 0)
  add(3, 1)
  add(2, 2)
  assert.equal(log, ['d0'])
  tick(10)
  assert.equal(log, ['d0'], 'seq 3 is only 9 rounds old')
  tick(11)
  assert.equal(log, ['d0', 's1', 'd2', 'd3'], 'seq 3 reached the horizon: 1 is skipped, 2 and 3 delivered in order')
  assert.is(count('skipped'), 1)
  assert.is(store.cursor(1, 0), 4)
  add(4, 11)
  assert.equal(log.at(-1), 'd4')
  assert.is(add(1, 11), 'duplicate', 'a skipped seq arriving late is not delivered')
})

test('seqs the member does not want are not waited for', () => {
  const { log, add, tick, count } = setup({}, (_o, _s, seq) => seq % 3 === 0)
  add(0)
  add(6)
  assert.equal(log, ['d0'], 'seq 3 is wanted and missing')
  add(3)
  assert.equal(log, ['d0', 'd3', 'd6'], '1, 2, 4, 5 passed without waiting')
  add(12, 1)
  tick(11)
  assert.equal(log.slice(3), ['s9', 'd12'], 'only wanted seqs are reported skipped')
  assert.is(count('skipped'), 1)
})

test('join: the seqs before the first one heard are waited for, then passed silently', () => {
  const { log, add, tick, count, store } = setup({ joinBackfill: 3 })
  add(10, 0)
  assert.is(store.cursor(1, 0), 7)
  add(8, 0)
  assert.equal(log, [])
  tick(10)
  assert.equal(log, ['d8', 'd10'], '7 and 9 were before the first seq heard: passed silently')
  assert.is(count('beforeJoin'), 2)
  assert.is(count('skipped'), 0)
  add(12, 1)
  tick(11)
  assert.equal(log, ['d8', 'd10', 's11', 'd12'], 'after the join a missing seq is skipped and reported')
  const zero = setup({ joinBackfill: 0 })
  zero.add(10)
  assert.equal(zero.log, ['d10'], 'joinBackfill 0: the cursor starts at the first seq heard')
  assert.is(zero.add(9), 'duplicate')
})

test('restart: an arrival further behind the cursor than dedupWindow starts the stream again', () => {
  const { log, add, count, store } = setup({ dedupWindow: 16, joinBackfill: 0 })
  add(100)
  add(102)
  assert.is(add(90), 'duplicate')
  assert.is(add(0, 1), 'new')
  assert.equal(log, ['d100', 's101', 'd102', 'd0'], 'what was pending is delivered before the restart')
  assert.is(count('restarts'), 1)
  assert.is(store.cursor(1, 0), 1)
})

test('a gap wider than dedupWindow is passed in bulk, only its last dedupWindow seqs examined', () => {
  const { log, add, tick, count } = setup({ dedupWindow: 4, joinBackfill: 0 })
  add(0)
  add(100)
  tick(10)
  assert.equal(log, ['d0', 's96', 's97', 's98', 's99', 'd100'])
  assert.is(count('skippedBulk'), 95)
})

test('cap: the oldest message is dropped first, an undelivered one delivered first', () => {
  const { store, log, add, count } = setup({ maxStoreMessages: 3 })
  add(0, 5)
  add(2, 1) // oldest, waiting for 1
  add(3, 6)
  assert.equal(log, ['d0'])
  add(0, 7, 7, 2)
  assert.is(store.size, 3)
  assert.is(count('storeEvictions'), 1)
  assert.equal(log, ['d0', 'd0', 's1', 'd2', 'd3'], 'evicting seq 2 delivered it (skipping 1), then 3 followed')
  assert.is(store.get(1, 0, 2), undefined)
  assert.ok(store.get(1, 0, 0))
  assert.is(store.evicted, 1)
})

test('maxStreams: the least recently heard pair is forgotten', () => {
  const { store, add, count } = setup({ maxStreams: 2 })
  add(0, 0, 0, 1)
  add(0, 0, 0, 2)
  add(1, 0, 0, 1) // origin 1 heard again: origin 2 is now the oldest
  add(0, 0, 0, 3)
  assert.is(store.streams, 2)
  assert.is(store.cursor(2, 0), undefined)
  assert.is(store.cursor(1, 0), 2)
  assert.is(count('streamEvictions'), 1)
  assert.is(store.size, 3)
})

test('a message held but not wanted (an origin outside its audience) is never delivered', () => {
  const { store, log } = setup()
  const out: StoreEvent[] = []
  store.add({ meta: { origin: 1, stream: 0, seq: 0, ts: 0, key: 0.5 }, body: new Uint8Array(), originRound: 0, heldRound: 0, via: 'first', wanted: false }, out)
  assert.equal(out, [])
  assert.ok(store.get(1, 0, 0))
  assert.equal(log, [])
  assert.equal([...store.messages()].length, 1)
})

test('an origin that restarts after a silence longer than 2·gcRounds is a new stream, even within the dedup window', () => {
  const { log, add, tick, count } = setup()
  for (let q = 0; q < 30; q++) add(q, 0, 0)
  tick(11)
  log.length = 0
  // 60 rounds later the origin restarted: seq 0 again, 30 behind the cursor (window 64).
  for (let q = 0; q < 5; q++) add(q, 60, 60)
  assert.equal(log, ['d0', 'd1', 'd2', 'd3', 'd4'])
  assert.is(count('restarts'), 1)
  // A late copy within 2·gcRounds of the last arrival is still a duplicate.
  assert.is(add(1, 60, 61), 'duplicate')
})

test('a huge gap (a long outage or a forged seq far ahead) emits at most MAX_SKIP_EVENTS_PER_GAP skip events', () => {
  const { log, add, tick, count } = setup({ dedupWindow: 1_000_000 })
  add(0, 0, 0)
  add(100_000, 0, 0)
  tick(10)
  const skips = log.filter((e) => e.startsWith('s')).length
  assert.is(skips, MAX_SKIP_EVENTS_PER_GAP)
  assert.is(count('skipped'), MAX_SKIP_EVENTS_PER_GAP)
  assert.is(count('skippedBulk'), 100_000 - 1 - MAX_SKIP_EVENTS_PER_GAP)
  assert.equal(log.at(-1), 'd100000')
})

test.run()
