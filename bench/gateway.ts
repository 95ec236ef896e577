/**
 * The gateway under load, for BENCHMARKS.md (issue 9: "samples/s from mesh to MQTT on one core,
 * and the gateway's RSS at idle and under load").
 *
 * The Gateway runs alone in a child process (this file with `--child`), pinned to one CPU with
 * taskset where the machine has two or more, so its CPU time is the gateway's own: uplink decode,
 * the spool (fsync policy as configured), the MQTT sink and — with the embedded broker — aedes
 * routing every message to the subscriber. Samples enter the way the mesh hands them over: routed
 * SAMPLE payloads (uplink.ts encodeUplink) emitted by a stand-in router into an UplinkReceiver,
 * whose decoded samples go to `gateway.accept`. The subscriber (MQTT.js, QoS 1 on
 * `spinmesh/<network>/#`) runs in the parent, pinned to another CPU, and matches every sample it
 * receives to the time the child handed it to the gateway (both clocks are the machine's wall clock,
 * `performance.timeOrigin + performance.now()`).
 *
 * Run alone: `node --import tsx bench/gateway.ts` (~50 s; markdown on stdout, progress on stderr).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventEmitter } from 'eventemitter3'
import { connect as mqttConnect, type MqttClient } from 'mqtt'
import type { Addr } from '../core/addr.ts'
import { Proto } from '../adhoc/protocols.ts'
import type { RouteInfo, UnicastRouter, UnicastRouterEvents } from '../adhoc/routing.ts'
import { Gateway } from '../gateway/gateway.ts'
import { validateGatewayConfig } from '../gateway/gateway-config.ts'
import { Mosquitto } from '../gateway/mosquitto.ts'
import type { SampleMessage } from '../gateway/records.ts'
import { DEMO_FEEDS } from '../gateway/sensor-field.ts'
import type { FsyncPolicy } from '../gateway/spool-defaults.ts'
import { encodeUplink, UplinkReceiver } from '../gateway/uplink.ts'

const NETWORK = 'bench'
const GATEWAY_ADDR = 1
/** Sensors 2 … SENSORS + 1; sample i comes from sensor FIRST_SENSOR + i % SENSORS with seq ⌊i / SENSORS⌋. */
const SENSORS = 200
const FIRST_SENSOR = 2
/** The max step offers a sample whenever fewer than this many records wait in the spool. */
const MAX_BACKLOG = 512
const STEP_S = 5
const IDLE_S = 5
const DRAIN_MS = 5000

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface ChildConfig { broker: 'embedded' | string; http: boolean; fsync: FsyncPolicy; core: number | null }

interface StepResult {
  rate: number | null
  i0: number
  /** When the child handed sample i0 + k to the gateway (NaN: refused). */
  acceptAt: Float64Array
  t0: number
  t1: number
  offered: number
  accepted: number
  refused: number
  confirmed: number
  maxSpooled: number
  spooledAfterDrain: number
  cpuMs: number
  rss: number
  heapUsed: number
}

interface MemResult { rss: number; heapUsed: number; maxRss: number }
interface Ready { brokerUrl: string; prefix: string; startMs: number; cpusAllowed: string; fsync: FsyncPolicy }

type Command = { cmd: 'step'; rate: number | null; seconds: number } | { cmd: 'idle'; seconds: number } | { cmd: 'mem' } | { cmd: 'close' }

// ---- the child: one gateway, fed routed SAMPLE payloads ---------------------------------------

/** Stands in for the gateway node's AODV: the bench emits `routed` as a route would deliver. */
class BenchRouter extends EventEmitter<UnicastRouterEvents> implements UnicastRouter {
  readonly address: Addr = GATEWAY_ADDR
  sendRouted(): void {}
  route(): RouteInfo | undefined {
    return undefined
  }
  routes(): RouteInfo[] {
    return []
  }
}

async function child(cfg: ChildConfig): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-bench-gateway-'))
  const config = validateGatewayConfig({
    network: NETWORK,
    feeds: DEMO_FEEDS.map((f) => ({ id: f.id, name: f.name, fields: f.fields.map((x) => ({ ...x })) })),
    spool: { dir, fsync: cfg.fsync },
    mqtt: cfg.broker === 'embedded' ? { broker: 'embedded', embeddedPort: 0 } : { broker: cfg.broker, replayGraceMs: 0 },
    http: cfg.http ? { port: 0 } : false,
  }, 'bench')
  const started = performance.now()
  const gateway = await Gateway.start({ config, address: GATEWAY_ADDR })
  const startMs = performance.now() - started
  gateway.on('error', (e) => console.error(`gateway: ${e.message}`))
  const router = new BenchRouter()
  const receiver = new UplinkReceiver(router, config.feeds)
  let lastAccepted = false
  receiver.on('sample', (s) => (lastAccepted = gateway.accept(s)))
  const feeds = config.feeds
  let next = 0
  let acceptAt: number[] = []

  const offer = (): void => {
    const i = next++
    const k = i % SENSORS
    const feed = feeds[k % feeds.length]
    const payload = encodeUplink({ feed: feed.id, seq: Math.floor(i / SENSORS), ts: Date.now(), values: [20 + (i % 97) / 10, 50 - (i % 89) / 10] })
    lastAccepted = false
    const t = now()
    router.emit('routed', { origin: FIRST_SENSOR + k, proto: Proto.SAMPLE, payload, hops: 1 + (k % 4), at: 0 })
    acceptAt.push(lastAccepted ? t : NaN)
  }

  const step = async (rate: number | null, seconds: number): Promise<StepResult> => {
    const i0 = next
    acceptAt = []
    const s0 = gateway.stats()
    const cpu0 = process.cpuUsage()
    const t0 = now()
    const end = t0 + seconds * 1000
    let maxSpooled = 0
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const t = now()
        if (t >= end) return resolve()
        const spooled = gateway.stats().spooled
        maxSpooled = Math.max(maxSpooled, spooled)
        if (rate !== null) {
          const due = Math.floor((rate * (t - t0)) / 1000) - (next - i0)
          for (let n = 0; n < due; n++) offer()
          setTimeout(tick, 1)
        } else {
          // As fast as the gateway takes them while its backlog stays bounded; yield to I/O between batches.
          const room = Math.min(64, MAX_BACKLOG - spooled)
          for (let n = 0; n < room; n++) offer()
          if (room > 0) setImmediate(tick)
          else setTimeout(tick, 1)
        }
      }
      tick()
    })
    const t1 = now()
    const cpu = process.cpuUsage(cpu0)
    const s1 = gateway.stats()
    const mem = process.memoryUsage()
    const drainEnd = now() + DRAIN_MS
    while (gateway.stats().spooled > 0 && now() < drainEnd) await sleep(10)
    return {
      rate, i0, acceptAt: Float64Array.from(acceptAt), t0, t1, offered: next - i0, accepted: s1.accepted - s0.accepted, refused: s1.refused - s0.refused,
      confirmed: s1.streamed - s0.streamed, maxSpooled, spooledAfterDrain: gateway.stats().spooled, cpuMs: (cpu.user + cpu.system) / 1000, rss: mem.rss, heapUsed: mem.heapUsed,
    }
  }

  const send = (m: unknown): Promise<void> => new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()))
  const ready: Ready = { brokerUrl: gateway.brokerUrl!, prefix: config.mqtt!.prefix, startMs, cpusAllowed: cpusAllowed(), fsync: config.spool.fsync }
  await send(ready)
  process.on('message', (c: Command) => {
    void (async () => {
      if (c.cmd === 'step') await send(await step(c.rate, c.seconds))
      else if (c.cmd === 'idle') {
        await sleep(c.seconds * 1000)
        await send(memNow())
      } else if (c.cmd === 'mem') await send(memNow())
      else {
        receiver.close()
        await gateway.close()
        rmSync(dir, { recursive: true, force: true })
        process.disconnect()
      }
    })()
  })
}

/** taskset (util-linux) runs here. */
function tasksetWorks(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function memNow(): MemResult {
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 }
}

function cpusAllowed(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'any'
  } catch {
    return 'any'
  }
}

// ---- the parent: starts children, subscribes, matches receipts to accepts ---------------------

class GatewayChild {
  private replies: Array<(m: unknown) => void> = []
  private constructor(private readonly proc: ChildProcess, readonly ready: Ready, readonly spawnToReadyMs: number) {
    proc.on('message', (m) => this.replies.shift()?.(m))
  }

  static start(cfg: ChildConfig): Promise<GatewayChild> {
    const script = new URL(import.meta.url).pathname
    const node = [process.execPath, '--import', 'tsx']
    const pinned = cfg.core !== null
    const t0 = performance.now()
    const proc = fork(script, ['--child', JSON.stringify(cfg)], {
      execPath: pinned ? 'taskset' : process.execPath,
      execArgv: pinned ? ['-c', String(cfg.core), ...node] : node.slice(1),
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    return new Promise((resolve, reject) => {
      proc.once('exit', (code, signal) => reject(new Error(`gateway child exited (${signal ?? `code ${code}`}) before it was ready`)))
      proc.once('message', (m) => {
        proc.removeAllListeners('exit')
        resolve(new GatewayChild(proc, m as Ready, performance.now() - t0))
      })
    })
  }

  request<T>(c: Command): Promise<T> {
    return new Promise((resolve) => {
      this.replies.push(resolve as (m: unknown) => void)
      this.proc.send(c)
    })
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()))
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
    this.proc.send({ cmd: 'close' } satisfies Command)
    await exited
    clearTimeout(t)
  }
}

/** The backend: counts and times every sample message (first copies; duplicates counted). */
class Subscriber {
  readonly recvAt: number[] = []
  duplicates = 0
  private constructor(private readonly client: MqttClient) {}

  static start(url: string, prefix: string): Promise<Subscriber> {
    const client = mqttConnect(url, { clientId: `spinmesh-bench-subscriber-${process.pid}`, clean: true, reconnectPeriod: 0 })
    const sub = new Subscriber(client)
    client.on('message', (topic, payload) => {
      if (topic.charCodeAt(prefix.length + 1) === 95 /* '_' */) return
      const m = JSON.parse(payload.toString('utf8')) as SampleMessage
      const i = m.seq * SENSORS + (parseInt(m.origin, 16) - FIRST_SENSOR)
      if (sub.recvAt[i] !== undefined) sub.duplicates++
      else sub.recvAt[i] = now()
    })
    return new Promise((resolve, reject) => {
      client.once('error', reject)
      client.once('connect', () => client.subscribe(`${prefix}/#`, { qos: 1 }, (err) => (err ? reject(err) : resolve(sub))))
    })
  }

  /** Wait until every accepted sample of the step arrived (or `ms` passed). */
  async settle(s: StepResult, ms: number): Promise<void> {
    const end = now() + ms
    const missing = () => s.acceptAt.some((t, k) => Number.isFinite(t) && this.recvAt[s.i0 + k] === undefined)
    while (missing() && now() < end) await sleep(20)
  }

  close(): Promise<void> {
    return new Promise((r) => this.client.end(true, {}, () => r()))
  }
}

interface Row { label: string; step: StepResult; received: number; lost: number; duplicates: number; p50: number; p95: number }

function row(label: string, s: StepResult, sub: Subscriber, duplicates: number): Row {
  const lat: number[] = []
  let received = 0
  let lost = 0
  s.acceptAt.forEach((t, k) => {
    if (!Number.isFinite(t)) return
    const r = sub.recvAt[s.i0 + k]
    if (r === undefined) return void lost++
    lat.push(r - t)
    if (r <= s.t1) received++
  })
  lat.sort((a, b) => a - b)
  const q = (p: number) => (lat.length === 0 ? NaN : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))])
  return { label, step: s, received, lost, duplicates, p50: q(0.5), p95: q(0.95) }
}

/** Steps of [label, samples/s offered (null: max), seconds]; 'warm-up' steps are not reported. */
async function runSteps(child: GatewayChild, sub: Subscriber, plan: Array<[string, number | null, number]>, log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = []
  for (const [label, rate, seconds] of plan) {
    const dup0 = sub.duplicates
    const s = await child.request<StepResult>({ cmd: 'step', rate, seconds })
    await sub.settle(s, DRAIN_MS)
    const r = row(label, s, sub, sub.duplicates - dup0)
    if (label !== 'warm-up') rows.push(r)
    log(`  ${label}: ${Math.round(r.received / ((s.t1 - s.t0) / 1000))} received/s, CPU ${((100 * s.cpuMs) / (s.t1 - s.t0)).toFixed(0)} %, p50 ${r.p50.toFixed(1)} ms`)
  }
  return rows
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—')
const mb = (b: number) => fmt(b / 2 ** 20, 1)

/** The "Gateway: mesh → MQTT" section of BENCHMARKS.md (markdown, ends with a newline). */
export async function gatewayBenchSection(log: (s: string) => void = () => {}): Promise<string> {
  const pin = cpus().length >= 2 && tasksetWorks()
  const core = pin ? 1 : null
  const rows: Row[] = []
  let idle: MemResult, loaded: MemResult, ready: Ready, spawnMs: number, pinnedTo: string

  log('  embedded broker, dashboard off: load steps ...')
  {
    const child = await GatewayChild.start({ broker: 'embedded', http: false, fsync: 'interval', core })
    const sub = await Subscriber.start(child.ready.brokerUrl, child.ready.prefix)
    pinnedTo = child.ready.cpusAllowed
    rows.push(...await runSteps(child, sub, [['warm-up', 2000, 1], ['0/s (the bench\'s 1 ms tick only)', 0, 2], ['500/s', 500, STEP_S], ['2,000/s', 2000, STEP_S], ['8,000/s', 8000, STEP_S], ['max', null, STEP_S]], log))
    await sub.close()
    await child.close()
  }
  log('  embedded broker, dashboard on: idle, then max ...')
  {
    const child = await GatewayChild.start({ broker: 'embedded', http: true, fsync: 'interval', core })
    ready = child.ready
    spawnMs = child.spawnToReadyMs
    idle = await child.request<MemResult>({ cmd: 'idle', seconds: IDLE_S })
    const sub = await Subscriber.start(child.ready.brokerUrl, child.ready.prefix)
    const [r] = await runSteps(child, sub, [['warm-up', 2000, 1], ['max, dashboard on', null, STEP_S]], log)
    rows.push(r)
    loaded = await child.request<MemResult>({ cmd: 'mem' })
    loaded = { ...loaded, rss: r.step.rss, heapUsed: r.step.heapUsed }
    await sub.close()
    await child.close()
  }
  log('  fsync always: max ...')
  {
    const child = await GatewayChild.start({ broker: 'embedded', http: false, fsync: 'always', core })
    const sub = await Subscriber.start(child.ready.brokerUrl, child.ready.prefix)
    rows.push(...await runSteps(child, sub, [['warm-up', 500, 1], ['max, fsync always', null, STEP_S]], log))
    await sub.close()
    await child.close()
  }
  let mosquittoNote = ''
  if (Mosquitto.available()) {
    log('  external mosquitto: max ...')
    const mosq = await Mosquitto.start()
    try {
      const child = await GatewayChild.start({ broker: mosq.url, http: false, fsync: 'interval', core })
      const sub = await Subscriber.start(child.ready.brokerUrl, child.ready.prefix)
      rows.push(...await runSteps(child, sub, [['warm-up', 2000, 1], ['max, mosquitto', null, STEP_S]], log))
      await sub.close()
      await child.close()
    } finally {
      await mosq.dispose()
    }
  } else mosquittoNote = ' (mosquitto is not installed here, so there is no external-broker row)'

  log('  a bare node --import tsx, for comparison ...')
  const bare = bareProcessMemory()

  const lines = rows.map((r) => {
    const s = r.step
    const ms = s.t1 - s.t0
    const per = (n: number) => fmt((1000 * n) / ms)
    return `| ${r.label} | ${per(s.offered)} | ${per(s.accepted)} | ${per(s.confirmed)} | **${per(r.received)}** | ${fmt(r.p50, 1)} / ${fmt(r.p95, 1)} | ` +
      `${fmt((100 * s.cpuMs) / ms)} % | ${fmt(s.maxSpooled)} | ${r.lost + s.refused} / ${r.duplicates} | ${mb(s.rss)} / ${mb(s.heapUsed)} |`
  })
  const max = rows.find((r) => r.label === 'max')!
  const maxRate = (1000 * max.received) / (max.step.t1 - max.step.t0)
  const cpu = pinnedTo === 'any' || !pin
    ? 'not pinned (taskset is missing or the machine has one CPU)'
    : `pinned with taskset to CPU ${pinnedTo}, the parent (subscriber, mosquitto) to the other`
  const tick = '`'
  return `## Gateway: mesh → MQTT (bench/gateway.ts)

Issue 9's figures: samples/s from the mesh to an MQTT subscriber with the gateway on one core, and
the gateway's memory. The Gateway runs alone in a child process,
${cpu}.
Samples enter as the mesh delivers them: routed SAMPLE payloads (uplink.ts; DEMO_FEEDS, two values
each; 200 sensors) emitted into an UplinkReceiver, whose samples go to ${tick}gateway.accept${tick}
(spool, then the MQTT sink at QoS 1, window 64). Unless a row says otherwise: the embedded aedes
broker, dashboard off, spool in ${tick}os.tmpdir()${tick} (ext4 here) with fsync '${ready.fsync}' (the default:
fdatasync within 200 ms; *fsync always*: one per sample). A subscriber in the parent (MQTT.js, QoS 1 on
${tick}spinmesh/${NETWORK}/#${tick}) receives every sample. A step offers load for ${STEP_S} s at a fixed
rate (1 ms ticks), or *max*: as fast as the gateway accepts while at most ${MAX_BACKLOG} records wait
in the spool. Rates are per wall second of the step; *received* is what the subscriber had by the
step's end, the end-to-end figure (spooled, published, PUBACKed, routed by the broker, delivered).
Latency runs from the routed payload reaching the gateway to the subscriber's handler, over all of
the step's samples; at *max* it includes the queue of up to ${MAX_BACKLOG} spooled records. CPU is the
child's ${tick}process.cpuUsage()${tick} (all its threads) per wall second: with the embedded broker it
includes aedes' work for the subscriber; the load generator's own share is about the *0/s* row.
*Lost*: accepted samples not received ${DRAIN_MS / 1000} s after the step, plus refused ones;
*duplicates*: second copies the subscriber got (QoS 1 resends). RSS / heap:
${tick}process.memoryUsage()${tick} at the step's end (Node with the tsx loader included).

| load offered | offered/s | accepted/s | confirmed by broker/s | received/s | latency p50 / p95 ms | gateway CPU (one core) | max spooled | lost / duplicates | RSS / heap MB |
|---|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}

On this machine the gateway carries about ${fmt(Math.round(maxRate / 100) * 100)} samples/s end to end on one core with the
embedded broker${mosquittoNote}; per sample the cost falls with load (below a few thousand
samples/s every sample is its own write, read and wake-up of each leg). Between runs the *max*
rows vary by up to ±25 % (a shared VM), the mosquitto row most: mosquitto and the subscriber share
the other CPU, so there the gateway is not the bottleneck (see its CPU). Memory of the gateway
process with the embedded broker and the dashboard on:

| process | RSS MB | heap used MB |
|---|---|---|
| gateway, idle ${IDLE_S} s after start (no samples, no subscriber) | ${mb(idle.rss)} | ${mb(idle.heapUsed)} |
| gateway under load (the *max, dashboard on* step, at its end) | ${mb(loaded.rss)} | ${mb(loaded.heapUsed)} |
| gateway, peak RSS of that process (${tick}resourceUsage().maxRSS${tick}) | ${mb(loaded.maxRss)} | — |
| for comparison: a bare ${tick}node --import tsx${tick} (nothing loaded), after 1 s | ${mb(bare.rss)} | ${mb(bare.heapUsed)} |

Start: ${tick}Gateway.start()${tick} (spool, broker, sink, dashboard) took ${fmt(ready.startMs)} ms; spawning the
process until it is ready (Node and tsx loading the modules) ${fmt(spawnMs)} ms.
`
}

/** RSS and heap of a Node process with only the tsx loader, 1 s after start. */
function bareProcessMemory(): { rss: number; heapUsed: number } {
  const script = 'setTimeout(() => { const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed })) }, 1000)'
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  return JSON.parse(out.trim()) as { rss: number; heapUsed: number }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]) as ChildConfig)
  else {
    // The subscriber (and mosquitto, which inherits it) stays off the gateway's CPU.
    if (cpus().length >= 2 && tasksetWorks()) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' })
    process.stdout.write(await gatewayBenchSection((s) => console.error(s)))
  }
}
