// The live hub on 127.0.0.1 with real HubRadio clients: who hears whom, loss, delay, airtime
// serialisation, run-time link changes. Every wait is on an event with a failing timeout; timing is
// asserted as lower bounds only.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { until } from './state-wait.ts'
import { RealScheduler, type Scheduler } from '../core/scheduler.ts'
import { configError } from '../core/testing.ts'
import { Hub, type HubOptions } from './hub.ts'
import { HubRadio } from './hub-radio.ts'
import { chain, parseHubTopology, type HubTopology } from './hub-topology.ts'
import type { RxFrame } from './radio.ts'
import { validateHubConfig } from './udp-defaults.ts'



interface Net {
  hub: Hub
  radios: Map<number, HubRadio>
  /** Frames heard per node: [sender (first byte), rx]. */
  heard: Map<number, Array<{ from: number; f: RxFrame }>>
  close(): Promise<void>
}

/** A hub and one HubRadio per node id in `ids` (default every topology node), all up. */
async function net(topology: HubTopology, opts: Partial<HubOptions> = {}, ids?: number[], scheduler?: Scheduler): Promise<Net> {
  const hub = await Hub.open({ topology, port: 0, ...opts })
  const radios = new Map<number, HubRadio>()
  const heard = new Map<number, Array<{ from: number; f: RxFrame }>>()
  const list = ids ?? topology.nodes.map((n) => n.id)
  const opened = await Promise.all(list.map((node) => HubRadio.open({ node, hubPort: hub.port, helloIntervalMs: 10, queueLimit: 1024, scheduler })))
  for (const r of opened) {
    radios.set(r.node, r)
    const got: Array<{ from: number; f: RxFrame }> = []
    heard.set(r.node, got)
    r.on('frame', (f) => got.push({ from: f.bytes[0], f }))
  }
  return {
    hub, radios, heard,
    close: async () => {
      await Promise.all([...radios.values()].map((r) => r.close()))
      await hub.close()
    },
  }
}

/** Every node sends one frame (its id); wait for the expected deliveries and check nothing else was forwarded. */
async function exchange(n: Net, expected: Record<number, number[]>): Promise<void> {
  for (const [id, r] of n.radios) r.send(Uint8Array.of(id, 0xee))
  const total = Object.values(expected).reduce((s, l) => s + l.length, 0)
  const count = (): number => [...n.heard.values()].reduce((s, l) => s + l.length, 0)
  await until(() => count() >= total, [...n.radios.values()].map((r) => [r, 'frame'] as const), `${total} deliveries`)
  await until(() => n.hub.stats.frames === n.radios.size && n.hub.pending === 0, [[n.hub, 'frame'], [n.hub, 'copy']], 'the hub to be idle')
  // Everything the hub forwarded has been heard, so nothing else is on its way.
  assert.is(n.hub.linkStats().reduce((s, l) => s + l.delivered, 0), total, 'copies forwarded by the hub')
  for (const [id, got] of n.heard) assert.equal(got.map((g) => g.from).sort(), [...(expected[id] ?? [])].sort(), `node ${id} heard`)
}

test('the hub forwards only within range; explicit links override range both ways (YAML topology)', async () => {
  const t = parseHubTopology(`
nodes:
  - { id: 1, position: [0, 0] }
  - { id: 2, position: [80, 0] }
  - { id: 3, position: [400, 0] }
  - { id: 4, position: [90, 0] }
range: 100
links:
  - { a: 2, b: 3 }            # 320 m apart, linked anyway
  - { a: 1, b: 4, up: false } # 90 m apart, cut
`)
  const n = await net(t)
  try {
    assert.equal(n.hub.neighbours(1).map((l) => l.to), [2])
    await exchange(n, { 1: [2], 2: [1, 3, 4], 3: [2], 4: [2] })
  } finally {
    await n.close()
  }
})

test('a 5-node chain forwards only to neighbours', async () => {
  const n = await net(chain(5))
  try {
    await exchange(n, { 1: [2], 2: [1, 3], 3: [2, 4], 4: [3, 5], 5: [4] })
    assert.equal(n.hub.linkStats().map((l) => `${l.from}>${l.to}`), ['1>2', '2>1', '2>3', '3>2', '3>4', '4>3', '4>5', '5>4'])
  } finally {
    await n.close()
  }
})

async function lossRun(seed: number): Promise<{ lost: number; heard: number }> {
  const N = 300
  const n = await net(chain(2, { loss: 0.3, bitrate: 1e8 }), { seed })
  try {
    const a = n.radios.get(1)!
    for (let i = 0; i < N; i++) a.send(Uint8Array.of(1, i & 0xff))
    await until(() => n.hub.stats.frames === N && n.hub.pending === 0, [[n.hub, 'frame'], [n.hub, 'copy']], `${N} frames through the hub`)
    const [link] = n.hub.linkStats()
    assert.is(link.frames, N)
    assert.is(link.lost + link.delivered, N)
    const heard = n.heard.get(2)!
    await until(() => heard.length === link.delivered, [[n.radios.get(2)!, 'frame']], 'every forwarded copy')
    return { lost: link.lost, heard: heard.length }
  } finally {
    await n.close()
  }
}

test('loss: each copy is lost with the link probability, from a seeded Rng (same seed, same losses)', async () => {
  const first = await lossRun(7)
  // Binomial(300, 0.3): mean 90, sd 7.9; ±4 sd.
  assert.ok(first.lost >= 58 && first.lost <= 122, `lost ${first.lost} of 300 at p = 0.3`)
  assert.is(first.heard, 300 - first.lost)
  const again = await lossRun(7)
  assert.is(again.lost, first.lost, 'the same seed and frames give the same losses')
})

test('delay and airtime: arrivals come no earlier than airtime (serialised per sender) + delay', async () => {
  // 8,000 bit/s: a 10-byte frame is 10 ms on air; link delay 20 ms + up to 5 ms jitter.
  const clock = new RealScheduler()
  const n = await net(chain(2, { bitrate: 8000, delayMs: 20, jitterMs: 5 }), {}, undefined, clock)
  try {
    const a = n.radios.get(1)!
    const t0 = clock.now()
    for (let i = 0; i < 3; i++) a.send(new Uint8Array(10).fill(i))
    const heard = n.heard.get(2)!
    await until(() => heard.length === 3, [[n.radios.get(2)!, 'frame']], 'three frames')
    heard.forEach((h, k) => {
      assert.is(h.f.bytes[0], k, 'in order')
      const lower = 10 * (k + 1) + 20
      assert.ok(h.f.at - t0 >= lower, `frame ${k} arrived after ${(h.f.at - t0).toFixed(1)} ms, before ${lower} ms`)
    })
  } finally {
    await n.close()
  }
})

test('links can be cut, restored and re-parameterised at run time; counters per link', async () => {
  const n = await net(chain(2))
  try {
    const [a, b] = [n.radios.get(1)!, n.radios.get(2)!]
    const heard = n.heard.get(2)!
    n.hub.setLink(1, 2, false)
    assert.equal(n.hub.neighbours(1), [])
    a.send(Uint8Array.of(10))
    n.hub.once('frame', () => {
      n.hub.setLink(1, 2, true)
      a.send(Uint8Array.of(11))
    })
    await until(() => heard.length === 1, [[b, 'frame']], 'the frame sent after the link came back')
    assert.equal(heard.map((h) => h.from), [11])
    n.hub.setLink(2, 1, { loss: 1 })
    a.send(Uint8Array.of(12))
    await until(() => n.hub.stats.frames === 3 && n.hub.pending === 0, [[n.hub, 'frame'], [n.hub, 'copy']], 'frame 12 at the hub')
    assert.equal(n.hub.linkStats(), [{ from: 1, to: 2, frames: 2, lost: 1, delivered: 1, bytes: 1, unheard: 0 }])
    n.hub.resetLinks()
    assert.is(n.hub.neighbours(1)[0].loss, 0)
    assert.throws(() => n.hub.setLink(1, 9, true), /b = 9 is not a node/)
  } finally {
    await n.close()
  }
})

test('copies due to a node that is not connected are counted unheard; BYE unregisters at once', async () => {
  const n = await net(chain(3), {}, [1, 2])
  try {
    const joins: string[] = []
    n.hub.on('client', (c) => joins.push(`${c.event} ${c.node} ${c.reason}`))
    n.radios.get(2)!.send(Uint8Array.of(2))
    await until(() => n.hub.linkStats().length === 2 && n.hub.pending === 0, [[n.hub, 'copy']], 'two copies')
    assert.equal(n.hub.linkStats().map((l) => [l.to, l.delivered, l.unheard]), [[1, 1, 0], [3, 0, 1]])
    assert.equal(n.hub.clients(), [1, 2])
    await n.radios.get(1)!.close()
    await until(() => n.hub.clients().length === 1, [[n.hub, 'client']], 'node 1 to leave')
    assert.equal(joins, ['leave 1 bye'])
  } finally {
    await n.close()
  }
})

test('a sender faster than the emulated bitrate is refused beyond maxBacklogMs', async () => {
  // 100 bytes at 8,000 bit/s = 100 ms on air; the second frame would start 100 ms out (> 50).
  const n = await net(chain(2, { bitrate: 8000 }), { maxBacklogMs: 50 })
  try {
    const a = n.radios.get(1)!
    for (let i = 0; i < 3; i++) a.send(new Uint8Array(100).fill(i))
    await until(() => n.hub.stats.frames + n.hub.stats.backlogDrops === 3, [[n.hub, 'frame'], [n.hub, 'backlog']], 'three frames at the hub')
    assert.equal([n.hub.stats.frames, n.hub.stats.backlogDrops], [1, 2])
  } finally {
    await n.close()
  }
})

test('hub: binding a port in use rejects naming it; config errors name the field', async () => {
  const hub = await Hub.open({ topology: chain(2), port: 0 })
  try {
    await Hub.open({ topology: chain(2), port: hub.port })
    assert.unreachable('second bind should fail')
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`cannot bind 127\\.0\\.0\\.1:${hub.port}: EADDRINUSE`))
  } finally {
    await hub.close()
  }
  assert.is(configError(() => validateHubConfig({ port: 70_000 })).path, 'hub.port')
  assert.is(configError(() => validateHubConfig({ maxPending: 0 })).path, 'hub.maxPending')
  assert.is(configError(() => validateHubConfig({ host: 'localhost' })).path, 'hub.host')
})

test.run()
