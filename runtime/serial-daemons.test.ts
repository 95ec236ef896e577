/**
 * Two nodes on emulated serial radios: each node's SerialRadio opens one end of a socat pty pair,
 * a firmware emulator (a transparent radio module on the live hub) sits on the other end. They
 * ping each other; killing one socat drops that node's radio (reconnecting), a new pty at the same
 * path brings it up again, and a ping then gets through again.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RealScheduler } from '../core/scheduler.ts'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import { Hub } from '../hardware/hub.ts'
import { HubRadio } from '../hardware/hub-radio.ts'
import { validateHubTopology } from '../hardware/hub-topology.ts'
import { cobsFraming } from '../hardware/serial-framing.ts'
import { SerialLink } from '../hardware/serial-link.ts'
import { SocatPair } from '../hardware/socat.ts'
import { untilState } from '../hardware/state-wait.ts'
import { loadNodeConfig } from './config.ts'
import { RadioEmulator } from './emulator.ts'
import { MeshNode } from './node.ts'


test('two daemons on emulated serial radios ping each other, and recover from an unplugged device', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-serial-'))
  const scheduler = new RealScheduler({ unref: true })
  const ids = [generateIdentity(), generateIdentity()]
  ids.forEach((id, i) => saveIdentity(id, join(dir, `n${i}.key`)))
  const hub = await Hub.open({ topology: validateHubTopology({ nodes: ids.map((id, i) => ({ id: id.address, position: [i * 100, 0] })), range: 150, delayMs: 2 }), port: 0, seed: 1 })
  const pairs = [0, 1].map((i) => new SocatPair(join(dir, `host${i}`), join(dir, `module${i}`)))
  const emulators: RadioEmulator[] = []
  const nodes: MeshNode[] = []
  try {
    for (const p of pairs) await p.start()
    for (let i = 0; i < 2; i++) {
      const air = await HubRadio.open({ node: ids[i].address, hubHost: '127.0.0.1', hubPort: hub.port, mtu: 240, scheduler })
      emulators.push(new RadioEmulator({
        serial: new SerialLink({ match: { path: pairs[i].b }, baudRate: 115200, scheduler, backoff: { initialMs: 20, maxMs: 100 } }),
        framing: cobsFraming(240), air, scheduler,
      }))
      writeFileSync(join(dir, `n${i}.yaml`), [
        `identity: ./n${i}.key`,
        `radio: { kind: serial, device: { path: ./host${i} }, framing: cobs, mtu: 240, bitrate: 115200, frameTtlMs: 5000 }`,
        'link: { beaconIntervalMs: 0 }',
        'security: { mode: open }',
      ].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(join(dir, `n${i}.yaml`)), { scheduler }))
    }
    await Promise.all(nodes.map((n) => untilState(n.radio, 'up', 8000)))
    const first = await nodes[0].diag.ping(ids[1].address, { count: 2, intervalMs: 100 })
    assert.ok(first.every((p) => p.rttMs !== null && p.hopsThere === 1), JSON.stringify(first))
    const back = await nodes[1].diag.ping(ids[0].address, { count: 1 })
    assert.ok(back[0].rttMs !== null, 'and the other way')

    // Unplug node 0's radio: its serial link goes down (reconnecting).
    const reconnecting = untilState(nodes[0].radio, 'reconnecting', 8000)
    await pairs[0].kill()
    nodes[0].radio.send(Uint8Array.of(1, 2, 3)) // a write to the dead pty is noticed at once
    await reconnecting
    // A new pty at the same path: the node finds it again and the mesh works again.
    await pairs[0].start()
    await untilState(nodes[0].radio, 'up', 8000)
    const after = await nodes[0].diag.ping(ids[1].address, { count: 2, intervalMs: 200 })
    assert.ok(after.some((p) => p.rttMs !== null), `after the replug: ${JSON.stringify(after)}`)
    assert.ok(emulators[0].stats.toAir > 0 && emulators[1].stats.toHost > 0)
  } finally {
    for (const n of nodes) await n.close()
    for (const e of emulators) await e.close()
    for (const p of pairs) await p.kill()
    await hub.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
