/** The control socket: requests, errors, streamed events, a stale socket replaced, one in use refused. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlServer, controlRequest } from './control.ts'

/** A socket file whose listener died (SIGKILL: nothing removed it). */
function staleSocket(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout!.once('data', () => child.kill('SIGKILL'))
    child.once('exit', () => (existsSync(path) ? resolve() : reject(new Error('the socket file went away'))))
  })
}

test('requests get results or errors with codes; streaming methods push events; the socket is 0600', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-ctl-'))
  const path = join(dir, 'node.sock')
  // A regular file at the path is not ours to replace.
  writeFileSync(path, '')
  await ControlServer.listen(path, {}).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /exists and is not a socket/))
  rmSync(path)
  // A socket left by a crashed daemon (a process killed while listening) is replaced.
  await staleSocket(path)
  const server = await ControlServer.listen(path, {
    status: async () => ({ address: '00000001', state: 'up' }),
    ping: async (p) => {
      if (typeof p.dst !== 'string') throw new RangeError('ping needs dst')
      return { dst: p.dst, rtt: [1.5] }
    },
    monitor: async (_p, ctx) => {
      for (let i = 0; i < 3; i++) ctx.push({ tick: i })
      return 'done'
    },
  })
  try {
    assert.is(statSync(path).mode & 0o777, 0o600)
    assert.equal(await controlRequest(path, 'status'), { address: '00000001', state: 'up' })
    assert.equal(await controlRequest(path, 'ping', { dst: '00000005' }), { dst: '00000005', rtt: [1.5] })
    await controlRequest(path, 'ping').then(() => assert.unreachable(), (e: Error & { code: string }) => {
      assert.is(e.code, 'ERR_INVALID_ARGUMENT')
      assert.match(e.message, /ping needs dst/)
    })
    await controlRequest(path, 'reboot').then(() => assert.unreachable(), (e: Error & { code: string }) => assert.is(e.code, 'ERR_UNSUPPORTED'))
    const events: unknown[] = []
    assert.is(await controlRequest(path, 'monitor', {}, (e) => events.push(e)), 'done')
    assert.equal(events, [{ tick: 0 }, { tick: 1 }, { tick: 2 }])
    await ControlServer.listen(path, {}).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /in use by a running node/))
  } finally {
    await server.close()
  }
  await controlRequest(path, 'status').then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no node is listening/))
  rmSync(dir, { recursive: true, force: true })
})

test.run()
