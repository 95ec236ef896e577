/**
 * Tunables of flooding (adhoc/flood.ts), with defaults and their trade-offs. Validate with
 * `validateFloodConfig(partial)`: defaults filled in, a `RangeError` naming the field for a bad
 * value or an unknown field.
 */

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
  /** Consecutive packets behind an origin's window that re-synchronise it (a restarted origin). */
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

const RULES: Record<keyof FloodConfig, { lo: number; hi: number; int: boolean; pow2?: boolean }> = {
  maxJitterMs: { lo: 0, hi: 600_000, int: false },
  ttl: { lo: 1, hi: 255, int: true },
  dedupWindow: { lo: 32, hi: 4096, int: true, pow2: true },
  dedupMaxOrigins: { lo: 1, hi: 1_048_576, int: true },
  dedupResyncAfter: { lo: 0, hi: 1000, int: true },
  maxPendingForwards: { lo: 1, hi: 1_048_576, int: true },
}

export function validateFloodConfig(partial: FloodConfigInput = {}): FloodConfig {
  if (partial === null || typeof partial !== 'object') throw new RangeError(`FloodConfig must be an object, got ${JSON.stringify(partial)}`)
  const out: Record<string, unknown> = { ...DEFAULT_FLOOD_CONFIG }
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue
    if (!Object.hasOwn(RULES, key)) throw new RangeError(`FloodConfig.${key} is not a flood setting; known: ${Object.keys(RULES).join(', ')}`)
    out[key] = value
  }
  for (const [key, r] of Object.entries(RULES)) {
    const v = out[key]
    const what = `${r.int ? 'an integer' : 'a number'} in [${r.lo}, ${r.hi}]${r.pow2 ? ' that is a power of two' : ''}`
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= r.lo && v <= r.hi && (!r.int || Number.isInteger(v)) && (!r.pow2 || (v & (v - 1)) === 0)
    if (!ok) throw new RangeError(`FloodConfig.${key} must be ${what}, got ${JSON.stringify(v)}`)
  }
  return out as unknown as FloodConfig
}
