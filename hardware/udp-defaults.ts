/**
 * Every tunable of the real-I/O radios (`UdpRadio`, `HubRadio`), of the live emulation hub (`Hub`)
 * and the defaults of a hub topology file, in one place, each with its unit and trade-off
 * (DESIGN.md §9). The validators fill defaults and name the field of any bad value
 * (`udp.queueLimit: must be >= 1, got 0`); unknown fields are errors. See hardware/LIVE.md.
 */
import { isIP } from 'node:net'
import { ConfigError } from '../core/errors.ts'
import { fieldPath, validateFields, type FieldRule, type NumberRule } from '../core/validate.ts'
import { DEFAULT_SIM_RADIO } from './sim-defaults.ts'

/** The fields every datagram radio (UDP multicast, hub client) shares. */
export interface DatagramRadioConfig {
  /** Largest frame, bytes. Larger values carry more per frame but above ~1,400 IP fragments on Wi-Fi/Ethernet. */
  mtu: number
  /** Nominal on-air bits/s, for airtime accounting and the duty-cycle budget only (a UDP radio is not paced by it). */
  bitrate: number
  /** Added to every frame's airtime, ms (accounting only). */
  preambleMs: number
  /**
   * Frames waiting to be handed to the socket (not counting the one in flight) before send() refuses
   * with ERR_QUEUE_FULL. Larger: longer bursts and outages ride through, but more stale frames and memory.
   */
  queueLimit: number
  /** A frame still waiting after this long is dropped ERR_EXPIRED, ms (Infinity: never). Bounds how stale a frame may be. */
  queueTtlMs: number
  /** Share of airtime allowed in any window of `dutyCycleWindowMs` (1 = unlimited), for testing duty-cycle behaviour live. */
  dutyCycle: number
  /** The duty-cycle window, ms. */
  dutyCycleWindowMs: number
}

export interface UdpRadioConfig extends DatagramRadioConfig {
  /** IPv4 multicast group. Every radio of one network must use the same group and port. */
  group: string
  /** UDP port of the group. */
  port: number
  /**
   * Local IPv4 address to send and join on (the Wi-Fi or LAN interface, or 127.0.0.1 for tests);
   * null lets the OS choose (its default multicast route).
   */
  interface: string | null
  /** IP multicast TTL. 1 keeps frames on the local link, as a radio's broadcast would be; more reaches routed subnets. */
  ttl: number
  /** Let radios on this host hear each other (IP_MULTICAST_LOOP). Needed for several nodes on one machine; own frames are ignored anyway. */
  loopback: boolean
}

export interface HubRadioConfig extends DatagramRadioConfig {
  /** The hub's IP literal. */
  hubHost: string
  /** The hub's UDP port. */
  hubPort: number
  /** HELLO is re-sent this often until the hub answers, ms. Smaller: faster (re)connection, more chatter to a dead hub. */
  helloIntervalMs: number
  /** A PING is sent this often while up, ms. Smaller: a dead hub is noticed sooner, at more traffic. */
  keepaliveIntervalMs: number
  /**
   * The hub is deemed gone ('reconnecting') after this long without any datagram from it, ms. Must
   * exceed keepaliveIntervalMs; two or three intervals tolerate a lost PONG.
   */
  keepaliveTimeoutMs: number
}

export interface HubConfig {
  /** Address the hub listens on (an IP literal; keep 127.0.0.1 unless nodes run on other machines). */
  host: string
  /** UDP port (0: the OS chooses; read `hub.port`). */
  port: number
  /**
   * A frame is refused (counted `backlogDrops`) when its sender's earlier frames keep the emulated
   * channel busy for longer than this, ms. Bounds the pending deliveries of a sender that sends
   * faster than the emulated bitrate; larger lets bursts through at more latency.
   */
  maxBacklogMs: number
  /** Deliveries scheduled but not yet sent, over all links; more are dropped and counted (`overflow`). Bounds timers and memory. */
  maxPending: number
  /** A client silent this long is forgotten (it stopped without BYE), ms. Must exceed the clients' keepalive interval. */
  clientTimeoutMs: number
}

/** Defaults applied to every link of a topology file that does not set its own values. */
export interface HubTopologyDefaults {
  /** Per-copy loss probability of a link, 0..1. */
  loss: number
  /** One-way delay added after the frame's airtime, ms. */
  delayMs: number
  /** Uniform extra delay in [0, jitterMs), ms; frames of one link stay in order (FIFO per link). */
  jitterMs: number
  /** Emulated bitrate, bits/s: a sender's frames are serialised at this rate at the hub. */
  bitrate: number
  /** Emulated preamble added to each frame's airtime at the hub, ms. */
  preambleMs: number
  /** For RSSI: transmit power, dBm. */
  txPowerDbm: number
  /** For RSSI: log-distance path loss exponent. */
  pathLossExponent: number
  /** For RSSI: path loss at 1 m, dB. */
  referenceLossDb: number
  /** For SNR = RSSI − noise floor, dBm. */
  noiseFloorDbm: number
}

/** Default multicast group and port of UdpRadio ("SM" = 83 77 in the group's last octets). */
export const UDP_DEFAULT_GROUP = '239.72.83.77'
export const UDP_DEFAULT_PORT = 4277
/** Default hub port. */
export const HUB_DEFAULT_PORT = 4278
/** Nodes in one hub topology: one process per node on one machine is far below; keeps the O(n²) link table under a million entries. */
export const HUB_MAX_NODES = 1024
/** Largest frame either radio accepts as mtu: an IPv4 UDP payload (65,507) less our largest header (10 bytes). */
export const DATAGRAM_MAX_MTU = 65_497
/**
 * Copies the hub sends to one link per timer callback; the rest go on the next turn (≥ 1 ms later).
 * A burst sent in one go would overflow the receiving client's socket buffer (~200 datagrams at
 * Linux's default 208 KiB); 32 per ms per link is far above any emulated radio's frame rate.
 */
export const HUB_SEND_BATCH = 32
/**
 * close() waits this long, ms, for the socket to confirm the frame in flight (Node drops the send
 * callback if the socket closes first); a frame not confirmed by then is reported dropped ERR_CLOSED.
 */
export const CLOSE_FLUSH_MS = 500

const DATAGRAM_DEFAULTS: DatagramRadioConfig = {
  mtu: 1400,
  bitrate: 1_000_000,
  preambleMs: 0,
  queueLimit: 256,
  queueTtlMs: 10_000,
  dutyCycle: 1,
  dutyCycleWindowMs: 3_600_000,
}

export const DEFAULT_UDP_RADIO: Readonly<UdpRadioConfig> = Object.freeze({
  ...DATAGRAM_DEFAULTS,
  group: UDP_DEFAULT_GROUP,
  port: UDP_DEFAULT_PORT,
  interface: null,
  ttl: 1,
  loopback: true,
})

export const DEFAULT_HUB_RADIO: Readonly<HubRadioConfig> = Object.freeze({
  ...DATAGRAM_DEFAULTS,
  hubHost: '127.0.0.1',
  hubPort: HUB_DEFAULT_PORT,
  helloIntervalMs: 250,
  keepaliveIntervalMs: 1000,
  keepaliveTimeoutMs: 3000,
})

export const DEFAULT_HUB: Readonly<HubConfig> = Object.freeze({
  host: '127.0.0.1',
  port: HUB_DEFAULT_PORT,
  maxBacklogMs: 5000,
  maxPending: 65_536,
  clientTimeoutMs: 10_000,
})

/** Link and physics defaults of a topology; RSSI physics are DEFAULT_SIM_RADIO's (802.11-like, 20 dBm). */
export const DEFAULT_HUB_TOPOLOGY: Readonly<HubTopologyDefaults> = Object.freeze({
  loss: 0,
  delayMs: 0,
  jitterMs: 0,
  bitrate: 1_000_000,
  preambleMs: 0,
  txPowerDbm: DEFAULT_SIM_RADIO.txPowerDbm,
  pathLossExponent: DEFAULT_SIM_RADIO.pathLossExponent,
  referenceLossDb: DEFAULT_SIM_RADIO.referenceLossDb,
  noiseFloorDbm: DEFAULT_SIM_RADIO.noiseFloorDbm,
})

const ms = (min: number, max = 86_400_000): NumberRule => ({ min, max })
const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })
const port = (min: number): NumberRule => int(min, 65_535)

function ipv4(p: string, v: unknown): void {
  if (typeof v !== 'string' || isIP(v) !== 4) throw new ConfigError(p, `must be an IPv4 address literal, got ${JSON.stringify(v)}`)
}
function ipLiteral(p: string, v: unknown): void {
  if (typeof v !== 'string' || isIP(v) === 0) throw new ConfigError(p, `must be an IP address literal, got ${JSON.stringify(v)}`)
}
function multicastGroup(p: string, v: unknown): void {
  ipv4(p, v)
  const first = Number((v as string).split('.')[0])
  if (first < 224 || first > 239) throw new ConfigError(p, `must be an IPv4 multicast address (224.0.0.0–239.255.255.255), got ${v}`)
}

const DATAGRAM_RULES: Record<keyof DatagramRadioConfig, FieldRule> = {
  mtu: int(1, DATAGRAM_MAX_MTU),
  bitrate: { min: 1, max: 1e10 },
  preambleMs: ms(0, 10_000),
  queueLimit: int(1, 100_000),
  queueTtlMs: { min: 1, allowInfinity: true },
  dutyCycle: { gt: 0, max: 1 },
  dutyCycleWindowMs: { gt: 0, max: 86_400_000 },
}

const UDP_RULES: Record<keyof UdpRadioConfig, FieldRule> = {
  ...DATAGRAM_RULES,
  group: multicastGroup,
  port: port(1),
  interface: (p, v) => {
    if (v !== null) ipv4(p, v)
  },
  ttl: int(0, 255),
  loopback: 'boolean',
}

const HUB_RADIO_RULES: Record<keyof HubRadioConfig, FieldRule> = {
  ...DATAGRAM_RULES,
  hubHost: ipLiteral,
  hubPort: port(1),
  helloIntervalMs: { gt: 0, max: 600_000 },
  keepaliveIntervalMs: { gt: 0, max: 600_000 },
  keepaliveTimeoutMs: { gt: 0, max: 3_600_000 },
}

const HUB_RULES: Record<keyof HubConfig, FieldRule> = {
  host: ipLiteral,
  port: port(0),
  maxBacklogMs: { gt: 0, max: 3_600_000 },
  maxPending: int(1, 10_000_000),
  clientTimeoutMs: { gt: 0, max: 86_400_000 },
}

/** Rules for the topology-wide defaults (also used for per-link overrides of loss/delayMs/jitterMs). */
export const HUB_TOPOLOGY_RULES: Record<keyof HubTopologyDefaults, FieldRule> = {
  loss: { min: 0, max: 1 },
  delayMs: ms(0, 600_000),
  jitterMs: ms(0, 600_000),
  bitrate: { min: 1, max: 1e10 },
  preambleMs: ms(0, 10_000),
  txPowerDbm: { min: -50, max: 60 },
  pathLossExponent: { min: 1, max: 8 },
  referenceLossDb: { min: 0, max: 200 },
  noiseFloorDbm: { min: -200, max: 0 },
}

export type ConfigInput<T> = Partial<T> | Readonly<Record<string, unknown>>

export function validateUdpRadioConfig(partial: ConfigInput<UdpRadioConfig> = {}, path = 'udp'): UdpRadioConfig {
  return validateFields(path, partial, DEFAULT_UDP_RADIO, UDP_RULES)
}

export function validateHubRadioConfig(partial: ConfigInput<HubRadioConfig> = {}, path = 'hubRadio'): HubRadioConfig {
  const c = validateFields(path, partial, DEFAULT_HUB_RADIO, HUB_RADIO_RULES)
  if (c.keepaliveTimeoutMs <= c.keepaliveIntervalMs) {
    throw new ConfigError(fieldPath(path, 'keepaliveTimeoutMs'), `must be > keepaliveIntervalMs (${c.keepaliveIntervalMs}), got ${c.keepaliveTimeoutMs}`)
  }
  return c
}

export function validateHubConfig(partial: ConfigInput<HubConfig> = {}, path = 'hub'): HubConfig {
  return validateFields(path, partial, DEFAULT_HUB, HUB_RULES)
}
