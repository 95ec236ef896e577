/**
 * Commands for real nodes (issue 8): `spinmesh run --config node.yaml` (the daemon, until SIGINT
 * or SIGTERM), `spinmesh hub --topology FILE [--port P]` (the live emulation hub),
 * `spinmesh status [--json] [--monitor]`, `spinmesh ping ADDR`, `spinmesh traceroute ADDR`,
 * `spinmesh send DST TEXT`, `spinmesh join|leave GROUP` — these talk to a running node through its
 * control socket (`--socket PATH`, or `--config node.yaml` to read it from the config).
 */
import { ConfigError } from '../core/errors.ts'
import { Hub } from '../hardware/hub.ts'
import { loadHubTopology } from '../hardware/hub-topology.ts'
import { loadNodeConfig } from '../runtime/config.ts'
import { controlRequest } from '../runtime/control.ts'
import { MeshNode } from '../runtime/node.ts'
import { formatNodeAddress, parseNodeAddress } from '../core/addr.ts'
import { RadioEmulator } from '../runtime/emulator.ts'
import { BridgeEmulator } from '../runtime/bridge-emulator.ts'
import { RealScheduler } from '../core/scheduler.ts'
import { HubRadio } from '../hardware/hub-radio.ts'
import { SerialLink } from '../hardware/serial-link.ts'
import { cobsFraming, kissFraming } from '../hardware/serial-framing.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

/** Resolves on SIGINT/SIGTERM (the daemons' normal way to stop). */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolve(sig)
    }
    const onInt = on('SIGINT'), onTerm = on('SIGTERM')
    process.once('SIGINT', onInt)
    process.once('SIGTERM', onTerm)
  })
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(argv, { config: { type: 'string' } })
  if (!values.config) throw new UsageError('run needs --config node.yaml')
  const config = loadNodeConfig(values.config)
  const node = await MeshNode.start(config)
  const addr = formatNodeAddress(node.address)
  node.radios.forEach((r, i) => r.on('state', (c) => io.err(`radio ${node.radios.length > 1 ? `${i} ` : ''}${c.state}: ${c.reason}\n`)))
  node.traffic.on('undeliverable', (u) => io.err(`undeliverable to ${u.to}, ${u.bytes} bytes: ${u.reason}\n`))
  node.traffic.on('deliver', (d) => io.out(`deliver from ${d.from} to ${d.to}, ${d.bytes} bytes, ${d.hops} hops${d.recovered ? ' (recovered by gossip)' : ''}: ${d.text !== undefined ? JSON.stringify(d.text) : d.hex}\n`))
  const radios = config.radios.map((c, i) => `${c.kind} ${node.radios[i].state}`).join(', ')
  io.out(`node ${addr} running (radio ${radios}${config.multicast ? `, groups ${node.traffic.status().groups as string[]}` : ''}${config.control.socket ? `, control ${config.control.socket}` : ''})\n`)
  const sig = await untilSignal()
  io.out(`node ${addr} stopping (${sig})\n`)
  await node.close()
  return 0
}

export async function hubCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(argv, { topology: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } })
  if (!values.topology) throw new UsageError('hub needs --topology FILE')
  const port = values.port === undefined ? 7400 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${values.port}`)
  const hub = await Hub.open({ topology: await loadHubTopology(values.topology), port, ...(values.host ? { host: values.host } : {}) })
  io.out(`hub listening on ${values.host ?? '127.0.0.1'}:${hub.port}\n`)
  hub.on('client', (c: unknown) => io.err(`hub: ${JSON.stringify(c)}\n`))
  await untilSignal()
  await hub.close()
  return 0
}

function socketOf(values: { socket?: string; config?: string }): string {
  if (values.socket) return values.socket
  if (values.config) {
    const c = loadNodeConfig(values.config)
    if (c.control.socket) return c.control.socket
    throw new ConfigError('control.socket', `${values.config} has no control socket`)
  }
  throw new UsageError('give --socket PATH (or --config node.yaml) of the running node')
}

const SOCKET_OPTIONS = { socket: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } } as const

export async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(argv, { ...SOCKET_OPTIONS, monitor: { type: 'boolean' }, interval: { type: 'string' } })
  const sock = socketOf(values)
  const show = (s: Record<string, unknown>) => io.out(values.json ? JSON.stringify(s) + '\n' : formatStatus(s))
  show(await controlRequest(sock, 'status') as Record<string, unknown>)
  if (!values.monitor) return 0
  const every = values.interval ? Number(values.interval) * 1000 : 2000
  if (!(every >= 100)) throw new UsageError(`--interval is seconds (at least 0.1), got ${values.interval}`)
  let stop = false
  void untilSignal().then(() => (stop = true))
  while (!stop) {
    await new Promise((r) => setTimeout(r, every))
    if (!stop) show(await controlRequest(sock, 'status') as Record<string, unknown>)
  }
  return 0
}

interface RadioView {
  kind: string; state: string; mtu: number; bitrate: number; framesSent: number; framesDropped: number; airtimeMs: number; queued: number | null
  reported: { windowS: number; txAirtimeMs: number; channelLoadPermille: number; queueDepth: number; rxOk: number; rxCrcErrors: number; txErrors: number } | null
}
interface TreeView { group: string; leader: string; hopsToLeader: number; member: boolean; links: Array<{ neighbour: string; upstream: boolean; member: boolean }> }

export function formatStatus(s: Record<string, unknown>): string {
  const radios = s.radios as RadioView[]
  const neighbours = s.neighbours as Array<{ address: string; rssi: number | null; snr: number | null; quality: number }>
  const routes = s.routes as Array<{ dst: string; nextHop: string; hops: number }>
  const samples = s.samples as { uplink: { gateway: string; sent: number } | null; gateway: { accepted: number; refused: number; streamed: number; spooled: number; brokerConnected: boolean; broker: string | null; dashboard: string | null; received: number; gaps: number } | null } | null
  const mc = s.multicast as { protocol: string | null; groups: string[]; trees: TreeView[]; delivered: number; undeliverable: number }
  const lines = [
    `node ${s.address}${s.name ? ` (${s.name})` : ''}, up ${s.uptimeS} s, security ${s.security}`,
    ...radios.flatMap((r, i) => [
      `radio${radios.length > 1 ? ` ${i}` : ''} ${r.kind}: ${r.state}, mtu ${r.mtu}, ${r.bitrate} bit/s; sent ${r.framesSent} frames (${(r.airtimeMs / 1000).toFixed(1)} s on air), dropped ${r.framesDropped}, queued ${r.queued ?? '-'}`,
      ...(r.reported ? [`  radio reports: channel load ${(r.reported.channelLoadPermille / 10).toFixed(1)} %, ${(r.reported.txAirtimeMs / 1000).toFixed(1)} s on air in ${r.reported.windowS} s, queue ${r.reported.queueDepth}, rx ${r.reported.rxOk} ok / ${r.reported.rxCrcErrors} bad crc, tx errors ${r.reported.txErrors}`] : []),
    ]),
    `neighbours (${neighbours.length}):`,
    ...neighbours.map((n) => `  ${n.address}  rssi ${n.rssi ?? '-'}  snr ${n.snr ?? '-'}  quality ${n.quality.toFixed(2)}`),
    `routes (${routes.length}):`,
    ...routes.map((r) => `  ${r.dst} via ${r.nextHop}, ${r.hops} hop${r.hops === 1 ? '' : 's'}`),
    ...(mc.protocol === null ? [] : [
      `multicast ${mc.protocol}: member of ${mc.groups.join(', ') || 'no group'}; ${mc.delivered} delivered, ${mc.undeliverable} sent undeliverable`,
      ...mc.trees.map((t) => `  tree ${t.group}: leader ${t.leader}, ${t.hopsToLeader} hops away${t.member ? ', member' : ''}; links ${t.links.map((l) => `${l.neighbour}${l.upstream ? ' (up)' : ''}`).join(', ') || 'none'}`),
    ]),
    ...(samples?.uplink ? [`uplink: ${samples.uplink.sent} samples sent to gateway ${samples.uplink.gateway}`] : []),
    ...(samples?.gateway ? [`gateway: ${samples.gateway.received} samples from the mesh (${samples.gateway.gaps} missing), ${samples.gateway.accepted} accepted, ${samples.gateway.streamed} confirmed by ${samples.gateway.broker ?? 'no broker'} (${samples.gateway.brokerConnected ? 'connected' : 'not connected'}), ${samples.gateway.spooled} spooled${samples.gateway.dashboard ? `; dashboard ${samples.gateway.dashboard}` : ''}`] : []),
  ]
  return lines.join('\n') + '\n'
}

export async function sendCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...SOCKET_OPTIONS, hex: { type: 'boolean' } })
  if (positionals.length !== 2) throw new UsageError('send needs a destination (address or group:N) and a message')
  const [dst, message] = positionals
  const r = await controlRequest(socketOf(values), 'send', values.hex ? { dst, hex: message } : { dst, text: message }) as { bytes: number }
  io.out(values.json ? JSON.stringify(r) + '\n' : `sent ${r.bytes} bytes to ${dst}\n`)
  return 0
}

/** `spinmesh publish FEED VALUE...`: one sample, to the node's gateway (uplink) or into its own gateway. */
export async function publishCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, SOCKET_OPTIONS)
  if (positionals.length < 2) throw new UsageError('publish needs a feed and its values (spinmesh publish climate 21.5 48)')
  const [feed, ...raw] = positionals
  const nums = raw.map((v) => {
    const n = Number(v)
    if (v.trim() === '' || Number.isNaN(n)) throw new UsageError(`publish: ${JSON.stringify(v)} is not a number`)
    return n
  })
  const r = await controlRequest(socketOf(values), 'publish', { feed, values: nums }) as { feed: string; seq: number; to: string }
  io.out(values.json ? JSON.stringify(r) + '\n' : `${r.feed} #${r.seq} sent to ${r.to}\n`)
  return 0
}

/** `spinmesh join GROUP` / `spinmesh leave GROUP`. */
export async function groupCommand(method: 'join' | 'leave', argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, SOCKET_OPTIONS)
  if (positionals.length !== 1) throw new UsageError(`${method} needs one group (group:N)`)
  const r = await controlRequest(socketOf(values), method, { group: positionals[0] }) as { groups: string[] }
  io.out(values.json ? JSON.stringify(r) + '\n' : `member of ${r.groups.join(', ') || 'no group'}\n`)
  return 0
}

export async function pingCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...SOCKET_OPTIONS, count: { type: 'string' } })
  if (positionals.length !== 1) throw new UsageError('ping needs one address')
  const count = values.count === undefined ? 4 : Number(values.count)
  const results = await controlRequest(socketOf(values), 'ping', { dst: positionals[0], count }) as Array<{ seq: number; rttMs: number | null; hopsThere?: number; hopsBack?: number }>
  if (values.json) io.out(JSON.stringify(results) + '\n')
  else for (const r of results) io.out(r.rttMs === null ? `seq ${r.seq}: no reply\n` : `seq ${r.seq}: ${r.rttMs.toFixed(1)} ms, ${r.hopsThere} hops there, ${r.hopsBack} back\n`)
  return results.some((r) => r.rttMs !== null) ? 0 : 1
}

export async function tracerouteCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, SOCKET_OPTIONS)
  if (positionals.length !== 1) throw new UsageError('traceroute needs one address')
  const hops = await controlRequest(socketOf(values), 'traceroute', { dst: positionals[0] }) as Array<{ hop: number; node: number; rttMs: number | null }>
  if (values.json) io.out(JSON.stringify(hops) + '\n')
  else if (hops.length === 0) io.out('no route\n')
  else for (const h of hops) io.out(`${h.hop}  ${formatNodeAddress(h.node)}  ${h.rttMs === null ? '*' : `${h.rttMs.toFixed(1)} ms`}\n`)
  return hops.length > 0 ? 0 : 1
}

/**
 * `spinmesh emulator --device PATH --framing cobs|kiss|bridge --hub HOST:PORT --node ADDR [--baud N] [--mtu N]`:
 * a radio on the serial device PATH (the host's radio opens the other end), on the air of the
 * live hub as node ADDR: a transparent module (cobs, kiss) or firmware speaking the bridge protocol.
 */
export async function emulatorCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(argv, { device: { type: 'string' }, framing: { type: 'string' }, hub: { type: 'string' }, node: { type: 'string' }, baud: { type: 'string' }, mtu: { type: 'string' } })
  if (!values.device || !values.hub || !values.node) throw new UsageError('emulator needs --device PATH --hub HOST:PORT --node ADDR')
  const framing = values.framing ?? 'cobs'
  if (framing !== 'cobs' && framing !== 'kiss' && framing !== 'bridge') throw new UsageError(`--framing must be cobs, kiss or bridge, got ${framing}`)
  const m = /^([^:]+):(\d+)$/.exec(values.hub)
  if (!m) throw new UsageError(`--hub must be HOST:PORT, got ${values.hub}`)
  const baudRate = values.baud ? Number(values.baud) : 115_200
  const mtu = values.mtu ? Number(values.mtu) : framing === 'kiss' ? 255 : 240
  const scheduler = new RealScheduler()
  const air = await HubRadio.open({ node: parseNodeAddress(values.node), hubHost: m[1], hubPort: Number(m[2]), mtu, scheduler })
  const serial = new SerialLink({ match: { path: values.device }, baudRate, scheduler })
  const emulator = framing === 'bridge'
    ? new BridgeEmulator({ serial, air, scheduler })
    : new RadioEmulator({ serial, framing: framing === 'kiss' ? kissFraming(mtu) : cobsFraming(mtu), air, scheduler, baudRate })
  io.out(`emulator on ${values.device} (${framing}), node ${values.node} on hub ${values.hub}\n`)
  await untilSignal()
  io.out(`emulator stopping: ${JSON.stringify(emulator.stats)}\n`)
  await emulator.close()
  return 0
}
