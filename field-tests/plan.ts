/**
 * `spinmesh field-test plan SCENARIO --inventory FILE --out DIR` (issue 10): turns a scenario into
 * a live run on real nodes. The scenario's nodes 1..n are mapped, in order, to the first n nodes of
 * the inventory; its traffic flows are drawn exactly as the simulator draws them (same seed, same
 * flows, same packet times), with real addresses. Written to DIR:
 *
 *   schedule.json        the RunSchedule: node mapping, flows, duration (collect reads it)
 *   nodes/<name>.yaml    one node config per node: its radio, the scenario's link, routing and
 *                        multicast settings, its flows, multicast groups, event log, run start
 *   keys/<name>.key      identities generated for inventory nodes that name none
 *   hub.yaml             when the inventory's radios are the live hub: its topology (positions,
 *                        range, loss, delay from the scenario's radio)
 *   logs/                where the nodes' event logs go (relative to the configs)
 *
 * Inventory (YAML):
 *
 *   security: { mode: open }          # or { mode: authenticated, network: ./mynet }
 *   nodes:
 *     - name: n1
 *       identity: ./keys/n1.key       # optional: generated into DIR/keys when absent
 *       radio: { kind: hub, hub: 127.0.0.1:7400 }   # any node-config radio
 *       position: [0, 0]              # optional: else the scenario's placement
 *
 * The run starts at `run.startWallMs` in every config (and `startWallMs` in schedule.json): set with
 * `--start` (an ISO time or +SECONDS from now) at plan time, or by `spinmesh field-test run`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { parse as parseYaml, stringify as toYaml } from 'yaml'
import { ConfigError } from '../core/errors.ts'
import { BROADCAST, isGroupAddr } from '../core/addr.ts'
import { checkKeys, checkObject, readConfigText } from '../core/validate.ts'
import { generateIdentity, loadIdentity, saveIdentity } from '../crypto/identity.ts'
import { validateNodeConfig } from '../runtime/config.ts'
import type { SimRadioConfig } from '../hardware/sim-defaults.ts'
import { resolveLayers } from './layers.ts'
import { buildSimulation } from './runner.ts'
import type { Scenario } from './scenario.ts'
import type { RunSchedule, ScheduledFlow } from './field-test-types.ts'

/** Protocols a live node runs: unicast over AODV, multicast over MAODV (with anonymous gossip). */
const LIVE_PROTOCOLS = ['aodv', 'maodv', 'maodv+ag'] as const

export interface InventoryNode {
  name: string
  identity?: string
  radio: Record<string, unknown>
  position?: [number, number]
}

export interface Inventory {
  security: Record<string, unknown>
  nodes: InventoryNode[]
  /** Where relative paths in the inventory resolve. */
  base: string
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

export function parseInventory(text: string, file: string): Inventory {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (e) {
    throw new ConfigError('', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  const o = checkObject('inventory', raw)
  checkKeys('inventory', o, ['security', 'nodes'])
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) throw new ConfigError('nodes', `${file} must list the nodes ({ name, radio, identity?, position? })`)
  const seen = new Set<string>()
  const nodes = o.nodes.map((n, i): InventoryNode => {
    const p = `nodes[${i}]`
    const x = checkObject(p, n)
    checkKeys(p, x, ['name', 'identity', 'radio', 'position'])
    if (typeof x.name !== 'string' || !NAME.test(x.name)) throw new ConfigError(`${p}.name`, `must be lowercase letters, digits and '-', got ${JSON.stringify(x.name)}`)
    if (seen.has(x.name)) throw new ConfigError(`${p}.name`, `duplicate node name ${x.name}`)
    seen.add(x.name)
    if (x.identity !== undefined && typeof x.identity !== 'string') throw new ConfigError(`${p}.identity`, 'must be the path of an identity file')
    const radio = checkObject(`${p}.radio`, x.radio)
    const pos = x.position
    if (pos !== undefined && !(Array.isArray(pos) && pos.length === 2 && pos.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw new ConfigError(`${p}.position`, `must be [x, y] in metres, got ${JSON.stringify(pos)}`)
    }
    return { name: x.name, ...(x.identity ? { identity: x.identity as string } : {}), radio, ...(pos ? { position: pos as [number, number] } : {}) }
  })
  const security = o.security === undefined ? { mode: 'open' } : checkObject('security', o.security)
  return { security, nodes, base: dirname(resolve(file)) }
}

export function loadInventory(file: string): Inventory {
  return parseInventory(readConfigText(file, 'inventory'), file)
}

export interface PlanOptions {
  /** Wall clock of the run's start, ms since the epoch (omitted: set later by `field-test run`). */
  startWallMs?: number
  seed?: number
  /** Overwrite an existing plan directory. */
  force?: boolean
}

export interface PlanResult {
  schedule: RunSchedule
  /** Absolute paths of the node configs, by scenario node id order. */
  configs: string[]
  hub: string | null
}

/** Plan `scenario` on `inventory` into `out` (see the module comment). */
export function planFieldTest(scenario: Scenario, inventory: Inventory, out: string, o: PlanOptions = {}): PlanResult {
  if (!(LIVE_PROTOCOLS as readonly string[]).includes(scenario.protocol)) {
    throw new ConfigError('protocol', `a live run needs a protocol the daemon runs (${LIVE_PROTOCOLS.join(', ')}), scenario ${scenario.name} uses ${scenario.protocol}`)
  }
  if (scenario.mobility.model !== 'static') throw new ConfigError('mobility.model', `a live run cannot move nodes: the scenario uses ${scenario.mobility.model} (plan a static variant)`)
  // What a live run cannot reproduce is refused, not silently dropped.
  if (scenario.adversaries.length > 0) throw new ConfigError('adversaries', 'a live run has no adversarial nodes: plan a variant without adversaries')
  if (scenario.links.length > 0) throw new ConfigError('links', 'scripted link outages are not reproduced by a live run: plan a variant without links (or cut the hub links by hand)')
  scenario.traffic.forEach((t, i) => {
    if (t.pattern === 'broadcast') throw new ConfigError(`traffic.${i}.pattern`, 'broadcast flows run in simulations only: a node sends unicast (AODV) and multicast (MAODV) flows')
    if (t.rate > 1000) throw new ConfigError(`traffic.${i}.rate`, `a node sends at most 1000 packets/s, got ${t.rate}`)
  })
  const n = scenario.nodes.count
  if (inventory.nodes.length < n) throw new ConfigError('nodes', `scenario ${scenario.name} has ${n} nodes, the inventory only ${inventory.nodes.length}`)
  if (existsSync(join(out, 'schedule.json')) && !o.force) throw new ConfigError('out', `${out} already holds a plan (schedule.json); use --force to replace it`)
  // The simulator draws the flows, memberships and positions: the live run gets exactly those.
  const sim = buildSimulation(scenario, { seed: o.seed })
  mkdirSync(join(out, 'keys'), { recursive: true })
  mkdirSync(join(out, 'logs'), { recursive: true })
  if (o.force) rmSync(join(out, 'nodes'), { recursive: true, force: true }) // no configs of an older plan stay behind
  mkdirSync(join(out, 'nodes'), { recursive: true })
  const seenAddresses = new Map<number, string>()
  const radioSim = resolveLayers(scenario).radio
  const nodes = inventory.nodes.slice(0, n).map((inv, i) => {
    const id = i + 1
    let keyFile = inv.identity ? (isAbsolute(inv.identity) ? inv.identity : resolve(inventory.base, inv.identity)) : join(out, 'keys', `${inv.name}.key`)
    if (!existsSync(keyFile)) {
      if (inv.identity) throw new ConfigError(`nodes[${i}].identity`, `no identity file at ${keyFile}`)
      saveIdentity(generateIdentity(), keyFile)
    }
    keyFile = resolve(keyFile)
    const address = loadIdentity(keyFile).address
    if (seenAddresses.has(address)) throw new ConfigError(`nodes[${i}].identity`, `${keyFile} has the address of node ${seenAddresses.get(address)} (the same identity twice)`)
    seenAddresses.set(address, inv.name)
    const p = sim.medium.position(id)
    return { id, name: inv.name, address, keyFile, radio: inv.radio, position: inv.position ?? ([Math.round(p.x * 100) / 100, Math.round(p.y * 100) / 100] as [number, number]) }
  })
  const addr = (id: number) => nodes[id - 1].address
  const realDst = (dst: number) => (isGroupAddr(dst) || dst === BROADCAST ? dst : addr(dst))
  const flows: ScheduledFlow[] = sim.collector.flowList().map((f) => ({
    id: f.id, pattern: f.pattern, from: addr(f.from), dst: realDst(f.dst), receivers: f.receivers.map(addr),
    startS: f.startMs / 1000, stopS: f.stopMs / 1000, rate: 1000 / f.intervalMs, size: f.size,
  }))
  const schedule: RunSchedule = {
    scenario: scenario.name, seed: sim.seed, protocol: scenario.protocol,
    nodes: nodes.map((x) => ({ id: x.id, name: x.name, address: x.address, position: x.position })),
    flows, durationS: scenario.duration, ...(o.startWallMs !== undefined ? { startWallMs: o.startWallMs } : {}),
  }
  // Multicast groups each node joins (from the scenario's memberships).
  const groupsOf = new Map<number, number[]>()
  for (const [group, ids] of sim.groups.members) for (const id of ids) groupsOf.set(id, [...(groupsOf.get(id) ?? []), group - 0x8000_0000])
  const hubRadios = nodes.every((x) => x.radio.kind === 'hub')
  const configs = nodes.map((x) => {
    const file = join(out, 'nodes', `${x.name}.yaml`)
    const rel = (p: string) => relative(dirname(file), p) || '.'
    const security = inventory.security.mode === 'authenticated' && typeof inventory.security.network === 'string'
      ? { ...inventory.security, network: rel(resolve(inventory.base, inventory.security.network)) }
      : inventory.security
    const multicast = scenario.protocol === 'aodv' ? undefined : {
      protocol: scenario.protocol === 'maodv' ? 'maodv' : 'maodv+ag',
      groups: groupsOf.get(x.id) ?? [],
      config: multicastConfig(scenario),
    }
    const node: Record<string, unknown> = {
      name: x.name,
      identity: rel(x.keyFile),
      // The scenario radio's bitrate, preamble and MTU, so airtime means the same live as simulated
      // (a hub radio prices airtime by them; a real radio's own fields win).
      radio: x.radio.kind === 'hub' ? { mtu: radioSim.mtu, bitrate: radioSim.bitrate, ...x.radio } : x.radio,
      link: scenario.link,
      routing: { protocol: 'aodv', config: scenario.protocol === 'aodv' ? scenario.protocolConfig : aodvSection(scenario) },
      ...(multicast ? { multicast } : {}),
      security,
      control: { socket: rel(join(out, 'nodes', `${x.name}.sock`)) },
      log: { dir: rel(join(out, 'logs')) },
      flows: flows.filter((f) => f.from === x.address),
      ...(o.startWallMs !== undefined ? { run: { startWallMs: o.startWallMs } } : {}),
    }
    writeFileSync(file, `# ${x.name} in the live run of scenario ${scenario.name} (seed ${sim.seed}): spinmesh run --config ${file}\n` + toYaml(node))
    validateNodeConfig(parseYaml(readFileSync(file, 'utf8')), file) // a plan that the daemon would refuse is a bug here
    return resolve(file)
  })
  writeFileSync(join(out, 'schedule.json'), JSON.stringify(schedule, null, 2) + '\n')
  let hub: string | null = null
  if (hubRadios) {
    hub = resolve(join(out, 'hub.yaml'))
    writeFileSync(hub, toYaml(hubTopology(radioSim, nodes)))
  }
  return { schedule, configs, hub }
}

/** The AODV section of a maodv / maodv+ag scenario's protocolConfig (maodv+ag: its `aodv:` part). */
function aodvSection(s: Scenario): Record<string, unknown> {
  return (s.protocolConfig.aodv as Record<string, unknown> | undefined) ?? {}
}

function multicastConfig(s: Scenario): Record<string, unknown> {
  if (s.protocol === 'maodv') return { maodv: s.protocolConfig }
  const { maodv = {}, gossip = {} } = s.protocolConfig as Record<string, unknown>
  return { maodv, gossip }
}

/** The live hub's topology for the scenario's radio: the planned positions, its range and loss. */
function hubTopology(radio: SimRadioConfig, nodes: Array<{ address: number; position: [number, number] }>): Record<string, unknown> {
  return { nodes: nodes.map((x) => ({ id: x.address, position: x.position })), range: radio.range, loss: radio.loss, bitrate: radio.bitrate, preambleMs: radio.preambleMs, delayMs: 2 }
}
