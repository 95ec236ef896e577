/**
 * The framings a SerialRadio speaks (firmware-bridge/ framers behind the SerialFraming shape):
 * COBS + CRC-32 for transparent UART radio modules, KISS data frames for TNCs and RNodes (other
 * KISS commands, such as an RNode's configuration replies, are not radio frames: they are left to
 * the driver that configures the modem, and are not delivered as frames here).
 */
import { CobsFramer } from '../firmware-bridge/cobs-framer.ts'
import { KissFramer } from '../firmware-bridge/kiss-framer.ts'
import type { SerialFraming } from './serial-radio.ts'

/** KISS command nibble of a data frame. */
const KISS_DATA = 0

export function cobsFraming(maxFrame: number): SerialFraming {
  const encoder = new CobsFramer({ maxFrame })
  return { encode: (p) => encoder.encode(p), decoder: () => new CobsFramer({ maxFrame }) }
}

export function kissFraming(maxFrame: number, port = 0): SerialFraming {
  const encoder = new KissFramer({ maxFrame, port })
  return {
    encode: (p) => encoder.encode(p),
    decoder() {
      const f = new KissFramer({ maxFrame, port })
      return { push: (chunk) => f.push(chunk).filter((e) => e.kind === 'error' || (e.command === KISS_DATA && e.port === port)) }
    },
  }
}
