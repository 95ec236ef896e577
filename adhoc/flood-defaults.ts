/**
 * Tunables of flooding (adhoc/flood.ts), with defaults and their trade-offs. Validate with
 * `validateFloodConfig(partial, path = 'flood')`: defaults filled in, a `ConfigError` whose `path`
 * names the field (`protocolConfig.ttl: must be >= 1, got 0` when a scenario passes
 * 'protocolConfig') for a bad value or an unknown field.
 */
import { validateFields, type NumberRule } from '../core/validate.ts'

export interface FloodConfig {
  /**
   * Each relay waits U[0, maxJitterMs] before rebroadcasting. Neighbours that heard the same frame
   * otherwise transmit at the same instant and collide (the broadcast storm); a wider spread means
   * fewer collisions but more latency (≈ maxJitterMs / 2 per hop on average). 10 ms suits a
   * 2 Mbit/s 802.11-like radio: a 512-byte packet is ≈ 2.2 ms on air, so ten milliseconds give
   * about four to five non-overlapping slots among the neighbours of a relay. For LoRa (hundreds of
   * ms per frame) scale it with the airtime, e.g. 2–5 × the airtime of a full frame. 0 = no jitter
   * (what a "rushing" attacker does).
   */
  maxJitterMs: number
  /**
   * Hops a flood may travel: the origin sends with this TTL, a relay forwards only if the TTL it
   * received is above 1, decremented. 32 covers AODV's NET_DIAMETER-sized networks (35) with margin
   * for the scenarios here (≤ 15 hops); lower it to scope floods. 1..255.
   */
  ttl: number
  /** Duplicate window per origin (32-bit sequence numbers): a power of two, 32..4096. */
  dedupWindow: number
  /**
   * Origins remembered for duplicate suppression (LRU). Above the number of nodes that flood at once;
   * an evicted origin's old duplicates would be accepted once more.
   */
  dedupMaxOrigins: number
  /**
   * Strictly consecutive packets of an origin, each far behind its window (adhoc/dedup.ts: over
   * 65 536 numbers), that show it restarted its numbering and re-synchronise the window; one a
   * quarter of the space behind is enough on its own. 0 = never.
   */
  dedupResyncAfter: number
  /** Rebroadcasts waiting for their jitter at once; beyond it a relay drops (counted `forwardDrops`). */
  maxPendingForwards: number
}

export const DEFAULT_FLOOD_CONFIG: Readonly<FloodConfig> = Object.freeze({
  maxJitterMs: 10,
  ttl: 32,
  dedupWindow: 128,
  dedupMaxOrigins: 1024,
  dedupResyncAfter: 3,
  maxPendingForwards: 256,
})

export type FloodConfigInput = Partial<FloodConfig> | Readonly<Record<string, unknown>>

const RULES: Record<keyof FloodConfig, NumberRule> = {
  maxJitterMs: { min: 0, max: 600_000 },
  ttl: { min: 1, max: 255, integer: true },
  dedupWindow: { min: 32, max: 4096, integer: true, powerOfTwo: true },
  dedupMaxOrigins: { min: 1, max: 1_048_576, integer: true },
  dedupResyncAfter: { min: 0, max: 1000, integer: true },
  maxPendingForwards: { min: 1, max: 1_048_576, integer: true },
}

/** Defaults filled in, every field checked. Throws `ConfigError` with `path` = `${path}.field`. */
export function validateFloodConfig(partial: FloodConfigInput = {}, path = 'flood'): FloodConfig {
  return validateFields(path, partial, DEFAULT_FLOOD_CONFIG, RULES)
}
