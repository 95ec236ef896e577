/**
 * The README's main job (`spinmesh demo`, issue 9): a simulated field of LoRa sensor nodes
 * (sensor-field.ts) reports to a gateway, which spools every sample and streams it to MQTT (the
 * embedded broker, or `broker`); a subscriber on that broker prints what it receives as it
 * arrives; at the end a summary says how many samples the sensors sent, the gateway accepted, the
 * broker confirmed and the subscriber received. The field runs in virtual time paced at `speed` ×
 * the wall clock.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode as cborDecode } from 'cbor-x'
import { connect as mqttConnect, type MqttClient } from 'mqtt'
import { formatNodeAddress } from '../core/addr.ts'
import { loadScenario } from '../field-tests/scenario.ts'
import { Gateway } from './gateway.ts'
import { validateGatewayConfig } from './gateway-config.ts'
import type { SampleMessage } from './records.ts'
import { DEMO_FEEDS, SensorField } from './sensor-field.ts'

export const DEMO_SCENARIO = new URL('../field-tests/scenarios/sensor-field.yaml', import.meta.url).pathname
/** The field's gateway node (the grid's corner: the farthest sensors are a few hops away). */
const GATEWAY_NODE = 1

export interface DemoOptions {
  scenario?: string
  seed?: number
  /** Field time to run, seconds of virtual time (default 120). */
  durationS?: number
  /** Virtual seconds per wall second (default 10). */
  speed?: number
  /** An external broker URL; default the embedded broker. */
  broker?: string
  /** The embedded broker's port (default 0: any free port). */
  embeddedPort?: number
  /** Where the spool lives (kept); default a temporary directory removed at the end. */
  spool?: string
  /** Dashboard port (0: any free port; null: no dashboard). */
  httpPort?: number | null
  /** Mean time between a sensor's samples, s of field time (default 30). */
  sampleIntervalS?: number
  /** How long to wait at the end for the broker to confirm and the subscriber to receive everything, ms (default 20 s). */
  drainMs?: number
  /** Print each received sample (default true). */
  print?: boolean
  out: (line: string) => void
}

export interface DemoSummary {
  scenario: string
  seed: number
  speed: number
  durationS: number
  wallSeconds: number
  nodes: number
  sensors: number
  gateway: string
  feeds: string[]
  samples: {
    /** Sent by the sensors into the mesh. */
    sent: number
    /** Reached the gateway and were spooled. */
    accepted: number
    /** Confirmed by the broker (PUBACK). */
    streamed: number
    /** Received by the subscriber (distinct samples). */
    received: number
    /** Copies beyond the first (QoS 1 resends). */
    duplicates: number
    /** Accepted but not received by the subscriber by the end. */
    missing: number
    /** Still in the spool (unconfirmed) at the end. */
    spooled: number
  }
  /** accepted / sent. */
  meshDelivery: number
  hops: { median: number; max: number }
  latencyMs: { mesh: { p50: number; p95: number }; backend: { p50: number; p95: number } }
  broker: { url: string; embedded: boolean }
  dashboard: string | null
  spool: string
  /** The spool directory was given (kept after the run). */
  spoolKept: boolean
  /** Every sample the gateway accepted in this run, as `<feed>/<origin>/<seq>/<ts>` (sampleId), in order (last: it is long). */
  acceptedIds: string[]
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

/** What identifies a sample: `<feed>/<origin>/<seq>/<ts>` (seq restarts with a sensor; ts tells runs apart). */
export const sampleId = (m: { feed: string; origin: string; seq: number; ts: number }): string => `${m.feed}/${m.origin}/${m.seq}/${m.ts}`

function formatSample(m: SampleMessage, units: Map<string, string>, elapsedS: number): string {
  const values = Object.entries(m.values).map(([k, v]) => `${k} ${v === null ? '-' : v.toFixed(2)} ${units.get(`${m.feed}.${k}`) ?? ''}`.trimEnd()).join(', ')
  return `+${elapsedS.toFixed(1).padStart(5)} s  ${m.feed.padEnd(8)} ${m.origin} #${String(m.seq).padEnd(3)} ${values}${m.hops !== undefined ? `  (${m.hops} hop${m.hops === 1 ? '' : 's'})` : ''}`
}

/** How long the field waits for the demo's subscriber to be subscribed, ms. */
const SUBSCRIBE_WAIT_MS = 5000

/** Subscribe once `client` first connects (its session, or MQTT.js's resubscribe, keeps it after); true once subscribed within `ms`. */
function subscribeOnce(client: MqttClient, topic: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    client.once('connect', () => client.subscribe(topic, { qos: 1 }, (err) => {
      clearTimeout(t)
      resolve(!err)
    }))
  })
}

function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()))
}

/** Connect as `clientId` with a clean session and leave: the broker forgets its session (best effort, ≤ 2 s). */
async function clearSession(url: string, clientId: string): Promise<void> {
  const c = mqttConnect(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 2000, protocolVersion: 4 })
  c.on('error', () => {})
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000)
    c.once('connect', () => (clearTimeout(t), resolve()))
    c.once('close', () => (clearTimeout(t), resolve()))
  })
  await endClient(c)
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const scenarioFile = o.scenario ?? DEMO_SCENARIO
  const scenario = loadScenario(scenarioFile)
  const speed = o.speed ?? 10
  const durationS = o.durationS ?? 120
  if (!(speed > 0 && speed <= 1000)) throw new RangeError(`--speed must be in (0, 1000], got ${speed}`)
  if (!(durationS > 0 && durationS <= 86_400)) throw new RangeError(`--duration must be in (0, 86400] s, got ${durationS}`)
  const spoolDir = o.spool ?? mkdtempSync(join(tmpdir(), 'spinmesh-demo-spool-'))
  const config = validateGatewayConfig({
    network: 'demo',
    feeds: DEMO_FEEDS.map((f) => ({ id: f.id, name: f.name, fields: f.fields.map((x) => ({ ...x })) })),
    spool: { dir: spoolDir },
    mqtt: o.broker ? { broker: o.broker, replayGraceMs: 0 } : { broker: 'embedded', embeddedPort: o.embeddedPort ?? 0 },
    http: o.httpPort === null ? false : { port: o.httpPort ?? 0 },
  }, 'demo')
  const units = new Map(DEMO_FEEDS.flatMap((f) => f.fields.map((x) => [`${f.name}.${x.name}`, x.unit === 'degC' ? '°C' : x.unit] as [string, string])))
  const wallStart = Date.now()
  const meshLatency: number[] = []
  const hops: number[] = []
  const acceptedAt = new Map<string, number>()
  const backendLatency: number[] = []
  let field: SensorField | undefined
  // With an external broker the demo's subscriber keeps a session (clean: false) under an id of its
  // own, so a broker outage does not make it miss what the sink publishes before it is back: the
  // broker queues it (QoS 1); the session is cleared at the end. The embedded broker lives in this
  // process (clean sessions there, docs/GATEWAY.md). The gateway does not count this subscriber
  // as one coming back after a restart (replay grace).
  const subscriberId = `spinmesh-demo-subscriber-${process.pid}-${randomBytes(3).toString('hex')}`
  const gateway = await Gateway.start({ config, address: GATEWAY_NODE, mesh: () => field?.meshView() ?? { nodes: [], links: [], routes: [], trees: [] }, ownSubscribers: [subscriberId] })
  let subscriber: MqttClient | undefined
  const brokerUrl = gateway.brokerUrl!
  try {
    const prefix = config.mqtt!.prefix
    const received = new Map<string, number>()
    let duplicates = 0
    subscriber = mqttConnect(brokerUrl, { clientId: subscriberId, clean: !o.broker, reconnectPeriod: 500, protocolVersion: 4 })
    subscriber.on('error', () => {}) // it reconnects on its own; the summary tells what arrived
    subscriber.on('message', (topic, payload, packet) => {
      const rest = topic.slice(prefix.length + 1)
      if (rest.startsWith('_')) return
      let m: SampleMessage
      try {
        m = (config.mqtt!.format === 'cbor' ? cborDecode(payload) : JSON.parse(payload.toString('utf8'))) as SampleMessage
      } catch {
        return
      }
      const id = sampleId(m)
      if (received.has(id)) {
        // A retained copy (after a resubscribe: a clean session, or a broker that lost it) is not a resend.
        if (!packet.retain) duplicates++
        return
      }
      received.set(id, Date.now())
      const at = acceptedAt.get(id)
      if (at !== undefined) backendLatency.push(Date.now() - at)
      if (o.print !== false) o.out(formatSample(m, units, (Date.now() - wallStart) / 1000))
    })
    // The sensors start once the subscriber is subscribed, so it misses none of their samples; a
    // broker that is unreachable does not hold the field up for long (its samples wait in the spool).
    if (!(await subscribeOnce(subscriber, `${prefix}/#`, SUBSCRIBE_WAIT_MS))) o.out(`the subscriber is not connected to ${brokerUrl} yet; starting the field anyway`)
    const fieldStart = Date.now()
    field = new SensorField({
      scenario, seed: o.seed, gateway: GATEWAY_NODE, speed, epochMs: fieldStart, sampleIntervalMs: (o.sampleIntervalS ?? 30) * 1000,
      onSample: (s) => {
        meshLatency.push(s.at - (s.ts - fieldStart) * speed)
        hops.push(s.hops)
        if (gateway.accept(s)) acceptedAt.set(sampleId({ feed: DEMO_FEEDS.find((f) => f.id === s.feed)!.name, origin: formatNodeAddress(s.origin), seq: s.seq, ts: s.ts }), Date.now())
      },
    })
    const where = o.broker ? `broker ${brokerUrl}` : `embedded broker ${brokerUrl}`
    o.out(`field: ${scenario.nodes.count} nodes (${field.sensors.length} sensors, gateway ${formatNodeAddress(field.gateway)}), ${durationS} s of field time at ${speed}x; ${where}, topics ${prefix}/<feed>/<sensor>${gateway.httpUrl ? `; dashboard ${gateway.httpUrl}` : ''}`)
    // Pace the field at `speed` × the wall clock.
    const durationMs = durationS * 1000
    await new Promise<void>((resolve) => {
      const step = (): void => {
        field!.advanceTo(Math.min(durationMs, (Date.now() - fieldStart) * speed))
        if (field!.now >= durationMs) resolve()
        else setTimeout(step, 50)
      }
      step()
    })
    // Drain: the broker confirms what is spooled, the subscriber receives what was accepted.
    const drainEnd = Date.now() + (o.drainMs ?? 20_000)
    const done = () => gateway.stats().spooled === 0 && [...acceptedAt.keys()].every((k) => received.has(k))
    while (!done() && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 50))
    const st = gateway.stats()
    const missing = [...acceptedAt.keys()].filter((k) => !received.has(k)).length
    const summary: DemoSummary = {
      scenario: scenario.name, seed: field.sim.seed, speed, durationS, wallSeconds: Math.round((Date.now() - wallStart) / 100) / 10,
      nodes: scenario.nodes.count, sensors: field.sensors.length, gateway: formatNodeAddress(field.gateway), feeds: DEMO_FEEDS.map((f) => f.name),
      samples: { sent: field.sent, accepted: st.accepted, streamed: Math.max(0, st.accepted - st.spooled), received: received.size, duplicates, missing, spooled: st.spooled },
      meshDelivery: field.sent === 0 ? 0 : Math.round((st.accepted / field.sent) * 1000) / 1000,
      hops: { median: quantile(hops, 0.5), max: hops.length ? Math.max(...hops) : 0 },
      latencyMs: {
        mesh: { p50: Math.round(quantile(meshLatency, 0.5)), p95: Math.round(quantile(meshLatency, 0.95)) },
        backend: { p50: Math.round(quantile(backendLatency, 0.5)), p95: Math.round(quantile(backendLatency, 0.95)) },
      },
      broker: { url: brokerUrl, embedded: !o.broker },
      dashboard: gateway.httpUrl,
      spool: spoolDir,
      spoolKept: o.spool !== undefined,
      acceptedIds: [...acceptedAt.keys()],
    }
    return summary
  } finally {
    if (subscriber) await endClient(subscriber)
    // An external broker would keep the subscriber's session, queueing for it, for good.
    if (subscriber && o.broker) await clearSession(brokerUrl, subscriberId)
    await gateway.close()
    if (o.spool === undefined) rmSync(spoolDir, { recursive: true, force: true })
  }
}

/** The summary as a few lines for people. */
export function formatDemoSummary(s: DemoSummary): string {
  const n = s.samples
  const lines = [
    `done: ${s.durationS} s of field time in ${s.wallSeconds} s; ${s.sensors} sensors on ${s.nodes} nodes reporting to gateway ${s.gateway}`,
    `  mesh:       sensors sent ${n.sent} samples, the gateway accepted ${n.accepted} (${(s.meshDelivery * 100).toFixed(1)} %), median ${s.hops.median} hops (max ${s.hops.max}), latency p50 ${s.latencyMs.mesh.p50} ms, p95 ${s.latencyMs.mesh.p95} ms of field time`,
    `  backend:    the broker confirmed ${n.streamed}, the subscriber received ${n.received} (${n.duplicates} duplicates, ${n.missing} missing), gateway → subscriber p50 ${s.latencyMs.backend.p50} ms, p95 ${s.latencyMs.backend.p95} ms`,
  ]
  if (n.spooled > 0) lines.push(`  ${n.spooled} records were not confirmed by the broker (unreachable?)${s.spoolKept ? `; they stay in ${s.spool} and go out with the next run given --spool ${s.spool}` : ' and are dropped with the temporary spool (give --spool DIR to keep them)'}`)
  return lines.join('\n') + '\n'
}
