/**
 * Nodes on loopback joined by the live hub in a chain (real UDP sockets, real time): ping from one
 * end to the other over AODV through the control socket, traceroute shows 4 hops; send to a node
 * and to a multicast group (MAODV + anonymous gossip), trees in status; authenticated networks.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, saveIdentity, type Identity } from '../crypto/identity.ts'
import { initNetwork, issueToNetwork, saveCertificate } from '../crypto/network-dir.ts'
import { Hub } from '../hardware/hub.ts'
import { validateHubTopology } from '../hardware/hub-topology.ts'
import { loadNodeConfig } from './config.ts'
import { controlRequest } from './control.ts'
import { MeshNode } from './node.ts'
import { hubNodes } from './hub-nodes.ts'
import type { DeliveryView } from './traffic.ts'
import type { MultiRadio } from '../hardware/multi-radio.ts'

const hex = (a: number) => a.toString(16).padStart(8, '0')

/** Polls `check` every `every` ms (real I/O: the nodes run on real time) until it holds, or fails naming `what`. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms: number, every = 50): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.unreachable(`timed out after ${ms} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

interface Chain {
  dir: string
  ids: Identity[]
  nodes: MeshNode[]
  sock(i: number): string
  close(): Promise<void>
}

/** n nodes 100 m apart on one hub (range 150 m: a chain), each with `extra(i)` config lines. */
async function chain(n: number, extra: (i: number) => string[] = () => []): Promise<Chain> {
  const field = await hubNodes(n, { prefix: 'spinmesh-chain-' })
  const { dir, ids, hub } = field
  const nodes: MeshNode[] = []
  const close = async () => {
    for (const node of nodes) await node.close()
    await field.close()
  }
  try {
    for (let i = 0; i < n; i++) {
      const file = join(dir, `n${i}.yaml`)
      writeFileSync(file, [
        `identity: ./n${i}.key`,
        `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`,
        'security: { mode: open }',
        `control: { socket: ./n${i}.sock }`,
        ...extra(i),
      ].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(file)))
    }
  } catch (e) {
    await close()
    throw e
  }
  return { dir, ids, nodes, sock: (i) => join(dir, `n${i}.sock`), close }
}

test('five nodes in a chain on the hub: ping end to end over AODV, traceroute shows 4 hops', async () => {
  const c = await chain(5)
  const { ids } = c
  try {
    const sock = c.sock(0)
    const pings = await controlRequest(sock, 'ping', { dst: hex(ids[4].address), count: 3, intervalMs: 100 }) as Array<{ rttMs: number | null; hopsThere?: number; hopsBack?: number }>
    assert.is(pings.length, 3)
    for (const p of pings) {
      assert.ok(p.rttMs !== null && p.rttMs > 0, `rtt ${p.rttMs}`)
      assert.is(p.hopsThere, 4)
      assert.is(p.hopsBack, 4)
    }
    const trace = await controlRequest(sock, 'traceroute', { dst: hex(ids[4].address) }) as Array<{ hop: number; node: number }>
    assert.equal(trace.map((h) => [h.hop, h.node]), [1, 2, 3, 4].map((k) => [k, ids[k].address]))
    const status = await controlRequest(sock, 'status') as { address: string; radios: Array<{ kind: string; state: string; framesSent: number; airtimeMs: number; queued: number | null }>; routes: Array<{ dst: string; hops: number }>; multicast: { protocol: string | null } }
    assert.is(status.address, hex(ids[0].address))
    assert.is(status.radios.length, 1)
    const radio = status.radios[0]
    assert.is(radio.state, 'up')
    assert.ok(radio.framesSent > 0 && radio.airtimeMs > 0 && radio.queued !== null, JSON.stringify(radio))
    assert.ok(status.routes.some((r) => r.dst === hex(ids[4].address) && r.hops === 4), JSON.stringify(status.routes))
    assert.is(status.multicast.protocol, null)
    // No multicast section: group traffic is refused by name.
    await controlRequest(sock, 'send', { dst: 'group:1', text: 'x' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no multicast section/))
  } finally {
    await c.close()
  }
})

test('send and multicast: a text reaches a node 3 hops away; a group message reaches the members, whose trees show in status', async () => {
  // Nodes 1 and 3 join group:7 from their config; node 2 joins at run time; node 0 only sends.
  // Route discovery sized to this 4-node chain (the defaults search up to 35 hops: ≈ 10 s before
  // the first member of a new group makes itself leader).
  const c = await chain(4, (i) => ['multicast:', '  protocol: maodv+ag', `  groups: [${i === 1 || i === 3 ? 7 : ''}]`, '  config: { maodv: { netDiameter: 5, ttlThreshold: 3 } }'])
  const { ids, nodes } = c
  try {
    const got = nodes.map(() => [] as DeliveryView[])
    nodes.forEach((n, i) => n.traffic.on('deliver', (d) => got[i].push(d)))
    assert.equal(await controlRequest(c.sock(2), 'join', { group: 'group:7' }), { groups: ['group:7'] })
    const r = await controlRequest(c.sock(0), 'send', { dst: hex(ids[3].address), text: 'hello over 3 hops' })
    assert.equal(r, { dst: hex(ids[3].address), bytes: 17 })
    await eventually(() => got[3].some((d) => d.text === 'hello over 3 hops'), 'unicast delivered', 10_000)
    const d = got[3].find((x) => x.text === 'hello over 3 hops')!
    assert.equal([d.from, d.to, d.hops], [hex(ids[0].address), hex(ids[3].address), 3])
    // Multicast from a non-member: it joins the tree as a sender; members deliver.
    let sent = 0
    await eventually(async () => {
      await controlRequest(c.sock(0), 'send', { dst: 'group:7', hex: '00ff' + (sent++).toString(16).padStart(2, '0') })
      return [1, 2, 3].every((i) => got[i].some((x) => x.to === 'group:7'))
    }, 'every member delivered a group message', 20_000, 300)
    assert.ok(got[0].every((x) => x.to !== 'group:7'), 'the non-member sender delivers nothing to itself')
    const g = got[3].find((x) => x.to === 'group:7')!
    assert.equal([g.from, g.text, g.hex?.slice(0, 4)], [hex(ids[0].address), undefined, '00ff'])
    const status = await controlRequest(c.sock(3), 'status') as { multicast: { protocol: string; groups: string[]; delivered: number; trees: Array<{ group: string; member: boolean; links: unknown[] }>; recent: DeliveryView[] } }
    assert.is(status.multicast.protocol, 'maodv+ag')
    assert.equal(status.multicast.groups, ['group:7'])
    const tree = status.multicast.trees.find((t) => t.group === 'group:7')
    assert.ok(tree && tree.member && tree.links.length >= 1, JSON.stringify(status.multicast.trees))
    assert.ok(status.multicast.delivered >= 2 && status.multicast.recent.length >= 2)
    assert.equal(await controlRequest(c.sock(2), 'leave', { group: '7' }), { groups: [] })
    await controlRequest(c.sock(0), 'send', { dst: 'nonsense', text: 'x' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /not an address/))
    await controlRequest(c.sock(0), 'send', { dst: 'group:7' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /needs text/))
    const max = nodes[0].traffic.maxPayload(ids[3].address)
    assert.ok(max > 100 && max < 60_000, `max payload ${max}`)
    await controlRequest(c.sock(0), 'send', { dst: hex(ids[3].address), text: 'x'.repeat(max + 1) }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, new RegExp(`${max + 1} bytes exceed the ${max}`)))
  } finally {
    await c.close()
  }
})

test('a node with two radios bridges two segments: A (hub 1) pings C (hub 2) through B, which has a radio on each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-bridge-'))
  const [a, b, cc] = [0, 1, 2].map((i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  const segment = (ids: Identity[]) => validateHubTopology({ nodes: ids.map((id, i) => ({ id: id.address, position: [i * 100, 0] })), range: 150, delayMs: 2 })
  const hub1 = await Hub.open({ topology: segment([a, b]), port: 0, seed: 1 })
  const hub2 = await Hub.open({ topology: segment([b, cc]), port: 0, seed: 2 })
  const nodes: MeshNode[] = []
  try {
    const hubRadio = (h: Hub) => `{ kind: hub, hub: 127.0.0.1:${h.port} }`
    const radios = [[hubRadio(hub1)], [hubRadio(hub1), hubRadio(hub2)], [hubRadio(hub2)]]
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `n${i}.yaml`)
      const radioLines = radios[i].length === 1 ? [`radio: ${radios[i][0]}`] : ['radios:', ...radios[i].map((r) => `  - ${r}`)]
      writeFileSync(file, [`identity: ./n${i}.key`, ...radioLines, 'security: { mode: open }', `control: { socket: ./n${i}.sock }`].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(file)))
    }
    assert.is(nodes[1].radios.length, 2)
    const pings = await nodes[0].diag.ping(cc.address, { count: 2, intervalMs: 100 })
    assert.ok(pings.every((p) => p.rttMs !== null && p.hopsThere === 2 && p.hopsBack === 2), JSON.stringify(pings))
    const status = await controlRequest(join(dir, 'n1.sock'), 'status') as { radios: Array<{ kind: string; state: string; framesSent: number }>; neighbours: Array<{ address: string }> }
    assert.equal(status.radios.map((r) => [r.kind, r.state]), [['hub', 'up'], ['hub', 'up']])
    assert.ok(status.radios.every((r) => r.framesSent > 0), JSON.stringify(status.radios))
    assert.equal(status.neighbours.map((n) => n.address).sort(), [hex(a.address), hex(cc.address)].sort())
    // B learnt which radio hears whom: its unicasts to A go on radio 0 only, to C on radio 1 only.
    const multi = nodes[1].radio as MultiRadio
    assert.is(multi.learnedRadio(a.address), 0)
    assert.is(multi.learnedRadio(cc.address), 1)
  } finally {
    for (const n of nodes) await n.close()
    await hub1.close()
    await hub2.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an authenticated network: nodes load their certificates from files, ping works, a node without one is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-auth-'))
  const netDir = join(dir, 'net')
  initNetwork(netDir, 'test-net')
  const ids = [0, 1].map((i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    saveCertificate(issueToNetwork(netDir, id, { roles: ['relay'], days: 30, now: Date.now() / 1000 }), join(dir, `n${i}.cert`))
    return id
  })
  const topology = validateHubTopology({ nodes: ids.map((id, i) => ({ id: id.address, position: [i * 100, 0] })), range: 150, delayMs: 2 })
  const hub = await Hub.open({ topology, port: 0, seed: 1 })
  const nodes: MeshNode[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const file = join(dir, `n${i}.yaml`)
      writeFileSync(file, [`identity: ./n${i}.key`, `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`, 'security: { mode: authenticated, network: ./net }'].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(file)))
    }
    const pings = await nodes[0].diag.ping(ids[1].address, { count: 2, intervalMs: 100 })
    assert.ok(pings.every((p) => p.rttMs !== null && p.hopsThere === 1), JSON.stringify(pings))
    const sec = (nodes[1].status().counters as Record<string, Record<string, number>>).sec
    assert.ok(sec.keysAccepted > 0 && sec.opened > 0, `link keys exchanged and frames authenticated: ${JSON.stringify(sec)}`)
    // A node whose key has no certificate does not start.
    const stranger = generateIdentity()
    saveIdentity(stranger, join(dir, 'x.key'))
    writeFileSync(join(dir, 'x.yaml'), ['identity: ./x.key', `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`, 'security: { mode: authenticated, network: ./net }'].join('\n'))
    await MeshNode.start(loadNodeConfig(join(dir, 'x.yaml'))).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no certificate at .*x\.cert/))
  } finally {
    for (const n of nodes) await n.close()
    await hub.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
