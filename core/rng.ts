/**
 * Seeded, splittable randomness. Protocol cores get an `Rng` and never call `Math.random`.
 *
 * The generator is sfc32 (small fast chaotic, 128-bit state, passes PractRand), seeded through
 * a string/number hash. `fork(label)` derives an independent child from the parent's *seed* and the
 * label, not from how much of the parent has been consumed, so adding a node or drawing one more
 * number in one place does not reshuffle the randomness of every other node.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  float(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
}

/** murmur3's 32-bit finaliser: a bijection on u32 with full avalanche. */
export function mix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/** 32-bit string hash (FNV-1a followed by the murmur3 finaliser). */
function hash32(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h)
}

export class SeededRng implements Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  /** The textual seed this generator was derived from (stable identity for forks). */
  readonly seedText: string

  constructor(seed: number | string) {
    this.seedText = String(seed)
    this.a = hash32(this.seedText, 0x9e3779b9)
    this.b = hash32(this.seedText, 0x243f6a88)
    this.c = hash32(this.seedText, 0xb7e15162)
    this.d = 1
    for (let i = 0; i < 15; i++) this.next32()
  }

  /** Uniform 32-bit unsigned integer. */
  next32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d
    const t = (((a + b) | 0) + d) | 0
    this.d = (d + 1) | 0
    this.a = b ^ (b >>> 9)
    this.b = (c + (c << 3)) | 0
    const cr = (c << 21) | (c >>> 11)
    this.c = (cr + t) | 0
    return t >>> 0
  }

  float(): number {
    // 53 random bits.
    const hi = this.next32() >>> 5
    const lo = this.next32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`)
    return Math.floor(this.float() * n)
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float()
  }

  /** Standard normal (Box–Muller; one value per call). */
  normal(mean = 0, stdev = 1): number {
    let u = 0
    while (u === 0) u = this.float()
    const v = this.float()
    return mean + stdev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float())
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list')
    return items[this.int(items.length)]
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const x = items[i]
      items[i] = items[j]
      items[j] = x
    }
    return items
  }

  /** `n` random bytes (deterministic per seed: simulated keys and nonces, never real ones). */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.next32()
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
    }
    return out
  }

  /** An independent generator for `label` (e.g. `fork('node', 17)`), stable across runs. */
  fork(...label: Array<string | number>): SeededRng {
    return new SeededRng(`${this.seedText}/${label.join('/')}`)
  }
}
