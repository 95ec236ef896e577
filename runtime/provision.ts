/**
 * Provisioning (`spinmesh provision`): on the network authority's machine, make a bundle for one
 * device, to copy to it (scp) and install as a systemd service:
 *
 *   OUT/NAME/node.key                 a new identity (mode 0600)
 *   OUT/NAME/node.cert                its certificate, issued by the authority (like `spinmesh cert issue`)
 *   OUT/NAME/network/                 the network's PUBLIC files only: network.cbor, revoked.crl, certs/
 *                                     (never authority.key: that one never leaves the authority's machine)
 *   OUT/NAME/node.yaml                the node config: relative paths, so it is valid wherever the bundle lies
 *   OUT/NAME/spinmesh-NAME.service    the systemd unit (ExecStart: spinmesh run --config INSTALL_DIR/node.yaml)
 *   OUT/NAME/README.txt               how to install it
 *
 * Everything the arguments can get wrong (name, radio spec, feeds file, network directory, an
 * existing bundle, the config they would make) is checked before a key is made or a certificate is
 * issued; the bundle is written to a temporary directory beside OUT/NAME, checked (the config loads,
 * the certificate verifies against the copied network files), then renamed into place.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { basename, join, posix } from 'node:path'
import { Document, isMap, isSeq, parse as parseYaml, visit } from 'yaml'
import { formatNodeAddress, parseNodeAddress, type Addr } from '../core/addr.ts'
import { ConfigError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { readConfigText } from '../core/validate.ts'
import { rolesProblem, type Certificate, type NetworkInfo } from '../crypto/cert.ts'
import { generateIdentity, saveIdentity, type Identity } from '../crypto/identity.ts'
import {
  AUTHORITY_FILE, CERTS_DIR, CRL_FILE, issueToNetwork, loadAuthority, loadCertificate, loadNetwork, MAX_CERT_DAYS, NETWORK_FILE, saveCertificate,
} from '../crypto/network-dir.ts'
import { validateFeedSchema, type FeedSchema } from '../gossip/feeds/sample.ts'
import { loadNodeConfig, validateNodeConfig } from './config.ts'

export const ROLES = ['gateway', 'sensor', 'relay'] as const
export type ProvisionRole = (typeof ROLES)[number]

/** Certificate roles by node role, unless --roles says otherwise. */
export const DEFAULT_CERT_ROLES: Readonly<Record<ProvisionRole, readonly string[]>> = { gateway: ['gateway', 'relay'], sensor: ['sensor'], relay: ['relay'] }
export const DEFAULT_DAYS = 365
export const DEFAULT_USER = 'spinmesh'
export const DEFAULT_RADIO = 'udp'
export const DEFAULT_HTTP_PORT = 8080
/** What a sensor reports and a gateway streams when no --feeds file is given. */
export const DEFAULT_FEEDS: readonly FeedSchema[] = [validateFeedSchema({ id: 1, name: 'climate', fields: [{ name: 'temperature', unit: 'degC' }, { name: 'humidity', unit: '%' }] })]

export const KEY_FILE = 'node.key'
export const CERT_FILE = 'node.cert'
export const CONFIG_FILE = 'node.yaml'
export const BUNDLE_NETWORK_DIR = 'network'
export const README_FILE = 'README.txt'

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/
const USER = /^[a-z_][a-z0-9_-]{0,31}$/
const GATEWAY_NETWORK = /[^A-Za-z0-9_-]/g

export const defaultInstallDir = (name: string): string => `/etc/spinmesh/${name}`
export const unitName = (name: string): string => `spinmesh-${name}`
export const stateDir = (name: string): string => `/var/lib/spinmesh/${name}`
export const controlSocket = (name: string): string => `/run/spinmesh/${name}.sock`

const bad = (message: string): SpinmeshError => new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, message)

// ---------------------------------------------------------------- radio specs

export const RADIO_FORMS =
  'serial:/dev/ttyUSB0[@BAUD][,framing=cobs|kiss|bridge], serial-number:SERIAL[@BAUD][,framing=...], udp[:INTERFACE_IPV4], hub:HOST:PORT ' +
  '(any form may add ,mtu=N,bitrate=N; framing=bridge also needs frequencyHz=,bandwidthHz=,spreadingFactor=,codingRate=,txPowerDbm=)'

const LORA_KEYS = ['frequencyHz', 'bandwidthHz', 'spreadingFactor', 'codingRate', 'txPowerDbm', 'preambleLength', 'dutyCyclePermille'] as const
const LORA_REQUIRED = LORA_KEYS.slice(0, 5)

/** The `radio:` section a --radio spec stands for (ranges are checked later by the config's own validator). */
export function parseRadioSpec(spec: string): Record<string, unknown> {
  const fail = (why: string): never => {
    throw bad(`--radio "${spec}": ${why}; accepted forms: ${RADIO_FORMS}`)
  }
  const [head, ...opts] = spec.trim().split(',')
  const options = new Map<string, string>()
  for (const o of opts) {
    const m = /^([A-Za-z]+)=(\S+)$/.exec(o.trim())
    if (!m) fail(`"${o}" is not key=value`)
    if (options.has(m![1])) fail(`${m![1]} is given twice`)
    options.set(m![1], m![2])
  }
  const num = (k: string): number | undefined => {
    const v = options.get(k)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n)) fail(`${k} must be a number, got "${v}"`)
    return n
  }
  const common = { ...(options.has('mtu') ? { mtu: num('mtu') } : {}), ...(options.has('bitrate') ? { bitrate: num('bitrate') } : {}) }
  const only = (allowed: readonly string[]) => {
    for (const k of options.keys()) if (!allowed.includes(k)) fail(`unknown option ${k} (this form takes ${allowed.join(', ')})`)
  }
  let m: RegExpExecArray | null
  if ((m = /^(serial|serial-number):([^@\s]+)(?:@(\d+))?$/.exec(head))) {
    const [, kind, where, baud] = m
    if (kind === 'serial' && !where.startsWith('/')) fail(`"${where}" is not a device path (/dev/ttyUSB0, /dev/serial/by-id/...)`)
    only(['framing', 'mtu', 'bitrate', ...LORA_KEYS])
    const framing = options.get('framing') ?? 'cobs'
    if (!['cobs', 'kiss', 'bridge'].includes(framing)) fail(`framing must be cobs, kiss or bridge, got "${framing}"`)
    const loraGiven = LORA_KEYS.filter((k) => options.has(k))
    if (framing !== 'bridge' && loraGiven.length) fail(`${loraGiven[0]} is a bridge radio setting: add framing=bridge`)
    if (framing === 'bridge') {
      const missing = LORA_REQUIRED.filter((k) => !options.has(k))
      if (missing.length) fail(`framing=bridge needs the radio settings ${missing.map((k) => `${k}=`).join(', ')} (e.g. frequencyHz=868100000,bandwidthHz=125000,spreadingFactor=9,codingRate=5,txPowerDbm=14)`)
    }
    return {
      kind: 'serial',
      device: kind === 'serial' ? { path: where } : { serialNumber: where },
      baudRate: baud === undefined ? 115_200 : Number(baud),
      framing,
      ...(framing === 'bridge' ? { lora: Object.fromEntries(loraGiven.map((k) => [k, num(k)])) } : {}),
      ...common,
    }
  }
  if ((m = /^udp(?::(.*))?$/.exec(head))) {
    only(['mtu', 'bitrate'])
    const iface = m[1]
    if (iface !== undefined && !isIPv4(iface)) fail(`"${iface}" is not the IPv4 address of a local interface`)
    return { kind: 'udp', ...(iface !== undefined ? { interface: iface } : {}), ...common }
  }
  if ((m = /^hub:([^\s:]+):(\d{1,5})$/.exec(head))) {
    only(['mtu', 'bitrate'])
    return { kind: 'hub', hub: `${m[1]}:${m[2]}`, ...common }
  }
  return fail('not one of the forms')
}

/** One line for people: "serial /dev/ttyUSB0 at 115200 baud, cobs framing". */
export function describeRadio(r: Record<string, unknown>): string {
  if (r.kind === 'serial') {
    const d = r.device as { path?: string; serialNumber?: string }
    return `serial ${d.path ?? `serial number ${d.serialNumber}`} at ${String(r.baudRate)} baud, ${String(r.framing)} framing`
  }
  if (r.kind === 'udp') return `udp multicast${r.interface ? ` on ${String(r.interface)}` : ''}`
  return `hub ${String(r.hub)}`
}

// ---------------------------------------------------------------- feeds

/** A feeds file: a YAML list of { id, name, fields } (or a mapping with such a `feeds:` list). ConfigError naming the field. */
export function readFeedsFile(file: string): FeedSchema[] {
  const text = readConfigText(file, 'feeds file', 'feeds')
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (e) {
    throw new ConfigError('feeds', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'feeds' in raw) raw = (raw as { feeds: unknown }).feeds
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('feeds', `${file} must be a YAML list of feeds ({ id, name, fields: [{ name, unit }] }), at least one`)
  const feeds = raw.map((f, i) => {
    try {
      return validateFeedSchema(f, `feeds[${i}]`)
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(e.path, `${e.message.slice(e.path.length + 2)} (in ${file})`)
      throw e
    }
  })
  for (const key of ['id', 'name'] as const) {
    feeds.forEach((f, i) => {
      if (feeds.findIndex((g) => g[key] === f[key]) < i) throw new ConfigError(`feeds[${i}].${key}`, `duplicate feed ${key} ${JSON.stringify(f[key])} (in ${file})`)
    })
  }
  return feeds
}

// ---------------------------------------------------------------- the generated files

export interface BundleSpec {
  name: string
  role: ProvisionRole
  radio: Record<string, unknown>
  /** The gateway's topic level (the network name under the topic rule). */
  gatewayNetwork: string
  /** 'embedded' or a broker URL. */
  mqtt: string
  feeds: readonly FeedSchema[]
  /** Sensors: the gateway's address. */
  uplink?: Addr
}

/** The node config as data (paths relative to node.yaml). */
export function nodeConfig(s: BundleSpec): Record<string, unknown> {
  return {
    name: s.name,
    identity: `./${KEY_FILE}`,
    radio: s.radio,
    routing: { protocol: 'aodv' },
    security: { mode: 'authenticated', network: `./${BUNDLE_NETWORK_DIR}`, certificate: `./${CERT_FILE}` },
    ...(s.feeds.length ? { feeds: s.feeds.map((f) => ({ id: f.id, name: f.name, fields: f.fields.map((x) => ({ name: x.name, unit: x.unit })) })) } : {}),
    ...(s.uplink !== undefined ? { uplink: { gateway: formatNodeAddress(s.uplink) } } : {}),
    ...(s.role === 'gateway'
      ? { gateway: { network: s.gatewayNetwork, spool: { dir: `${stateDir(s.name)}/spool` }, mqtt: { broker: s.mqtt }, http: { port: DEFAULT_HTTP_PORT } } }
      : {}),
    control: { socket: controlSocket(s.name) },
  }
}

/** node.yaml's text: top-level sections in block style, what is nested deeper on one line. */
export function nodeYaml(s: BundleSpec, header: string): string {
  const doc = new Document(nodeConfig(s))
  const depth = (path: readonly unknown[]) => path.filter((p) => isMap(p) || isSeq(p)).length
  visit(doc, {
    Map: (_k, node, path) => void (depth(path) >= 2 && (node.flow = true)),
    Seq: (_k, node, path) => void (depth(path) >= 2 && (node.flow = true)),
  })
  doc.commentBefore = header.split('\n').map((l) => ` ${l}`).join('\n')
  return doc.toString({ lineWidth: 0 })
}

export interface UnitSpec {
  name: string
  role: ProvisionRole
  installDir: string
  user: string
  /** Adds SupplementaryGroups=dialout. */
  serial: boolean
}

/** The systemd unit `spinmesh-NAME.service`. */
export function systemdUnit(u: UnitSpec): string {
  const state = stateDir(u.name)
  return [
    '[Unit]',
    `Description=spinmesh ${u.role} node ${u.name}`,
    'Wants=network-online.target',
    'After=network-online.target time-sync.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=/usr/bin/env spinmesh run --config ${posix.join(u.installDir, CONFIG_FILE)}`,
    `User=${u.user}`,
    ...(u.serial ? ['# the serial radio: /dev/ttyUSB*, /dev/ttyACM* belong to the dialout group', 'SupplementaryGroups=dialout'] : []),
    'Restart=always',
    'RestartSec=5',
    `# ${controlSocket(u.name)} (the control socket); kept when this unit stops, as other nodes on this host may use the directory`,
    'RuntimeDirectory=spinmesh',
    'RuntimeDirectoryPreserve=yes',
    `# ${state} (the gateway's spool), owned by ${u.user}`,
    `StateDirectory=spinmesh/${u.name}`,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${state}`,
    'ProtectHome=yes',
    'PrivateTmp=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

export interface InstallSpec {
  name: string
  installDir: string
  user: string
  serial: boolean
  /** Where the bundle is on this machine (for the scp line). */
  bundleDir: string
}

/** The steps from this machine to a running service, one shell command a line. */
export function installSteps(i: InstallSpec): string[] {
  const unit = unitName(i.name)
  const d = i.installDir
  return [
    `# on this machine: copy the bundle to the device`,
    `scp -rp ${i.bundleDir} pi@DEVICE:/tmp/${i.name}`,
    `# on the device (spinmesh installed: docs/INSTALL-PI.md), once: the service user`,
    `id -u ${i.user} >/dev/null 2>&1 || sudo useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${i.user}`,
    ...(i.serial ? [`sudo usermod -aG dialout ${i.user}`] : []),
    `# install the bundle: the key readable by ${i.user} only`,
    `sudo mkdir -p ${d} && sudo cp -r /tmp/${i.name}/. ${d}/ && rm -rf /tmp/${i.name}`,
    `sudo chown -R root:${i.user} ${d} && sudo chown ${i.user} ${d}/${KEY_FILE} && sudo chmod 600 ${d}/${KEY_FILE}`,
    `sudo cp ${d}/${unit}.service /etc/systemd/system/ && sudo systemctl daemon-reload`,
    `sudo systemctl enable --now ${unit}`,
    `# check`,
    `systemctl status ${unit}`,
    `journalctl -u ${unit} -f`,
    `sudo -u ${i.user} spinmesh status --config ${posix.join(d, CONFIG_FILE)}`,
  ]
}

interface ReadmeSpec extends InstallSpec {
  role: ProvisionRole
  address: Addr
  network: NetworkInfo
  certificate: Certificate
  radio: string
}

function readme(r: ReadmeSpec): string {
  const unit = unitName(r.name)
  return [
    `spinmesh node ${r.name} (${r.role}), address ${formatNodeAddress(r.address)}, network ${r.network.name}`,
    `certified as ${r.certificate.roles.join(', ')} until ${new Date(r.certificate.notAfter * 1000).toISOString()}`,
    `radio: ${r.radio}`,
    '',
    'Files:',
    ...([
      [CONFIG_FILE, 'the node config (paths starting with ./ are relative to it)'],
      [KEY_FILE, "this node's secret key (mode 0600): keep it secret, on this device only"],
      [CERT_FILE, 'its certificate from the network authority'],
      [`${BUNDLE_NETWORK_DIR}/`, "the network's public files: network.cbor, revoked.crl, certs/ (the roster)"],
      [`${unit}.service`, `the systemd unit (runs spinmesh run --config ${posix.join(r.installDir, CONFIG_FILE)})`],
    ] as const).map(([f, what]) => `  ${f.padEnd(unit.length + 10)}${what}`),
    '',
    `Install (the unit expects this bundle in ${r.installDir}):`,
    ...installSteps(r).map((l) => `  ${l}`),
    '',
    `A new revocation list from the authority goes to ${posix.join(r.installDir, BUNDLE_NETWORK_DIR, CRL_FILE)}; then: sudo systemctl restart ${unit}`,
    '',
  ].join('\n')
}

// ---------------------------------------------------------------- provision

export interface ProvisionOptions {
  /** The network directory (`spinmesh network init`), with authority.key. */
  network: string
  /** The bundle goes to OUT/NAME. */
  out: string
  name: string
  role?: ProvisionRole
  /** A radio spec (RADIO_FORMS); default udp. */
  radio?: string
  /** Sensors: the gateway's address, or the name of its bundle in OUT. */
  gatewayAddress?: string
  /** 'embedded' (default) or a broker URL. */
  mqtt?: string
  feedsFile?: string
  days?: number
  roles?: readonly string[]
  user?: string
  /** Where the bundle will live on the device (default /etc/spinmesh/NAME). */
  installDir?: string
  force?: boolean
  /** Unix seconds (certificate validity); default the wall clock. */
  now?: number
}

export interface ProvisionResult {
  dir: string
  name: string
  role: ProvisionRole
  address: Addr
  network: NetworkInfo
  certificate: Certificate
  radio: string
  installDir: string
  user: string
  unit: string
  /** The files in the bundle, relative to it. */
  files: string[]
  /** Certificates in the copied roster. */
  rosterSize: number
  /** The roster entry written in the network directory. */
  rosterFile: string
  /** --force replaced a bundle whose identity had this address (still certified: revoke it if it is gone). */
  replaced?: Addr
  steps: string[]
}

function gatewayAddressOf(spec: string | undefined, out: string): Addr {
  if (spec === undefined || spec === '') throw bad('a sensor reports to a gateway: give --gateway-address ADDR (its address, or the name of its bundle in --out)')
  const bundleCert = join(out, spec, CERT_FILE)
  if (NAME.test(spec) && existsSync(bundleCert)) return loadCertificate(bundleCert).address
  try {
    return parseNodeAddress(spec)
  } catch (e) {
    throw bad(`--gateway-address "${spec}": ${(e as Error).message} (nor is there a bundle ${join(out, spec)})`)
  }
}

/** Pre-validate what the files will hold, naming the option a problem comes from. */
function checkConfig(spec: BundleSpec, bundleDir: string, radioSpec: string): void {
  try {
    validateNodeConfig(nodeConfig(spec), join(bundleDir, CONFIG_FILE))
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    const flag = e.path.startsWith('radio') ? `--radio "${radioSpec}"` : e.path.startsWith('gateway.mqtt') ? '--mqtt' : e.path.startsWith('feeds') ? '--feeds' : 'the generated config'
    throw bad(`${flag}: ${e.message}`)
  }
}

/** The address of the identity in an existing bundle, if it has a readable certificate. */
function previousAddress(dir: string): Addr | undefined {
  try {
    return loadCertificate(join(dir, CERT_FILE)).address
  } catch {
    return undefined
  }
}

/** Copy the network directory's public files, and only those, to `to`. */
function copyPublicNetwork(from: string, to: string): number {
  mkdirSync(join(to, CERTS_DIR), { recursive: true })
  for (const f of [NETWORK_FILE, CRL_FILE]) writeFileSync(join(to, f), readFileSync(join(from, f)), { mode: 0o644 })
  const certs = readdirSync(join(from, CERTS_DIR)).filter((f) => /^[0-9a-f]{8}\.cert$/.test(f))
  for (const f of certs) writeFileSync(join(to, CERTS_DIR, f), readFileSync(join(from, CERTS_DIR, f)), { mode: 0o644 })
  return certs.length
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
}

/** Make the bundle; file system failures (no permission, a missing parent) become one-line errors naming the path. */
export function provision(o: ProvisionOptions): ProvisionResult {
  try {
    return provisionBundle(o)
  } catch (e) {
    const x = e as NodeJS.ErrnoException
    if (!(e instanceof SpinmeshError) && typeof x?.code === 'string' && x.syscall !== undefined) {
      throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `cannot ${x.syscall}${x.path ? ` ${x.path}` : ''}: ${x.code}`, { cause: e })
    }
    throw e
  }
}

function provisionBundle(o: ProvisionOptions): ProvisionResult {
  const now = Math.floor(o.now ?? Date.now() / 1000)
  const role = o.role ?? 'gateway'
  if (!NAME.test(o.name)) throw bad(`name "${o.name}" must be 1-32 characters of a-z 0-9 - (starting with a letter or digit): it names the bundle, the unit and the socket`)
  if (!ROLES.includes(role)) throw bad(`role "${String(role)}" must be one of ${ROLES.join(', ')}`)
  const user = o.user ?? DEFAULT_USER
  if (!USER.test(user)) throw bad(`user "${user}" is not a system user name (a-z 0-9 _ -, starting with a letter or _)`)
  const installDir = o.installDir ?? defaultInstallDir(o.name)
  if (!posix.isAbsolute(installDir) || /[\s"'\\$%;]/.test(installDir)) throw bad(`install dir "${installDir}" must be an absolute path without spaces, quotes or $ % ; \\ (it goes into the systemd unit)`)
  const days = o.days ?? DEFAULT_DAYS
  if (!Number.isInteger(days) || days < 1 || days > MAX_CERT_DAYS) throw bad(`days must be a whole number in 1..${MAX_CERT_DAYS}, got ${days}`)
  const roles = [...(o.roles ?? DEFAULT_CERT_ROLES[role])]
  const rolesBad = rolesProblem(roles)
  if (rolesBad) throw bad(`roles: ${rolesBad}`)
  const radio = parseRadioSpec(o.radio ?? DEFAULT_RADIO)
  const serial = radio.kind === 'serial'
  const uplink = role === 'sensor' ? gatewayAddressOf(o.gatewayAddress, o.out) : undefined
  if (role !== 'sensor' && o.gatewayAddress !== undefined) throw bad(`--gateway-address is for sensors (the gateway they report to); this is a ${role}`)
  if (role !== 'gateway' && o.mqtt !== undefined) throw bad(`--mqtt is for gateways; this is a ${role}`)
  const feeds = o.feedsFile !== undefined ? readFeedsFile(o.feedsFile) : role === 'relay' ? [] : DEFAULT_FEEDS

  // The network directory: complete, and this machine holds its authority.
  if (!existsSync(o.network)) throw bad(`network directory ${o.network} does not exist (make one with spinmesh network init --out ${o.network}, on the authority's machine)`)
  const authorityPath = join(o.network, AUTHORITY_FILE)
  const { network, roster } = loadNetwork(o.network)
  if (!existsSync(authorityPath)) throw new SpinmeshError(ErrorCodes.BAD_KEY, `${authorityPath} is missing: provisioning issues a certificate, so it runs on the authority's machine, with the network directory that holds authority.key`)
  loadAuthority(o.network)

  const dir = join(o.out, o.name)
  const exists = existsSync(dir)
  if (exists && !o.force) throw bad(`${dir} already exists; pass --force to replace it (the node it was made for keeps its certificate: revoke it with spinmesh network revoke if it is gone)`)
  const spec: BundleSpec = { name: o.name, role, radio, gatewayNetwork: network.name.replace(GATEWAY_NETWORK, '-'), mqtt: o.mqtt ?? 'embedded', feeds, ...(uplink !== undefined ? { uplink } : {}) }
  checkConfig(spec, dir, o.radio ?? DEFAULT_RADIO)

  // A new identity (one whose address is free in the roster), its certificate, the bundle.
  const taken = new Set(roster.map((c) => c.address))
  let identity: Identity = generateIdentity()
  for (let i = 0; taken.has(identity.address) && i < 8; i++) identity = generateIdentity()
  const replaced = exists ? previousAddress(dir) : undefined
  mkdirSync(o.out, { recursive: true })
  const tmp = join(o.out, `.${o.name}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp)
  try {
    const certificate = issueToNetwork(o.network, identity, { roles, days, now })
    saveIdentity(identity, join(tmp, KEY_FILE))
    saveCertificate(certificate, join(tmp, CERT_FILE))
    const rosterSize = copyPublicNetwork(o.network, join(tmp, BUNDLE_NETWORK_DIR))
    const header = [
      `spinmesh node ${o.name} (${role}) of network ${network.name}, address ${formatNodeAddress(identity.address)}: made by spinmesh provision`,
      `on ${new Date(now * 1000).toISOString()}. Relative paths are relative to this file: keep ${KEY_FILE}, ${CERT_FILE} and ${BUNDLE_NETWORK_DIR}/ beside it.`,
      `Reference: runtime/config.ts, runtime/examples/.`,
    ].join('\n')
    writeFileSync(join(tmp, CONFIG_FILE), nodeYaml(spec, header), { mode: 0o644 })
    writeFileSync(join(tmp, `${unitName(o.name)}.service`), systemdUnit({ name: o.name, role, installDir, user, serial }), { mode: 0o644 })
    const steps = installSteps({ name: o.name, installDir, user, serial, bundleDir: dir })
    const radioText = describeRadio(radio)
    writeFileSync(join(tmp, README_FILE), readme({ name: o.name, installDir, user, serial, bundleDir: dir, role, address: identity.address, network, certificate, radio: radioText }), { mode: 0o644 })
    // Check the bundle as the device will see it: the config loads, the certificate verifies against the copied network files.
    loadNodeConfig(join(tmp, CONFIG_FILE))
    loadNetwork(join(tmp, BUNDLE_NETWORK_DIR)).trust.check(certificate, now)
    if (listFiles(tmp).some((f) => basename(f) === AUTHORITY_FILE)) throw new Error(`bug: ${AUTHORITY_FILE} in the bundle`)
    if (exists) rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    return {
      dir, name: o.name, role, address: identity.address, network, certificate, radio: radioText, installDir, user, unit: `${unitName(o.name)}.service`,
      files: listFiles(dir), rosterSize, rosterFile: join(o.network, CERTS_DIR, `${formatNodeAddress(identity.address)}.cert`),
      ...(replaced !== undefined && replaced !== identity.address ? { replaced } : {}), steps,
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
