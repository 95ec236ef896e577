/**
 * Replay windows: per-origin sliding windows over u32 counters, RFC 6479-style (a bitmap ring
 * indexed by counter mod window, cleared word by word as the window slides), with bounded memory.
 *
 * For an origin whose highest accepted counter is `top`, with a window of W bits:
 * - counter > top                      → 'fresh' (accepting it slides the window up to it);
 * - top - W < counter <= top           → 'fresh' if not seen yet, else 'replay';
 * - counter <= top - W                 → 'too-old' (no memory of it: refused).
 * An unknown origin accepts any counter (the caller decides when that is allowed, e.g. only after
 * a handshake: see `reset`). Counters are u32 and never wrap: the sender stops at 2^32-1.
 *
 * Order of use: verify the packet's MAC first, then `accept` (a forged packet must not move the
 * window). `check` alone is a read-only peek.
 *
 * Memory: at most `maxOrigins` origins, each W/32 words; when a new origin arrives at the limit
 * the least recently updated one (last `accept`ed as fresh or `reset`) is dropped and becomes
 * unknown again, so a caller that admits unknown origins should size maxOrigins above the number
 * of origins it talks to.
 */
import { ErrorCodes, SpinmeshError } from '../core/errors.ts'

export type ReplayVerdict = 'fresh' | 'replay' | 'too-old'

interface Window {
  top: number
  bits: Uint32Array
}

function badArg(msg: string): SpinmeshError {
  return new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, `ReplayWindows: ${msg}`)
}

function checkU32(name: string, v: number): void {
  if (v >>> 0 !== v) throw badArg(`${name} must be a u32, got ${v}`)
}

export class ReplayWindows {
  readonly windowBits: number
  readonly maxOrigins: number
  /** Insertion order = update order: the first entry is the least recently updated. */
  private readonly windows = new Map<number, Window>()

  constructor(o: { windowBits?: number; maxOrigins?: number } = {}) {
    const w = o.windowBits ?? 64
    if (!Number.isInteger(w) || w < 32 || w > 4096 || w % 32 !== 0) throw badArg(`windowBits must be a multiple of 32 in 32..4096, got ${w}`)
    const m = o.maxOrigins ?? 1024
    if (!Number.isInteger(m) || m < 1) throw badArg(`maxOrigins must be a positive integer, got ${m}`)
    this.windowBits = w
    this.maxOrigins = m
  }

  get size(): number {
    return this.windows.size
  }

  has(origin: number): boolean {
    return this.windows.has(origin)
  }

  /** The highest counter accepted (or reset to) for `origin`; undefined when it has no window. */
  top(origin: number): number | undefined {
    return this.windows.get(origin)?.top
  }

  /** Would `counter` from `origin` be accepted? Does not change state. */
  check(origin: number, counter: number): ReplayVerdict {
    checkU32('origin', origin)
    checkU32('counter', counter)
    const w = this.windows.get(origin)
    return w === undefined ? 'fresh' : this.verdict(w, counter)
  }

  /** check + record; returns the verdict. Call only after the packet's MAC verified. */
  accept(origin: number, counter: number): ReplayVerdict {
    checkU32('origin', origin)
    checkU32('counter', counter)
    let w = this.windows.get(origin)
    if (w === undefined) {
      w = { top: counter, bits: new Uint32Array(this.windowBits >>> 5) }
      this.setBit(w, counter)
      this.insert(origin, w)
      return 'fresh'
    }
    const v = this.verdict(w, counter)
    if (v !== 'fresh') return v
    if (counter > w.top) this.slide(w, counter)
    this.setBit(w, counter)
    this.windows.delete(origin)
    this.windows.set(origin, w)
    return 'fresh'
  }

  /** Start an origin's window at `counter` (everything <= counter counts as seen), e.g. after a key handshake. */
  reset(origin: number, counter: number): void {
    checkU32('origin', origin)
    checkU32('counter', counter)
    const w = { top: counter, bits: new Uint32Array(this.windowBits >>> 5).fill(0xffffffff) }
    this.windows.delete(origin)
    this.insert(origin, w)
  }

  forget(origin: number): void {
    this.windows.delete(origin)
  }

  private insert(origin: number, w: Window): void {
    if (this.windows.size >= this.maxOrigins) this.windows.delete(this.windows.keys().next().value as number)
    this.windows.set(origin, w)
  }

  private verdict(w: Window, counter: number): ReplayVerdict {
    if (counter > w.top) return 'fresh'
    if (counter <= w.top - this.windowBits) return 'too-old'
    const i = counter % this.windowBits
    return (w.bits[i >>> 5] >>> (i & 31)) & 1 ? 'replay' : 'fresh'
  }

  private setBit(w: Window, counter: number): void {
    const i = counter % this.windowBits
    w.bits[i >>> 5] |= 1 << (i & 31)
  }

  /** Move `top` up to `counter`, forgetting the positions the window leaves behind. */
  private slide(w: Window, counter: number): void {
    const W = this.windowBits
    if (counter - w.top >= W) {
      w.bits.fill(0)
    } else {
      for (let x = w.top + 1; x <= counter;) {
        const i = x % W
        if ((i & 31) === 0 && x + 31 <= counter) {
          w.bits[i >>> 5] = 0
          x += 32
        } else {
          w.bits[i >>> 5] &= ~(1 << (i & 31))
          x++
        }
      }
    }
    w.top = counter
  }
}
