/**
 * What the live dashboard shows (issue 9): a `DashboardState` snapshot of the mesh (nodes with
 * their radios, links with quality, routes towards the gateway, multicast trees, feeds, stream
 * counters) served as `/api/state` and as `event: state` on `/api/stream`, and `DashboardSample`s
 * (one sensor reading) pushed as `event: sample`. gateway/http.ts serves them;
 * gateway/dashboard/dashboard.js draws them.
 *
 * `validateDashboardState` / `validateDashboardSample` check a value at the boundary and return a
 * normalised copy (addresses lowercased, unknown fields dropped); a bad value throws ConfigError
 * naming the field (`state.links[3].quality: must be <= 1, got 1.5`).
 */
import { ConfigError } from '../core/errors.ts'
import { checkBoolean, checkNumber, checkObject, checkOneOf, fieldPath } from '../core/validate.ts'

export type NodeRole = 'gateway' | 'sensor' | 'relay'
export const NODE_ROLES: readonly NodeRole[] = ['gateway', 'sensor', 'relay']

export interface DashboardRadio {
  /** The radio's state as its driver names it (`up`, `down`, `connecting`, `reconnecting`, …). */
  state: string
  /** Airtime used in the current duty-cycle window, ms. */
  airtimeMs: number
  /** Share of the channel busy, in thousandths. */
  channelLoadPermille?: number
  /** Frames waiting in the transmit queue. */
  queued?: number
}

export interface DashboardNode {
  /** 8 lowercase hex digits. */
  address: string
  name?: string
  role: NodeRole
  /** Metres, in any local frame (the page scales to fit). */
  position?: [number, number]
  radio?: DashboardRadio
}

export interface DashboardLink {
  a: string
  b: string
  /** 0 (unusable) .. 1 (perfect). */
  quality: number
  rssi?: number
  snr?: number
}

/** A route of node `from` towards `dst` (usually the gateway), via `nextHop`. */
export interface DashboardRoute {
  from: string
  dst: string
  nextHop: string
  hops: number
}

/** A multicast tree: its group, its leader, and the tree's links. */
export interface DashboardTree {
  group: string
  leader: string
  links: Array<{ a: string; b: string }>
}

export interface DashboardFeed {
  id: number
  name: string
  fields: Array<{ name: string; unit: string }>
}

export interface DashboardStream {
  /** Records appended to the spool. */
  accepted: number
  /** Records sent to the live stream / backends. */
  streamed: number
  /** Records waiting in the spool for a backend. */
  spooled: number
  brokerConnected: boolean
  /** Per-sink details, shown as given. */
  sinks?: Record<string, unknown>
}

export interface DashboardState {
  network: string
  /** The gateway's own address, 8 hex digits. */
  gateway: string
  /** When the snapshot was taken, ms since the epoch. */
  at: number
  nodes: DashboardNode[]
  links: DashboardLink[]
  routes: DashboardRoute[]
  trees: DashboardTree[]
  feeds: DashboardFeed[]
  stream: DashboardStream
}

/** One reading of feed `feed` by node `origin`: `values[i]` is the feed's field `i`. */
export interface DashboardSample {
  feed: string
  origin: string
  seq: number
  /** Measurement time, ms since the epoch. */
  ts: number
  values: number[]
}

const ADDRESS = /^[0-9a-f]{8}$/i

function checkString(path: string, v: unknown, nonEmpty = true): string {
  if (typeof v !== 'string') throw new ConfigError(path, `must be a string, got ${v === null ? 'null' : typeof v}`)
  if (nonEmpty && v.length === 0) throw new ConfigError(path, 'must not be empty')
  return v
}

function checkAddress(path: string, v: unknown): string {
  const s = checkString(path, v)
  if (!ADDRESS.test(s)) throw new ConfigError(path, `must be an address of 8 hex digits, got ${JSON.stringify(s.slice(0, 20))}`)
  return s.toLowerCase()
}

function checkList<T>(path: string, v: unknown, item: (path: string, v: unknown) => T): T[] {
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list')
  return v.map((x, i) => item(`${path}[${i}]`, x))
}

function optional<T>(obj: Record<string, unknown>, key: string, path: string, check: (path: string, v: unknown) => T): T | undefined {
  const v = obj[key]
  return v === undefined ? undefined : check(fieldPath(path, key), v)
}

/** Copies `fields` into `out` where defined (so optional fields stay absent, not `undefined`). */
function assignDefined<T extends object>(out: T, fields: Partial<T>): T {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}

const nonNegative = { min: 0 }
const count = { min: 0, integer: true }

function checkRadio(path: string, v: unknown): DashboardRadio {
  const o = checkObject(path, v)
  return assignDefined<DashboardRadio>(
    { state: checkString(fieldPath(path, 'state'), o.state), airtimeMs: checkNumber(fieldPath(path, 'airtimeMs'), o.airtimeMs, nonNegative) },
    {
      channelLoadPermille: optional(o, 'channelLoadPermille', path, (p, x) => checkNumber(p, x, { min: 0, max: 1000 })),
      queued: optional(o, 'queued', path, (p, x) => checkNumber(p, x, count)),
    },
  )
}

function checkPosition(path: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new ConfigError(path, 'must be [x, y] in metres')
  return [checkNumber(`${path}[0]`, v[0]), checkNumber(`${path}[1]`, v[1])]
}

function checkNode(path: string, v: unknown): DashboardNode {
  const o = checkObject(path, v)
  return assignDefined<DashboardNode>(
    { address: checkAddress(fieldPath(path, 'address'), o.address), role: checkOneOf(fieldPath(path, 'role'), o.role, NODE_ROLES) },
    {
      name: optional(o, 'name', path, checkString),
      position: optional(o, 'position', path, checkPosition),
      radio: optional(o, 'radio', path, checkRadio),
    },
  )
}

function checkLink(path: string, v: unknown): DashboardLink {
  const o = checkObject(path, v)
  return assignDefined<DashboardLink>(
    {
      a: checkAddress(fieldPath(path, 'a'), o.a),
      b: checkAddress(fieldPath(path, 'b'), o.b),
      quality: checkNumber(fieldPath(path, 'quality'), o.quality, { min: 0, max: 1 }),
    },
    { rssi: optional(o, 'rssi', path, checkNumber), snr: optional(o, 'snr', path, checkNumber) },
  )
}

function checkRoute(path: string, v: unknown): DashboardRoute {
  const o = checkObject(path, v)
  return {
    from: checkAddress(fieldPath(path, 'from'), o.from),
    dst: checkAddress(fieldPath(path, 'dst'), o.dst),
    nextHop: checkAddress(fieldPath(path, 'nextHop'), o.nextHop),
    hops: checkNumber(fieldPath(path, 'hops'), o.hops, { min: 1, integer: true }),
  }
}

function checkTree(path: string, v: unknown): DashboardTree {
  const o = checkObject(path, v)
  return {
    group: checkString(fieldPath(path, 'group'), o.group),
    leader: checkAddress(fieldPath(path, 'leader'), o.leader),
    links: checkList(fieldPath(path, 'links'), o.links, (p, x) => {
      const l = checkObject(p, x)
      return { a: checkAddress(fieldPath(p, 'a'), l.a), b: checkAddress(fieldPath(p, 'b'), l.b) }
    }),
  }
}

function checkFeed(path: string, v: unknown): DashboardFeed {
  const o = checkObject(path, v)
  return {
    id: checkNumber(fieldPath(path, 'id'), o.id, count),
    name: checkString(fieldPath(path, 'name'), o.name),
    fields: checkList(fieldPath(path, 'fields'), o.fields, (p, x) => {
      const f = checkObject(p, x)
      return { name: checkString(fieldPath(p, 'name'), f.name), unit: checkString(fieldPath(p, 'unit'), f.unit, false) }
    }),
  }
}

function checkStream(path: string, v: unknown): DashboardStream {
  const o = checkObject(path, v)
  return assignDefined<DashboardStream>(
    {
      accepted: checkNumber(fieldPath(path, 'accepted'), o.accepted, count),
      streamed: checkNumber(fieldPath(path, 'streamed'), o.streamed, count),
      spooled: checkNumber(fieldPath(path, 'spooled'), o.spooled, count),
      brokerConnected: checkBoolean(fieldPath(path, 'brokerConnected'), o.brokerConnected),
    },
    { sinks: optional(o, 'sinks', path, (p, x) => ({ ...checkObject(p, x) })) },
  )
}

/** Check a state snapshot; returns a normalised copy. Throws ConfigError naming the bad field. */
export function validateDashboardState(v: unknown, path = 'state'): DashboardState {
  const o = checkObject(path, v)
  const f = (k: string): string => fieldPath(path, k)
  return {
    network: checkString(f('network'), o.network),
    gateway: checkAddress(f('gateway'), o.gateway),
    at: checkNumber(f('at'), o.at, nonNegative),
    nodes: checkList(f('nodes'), o.nodes, checkNode),
    links: checkList(f('links'), o.links, checkLink),
    routes: checkList(f('routes'), o.routes, checkRoute),
    trees: checkList(f('trees'), o.trees, checkTree),
    feeds: checkList(f('feeds'), o.feeds, checkFeed),
    stream: checkStream(f('stream'), o.stream),
  }
}

/**
 * Check one sample; returns a normalised copy. `values` may hold non-finite numbers (a sensor
 * fault): they travel as JSON `null` and the page leaves a gap.
 */
export function validateDashboardSample(v: unknown, path = 'sample'): DashboardSample {
  const o = checkObject(path, v)
  const f = (k: string): string => fieldPath(path, k)
  return {
    feed: checkString(f('feed'), o.feed),
    origin: checkAddress(f('origin'), o.origin),
    seq: checkNumber(f('seq'), o.seq, count),
    ts: checkNumber(f('ts'), o.ts, nonNegative),
    values: checkList(f('values'), o.values, (p, x) => {
      if (typeof x !== 'number') throw new ConfigError(p, `must be a number, got ${x === null ? 'null' : typeof x}`)
      return x
    }),
  }
}
