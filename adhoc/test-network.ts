/**
 * Test support (not exported from adhoc/index.ts): n nodes on a MockMedium with exact links and a
 * link layer each, the common base of the flooding, AODV and MAODV test networks. Node i has
 * address i (1-based) and rng forks 'medium' and ('link', i) of the seed, so networks built on it
 * are reproducible.
 */
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../hardware/mock-radio.ts'
import type { LinkConfigInput } from './link-defaults.ts'
import { LinkLayer } from './link.ts'

export interface TestNetwork {
  scheduler: SimScheduler
  rng: SeededRng
  medium: MockMedium
  metrics: MetricsRegistry
  radios: MockRadio[]
  links: LinkLayer[]
}

export function testNetwork(
  n: number,
  pairs: ReadonlyArray<readonly [number, number]>,
  o: { seed?: number; loss?: number; link?: LinkConfigInput } = {},
): TestNetwork {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(o.seed ?? 1)
  const medium = new MockMedium({ scheduler, explicitLinks: true, loss: o.loss, rng: rng.fork('medium') })
  const metrics = new MetricsRegistry()
  const radios = Array.from({ length: n }, (_, i) => medium.radio({ name: `n${i + 1}`, bitrate: 2_000_000, mtu: 1500 }))
  for (const [a, b] of pairs) medium.connect(radios[a - 1], radios[b - 1])
  const links = radios.map((radio, i) => {
    const id = i + 1
    return new LinkLayer({ address: id, radio, scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), config: o.link })
  })
  return { scheduler, rng, medium, metrics, radios, links }
}
