/**
 * Link security in a simulated network (issue 5 must-show): admitted nodes meet and exchange
 * keys; forged, modified, replayed frames and nodes with expired, revoked or foreign certificates
 * are refused, each with its own counter; an unadmitted node's frames are never delivered and so
 * never forwarded.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST } from '../core/addr.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium, type MockRadio } from '../hardware/mock-radio.ts'
import { TrustAnchor, issueRevocationList } from '../crypto/cert.ts'
import { LINK_DST_OFFSET, LINK_FLAG_AUTH, LINK_FLAG_BCAST, SEC_PROTO } from '../crypto/link-auth.ts'
import { SimNetwork, validateSimSecurity, type NodeSecurity } from '../crypto/sim-network.ts'
import { Flood } from './flood.ts'
import { FLAG_AUTH, FLAG_BCAST, decodeLinkFrame, encodeData } from './link-frame.ts'
import { LinkLayer } from './link.ts'
import type { Delivery } from './net-protocol.ts'
import { Proto } from './protocols.ts'

const DAY = 86_400

interface Node {
  id: number
  radio: MockRadio
  link: LinkLayer
  flood: Flood
  got: Delivery[]
  sec: NodeSecurity
}

/**
 * Honest nodes 1-2-3 in a chain; 4 (expired certificate), 5 (revoked), 6 (another network's
 * certificate) and 7 (valid, admitted) each next to node 1; a tap radio hears 1, 2 and 3 and can
 * transmit anything.
 */
function world(seed = 1) {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(seed)
  const metrics = new MetricsRegistry()
  const medium = new MockMedium({ scheduler, explicitLinks: true })
  const security = validateSimSecurity({})
  const net = new SimNetwork({ nodes: 7, security, scheduler, rng, metrics })
  const foreign = new SimNetwork({ nodes: 7, security, scheduler, rng: new SeededRng(seed + 1000), metrics: new MetricsRegistry() })
  const epoch = security.epoch
  const crl = issueRevocationList(net.authority, net.network, [5], 1, epoch)
  // The roster is the authority's view: node 4's certificate there is the expired one, node 6 is
  // not in it (it belongs to another network), node 5 is listed but revoked.
  net.certificates.set(4, net.issue(net.identities.get(4)!, 4, epoch - 30 * DAY, epoch - DAY))
  net.certificates.delete(6)
  foreign.certificates.delete(1) // so node 6 sends its certificate with its key request
  const custom: Record<number, () => NodeSecurity> = { 6: () => foreign.node(6) }
  const nodes: Node[] = []
  for (let id = 1; id <= 7; id++) {
    const radio = medium.radio({ name: `n${id}`, mtu: 1500, bitrate: 2_000_000 })
    const sec = custom[id]?.() ?? net.node(id, { trust: new TrustAnchor(net.network, crl) })
    const link = new LinkLayer({ address: id, radio, scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), auth: sec.link })
    const flood = new Flood({ link, scheduler, rng: rng.fork('flood', id), metrics: metrics.scope('flood', id) })
    const got: Delivery[] = []
    flood.on('deliver', (d) => got.push(d))
    nodes.push({ id, radio, link, flood, got, sec })
  }
  const pairs = [[1, 2], [2, 3], [1, 4], [1, 5], [1, 6], [1, 7]]
  for (const [a, b] of pairs) medium.connect(nodes[a - 1].radio, nodes[b - 1].radio)
  const tap = medium.radio({ name: 'tap', mtu: 1500, bitrate: 2_000_000 })
  for (const id of [1, 2, 3]) medium.connect(tap, nodes[id - 1].radio)
  const heard: Uint8Array[] = []
  tap.on('frame', (f) => heard.push(f.bytes.slice()))
  const sec = (id: number, name: string) => metrics.value('sec', id, name)
  return { scheduler, metrics, nodes, tap, heard, sec, net }
}

test('admitted neighbours exchange keys and every frame carries a 12-byte trailer; refused nodes get a counter per reason', () => {
  const w = world()
  w.scheduler.run({ until: 5000 })
  const [n1, n2, n3] = w.nodes
  assert.equal(n1.sec.link.associations().sort(), [2, 7])
  assert.equal(n2.sec.link.associations().sort(), [1, 3])
  assert.equal(n1.link.neighbours().map((n) => n.addr).sort(), [2, 7], 'only admitted nodes become neighbours')
  assert.is(w.sec(1, 'sealedBytes'), 12 * w.sec(1, 'sealed'))
  assert.ok(w.sec(1, 'certExpired') >= 1, 'node 4: expired certificate')
  assert.ok(w.sec(1, 'certRevoked') >= 1, 'node 5: revoked')
  assert.ok(w.sec(1, 'certWrongNetwork') >= 1, 'node 6: another network')
  assert.ok(w.sec(1, 'unknownSender') >= 3, 'their beacons are refused')
  assert.is(w.sec(1, 'badMac') + w.sec(1, 'replayed'), 0, 'nothing forged yet')
  // Data flows between admitted nodes.
  n1.flood.send(BROADCAST, Uint8Array.of(1, 2, 3))
  w.scheduler.run({ until: 6000 })
  assert.equal(n3.got.map((d) => [d.origin, [...d.payload]]), [[1, [1, 2, 3]]])
})

test('an unadmitted node is never heard, so its packets are neither delivered nor forwarded', () => {
  const w = world()
  w.scheduler.run({ until: 5000 })
  for (const id of [4, 5, 6]) w.nodes[id - 1].flood.send(BROADCAST, Uint8Array.of(id))
  w.scheduler.run({ until: 8000 })
  for (const n of w.nodes.slice(0, 3)) assert.equal(n.got, [], `node ${n.id} delivered nothing from 4, 5 or 6`)
  assert.is(w.metrics.value('flood', 1, 'forwarded'), 0, 'node 1 forwarded nothing')
  assert.ok(w.metrics.value('link', 1, 'rxRefused') >= 3)
  // Node 7 is admitted: its flood crosses node 1 and reaches 3.
  w.nodes[6].flood.send(BROADCAST, Uint8Array.of(7))
  w.scheduler.run({ until: 9000 })
  assert.equal(w.nodes[2].got.map((d) => d.origin), [7])
})

test('forged, modified and replayed frames are refused with their own counters and never delivered', () => {
  const w = world()
  w.scheduler.run({ until: 5000 })
  const [n1, n2] = w.nodes
  n1.flood.send(BROADCAST, Uint8Array.of(9, 9, 9))
  w.scheduler.run({ until: 5500 })
  const original = w.heard.find((b) => {
    const f = decodeLinkFrame(b)
    return f.kind === 'data' && f.src === 1 && f.proto === Proto.FLOOD
  })
  assert.ok(original, 'the tap heard node 1 flood')
  const before = n2.got.length
  // Replay: the same bytes again.
  w.tap.send(original!)
  w.scheduler.run({ until: 5600 })
  assert.is(w.sec(2, 'replayed'), 1)
  // Modified: one payload byte changed on the way.
  const modified = original!.slice()
  modified[modified.length - 13] ^= 0x40
  w.tap.send(modified)
  w.scheduler.run({ until: 5700 })
  assert.is(w.sec(2, 'badMac'), 1)
  // Forged: a frame claiming to be node 1's, with a made-up trailer.
  const body = encodeData(1, BROADCAST, 777, false, Proto.FLOOD, null, Uint8Array.of(1, 2, 3, 4))
  const forged = new Uint8Array(body.length + 12)
  forged.set(body)
  forged[0] |= FLAG_AUTH
  forged.fill(0x5a, body.length)
  w.tap.send(forged)
  // Forged without any trailer, and from an address nobody knows.
  w.tap.send(encodeData(1, BROADCAST, 778, false, Proto.FLOOD, null, Uint8Array.of(5)))
  const stranger = encodeData(4242, BROADCAST, 1, false, Proto.FLOOD, null, Uint8Array.of(6)).slice()
  const strangerSealed = new Uint8Array(stranger.length + 12)
  strangerSealed.set(stranger)
  strangerSealed[0] |= FLAG_AUTH
  w.tap.send(strangerSealed)
  w.scheduler.run({ until: 6000 })
  assert.is(w.sec(2, 'badMac'), 2)
  assert.is(w.sec(2, 'unauthenticated'), 1)
  assert.ok(w.sec(2, 'unknownSender') >= 1)
  assert.is(n2.got.length, before, 'nothing new delivered')
  assert.equal(w.nodes[2].got.map((d) => d.origin), [1], 'node 3 got the genuine flood once')
})

test('a revocation list installed mid-run cuts a node off; a certificate expiring mid-run does the same', () => {
  const w = world()
  w.scheduler.run({ until: 5000 })
  const [n1, n2] = w.nodes
  const crl = issueRevocationList(w.net.authority, w.net.network, [1, 5], 2, validateSimSecurity({}).epoch + 5)
  const revoked = n2.sec.store.updateRevocations(crl)
  assert.equal(revoked, [1])
  n1.flood.send(BROADCAST, Uint8Array.of(1))
  w.scheduler.run({ until: 8000 })
  assert.equal(n2.got, [], 'node 2 no longer hears node 1')
  assert.ok(w.sec(2, 'certRevoked') >= 1, 'its key requests are refused as revoked')
  assert.ok(w.metrics.value('link', 2, 'rxRefused') >= 1)
})

test('a node whose certificate expires while it runs is dropped by its neighbours at its first frame after expiry', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(3)
  const metrics = new MetricsRegistry()
  const medium = new MockMedium({ scheduler })
  const security = validateSimSecurity({ roster: false })
  const net = new SimNetwork({ nodes: 2, security, scheduler, rng, metrics })
  const short = net.issue(net.identities.get(1)!, 1, security.epoch - DAY, security.epoch + 10)
  const secs = [net.node(1, { certificate: short }), net.node(2)]
  const links = secs.map((sec, i) => new LinkLayer({ address: i + 1, radio: medium.radio({ mtu: 1500, bitrate: 2_000_000 }), scheduler, rng: rng.fork('link', i), metrics: metrics.scope('link', i + 1), auth: sec.link }))
  scheduler.run({ until: 5000 })
  assert.ok(secs[1].link.associations().includes(1), 'node 2 learnt node 1 (and its certificate) by handshake')
  assert.is(metrics.value('sec', 2, 'certsLearnt'), 1)
  scheduler.run({ until: 12_000 })
  assert.ok(metrics.value('sec', 2, 'expiredPeer') >= 1)
  assert.not.ok(secs[1].link.associations().includes(1))
  scheduler.run({ until: 20_000 })
  assert.ok(metrics.value('sec', 2, 'certExpired') >= 1, 'its new key requests are refused as expired')
  assert.ok(links[1].neighbours().every((n) => n.addr !== 1) || links[1].neighbours().length === 0)
})

test('on a LoRa-sized MTU (255) the handshake messages with certificates are fragmented and still complete', () => {
  const scheduler = new SimScheduler()
  const rng = new SeededRng(4)
  const metrics = new MetricsRegistry()
  const medium = new MockMedium({ scheduler })
  const net = new SimNetwork({ nodes: 2, security: validateSimSecurity({ roster: false }), scheduler, rng, metrics })
  const links = [1, 2].map((id) => new LinkLayer({ address: id, radio: medium.radio({ mtu: 255, bitrate: 50_000 }), scheduler, rng: rng.fork('link', id), metrics: metrics.scope('link', id), auth: net.node(id).link }))
  scheduler.run({ until: 8000 })
  assert.ok(metrics.total('link', 'fragmentsSent') >= 2, 'certificates do not fit one frame')
  assert.equal(links[0].neighbours().map((n) => n.addr), [2])
  assert.equal(links[1].neighbours().map((n) => n.addr), [1])
})

test('the link SEC protocol number and frame bits the authenticator reads match the link layer', () => {
  assert.is(SEC_PROTO, Proto.SEC)
  assert.is(LINK_FLAG_AUTH, FLAG_AUTH)
  assert.is(LINK_FLAG_BCAST, FLAG_BCAST)
  const unicast = encodeData(0x01020304, 0x0a0b0c0d, 1, false, 7, null, Uint8Array.of(1))
  assert.equal([...unicast.subarray(LINK_DST_OFFSET, LINK_DST_OFFSET + 4)], [0x0a, 0x0b, 0x0c, 0x0d])
})

test.run()
