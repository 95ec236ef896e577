/**
 * Tree consistency while nodes move fast (20 m/s) on the simulated 802.11-like medium, built by
 * the field-test runner: the activated links of all nodes, sampled twice a second, never contain a
 * cycle of upstream links, and a link that only one end holds is resolved within a bound set by
 * the rule that detects it:
 *
 * - when data flowed at the holding end as the link became one-sided (it saw a packet within
 *   dataActiveMs; its links stay watched for 2 × treeLivenessMs after the flow stops, which it may
 *   have done because of this very link), ONE_SIDED_BUSY_MS = 2 s: a neighbour out of reach is
 *   probed after treeLivenessMs (750 ms) of silence and dropped at the probe's NO_ACK (≈ 0.1 s) or
 *   after a second silent period; one in reach that dropped us lists its tree neighbours in a
 *   hello at least every 4 × treeHelloIntervalMs (1 s), or refuses our probe with a MACT-R, or is
 *   heard relaying a join request; plus the liveness tick (≤ 190 ms): 2 × 750 + 190 + 100 ms.
 *   Both ends of a link that moves out of reach notice on their own (neither can tell the other),
 *   so such windows are inherent; what is bounded is how long they last. (Before the watch went on
 *   past the end of the flow, seed 3 kept one for 3.5 s.)
 * - otherwise (an idle tree), ONE_SIDED_IDLE_MS = 6 s: no liveness rule applies while no data
 *   flows (PROTOCOLS.md §2); an idle tree node lists its neighbours in a hello every
 *   idleHelloIntervalMs (5 s), and the link layer expires a neighbour out of reach after 3.5 s;
 *   plus a second for the tick and slack. (Seeds 1–10 reach 1.0 s busy and 3.0 s idle, as sampled.)
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr, type Addr } from '../../core/addr.ts'
import { buildSimulation } from '../../field-tests/runner.ts'
import { parseScenario } from '../../field-tests/scenario.ts'
import { dataAge, upstreamCycle } from './maodv-fixtures.ts'
import type { Maodv } from './maodv.ts'

const G = groupAddr(0)
const ONE_SIDED_BUSY_MS = 2000
const ONE_SIDED_IDLE_MS = 6000
const DATA_ACTIVE_MS = 2000

function scenario(seed: number): string {
  return `
name: maodv-symmetry
seed: ${seed}
duration: 80
nodes: { count: 30, placement: uniform }
field: { width: 1000, height: 300 }
radio: { range: 250, bitrate: 2000000, mtu: 1500, loss: 0 }
mobility: { model: random-waypoint, minSpeed: 1, maxSpeed: 20, pause: 0 }
protocol: maodv
traffic:
  - { pattern: multicast, group: 0, senders: 1, receivers: 12, start: [5, 10], stop: 79, rate: 2, size: 256 }
`
}

interface Episode {
  since: number
  /** Data flowed at the holding end when the link was first seen one-sided. */
  busy: boolean
}

for (const seed of [1, 3]) {
  test(`20 m/s, seed ${seed}: no cycle of upstream links ever, and one-sided links are short-lived`, () => {
    const sim = buildSimulation(parseScenario(scenario(seed)))
    const nodes = [...sim.protocols.values()] as Maodv[]
    const byAddr = new Map<Addr, Maodv>(nodes.map((n) => [n.address, n]))
    const cycles: string[] = []
    const tooLong: string[] = []
    const open = new Map<string, Episode>()
    let samples = 0
    let oneSidedSamples = 0
    let episodes = 0
    const sample = (): void => {
      const now = sim.scheduler.now()
      samples++
      const cycle = upstreamCycle(nodes, G)
      if (cycle !== undefined) cycles.push(`${now} ms: ${cycle.join(' -> ')}`)
      const seen = new Set<string>()
      for (const a of nodes) {
        for (const l of a.tree(G)?.links ?? []) {
          if (byAddr.get(l.neighbour)?.tree(G)?.links.some((x) => x.neighbour === a.address)) continue
          const key = `${a.address}>${l.neighbour}`
          seen.add(key)
          if (!open.has(key)) open.set(key, { since: now, busy: dataAge(a, G) <= DATA_ACTIVE_MS })
        }
      }
      if (seen.size > 0) oneSidedSamples++
      for (const [key, e] of open) {
        const age = now - e.since
        const limit = e.busy ? ONE_SIDED_BUSY_MS : ONE_SIDED_IDLE_MS
        if (age > limit) tooLong.push(`${key} one-sided for ${age} ms by ${now} ms (${e.busy ? 'data flowing' : 'idle'})`)
        if (!seen.has(key)) {
          open.delete(key)
          episodes++
        }
      }
    }
    for (let t = 500; t <= 80_000; t += 500) {
      sim.scheduler.run({ until: t })
      sample()
    }
    const delivered = sim.metrics.total('maodv', 'dataDelivered')
    for (const p of sim.protocols.values()) p.close()
    for (const l of sim.links.values()) l.close()
    assert.ok(delivered > 0, 'data flowed')
    assert.ok(episodes > 0, 'links did break while nodes moved (the check is not vacuous)')
    assert.equal(cycles, [], 'no cycle of upstream links')
    assert.equal(tooLong, [], `one-sided links past their bound (one-sided in ${oneSidedSamples} of ${samples} samples)`)
  })
}

test.run()
