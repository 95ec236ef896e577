/**
 * The serial must-show with real processes: socat makes a pty pair per node; a `spinmesh
 * emulator` (a transparent radio module on the hub's air) holds one end, a `spinmesh run` daemon
 * (serial radio, COBS framing) the other. The daemons ping each other; killing one socat makes
 * that daemon report `radio reconnecting`, a new pty at the same path brings it back `up`, and
 * pings get through again. The same with bridge-protocol radios (`--framing bridge`): ping, a text
 * sent with `spinmesh send`, and `spinmesh status` showing the radio's own STATUS report.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatNodeAddress } from '../core/addr.ts'
import { generateIdentity, saveIdentity, type Identity } from '../crypto/identity.ts'
import { SocatPair } from '../hardware/socat.ts'
import { daemon, outputMatches, run, stop } from './processes.ts'

interface SerialField {
  dir: string
  ids: Identity[]
  pairs: SocatPair[]
  nodes: Array<{ proc: ChildProcess; out: string[] }>
  config(i: number): string
  close(): Promise<void>
}

/** Two daemons on emulated serial radios of `framing`, each radio a `spinmesh emulator` on the hub's air. */
async function serialField(framing: 'cobs' | 'bridge', radio: (i: number) => string): Promise<SerialField> {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-serial-proc-'))
  const ids = [0, 1].map((i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  writeFileSync(join(dir, 'air.yaml'), ['range: 150', 'delayMs: 2', 'nodes:', ...ids.map((id, i) => `  - { id: ${id.address}, position: [${i * 100}, 0] }`)].join('\n'))
  const pairs = [0, 1].map((i) => new SocatPair(join(dir, `host${i}`), join(dir, `module${i}`)))
  const procs: ChildProcess[] = []
  const nodes: Array<{ proc: ChildProcess; out: string[] }> = []
  const close = async () => {
    for (const p of procs.reverse()) await stop(p)
    for (const p of pairs) await p.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const p of pairs) await p.start()
    const hub = await daemon(['hub', '--topology', join(dir, 'air.yaml'), '--port', '0'], /hub listening on 127\.0\.0\.1:\d+/)
    procs.push(hub.proc)
    const port = /127\.0\.0\.1:(\d+)/.exec(hub.out.join(''))![1]
    for (let i = 0; i < 2; i++) {
      procs.push((await daemon(['emulator', '--device', pairs[i].b, '--framing', framing, '--hub', `127.0.0.1:${port}`, '--node', formatNodeAddress(ids[i].address)], /emulator on/)).proc)
      writeFileSync(join(dir, `n${i}.yaml`), [
        `identity: ./n${i}.key`,
        `radio: ${radio(i)}`,
        'link: { beaconIntervalMs: 0 }',
        'security: { mode: open }',
        `control: { socket: ./n${i}.sock }`,
      ].join('\n'))
      const n = await daemon(['run', '--config', join(dir, `n${i}.yaml`)], /running/)
      procs.push(n.proc)
      nodes.push(n)
    }
    await Promise.all(nodes.map((n) => outputMatches(n.proc, n.out, /radio up/)))
  } catch (e) {
    await close()
    throw e
  }
  return { dir, ids, pairs, nodes, config: (i) => join(dir, `n${i}.yaml`), close }
}

test('two spinmesh run daemons on emulated serial radios: ping, unplug (reconnecting), replug (up), ping again', async () => {
  const f = await serialField('cobs', (i) => `{ kind: serial, device: { path: ./host${i} }, framing: cobs, mtu: 240, bitrate: 115200, frameTtlMs: 5000 }`)
  const { ids, pairs, nodes } = f
  try {
    const ping = (from: number, to: number) => run(['ping', formatNodeAddress(ids[to].address), '--count', '2', '--config', f.config(from)])
    const first = await ping(0, 1)
    assert.is(first.code, 0, first.out)
    assert.match(first.out, /1 hops there, 1 back/)
    assert.is((await ping(1, 0)).code, 0)

    // Unplug node 0's radio: socat goes away with both ptys.
    await pairs[0].kill()
    await run(['ping', formatNodeAddress(ids[1].address), '--count', '1', '--config', f.config(0)]) // a write notices the dead pty
    await outputMatches(nodes[0].proc, nodes[0].out, /radio reconnecting/)
    // Plug it back: a new pty at the same path.
    await pairs[0].start()
    await outputMatches(nodes[0].proc, nodes[0].out, /radio reconnecting[\s\S]*radio up/)
    const again = await ping(0, 1)
    assert.is(again.code, 0, again.out)
  } finally {
    await f.close()
  }
})

test('two spinmesh run daemons on bridge-protocol radios: ping, send a text, status shows what the radio reports', async () => {
  const lora = '{ frequencyHz: 868100000, bandwidthHz: 125000, spreadingFactor: 7, codingRate: 5, txPowerDbm: 14 }'
  const f = await serialField('bridge', (i) => `{ kind: serial, device: { path: ./host${i} }, framing: bridge, lora: ${lora} }`)
  const { ids, nodes } = f
  try {
    const ping = await run(['ping', formatNodeAddress(ids[1].address), '--count', '2', '--config', f.config(0)])
    assert.is(ping.code, 0, ping.out)
    assert.match(ping.out, /1 hops there, 1 back/)
    const sent = await run(['send', formatNodeAddress(ids[1].address), 'over LoRa', '--config', f.config(0)])
    assert.is(sent.code, 0, sent.out)
    await outputMatches(nodes[1].proc, nodes[1].out, new RegExp(`deliver from ${formatNodeAddress(ids[0].address)} to ${formatNodeAddress(ids[1].address)}, 9 bytes, 1 hops: "over LoRa"`))
    const status = await run(['status', '--json', '--config', f.config(0)])
    assert.is(status.code, 0, status.out)
    const s = JSON.parse(status.out) as { radios: Array<{ state: string; framesSent: number; airtimeMs: number; reported: { windowS: number; channelLoadPermille: number } | null }> }
    const r = s.radios[0]
    assert.is(r.state, 'up')
    assert.ok(r.framesSent >= 3 && r.airtimeMs > 0, JSON.stringify(r))
    assert.ok(r.reported !== null && r.reported.windowS > 0 && r.reported.channelLoadPermille >= 0, JSON.stringify(r))
    const text = await run(['status', '--config', f.config(0)])
    assert.match(text.out, /radio serial: up[\s\S]*radio reports: channel load/)
  } finally {
    await f.close()
  }
})

test.run()
