/**
 * A gateway's configuration (issue 9): the `gateway:` section of a node config, and what
 * `spinmesh demo` builds. Every tunable of a part is checked by that part's own validator
 * (spool-defaults.ts, mqtt-defaults.ts), so errors name the field (`gateway.spool.fsync: …`).
 *
 *   network: farm-north              # topic prefix spinmesh/<network>/…
 *   feeds:                           # what sensors report (gossip/feeds/sample.ts schemas)
 *     - { id: 1, name: climate, fields: [{ name: temperature, unit: degC }, { name: humidity, unit: '%' }] }
 *   spool: { dir: ./spool, fsync: interval, whenFull: drop-oldest }
 *   mqtt: { broker: embedded }       # or mqtt://broker.example:1883; format: json | cbor
 *   http: { port: 8080 }             # the dashboard and live stream; false: none
 */
import { isAbsolute, resolve } from 'node:path'
import { ConfigError } from '../core/errors.ts'
import { checkKeys, checkObject, fieldPath } from '../core/validate.ts'
import { validateFeedSchema, type FeedSchema } from '../gossip/feeds/sample.ts'
import { validateMqttSinkConfig, type MqttSinkConfig } from './mqtt-defaults.ts'
import type { PayloadFormat } from './records.ts'
import { validateSpoolConfig, type SpoolConfig } from './spool-defaults.ts'

export interface GatewayMqttConfig extends Omit<MqttSinkConfig, 'broker' | 'prefix'> {
  /** 'embedded': an aedes broker in the gateway process; else the URL of an external broker. */
  broker: 'embedded' | string
  /** The embedded broker's port on `embeddedHost` (0: any free port). */
  embeddedPort: number
  embeddedHost: string
  /** Topic prefix (default `spinmesh/<network>`). */
  prefix: string
  format: PayloadFormat
  /**
   * After a restart (the spool already had an MQTT cursor), an embedded broker has lost every
   * subscriber's session: hold publishing (the replay of what is spooled, and new samples) until a
   * client subscribes to the prefix and 1 s more, or this long, ms, so that reconnecting
   * subscribers get them. External brokers keep sessions: no wait.
   */
  replayGraceMs: number
}

export interface GatewayConfig {
  /** Letters, digits, '-' and '_': it is a topic level. */
  network: string
  feeds: readonly FeedSchema[]
  spool: SpoolConfig & { dir: string }
  mqtt: GatewayMqttConfig | null
  /**
   * The dashboard: `allowedHosts` are the Host names it answers (default: loopback names when
   * bound to loopback); behind a reverse proxy that forwards the original Host, list that name.
   */
  http: { host: string; port: number; allowedHosts?: string[] } | null
}

const NETWORK = /^[A-Za-z0-9_-]{1,64}$/
export const DEFAULT_REPLAY_GRACE_MS = 10_000

/** `base`: the directory relative paths (spool.dir) resolve against. */
export function validateGatewayConfig(input: unknown, path = 'gateway', base = process.cwd()): GatewayConfig {
  const o = checkObject(path, input)
  checkKeys(path, o, ['network', 'feeds', 'spool', 'mqtt', 'http'])
  const network = o.network
  if (typeof network !== 'string' || !NETWORK.test(network)) throw new ConfigError(fieldPath(path, 'network'), `must be 1–64 letters, digits, '-' or '_' (a topic level), got ${JSON.stringify(network)}`)
  if (!Array.isArray(o.feeds) || o.feeds.length === 0) throw new ConfigError(fieldPath(path, 'feeds'), 'must list at least one feed ({ id, name, fields })')
  const feeds = o.feeds.map((f, i) => validateFeedSchema(f, `${fieldPath(path, 'feeds')}[${i}]`))
  for (const key of ['id', 'name'] as const) {
    const seen = new Set<unknown>()
    feeds.forEach((f, i) => {
      if (seen.has(f[key])) throw new ConfigError(`${fieldPath(path, 'feeds')}[${i}].${key}`, `duplicate feed ${key} ${JSON.stringify(f[key])}`)
      seen.add(f[key])
    })
  }
  const spoolIn = checkObject(fieldPath(path, 'spool'), o.spool ?? {})
  const dir = spoolIn.dir
  if (typeof dir !== 'string' || dir === '') throw new ConfigError(fieldPath(path, 'spool.dir'), 'must be the directory the spool lives in')
  const { dir: _dir, ...spoolRest } = spoolIn
  const spool = { ...validateSpoolConfig(spoolRest, fieldPath(path, 'spool')), dir: isAbsolute(dir) ? dir : resolve(base, dir) }
  return { network, feeds, spool, mqtt: mqttSection(o.mqtt, fieldPath(path, 'mqtt'), network), http: httpSection(o.http, fieldPath(path, 'http')) }
}

function mqttSection(input: unknown, path: string, network: string): GatewayMqttConfig | null {
  if (input === false || input === null) return null
  const o = checkObject(path, input ?? {})
  const { broker = 'embedded', embeddedPort = 1883, embeddedHost = '127.0.0.1', format = 'json', replayGraceMs = DEFAULT_REPLAY_GRACE_MS, prefix = `spinmesh/${network}`, ...sink } = o
  if (!Number.isInteger(embeddedPort) || (embeddedPort as number) < 0 || (embeddedPort as number) > 65_535) throw new ConfigError(fieldPath(path, 'embeddedPort'), `must be a port 0..65535, got ${String(embeddedPort)}`)
  if (typeof embeddedHost !== 'string' || embeddedHost === '') throw new ConfigError(fieldPath(path, 'embeddedHost'), 'must be an address to listen on')
  if (format !== 'json' && format !== 'cbor') throw new ConfigError(fieldPath(path, 'format'), `must be json or cbor, got ${JSON.stringify(format)}`)
  if (typeof replayGraceMs !== 'number' || !(replayGraceMs >= 0 && replayGraceMs <= 600_000)) throw new ConfigError(fieldPath(path, 'replayGraceMs'), `must be 0..600000 ms, got ${String(replayGraceMs)}`)
  const embedded = broker === 'embedded'
  // The sink's own validator checks the URL, prefix and tunables; the embedded broker's URL is known only once it listens.
  const checked = validateMqttSinkConfig({ ...sink, prefix, broker: embedded ? 'mqtt://127.0.0.1:1883' : broker }, path)
  return { ...checked, broker: embedded ? 'embedded' : checked.broker, embeddedPort: embeddedPort as number, embeddedHost, format, replayGraceMs }
}

function httpSection(input: unknown, path: string): GatewayConfig['http'] {
  if (input === false || input === null) return null
  const o = checkObject(path, input ?? {})
  checkKeys(path, o, ['host', 'port', 'allowedHosts'])
  const host = o.host ?? '127.0.0.1'
  const port = o.port ?? 8080
  if (typeof host !== 'string' || host === '') throw new ConfigError(fieldPath(path, 'host'), 'must be an address to listen on')
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65_535) throw new ConfigError(fieldPath(path, 'port'), `must be a port 0..65535, got ${String(port)}`)
  const allowed = o.allowedHosts
  if (allowed !== undefined && (!Array.isArray(allowed) || allowed.length === 0 || allowed.some((h) => typeof h !== 'string' || h === ''))) {
    throw new ConfigError(fieldPath(path, 'allowedHosts'), `must be a list of host names (e.g. [gateway.example.org]; ['*'] for any), got ${JSON.stringify(allowed)}`)
  }
  return { host, port: port as number, ...(allowed ? { allowedHosts: (allowed as string[]).map((h) => h.toLowerCase()) } : {}) }
}
