/**
 * The must-show with real processes: `spinmesh hub` and five `spinmesh run` daemons on
 * loopback in a chain; `spinmesh ping` from one end reaches the other over AODV and `spinmesh
 * traceroute` shows 4 hops. Every process is stopped (SIGTERM) at the end.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, saveIdentity } from '../crypto/identity.ts'
import { daemon, run, stop } from './processes.ts'

const hex = (a: number) => a.toString(16).padStart(8, '0')

test('hub + five `spinmesh run` daemons in a chain: spinmesh ping end to end, traceroute shows 4 hops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-daemons-'))
  const ids = Array.from({ length: 5 }, (_, i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  writeFileSync(join(dir, 'chain.yaml'), [
    'range: 150',
    'delayMs: 2',
    'nodes:',
    ...ids.map((id, i) => `  - { id: ${id.address}, position: [${i * 100}, 0] }`),
  ].join('\n'))
  const procs: ChildProcess[] = []
  try {
    const hub = await daemon(['hub', '--topology', join(dir, 'chain.yaml'), '--port', '0'], /hub listening on 127\.0\.0\.1:(\d+)/)
    procs.push(hub.proc)
    const port = /127\.0\.0\.1:(\d+)/.exec(hub.out.join(''))![1]
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, `n${i}.yaml`), [`identity: ./n${i}.key`, `radio: { kind: hub, hub: 127.0.0.1:${port} }`, 'security: { mode: open }', `control: { socket: ./n${i}.sock }`].join('\n'))
      procs.push((await daemon(['run', '--config', join(dir, `n${i}.yaml`)], /running/)).proc)
    }
    const ping = await run(['ping', hex(ids[4].address), '--count', '2', '--config', join(dir, 'n0.yaml')])
    assert.is(ping.code, 0, ping.out)
    assert.match(ping.out, /seq 0: [\d.]+ ms, 4 hops there, 4 back/)
    assert.match(ping.out, /seq 1: [\d.]+ ms, 4 hops there, 4 back/)
    const trace = await run(['traceroute', hex(ids[4].address), '--config', join(dir, 'n0.yaml')])
    assert.is(trace.code, 0, trace.out)
    assert.equal(trace.out.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' ')), [1, 2, 3, 4].map((k) => `${k} ${hex(ids[k].address)}`))
    const status = await run(['status', '--json', '--socket', join(dir, 'n0.sock')])
    assert.is(status.code, 0, status.out)
    assert.is(JSON.parse(status.out).radios[0].state, 'up')
  } finally {
    for (const p of procs.reverse()) await stop(p)
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
