/**
 * Every tunable of the MQTT sink (mqtt-sink.ts) in one place, each with its unit and trade-off
 * (DESIGN.md §9). `validateMqttSinkConfig` fills defaults and names the field of any bad value
 * (`mqtt.broker: unsupported protocol "http:" …`, `mqtt.window: must be >= 1, got 0`); unknown
 * fields are errors.
 */
import { ConfigError } from '../core/errors.ts'
import { checkObject, fieldPath, validateFields, type FieldRule } from '../core/validate.ts'

/** Reconnect delays: exponential from `minMs`, doubling per failed attempt up to `maxMs`, each drawn ±25 %. */
export interface MqttBackoff {
  /** First retry delay, ms. Smaller: a broker restart is noticed sooner, at more connection attempts against a dead one. */
  minMs: number
  /** Longest retry delay, ms. Bounds how long records wait after the broker is back; larger spares a broker that is struggling. */
  maxMs: number
}

export interface MqttSinkConfig {
  /**
   * The broker's URL: `mqtt://host:port` (TCP), `mqtts://` (TLS), `ws://` / `wss://` (WebSocket).
   * Prefer an IP literal for a local broker: `localhost` may resolve to ::1 where the broker only
   * listens on 127.0.0.1.
   */
  broker: string
  /** Topic prefix, e.g. `spinmesh/<network>`; a record is published to `<prefix>/<key>`. No wildcards, no trailing `/`. */
  prefix: string
  /**
   * MQTT client id (null: `spinmesh-<8 random hex digits>`). Must be unique per broker: a second
   * client with the same id takes the session over and the two gateways keep kicking each other off.
   */
  clientId: string | null
  /**
   * Records read from the cursor and not yet acknowledged to it (QoS 1 publishes awaiting PUBACK,
   * and PUBACKed ones behind an older one still waiting). Larger: more throughput over a slow
   * round trip; also the most duplicates a subscriber can see after one lost connection.
   */
  window: number
  backoff: MqttBackoff
  /** A connection attempt without CONNACK by then is given up and retried, ms. Smaller notices a black-holed broker sooner. */
  connectTimeoutMs: number
  /** MQTT keepalive, seconds (0: off). A silent broker is noticed after ~1.5 × this; smaller costs a PINGREQ per interval. */
  keepaliveS: number
  /** close() waits this long, ms, for PUBACKs of what is in flight (0: not at all); what is not confirmed is resent after the next start. */
  closeDrainMs: number
}

export const MQTT_DEFAULT_PORT = 1883
/** URL schemes MQTT.js connects with (tcp:/ssl:/tls: are its aliases of mqtt:/mqtts:). */
export const MQTT_PROTOCOLS: readonly string[] = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']
/** A connection up this long resets the reconnect backoff to `minMs`: a broker that accepts and then drops us at once is retried ever more slowly. */
export const MQTT_STABLE_MS = 5000

export const DEFAULT_MQTT_BACKOFF: Readonly<MqttBackoff> = Object.freeze({ minMs: 500, maxMs: 10_000 })

export const DEFAULT_MQTT_SINK: Readonly<MqttSinkConfig> = Object.freeze({
  broker: `mqtt://127.0.0.1:${MQTT_DEFAULT_PORT}`,
  prefix: '',
  clientId: null,
  window: 64,
  backoff: DEFAULT_MQTT_BACKOFF,
  connectTimeoutMs: 10_000,
  keepaliveS: 30,
  closeDrainMs: 2000,
})

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')
}

function brokerUrl(p: string, v: unknown): void {
  const example = `such as mqtt://127.0.0.1:${MQTT_DEFAULT_PORT}`
  if (typeof v !== 'string' || v === '') throw new ConfigError(p, `must be a broker URL ${example}, got ${JSON.stringify(v)}`)
  const shown = JSON.stringify(redactUrl(v))
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? '' : ' (no scheme: write mqtt://host:port)'
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new ConfigError(p, `cannot parse ${shown} as a broker URL${hint} (expected one ${example})`)
  }
  if (!MQTT_PROTOCOLS.includes(u.protocol)) {
    throw new ConfigError(p, `unsupported protocol ${JSON.stringify(u.protocol)} in ${shown}${hint}; use one of mqtt://, mqtts://, ws://, wss://`)
  }
  if (u.hostname === '') throw new ConfigError(p, `has no host: ${shown} (expected one ${example})`)
}

/** Why `topic` cannot be published to (MQTT 3.1.1 §4.7), or undefined when it can. */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'is empty'
  if (/[+#]/.test(topic)) return 'contains a wildcard (+ or #)'
  if (topic.includes('\u0000')) return 'contains a NUL character'
  if (Buffer.byteLength(topic) > 65_535) return 'is longer than 65,535 bytes'
  return undefined
}

function prefix(p: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') throw new ConfigError(p, `must be a topic prefix such as spinmesh/<network>, got ${JSON.stringify(v)}`)
  const problem = topicProblem(v)
  if (problem !== undefined) throw new ConfigError(p, `${problem}: ${JSON.stringify(v)}`)
  if (v.endsWith('/')) throw new ConfigError(p, `must not end with "/" (records go to <prefix>/<key>), got ${JSON.stringify(v)}`)
}

function clientId(p: string, v: unknown): void {
  if (v === null) return
  if (typeof v !== 'string' || v === '' || v.length > 256 || v.includes('\u0000')) {
    throw new ConfigError(p, `must be null (generated) or a non-empty string of at most 256 characters, got ${JSON.stringify(v)}`)
  }
}

const SINK_RULES: Record<keyof MqttSinkConfig, FieldRule> = {
  broker: brokerUrl,
  prefix,
  clientId,
  window: { min: 1, max: 65_535, integer: true },
  backoff: () => {}, // checked field by field below
  connectTimeoutMs: { gt: 0, max: 600_000 },
  keepaliveS: { min: 0, max: 65_535, integer: true },
  closeDrainMs: { min: 0, max: 600_000 },
}

const BACKOFF_RULES: Record<keyof MqttBackoff, FieldRule> = {
  minMs: { gt: 0, max: 600_000 },
  maxMs: { gt: 0, max: 3_600_000 },
}

export type MqttSinkConfigInput = Partial<Omit<MqttSinkConfig, 'backoff'>> & { backoff?: Partial<MqttBackoff> }

export function validateMqttSinkConfig(partial: MqttSinkConfigInput | Readonly<Record<string, unknown>> = {}, path = 'mqtt'): MqttSinkConfig {
  const c = validateFields(path, partial, DEFAULT_MQTT_SINK, SINK_RULES)
  const bp = fieldPath(path, 'backoff')
  const given = (partial as Record<string, unknown>).backoff
  const backoff = validateFields(bp, given === undefined ? {} : checkObject(bp, given), DEFAULT_MQTT_BACKOFF, BACKOFF_RULES)
  if (backoff.maxMs < backoff.minMs) throw new ConfigError(fieldPath(bp, 'maxMs'), `must be >= minMs (${backoff.minMs}), got ${backoff.maxMs}`)
  return { ...c, backoff }
}
