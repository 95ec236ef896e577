/**
 * Five nodes on loopback joined by the live hub in a chain (real UDP sockets, real time): ping
 * from one end to the other over AODV through the control socket, and traceroute shows 4 hops.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import { initNetwork, issueToNetwork, saveCertificate } from '../crypto/network-dir.ts'
import { Hub } from '../hardware/hub.ts'
import { validateHubTopology } from '../hardware/hub-topology.ts'
import { loadNodeConfig } from './config.ts'
import { controlRequest } from './control.ts'
import { MeshNode } from './node.ts'

const hex = (a: number) => a.toString(16).padStart(8, '0')

test('five nodes in a chain on the hub: ping end to end over AODV, traceroute shows 4 hops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-chain-'))
  const ids = Array.from({ length: 5 }, (_, i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  const topology = validateHubTopology({ nodes: ids.map((id, i) => ({ id: id.address, position: [i * 100, 0] })), range: 150, delayMs: 2 })
  const hub = await Hub.open({ topology, port: 0, seed: 1 })
  const nodes: MeshNode[] = []
  try {
    for (let i = 0; i < 5; i++) {
      const file = join(dir, `n${i}.yaml`)
      writeFileSync(file, [
        `identity: ./n${i}.key`,
        `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`,
        'security: { mode: open }',
        `control: { socket: ./n${i}.sock }`,
      ].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(file)))
    }
    const sock = join(dir, 'n0.sock')
    const pings = await controlRequest(sock, 'ping', { dst: hex(ids[4].address), count: 3, intervalMs: 100 }) as Array<{ rttMs: number | null; hopsThere?: number; hopsBack?: number }>
    assert.is(pings.length, 3)
    for (const p of pings) {
      assert.ok(p.rttMs !== null && p.rttMs > 0, `rtt ${p.rttMs}`)
      assert.is(p.hopsThere, 4)
      assert.is(p.hopsBack, 4)
    }
    const trace = await controlRequest(sock, 'traceroute', { dst: hex(ids[4].address) }) as Array<{ hop: number; node: number }>
    assert.equal(trace.map((h) => [h.hop, h.node]), [1, 2, 3, 4].map((k) => [k, ids[k].address]))
    const status = await controlRequest(sock, 'status') as { address: string; radio: { state: string }; neighbours: Array<{ address: string }>; routes: Array<{ dst: string; hops: number }> }
    assert.is(status.address, hex(ids[0].address))
    assert.is(status.radio.state, 'up')
    const radio = status.radio as unknown as { framesSent: number; airtimeMs: number; queued: number | null }
    assert.ok(radio.framesSent > 0 && radio.airtimeMs > 0 && radio.queued !== null, JSON.stringify(radio))
    assert.ok(status.routes.some((r) => r.dst === hex(ids[4].address) && r.hops === 4), JSON.stringify(status.routes))
  } finally {
    for (const n of nodes) await n.close()
    await hub.close()
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
