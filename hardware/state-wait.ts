/**
 * Test support for real I/O: wait for a condition, re-checked whenever one of the listed emitters
 * fires, failing after a deadline (never sleep-and-check); and the common cases built on it.
 */
import type { Radio, RadioState } from './radio.ts'

interface Listenable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(ev: any, fn: (...args: any[]) => void): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(ev: any, fn: (...args: any[]) => void): unknown
}

/** Resolve when `check()` holds, re-checked on each listed event; reject after `ms` naming `what`. */
export function until(check: () => boolean, on: ReadonlyArray<readonly [Listenable, string]>, what: string, ms = 2000): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      for (const [e, ev] of on) e.off(ev, poke)
    }
    const poke = (): void => {
      if (check()) {
        done()
        resolve()
      }
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
    }, ms)
    for (const [e, ev] of on) e.on(ev, poke)
  })
}

/** Resolves once `x` (a radio or a serial link) is in `state`; rejects after `ms`. */
export function untilState(x: Listenable & { readonly state: RadioState }, state: RadioState, ms = 5000): Promise<void> {
  return until(() => x.state === state, [[x, 'state']], `state ${state} (is ${x.state})`, ms)
}

/**
 * A Radio contract `settle()` for real I/O: resolves when `a` has nothing waiting (`waiting()`)
 * and `b` heard as many frames as `a` reported sent.
 */
export function settler(a: Radio, b: Radio, waiting: () => number): () => Promise<void> {
  let sent = 0
  let heard = 0
  a.on('sent', () => sent++)
  b.on('frame', () => heard++)
  return () => until(() => waiting() === 0 && heard >= sent, [[a, 'sent'], [a, 'dropped'], [b, 'frame']], `a idle and b hearing a's frames`)
}
