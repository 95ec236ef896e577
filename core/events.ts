/**
 * Typed events. `Emitter<{ frame: (f: Frame) => void }>` gives checked `on`/`emit` signatures.
 * eventemitter3 is used because it is much faster than node:events on hot paths and runs in every
 * JS runtime.
 */
import { EventEmitter } from 'eventemitter3'

export { EventEmitter as Emitter }
export type { EventEmitter } from 'eventemitter3'
