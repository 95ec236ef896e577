/**
 * The serial must-show with real processes: socat makes a pty pair per node; a `spinmesh
 * emulator` (a transparent radio module on the hub's air) holds one end, a `spinmesh run` daemon
 * (serial radio, COBS framing) the other. The daemons ping each other; killing one socat makes
 * that daemon report `radio reconnecting`, a new pty at the same path brings it back `up`, and
 * pings get through again.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatNodeAddress } from '../core/addr.ts'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import { SocatPair } from '../hardware/socat.ts'
import { daemon, outputMatches, run, stop } from './processes.ts'

test('two spinmesh run daemons on emulated serial radios: ping, unplug (reconnecting), replug (up), ping again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-serial-proc-'))
  const ids = [0, 1].map((i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  writeFileSync(join(dir, 'air.yaml'), ['range: 150', 'delayMs: 2', 'nodes:', ...ids.map((id, i) => `  - { id: ${id.address}, position: [${i * 100}, 0] }`)].join('\n'))
  const pairs = [0, 1].map((i) => new SocatPair(join(dir, `host${i}`), join(dir, `module${i}`)))
  const procs: ChildProcess[] = []
  try {
    for (const p of pairs) await p.start()
    const hub = await daemon(['hub', '--topology', join(dir, 'air.yaml'), '--port', '0'], /hub listening on 127\.0\.0\.1:\d+/)
    procs.push(hub.proc)
    const port = /127\.0\.0\.1:(\d+)/.exec(hub.out.join(''))![1]
    const nodes: Array<{ proc: ChildProcess; out: string[] }> = []
    for (let i = 0; i < 2; i++) {
      procs.push((await daemon(['emulator', '--device', pairs[i].b, '--framing', 'cobs', '--hub', `127.0.0.1:${port}`, '--node', formatNodeAddress(ids[i].address)], /emulator on/)).proc)
      writeFileSync(join(dir, `n${i}.yaml`), [
        `identity: ./n${i}.key`,
        `radio: { kind: serial, device: { path: ./host${i} }, framing: cobs, mtu: 240, bitrate: 115200, frameTtlMs: 5000 }`,
        'link: { beaconIntervalMs: 0 }',
        'security: { mode: open }',
        `control: { socket: ./n${i}.sock }`,
      ].join('\n'))
      const n = await daemon(['run', '--config', join(dir, `n${i}.yaml`)], /running/)
      procs.push(n.proc)
      nodes.push(n)
    }
    await Promise.all(nodes.map((n) => outputMatches(n.proc, n.out, /radio up/)))
    const ping = (from: number, to: number) => run(['ping', formatNodeAddress(ids[to].address), '--count', '2', '--config', join(dir, `n${from}.yaml`)])
    const first = await ping(0, 1)
    assert.is(first.code, 0, first.out)
    assert.match(first.out, /1 hops there, 1 back/)
    assert.is((await ping(1, 0)).code, 0)

    // Unplug node 0's radio: socat goes away with both ptys.
    await pairs[0].kill()
    await run(['ping', formatNodeAddress(ids[1].address), '--count', '1', '--config', join(dir, 'n0.yaml')]) // a write notices the dead pty
    await outputMatches(nodes[0].proc, nodes[0].out, /radio reconnecting/)
    // Plug it back: a new pty at the same path.
    await pairs[0].start()
    await outputMatches(nodes[0].proc, nodes[0].out, /radio reconnecting[\s\S]*radio up/)
    const again = await ping(0, 1)
    assert.is(again.code, 0, again.out)
  } finally {
    for (const p of procs.reverse()) await stop(p)
    for (const p of pairs) await p.kill()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
