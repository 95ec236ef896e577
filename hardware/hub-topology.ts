/**
 * The topology a live hub emulates (hardware/LIVE.md): node positions, who hears whom (a range,
 * and/or explicit links that override it), and per-link loss, delay and jitter. Read from YAML:
 *
 *   nodes:
 *     - { id: 1, position: [0, 0] }
 *     - { id: 2, position: [80, 0] }
 *     - { id: 3, position: [400, 0] }
 *   range: 100            # metres: nodes at most this far apart hear each other
 *   loss: 0.05            # defaults for every link (see DEFAULT_HUB_TOPOLOGY)
 *   delayMs: 20
 *   links:                # explicit links override range for their pair (both directions)
 *     - { a: 2, b: 3, loss: 0.3 }      # in contact although 320 m apart
 *     - { a: 1, b: 2, up: false }      # cut although in range
 *
 * Every error is a ConfigError naming the field (`links.0.b: node 9 is not in nodes`). Links are
 * symmetric. RSSI of a link is the mean log-distance power (propagation.ts `meanRxPowerDbm`):
 * `txPowerDbm − referenceLossDb − 10·pathLossExponent·log10(max(d, 1 m))`, SNR = RSSI − noiseFloorDbm.
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../core/errors.ts'
import { checkBoolean, checkKeys, checkNumber, checkObject, fieldPath, validateFields, type NumberRule } from '../core/validate.ts'
import { meanRxPowerDbm } from './propagation.ts'
import { DEFAULT_HUB_TOPOLOGY, HUB_MAX_NODES, HUB_TOPOLOGY_RULES, type HubTopologyDefaults } from './udp-defaults.ts'

export interface HubNode {
  /** A node address (1..0x7FFFFFFF): what the node's HubRadio says in HELLO. */
  id: number
  /** Metres. */
  position: [number, number]
}

export interface HubLinkSpec {
  a: number
  b: number
  /** Defaults: the topology's. */
  loss?: number
  delayMs?: number
  jitterMs?: number
  /** false: the pair does not hear each other even within range (default true). */
  up?: boolean
}

export interface HubTopology extends HubTopologyDefaults {
  nodes: HubNode[]
  /** Metres, or null: only explicit links connect nodes. */
  range: number | null
  links: HubLinkSpec[]
}

export interface LinkParams {
  loss: number
  delayMs: number
  jitterMs: number
}

/** One direction of a link, as the hub uses it. */
export interface ResolvedLink extends LinkParams {
  to: number
  distance: number
  /** dBm. */
  rssi: number
  /** dB. */
  snr: number
}

const DEFAULT_KEYS = Object.keys(DEFAULT_HUB_TOPOLOGY) as Array<keyof HubTopologyDefaults>
const TOP_KEYS = ['nodes', 'range', 'links', ...DEFAULT_KEYS]

/** Validate a parsed topology (YAML already read). Throws ConfigError whose path names the field. */
export function validateHubTopology(raw: unknown, path = ''): HubTopology {
  const obj = checkObject(path, raw)
  checkKeys(path, obj, TOP_KEYS)
  const picked: Record<string, unknown> = {}
  for (const k of DEFAULT_KEYS) picked[k] = obj[k]
  const defaults = validateFields(path, picked, DEFAULT_HUB_TOPOLOGY, HUB_TOPOLOGY_RULES)

  const nodesPath = fieldPath(path, 'nodes')
  if (!Array.isArray(obj.nodes) || obj.nodes.length === 0) throw new ConfigError(nodesPath, 'must be a non-empty list of { id, position: [x, y] }')
  if (obj.nodes.length > HUB_MAX_NODES) throw new ConfigError(nodesPath, `has ${obj.nodes.length} nodes, more than the ${HUB_MAX_NODES} a hub emulates`)
  const where = new Map<number, string>()
  const nodes: HubNode[] = obj.nodes.map((n: unknown, i: number) => {
    const p = `${nodesPath}.${i}`
    const o = checkObject(p, n)
    checkKeys(p, o, ['id', 'position'])
    const id = checkNumber(`${p}.id`, o.id, { integer: true, min: 1, max: 0x7fffffff })
    const seen = where.get(id)
    if (seen !== undefined) throw new ConfigError(`${p}.id`, `duplicate node id ${id} (also ${seen})`)
    where.set(id, `${p}.id`)
    const pos = o.position
    if (!Array.isArray(pos) || pos.length !== 2) throw new ConfigError(`${p}.position`, 'must be [x, y] in metres')
    const x = checkNumber(`${p}.position.0`, pos[0])
    const y = checkNumber(`${p}.position.1`, pos[1])
    return { id, position: [x, y] as [number, number] }
  })

  const rangePath = fieldPath(path, 'range')
  const range = obj.range === undefined || obj.range === null ? null : checkNumber(rangePath, obj.range, { gt: 0 })

  const linksPath = fieldPath(path, 'links')
  const rawLinks = obj.links ?? []
  if (!Array.isArray(rawLinks)) throw new ConfigError(linksPath, 'must be a list of { a, b, loss?, delayMs?, jitterMs?, up? }')
  const pairs = new Map<string, string>()
  const links: HubLinkSpec[] = rawLinks.map((l: unknown, i: number) => {
    const p = `${linksPath}.${i}`
    const o = checkObject(p, l)
    checkKeys(p, o, ['a', 'b', 'loss', 'delayMs', 'jitterMs', 'up'])
    const a = checkNumber(`${p}.a`, o.a, { integer: true })
    const b = checkNumber(`${p}.b`, o.b, { integer: true })
    if (!where.has(a)) throw new ConfigError(`${p}.a`, `node ${a} is not in nodes`)
    if (!where.has(b)) throw new ConfigError(`${p}.b`, `node ${b} is not in nodes`)
    if (a === b) throw new ConfigError(`${p}.b`, 'is the same node as a')
    const key = pairKey(a, b)
    const dup = pairs.get(key)
    if (dup !== undefined) throw new ConfigError(p, `a second link between ${a} and ${b} (also ${dup})`)
    pairs.set(key, p)
    const spec: HubLinkSpec = { a, b }
    for (const k of ['loss', 'delayMs', 'jitterMs'] as const) {
      if (o[k] !== undefined) spec[k] = checkNumber(`${p}.${k}`, o[k], HUB_TOPOLOGY_RULES[k] as NumberRule)
    }
    if (o.up !== undefined) spec.up = checkBoolean(`${p}.up`, o.up)
    return spec
  })
  if (range === null && !links.some((l) => l.up !== false)) {
    throw new ConfigError(rangePath, 'give range (metres) or links: without either no node hears another')
  }
  return { ...defaults, nodes, range, links }
}

/** A topology from YAML text; `file` names the source in errors. */
export function parseHubTopology(text: string, file = 'topology'): HubTopology {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (e) {
    throw new ConfigError('', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('', `${file} must be a YAML mapping of fields`)
  return validateHubTopology(raw)
}

/** Read and validate a topology file. */
export async function loadHubTopology(file: string): Promise<HubTopology> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new ConfigError('', `cannot read topology ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  return parseHubTopology(text, file)
}

export interface ChainOptions extends Partial<HubTopologyDefaults> {
  /** Metres between neighbours (default 100); range is 1.5 × spacing, so only neighbours hear each other. */
  spacing?: number
  /** First node id (default 1). */
  firstId?: number
}

/** Nodes firstId..firstId+n−1 on a line, each hearing only its neighbours (for tests). */
export function chain(n: number, opts: ChainOptions = {}): HubTopology {
  const { spacing = 100, firstId = 1, ...defaults } = opts
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`chain(n): n must be a positive integer, got ${n}`)
  const nodes = Array.from({ length: n }, (_, i) => ({ id: firstId + i, position: [i * spacing, 0] }))
  return validateHubTopology({ ...defaults, nodes, range: 1.5 * spacing })
}

export function pairKey(a: number, b: number): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

/** Mean received power at `distance` metres with the topology's physics, dBm (see the module comment). */
export function rssiAt(t: HubTopologyDefaults, distance: number): number {
  return meanRxPowerDbm(distance, t)
}

function distanceOf(p: [number, number], q: [number, number]): number {
  return Math.hypot(p[0] - q[0], p[1] - q[1])
}

/** The topology's default link parameters. */
export function defaultLinkParams(t: HubTopologyDefaults): LinkParams {
  return { loss: t.loss, delayMs: t.delayMs, jitterMs: t.jitterMs }
}

function pairParams(t: HubTopology, a: HubNode, b: HubNode, spec: HubLinkSpec | undefined): LinkParams | null {
  if (spec) return spec.up === false ? null : { loss: spec.loss ?? t.loss, delayMs: spec.delayMs ?? t.delayMs, jitterMs: spec.jitterMs ?? t.jitterMs }
  return t.range !== null && distanceOf(a.position, b.position) <= t.range ? defaultLinkParams(t) : null
}

/** The parameters of the link a–b from the topology alone (explicit link, else range), or null when they do not hear each other. */
export function topologyLink(t: HubTopology, a: number, b: number): LinkParams | null {
  const pa = t.nodes.find((x) => x.id === a)
  const pb = t.nodes.find((x) => x.id === b)
  if (!pa || !pb || a === b) return null
  return pairParams(t, pa, pb, t.links.find((l) => pairKey(l.a, l.b) === pairKey(a, b)))
}

/** Resolve one direction a→b with distance and RSSI/SNR. */
export function resolveLink(t: HubTopology, a: number, b: number, params: LinkParams): ResolvedLink {
  const pa = t.nodes.find((x) => x.id === a)!
  const pb = t.nodes.find((x) => x.id === b)!
  const distance = distanceOf(pa.position, pb.position)
  const rssi = rssiAt(t, distance)
  return { ...params, to: b, distance, rssi, snr: rssi - t.noiseFloorDbm }
}

/** Every directed link: sender → its receivers (O(n²) once; n ≤ HUB_MAX_NODES). */
export function buildLinkTable(t: HubTopology): Map<number, ResolvedLink[]> {
  const explicit = new Map<string, HubLinkSpec>()
  for (const l of t.links) explicit.set(pairKey(l.a, l.b), l)
  const table = new Map<number, ResolvedLink[]>()
  for (const a of t.nodes) table.set(a.id, [])
  for (const a of t.nodes) {
    for (const b of t.nodes) {
      if (a.id === b.id) continue
      const params = pairParams(t, a, b, explicit.get(pairKey(a.id, b.id)))
      if (params) table.get(a.id)!.push(resolveLink(t, a.id, b.id, params))
    }
  }
  return table
}
