/**
 * Scenario files: YAML, validated field by field. Errors name the field (`radio.range: ...`).
 * Units: distances in metres, speeds in m/s, scenario times (duration, pause, start/stop) in
 * seconds; radio and link tunables carry their unit in their name (`preambleMs`).
 * The format is documented in field-tests/README.md.
 */
import { readConfigText } from '../core/validate.ts'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { z } from 'zod'
import { BROADCAST, GROUP_BASE } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import { resolveLayers } from './layers.ts'
import { placeGrid } from '../hardware/placement.ts'

const num = z.number().finite()
const nonNeg = num.nonnegative()
const pos = num.positive()
const prob = num.min(0).max(1)
/** A time in seconds, or a [lo, hi] range drawn uniformly per flow. */
const timeOrRange = z.union([nonNeg, z.tuple([nonNeg, nonNeg])])
const nodeId = z.int().min(1)

/**
 * The radio: a preset, then any field of hardware/sim-defaults.ts `SimRadioConfig`. The fields are
 * checked by the simulator's own validator (one source of truth for their bounds), called from
 * crossCheck below so errors still name the field.
 */
const radioSchema = z.looseObject({
  /** Base values the other fields override: `wifi` (802.11b-like) or `lora` (LoRa SF7-like, 1 % duty cycle). */
  preset: z.enum(['wifi', 'lora']).default('wifi'),
})

/** Longest run we accept: beyond it time arithmetic loses millisecond precision. */
const MAX_DURATION_S = 1e7

const trafficSchema = z
  .strictObject({
    type: z.literal('cbr').default('cbr'),
    pattern: z.enum(['unicast', 'multicast', 'broadcast']),
    /** unicast: number of flows between random distinct pairs (ignored when from/to are given). */
    flows: z.int().min(1).default(1),
    /** Sender node(s); default: drawn at random. */
    from: z.union([nodeId, z.array(nodeId).min(1)]).optional(),
    /** unicast destination; default: drawn at random. */
    to: nodeId.optional(),
    /** multicast group number (0-based). */
    group: z.int().min(0).max(BROADCAST - GROUP_BASE - 1).default(0),
    /** multicast: random senders when `from` is not given. */
    senders: z.int().min(1).default(1),
    /** multicast: members of the group (random nodes), or an explicit list. */
    receivers: z.union([z.int().min(1), z.array(nodeId).min(1)]).default(10),
    /**
     * multicast under `protocol: gravitational`: each receiver's rating for the group (the share of
     * the feed it asks for, in (0, 1]): `{ min, max }` drawn uniformly per receiver, or a list given
     * to the receivers in order (cycled). Without it every receiver is rated 1.
     */
    ratings: z.union([z.strictObject({ min: pos.max(1), max: pos.max(1) }), z.array(pos.max(1)).min(1)]).optional(),
    /** multicast with ratings: the first `fullRated` receivers (a contract's path) are rated 1. */
    fullRated: z.int().min(0).default(0),
    /**
     * multicast: make `groups` such feeds, on groups group … group + groups − 1, each with its own
     * random senders and receivers (explicit `from`/`receivers` lists are shared).
     */
    groups: z.int().min(1).max(1000).default(1),
    start: timeOrRange.default(0),
    /** Stop time, s; default the scenario duration. */
    stop: nonNeg.optional(),
    /** Packets per second per sender. */
    rate: pos.max(10_000),
    /** Application payload bytes per packet (≥ 6: flow id and sequence number). */
    size: z.int().min(6).max(65_535),
  })

const adversarySchema = z
  .strictObject({
    model: z.enum(['blackhole', 'greyhole', 'flood-rushing', 'wormhole', 'overlay-wormhole', 'modification', 'forged-replies']),
    /** Share of the nodes that are adversarial (traffic endpoints are never chosen). */
    fraction: prob.optional(),
    /** The adversarial nodes; wormhole: pairs of colluders, [a, b] or [a, b, c, d]. */
    nodes: z.array(nodeId).optional(),
    /** greyhole: probability of dropping each data packet. */
    dropProbability: prob.default(0.5),
    /**
     * flood-rushing, wormhole, overlay-wormhole, forged-replies: drop the data they attracted
     * (default true); false relays it (e.g. a wormhole that only shortens paths, for comparisons).
     */
    dropData: z.boolean().optional(),
  })
  .refine((a) => (a.fraction === undefined) !== (a.nodes === undefined), {
    message: 'give exactly one of `fraction` or `nodes`',
  })

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).default('unnamed'),
  description: z.string().optional(),
  /** Default seed; `--seed` overrides. */
  seed: z.int().min(0).default(1),
  /** Simulated seconds. */
  duration: pos.max(MAX_DURATION_S),
  nodes: z.strictObject({
    count: z.int().min(1).max(100_000),
    placement: z.enum(['grid', 'uniform', 'explicit']).default('uniform'),
    /** grid: metres between neighbours (default: fitted to the field). */
    spacing: pos.optional(),
    /** explicit: one [x, y] per node, in node order. */
    positions: z.array(z.tuple([num, num])).optional(),
  }),
  field: z.strictObject({ width: pos, height: pos }),
  radio: radioSchema.default({ preset: 'wifi' }),
  /** Link-layer tunables (adhoc/link-defaults.ts), e.g. beaconIntervalMs, reliableUnicast. */
  link: z.record(z.string(), z.unknown()).default({}),
  mobility: z
    .strictObject({
      model: z.enum(['static', 'random-waypoint', 'waypoints']).default('static'),
      minSpeed: pos.default(1),
      maxSpeed: pos.default(20),
      /** s */
      pause: nonNeg.default(0),
      /** waypoints: node id → list of [time s, x, y]; nodes not listed stay where placed. */
      waypoints: z.record(z.string(), z.array(z.tuple([nonNeg, num, num])).min(1)).optional(),
    })
    .default({ model: 'static', minSpeed: 1, maxSpeed: 20, pause: 0 }),
  /** Scripted link failures: nodes a and b cannot hear each other during [down[0], down[1]) s. */
  links: z.array(z.strictObject({ a: nodeId, b: nodeId, down: z.tuple([nonNeg, nonNeg]) })).default([]),
  protocol: z.string().min(1).default('flood'),
  /** Protocol tunables, e.g. flood: maxJitterMs, ttl. */
  protocolConfig: z.record(z.string(), z.unknown()).default({}),
  traffic: z.array(trafficSchema).default([]),
  adversaries: z.array(adversarySchema).default([]),
  /** Security mode and tunables (crypto/sim-network.ts, crypto/security-defaults.ts); checked by resolveLayers. */
  security: z.record(z.string(), z.unknown()).default({}),
})

export type Scenario = z.infer<typeof scenarioSchema>
export type TrafficSpec = Scenario['traffic'][number]
export type AdversarySpec = Scenario['adversaries'][number]

function describeIssue(issue: z.core.$ZodIssue): ConfigError {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k))
    return new ConfigError(keys.join(', '), `unknown field${keys.length > 1 ? 's' : ''} (check the spelling; see field-tests/README.md)`)
  }
  return new ConfigError(path || '(scenario)', issue.message.replace(/^Invalid input: /, ''))
}

/** Checks that depend on several fields at once. */
function crossCheck(s: Scenario): void {
  const n = s.nodes.count
  const { width, height } = s.field
  const inField = (x: number, y: number) => x >= 0 && x <= width && y >= 0 && y <= height
  if (s.nodes.placement === 'explicit') {
    if (!s.nodes.positions) throw new ConfigError('nodes.positions', 'required when nodes.placement is explicit')
    if (s.nodes.positions.length !== n) {
      throw new ConfigError('nodes.positions', `has ${s.nodes.positions.length} entries but nodes.count is ${n}`)
    }
    s.nodes.positions.forEach(([x, y], i) => {
      if (!inField(x, y)) throw new ConfigError(`nodes.positions.${i}`, `[${x}, ${y}] is outside the ${width} x ${height} m field`)
    })
  }
  if (s.nodes.placement === 'grid') {
    try {
      placeGrid(n, width, height, s.nodes.spacing)
    } catch (e) {
      throw new ConfigError(s.nodes.spacing === undefined ? 'nodes.count' : 'nodes.spacing', (e as Error).message)
    }
  }
  if (s.mobility.minSpeed > s.mobility.maxSpeed) {
    throw new ConfigError('mobility.minSpeed', `(${s.mobility.minSpeed}) is above mobility.maxSpeed (${s.mobility.maxSpeed})`)
  }
  if (s.mobility.model === 'waypoints' && !s.mobility.waypoints) {
    throw new ConfigError('mobility.waypoints', 'required when mobility.model is waypoints')
  }
  for (const [key, points] of Object.entries(s.mobility.waypoints ?? {})) {
    const id = Number(key)
    if (!/^[1-9]\d*$/.test(key) || id > n) throw new ConfigError(`mobility.waypoints.${key}`, `is not a node id in 1..${n}`)
    points.forEach(([t, x, y], i) => {
      if (i > 0 && t <= points[i - 1][0]) throw new ConfigError(`mobility.waypoints.${key}.${i}`, `time ${t} s is not after the previous waypoint's (${points[i - 1][0]} s)`)
      if (!inField(x, y)) throw new ConfigError(`mobility.waypoints.${key}.${i}`, `[${x}, ${y}] is outside the ${width} x ${height} m field`)
    })
  }
  const checkNode = (path: string, id: number | undefined) => {
    if (id !== undefined && id > n) throw new ConfigError(path, `node ${id} does not exist (nodes are 1..${n})`)
  }
  s.links.forEach((l, i) => {
    checkNode(`links.${i}.a`, l.a)
    checkNode(`links.${i}.b`, l.b)
    if (l.a === l.b) throw new ConfigError(`links.${i}.b`, 'is the same node as a')
    if (l.down[1] <= l.down[0]) throw new ConfigError(`links.${i}.down`, 'must end after it starts')
  })
  s.traffic.forEach((t, i) => {
    const p = `traffic.${i}`
    for (const id of [t.from ?? []].flat()) checkNode(`${p}.from`, id)
    checkNode(`${p}.to`, t.to)
    if (Array.isArray(t.receivers)) t.receivers.forEach((id) => checkNode(`${p}.receivers`, id))
    else if (t.pattern === 'multicast' && t.receivers > n) {
      throw new ConfigError(`${p}.receivers`, `asks for ${t.receivers} receivers but there are only ${n} nodes`)
    }
    if (t.ratings !== undefined && t.pattern !== 'multicast') throw new ConfigError(`${p}.ratings`, 'only multicast traffic has ratings')
    if (t.ratings !== undefined && s.protocol !== 'gravitational') throw new ConfigError(`${p}.ratings`, `only protocol gravitational uses ratings (protocol is ${s.protocol})`)
    if (t.ratings !== undefined && !Array.isArray(t.ratings) && t.ratings.min > t.ratings.max) {
      throw new ConfigError(`${p}.ratings.min`, `(${t.ratings.min}) is above ratings.max (${t.ratings.max})`)
    }
    if (t.group + t.groups > BROADCAST - GROUP_BASE) throw new ConfigError(`${p}.groups`, 'runs past the last group number')
    if (t.pattern === 'unicast' && n < 2) throw new ConfigError(`${p}.pattern`, 'unicast needs at least 2 nodes')
    if (t.pattern === 'unicast' && t.from !== undefined && t.to !== undefined && [t.from].flat().includes(t.to)) {
      throw new ConfigError(`${p}.to`, 'is also the sender')
    }
    const start = Array.isArray(t.start) ? t.start : [t.start, t.start]
    if (start[1] < start[0]) throw new ConfigError(`${p}.start`, 'range ends before it starts')
    const stop = t.stop ?? s.duration
    if (stop < start[1]) throw new ConfigError(`${p}.stop`, `(${stop}) is before the latest start (${start[1]})`)
  })
  s.adversaries.forEach((a, i) => a.nodes?.forEach((id) => checkNode(`adversaries.${i}.nodes`, id)))
  // Radio, link and protocol fields are checked by their own layers' validators.
  resolveLayers(s)
}

/** Validate a parsed scenario object (YAML already read). Throws ConfigError naming the field. */
export function validateScenario(raw: unknown): Scenario {
  const r = scenarioSchema.safeParse(raw ?? {})
  if (!r.success) throw describeIssue(r.error.issues[0])
  crossCheck(r.data)
  return r.data
}

/**
 * Apply `key.path=value` overrides to a raw scenario object before validation. The value is read
 * as YAML, so `radio.range=300`, `traffic.0.start=[10,20]` and `protocol=flood` all work.
 */
export function applyOverrides(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  for (const set of sets) {
    const eq = set.indexOf('=')
    if (eq <= 0) throw new ConfigError(set, 'an override must look like key.path=value')
    const path = set.slice(0, eq).split('.')
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new ConfigError(set.slice(0, eq), 'is not a valid field path')
    }
    let value: unknown
    try {
      value = parseYaml(set.slice(eq + 1))
    } catch {
      value = set.slice(eq + 1)
    }
    let obj: Record<string, unknown> = raw
    for (let i = 0; i < path.length - 1; i++) {
      const next = obj[path[i]]
      if (next === undefined || next === null) obj = (obj[path[i]] = /^\d+$/.test(path[i + 1]) ? [] : {}) as Record<string, unknown>
      else if (typeof next !== 'object') throw new ConfigError(path.slice(0, i + 1).join('.'), `is a ${typeof next}, so ${path.join('.')} cannot be set`)
      else obj = next as Record<string, unknown>
    }
    obj[path[path.length - 1]] = value
  }
  return raw
}

/** A scenario file's text; a ConfigError naming the file when it cannot be read. */
export function readScenarioText(file: string): string {
  return readConfigText(file, 'scenario')
}

/** Read, override and validate a scenario file. */
export function loadScenario(file: string, sets: readonly string[] = []): Scenario {
  return parseScenario(readScenarioText(file), sets, file)
}

export function parseScenario(text: string, sets: readonly string[] = [], file = 'scenario'): Scenario {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : ''
    throw new ConfigError('', `${file} is not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`)
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError('', `${file} must be a YAML mapping of fields`)
  }
  return validateScenario(applyOverrides((raw ?? {}) as Record<string, unknown>, sets))
}
