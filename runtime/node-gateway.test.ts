/**
 * A gateway node and two sensor nodes on the live hub (real UDP, real time): `publish` on a sensor
 * reaches the gateway over AODV (2 hops), which streams it to its embedded MQTT broker; a
 * subscriber gets it on `spinmesh/<network>/<feed>/<sensor>`; the gateway's status counts it and
 * its dashboard view lists the mesh; bad publishes are refused by name.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as mqttConnect } from 'mqtt'
import { hubNodes } from './hub-nodes.ts'
import { loadNodeConfig } from './config.ts'
import { controlRequest } from './control.ts'
import { MeshNode } from './node.ts'

const hex = (a: number) => a.toString(16).padStart(8, '0')

async function eventually(check: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) assert.unreachable(`timed out after ${ms} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('publish on a sensor node reaches the gateway node over the mesh and its MQTT subscriber', async () => {
  const field = await hubNodes(3, { prefix: 'spinmesh-gwnode-' })
  const { dir, ids, hub } = field
  const nodes: MeshNode[] = []
  const feeds = "feeds: [{ id: 1, name: climate, fields: [{ name: temperature, unit: degC }, { name: humidity, unit: '%' }] }]"
  try {
    for (let i = 0; i < 3; i++) {
      const role = i === 0
        ? ['gateway:', '  network: field7', '  spool: { dir: ./spool }', '  mqtt: { broker: embedded, embeddedPort: 0 }', '  http: false']
        : [`uplink: { gateway: '${hex(ids[0].address)}' }`]
      writeFileSync(join(dir, `n${i}.yaml`), [`identity: ./n${i}.key`, `radio: { kind: hub, hub: 127.0.0.1:${hub.port} }`, 'security: { mode: open }', `control: { socket: ./n${i}.sock }`, feeds, ...role].join('\n'))
      nodes.push(await MeshNode.start(loadNodeConfig(join(dir, `n${i}.yaml`))))
    }
    const broker = nodes[0].samples.gatewayService!.brokerUrl!
    const got: Array<{ topic: string; m: Record<string, unknown>; retain: boolean }> = []
    const sub = mqttConnect(broker, { clientId: 'test-sub', clean: true })
    await new Promise<void>((resolve, reject) => {
      sub.once('error', reject)
      sub.on('connect', () => sub.subscribe('spinmesh/field7/#', { qos: 1 }, (e) => (e ? reject(e) : resolve())))
    })
    sub.on('message', (topic, payload, packet) => got.push({ topic, m: JSON.parse(payload.toString()), retain: packet.retain }))
    const r = await controlRequest(join(dir, 'n2.sock'), 'publish', { feed: 'climate', values: [21.5, 48] })
    assert.equal(r, { feed: 'climate', seq: 0, to: hex(ids[0].address) })
    await controlRequest(join(dir, 'n1.sock'), 'publish', { feed: 1, values: [19, 60] })
    const sampleTopic = (i: number) => `spinmesh/field7/climate/${hex(ids[i].address)}`
    await eventually(() => got.some((g) => g.topic === sampleTopic(2)) && got.some((g) => g.topic === sampleTopic(1)), 'both samples at the subscriber', 15_000)
    const far = got.find((g) => g.topic === sampleTopic(2))!.m
    assert.equal(far, { feed: 'climate', origin: hex(ids[2].address), seq: 0, ts: far.ts, values: { temperature: 21.5, humidity: 48 }, hops: 2, gateway: hex(ids[0].address) })
    assert.ok(got.some((g) => g.topic === 'spinmesh/field7/_feeds/climate'), 'the schema is published (retained)')
    // The gateway's own reading goes straight in.
    const own = await controlRequest(join(dir, 'n0.sock'), 'publish', { feed: 'climate', values: [20, 50] }) as { to: string }
    assert.is(own.to, hex(ids[0].address))
    await eventually(() => got.some((g) => g.topic === sampleTopic(0)), 'the gateway\'s own sample', 5000)
    const status = await controlRequest(join(dir, 'n0.sock'), 'status') as { samples: { gateway: { accepted: number; received: number; streamed: number; spooled: number } } }
    assert.equal([status.samples.gateway.accepted, status.samples.gateway.received], [3, 2])
    const sensor = await controlRequest(join(dir, 'n2.sock'), 'status') as { samples: { uplink: { sent: number } } }
    assert.is(sensor.samples.uplink.sent, 1)
    const view = nodes[0].meshView()
    assert.ok(view.nodes.some((n) => n.address === hex(ids[1].address)) && view.links.length >= 1 && view.routes.some((r) => r.dst === hex(ids[2].address)), JSON.stringify(view))
    for (const [params, re] of [
      [{ feed: 'rain', values: [1] }, /unknown feed "rain"; this node has climate/],
      [{ feed: 'climate', values: [1] }, /2 fields \(temperature, humidity\), got 1 values/],
      [{ feed: 'climate', values: ['x', 2] }, /list of numbers/],
    ] as const) {
      await controlRequest(join(dir, 'n1.sock'), 'publish', params).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, re))
    }
    await new Promise<void>((resolve) => sub.end(true, {}, () => resolve()))
  } finally {
    for (const n of nodes) await n.close()
    await field.close()
  }
})

test.run()
