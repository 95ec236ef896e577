/**
 * Test support: an air radio that reports every frame sent at once, as a HubRadio does (the hub,
 * not the radio, applies the airtime). A transmitter on it without pacing of its own would be
 * infinitely fast: the bridge emulator's pacing tests run on it.
 */
import { Emitter } from '../core/events.ts'
import type { Scheduler } from '../core/scheduler.ts'
import { airtimeMs } from './airtime.ts'
import { checkFrame } from './check-frame.ts'
import type { Radio, RadioEvents, RadioState } from './radio.ts'

export class InstantAir extends Emitter<RadioEvents> implements Radio {
  readonly mtu = 200
  state: RadioState = 'up'
  constructor(private readonly s: Scheduler, readonly bitrate = 1000) {
    super()
  }
  airtimeMs(bytes: number): number {
    return airtimeMs(bytes, this.bitrate)
  }
  send(frame: Uint8Array): void {
    checkFrame(frame, this.mtu, this.state === 'down')
    const bytes = frame.slice()
    this.s.at(0, () => this.emit('sent', { bytes, at: this.s.now(), airtimeMs: this.airtimeMs(bytes.length) }))
  }
  async close(): Promise<void> {
    this.state = 'down'
  }
}
