/**
 * The link layer over MultiRadio (hardware/multi-radio.ts): two nodes that each have a radio on
 * two media, in an authenticated network. Every broadcast arrives on both radios; the second copy
 * must not look like a replay (it did before MultiRadio dropped cross-radio copies: 139 replays
 * and 118 key requests for 20 broadcasts), and unicasts go on the radio the peer was heard on.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimScheduler } from '../core/scheduler.ts'
import { SeededRng } from '../core/rng.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { MockMedium } from '../hardware/mock-radio.ts'
import { MultiRadio } from '../hardware/multi-radio.ts'
import { SimNetwork, validateSimSecurity } from '../crypto/sim-network.ts'
import { peekLinkAddresses } from './link-frame.ts'
import { LinkLayer } from './link.ts'

for (const mode of ['open', 'authenticated'] as const) {
  test(`${mode}: two nodes on the same two media get each broadcast once, with no replays or key requests`, () => {
    const scheduler = new SimScheduler()
    const metrics = new MetricsRegistry()
    const net = new SimNetwork({ nodes: 2, security: validateSimSecurity({}), scheduler, rng: new SeededRng(5), metrics })
    const media = [new MockMedium({ scheduler }), new MockMedium({ scheduler })]
    const radios = [1, 2].map(() => new MultiRadio({ radios: media.map((m) => m.radio()), addresses: peekLinkAddresses }))
    const links = [1, 2].map((id) => new LinkLayer({
      address: id, radio: radios[id - 1], scheduler, rng: new SeededRng(id), metrics: metrics.scope('link', id), config: { beaconIntervalMs: 1000 },
      ...(mode === 'authenticated' ? { auth: net.node(id).link } : {}),
    }))
    const got: number[] = []
    links[1].port(9).on('receive', (rx) => got.push(rx.payload[0]))
    scheduler.run({ until: 5000 })
    for (let k = 0; k < 20; k++) scheduler.at(5000 + k * 500, () => links[0].send(0xffffffff, 9, new Uint8Array([k])))
    scheduler.run({ until: 60_000 })
    assert.equal(got, Array.from({ length: 20 }, (_, k) => k))
    const t = metrics.totals()
    assert.is(t.link.rxDuplicates, 0)
    if (mode === 'authenticated') {
      assert.is(t.sec.replayed, 0)
      assert.ok(t.sec.keyRequestsSent <= 2, `key requests ${t.sec.keyRequestsSent}`)
    }
    assert.ok(radios[1].duplicatesDropped >= 20, `copies dropped ${radios[1].duplicatesDropped}`)
    assert.is(radios[0].learnedRadio(2) !== undefined, true, 'node 1 learnt a radio for node 2 from accepted frames')
  })
}

test.run()
