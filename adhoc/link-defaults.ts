/**
 * Every tunable of the link layer (adhoc/link.ts) in one place, with its default and the trade-off
 * it makes. `validateLinkConfig(partial)` fills in defaults and checks every field, throwing a
 * `RangeError` that names the field (`LinkConfig.maxRetries must be ...`); unknown fields are
 * errors too, so a typo never falls back silently to a default.
 *
 * Two values can be derived from the radio (set them to 0): `ackTimeoutMs` and `retryBackoffMs`.
 * `resolveLinkTiming(config, radio)` computes them; see there for the formulas.
 */
import { airtimeMs } from '../hardware/airtime.ts'
import { ACK_SIZE } from './link-frame.ts'

export interface LinkConfig {
  /**
   * Period of neighbour beacons, ms; 0 = send none (neighbours are then learnt from traffic only).
   * 1000 ms is AODV's HELLO_INTERVAL. A beacon is 9 bytes: on LoRa (≈ 5 kbit/s, 1 % duty cycle)
   * raise it to tens of seconds. Carried on air in 10 ms units: 10 ms .. 655 350 ms.
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
   * Time to wait for an ack, ms, counted from the radio's `sent` report (so time spent in the
   * radio's own queue or waiting for duty cycle does not count). 0 = derived from the radio:
   * airtime(ack) + 2 × airtime(mtu) + 5 ms, which lets the receiver finish one frame already
   * queued ahead of its ack. Raise it for radios with long turnaround (KISS TXDELAY, serial links).
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
   * 0 = wait forever. Keep it above the longest duty-cycle wait of the radio.
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
   * Consecutive frames from a sender that fall behind its window (a restarted sender) after which
   * the window is re-synchronised to them; the frames before are dropped as duplicates. 0 = never.
   */
  dedupResyncAfter: number

  /**
   * Largest datagram `send` accepts, bytes (fragmented to the radio MTU). The effective limit is
   * also bounded by 255 fragments. Reassembly memory is bounded by maxReassemblies × maxDatagram.
   */
  maxDatagram: number
  /**
   * A partial datagram with no new fragment for this long is dropped, ms (an inactivity timeout,
   * so slow radios are not punished for long datagrams). Raise it on duty-cycled radios.
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

type Check = (v: unknown) => string | null

function num(lo: number, hi: number, opts: { int?: boolean; zero?: boolean; powerOfTwo?: boolean } = {}): Check {
  return (v) => {
    const what = `${opts.int || opts.powerOfTwo ? 'an integer' : 'a number'} in [${lo}, ${hi}]${opts.zero ? ' or 0' : ''}${opts.powerOfTwo ? ' that is a power of two' : ''}`
    if (typeof v !== 'number' || !Number.isFinite(v)) return `must be ${what}, got ${JSON.stringify(v)}`
    if (opts.zero && v === 0) return null
    if ((opts.int || opts.powerOfTwo) && !Number.isInteger(v)) return `must be ${what}, got ${v}`
    if (v < lo || v > hi) return `must be ${what}, got ${v}`
    if (opts.powerOfTwo && (v & (v - 1)) !== 0) return `must be ${what}, got ${v}`
    return null
  }
}

const bool: Check = (v) => (typeof v === 'boolean' ? null : `must be a boolean, got ${JSON.stringify(v)}`)

const CHECKS: Record<keyof LinkConfig, Check> = {
  beaconIntervalMs: num(10, 655_350, { zero: true }),
  beaconJitter: num(0, 0.5),
  allowedBeaconLoss: num(0, 100, { int: true }),
  neighbourExpiryMs: num(1, 86_400_000),
  qualityWindow: num(1, 32, { int: true }),
  rssiAlpha: (v) => (typeof v === 'number' && v > 0 && v <= 1 ? null : `must be a number in (0, 1], got ${JSON.stringify(v)}`),
  maxNeighbours: num(1, 65_536, { int: true }),
  reliableUnicast: bool,
  ackTimeoutMs: num(0, 600_000),
  maxRetries: num(0, 15, { int: true }),
  retryBackoffMs: num(0, 600_000),
  txQueuePerNeighbour: num(1, 65_536, { int: true }),
  txQueueTotal: num(1, 1_048_576, { int: true }),
  txQueueTtlMs: num(1, 86_400_000),
  radioReportTimeoutMs: num(0, 86_400_000),
  dedupWindow: num(32, 4096, { powerOfTwo: true }),
  dedupMaxOrigins: num(1, 1_048_576, { int: true }),
  dedupResyncAfter: num(0, 1000, { int: true }),
  maxDatagram: num(1, 65_535, { int: true }),
  reassemblyTimeoutMs: num(1, 86_400_000),
  maxReassemblies: num(1, 65_536, { int: true }),
}

/** Defaults filled in, every field checked. Throws `RangeError` naming the field. */
export function validateLinkConfig(partial: LinkConfigInput = {}): LinkConfig {
  if (partial === null || typeof partial !== 'object') throw new RangeError(`LinkConfig must be an object, got ${JSON.stringify(partial)}`)
  const out: Record<string, unknown> = { ...DEFAULT_LINK_CONFIG }
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue
    if (!Object.hasOwn(CHECKS, key)) {
      throw new RangeError(`LinkConfig.${key} is not a link setting; known: ${Object.keys(CHECKS).join(', ')}`)
    }
    out[key] = value
  }
  for (const key of Object.keys(CHECKS) as (keyof LinkConfig)[]) {
    const err = CHECKS[key](out[key])
    if (err) throw new RangeError(`LinkConfig.${key} ${err}`)
  }
  return out as unknown as LinkConfig
}

/** Timing values derived from the radio where the config says 0. */
export interface LinkTiming {
  ackTimeoutMs: number
  retryBackoffMs: number
}

/** Slack added to the derived ack timeout for processing and scheduling, ms. */
export const ACK_SLACK_MS = 5

export function resolveLinkTiming(config: LinkConfig, radio: { mtu: number; bitrate: number }): LinkTiming {
  const mtuAir = airtimeMs(radio.mtu, radio.bitrate)
  return {
    ackTimeoutMs: config.ackTimeoutMs || airtimeMs(ACK_SIZE, radio.bitrate) + 2 * mtuAir + ACK_SLACK_MS,
    retryBackoffMs: config.retryBackoffMs || mtuAir,
  }
}
