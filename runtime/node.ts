/**
 * A running node (`spinmesh run --config node.yaml`, issue 8): the identity, one radio, the link
 * layer, AODV, mesh diagnostics and the control socket, composed from a validated NodeConfig on
 * real time. The same protocol objects as in the simulator; only the radio and the scheduler are
 * real. Control methods: `status` (node, radio, neighbours, routes, counters), `ping`,
 * `traceroute`.
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
import type { NodeConfig, RadioConfig } from './config.ts'
import { ControlServer } from './control.ts'
import { loadNodeSecurity } from './security.ts'

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

export class MeshNode {
  private control: ControlServer | undefined
  /** Time on air of the frames this node sent, ms, and how many. */
  private airtimeMs = 0
  private framesSent = 0
  private framesDropped = 0

  private constructor(
    readonly metrics: MetricsRegistry,
    readonly config: NodeConfig,
    readonly address: Addr,
    readonly radio: Radio,
    readonly link: LinkLayer,
    readonly router: Aodv,
    readonly diag: Diag,
    readonly security: NodeSecurity | undefined,
    private readonly startedAt: number,
  ) {}

  static async start(config: NodeConfig, o: { scheduler?: Scheduler } = {}): Promise<MeshNode> {
    const scheduler = o.scheduler ?? new RealScheduler()
    const identity = loadIdentity(config.identity)
    const address = identity.address
    const metrics = new MetricsRegistry()
    const security = config.security.mode === 'authenticated'
      ? loadNodeSecurity({ identity, identityFile: config.identity, networkDir: config.security.network!, certificateFile: config.security.certificate, scheduler, metrics: metrics.scope('sec', address) })
      : undefined
    const rng = new SeededRng(randomBytes(4).readUInt32BE(0))
    const radio = await openRadio(config.radio, address, scheduler)
    try {
      return await MeshNode.compose(config, scheduler, address, metrics, security, rng, radio)
    } catch (e) {
      await radio.close() // a failed start leaves nothing running (the serial link would retry forever)
      throw e
    }
  }

  private static async compose(config: NodeConfig, scheduler: Scheduler, address: Addr, metrics: MetricsRegistry, security: NodeSecurity | undefined, rng: SeededRng, radio: Radio): Promise<MeshNode> {
    const link = new LinkLayer({ address, radio, scheduler, rng: rng.fork('link'), metrics: metrics.scope('link', address), config: config.link, auth: security?.link })
    const router = new Aodv({ link, scheduler, rng: rng.fork('aodv'), metrics: metrics.scope('aodv', address), config: config.routing.config, configPath: 'routing.config', security: security?.origin })
    const diag = new Diag({ link, router, scheduler })
    const node = new MeshNode(metrics, config, address, radio, link, router, diag, security, Date.now())
    radio.on('sent', (e) => {
      node.airtimeMs += e.airtimeMs
      node.framesSent++
    })
    radio.on('dropped', () => node.framesDropped++)
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
      }).catch(async (e) => {
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
      radio: {
        kind: this.config.radio.kind, state: this.radio.state, mtu: this.radio.mtu, bitrate: this.radio.bitrate,
        framesSent: this.framesSent, framesDropped: this.framesDropped, airtimeMs: Math.round(this.airtimeMs * 10) / 10,
        queued: (this.radio as { queued?: number; pending?: number }).queued ?? (this.radio as { pending?: number }).pending ?? null,
      },
      neighbours: this.link.neighbours().map((n) => ({ address: hex(n.addr), rssi: n.rssi ?? null, snr: n.snr ?? null, quality: n.quality })),
      routes: this.router.routes().filter((r) => r.valid).map((r) => ({ dst: hex(r.dst), nextHop: hex(r.nextHop), hops: r.hops })),
      counters: this.metrics.totals(),
    }
  }

  async close(): Promise<void> {
    await this.control?.close()
    this.diag.close()
    this.router.close()
    this.link.close()
    await this.radio.close()
  }
}
