/**
 * Test support (not exported from adhoc/index.ts): n nodes on a MockMedium with exact links and a
 * link layer each, the common base of the flooding, AODV and MAODV test networks. Node i has
 * address i (1-based) and rng forks 'medium' and ('link', i) of the seed, so networks built on it
 * are reproducible. With `security` (crypto/sim-network.ts fields, e.g. `{}` for authenticated with
 * a full roster) every link authenticates its frames and `security[i]` is node i+1's.
 */
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../hardware/mock-radio.ts'
import { SimNetwork, validateSimSecurity, type NodeSecurity } from '../crypto/sim-network.ts'
import type { LinkConfigInput } from './link-defaults.ts'
import { LinkLayer } from './link.ts'

export interface TestNetwork {
  scheduler: SimScheduler
  rng: SeededRng
  medium: MockMedium
  metrics: MetricsRegistry
  radios: MockRadio[]
  links: LinkLayer[]
  /** With `security`: the simulated network (authority, identities, certificates) and each node's security, index i = node i+1. */
  network?: SimNetwork
  security: NodeSecurity[]
}

export function testNetwork(
  n: number,
  pairs: ReadonlyArray<readonly [number, number]>,
  o: { seed?: number; loss?: number; link?: LinkConfigInput; security?: Record<string, unknown> } = {},
): TestNetwork {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(o.seed ?? 1)
  const medium = new MockMedium({ scheduler, explicitLinks: true, loss: o.loss, rng: rng.fork('medium') })
  const metrics = new MetricsRegistry()
  const radios = Array.from({ length: n }, (_, i) => medium.radio({ name: `n${i + 1}`, bitrate: 2_000_000, mtu: 1500 }))
  for (const [a, b] of pairs) medium.connect(radios[a - 1], radios[b - 1])
  const sec = o.security ? validateSimSecurity(o.security) : undefined
  const network = sec?.config.mode === 'authenticated' ? new SimNetwork({ nodes: n, security: sec, scheduler, rng, metrics }) : undefined
  const security: NodeSecurity[] = []
  const links = radios.map((radio, i) => {
    const id = i + 1
    const s = network?.node(id)
    if (s) security.push(s)
    return new LinkLayer({ address: id, radio, scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), config: o.link, auth: s?.link })
  })
  return { scheduler, rng, medium, metrics, radios, links, network, security }
}
