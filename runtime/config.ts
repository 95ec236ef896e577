/**
 * A node's config file (`spinmesh run --config node.yaml`, issues 8 and 9): which identity, which
 * radio(s), which link, routing and multicast settings, the feeds it reports to a gateway
 * (`uplink`) or, on a gateway, streams to MQTT (`gateway`), where the control socket is, its event
 * log (`log`) and, in a live field test, the flows it sends (`flows`, `run`). YAML, validated field by field;
 * every error names the field (`radio.device: ...`). Relative paths are relative to the config
 * file. Layer tunables (link, routing) are checked by their own layers' validators, so every bound
 * lives in one place. Examples: runtime/examples/.
 */
import { readConfigText } from '../core/validate.ts'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { z } from 'zod'
import { ConfigError } from '../core/errors.ts'
import { validateLinkConfig, type LinkConfig } from '../adhoc/link-defaults.ts'
import { validateAodvConfig } from '../adhoc/aodv/index.ts'
import { validateMaodvConfig, type MaodvConfig } from '../adhoc/maodv/index.ts'
import { validateAgConfig, type AgConfig } from '../gossip/anonymous/ag-defaults.ts'
import { validateFeedSchema, type FeedSchema } from '../gossip/feeds/sample.ts'
import { validateGatewayConfig, type GatewayConfig } from '../gateway/gateway-config.ts'
import { isGroupAddr, isNodeAddr, parseNodeAddress, type Addr } from '../core/addr.ts'
import { APP_HEADER_BYTES } from '../field-tests/traffic.ts'
import type { ScheduledFlow } from '../field-tests/field-test-types.ts'
import { parseDestination } from './traffic.ts'

const pos = z.number().finite().positive()
const port = z.int().min(1).max(65_535)
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must look like host:port')

const device = z
  .strictObject({
    /** /dev/ttyUSB0, /dev/serial/by-id/..., or a pty path. */
    path: z.string().min(1).optional(),
    /** USB serial number: the device is found again under any /dev name after an unplug. */
    serialNumber: z.string().min(1).optional(),
    vendorId: z.string().regex(/^[0-9a-fA-F]{4}$/, 'must be 4 hex digits').optional(),
    productId: z.string().regex(/^[0-9a-fA-F]{4}$/, 'must be 4 hex digits').optional(),
  })
  .refine((d) => d.path !== undefined || d.serialNumber !== undefined || d.vendorId !== undefined, {
    message: 'give a path, a serialNumber or a vendorId',
  })

const common = {
  /** Largest frame the radio carries, bytes. */
  mtu: z.int().min(16).max(65_000).optional(),
  /** On-air bits/s (airtime accounting). */
  bitrate: pos.optional(),
}

const radioSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('serial'),
    device,
    baudRate: z.int().min(300).max(4_000_000).default(115_200),
    /**
     * cobs: COBS + CRC-32 frames for transparent UART radios; kiss: KISS TNCs and RNodes; bridge:
     * firmware speaking our bridge protocol (firmware-bridge/PROTOCOL.md), configured by `lora`.
     */
    framing: z.enum(['cobs', 'kiss', 'bridge']).default('cobs'),
    /** bridge: the radio settings sent in CONFIG. */
    lora: z
      .strictObject({
        frequencyHz: z.int().min(137_000_000).max(3_000_000_000),
        bandwidthHz: z.int().min(7_800).max(1_625_000),
        spreadingFactor: z.int().min(5).max(12),
        codingRate: z.int().min(5).max(8),
        txPowerDbm: z.int().min(-9).max(30),
        preambleLength: z.int().min(6).max(65_535).optional(),
        dutyCyclePermille: z.int().min(1).max(1000).optional(),
      })
      .optional(),
    /** A frame not written within this long (e.g. while the device is unplugged) is reported failed. */
    frameTtlMs: pos.default(30_000),
    queueLimit: z.int().min(1).max(100_000).default(64),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('udp'),
    /** Multicast group and port of the LAN segment. */
    group: z.string().default('239.72.83.77'),
    port: port.default(4277),
    /** Local IPv4 address of the interface to use (default: the OS's choice). */
    interface: z.string().optional(),
    ...common,
  }),
  z.strictObject({
    kind: z.literal('hub'),
    /** The live emulation hub (`spinmesh hub`), e.g. 127.0.0.1:7400. */
    hub: hostPort,
    ...common,
  }),
])

/** A node address or a group: a number, or as users type it (8 hex digits, 0x-hex, decimal, group:N). */
const addressField = z.union([z.int(), z.string().min(1)], { error: 'must be an address: a number, 8 hex digits, 0x-hex or group:N' })

/** One flow of a live run (field-tests/field-test-types.ts ScheduledFlow; runtime/node-flows.ts sends it). */
const flowSchema = z.strictObject({
  /** The flow id in application headers. */
  id: z.int().min(0).max(0xffff),
  pattern: z.enum(['unicast', 'multicast', 'broadcast']),
  from: addressField,
  dst: addressField,
  /** The nodes that should deliver it (for the record: collect reads them from schedule.json). */
  receivers: z.array(addressField).max(4096).default([]),
  /** Seconds after `run.startWallMs`. */
  startS: z.number().finite().min(0),
  stopS: z.number().finite().positive(),
  /** Packets per second. */
  rate: z.number().finite().positive().max(1000),
  /** Bytes per packet, the 6-byte application header included. */
  size: z.int().min(APP_HEADER_BYTES).max(65_535),
})

const nodeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** The node identity file (`spinmesh keygen`); its address is derived from the key. */
  identity: z.string().min(1),
  /** One radio ... */
  radio: radioSchema.optional(),
  /** ... or several (a gateway bridging a LoRa segment and the LAN): hardware/multi-radio.ts. */
  radios: z.array(radioSchema).min(1).max(8).optional(),
  /** Link-layer tunables (adhoc/link-defaults.ts). */
  link: z.record(z.string(), z.unknown()).default({}),
  routing: z
    .strictObject({
      protocol: z.string().default('aodv'),
      /** AODV's tunables (adhoc/aodv/aodv-defaults.ts). */
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .default({ protocol: 'aodv', config: {} }),
  /** Multicast groups: MAODV trees, with anonymous gossip recovering what the tree lost (maodv+ag). */
  multicast: z
    .strictObject({
      protocol: z.enum(['maodv', 'maodv+ag']).default('maodv+ag'),
      /** Group numbers joined at start (`group:N`); `spinmesh join` adds more at run time. */
      groups: z.array(z.int().min(0).max(0x7ffffffe)).max(64).default([]),
      /** Tunables: `maodv:` (adhoc/maodv/maodv-defaults.ts), `gossip:` (gossip/anonymous/ag-defaults.ts). */
      config: z.strictObject({ maodv: z.record(z.string(), z.unknown()).default({}), gossip: z.record(z.string(), z.unknown()).default({}) }).default({ maodv: {}, gossip: {} }),
    })
    .optional(),
  security: z
    .strictObject({
      mode: z.enum(['open', 'authenticated']).default('authenticated'),
      /** The network directory (`spinmesh network init`): authority, roster, revocations. */
      network: z.string().min(1).optional(),
      /** This node's certificate (`spinmesh cert issue`); default: the identity file as .cert. */
      certificate: z.string().min(1).optional(),
    })
    .default({ mode: 'authenticated' }),
  /** Feed schemas this node reports (`uplink`) or streams (`gateway`): gossip/feeds/sample.ts. */
  feeds: z.array(z.unknown()).max(256).default([]),
  /** Report samples (`spinmesh publish FEED VALUES...`) to a gateway node, routed by AODV (gateway/uplink.ts). */
  uplink: z.strictObject({ gateway: z.string().min(1) }).optional(),
  /**
   * This node is a gateway: samples reported to it are spooled and streamed to MQTT and a
   * dashboard (gateway/gateway-config.ts: network, spool, mqtt, http).
   */
  gateway: z.record(z.string(), z.unknown()).optional(),
  control: z
    .strictObject({
      /** The local control socket `spinmesh status|ping|traceroute` talk to. */
      socket: z.string().min(1).optional(),
    })
    .default({}),
  /** The event log (runtime/event-log.ts): JSON lines in DIR/<address>.jsonl, rotated at maxBytes, `files` old ones kept. */
  log: z
    .strictObject({
      dir: z.string().min(1),
      maxBytes: z.int().min(4096).max(2 ** 40).default(8 * 1024 * 1024),
      files: z.int().min(0).max(1000).default(5),
    })
    .optional(),
  /** Traffic this node sends in a live run (field-tests/plan.ts writes them); each `from` must be this node. */
  flows: z.array(flowSchema).max(1024).default([]),
  /** The live run: its start, the wall clock (ms since the epoch) flows' startS/stopS count from. */
  run: z.strictObject({ startWallMs: z.int().min(0) }).optional(),
})

type Parsed = z.infer<typeof nodeSchema>
export type RadioConfig = NonNullable<Parsed['radio']>
export interface MulticastConfig {
  protocol: 'maodv' | 'maodv+ag'
  groups: number[]
  config: { maodv: MaodvConfig; gossip: AgConfig }
}
/** A validated config: `radio:` or `radios:` became `radios` (one or more). */
export type NodeConfig = Omit<Parsed, 'link' | 'radio' | 'radios' | 'multicast' | 'feeds' | 'uplink' | 'gateway' | 'flows'> & {
  link: LinkConfig
  radios: RadioConfig[]
  multicast?: MulticastConfig
  feeds: FeedSchema[]
  uplink?: { gateway: Addr }
  gateway?: GatewayConfig
  flows: ScheduledFlow[]
  file: string
}

/** Flows with their addresses resolved and checked against their patterns (paths `flows.N.field`). */
function validateFlows(flows: Parsed['flows']): ScheduledFlow[] {
  const address = (v: number | string, path: string, what: 'node' | 'dst'): Addr => {
    let a: Addr
    try {
      a = what === 'node' ? (typeof v === 'number' ? v : parseNodeAddress(v)) : parseDestination(v)
    } catch (e) {
      throw new ConfigError(path, (e as Error).message)
    }
    if (what === 'node' && !isNodeAddr(a)) throw new ConfigError(path, `${String(v)} is not a node address (1..0x7fffffff)`)
    return a
  }
  const out = flows.map((f, i): ScheduledFlow => {
    const p = `flows.${i}`
    if (f.pattern === 'broadcast') throw new ConfigError(`${p}.pattern`, 'broadcast flows run in simulations only: a node sends unicast (AODV) and multicast (MAODV) flows')
    const dst = address(f.dst, `${p}.dst`, 'dst')
    if (f.pattern === 'unicast' && !isNodeAddr(dst)) throw new ConfigError(`${p}.dst`, 'a unicast flow goes to a node address')
    if (f.pattern === 'multicast' && !isGroupAddr(dst)) throw new ConfigError(`${p}.dst`, 'a multicast flow goes to a group (group:N)')
    if (!(f.stopS > f.startS)) throw new ConfigError(`${p}.stopS`, `must be after startS (${f.startS}), got ${f.stopS}`)
    return { ...f, from: address(f.from, `${p}.from`, 'node'), dst, receivers: f.receivers.map((r, k) => address(r, `${p}.receivers.${k}`, 'node')) }
  })
  out.forEach((f, i) => {
    if (out.findIndex((g) => g.id === f.id) < i) throw new ConfigError(`flows.${i}.id`, `duplicate flow id ${f.id}`)
  })
  return out
}

function describe(issue: z.core.$ZodIssue): ConfigError {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k))
    return new ConfigError(keys.join(', '), `unknown field${keys.length > 1 ? 's' : ''} (see runtime/README.md)`)
  }
  if (issue.code === 'invalid_union' && /^radios?(\.\d+)?$/.test(path)) return new ConfigError(`${path}.kind`, "must be 'serial', 'udp' or 'hub'")
  return new ConfigError(path || '(config)', issue.message.replace(/^Invalid input: /, ''))
}

/** Validate a parsed config (`file`: where it came from, for relative paths). Throws ConfigError naming the field. */
export function validateNodeConfig(raw: unknown, file = 'node.yaml'): NodeConfig {
  const r = nodeSchema.safeParse(raw ?? {})
  if (!r.success) throw describe(r.error.issues[0])
  const c = r.data
  const base = dirname(resolve(file))
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p))
  if ((c.radio === undefined) === (c.radios === undefined)) throw new ConfigError('radio', 'give either radio: (one) or radios: (a list)')
  const list = c.radios ?? [c.radio!]
  const where = (i: number) => (c.radios ? `radios.${i}` : 'radio')
  list.forEach((r, i) => {
    if (r.kind === 'serial' && r.framing === 'bridge' && r.lora === undefined) {
      throw new ConfigError(`${where(i)}.lora`, 'required with framing: bridge (frequencyHz, bandwidthHz, spreadingFactor, codingRate, txPowerDbm)')
    }
  })
  if (c.security.mode === 'authenticated' && c.security.network === undefined) {
    throw new ConfigError('security.network', "required in an authenticated network (the directory `spinmesh network init` made); or set security.mode: open")
  }
  const link = validateLinkConfig(c.link, 'link')
  if (c.routing.protocol === 'odsbr') {
    throw new ConfigError('routing.protocol', 'odsbr runs in simulations (spinmesh sim, scenario protocol: odsbr); the daemon routes with aodv so far')
  }
  if (c.routing.protocol !== 'aodv') throw new ConfigError('routing.protocol', `must be aodv, got ${c.routing.protocol}`)
  validateAodvConfig(c.routing.config, 'routing.config')
  const multicast: MulticastConfig | undefined = c.multicast && {
    protocol: c.multicast.protocol,
    groups: [...new Set(c.multicast.groups)],
    config: {
      maodv: validateMaodvConfig(c.multicast.config.maodv, 'multicast.config.maodv'),
      gossip: validateAgConfig(c.multicast.config.gossip, 'multicast.config.gossip'),
    },
  }
  if (multicast) {
    const limit = Math.min(multicast.config.maodv.maxGroups, multicast.protocol === 'maodv+ag' ? multicast.config.gossip.maxGroups : Infinity)
    if (multicast.groups.length > limit) throw new ConfigError('multicast.groups', `${multicast.groups.length} groups, more than the ${limit} this node keeps state for (maodv.maxGroups / gossip.maxGroups)`)
  }
  const radioKey = (r: RadioConfig): string =>
    r.kind === 'serial' ? `serial ${r.device.path ?? ''} ${r.device.serialNumber ?? ''} ${r.device.vendorId ?? ''}:${r.device.productId ?? ''}`
    : r.kind === 'udp' ? `udp ${r.group}:${r.port} ${r.interface ?? ''}` : `hub ${r.hub}`
  list.forEach((r, i) => {
    const j = list.findIndex((q) => radioKey(q) === radioKey(r))
    if (j < i) throw new ConfigError(`radios.${i}`, `the same radio as radios.${j} (${radioKey(r).trim()})`)
  })
  const radios = list.map((r) => (r.kind === 'serial' && r.device.path !== undefined ? { ...r, device: { ...r.device, path: abs(r.device.path) } } : r))
  const feeds = c.feeds.map((f, i) => validateFeedSchema(f, `feeds[${i}]`))
  for (const key of ['id', 'name'] as const) {
    feeds.forEach((f, i) => {
      if (feeds.findIndex((g) => g[key] === f[key]) < i) throw new ConfigError(`feeds[${i}].${key}`, `duplicate feed ${key} ${JSON.stringify(f[key])}`)
    })
  }
  let uplink: { gateway: Addr } | undefined
  if (c.uplink) {
    if (feeds.length === 0) throw new ConfigError('feeds', 'uplink needs the feeds this node reports ({ id, name, fields })')
    try {
      uplink = { gateway: parseNodeAddress(c.uplink.gateway) }
    } catch (e) {
      throw new ConfigError('uplink.gateway', (e as Error).message)
    }
  }
  const gateway = c.gateway ? validateGatewayConfig({ ...c.gateway, feeds: c.feeds }, 'gateway', base) : undefined
  const flows = validateFlows(c.flows)
  const { radio: _one, radios: _many, multicast: _m, feeds: _f, uplink: _u, gateway: _g, flows: _fl, ...rest } = c
  return {
    ...rest,
    radios,
    ...(multicast ? { multicast } : {}),
    feeds,
    ...(uplink ? { uplink } : {}),
    ...(gateway ? { gateway } : {}),
    flows,
    ...(c.log ? { log: { ...c.log, dir: abs(c.log.dir) } } : {}),
    link,
    identity: abs(c.identity),
    security: {
      ...c.security,
      ...(c.security.network ? { network: abs(c.security.network) } : {}),
      ...(c.security.certificate ? { certificate: abs(c.security.certificate) } : {}),
    },
    control: { ...c.control, ...(c.control.socket ? { socket: abs(c.control.socket) } : {}) },
    file: resolve(file),
  }
}

/** Read and validate a config file; a ConfigError naming the file (and line) when it cannot be read or parsed. */
export function loadNodeConfig(file: string): NodeConfig {
  const text = readConfigText(file, 'config')
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : ''
    throw new ConfigError('', `${file} is not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('', `${file} must be a YAML mapping of fields`)
  return validateNodeConfig(raw, file)
}
