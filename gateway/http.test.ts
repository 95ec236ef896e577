// GatewayHttp over real sockets on 127.0.0.1: routes, content types, errors, SSE framing and
// order, slow-client dropping, close; and the DashboardState/Sample validators it relies on.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { GatewayHttp, type GatewayHttpOptions } from './http.ts'
import { validateDashboardSample, validateDashboardState, type DashboardState } from './dashboard-state.ts'
import { ConfigError, ErrorCodes, SpinmeshError } from '../core/errors.ts'

function fakeState(at = 1_700_000_000_000): DashboardState {
  return {
    network: 'test-net',
    gateway: '0000000a',
    at,
    nodes: [
      { address: '0000000a', role: 'gateway', name: 'gw', position: [0, 0], radio: { state: 'up', airtimeMs: 1200, channelLoadPermille: 35, queued: 1 } },
      { address: '0000000b', role: 'sensor', position: [100, 50] },
      { address: '0000000c', role: 'relay' },
    ],
    links: [{ a: '0000000a', b: '0000000c', quality: 0.9, rssi: -80, snr: 7 }, { a: '0000000c', b: '0000000b', quality: 0.4 }],
    routes: [{ from: '0000000b', dst: '0000000a', nextHop: '0000000c', hops: 2 }],
    trees: [{ group: 'group:1', leader: '0000000a', links: [{ a: '0000000a', b: '0000000c' }] }],
    feeds: [{ id: 1, name: 'temperature', fields: [{ name: 'celsius', unit: '°C' }] }],
    stream: { accepted: 10, streamed: 9, spooled: 1, brokerConnected: true },
  }
}

async function withServer(opts: Partial<GatewayHttpOptions>, fn: (g: GatewayHttp) => Promise<void>): Promise<void> {
  const g = await GatewayHttp.start({ state: () => fakeState(), stateIntervalMs: 1000, ...opts })
  try {
    await fn(g)
  } finally {
    await g.close()
  }
}

interface Reply { status: number; headers: IncomingHttpHeaders; body: string }

function fetchRaw(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

interface SseMessage { event?: string; data?: string; comment?: string; retry?: string }

/** A streaming client: parses SSE frames as they arrive; `next` waits for one matching. */
class SseClient {
  readonly messages: SseMessage[] = []
  ended = false
  private buf = ''
  private waiters: Array<() => void> = []
  res!: IncomingMessage

  static open(url: string): Promise<SseClient> {
    const c = new SseClient()
    return new Promise((resolve, reject) => {
      const req = request(new URL('api/stream', url), { agent: false }, (res) => {
        c.res = res
        res.setEncoding('utf8')
        res.on('data', (d: string) => c.feed(d))
        res.on('end', () => c.finish())
        res.on('close', () => c.finish())
        resolve(c)
      })
      req.on('error', reject)
      req.end()
    })
  }

  private feed(text: string): void {
    this.buf += text
    for (let i = this.buf.indexOf('\n\n'); i >= 0; i = this.buf.indexOf('\n\n')) {
      const block = this.buf.slice(0, i)
      this.buf = this.buf.slice(i + 2)
      const m: SseMessage = {}
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) m.comment = line.slice(1).trim()
        else {
          const c = line.indexOf(':')
          const k = line.slice(0, c), v = line.slice(c + 1).replace(/^ /, '')
          if (k === 'event' || k === 'data' || k === 'retry') m[k] = v
        }
      }
      this.messages.push(m)
    }
    this.wake()
  }

  private finish(): void {
    this.ended = true
    this.wake()
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Wait until `pred` holds over the messages so far (or the stream ends), at most `ms`. */
  async until(pred: (ms: SseMessage[]) => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms
    while (!pred(this.messages)) {
      if (this.ended) throw new Error(`stream ended before ${what}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.slice(-3))}`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50)
        this.waiters.push(() => (clearTimeout(t), r()))
      })
    }
  }

  events(name: string): unknown[] {
    return this.messages.filter((m) => m.event === name).map((m) => JSON.parse(m.data ?? 'null'))
  }

  close(): void {
    this.res.destroy()
  }
}

test('serves the page, script and style with their content types and no-cache', async () => {
  await withServer({}, async (g) => {
    assert.match(g.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetchRaw(g.url)
    assert.is(page.status, 200)
    assert.is(page.headers['content-type'], 'text/html; charset=utf-8')
    assert.is(page.headers['cache-control'], 'no-cache')
    assert.match(page.body, '<svg id="topology"')
    assert.match(String(page.headers['content-security-policy']), "connect-src 'self'")
    const js = await fetchRaw(g.url + 'dashboard.js')
    assert.is(js.status, 200)
    assert.is(js.headers['content-type'], 'text/javascript; charset=utf-8')
    assert.is(js.headers['cache-control'], 'no-cache')
    assert.match(js.body, 'EventSource')
    const css = await fetchRaw(g.url + 'dashboard.css')
    assert.is(css.headers['content-type'], 'text/css; charset=utf-8')
    assert.is(Number(css.headers['content-length']), Buffer.byteLength(css.body))
    const head = await fetchRaw(g.url, 'HEAD')
    assert.is(head.status, 200)
    assert.is(head.body, '')
    assert.is(Number(head.headers['content-length']), Buffer.byteLength(page.body))
  })
})

test('/api/state is the state as JSON; a bad state is a 500 naming the field', async () => {
  await withServer({}, async (g) => {
    const r = await fetchRaw(g.url + 'api/state')
    assert.is(r.status, 200)
    assert.is(r.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(JSON.parse(r.body), fakeState())
  })
  const bad = fakeState()
  bad.links[1].quality = 1.5
  await withServer({ state: () => bad }, async (g) => {
    const r = await fetchRaw(g.url + 'api/state')
    assert.is(r.status, 500)
    assert.match(JSON.parse(r.body).message, 'state.links[1].quality: must be <= 1, got 1.5')
  })
})

test('unknown paths are 404 JSON, other methods 405 with Allow, foreign Host headers 421', async () => {
  await withServer({}, async (g) => {
    const nf = await fetchRaw(g.url + 'nope?x=1')
    assert.is(nf.status, 404)
    assert.is(nf.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(JSON.parse(nf.body), { error: 'not found', path: '/nope' })
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await fetchRaw(g.url + 'api/state', method)
      assert.is(r.status, 405, method)
      assert.is(r.headers.allow, 'GET, HEAD')
      assert.is(JSON.parse(r.body).error, 'method not allowed')
    }
    const rebound = await fetchRaw(g.url + 'api/state', 'GET', { Host: 'evil.example:8080' })
    assert.is(rebound.status, 421)
    const local = await fetchRaw(g.url + 'api/state', 'GET', { Host: `localhost:${g.port}` })
    assert.is(local.status, 200)
  })
})

test('the stream sends retry and state at once, then samples and events in publish order, state ticks and pings', async () => {
  await withServer({ stateIntervalMs: 40, pingIntervalMs: 60 }, async (g) => {
    const c = await SseClient.open(g.url)
    await c.until((m) => m.some((x) => x.event === 'state'), 5000, 'first state')
    assert.is(c.messages[0].retry, '2000')
    assert.is(c.messages[1].event, 'state')
    assert.equal(JSON.parse(c.messages[1].data!), fakeState())
    assert.is(g.stats().clients, 1)
    for (let seq = 1; seq <= 20; seq++) {
      g.publish({ feed: 'temperature', origin: '0000000B', seq, ts: 1000 + seq, values: [20 + seq / 10, NaN] })
      if (seq === 10) g.event({ kind: 'route-change', at: 5, node: '0000000b' })
    }
    await c.until((m) => m.filter((x) => x.event === 'sample').length === 20, 5000, '20 samples')
    const samples = c.events('sample') as Array<{ seq: number; origin: string; values: unknown[] }>
    assert.equal(samples.map((s) => s.seq), Array.from({ length: 20 }, (_, i) => i + 1))
    assert.is(samples[0].origin, '0000000b', 'address normalised')
    assert.equal(samples[0].values, [20.1, null], 'NaN travels as null')
    const order = c.messages.filter((x) => x.event === 'sample' || x.event === 'event').map((x) => x.event === 'event' ? 'E' : JSON.parse(x.data!).seq)
    assert.is(order.indexOf('E'), 10, 'the event sits between sample 10 and 11')
    assert.equal(c.events('event'), [{ kind: 'route-change', at: 5, node: '0000000b' }])
    await c.until((m) => m.filter((x) => x.event === 'state').length >= 3 && m.some((x) => x.comment === 'ping'), 5000, 'state ticks and a ping')
    assert.ok(g.stats().sent >= 25)
    c.close()
  })
})

test('a bad state on the stream becomes a state-error event; bad samples and events throw', async () => {
  await withServer({ state: () => ({ ...fakeState(), gateway: 'xyz' }) }, async (g) => {
    const c = await SseClient.open(g.url)
    await c.until((m) => m.some((x) => x.event === 'state-error'), 5000, 'state-error')
    assert.match((c.events('state-error')[0] as { message: string }).message, 'state.gateway: must be an address of 8 hex digits')
    try {
      g.publish({ feed: 'temperature', origin: 'zz', seq: 1, ts: 1, values: [] })
      assert.unreachable('bad origin accepted')
    } catch (e) {
      assert.instance(e, SpinmeshError)
      assert.is((e as SpinmeshError).code, ErrorCodes.INVALID_ARGUMENT)
      assert.match((e as Error).message, 'sample.origin')
    }
    assert.throws(() => g.event({ kind: '', at: 1 }), /kind/)
    c.close()
  })
})

/** A client that asks for the stream and never reads it. */
function stuckClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      s.pause()
      resolve(s)
    })
    s.on('error', reject)
  })
}

test('a client that does not read is dropped and counted; the others get every sample in order', async () => {
  await withServer({ maxClientBufferBytes: 64 * 1024, stateIntervalMs: 60_000 }, async (g) => {
    const fast = await SseClient.open(g.url)
    const slow = await stuckClient(g.port)
    await fast.until(() => g.stats().clients === 2, 5000, 'both clients')
    const values = Array.from({ length: 2000 }, (_, i) => i + 0.5) // ~13 kB a frame
    let seq = 0
    // Lock-step with the fast client: it is never behind, so only the stuck one can fill up.
    while (g.stats().droppedClients === 0 && seq < 5000) {
      seq++
      g.publish({ feed: 'bulk', origin: '00000001', seq, ts: seq, values })
      await fast.until((m) => m.length > 0 && m[m.length - 1].event === 'sample' && JSON.parse(m[m.length - 1].data!).seq === seq, 5000, `sample ${seq}`)
    }
    assert.is(g.stats().droppedClients, 1, `dropped after ${seq} samples`)
    assert.is(g.stats().clients, 1)
    assert.equal((fast.events('sample') as Array<{ seq: number }>).map((s) => s.seq), Array.from({ length: seq }, (_, i) => i + 1))
    // The stuck client finds its stream closed once it reads again.
    const closed = new Promise<void>((r) => slow.once('close', () => r()))
    slow.on('error', () => {})
    slow.resume()
    await closed
    g.publish({ feed: 'bulk', origin: '00000001', seq: seq + 1, ts: seq + 1, values: [1] })
    await fast.until((m) => JSON.parse(m[m.length - 1].data ?? '{}').seq === seq + 1, 5000, 'a sample after the drop')
    fast.close()
  })
})

test('streams beyond maxClients get 503; close ends every stream and stops listening', async () => {
  const g = await GatewayHttp.start({ state: () => fakeState(), maxClients: 2 })
  const a = await SseClient.open(g.url)
  const b = await SseClient.open(g.url)
  await a.until(() => g.stats().clients === 2, 5000, 'two clients')
  const third = await fetchRaw(g.url + 'api/stream')
  assert.is(third.status, 503)
  await g.close()
  await a.until(() => a.ended, 5000, 'a ended')
  await b.until(() => b.ended, 5000, 'b ended')
  assert.is(g.stats().clients, 0)
  try {
    await fetchRaw(g.url)
    assert.unreachable('still listening')
  } catch (e) {
    assert.is((e as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  }
  g.publish({ feed: 'x', origin: '00000001', seq: 0, ts: 0, values: [] }) // harmless after close
})

test('start refuses a missing state function and a bad port; a taken port is an IO error', async () => {
  const rejection = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: Error) => e.message)
  assert.match(await rejection(GatewayHttp.start({} as GatewayHttpOptions)), 'http.state: must be a function')
  assert.match(await rejection(GatewayHttp.start({ state: fakeState, port: 70000 })), 'http.port: must be <= 65535')
  await withServer({}, async (g) => {
    try {
      await GatewayHttp.start({ state: fakeState, port: g.port })
      assert.unreachable('second server on the same port')
    } catch (e) {
      assert.is((e as SpinmeshError).code, ErrorCodes.IO)
      assert.match((e as Error).message, `127.0.0.1:${g.port}`)
    }
  })
})

test('validateDashboardState normalises addresses, keeps optional fields absent, names bad fields', () => {
  const s = fakeState() as unknown as Record<string, unknown>
  const upper = { ...s, gateway: '0000000A', extra: 1 }
  const v = validateDashboardState(upper)
  assert.is(v.gateway, '0000000a')
  assert.not.ok('extra' in v)
  assert.not.ok('position' in v.nodes[2])
  assert.equal(v, fakeState())
  const cases: Array<[(x: DashboardState) => void, string]> = [
    [(x) => (x.nodes[0].role = 'king' as 'relay'), 'state.nodes[0].role: must be one of gateway, sensor, relay'],
    [(x) => (x.nodes[1].position = [1] as unknown as [number, number]), 'state.nodes[1].position: must be [x, y]'],
    [(x) => (x.nodes[0].radio!.channelLoadPermille = 1001), 'state.nodes[0].radio.channelLoadPermille: must be <= 1000'],
    [(x) => (x.routes[0].hops = 0), 'state.routes[0].hops: must be >= 1'],
    [(x) => (x.trees[0].links[0].b = 'g'), 'state.trees[0].links[0].b: must be an address'],
    [(x) => (x.feeds[0].fields[0].unit = 3 as unknown as string), 'state.feeds[0].fields[0].unit: must be a string'],
    [(x) => (x.stream.brokerConnected = 'yes' as unknown as boolean), 'state.stream.brokerConnected: must be true or false'],
  ]
  for (const [spoil, message] of cases) {
    const x = fakeState()
    spoil(x)
    try {
      validateDashboardState(x)
      assert.unreachable(message)
    } catch (e) {
      assert.instance(e, ConfigError)
      assert.match((e as Error).message, message)
    }
  }
  assert.throws(() => validateDashboardSample({ feed: 'f', origin: '00000001', seq: 1, ts: 1, values: ['1'] }), /sample.values\[0\]: must be a number/)
})

test.run()
