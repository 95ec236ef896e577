import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST } from '../core/addr.ts'
import { ConfigError, SpinmeshError } from '../core/errors.ts'
import { Emitter } from '../core/events.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../hardware/mock-radio.ts'
import type { RadioEvents, SendOptions } from '../hardware/radio.ts'
import { LinkLayer } from './link.ts'
import type { LinkConfig } from './link-defaults.ts'
import { encodeData } from './link-frame.ts'
import type { LinkRx, TxFailure } from './link-types.ts'
import { Proto } from './protocols.ts'

interface Net {
  scheduler: SimScheduler
  medium: MockMedium
  metrics: MetricsRegistry
  radios: MockRadio[]
  links: LinkLayer[]
  rx: LinkRx[][]
  failed: TxFailure[][]
  count(node: number, name: string): number
}

/** Nodes 1..n on a MockMedium; `pairs` joins them explicitly (default: everyone hears everyone). */
function net(
  n: number,
  o: { loss?: number; mtu?: number; queueLimit?: number; pairs?: Array<[number, number]>; config?: Partial<LinkConfig>; seed?: number } = {},
): Net {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(o.seed ?? 1)
  const medium = new MockMedium({ scheduler, loss: o.loss, rng: rng.fork('medium'), explicitLinks: o.pairs !== undefined })
  const metrics = new MetricsRegistry()
  const radios: MockRadio[] = []
  const links: LinkLayer[] = []
  const rx: LinkRx[][] = []
  const failed: TxFailure[][] = []
  for (let id = 1; id <= n; id++) {
    const radio = medium.radio({ mtu: o.mtu ?? 255, queueLimit: o.queueLimit, name: `n${id}` })
    const link = new LinkLayer({ address: id, radio, scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), config: { beaconIntervalMs: 0, ...o.config } })
    const got: LinkRx[] = []
    const fails: TxFailure[] = []
    link.on('receive', (r) => got.push(r))
    link.on('tx-failed', (f) => fails.push(f))
    radios.push(radio)
    links.push(link)
    rx.push(got)
    failed.push(fails)
  }
  for (const [a, b] of o.pairs ?? []) medium.connect(radios[a - 1], radios[b - 1])
  return { scheduler, medium, metrics, radios, links, rx, failed, count: (node, name) => metrics.value('link', node, name) }
}

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v)

test('unicast and broadcast datagrams arrive with from/to/proto, not at the sender', () => {
  const t = net(3)
  t.links[0].send(2, Proto.EXPERIMENTAL, bytes(1, 2, 3))
  t.links[0].send(BROADCAST, Proto.EXPERIMENTAL, bytes(9))
  t.scheduler.run({ until: 1000 })
  assert.equal(t.rx[1].map((r) => [r.from, r.to, r.proto, [...r.payload]]), [
    [1, 2, Proto.EXPERIMENTAL, [1, 2, 3]],
    [1, BROADCAST, Proto.EXPERIMENTAL, [9]],
  ])
  assert.equal(t.rx[2].map((r) => r.to), [BROADCAST], 'node 3 only gets the broadcast')
  assert.is(t.rx[0].length, 0)
  assert.is(t.rx[1][0].rssi, -60)
  assert.is(t.count(3, 'rxOverheard'), 2, 'the unicast frame and its ack, overheard')
  assert.is(t.count(1, 'acksSent') + t.count(2, 'acksSent'), 1)
})

test('ports see only their protocol; neighbour events pass through; unknown protocols are counted', () => {
  const t = net(2, { config: { beaconIntervalMs: 500 } })
  const a = t.links[0]
  const b = t.links[1]
  b.removeAllListeners('receive')
  const flood: number[] = []
  const aodv: number[] = []
  const ups: number[] = []
  b.port(Proto.FLOOD).on('receive', (r) => flood.push(r.payload[0]))
  b.port(Proto.AODV).on('receive', (r) => aodv.push(r.payload[0]))
  b.port(Proto.AODV).on('neighbour-up', (n) => ups.push(n.addr))
  assert.is(b.port(Proto.FLOOD), b.port(Proto.FLOOD), 'one port per protocol')
  a.port(Proto.FLOOD).send(BROADCAST, bytes(1))
  a.port(Proto.AODV).send(2, bytes(2))
  a.send(2, Proto.GOSSIP, bytes(3))
  t.scheduler.run({ until: 2000 })
  assert.equal(flood, [1])
  assert.equal(aodv, [2])
  assert.equal(ups, [1])
  assert.is(t.count(2, 'rxUnknownProto'), 1)
  assert.equal(a.port(Proto.AODV).neighbours().map((n) => n.addr), [2])
})

test('reliable unicast over a lossy medium: every datagram delivered at most once, every loss reported', () => {
  const t = net(2, { loss: 0.3, seed: 3, config: { maxRetries: 3 } })
  const N = 300
  for (let i = 0; i < N; i++) t.scheduler.at(i * 400, () => t.links[0].send(2, Proto.EXPERIMENTAL, bytes(i >> 8, i & 255)))
  t.scheduler.run()
  const got = t.rx[1].map((r) => (r.payload[0] << 8) | r.payload[1])
  assert.is(new Set(got).size, got.length, 'no datagram delivered twice')
  const failed = new Set(t.failed[0].map((f) => (f.payload[0] << 8) | f.payload[1]))
  for (let i = 0; i < N; i++) assert.ok(got.includes(i) || failed.has(i), `datagram ${i} delivered or reported failed`)
  assert.ok(got.length > N * 0.85, `most delivered (${got.length})`)
  assert.ok(t.count(2, 'rxDuplicates') > 0, 'lost acks caused retransmissions that were suppressed')
  assert.ok(t.count(1, 'retries') > 0)
  assert.ok(t.failed[0].every((f) => f.code === 'ERR_NO_ACK' && f.to === 2 && f.proto === Proto.EXPERIMENTAL))
  assert.is(t.count(1, 'txFailed'), t.failed[0].length)
})

test('a peer that is gone: tx-failed ERR_NO_ACK after 1 + maxRetries transmissions, not from inside send()', () => {
  const t = net(2, { pairs: [], config: { maxRetries: 2 } })
  t.links[0].send(2, Proto.AODV, bytes(7))
  assert.is(t.failed[0].length, 0, 'never synchronous')
  t.scheduler.run()
  assert.is(t.failed[0].length, 1)
  assert.is(t.failed[0][0].code, 'ERR_NO_ACK')
  assert.equal([...t.failed[0][0].payload], [7])
  assert.is(t.count(1, 'txFrames'), 3)
  assert.is(t.count(1, 'retries'), 2)
  assert.is(t.count(1, 'txControlFrames'), 3, 'AODV frames count as control')
  assert.is(t.scheduler.pending, 0, 'no timer left')
})

test('acks are timed from the radio\'s sent report: a long radio queue does not cause spurious retries', () => {
  const t = net(2, { config: { reliableUnicast: true } })
  for (let i = 0; i < 20; i++) t.links[0].send(BROADCAST, Proto.EXPERIMENTAL, new Uint8Array(200))
  t.links[0].send(2, Proto.EXPERIMENTAL, bytes(1))
  t.scheduler.run()
  assert.is(t.count(1, 'retries'), 0)
  assert.is(t.rx[1].length, 21)
})

test('an ack goes ahead of the receiver\'s backlog (urgent): no spurious retry, no duplicate', () => {
  const t = net(2)
  const order: string[] = []
  t.radios[1].on('sent', (s) => order.push(s.bytes[0] === 0x60 ? 'ack' : 'data'))
  for (let i = 0; i < 20; i++) t.links[1].send(BROADCAST, Proto.EXPERIMENTAL, new Uint8Array(200))
  t.links[0].send(2, Proto.EXPERIMENTAL, bytes(1))
  t.scheduler.run()
  assert.is(t.count(1, 'retries'), 0, `ack timeout ${t.links[0].timing.ackTimeoutMs} ms was enough`)
  assert.is(t.count(2, 'rxDuplicates'), 0)
  assert.is(t.count(1, 'txAcked'), 1)
  assert.ok(order.indexOf('ack') <= 1, `the ack waited for at most the frame on air (${order.indexOf('ack')} before it)`)
  assert.is(t.rx[0].length, 20)
})

test('tx counters follow the air: frames the radio drops count in txDropped*, not in txFrames', () => {
  const t = net(2, { queueLimit: 4 })
  let onAir = 0
  let airBytes = 0
  t.radios[0].on('sent', (s) => ((onAir += 1), (airBytes += s.bytes.length)))
  for (let i = 0; i < 30; i++) t.links[0].send(BROADCAST, Proto.FLOOD, new Uint8Array(100))
  for (let i = 0; i < 10; i++) t.links[0].send(2, Proto.AODV, new Uint8Array(20), { reliable: false })
  t.scheduler.at(1000, () => t.links[0].send(2, Proto.EXPERIMENTAL, new Uint8Array(600))) // reliable, 3 fragments
  t.scheduler.run()
  const c = (n: string) => t.count(1, n)
  assert.is(onAir, 1 + 4 + 3, 'one on air and four queued of the burst; then the three fragments')
  assert.is(c('txFrames'), onAir)
  assert.is(c('txBytes'), airBytes)
  assert.is(c('txDataFrames') + c('txControlFrames'), onAir)
  assert.is(c('txControlFrames'), 0, 'every AODV frame was dropped')
  assert.is(c('fragmentsSent'), 3)
  assert.is(c('txDropped'), 30 + 10 - 5)
  assert.is(c('txDroppedQueueFull'), c('txDropped'))
  assert.is(t.failed[0].length, 10, 'each dropped unicast datagram reported')
  assert.is(t.rx[1].filter((r) => r.to === 2).length, 1)
})

test('stop-and-wait per neighbour keeps order; the queue is bounded (ERR_QUEUE_FULL)', () => {
  const t = net(2, { config: { txQueuePerNeighbour: 5 } })
  for (let i = 0; i < 8; i++) t.links[0].send(2, Proto.EXPERIMENTAL, bytes(i))
  assert.is(t.failed[0].length, 0)
  t.scheduler.run()
  // One in flight + 5 queued; the last two are refused.
  assert.equal(t.rx[1].map((r) => r.payload[0]), [0, 1, 2, 3, 4, 5])
  assert.equal(t.failed[0].map((f) => [f.payload[0], f.code]), [[6, 'ERR_QUEUE_FULL'], [7, 'ERR_QUEUE_FULL']])
})

test('a radio drop of our unicast frame becomes tx-failed with the radio\'s code', () => {
  const t = net(2)
  for (let i = 0; i < 70; i++) t.links[0].send(2, Proto.EXPERIMENTAL, bytes(i), { reliable: false })
  assert.is(t.failed[0].length, 0, 'reported later, not inside send()')
  t.scheduler.run()
  // MockRadio queues 64 frames besides the one on air.
  assert.is(t.rx[1].length, 65)
  assert.equal(t.failed[0].map((f) => f.code), Array(5).fill('ERR_QUEUE_FULL'))
  assert.is(t.count(1, 'txDropped'), 5)
})

/** A radio that accepts frames and never reports them sent or dropped (or refuses them when closed). */
class SilentRadio extends Emitter<RadioEvents> {
  readonly mtu = 255
  readonly bitrate = 50_000
  state: 'up' | 'down' = 'up'
  sent: Uint8Array[] = []
  airtimeMs(bytes: number): number {
    return (bytes * 8 * 1000) / this.bitrate
  }
  send(frame: Uint8Array, _opts?: SendOptions): void {
    if (this.state === 'down') throw new SpinmeshError('ERR_CLOSED', 'radio is closed')
    this.sent.push(frame)
  }
  async close(): Promise<void> {
    this.state = 'down'
  }
}

test('a radio that never reports: ERR_EXPIRED after radioReportTimeoutMs; queued too long: ERR_EXPIRED; radio refusing: its code', () => {
  const scheduler = new SimScheduler()
  const radio = new SilentRadio()
  const link = new LinkLayer({ address: 1, radio, scheduler, rng: new SeededRng(1), config: { beaconIntervalMs: 0, radioReportTimeoutMs: 1000, txQueueTtlMs: 500 } })
  const failed: string[] = []
  link.on('tx-failed', (f) => failed.push(`${f.payload[0]} ${f.code} @${scheduler.now()}`))
  link.send(2, Proto.EXPERIMENTAL, bytes(1))
  link.send(2, Proto.EXPERIMENTAL, bytes(2))
  scheduler.run()
  assert.equal(failed, ['1 ERR_EXPIRED @1000', '2 ERR_EXPIRED @1000'])
  assert.is(radio.sent.length, 1, 'the second datagram expired in the queue, never sent')
  void radio.close()
  link.send(2, Proto.EXPERIMENTAL, bytes(3))
  link.send(2, Proto.EXPERIMENTAL, bytes(4), { reliable: false })
  link.send(BROADCAST, Proto.EXPERIMENTAL, bytes(5))
  scheduler.run()
  assert.equal(failed.slice(2), ['3 ERR_CLOSED @1000', '4 ERR_CLOSED @1000'], 'broadcast failures are only counted')
  assert.is(link.maxDatagram, 4096)
  link.close()
  assert.is(scheduler.pending, 0)
})

test('fragmentation through the link: reliable unicast and broadcast, lossy medium, exact payloads', () => {
  const t = net(3, { mtu: 40, loss: 0.1, seed: 5 })
  const big = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 255)
  t.links[0].send(2, Proto.EXPERIMENTAL, big)
  t.links[0].send(BROADCAST, Proto.EXPERIMENTAL, big.subarray(0, 100))
  t.scheduler.run({ until: 20_000 })
  const uni = t.rx[1].filter((r) => r.to === 2)
  assert.is(uni.length, 1)
  assert.equal([...uni[0].payload], [...big])
  assert.ok(t.count(1, 'fragmentsSent') >= 26 + 4)
  for (const r of t.rx.flat().filter((x) => x.to === BROADCAST)) assert.equal([...r.payload], [...big.subarray(0, 100)])
  assert.is(t.scheduler.pending, 0)
})

test('a lost broadcast fragment: reassembly times out and frees the buffer', () => {
  const t = net(2, { mtu: 40, pairs: [[1, 2]], config: { reassemblyTimeoutMs: 300 } })
  let n = 0
  // Drop the second frame on the air by disconnecting the pair around it.
  t.radios[1].on('frame', () => {
    if (++n === 1) t.medium.disconnect(t.radios[0], t.radios[1])
  })
  t.links[0].send(BROADCAST, Proto.EXPERIMENTAL, new Uint8Array(90))
  t.scheduler.run({ until: 100 })
  t.medium.connect(t.radios[0], t.radios[1])
  t.scheduler.run()
  assert.is(t.rx[1].length, 0)
  assert.is(t.count(2, 'reassemblyTimeouts'), 1)
  assert.is(t.scheduler.pending, 0)
})

test('the same frame heard twice (e.g. a duplicating radio path) is delivered once', () => {
  const t = net(2)
  const raw = t.medium.radio({ name: 'raw' })
  const frame = encodeData(9, 2, 100, false, Proto.EXPERIMENTAL, null, bytes(5))
  raw.send(frame)
  raw.send(frame)
  raw.send(Uint8Array.of(0xff, 1, 2))
  t.scheduler.run()
  assert.is(t.rx[1].length, 1)
  assert.is(t.count(2, 'rxDuplicates'), 1)
  assert.is(t.count(2, 'decodeErrors'), 1)
  assert.is(t.count(1, 'rxOverheard'), 2)
})

test('send() checks its arguments at the boundary', () => {
  const t = net(1, { mtu: 20 })
  const a = t.links[0]
  assert.is(a.maxDatagram, 255 * (20 - 14), 'bounded by 255 fragments of the radio MTU')
  const code = (fn: () => void): string => {
    try {
      fn()
    } catch (e) {
      return e instanceof SpinmeshError ? e.code : (e as Error).name
    }
    return 'none'
  }
  assert.is(code(() => a.send(2, 1, new Uint8Array(a.maxDatagram + 1))), 'ERR_DATAGRAM_TOO_LARGE')
  assert.is(code(() => a.send(1, 1, bytes(1))), 'RangeError')
  assert.is(code(() => a.send(0, 1, bytes(1))), 'RangeError')
  assert.is(code(() => a.send(2, 256, bytes(1))), 'RangeError')
  assert.is(code(() => a.send(2, 1, [1] as unknown as Uint8Array)), 'TypeError')
  a.close()
  assert.is(code(() => a.send(2, 1, bytes(1))), 'ERR_CLOSED')
  const big = new LinkLayer({ address: 5, radio: t.medium.radio({ mtu: 1500 }), scheduler: t.scheduler, rng: new SeededRng(1) })
  assert.is(big.maxDatagram, 4096, 'bounded by maxDatagram')
  big.close()
})

test('config errors are ConfigErrors naming the field under configPath; bad arguments stay RangeErrors', () => {
  const t = net(0)
  const pathOf = (config: Record<string, unknown>, configPath?: string): string => {
    try {
      new LinkLayer({ address: 1, radio: t.medium.radio(), scheduler: t.scheduler, rng: new SeededRng(1), config, configPath }).close()
    } catch (e) {
      assert.instance(e, ConfigError)
      return `${(e as ConfigError).path} | ${(e as Error).message}`
    }
    return 'none'
  }
  assert.is(pathOf({ maxRetries: -1 }), 'link.maxRetries | link.maxRetries: must be >= 0, got -1')
  assert.is(pathOf({ maxRetries: -1 }, 'nodes.3.link'), 'nodes.3.link.maxRetries | nodes.3.link.maxRetries: must be >= 0, got -1')
  assert.match(pathOf({ beaconIntervalMs: 5 }), /^link\.beaconIntervalMs \| .*must be 0 \(no beacons\) or >= 10, got 5/)
  assert.match(pathOf({ dedupWindow: 100 }), /^link\.dedupWindow \| .*power of two/)
  assert.match(pathOf({ reliableUnicast: 1 }), /^link\.reliableUnicast \| .*true or false/)
  assert.match(pathOf({ beaconIntervalMS: 1000 }), /^link\.beaconIntervalMS \| .*unknown field/)
  assert.throws(() => new LinkLayer({ address: 1, radio: t.medium.radio({ mtu: 12 }), scheduler: t.scheduler, rng: new SeededRng(1) }), RangeError)
  assert.throws(() => new LinkLayer({ address: 0, radio: t.medium.radio(), scheduler: t.scheduler, rng: new SeededRng(1) }), RangeError)
})

test('close(): pending reliable sends fail with ERR_CLOSED, every timer is cancelled', () => {
  const t = net(3, { pairs: [[1, 2]], config: { beaconIntervalMs: 1000 } })
  t.scheduler.run({ until: 5000 })
  t.links[0].send(3, Proto.EXPERIMENTAL, bytes(1)) // nobody answers: retrying
  t.links[0].send(3, Proto.EXPERIMENTAL, bytes(2)) // queued behind it
  t.links[0].send(2, Proto.EXPERIMENTAL, new Uint8Array(600)) // fragmented, in flight
  t.scheduler.run({ until: 5001 })
  for (const l of t.links) l.close()
  assert.equal(t.failed[0].map((f) => f.code).sort(), ['ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED'])
  t.scheduler.run() // frames already on the (mock) air land; nothing reschedules
  assert.is(t.scheduler.pending, 0)
  t.links[0].close()
  assert.is(t.failed[0].length, 3, 'close twice is harmless')
})

test('same seed, same run: identical counters', () => {
  const run = () => {
    const t = net(4, { loss: 0.2, seed: 9, config: { beaconIntervalMs: 200 } })
    for (let i = 0; i < 50; i++) t.scheduler.at(i * 40, () => t.links[i % 4].send(((i + 1) % 4) + 1, Proto.EXPERIMENTAL, new Uint8Array(i * 5)))
    t.scheduler.run({ until: 10_000 })
    return JSON.stringify(t.metrics.totals())
  }
  assert.is(run(), run())
})

test('metrics: control vs data by traffic class; tx totals are the sum', () => {
  const t = net(2, { config: { beaconIntervalMs: 1000 } })
  t.scheduler.run({ until: 1500 })
  t.links[0].send(2, Proto.FLOOD, new Uint8Array(10))
  t.scheduler.run({ until: 3000 })
  const c = (n: string) => t.count(1, n)
  assert.is(c('txFrames'), c('txControlFrames') + c('txDataFrames'))
  assert.is(c('txBytes'), c('txControlBytes') + c('txDataBytes'))
  assert.is(c('txDataFrames'), 1)
  assert.is(c('txDataBytes'), 12 + 10)
  assert.is(c('beaconsSent'), c('txControlFrames'))
  assert.is(c('txControlBytes'), 9 * c('beaconsSent'))
  assert.is(t.count(2, 'acksSent'), 1)
  assert.is(t.count(2, 'txControlBytes'), 9 * t.count(2, 'beaconsSent') + 11)
})

test.run()
