import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ConfigError, SpinmeshError } from '../core/errors.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { loadIdentity } from '../crypto/identity.ts'
import { initNetwork, loadCertificate, loadNetwork } from '../crypto/network-dir.ts'
import { main } from '../cli/main.ts'
import { loadNodeConfig } from './config.ts'
import { parseRadioSpec, provision, readFeedsFile, systemdUnit, type ProvisionOptions } from './provision.ts'
import { loadNodeSecurity } from './security.ts'

const root = mkdtempSync(join(tmpdir(), 'spinmesh-provision-'))
test.after(() => rmSync(root, { recursive: true, force: true }))

let n = 0
/** A fresh network directory (name with a dot: not a valid topic level) and an empty output dir. */
function fresh(): { net: string; out: string; base: string } {
  const base = join(root, `t${n++}`)
  const net = join(base, 'farm.north')
  initNetwork(net, 'farm.north')
  return { net, out: join(base, 'bundles'), base }
}

/** Every path under `dir`, relative. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${prefix}${e.name}/`, ...walk(join(dir, e.name), `${prefix}${e.name}/`)] : [`${prefix}${e.name}`]))
}

/** The bundle as the device runs it: config, identity, certificate verified against the bundle's own network copy. */
function loadBundle(dir: string) {
  const config = loadNodeConfig(join(dir, 'node.yaml'))
  const identity = loadIdentity(config.identity)
  const security = loadNodeSecurity({
    identity, identityFile: config.identity, networkDir: config.security.network!, certificateFile: config.security.certificate,
    scheduler: new SimScheduler(), metrics: new MetricsRegistry().scope('sec', identity.address),
  })
  return { config, identity, security }
}

function refuses(f: () => unknown, re: RegExp, type: new (...a: never[]) => Error = SpinmeshError): void {
  try {
    f()
  } catch (e) {
    assert.instance(e, type)
    assert.match((e as Error).message, re)
    return
  }
  assert.unreachable(`expected a refusal matching ${re}`)
}

test('gateway bundle: files, modes, no authority key, config valid in place, certificate verifies, unit', () => {
  const { net, out } = fresh()
  const r = provision({ network: net, out, name: 'gw-1', role: 'gateway', radio: 'serial:/dev/ttyUSB0@9600' })
  const dir = join(out, 'gw-1')
  assert.is(r.dir, dir)
  assert.equal(walk(dir).sort(), [
    'README.txt', 'network/', 'network/certs/', `network/certs/${r.address.toString(16).padStart(8, '0')}.cert`, 'network/network.cbor', 'network/revoked.crl',
    'node.cert', 'node.key', 'node.yaml', 'spinmesh-gw-1.service',
  ].sort())
  assert.is(statSync(join(dir, 'node.key')).mode & 0o777, 0o600)
  assert.not.ok(walk(dir).some((f) => f.endsWith('authority.key')), 'authority.key must never be in a bundle')
  assert.not.ok(readdirSync(out).some((f) => f.startsWith('.')), 'no temporary directory left')
  // The network copy is byte-identical to the authority's public files.
  for (const f of ['network.cbor', 'revoked.crl']) assert.equal(readFileSync(join(dir, 'network', f)), readFileSync(join(net, f)))

  const { config, identity, security } = loadBundle(dir)
  assert.is(identity.address, r.address)
  assert.is(security.certificate.address, r.address)
  assert.equal([...security.certificate.roles], ['gateway', 'relay'])
  assert.is(config.name, 'gw-1')
  assert.is(config.security.mode, 'authenticated')
  assert.is(config.identity, join(dir, 'node.key'))
  assert.is(config.security.network, join(dir, 'network'))
  assert.is(config.control.socket, '/run/spinmesh/gw-1.sock')
  assert.equal(config.radios, [{ kind: 'serial', device: { path: '/dev/ttyUSB0' }, baudRate: 9600, framing: 'cobs', frameTtlMs: 30_000, queueLimit: 64 }])
  assert.is(config.gateway?.network, 'farm-north')
  assert.is(config.gateway?.spool.dir, '/var/lib/spinmesh/gw-1/spool')
  assert.is(config.gateway?.mqtt?.broker, 'embedded')
  assert.equal(config.gateway?.http, { host: '127.0.0.1', port: 8080 })
  assert.equal(config.feeds.map((f) => f.name), ['climate'])
  assert.is(config.uplink, undefined)
  // The roster in the authority's directory has the new certificate.
  assert.ok(loadNetwork(net).roster.some((c) => c.address === r.address))

  const unit = readFileSync(join(dir, 'spinmesh-gw-1.service'), 'utf8')
  for (const line of [
    'Type=simple', 'ExecStart=/usr/bin/env spinmesh run --config /etc/spinmesh/gw-1/node.yaml', 'User=spinmesh', 'Restart=always', 'RestartSec=5',
    'RuntimeDirectory=spinmesh', 'StateDirectory=spinmesh/gw-1', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/spinmesh/gw-1',
    'ProtectHome=yes', 'PrivateTmp=yes', 'SupplementaryGroups=dialout', 'WantedBy=multi-user.target',
  ]) assert.ok(unit.split('\n').includes(line), `unit has ${line}`)
  const readme = readFileSync(join(dir, 'README.txt'), 'utf8')
  assert.match(readme, /systemctl enable --now spinmesh-gw-1/)
  assert.match(readme, /chmod 600 \/etc\/spinmesh\/gw-1\/node\.key/)
})

test('sensor bundle: uplink to the gateway (by address or bundle name), roster holds both, valid after being moved', () => {
  const { net, out, base } = fresh()
  const gw = provision({ network: net, out, name: 'gw-1', radio: 'udp' })
  const byName = provision({ network: net, out, name: 's-1', role: 'sensor', gatewayAddress: 'gw-1', radio: 'serial-number:A10K7XYZ,framing=kiss,mtu=255' })
  const byAddr = provision({ network: net, out, name: 's-2', role: 'sensor', gatewayAddress: gw.address.toString(16).padStart(8, '0'), radio: 'hub:127.0.0.1:7400', user: 'mesh', installDir: '/opt/spinmesh/s-2' })
  for (const s of [byName, byAddr]) {
    const { config, security } = loadBundle(s.dir)
    assert.equal(config.uplink, { gateway: gw.address })
    assert.is(config.gateway, undefined)
    assert.equal(config.feeds.map((f) => f.name), ['climate'])
    assert.equal([...security.certificate.roles], ['sensor'])
    // The gateway's certificate is in the sensor's roster copy.
    assert.ok(loadNetwork(join(s.dir, 'network')).roster.some((c) => c.address === gw.address))
  }
  assert.equal(loadNodeConfig(join(byName.dir, 'node.yaml')).radios[0], { kind: 'serial', device: { serialNumber: 'A10K7XYZ' }, baudRate: 115_200, framing: 'kiss', mtu: 255, frameTtlMs: 30_000, queueLimit: 64 })
  const unit = readFileSync(join(byAddr.dir, 'spinmesh-s-2.service'), 'utf8')
  assert.match(unit, /^ExecStart=\/usr\/bin\/env spinmesh run --config \/opt\/spinmesh\/s-2\/node\.yaml$/m)
  assert.match(unit, /^User=mesh$/m)
  assert.not.match(unit, /dialout/, 'no serial radio, no dialout')
  // Installed elsewhere (as on the device), the relative paths still resolve next to node.yaml.
  const installed = join(base, 'device', 'opt', 's-1')
  cpSync(byName.dir, installed, { recursive: true })
  rmSync(byName.dir, { recursive: true })
  const moved = loadBundle(installed)
  assert.is(moved.config.identity, join(installed, 'node.key'))
  assert.is(moved.security.certificate.address, byName.address)
})

test('relay bundle: no feeds, no gateway, no uplink; --feeds, --roles, --days, --mqtt', () => {
  const { net, out, base } = fresh()
  const relay = provision({ network: net, out, name: 'r1', role: 'relay', radio: 'udp:192.168.1.20' })
  const c = loadBundle(relay.dir).config
  assert.equal(c.feeds, [])
  assert.is(c.gateway, undefined)
  assert.is(c.uplink, undefined)
  assert.equal(c.radios[0], { kind: 'udp', group: '239.72.83.77', port: 4277, interface: '192.168.1.20' })

  const feeds = join(base, 'feeds.yaml')
  writeFileSync(feeds, '- { id: 7, name: pmu, fields: [ { name: f, unit: Hz }, { name: v, unit: V } ] }\n- { id: 8, name: soil, fields: [ { name: moisture, unit: "%" } ] }\n')
  const now = Math.floor(Date.now() / 1000)
  const gw = provision({ network: net, out, name: 'gw', feedsFile: feeds, roles: ['gateway'], days: 30, mqtt: 'mqtt://broker.lan:1883', now })
  const { config, security } = loadBundle(gw.dir)
  assert.equal(config.feeds.map((f) => [f.id, f.name]), [[7, 'pmu'], [8, 'soil']])
  assert.equal(config.gateway?.feeds.map((f) => f.name), ['pmu', 'soil'])
  assert.is(config.gateway?.mqtt?.broker, 'mqtt://broker.lan:1883')
  assert.equal([...security.certificate.roles], ['gateway'])
  assert.is(security.certificate.notAfter, now + 30 * 86_400)
  assert.equal(parseYaml(readFileSync(join(gw.dir, 'node.yaml'), 'utf8')).gateway.mqtt, { broker: 'mqtt://broker.lan:1883' })
})

test('refusals name what is wrong, and leave nothing behind', () => {
  const { net, out, base } = fresh()
  const ok: ProvisionOptions = { network: net, out, name: 'n1' }
  refuses(() => provision({ ...ok, network: join(base, 'nope') }), /network directory .*nope does not exist.*spinmesh network init/)
  const pub = join(base, 'public-only')
  mkdirSync(pub)
  for (const f of ['network.cbor', 'revoked.crl']) cpSync(join(net, f), join(pub, f))
  refuses(() => provision({ ...ok, network: pub }), new RegExp(`${join(pub, 'authority.key').replace(/[.]/g, '\\.')} is missing`))
  for (const name of ['Gw', 'gw_1', '', '-x', 'a'.repeat(33), '../x']) refuses(() => provision({ ...ok, name }), /name ".*" must be 1-32 characters of a-z 0-9 -/)
  refuses(() => provision({ ...ok, role: 'sensor' }), /give --gateway-address/)
  refuses(() => provision({ ...ok, role: 'sensor', gatewayAddress: 'nowhere' }), /--gateway-address "nowhere": .*not an address/)
  refuses(() => provision({ ...ok, gatewayAddress: '1a2b3c4d' }), /--gateway-address is for sensors/)
  refuses(() => provision({ ...ok, role: 'relay', mqtt: 'embedded' }), /--mqtt is for gateways/)
  refuses(() => provision({ ...ok, radio: '/dev/ttyUSB0' }), /--radio "\/dev\/ttyUSB0": not one of the forms; accepted forms: serial:\/dev\/ttyUSB0/)
  refuses(() => provision({ ...ok, radio: 'serial:/dev/ttyUSB0@10' }), /--radio "serial:\/dev\/ttyUSB0@10": radio\.baudRate/)
  refuses(() => provision({ ...ok, mqtt: 'ftp://x' }), /--mqtt: gateway\.mqtt\.broker: unsupported protocol/)
  refuses(() => provision({ ...ok, user: 'Root Admin' }), /user "Root Admin" is not a system user name/)
  refuses(() => provision({ ...ok, installDir: 'relative/dir' }), /install dir "relative\/dir" must be an absolute path/)
  refuses(() => provision({ ...ok, installDir: '/opt/my dir' }), /without spaces/)
  refuses(() => provision({ ...ok, days: 0 }), /days must be a whole number in 1\.\.3650/)
  refuses(() => provision({ ...ok, roles: ['Gateway'] }), /roles: role "Gateway"/)
  const badFeeds = join(base, 'bad-feeds.yaml')
  writeFileSync(badFeeds, '- { id: 1, name: climate, fields: [ { name: t, unit: degC } ] }\n- { id: 70000, name: x, fields: [ { name: t, unit: "" } ] }\n')
  refuses(() => provision({ ...ok, feedsFile: badFeeds }), /^feeds\[1\]\.id: must be an integer .*\(in .*bad-feeds\.yaml\)$/, ConfigError)
  try {
    readFeedsFile(badFeeds)
  } catch (e) {
    assert.is((e as ConfigError).path, 'feeds[1].id')
  }
  writeFileSync(badFeeds, 'climate: yes\n')
  refuses(() => provision({ ...ok, feedsFile: badFeeds }), /must be a YAML list of feeds/, ConfigError)
  writeFileSync(badFeeds, '- { id: 1, name: a, fields: [ { name: t, unit: degC } ] }\n- { id: 1, name: b, fields: [ { name: t, unit: degC } ] }\n')
  refuses(() => provision({ ...ok, feedsFile: badFeeds }), /feeds\[1\]\.id: duplicate feed id 1/, ConfigError)
  refuses(() => provision({ ...ok, feedsFile: join(base, 'missing.yaml') }), /cannot read feeds file .*missing\.yaml: ENOENT/, ConfigError)
  // None of that issued a certificate or wrote a bundle.
  assert.is(loadNetwork(net).roster.length, 0)
  assert.not.ok(existsSync(out))
})

test('an existing bundle is refused without --force and replaced with it (new identity, the old one reported)', () => {
  const { net, out } = fresh()
  const first = provision({ network: net, out, name: 'gw', radio: 'udp' })
  writeFileSync(join(first.dir, 'stale.txt'), 'left from before')
  refuses(() => provision({ network: net, out, name: 'gw' }), /gw already exists; pass --force to replace it/)
  assert.is(loadCertificate(join(first.dir, 'node.cert')).address, first.address, 'the refused run changed nothing')
  assert.is(loadNetwork(net).roster.length, 1)
  const second = provision({ network: net, out, name: 'gw', radio: 'serial:/dev/ttyACM0', force: true })
  assert.is.not(second.address, first.address)
  assert.is(second.replaced, first.address)
  assert.not.ok(existsSync(join(second.dir, 'stale.txt')), 'the old bundle is gone, not merged')
  assert.is(loadBundle(second.dir).identity.address, second.address)
  assert.is(loadNetwork(join(second.dir, 'network')).roster.length, 2, 'the roster copy has both certificates')
  assert.not.ok(readdirSync(out).some((f) => f.startsWith('.')))
})

test('radio specs: every accepted form, and refusals that list the forms', () => {
  assert.equal(parseRadioSpec('serial:/dev/ttyUSB0'), { kind: 'serial', device: { path: '/dev/ttyUSB0' }, baudRate: 115_200, framing: 'cobs' })
  assert.equal(parseRadioSpec('serial:/dev/serial/by-id/usb-FTDI_X-if00-port0@921600,framing=kiss,bitrate=5470'),
    { kind: 'serial', device: { path: '/dev/serial/by-id/usb-FTDI_X-if00-port0' }, baudRate: 921_600, framing: 'kiss', bitrate: 5470 })
  assert.equal(parseRadioSpec('serial-number:E22A0042@9600'), { kind: 'serial', device: { serialNumber: 'E22A0042' }, baudRate: 9600, framing: 'cobs' })
  assert.equal(parseRadioSpec('serial:/dev/ttyACM0,framing=bridge,frequencyHz=868100000,bandwidthHz=125000,spreadingFactor=9,codingRate=5,txPowerDbm=14,dutyCyclePermille=10'), {
    kind: 'serial', device: { path: '/dev/ttyACM0' }, baudRate: 115_200, framing: 'bridge',
    lora: { frequencyHz: 868_100_000, bandwidthHz: 125_000, spreadingFactor: 9, codingRate: 5, txPowerDbm: 14, dutyCyclePermille: 10 },
  })
  assert.equal(parseRadioSpec('udp'), { kind: 'udp' })
  assert.equal(parseRadioSpec('udp:10.0.0.2,mtu=1200'), { kind: 'udp', interface: '10.0.0.2', mtu: 1200 })
  assert.equal(parseRadioSpec('hub:127.0.0.1:7400'), { kind: 'hub', hub: '127.0.0.1:7400' })
  for (const [spec, why] of [
    ['tcp:1.2.3.4', /not one of the forms/],
    ['serial:ttyUSB0', /not a device path/],
    ['serial:/dev/ttyUSB0,framing=slip', /framing must be cobs, kiss or bridge/],
    ['serial:/dev/ttyUSB0,framing=bridge', /framing=bridge needs the radio settings frequencyHz=/],
    ['serial:/dev/ttyUSB0,spreadingFactor=9', /bridge radio setting: add framing=bridge/],
    ['serial:/dev/ttyUSB0,speed=9600', /unknown option speed/],
    ['serial:/dev/ttyUSB0,mtu=big', /mtu must be a number/],
    ['serial:/dev/ttyUSB0,mtu', /"mtu" is not key=value/],
    ['udp:eth0', /not the IPv4 address/],
    ['udp,framing=kiss', /unknown option framing/],
    ['hub:localhost', /not one of the forms/],
  ] as const) refuses(() => parseRadioSpec(spec), new RegExp(`--radio "${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}": .*${why.source}.*accepted forms: serial:`))
})

test('the systemd unit: dialout only for serial radios', () => {
  const u = systemdUnit({ name: 'x', role: 'relay', installDir: '/etc/spinmesh/x', user: 'spinmesh', serial: false })
  assert.not.match(u, /SupplementaryGroups/)
  assert.match(u, /^\[Service\]$/m)
  assert.match(systemdUnit({ name: 'x', role: 'relay', installDir: '/etc/spinmesh/x', user: 'spinmesh', serial: true }), /^SupplementaryGroups=dialout$/m)
})

test('spinmesh provision: prints the files and next steps; usage errors exit 2, refusals exit 1', async () => {
  const { net, out } = fresh()
  const run = async (argv: string[]) => {
    let o = '', e = ''
    const code = await main(argv, { out: (s) => (o += s), err: (s) => (e += s), tty: false })
    return { code, out: o, err: e }
  }
  const r = await run(['provision', '--network', net, '--out', out, '--name', 'gw-9', '--radio', 'serial:/dev/ttyUSB0'])
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /^provisioned gw-9 \(gateway\) in .*gw-9\/$/m)
  assert.match(r.out, /^address\s+[0-9a-f]{8} \(\d+\)$/m)
  assert.match(r.out, /node\.key \(mode 0600/)
  assert.match(r.out, /no authority key/)
  assert.match(r.out, /^ {2}scp -rp .*gw-9 pi@DEVICE:\/tmp\/gw-9$/m)
  assert.match(r.out, /^ {2}sudo systemctl enable --now spinmesh-gw-9$/m)
  assert.match(r.out, /^ {2}sudo -u spinmesh spinmesh status --config \/etc\/spinmesh\/gw-9\/node\.yaml$/m)
  const again = await run(['provision', '--network', net, '--out', out, '--name', 'gw-9'])
  assert.is(again.code, 1)
  assert.match(again.err, /^spinmesh: error: .*gw-9 already exists; pass --force/)
  const forced = await run(['provision', '--network', net, '--out', out, '--name', 'gw-9', '--force'])
  assert.is(forced.code, 0, forced.err)
  assert.match(forced.out, /replaced a bundle for [0-9a-f]{8}: still certified/)
  for (const argv of [['--out', out, '--name', 'x'], ['--network', net, '--out', out, '--name', 'x', '--role', 'boss'], ['--network', net, '--out', out, '--name', 'x', '--days', '9999'], ['--network', net, '--out', out, '--name', 'x', 'extra']]) {
    const u = await run(['provision', ...argv])
    assert.is(u.code, 2, argv.join(' '))
    assert.match(u.err, /^spinmesh: /)
  }
  const help = await run(['provision', '--help'])
  assert.is(help.code, 0)
  assert.match(help.out, /spinmesh provision --network DIR --out DIR --name NAME/)
})

test.run()
