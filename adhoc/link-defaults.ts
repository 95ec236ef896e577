/**
 * Every tunable of the link layer (adhoc/link.ts) in one place, with its default and the trade-off
 * it makes. `validateLinkConfig(partial, path = 'link')` fills in defaults and checks every field,
 * throwing a `ConfigError` (core/errors.ts) whose `path` names the field (`link.maxRetries: must be
 * >= 0, got -1`); unknown fields are errors too, so a typo never falls back silently to a default.
 *
 * `LORA_LINK_CONFIG` holds the values to lay over the defaults for LoRa-like radios (slow, 1 % duty
 * cycle); `beaconAirtimeShare` says what share of the time a configuration spends beaconing, to
 * check it against a duty-cycle budget.
 *
 * Two values can be derived from the radio (set them to 0): `ackTimeoutMs` and `retryBackoffMs`.
 * `resolveLinkTiming(config, radio)` computes them; see there for the formulas.
 */
import { checkNumber, validateFields, type FieldRule, type NumberRule } from '../core/validate.ts'
import { ConfigError } from '../core/errors.ts'
import { ACK_SIZE, BEACON_SIZE } from './link-frame.ts'

/** Bytes of a beacon frame on air (docs/WIRE.md §3), for airtime budgets. */
export const BEACON_FRAME_BYTES = BEACON_SIZE

export interface LinkConfig {
  /**
   * Period of neighbour beacons, ms; 0 = send none (neighbours are then learnt from traffic only).
   * 1000 ms is AODV's HELLO_INTERVAL. A beacon is 9 bytes (`BEACON_FRAME_BYTES`); its share of
   * airtime is `beaconAirtimeShare`: on LoRa (5.47 kbit/s, 12.5 ms preamble, 1 % duty cycle) a
   * beacon takes 25.7 ms, so 1 s beacons would use 2.6 × the whole duty budget (see
   * `LORA_LINK_CONFIG`). Carried on air in 10 ms units: 10 ms .. 655 350 ms.
   */
  beaconIntervalMs: number
  /**
   * Jitter of each beacon as a fraction of the interval: beacon k goes at phase + k·interval +
   * U[0, jitter·interval), with a random phase per node, so nodes never beacon in lockstep and the
   * schedule does not drift. 0.25 follows RFC 5148 (MAXJITTER = interval / 4). At most 0.5.
   */
  beaconJitter: number
  /**
   * Beacons of a neighbour that may go missing before it is declared down (AODV
   * ALLOWED_HELLO_LOSS = 2). A beaconing neighbour expires (allowedBeaconLoss + 1.5) × its
   * advertised interval after it was last heard (the 0.5 absorbs jitter), or after
   * `neighbourExpiryMs` if that is longer. Any frame from it refreshes it.
   */
  allowedBeaconLoss: number
  /**
   * Floor of the neighbour expiry, ms, and the expiry of neighbours heard only through traffic
   * (no beacon yet). 3500 = (2 + 1.5) × 1000 ms matches the beacon rule at the default interval.
   */
  neighbourExpiryMs: number
  /** Beacons over which link quality (share of expected beacons heard) is measured; 1..32. */
  qualityWindow: number
  /** Weight of a new sample in the RSSI/SNR moving averages (EWMA), (0, 1]. */
  rssiAlpha: number
  /** Neighbour table cap; when full the neighbour heard least recently is dropped (neighbour-down). */
  maxNeighbours: number

  /**
   * Default of `send(..., { reliable })` for unicast: a link-level ack with bounded retries. Gives
   * routing its tx-failure feedback on radios without MAC acks (LoRa UART modules, KISS TNCs).
   * Turn off over radios that already acknowledge (real 802.11 unicast) to save the ack airtime.
   */
  reliableUnicast: boolean
  /**
   * Time to wait for an ack, ms, counted from the radio's `sent` report (so time spent in our own
   * radio queue or waiting for our duty cycle does not count). 0 = derived from the radio, see
   * `resolveLinkTiming`. The receiver sends acks with `urgent` (ahead of its queued frames), so its
   * backlog does not delay them. Raise it for radios with long turnaround (KISS TXDELAY, serial
   * links) and where the receiver's duty cycle may hold its ack.
   */
  ackTimeoutMs: number
  /**
   * Retransmissions after the first attempt before 'tx-failed' ERR_NO_ACK. 3 (4 transmissions):
   * fewer than 802.11's 7 because this layer sits above a MAC that may already retry, and routing
   * reacts to failures faster than retries help on a broken link. 0..15.
   */
  maxRetries: number
  /**
   * Base of the random backoff before retry r: U[0, retryBackoffMs × 2^(r−1)) ms (binary
   * exponential, as 802.11). Spreads retries of nodes that collided. 0 = one MTU airtime.
   */
  retryBackoffMs: number
  /**
   * Reliable datagrams waiting behind the one in flight to a neighbour (stop-and-wait, one frame
   * outstanding). Policy when full: the new datagram is refused with 'tx-failed' ERR_QUEUE_FULL
   * (tail drop: what is queued keeps its order). Memory ≤ txQueueTotal × maxDatagram.
   */
  txQueuePerNeighbour: number
  /** Cap on reliable datagrams queued over all neighbours; same tail-drop policy. */
  txQueueTotal: number
  /** A queued reliable datagram older than this when its turn comes fails with ERR_EXPIRED, ms. */
  txQueueTtlMs: number
  /**
   * Guard against a radio that reports neither `sent` nor `dropped` for a reliable frame (the
   * Radio contract promises one): after this long the frame fails with ERR_EXPIRED, ms.
   * 0 = wait forever. Keep it above the radio's tx-queue TTL (the longest a frame may legitimately
   * wait there, e.g. for the duty cycle), or a frame is reported failed and then still sent.
   */
  radioReportTimeoutMs: number

  /**
   * Link-level duplicate suppression window per sender, in sequence numbers (power of two, 32..4096).
   * Sequence numbers are counted per (sender, destination), so this only has to cover the
   * retransmissions of one neighbour, not all its traffic.
   */
  dedupWindow: number
  /** Senders tracked for duplicate suppression (LRU); a forgotten sender's next frame starts afresh. */
  dedupMaxOrigins: number
  /**
   * Strictly consecutive frames from a sender, each far behind its window (adhoc/dedup.ts: over
   * min(16 × dedupWindow, 8192) numbers), that show it restarted its numbering; the window is then
   * re-synchronised to them (the ones before are dropped). A frame a quarter of the sequence space
   * (16 384) behind re-synchronises on its own. 0 = never.
   */
  dedupResyncAfter: number

  /**
   * Largest datagram `send` accepts, bytes (fragmented to the radio MTU). The effective limit is
   * also bounded by 255 fragments. Reassembly memory is bounded by maxReassemblies × maxDatagram.
   */
  maxDatagram: number
  /**
   * A partial datagram with no new fragment for this long is dropped, ms (an inactivity timeout,
   * so slow radios are not punished for long datagrams). On duty-cycled radios keep it above the
   * radio's tx-queue TTL: the next fragment may wait that long for the budget.
   */
  reassemblyTimeoutMs: number
  /** Partial datagrams held at once; when full, the oldest is dropped to make room. */
  maxReassemblies: number
}

export const DEFAULT_LINK_CONFIG: Readonly<LinkConfig> = Object.freeze({
  beaconIntervalMs: 1000,
  beaconJitter: 0.25,
  allowedBeaconLoss: 2,
  neighbourExpiryMs: 3500,
  qualityWindow: 16,
  rssiAlpha: 0.25,
  maxNeighbours: 256,
  reliableUnicast: true,
  ackTimeoutMs: 0,
  maxRetries: 3,
  retryBackoffMs: 0,
  txQueuePerNeighbour: 32,
  txQueueTotal: 256,
  txQueueTtlMs: 10_000,
  radioReportTimeoutMs: 120_000,
  dedupWindow: 64,
  dedupMaxOrigins: 256,
  dedupResyncAfter: 3,
  maxDatagram: 4096,
  reassemblyTimeoutMs: 5000,
  maxReassemblies: 16,
})

/** What `validateLinkConfig` accepts: a partial config, or a loosely typed record from YAML. */
export type LinkConfigInput = Partial<LinkConfig> | Readonly<Record<string, unknown>>


const int = (min: number, max: number): NumberRule => ({ min, max, integer: true })
const ms = (min: number, max: number): NumberRule => ({ min, max })

const RULES: Record<keyof LinkConfig, FieldRule> = {
  beaconIntervalMs: (path, v) => {
    if (checkNumber(path, v, { min: 0, max: 655_350 }) !== 0 && (v as number) < 10) throw new ConfigError(path, `must be 0 (no beacons) or >= 10, got ${v}`)
  },
  beaconJitter: { min: 0, max: 0.5 },
  allowedBeaconLoss: int(0, 100),
  neighbourExpiryMs: ms(1, 86_400_000),
  qualityWindow: int(1, 32),
  rssiAlpha: { gt: 0, max: 1 },
  maxNeighbours: int(1, 65_536),
  reliableUnicast: 'boolean',
  ackTimeoutMs: ms(0, 600_000),
  maxRetries: int(0, 15),
  retryBackoffMs: ms(0, 600_000),
  txQueuePerNeighbour: int(1, 65_536),
  txQueueTotal: int(1, 1_048_576),
  txQueueTtlMs: ms(1, 86_400_000),
  radioReportTimeoutMs: ms(0, 86_400_000),
  dedupWindow: { min: 32, max: 4096, powerOfTwo: true },
  dedupMaxOrigins: int(1, 1_048_576),
  dedupResyncAfter: int(0, 1000),
  maxDatagram: int(1, 65_535),
  reassemblyTimeoutMs: ms(1, 86_400_000),
  maxReassemblies: int(1, 65_536),
}

/**
 * Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`
 * (`path` is where the settings sit in the caller's config: `link` in a scenario).
 */
export function validateLinkConfig(partial: LinkConfigInput = {}, path = 'link'): LinkConfig {
  return validateFields(path, partial, DEFAULT_LINK_CONFIG, RULES)
}

/**
 * Settings for LoRa-like radios (hardware/sim-defaults.ts `LORA_SIM_RADIO`: 5.47 kbit/s, 255-byte
 * frames, 12.5 ms preamble, 1 % duty cycle, tx-queue TTL 300 s), laid over the defaults:
 * `validateLinkConfig({ ...LORA_LINK_CONFIG, ...overrides })`.
 */
export const LORA_LINK_CONFIG: Readonly<Partial<LinkConfig>> = Object.freeze({
  /**
   * A beacon is 25.7 ms on air; every 60 s that is 0.043 % of the time, 4.3 % of a 1 % budget
   * (the rest is for traffic). Neighbour changes are then noticed in minutes, which is what a
   * static LoRa field can afford.
   */
  beaconIntervalMs: 60_000,
  /** One more missed beacon than on Wi-Fi: LoRa beacons collide (ALOHA-like) and cannot be retried. */
  allowedBeaconLoss: 3,
  /** (3 + 1.5) × 60 s, the beacon rule at this interval, also for neighbours heard only via traffic. */
  neighbourExpiryMs: 270_000,
  /**
   * Above the radio's tx-queue TTL (300 s) plus a full-frame airtime and carrier sense: a frame
   * held for the duty cycle is reported by the radio (sent, or dropped ERR_EXPIRED) before this.
   */
  radioReportTimeoutMs: 330_000,
  /** Twice the radio TTL: a datagram queued behind one that waits out the budget still gets its turn. */
  txQueueTtlMs: 600_000,
  /**
   * Fragments of one datagram can be a radio TTL apart (each waits for the budget); twice that
   * covers one retransmission of a reliable fragment. Memory stays bounded by maxReassemblies.
   */
  reassemblyTimeoutMs: 600_000,
})

/**
 * Share of the time (0..1) a node with this configuration spends transmitting beacons, given the
 * radio's airtime of a frame of `bytes` bytes, preamble included (`Radio.airtimeMs`). Beacons go
 * on a grid of one per `beaconIntervalMs` (jitter does not change the mean), so this is
 * airtime(BEACON_FRAME_BYTES) / beaconIntervalMs; 0 when beacons are off. Compare it with a share
 * of the radio's duty cycle (e.g. reject a config whose beacons take over 5–10 % of it).
 */
export function beaconAirtimeShare(config: Pick<LinkConfig, 'beaconIntervalMs'>, airtimeMs: (bytes: number) => number): number {
  return config.beaconIntervalMs > 0 ? airtimeMs(BEACON_FRAME_BYTES) / config.beaconIntervalMs : 0
}

/** Timing values derived from the radio where the config says 0. */
export interface LinkTiming {
  ackTimeoutMs: number
  retryBackoffMs: number
}

/** Slack added to the derived ack timeout for processing and scheduling, ms. */
export const ACK_SLACK_MS = 5

/** What `resolveLinkTiming` needs of the radio. */
export interface RadioTimingInfo {
  readonly mtu: number
  /** On-air time of a frame, preamble included, ms (`Radio.airtimeMs`). */
  airtimeMs(bytes: number): number
}

/**
 * The timing values the config leaves at 0, from the radio's airtime (preamble included):
 *
 *   ackTimeoutMs   = airtime(ACK_SIZE) + 2 × airtime(mtu) + ACK_SLACK_MS
 *   retryBackoffMs = airtime(mtu)
 *
 * The ack timer starts at our radio's `sent` report, when the receiver has just finished receiving
 * our frame. Its ack goes `urgent`, ahead of whatever it has queued, but may still wait for one
 * frame: one of its own that started as the channel went idle, or a neighbour's that holds the
 * channel (the first MTU airtime); carrier-sense backoff of a few slots fits in the second. Then
 * the ack's own airtime and the slack. On an 802.11b-like radio (2 Mbit/s, 1500 bytes, 192 µs
 * preamble) that is 17.6 ms; on LoRa (5.47 kbit/s, 255 bytes, 12.5 ms preamble) 0.80 s.
 */
export function resolveLinkTiming(config: LinkConfig, radio: RadioTimingInfo): LinkTiming {
  const mtuAir = radio.airtimeMs(radio.mtu)
  return {
    ackTimeoutMs: config.ackTimeoutMs || radio.airtimeMs(ACK_SIZE) + 2 * mtuAir + ACK_SLACK_MS,
    retryBackoffMs: config.retryBackoffMs || mtuAir,
  }
}
