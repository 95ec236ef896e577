import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium } from '../hardware/mock-radio.ts'
import { seqDiff16 } from '../core/bytes.ts'
import { LinkLayer } from './link.ts'
import { decodeLinkFrame } from './link-frame.ts'
import type { NeighbourInfo } from './link-types.ts'
import { NeighbourTable } from './neighbours.ts'

function table(o: Partial<{ expiryFloorMs: number; allowedBeaconLoss: number; qualityWindow: number; rssiAlpha: number; maxNeighbours: number }> = {}) {
  const scheduler = new SimScheduler()
  const log: string[] = []
  const t = new NeighbourTable({
    scheduler,
    expiryFloorMs: o.expiryFloorMs ?? 1000,
    allowedBeaconLoss: o.allowedBeaconLoss ?? 2,
    qualityWindow: o.qualityWindow ?? 8,
    rssiAlpha: o.rssiAlpha ?? 0.5,
    maxNeighbours: o.maxNeighbours ?? 10,
    onUp: (n) => log.push(`up ${n.addr} @${scheduler.now()}`),
    onDown: (n, why) => log.push(`down ${n.addr} ${why} @${scheduler.now()}`),
  })
  return { scheduler, t, log }
}

test('any frame makes a neighbour; it expires after the floor when it does not beacon', () => {
  const { scheduler, t, log } = table({ expiryFloorMs: 1000 })
  t.heard(5, 0)
  scheduler.run({ until: 600 })
  t.heard(5, 600)
  scheduler.run()
  assert.equal(log, ['up 5 @0', 'down 5 expired @1600'])
  assert.is(t.size, 0)
  assert.is(scheduler.pending, 0)
})

test('a beaconing neighbour expires (allowedBeaconLoss + 1.5) × its interval after last heard', () => {
  const { scheduler, t, log } = table({ expiryFloorMs: 100, allowedBeaconLoss: 2 })
  t.heard(3, 0)
  t.beacon(3, 10, 1000, 0)
  scheduler.run()
  assert.equal(log, ['up 3 @0', 'down 3 expired @3500'])
})

test('RSSI and SNR are exponentially weighted averages', () => {
  const { t } = table({ rssiAlpha: 0.5 })
  t.heard(1, 0, -80, 4)
  t.heard(1, 1, -60, 8)
  t.heard(1, 2, -60)
  const n = t.get(1, 2)!
  assert.is(n.rssi, -65)
  assert.is(n.snr, 6)
  t.heard(2, 0)
  assert.is(t.get(2, 0)!.rssi, undefined, 'no RSSI from the radio: none reported')
})

test('quality: share of expected beacons heard over the window, overdue beacons count as missed', () => {
  const { t } = table({ qualityWindow: 8 })
  t.heard(1, 0)
  assert.is(t.get(1, 0)!.quality, 1, 'never beaconed: no evidence, 1')
  // Beacons 100..107 at 1 s, every other one lost.
  for (const s of [100, 102, 104, 106]) {
    t.heard(1, (s - 100) * 1000)
    t.beacon(1, s, 1000, (s - 100) * 1000)
  }
  assert.is(t.get(1, 6000)!.quality, 4 / 7, '4 heard of 7 slots seen so far')
  t.heard(1, 7000)
  t.beacon(1, 107, 1000, 7000)
  assert.is(t.get(1, 7000)!.quality, 5 / 8)
  // Silent since: at 9.6 s two beacons are overdue (with half an interval of grace).
  assert.is(t.get(1, 9600)!.quality, 4 / 8, 'the two oldest slots (100 heard, 101 lost) slid out, two missed slid in')
  assert.is(t.get(1, 7400)!.quality, 5 / 8, 'within the grace period nothing is overdue')
  // A duplicate beacon changes nothing; a restarted counter starts over.
  t.beacon(1, 107, 1000, 7100)
  assert.is(t.get(1, 7100)!.quality, 5 / 8)
  t.beacon(1, 3, 1000, 8000)
  assert.is(t.get(1, 8000)!.quality, 1)
})

test('list() is sorted by address; the table is bounded (least recently heard evicted)', () => {
  const { t, log } = table({ maxNeighbours: 3 })
  for (const [a, at] of [[9, 0], [4, 1], [7, 2]]) t.heard(a, at)
  t.heard(9, 3)
  assert.equal(t.list(3).map((n) => n.addr), [4, 7, 9])
  t.heard(1, 4)
  assert.equal(t.list(4).map((n) => n.addr), [1, 7, 9])
  assert.ok(log.includes('down 4 evicted @0'))
})

test('over the link: beacons bring neighbours up, quality tracks loss, a cut link goes down', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(17)
  const medium = new MockMedium({ scheduler, explicitLinks: true, loss: 0.2, rng: rng.fork('medium') })
  const metrics = new MetricsRegistry()
  const radios = [1, 2, 3].map((id) => medium.radio({ name: `n${id}` }))
  medium.connect(radios[0], radios[1])
  medium.connect(radios[1], radios[2])
  const events: string[] = []
  const links = radios.map((radio, i) => {
    const l = new LinkLayer({ address: i + 1, radio, scheduler, rng: rng.fork('link', i + 1), metrics: metrics.scope('link', i + 1), config: { beaconIntervalMs: 1000, allowedBeaconLoss: 5 } })
    l.on('neighbour-up', (n: NeighbourInfo) => events.push(`${i + 1}: up ${n.addr}`))
    l.on('neighbour-down', (n: NeighbourInfo) => events.push(`${i + 1}: down ${n.addr} @${Math.round(scheduler.now())}`))
    return l
  })
  // Right after each beacon node 2 hears, its quality must be the share heard of the last 16.
  const heard: Record<number, number[]> = { 1: [], 3: [] }
  let checked = 0
  radios[1].on('frame', (f) => {
    const fr = decodeLinkFrame(f.bytes)
    if (fr.kind !== 'beacon') return
    const seqs = heard[fr.src]
    seqs.push(fr.seq)
    if (seqs.length < 16) return
    const expected = seqs.filter((s) => seqDiff16(fr.seq, s) < 16).length / 16
    const q = links[1].neighbours().find((n) => n.addr === fr.src)!.quality
    assert.is(q, expected, `quality of ${fr.src} at ${f.at}`)
    checked++
  })
  scheduler.run({ until: 60_000 })
  assert.ok(checked > 60)
  assert.equal(links[1].neighbours().map((n) => n.addr), [1, 3])
  assert.equal(links[0].neighbours().map((n) => n.addr), [2])
  for (const n of links[1].neighbours()) {
    assert.ok(n.quality > 0.3 && n.quality < 1, `quality ${n.quality} reflects 20 % loss`)
    assert.is(n.rssi, -60)
  }
  medium.disconnect(radios[1], radios[2])
  const cutAt = scheduler.now()
  scheduler.run({ until: 75_000 })
  assert.equal(links[1].neighbours().map((n) => n.addr), [1])
  const down = events.find((e) => e.startsWith('2: down 3'))!
  const at = Number(down.split('@')[1])
  assert.ok(at > cutAt && at <= cutAt + 6500 + 1250, `down within expiry of the last beacon (${down})`)
  assert.ok(metrics.value('link', 2, 'neighbourUps') >= 2)
  assert.ok(metrics.value('link', 2, 'neighbourDowns') >= 1)
  for (const l of links) l.close()
  scheduler.run()
  assert.is(scheduler.pending, 0)
})

test.run()
