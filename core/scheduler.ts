/**
 * Time for every layer. Protocol cores get a `Scheduler` and never touch `Date.now`/`setTimeout`
 * (DESIGN.md §2), so the same code runs in virtual time (`SimScheduler`) and real time
 * (`RealScheduler`). Times are milliseconds as floating-point numbers.
 */

export interface Timer {
  /** Cancel the callback; cancelling twice or after it ran is harmless. */
  cancel(): void
}

export interface Scheduler {
  /** Milliseconds since the scheduler's origin (monotonic). */
  now(): number
  /** Run `fn` after `delayMs` (>= 0) milliseconds. */
  at(delayMs: number, fn: () => void): Timer
}

function checkDelay(delayMs: number): void {
  if (!(delayMs >= 0) || delayMs === Infinity) {
    throw new RangeError(`timer delay must be a finite number of milliseconds >= 0, got ${delayMs}`)
  }
}

/** One scheduled event in the simulator. `fn === null` means cancelled. */
class SimEvent implements Timer {
  constructor(
    public t: number,
    public seq: number,
    public fn: (() => void) | null,
    private readonly owner: SimScheduler,
  ) {}
  cancel(): void {
    if (this.fn !== null) {
      this.fn = null
      this.owner._cancelled++
    }
  }
}

export interface RunOptions {
  /** Stop before the first event later than this virtual time; `now()` is then `until`. */
  until?: number
  /** Stop after this many events (a guard against runaway simulations). */
  maxEvents?: number
}

/**
 * Virtual time: a binary min-heap of events ordered by (time, insertion sequence), so events at the
 * same instant run in the order they were scheduled — the deterministic tie-break. Cancelled timers
 * are dropped lazily and the heap is compacted when they make up more than half of it.
 */
export class SimScheduler implements Scheduler {
  private readonly heap: SimEvent[] = []
  private t = 0
  private seq = 0
  private stopped = false
  /** @internal count of cancelled events still in the heap */
  _cancelled = 0
  /** Events executed so far (cancelled ones not counted). */
  eventsRun = 0

  now(): number {
    return this.t
  }

  at(delayMs: number, fn: () => void): Timer {
    checkDelay(delayMs)
    const ev = new SimEvent(this.t + delayMs, this.seq++, fn, this)
    this.push(ev)
    return ev
  }

  /** Events waiting (including cancelled ones not yet removed). */
  get pending(): number {
    return this.heap.length - this._cancelled
  }

  /** Ask a running `run()` to return after the current event. */
  stop(): void {
    this.stopped = true
  }

  /** Run the next live event; false when there is none. */
  step(): boolean {
    for (;;) {
      const ev = this.pop()
      if (ev === undefined) return false
      const fn = ev.fn
      if (fn === null) {
        this._cancelled--
        continue
      }
      ev.fn = null
      this.t = ev.t
      this.eventsRun++
      fn()
      return true
    }
  }

  /** Run events in time order until the queue is empty, `until` is passed, `maxEvents` or `stop()`. */
  run(opts: RunOptions = {}): void {
    const until = opts.until ?? Infinity
    const max = opts.maxEvents ?? Infinity
    if (until < this.t) throw new RangeError(`run until ${until} is before now (${this.t})`)
    this.stopped = false
    let n = 0
    const heap = this.heap
    while (!this.stopped && n < max && heap.length > 0) {
      const top = heap[0]
      if (top.fn === null) {
        this.pop()
        this._cancelled--
        continue
      }
      if (top.t > until) break
      this.step()
      n++
    }
    if (until !== Infinity && !this.stopped && n < max) this.t = until
  }

  private push(ev: SimEvent): void {
    if (this._cancelled > 1024 && this._cancelled * 2 > this.heap.length) this.compact()
    const heap = this.heap
    let i = heap.length
    heap.push(ev)
    while (i > 0) {
      const p = (i - 1) >> 1
      const pe = heap[p]
      if (pe.t < ev.t || (pe.t === ev.t && pe.seq < ev.seq)) break
      heap[i] = pe
      i = p
    }
    heap[i] = ev
  }

  private pop(): SimEvent | undefined {
    const heap = this.heap
    const n = heap.length
    if (n === 0) return undefined
    const top = heap[0]
    const last = heap.pop()!
    if (n > 1) this.siftDown(0, last)
    return top
  }

  private siftDown(start: number, ev: SimEvent): void {
    const heap = this.heap
    const n = heap.length
    let i = start
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      let ce = heap[c]
      const r = c + 1
      if (r < n) {
        const re = heap[r]
        if (re.t < ce.t || (re.t === ce.t && re.seq < ce.seq)) {
          c = r
          ce = re
        }
      }
      if (ev.t < ce.t || (ev.t === ce.t && ev.seq < ce.seq)) break
      heap[i] = ce
      i = c
    }
    heap[i] = ev
  }

  /** Drop cancelled events in place (callers may hold a reference to the array) and re-heapify. */
  private compact(): void {
    const heap = this.heap
    let w = 0
    for (let r = 0; r < heap.length; r++) if (heap[r].fn !== null) heap[w++] = heap[r]
    heap.length = w
    this._cancelled = 0
    for (let i = (w >> 1) - 1; i >= 0; i--) this.siftDown(i, heap[i])
  }
}

/** Real time: a monotonic clock (performance.now) and Node timers. */
export class RealScheduler implements Scheduler {
  private readonly origin = performance.now()
  constructor(private readonly opts: { unref?: boolean } = {}) {}

  now(): number {
    return performance.now() - this.origin
  }

  at(delayMs: number, fn: () => void): Timer {
    checkDelay(delayMs)
    const handle = setTimeout(fn, delayMs)
    if (this.opts.unref) handle.unref()
    return { cancel: () => clearTimeout(handle) }
  }
}
