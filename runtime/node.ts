/**
 * A running node (`spinmesh run --config node.yaml`, issue 8): the identity, its radio(s), the link
 * layer, AODV, multicast with anonymous gossip (config `multicast:`), mesh diagnostics and the
 * control socket, composed from a validated NodeConfig on real time. The same protocol objects as
 * in the simulator; only the radios and the scheduler are real. Several radios are joined by a
 * MultiRadio (hardware/multi-radio.ts) that learns which radio hears whom. Control methods:
 * `status` (node, radios, neighbours, routes, trees, deliveries, counters), `ping`, `traceroute`,
 * `send`, `join`, `leave`. With `log:` the node writes its event log (event-log.ts, node-log.ts);
 * with `flows:` and `run:` it sends a live field test's traffic (node-flows.ts).
 */
import { randomBytes } from 'node:crypto'
import { formatNodeAddress, isNodeAddr, parseNodeAddress, type Addr } from '../core/addr.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { RealScheduler, type Scheduler } from '../core/scheduler.ts'
import { LinkLayer } from '../adhoc/link.ts'
import { Aodv } from '../adhoc/aodv/index.ts'
import { Diag } from '../adhoc/diag.ts'
import { loadIdentity } from '../crypto/identity.ts'
import type { NodeSecurity } from '../crypto/sim-network.ts'
import type { Radio } from '../hardware/radio.ts'
import { SerialLink } from '../hardware/serial-link.ts'
import { SerialRadio } from '../hardware/serial-radio.ts'
import { BridgeRadio } from '../hardware/bridge-radio.ts'
import { cobsFraming, kissFraming } from '../hardware/serial-framing.ts'
import { UdpRadio } from '../hardware/udp-radio.ts'
import { HubRadio } from '../hardware/hub-radio.ts'
import { MultiRadio } from '../hardware/multi-radio.ts'
import { peekLinkAddresses } from '../adhoc/link-frame.ts'
import type { NodeConfig, RadioConfig } from './config.ts'
import { ControlServer } from './control.ts'
import { loadNodeSecurity } from './security.ts'
import { NodeTraffic, parseDestination, parseGroup } from './traffic.ts'
import { NodeSamples } from './node-samples.ts'
import type { MeshView } from '../gateway/gateway.ts'
import { EventLog } from './event-log.ts'
import { attachNodeLog } from './node-log.ts'
import { checkNodeFlows, NodeFlows } from './node-flows.ts'

const hex = formatNodeAddress

/** A node address from a control request: as printed (8 hex digits, 0x-hex) or decimal, or a number. */
export function addressParam(s: unknown): Addr {
  if (typeof s === 'number' && isNodeAddr(s)) return s
  if (typeof s !== 'string') throw new RangeError(`an address is 8 hex digits (as keygen prints), got ${String(s)}`)
  return parseNodeAddress(s)
}

async function openRadio(r: RadioConfig, address: Addr, scheduler: Scheduler): Promise<Radio> {
  if (r.kind === 'serial') {
    const mtu = r.mtu ?? (r.framing === 'kiss' ? 255 : 240)
    const link = new SerialLink({ match: r.device, baudRate: r.baudRate, scheduler })
    if (r.framing === 'bridge') {
      return new BridgeRadio({ link, scheduler, rng: new SeededRng(randomBytes(4).readUInt32BE(0)), config: r.lora!, mtu: r.mtu ?? 255, queueLimit: r.queueLimit, frameTtlMs: r.frameTtlMs })
    }
    return new SerialRadio({ link, framing: r.framing === 'kiss' ? kissFraming(mtu) : cobsFraming(mtu), scheduler, mtu, bitrate: r.bitrate ?? r.baudRate, frameTtlMs: r.frameTtlMs, queueLimit: r.queueLimit })
  }
  if (r.kind === 'udp') {
    return UdpRadio.open({ scheduler, group: r.group, port: r.port, interface: r.interface ?? null, ...(r.mtu ? { mtu: r.mtu } : {}), ...(r.bitrate ? { bitrate: r.bitrate } : {}) })
  }
  const [host, port] = r.hub.split(':')
  return HubRadio.open({ scheduler, node: address, hubHost: host, hubPort: Number(port), ...(r.mtu ? { mtu: r.mtu } : {}), ...(r.bitrate ? { bitrate: r.bitrate } : {}) })
}

/** What a node counts per radio, for `status`. */
interface RadioTally {
  airtimeMs: number
  framesSent: number
  framesDropped: number
}

/** Opens every configured radio; one radio is used as it is, several behind a MultiRadio. */
async function openRadios(configs: RadioConfig[], address: Addr, scheduler: Scheduler): Promise<{ radio: Radio; radios: readonly Radio[] }> {
  const radios: Radio[] = []
  try {
    for (const r of configs) radios.push(await openRadio(r, address, scheduler))
  } catch (e) {
    await Promise.allSettled(radios.map((r) => r.close())) // the open error is the one to report
    throw e
  }
  if (radios.length === 1) return { radio: radios[0], radios }
  const multi = new MultiRadio({ radios, names: configs.map((c) => c.kind), addresses: peekLinkAddresses })
  return { radio: multi, radios }
}

/** Payload bytes of a control `send`: `text` (UTF-8) or `hex`. */
function payloadParam(p: Record<string, unknown>): Uint8Array {
  if (typeof p.text === 'string') return new TextEncoder().encode(p.text)
  if (typeof p.hex === 'string' && /^([0-9a-f]{2})*$/i.test(p.hex)) return Buffer.from(p.hex, 'hex')
  throw new RangeError('send needs text (a string) or hex (an even number of hex digits)')
}

export class MeshNode {
  private control: ControlServer | undefined
  private eventLog: EventLog | undefined
  private detachLog: (() => void) | undefined
  private flows: NodeFlows | undefined
  /** Times this node's flows from `run.startWallMs` (set when the config has flows). */
  private startFlows: ((run: { startWallMs: number }) => { flows: number; startWallMs: number }) | undefined
  /** Per radio: time on air of the frames it sent, ms, and how many. */
  private readonly tallies: RadioTally[]

  private constructor(
    readonly metrics: MetricsRegistry,
    readonly config: NodeConfig,
    readonly address: Addr,
    /** What the link layer uses: the radio, or a MultiRadio over several. */
    readonly radio: Radio,
    /** The configured radios, in config order. */
    readonly radios: readonly Radio[],
    readonly link: LinkLayer,
    readonly router: Aodv,
    readonly diag: Diag,
    readonly traffic: NodeTraffic,
    readonly samples: NodeSamples,
    readonly security: NodeSecurity | undefined,
    private readonly startedAt: number,
  ) {
    this.tallies = radios.map((r) => {
      const t: RadioTally = { airtimeMs: 0, framesSent: 0, framesDropped: 0 }
      r.on('sent', (e) => {
        t.airtimeMs += e.airtimeMs
        t.framesSent++
      })
      r.on('dropped', () => t.framesDropped++)
      return t
    })
  }

  /** `wallNow`: the wall clock flows are timed by (default Date.now). */
  static async start(config: NodeConfig, o: { scheduler?: Scheduler; wallNow?: () => number } = {}): Promise<MeshNode> {
    const scheduler = o.scheduler ?? new RealScheduler()
    const identity = loadIdentity(config.identity)
    const address = identity.address
    checkNodeFlows({ address, flows: config.flows, run: config.run }) // before any radio opens
    const metrics = new MetricsRegistry()
    const security = config.security.mode === 'authenticated'
      ? loadNodeSecurity({ identity, identityFile: config.identity, networkDir: config.security.network!, certificateFile: config.security.certificate, scheduler, metrics: metrics.scope('sec', address) })
      : undefined
    const rng = new SeededRng(randomBytes(4).readUInt32BE(0))
    const log = config.log && new EventLog({ dir: config.log.dir, address, name: config.name, maxBytes: config.log.maxBytes, files: config.log.files })
    let node: MeshNode
    try {
      const { radio, radios } = await openRadios(config.radios, address, scheduler)
      try {
        node = await MeshNode.compose(config, scheduler, address, metrics, security, rng, radio, radios, log)
      } catch (e) {
        await radio.close() // a failed start leaves nothing running (the serial link would retry forever)
        throw e
      }
    } catch (e) {
      log?.close()
      throw e
    }
    try {
      if (config.flows.length > 0) {
        checkNodeFlows({ address, flows: config.flows, traffic: node.traffic })
        node.startFlows = (run) => {
          if (node.flows) throw new RangeError('the run has started already')
          node.flows = new NodeFlows({ address, flows: config.flows, run, traffic: node.traffic, scheduler, wallNow: o.wallNow, log: log?.log })
          return { flows: config.flows.length, startWallMs: run.startWallMs }
        }
        // With run.startWallMs the flows are timed now; without, `start-run` on the control socket times them.
        if (config.run) node.startFlows(config.run)
      }
    } catch (e) {
      await node.close()
      throw e
    }
    return node
  }

  private static async compose(config: NodeConfig, scheduler: Scheduler, address: Addr, metrics: MetricsRegistry, security: NodeSecurity | undefined, rng: SeededRng, radio: Radio, radios: readonly Radio[], log: EventLog | undefined): Promise<MeshNode> {
    const link = new LinkLayer({ address, radio, scheduler, rng: rng.fork('link'), metrics: metrics.scope('link', address), config: config.link, auth: security?.link })
    const router = new Aodv({ link, scheduler, rng: rng.fork('aodv'), metrics: metrics.scope('aodv', address), config: config.routing.config, configPath: 'routing.config', security: security?.origin })
    const diag = new Diag({ link, router, scheduler })
    let traffic: NodeTraffic | undefined
    let samples: NodeSamples
    let built: MeshNode | undefined
    let detachLog: (() => void) | undefined
    try {
      traffic = new NodeTraffic({ link, router, scheduler, rng, metrics, security, multicast: config.multicast })
      detachLog = log && attachNodeLog({ radios, link, traffic }, log.log)
      samples = await NodeSamples.start({ config, address, router, link, radios, scheduler, mesh: () => built?.meshView() ?? { nodes: [], links: [], routes: [], trees: [] } })
    } catch (e) {
      traffic?.close()
      diag.close()
      router.close()
      link.close()
      throw e
    }
    const node = (built = new MeshNode(metrics, config, address, radio, radios, link, router, diag, traffic, samples, security, Date.now()))
    node.eventLog = log
    node.detachLog = detachLog
    if (config.control.socket) {
      node.control = await ControlServer.listen(config.control.socket, {
        status: async () => node.status(),
        ping: async (p, ctx) => {
          const count = typeof p.count === 'number' ? p.count : 4, intervalMs = typeof p.intervalMs === 'number' ? p.intervalMs : 1000
          if (!(Number.isInteger(count) && count >= 1 && count <= 1000)) throw new RangeError(`ping count must be 1..1000, got ${String(p.count)}`)
          if (!(intervalMs >= 10 && intervalMs <= 60_000)) throw new RangeError(`ping interval must be 10..60000 ms, got ${String(p.intervalMs)}`)
          let gone = false
          void ctx.closed.then(() => (gone = true))
          return node.diag.ping(addressParam(p.dst), { count, intervalMs, cancelled: () => gone })
        },
        traceroute: async (p) => node.diag.traceroute(addressParam(p.dst)),
        send: async (p) => {
          const dst = parseDestination(p.dst), payload = payloadParam(p)
          node.traffic.send(dst, payload)
          return { dst: p.dst, bytes: payload.length }
        },
        join: async (p) => {
          node.traffic.join(parseGroup(p.group))
          return { groups: node.traffic.status().groups }
        },
        leave: async (p) => {
          node.traffic.leave(parseGroup(p.group))
          return { groups: node.traffic.status().groups }
        },
        publish: async (p) => node.samples.publish(p.feed, p.values, typeof p.ts === 'number' ? p.ts : undefined),
        'start-run': async (p) => {
          if (!(typeof p.startWallMs === 'number' && Number.isInteger(p.startWallMs) && p.startWallMs >= 0)) throw new RangeError(`start-run needs startWallMs (ms since the epoch), got ${JSON.stringify(p.startWallMs)}`)
          // A node without flows of its own (a receiver, a relay) has nothing to time.
          return node.startFlows ? node.startFlows({ startWallMs: p.startWallMs }) : { flows: 0, startWallMs: p.startWallMs }
        },
      }).catch(async (e) => {
        await samples.close()
        traffic.close()
        diag.close()
        router.close()
        link.close()
        throw e
      })
    }
    return node
  }

  status(): Record<string, unknown> {
    return {
      address: hex(this.address),
      name: this.config.name ?? null,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      security: this.config.security.mode,
      radios: this.radios.map((r, i) => this.radioStatus(r, i)),
      neighbours: this.link.neighbours().map((n) => ({ address: hex(n.addr), rssi: n.rssi ?? null, snr: n.snr ?? null, quality: n.quality })),
      routes: this.router.routes().filter((r) => r.valid).map((r) => ({ dst: hex(r.dst), nextHop: hex(r.nextHop), hops: r.hops })),
      multicast: this.traffic.status(),
      samples: this.samples.status(),
      log: this.eventLog ? { file: this.eventLog.file, ...this.eventLog.stats() } : null,
      flows: this.flows?.stats() ?? [],
      counters: this.metrics.totals(),
    }
  }

  private radioStatus(r: Radio, i: number): Record<string, unknown> {
    const t = this.tallies[i]
    const q = r as { queued?: number; pending?: number }
    const s = r instanceof BridgeRadio ? r.status() : undefined
    return {
      kind: this.config.radios[i].kind, state: r.state, mtu: r.mtu, bitrate: r.bitrate,
      framesSent: t.framesSent, framesDropped: t.framesDropped, airtimeMs: Math.round(t.airtimeMs * 10) / 10,
      queued: q.queued ?? q.pending ?? null,
      // What the radio itself reports (bridge STATUS): its airtime and channel load over its window.
      reported: s ? { windowS: s.windowS, txAirtimeMs: s.txAirtimeMs, channelLoadPermille: s.channelLoadPermille, queueDepth: s.queueDepth, rxOk: s.rxOk, rxCrcErrors: s.rxCrcErrors, txErrors: s.txErrors } : null,
    }
  }

  /** This node and its neighbourhood as a gateway's dashboard draws them. */
  meshView(): MeshView {
    const me = hex(this.address)
    const role = this.config.gateway ? 'gateway' : this.config.uplink ? 'sensor' : 'relay'
    const radio = this.radios[0]
    const nodes: MeshView['nodes'] = [{ address: me, ...(this.config.name ? { name: this.config.name } : {}), role, radio: { state: radio.state, airtimeMs: Math.round(this.tallies[0].airtimeMs), queued: (radio as { queued?: number }).queued ?? 0 } }]
    const links: MeshView['links'] = []
    const known = new Set([me])
    for (const n of this.link.neighbours()) {
      const a = hex(n.addr)
      if (!known.has(a)) nodes.push({ address: a, role: 'relay' }), known.add(a)
      links.push({ a: me, b: a, quality: Math.max(0, Math.min(1, n.quality)), ...(n.rssi !== undefined ? { rssi: n.rssi } : {}), ...(n.snr !== undefined ? { snr: n.snr } : {}) })
    }
    const routes: MeshView['routes'] = this.router.routes().filter((r) => r.valid).map((r) => ({ from: me, dst: hex(r.dst), nextHop: hex(r.nextHop), hops: r.hops }))
    for (const r of routes) if (!known.has(r.dst)) nodes.push({ address: r.dst, role: 'relay' }), known.add(r.dst)
    const trees: MeshView['trees'] = this.traffic.trees().map((t) => ({ group: `group:${t.group - 0x80000000}`, leader: hex(t.leader), links: t.links.map((l) => ({ a: me, b: hex(l.neighbour) })) }))
    return { nodes, links, routes, trees }
  }

  async close(): Promise<void> {
    this.flows?.stop()
    await this.control?.close()
    await this.samples.close()
    this.traffic.close()
    this.diag.close()
    this.router.close()
    this.link.close()
    await this.radio.close()
    this.detachLog?.()
    this.eventLog?.close() // last: the radios going down are in it
  }
}
