import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../core/errors.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { RandomWaypoint, ScriptedWaypoints, StaticMobility } from './mobility.ts'
import { placeUniform } from './placement.ts'
import { LORA_SIM_RADIO, type SimRadioConfig } from './sim-defaults.ts'
import { frame, staticField } from './sim-fixtures.ts'
import { SimMedium } from './sim-medium.ts'

const NO_CSMA = { enabled: false, slotMs: 0.02, minWindow: 32, maxWindow: 1024, maxAttempts: 16 }

test('unit disk: heard inside the range, not outside; the interference zone is sensed but not decoded', () => {
  // 250 m range, 550 m interference range (defaults)
  const f = staticField([[0, 0], [249, 0], [251, 0], [540, 0], [560, 0]])
  f.radios[0].send(frame(1))
  f.scheduler.run()
  assert.equal(f.heard.map((h) => h.length), [0, 1, 0, 0, 0])
  assert.ok(f.medium.inRange(1, 2))
  assert.not.ok(f.medium.inRange(1, 3))
  assert.equal(f.medium.neighbours(1), [2])
  // Node 4 (540 m) senses node 1 and defers; node 5 (560 m) does not.
  const f2 = staticField([[0, 0], [540, 0], [560, 0]], { bitrate: 100_000 })
  f2.radios[0].send(frame(1, 1000)) // 80 ms on air
  f2.scheduler.run({ until: 1 })
  f2.radios[1].send(frame(2))
  f2.radios[2].send(frame(3))
  f2.scheduler.run()
  assert.ok(f2.count(2, 'csmaBackoffs') > 0, 'the node within the interference range defers')
  assert.is(f2.count(3, 'csmaBackoffs'), 0, 'the node beyond it does not')
})

test('unit disk: rssi is the log-distance mean power and snr = rssi - noise floor', () => {
  const f = staticField([[0, 0], [100, 0]])
  f.radios[0].send(frame(1))
  f.scheduler.run()
  const rx = f.heard[1][0]
  // 20 dBm - 40.05 dB - 30·log10(100)
  assert.ok(Math.abs(rx.rssi! - (20 - 40.05 - 60)) < 1e-9)
  assert.ok(Math.abs(rx.snr! - (rx.rssi! + 94)) < 1e-9)
})

test('log-distance: near links nearly always heard, far ones never; at the range about half the links are good, each stably', () => {
  const range = 2000
  const ring = (r: number, n: number): Array<[number, number]> =>
    Array.from({ length: n }, (_, k) => [r * Math.cos((2 * Math.PI * k) / n), r * Math.sin((2 * Math.PI * k) / n)])
  const pts: Array<[number, number]> = [[0, 0], ...ring(0.4 * range, 50), ...ring(range, 100), ...ring(3 * range, 50)]
  const f = staticField(pts, { ...LORA_SIM_RADIO, dutyCycle: 1, csma: { ...NO_CSMA } }, 'logd')
  const n = 100
  let k = 0
  const next = () => { if (k < n) f.radios[0].send(frame(k++ & 0xff, 20)) }
  f.radios[0].on('sent', next)
  next()
  f.scheduler.run()
  const rates = f.heard.map((h) => h.length / n)
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const near = rates.slice(1, 51), edge = rates.slice(51, 151), far = rates.slice(151)
  assert.ok(mean(near) > 0.95, `near ${mean(near)}`)
  assert.ok(mean(far) < 0.01, `far ${mean(far)}`)
  const good = edge.filter((r) => r > 0.5).length / edge.length
  assert.ok(good > 0.3 && good < 0.7, `at the range about half the links are good: ${good}`)
  // Shadowing is per link, so links at the range are mostly good or mostly bad, not all ~50 %
  // (σ 4 dB over a 1 dB curve: ~27 % of links expected in (0.2, 0.8); per-frame shadowing gave ~100 %).
  const middling = edge.filter((r) => r > 0.2 && r < 0.8).length / edge.length
  assert.ok(middling < 0.4, `links with a middling rate: ${middling}`)
  assert.ok(f.count(52, 'rxLost') + f.count(53, 'rxLost') + f.count(54, 'rxLost') > 0)
  // a static link's RSSI is the same on every frame
  for (const h of f.heard.slice(1, 51)) assert.is(new Set(h.map((x) => x.rssi)).size, 1)
})

test('hidden terminals collide at the receiver between them; with capture the much nearer one survives', () => {
  // A(0) and C(400) cannot hear or sense each other (interference = range = 250); B(200) hears both.
  const radio: Partial<SimRadioConfig> = { interferenceRange: null, captureThresholdDb: null }
  const f = staticField([[0, 0], [200, 0], [400, 0]], radio)
  f.radios[0].send(frame(1, 500))
  f.scheduler.run({ until: 0.5 })
  f.radios[2].send(frame(3, 500)) // carrier sense at C finds the channel idle: it cannot hear A
  f.scheduler.run()
  assert.is(f.heard[1].length, 0)
  assert.is(f.count(2, 'rxCollisions'), 2)
  assert.is(f.count(3, 'csmaBackoffs'), 0)

  // Capture on: A at 20 m from B, C at 240 m. A's frame is 30 dB stronger and survives.
  const g = staticField([[0, 0], [20, 0], [260, 0]], { interferenceRange: null, captureThresholdDb: 10 })
  g.radios[0].send(frame(1, 500))
  g.radios[2].send(frame(3, 500))
  g.scheduler.run()
  assert.equal(g.heard[1].map((x) => x.bytes[0]), [1])
  assert.is(g.count(2, 'rxCollisions'), 1) // C's frame arrived while B was locked onto A's

  // Capture on but the later frame is the strong one: the locked weak frame is corrupted, the strong one lost.
  const h = staticField([[0, 0], [20, 0], [260, 0]], { interferenceRange: null, captureThresholdDb: 10 })
  h.radios[2].send(frame(3, 500))
  h.scheduler.run({ until: 0.1 })
  h.radios[0].send(frame(1, 500))
  h.scheduler.run()
  assert.is(h.heard[1].length, 0)
  assert.is(h.count(2, 'rxCollisions'), 2)
})

test('capture holds while the summed interference stays below the threshold, and fails once it does not', () => {
  // B at the origin hears A at -60 dBm; each interferer arrives at -72 dBm (unit disk, csma off).
  const dA = Math.pow(10, (20 - 40.05 + 60) / 30), dI = Math.pow(10, (20 - 40.05 + 72) / 30)
  for (const interferers of [1, 2]) {
    const f = staticField([[0, 0], [dA, 0], [-dI, 0], [0, dI]], { csma: NO_CSMA, captureThresholdDb: 10 })
    f.radios[1].send(frame(1, 500))
    for (let k = 0; k < interferers; k++) {
      f.scheduler.run({ until: 0.5 + k * 0.5 })
      f.radios[2 + k].send(frame(9, 100))
    }
    f.scheduler.run()
    assert.equal(f.heard[0].map((x) => x.bytes[0]), interferers === 1 ? [1] : [], `${interferers} interferer(s)`)
    if (interferers === 1) assert.ok(Math.abs(f.heard[0][0].rssi! + 60) < 1e-9)
  }
})

test('back-to-back frames without carrier sense are all received (a frame ending as the next starts does not collide)', () => {
  const f = staticField([[0, 0], [100, 0]], { csma: NO_CSMA })
  for (let i = 0; i < 10; i++) f.radios[0].send(frame(i, 300))
  f.scheduler.run()
  assert.equal(f.heard[1].map((x) => x.bytes[0]), [...Array(10).keys()])
  assert.is(f.count(2, 'rxCollisions'), 0)
})

test('carrier sense defers a sender who hears the first (no collision); without csma they collide', () => {
  for (const csma of [true, false]) {
    const f = staticField([[0, 0], [100, 0], [200, 0]], csma ? {} : { csma: NO_CSMA })
    f.radios[0].send(frame(1, 500))
    f.scheduler.run({ until: 0.5 })
    f.radios[2].send(frame(3, 500))
    f.scheduler.run()
    if (csma) {
      assert.equal(f.heard[1].map((x) => x.bytes[0]), [1, 3])
      assert.is(f.count(2, 'rxCollisions'), 0)
      assert.ok(f.count(3, 'csmaBackoffs') >= 1)
      assert.is(f.count(3, 'rxFrames'), 1) // C heard A before sending
    } else {
      assert.is(f.heard[1].length, 0)
      assert.is(f.count(2, 'rxCollisions'), 2)
      assert.is(f.count(3, 'rxHalfDuplex'), 1) // C was receiving A when it started to send
    }
  }
})

test('two senders whose carrier sense falls within one slot of each other both send and collide', () => {
  const f = staticField([[0, 0], [100, 0], [200, 0]])
  f.radios[0].send(frame(1, 500))
  f.scheduler.run({ until: 0.01 }) // half a slot later
  f.radios[2].send(frame(3, 500))
  f.scheduler.run()
  assert.is(f.heard[1].length, 0)
  assert.is(f.count(2, 'rxCollisions'), 2)
})

test('propagation delay is visible at long range', () => {
  const d = 30_000
  const f = staticField([[0, 0], [d, 0]], { range: 40_000, interferenceRange: null })
  let sentAt = -1
  f.radios[0].on('sent', (s) => (sentAt = s.at))
  f.radios[0].send(frame(1))
  f.scheduler.run()
  const delay = f.heard[1][0].at - sentAt
  assert.ok(Math.abs(delay - d / 299_792.458) < 1e-9, `delay ${delay} ms`)
  assert.ok(delay > 0.1)
})

test('half-duplex: a transmitting node hears nothing, and starting to send aborts a reception', () => {
  const f = staticField([[0, 0], [100, 0]], { csma: NO_CSMA })
  f.radios[0].send(frame(1, 500))
  f.radios[1].send(frame(2, 100)) // both on air at once
  f.scheduler.run()
  assert.is(f.heard[0].length, 0)
  assert.is(f.heard[1].length, 0)
  assert.is(f.count(1, 'rxHalfDuplex'), 1)
  assert.is(f.count(2, 'rxHalfDuplex'), 1)
  // B starts sending in the middle of A's frame (no carrier sense): A's frame is lost at B.
  const g = staticField([[0, 0], [100, 0]], { csma: NO_CSMA })
  g.radios[0].send(frame(1, 500))
  g.scheduler.run({ until: 1 })
  g.radios[1].send(frame(2, 10))
  g.scheduler.run()
  assert.is(g.heard[1].length, 0)
  assert.is(g.count(2, 'rxHalfDuplex'), 1)
  assert.is(g.heard[0].length, 0) // A was still sending when B's short frame arrived
})

test('per-frame loss is close to the configured probability', () => {
  const f = staticField([[0, 0], [100, 0], [150, 0]], { loss: 0.2 }, 'loss')
  const n = 5000
  let k = 0
  const next = () => { if (k < n) f.radios[0].send(frame(k++ & 0xff, 20)) }
  f.radios[0].on('sent', next)
  next()
  f.scheduler.run()
  for (const id of [2, 3]) {
    const got = f.count(id, 'rxFrames'), lost = f.count(id, 'rxLost')
    assert.is(got + lost, n)
    assert.ok(Math.abs(lost / n - 0.2) < 0.02, `loss at ${id}: ${lost / n}`)
  }
})

test('a scripted link down partitions two nodes and the link heals', () => {
  const f = staticField([[0, 0], [100, 0], [200, 0]])
  f.medium.setLinkDown(1, 2, 1000, 2000)
  for (const t of [500, 1500, 2500]) {
    f.scheduler.run({ until: t })
    assert.is(f.medium.inRange(1, 2), t !== 1500)
    f.radios[0].send(frame(t / 100))
  }
  f.scheduler.run()
  assert.equal(f.heard[1].map((x) => x.bytes[0]), [5, 25])
  assert.equal(f.heard[2].map((x) => x.bytes[0]), [5, 15, 25])
  assert.throws(() => f.medium.setLinkDown(1, 1, 0, 1), /differ/)
  assert.throws(() => f.medium.setLinkDown(1, 2, 5, 5), /toMs must be > fromMs/)
})

test('a scripted link down also removes interference: hidden terminals no longer collide', () => {
  const f = staticField([[0, 0], [200, 0], [400, 0]], { interferenceRange: null, captureThresholdDb: null })
  f.medium.setLinkDown(3, 2, 0, Infinity)
  f.radios[0].send(frame(1, 500))
  f.radios[2].send(frame(3, 500))
  f.scheduler.run()
  assert.equal(f.heard[1].map((x) => x.bytes[0]), [1])
})

test('scripted waypoints carry a node out of range and back', () => {
  const scheduler = new SimScheduler()
  const medium = new SimMedium({ scheduler, rng: new SeededRng(3) })
  const a = medium.addNode(1, new StaticMobility({ x: 0, y: 0 }))
  const b = medium.addNode(2, new ScriptedWaypoints([{ tMs: 0, x: 100, y: 0 }, { tMs: 10_000, x: 1100, y: 0 }, { tMs: 20_000, x: 100, y: 0 }]))
  const got: number[] = []
  b.on('frame', (fr) => got.push(fr.bytes[0]))
  for (const t of [1000, 10_000, 19_000]) {
    scheduler.run({ until: t })
    a.send(frame(t / 1000))
  }
  scheduler.run()
  assert.equal(got, [1, 19])
  scheduler.run({ until: 25_000 })
  assert.equal(medium.position(2), { x: 100, y: 0 })
})

test('mobile nodes: the spatial index never misses a receiver (compared with brute force)', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng('idx')
  const medium = new SimMedium({ scheduler, rng, radio: { range: 100, interferenceRange: 200 } })
  const n = 80
  const heard = new Map<number, number>()
  for (let i = 1; i <= n; i++) {
    const mob = new RandomWaypoint({ rng: rng.fork('mob', i), width: 2000, height: 2000, minSpeed: 5, maxSpeed: 50, pauseMs: 0, start: { x: rng.float() * 2000, y: rng.float() * 2000 } })
    medium.addNode(i, mob).on('frame', () => heard.set(i, (heard.get(i) ?? 0) + 1))
  }
  let expected = 0
  for (let t = 1; t <= 300; t++) {
    scheduler.run({ until: t * 1000 })
    const id = 1 + (t % n)
    for (let j = 1; j <= n; j++) if (j !== id && medium.inRange(id, j)) expected++
    medium.radio(id).send(frame(t, 10))
  }
  scheduler.run()
  let got = 0
  for (const v of heard.values()) got += v
  assert.is(got, expected)
  assert.ok(expected > 100)
})

test('the same seed gives identical event logs; another seed differs', () => {
  const run = (seed: string) => {
    const scheduler = new SimScheduler()
    const rng = new SeededRng(seed)
    const metrics = new MetricsRegistry()
    const medium = new SimMedium({ scheduler, rng, metrics, radio: { bitrate: 250_000, loss: 0.05 } })
    const log: string[] = []
    const n = 30
    const traffic = rng.fork('traffic')
    for (let i = 1; i <= n; i++) {
      const mob = new RandomWaypoint({ rng: rng.fork('mob', i), width: 1000, height: 600, minSpeed: 1, maxSpeed: 20, pauseMs: 1000, start: { x: traffic.float() * 1000, y: traffic.float() * 600 } })
      const r = medium.addNode(i, mob)
      r.on('frame', (fr) => log.push(`${fr.at} ${i} rx ${fr.bytes[0]} ${fr.rssi}`))
      r.on('sent', (s) => log.push(`${s.at} ${i} sent ${s.bytes[0]}`))
      r.on('dropped', (d) => log.push(`${scheduler.now()} ${i} drop ${d.code}`))
    }
    const tick = () => {
      medium.radio(1 + traffic.int(n)).send(frame(traffic.int(256), 50 + traffic.int(400)))
      if (scheduler.now() < 20_000) scheduler.at(traffic.exponential(5), tick)
    }
    scheduler.at(0, tick)
    scheduler.run()
    return { log, totals: JSON.stringify(metrics.totals()) }
  }
  const a = run('det'), b = run('det'), c = run('other')
  assert.ok(a.log.length > 10_000)
  assert.equal(a.log, b.log)
  assert.is(a.totals, b.totals)
  assert.not.equal(a.log, c.log)
})

test('adding a node does not reshuffle the randomness of the others', () => {
  const draws = (extra: boolean) => {
    const scheduler = new SimScheduler()
    const medium = new SimMedium({ scheduler, rng: new SeededRng('fork'), radio: { loss: 0.5 } })
    medium.addNode(1, new StaticMobility({ x: 0, y: 0 }))
    if (extra) medium.addNode(7, new StaticMobility({ x: 5000, y: 0 }))
    medium.addNode(2, new StaticMobility({ x: 10, y: 0 }))
    const got: number[] = []
    medium.radio(2).on('frame', (f) => got.push(f.bytes[0]))
    for (let i = 0; i < 50; i++) scheduler.at(i * 10, () => medium.radio(1).send(frame(i)))
    scheduler.run()
    return got
  }
  assert.equal(draws(false), draws(true))
})

test('a 1,000-node static field runs, every frame accounted for', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng('big')
  const metrics = new MetricsRegistry()
  const medium = new SimMedium({ scheduler, rng, metrics })
  const pts = placeUniform(1000, 5000, 5000, rng.fork('place'))
  pts.forEach((p, i) => medium.addNode(i + 1, new StaticMobility(p)))
  const traffic = rng.fork('traffic')
  for (let k = 0; k < 5000; k++) {
    scheduler.at(traffic.float() * 10_000, () => medium.radio(1 + traffic.int(1000)).send(frame(k & 0xff, 200)))
  }
  scheduler.run()
  const t = metrics.totals().medium
  assert.is(t.txFrames + t.dropped, 5000)
  assert.ok(t.rxFrames > 5000)
})

test('construction errors name the field and the value', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(1)
  assert.throws(() => new SimMedium({ scheduler, rng, radio: { bitrate: 0 } }), (e: unknown) => e instanceof ConfigError && e.path === 'radio.bitrate' && /must be >= 1, got 0/.test(e.message))
  assert.throws(() => new SimMedium({ scheduler, rng, radio: { loss: 2 } }), /radio\.loss: must be <= 1, got 2/)
  assert.throws(() => new SimMedium({ scheduler, rng, radio: { rnage: 5 } as never }), /radio\.rnage: unknown field/)
  assert.throws(() => new SimMedium({ scheduler, rng, radio: { csma: { slotMs: -1 } } as never }), /radio\.csma\.slotMs: must be >= 0\.001, got -1/)
  const m = new SimMedium({ scheduler, rng })
  assert.throws(() => m.addNode(0, new StaticMobility({ x: 0, y: 0 })), /node id must be an integer/)
  m.addNode(1, new StaticMobility({ x: 0, y: 0 }))
  assert.throws(() => m.addNode(1, new StaticMobility({ x: 0, y: 0 })), /already on the medium/)
  assert.throws(() => m.addNode(2, {} as never), /position/)
  assert.throws(() => m.addNode(2, new StaticMobility({ x: 0, y: 0 }), { mtu: 1.5 }), (e: unknown) => e instanceof ConfigError && e.path === 'nodes.2.radio.mtu' && /must be an integer, got 1\.5/.test(e.message))
  assert.throws(() => m.addNode(2, new StaticMobility({ x: 0, y: 0 }), { propagation: 'log-distance' }), /nodes\.2\.radio\.propagation: must match the medium/)
  // API arguments (not config) stay RangeError/TypeError
  assert.throws(() => m.setLinkDown(0, 1, 0, 1), (e: unknown) => e instanceof RangeError)
  assert.throws(() => m.radio(9), /no node 9/)
})

test('a tunnel: its peer gets every frame at its end, whatever the distance, free of interference both ways', () => {
  // 1 and 2 are 10 km apart, tunnelled; 3 sits next to 2 and transmits over the tunnel copy.
  const f = staticField([[0, 0], [10_000, 0], [10_100, 0], [10_200, 0]], { csma: { ...NO_CSMA } })
  f.medium.addTunnel(1, 2)
  assert.equal(f.medium.tunnelPeers(1), [2])
  assert.equal(f.medium.tunnelPeers(2), [1])
  assert.not.ok(f.medium.inRange(1, 2), 'routing sees no radio link: only the tunnel joins them')
  const air = f.radios[0].airtimeMs(100)
  f.radios[0].send(frame(1))
  f.radios[2].send(frame(3)) // on air at the same time, heard by 2 and 4
  f.scheduler.run()
  assert.equal(f.heard[1].map((h) => h.bytes[0]).sort(), [1, 3], 'both frames reach 2: the tunnel copy neither suffers nor causes a collision')
  const viaTunnel = f.heard[1].find((h) => h.bytes[0] === 1)!
  assert.ok(Math.abs(viaTunnel.at - air) < 1e-9, `delivered at the end of its airtime (${viaTunnel.at} vs ${air})`)
  assert.equal(f.heard[3].map((h) => h.bytes[0]), [3], 'node 4 hears 3 only: the tunnel copy is not on the air')
  assert.is(f.count(2, 'rxCollisions'), 0)
  // the other way, and while the receiver itself transmits (a tunnel is not the half-duplex radio)
  f.radios[1].send(frame(2))
  f.radios[0].send(frame(4))
  f.scheduler.run()
  assert.equal(f.heard[0].map((h) => h.bytes[0]), [2])
  assert.equal(f.heard[1].map((h) => h.bytes[0]).sort(), [1, 3, 4])
})

test('a tunnel between nodes in radio range replaces the air: one copy each, not two', () => {
  const f = staticField([[0, 0], [100, 0], [300, 0]])
  f.medium.addTunnel(1, 2)
  f.radios[0].send(frame(1))
  f.scheduler.run()
  assert.is(f.heard[1].length, 1)
  assert.is(f.heard[2].length, 0, 'node 3 is out of 1\'s range and not tunnelled')
  // an overlay: several colluders, each tunnelled to each
  const g = staticField([[0, 0], [5000, 0], [0, 5000], [5000, 5000]])
  g.medium.addTunnel(1, 2)
  g.medium.addTunnel(1, 3)
  g.medium.addTunnel(2, 3)
  g.radios[1].send(frame(2))
  g.scheduler.run()
  assert.equal(g.heard.map((h) => h.length), [1, 0, 1, 0])
  assert.throws(() => g.medium.addTunnel(2, 1), /already tunnelled/)
  assert.throws(() => g.medium.addTunnel(2, 2), /must differ/)
  assert.throws(() => g.medium.addTunnel(0, 2), (e: unknown) => e instanceof RangeError)
})

test('a closed radio gets nothing through its tunnel', () => {
  const f = staticField([[0, 0], [10_000, 0]])
  f.medium.addTunnel(1, 2)
  void f.radios[1].close()
  f.radios[0].send(frame(1))
  f.scheduler.run()
  assert.is(f.heard[1].length, 0)
})

test.run()
