import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr } from '../../core/addr.ts'
import { MetricsRegistry } from '../../core/metrics.ts'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { RandomWaypoint } from '../../hardware/mobility.ts'
import { placeUniform } from '../../hardware/placement.ts'
import { SimMedium } from '../../hardware/sim-medium.ts'
import { LinkLayer } from '../link.ts'
import { checkTree } from './maodv-fixtures.ts'
import { Maodv } from './maodv.ts'

const G = groupAddr(0)

test('moving nodes on the simulated 802.11-like medium: members get most packets, none twice, and the tree stays a tree', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(11)
  const metrics = new MetricsRegistry()
  const medium = new SimMedium({ scheduler, rng: rng.fork('medium'), metrics })
  const n = 24
  const start = placeUniform(n, 700, 300, rng.fork('placement'))
  const nodes: Maodv[] = []
  const links: LinkLayer[] = []
  const got = new Map<number, number[]>()
  for (let id = 1; id <= n; id++) {
    const mob = new RandomWaypoint({ rng: rng.fork('mob', id), width: 700, height: 300, minSpeed: 1, maxSpeed: 5, pauseMs: 0, start: start[id - 1] })
    const radio = medium.addNode(id, mob)
    const link = new LinkLayer({ address: id, radio, scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id) })
    const node = new Maodv({ link, scheduler, rng: rng.fork('maodv', id), metrics: metrics.scope('maodv', id) })
    node.on('deliver', (d) => got.set(id, [...(got.get(id) ?? []), d.payload[0] * 256 + d.payload[1]]))
    links.push(link)
    nodes.push(node)
  }
  const members = [2, 5, 9, 14, 17, 21, 24]
  for (const id of members) nodes[id - 1].join(G)
  const sender = 7 // not a member
  let sent = 0
  const tick = () => {
    nodes[sender - 1].send(G, Uint8Array.of(sent >> 8, sent & 0xff))
    sent++
    if (scheduler.now() < 75_000) scheduler.at(250, tick)
  }
  scheduler.at(15_000, tick)
  // Sample the tree while it moves: between breaks and repairs it must be a valid tree.
  const samples: string[] = []
  for (let t = 30_000; t <= 75_000; t += 5000) {
    scheduler.at(t, () => {
      const r = checkTree(nodes, G, members)
      samples.push(typeof r === 'string' ? r : 'ok')
    })
  }
  scheduler.run({ until: 77_000 })
  let delivered = 0
  for (const id of members) {
    const mine = got.get(id) ?? []
    assert.is(new Set(mine).size, mine.length, `member ${id} got no packet twice`)
    delivered += mine.length
  }
  const pdr = delivered / (sent * members.length)
  assert.ok(pdr > 0.85, `PDR ${pdr.toFixed(3)}`)
  assert.is(metrics.total('maodv', 'dataDelivered'), delivered)
  const valid = samples.filter((x) => x === 'ok').length
  assert.ok(valid >= 8, `valid tree in ${valid} of ${samples.length} samples: ${samples.join('; ')}`)
  for (const m of nodes) m.close()
  for (const l of links) l.close()
})

test.run()
