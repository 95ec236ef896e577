/**
 * Gateway: accept = spooled; unknown feeds refused; a late sample is published but not retained
 * (a subscriber arriving later gets the newest value); bad config refused by field.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as mqttConnect } from 'mqtt'
import { configError } from '../core/testing.ts'
import { Gateway } from './gateway.ts'
import { validateGatewayConfig } from './gateway-config.ts'

const feeds = [{ id: 1, name: 'climate', fields: [{ name: 'temperature', unit: 'degC' }] }]

test('late samples are published but not retained; unknown feeds refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-gw-'))
  const config = validateGatewayConfig({ network: 'n1', feeds, spool: { dir }, mqtt: { broker: 'embedded', embeddedPort: 0, replayGraceMs: 0 }, http: false })
  const gw = await Gateway.start({ config, address: 1 })
  try {
    const live: number[] = []
    const sub = mqttConnect(gw.brokerUrl!, { clientId: 'live', clean: true })
    await new Promise<void>((resolve) => sub.on('connect', () => sub.subscribe('spinmesh/n1/climate/+', { qos: 1 }, () => resolve())))
    sub.on('message', (_t, p, packet) => {
      if (!packet.retain) live.push(JSON.parse(p.toString()).ts)
    })
    assert.ok(gw.accept({ feed: 1, origin: 7, seq: 1, ts: 2000, values: [21] }))
    assert.ok(gw.accept({ feed: 1, origin: 7, seq: 0, ts: 1000, values: [20] }), 'a late sample is accepted')
    assert.is(gw.accept({ feed: 9, origin: 7, seq: 0, ts: 1, values: [1] }), false, 'unknown feed')
    const end = Date.now() + 5000
    while (live.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    assert.equal(live, [2000, 1000], 'both published live, in spool order')
    // A subscriber arriving now gets the retained value: the newest, not the late one.
    const late = mqttConnect(gw.brokerUrl!, { clientId: 'later', clean: true })
    const retained = await new Promise<number>((resolve) => {
      late.on('connect', () => late.subscribe('spinmesh/n1/climate/00000007', { qos: 1 }))
      late.on('message', (_t, p, packet) => packet.retain && resolve(JSON.parse(p.toString()).ts))
    })
    assert.is(retained, 2000)
    assert.equal([gw.stats().accepted, gw.stats().refused], [2, 1])
    await Promise.all([sub, late].map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))))
  } finally {
    await gw.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('gateway config errors name the field', () => {
  const base = { network: 'n1', feeds, spool: { dir: '/tmp/x' } }
  assert.is(configError(() => validateGatewayConfig({ ...base, network: 'a/b' })).path, 'gateway.network')
  assert.is(configError(() => validateGatewayConfig({ ...base, feeds: [] })).path, 'gateway.feeds')
  assert.is(configError(() => validateGatewayConfig({ ...base, feeds: [...feeds, { ...feeds[0], id: 2 }] })).path, 'gateway.feeds[1].name')
  assert.is(configError(() => validateGatewayConfig({ ...base, spool: {} })).path, 'gateway.spool.dir')
  assert.is(configError(() => validateGatewayConfig({ ...base, spool: { dir: '/x', fsync: 'sometimes' } })).path, 'gateway.spool.fsync')
  assert.is(configError(() => validateGatewayConfig({ ...base, mqtt: { broker: 'http://x' } })).path, 'gateway.mqtt.broker')
  assert.is(configError(() => validateGatewayConfig({ ...base, mqtt: { format: 'xml' } })).path, 'gateway.mqtt.format')
  assert.is(configError(() => validateGatewayConfig({ ...base, http: { port: 70000 } })).path, 'gateway.http.port')
  assert.is(configError(() => validateGatewayConfig({ ...base, http: { allowedHosts: [] } })).path, 'gateway.http.allowedHosts')
  assert.is(configError(() => validateGatewayConfig({ ...base, colour: 1 })).path, 'gateway.colour')
})

test.run()
