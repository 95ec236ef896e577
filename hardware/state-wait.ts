/**
 * Test support for real I/O: wait until a radio or serial link reaches a state (its `state`
 * events), failing after a deadline instead of sleeping and checking.
 */
import type { RadioState } from './radio.ts'

interface HasState {
  readonly state: RadioState
  on(event: 'state', fn: (c: { state: RadioState; reason: string }) => void): unknown
  off(event: 'state', fn: (c: { state: RadioState; reason: string }) => void): unknown
}

/** Resolves with the reason once `x` is in `state` ('already' if it is); rejects after `ms`. */
export function untilState(x: HasState, state: RadioState, ms = 5000): Promise<string> {
  if (x.state === state) return Promise.resolve('already')
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      x.off('state', on)
      reject(new Error(`not ${state} within ${ms} ms (is ${x.state})`))
    }, ms)
    const on = (c: { state: RadioState; reason: string }) => {
      if (c.state !== state) return
      clearTimeout(t)
      x.off('state', on)
      resolve(c.reason)
    }
    x.on('state', on)
  })
}
