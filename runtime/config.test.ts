/** Node config files: the examples validate; mistakes are refused naming the field. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { configError } from '../core/testing.ts'
import { loadNodeConfig, validateNodeConfig } from './config.ts'

const examples = new URL('./examples/', import.meta.url).pathname

test('every example config validates; relative paths resolve next to the file', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'))
  assert.ok(files.length >= 4)
  for (const f of files) {
    const c = loadNodeConfig(join(examples, f))
    assert.ok(c.identity.startsWith(examples), `${f}: identity ${c.identity}`)
    assert.is(c.file, join(examples, f))
  }
  const serial = loadNodeConfig(join(examples, 'serial-radio.yaml'))
  assert.equal(serial.radios, [{ kind: 'serial', device: { serialNumber: 'A10K7XYZ', path: '/dev/ttyUSB0' }, baudRate: 9600, framing: 'cobs', mtu: 240, bitrate: 2400, frameTtlMs: 30000, queueLimit: 64 }])
  assert.is(serial.security.network, join(examples, 'mynet'))
  assert.is(serial.link.beaconIntervalMs > 0, true, 'link defaults filled in')
})

const base = () => ({ identity: 'n.key', radio: { kind: 'hub', hub: '127.0.0.1:7400' }, security: { mode: 'open' } })
const path = (raw: unknown) => configError(() => validateNodeConfig(raw)).path

test('mistakes name the field', () => {
  assert.is(path({ ...base(), radio: { kind: 'carrier-pigeon' } }), 'radio.kind')
  assert.is(path({ ...base(), radio: { kind: 'serial', device: {} } }), 'radio.device')
  assert.is(path({ ...base(), radio: { kind: 'serial', device: { path: '/dev/x' }, baudRate: 12 } }), 'radio.baudRate')
  assert.is(path({ ...base(), radio: { kind: 'hub', hub: 'nohost' } }), 'radio.hub')
  assert.is(path({ ...base(), radio: { kind: 'udp', port: 70000 } }), 'radio.port')
  assert.is(path({ ...base(), link: { beaconIntervalMs: -5 } }), 'link.beaconIntervalMs')
  assert.is(path({ ...base(), routing: { protocol: 'aodv', config: { nope: 1 } } }), 'routing.config.nope')
  assert.is(path({ ...base(), routing: { protocol: 'odsbr' } }), 'routing.protocol')
  assert.is(path({ ...base(), security: { mode: 'authenticated' } }), 'security.network')
  assert.is(path({ ...base(), colour: 'blue' }), 'colour')
  assert.is(path({ ...base(), routing: { protocol: 'olsr' } }), 'routing.protocol')
  assert.is(path({ identity: 'n.key', security: { mode: 'open' } }), 'radio')
  assert.is(path({ ...base(), radios: [{ kind: 'udp' }] }), 'radio')
  const two = { identity: 'n.key', security: { mode: 'open' }, radios: [{ kind: 'hub', hub: '127.0.0.1:7400' }, { kind: 'serial', device: { path: '/dev/x' }, framing: 'bridge' }] }
  assert.is(path(two), 'radios.1.lora')
  assert.is(path({ ...two, radios: [{ kind: 'udp' }, { kind: 'fax' }] }), 'radios.1.kind')
  assert.is(path({ ...two, radios: [] }), 'radios')
  assert.is(path({ ...base(), multicast: { protocol: 'pim' } }), 'multicast.protocol')
  assert.is(path({ ...base(), multicast: { groups: [-1] } }), 'multicast.groups.0')
  assert.is(path({ ...base(), multicast: { config: { maodv: { treeHelloIntervalMs: -1 } } } }), 'multicast.config.maodv.treeHelloIntervalMs')
  assert.is(path({ ...base(), multicast: { config: { gossip: { nope: 1 } } } }), 'multicast.config.gossip.nope')
  assert.is(path({ ...base(), multicast: { config: { aodv: {} } } }), 'multicast.config.aodv')
  assert.is(path({ ...base(), multicast: { groups: [1, 2, 3], config: { gossip: { maxGroups: 2 } } } }), 'multicast.groups')
  assert.is(path({ ...two, radios: [{ kind: 'udp' }, { kind: 'udp', port: 4277 }] }), 'radios.1')
  assert.is(path({ ...two, radios: [{ kind: 'serial', device: { path: '/dev/x' } }, { kind: 'serial', device: { path: '/dev/x' }, framing: 'kiss' }] }), 'radios.1')
  assert.is(path({ ...base(), radio: { kind: 'serial', device: { path: '/dev/x' }, framing: 'bridge' } }), 'radio.lora')
  assert.is(path({ ...base(), radio: { kind: 'serial', device: { path: '/dev/x' }, framing: 'bridge', lora: { frequencyHz: 868100000, bandwidthHz: 125000, spreadingFactor: 13, codingRate: 5, txPowerDbm: 14 } } }), 'radio.lora.spreadingFactor')
  assert.is(path({ radio: base().radio }), 'identity')
  assert.is(configError(() => loadNodeConfig('/nonexistent/node.yaml')).message.includes('cannot read config'), true)
})

test.run()
