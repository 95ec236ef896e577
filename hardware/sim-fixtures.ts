/**
 * Test fixtures for the simulated medium (used by hardware/*.test.ts; not exported by index.ts):
 * a medium with static nodes at given positions, every node's received frames, and its counters.
 */
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { StaticMobility } from './mobility.ts'
import type { RxFrame } from './radio.ts'
import type { SimRadioConfig } from './sim-defaults.ts'
import { SimMedium } from './sim-medium.ts'
import type { MediumCounterName, SimRadio } from './sim-radio.ts'

export interface Field {
  scheduler: SimScheduler
  medium: SimMedium
  metrics: MetricsRegistry
  /** radios[k] is node k + 1 */
  radios: SimRadio[]
  /** heard[k]: frames received by node k + 1 */
  heard: RxFrame[][]
  /** Counter of node `id`. */
  count(id: number, name: MediumCounterName): number
}

/** Nodes 1..n at the given (x, y) metres. */
export function staticField(points: Array<[number, number]>, radio?: Partial<SimRadioConfig>, seed: number | string = 1): Field {
  const scheduler = new SimScheduler()
  const metrics = new MetricsRegistry()
  const medium = new SimMedium({ scheduler, rng: new SeededRng(seed), radio, metrics })
  const radios = points.map(([x, y], k) => medium.addNode(k + 1, new StaticMobility({ x, y })))
  const heard = radios.map((r) => {
    const got: RxFrame[] = []
    r.on('frame', (f) => got.push(f))
    return got
  })
  return { scheduler, medium, metrics, radios, heard, count: (id, name) => metrics.value('medium', id, name) }
}

/** A frame of `n` bytes whose first byte is `tag`. */
export function frame(tag: number, n = 100): Uint8Array {
  const b = new Uint8Array(n)
  b[0] = tag
  return b
}
