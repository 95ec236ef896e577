import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { BROADCAST } from '../core/addr.ts'
import { Reassembler, encodeDatagram, fragmentCount, splitDatagram } from './fragment.ts'
import { MAX_FRAGMENTS, decodeLinkFrame } from './link-frame.ts'

function setup(o: { maxDatagram?: number; maxReassemblies?: number; timeoutMs?: number } = {}) {
  const scheduler = new SimScheduler()
  const metrics = new MetricsRegistry()
  const scope = metrics.scope('link', 1)
  const r = new Reassembler({
    scheduler,
    maxDatagram: o.maxDatagram ?? 4096,
    maxReassemblies: o.maxReassemblies ?? 4,
    timeoutMs: o.timeoutMs ?? 1000,
    metrics: scope,
  })
  return { scheduler, r, count: (n: string) => metrics.value('link', 1, n) }
}

test('splitDatagram: equal chunks but the last, views not copies', () => {
  const p = Uint8Array.from({ length: 25 }, (_, i) => i)
  const parts = splitDatagram(p, 10)
  assert.equal(parts.map((x) => x.length), [10, 10, 5])
  assert.is(parts[1].buffer, p.buffer)
  assert.equal(splitDatagram(new Uint8Array(0), 10).map((x) => x.length), [0])
  assert.throws(() => splitDatagram(new Uint8Array(MAX_FRAGMENTS * 2 + 1), 2), RangeError)
})

test('property: any payload, any chunk size, fragments shuffled and duplicated → the exact payload, once', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 4096 }), fc.integer({ min: 1, max: 1500 }), fc.nat(), (payload, chunkWanted, seed) => {
      const chunk = Math.max(chunkWanted, Math.ceil(payload.length / MAX_FRAGMENTS))
      const parts = splitDatagram(payload, chunk)
      fc.pre(parts.length >= 2)
      const { r, scheduler } = setup({ maxDatagram: 4096 })
      const rng = new SeededRng(seed)
      const offers = parts.map((p, i) => ({ p, i }))
      for (let k = rng.int(parts.length + 1); k > 0; k--) offers.push(offers[rng.int(parts.length)])
      rng.shuffle(offers)
      const done: Uint8Array[] = []
      for (const { p, i } of offers) {
        const out = r.add(42, i, parts.length, 7, p)
        if (out) {
          assert.is(out.proto, 7)
          done.push(out.payload)
        }
      }
      assert.is(done.length, 1)
      assert.equal([...done[0]], [...payload])
      assert.is(r.size, 0, 'buffer freed')
      assert.is(scheduler.pending, 0, 'timer cancelled')
    }),
    { seed: 21, numRuns: 200 },
  )
})

test('property, on the wire: random datagram ≤ maxDatagram, random MTU and first seq (wrapping), frames shuffled and duplicated → exact payload once, keyed by seq − index', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 4096 }),
      fc.integer({ min: 15, max: 1500 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.boolean(),
      fc.nat(),
      (payload, mtu, firstSeq, bcast, seed) => {
        const dst = bcast ? BROADCAST : 9
        fc.pre(fragmentCount(payload.length, mtu, bcast) <= MAX_FRAGMENTS)
        const frames = encodeDatagram(3, dst, firstSeq, !bcast, 42, payload, mtu)
        assert.is(frames.length, fragmentCount(payload.length, mtu, bcast))
        for (const f of frames) assert.ok(f.length <= mtu, 'every frame fits the MTU')
        const { r } = setup({ maxDatagram: 4096 })
        const rng = new SeededRng(seed)
        const order = frames.map((_, i) => i)
        for (let k = rng.int(frames.length + 1); k > 0; k--) order.push(rng.int(frames.length))
        rng.shuffle(order)
        const out: Uint8Array[] = []
        for (const i of order) {
          const fr = decodeLinkFrame(frames[i])
          assert.is(fr.kind, 'data')
          if (fr.kind !== 'data') return
          if (!fr.frag) {
            out.push(fr.payload)
            continue
          }
          const done = r.add((fr.seq - fr.frag.index) & 0xffff, fr.frag.index, fr.frag.count, fr.proto, fr.payload)
          if (done) out.push(done.payload)
        }
        if (frames.length === 1) return
        assert.is(out.length, 1)
        assert.equal([...out[0]], [...payload])
      },
    ),
    { seed: 23, numRuns: 200 },
  )
})

test('a missing fragment: the partial datagram times out, its buffer is freed and counted', () => {
  const { r, scheduler, count } = setup({ timeoutMs: 500 })
  const parts = splitDatagram(new Uint8Array(30).fill(1), 10)
  assert.is(r.add(1, 0, 3, 1, parts[0]), null)
  assert.is(r.add(1, 2, 3, 1, parts[2]), null)
  assert.is(r.size, 1)
  assert.is(r.bytesHeld, 20)
  scheduler.run({ until: 400 })
  assert.is(r.size, 1)
  scheduler.run()
  assert.is(r.size, 0)
  assert.is(count('reassemblyTimeouts'), 1)
  assert.is(scheduler.pending, 0, 'no timer left behind')
})

test('the timeout is an inactivity timeout: each new fragment restarts it', () => {
  const { r, scheduler } = setup({ timeoutMs: 500 })
  const parts = splitDatagram(new Uint8Array(40).fill(2), 10)
  r.add(1, 0, 4, 1, parts[0])
  scheduler.run({ until: 400 })
  r.add(1, 1, 4, 1, parts[1])
  scheduler.run({ until: 800 })
  r.add(1, 2, 4, 1, parts[2])
  scheduler.run({ until: 1200 })
  const out = r.add(1, 3, 4, 1, parts[3])
  assert.ok(out)
  assert.is(scheduler.pending, 0)
})

test('inconsistent fragments drop the whole partial datagram', () => {
  const { r, count } = setup()
  const ten = new Uint8Array(10)
  r.add(1, 0, 3, 1, ten)
  assert.is(r.add(1, 1, 4, 1, ten), null, 'other count')
  assert.is(r.size, 0)
  r.add(2, 0, 3, 1, ten)
  r.add(2, 1, 3, 9, ten) // other protocol
  assert.is(r.size, 0)
  r.add(3, 0, 3, 1, ten)
  r.add(3, 1, 3, 1, new Uint8Array(9)) // non-last of another size
  assert.is(r.size, 0)
  r.add(4, 0, 3, 1, ten)
  r.add(4, 2, 3, 1, new Uint8Array(11)) // last longer than the others
  assert.is(r.size, 0)
  r.add(5, 2, 3, 1, new Uint8Array(8))
  r.add(5, 0, 3, 1, new Uint8Array(7)) // a non-last shorter than the last already seen
  assert.is(r.size, 0)
  assert.is(count('reassemblyErrors'), 5)
})

test('a datagram claiming more than maxDatagram is refused before anything is buffered', () => {
  const { r, count } = setup({ maxDatagram: 100 })
  assert.is(r.add(1, 0, 11, 1, new Uint8Array(10)), null)
  assert.is(r.size, 0)
  assert.is(count('reassemblyErrors'), 1)
  // The last fragment first: the size is only known later, and still enforced.
  r.add(2, 10, 11, 1, new Uint8Array(5))
  assert.is(r.size, 1)
  r.add(2, 0, 11, 1, new Uint8Array(10))
  assert.is(r.size, 0)
  assert.is(count('reassemblyErrors'), 2)
})

test('bounded under a flood of bogus fragments: at most maxReassemblies buffers of at most maxDatagram', () => {
  const { r, scheduler, count } = setup({ maxDatagram: 2000, maxReassemblies: 8, timeoutMs: 1000 })
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ key: fc.nat({ max: 200 }), index: fc.nat({ max: 300 }), count: fc.nat({ max: 300 }), proto: fc.nat({ max: 3 }), data: fc.uint8Array({ maxLength: 300 }) }),
        { maxLength: 200 },
      ),
      (frags) => {
        for (const f of frags) {
          r.add(f.key, f.index, f.count, f.proto, f.data)
          assert.ok(r.size <= 8)
          assert.ok(r.bytesHeld <= 8 * 2000)
        }
      },
    ),
    { seed: 22, numRuns: 100 },
  )
  assert.ok(count('reassemblyEvictions') > 0)
  scheduler.run()
  assert.is(r.size, 0, 'everything left times out')
  r.add(1, 0, 2, 1, new Uint8Array(3))
  r.close()
  assert.is(r.size, 0)
  assert.is(scheduler.pending, 0)
})

test.run()
