/**
 * A paced serial line carries its line rate (issue 8): the firmware emulator writes COBS frames
 * to a real pty pair (socat) paced at 115,200 baud (10 bit times per byte, as a UART with 8N1
 * sends them); the host side reads them through a SerialLink and COBS framer. Reports the bytes/s
 * and frames/s that arrive against the line rate (11,520 bytes/s). Needs socat. Real time: about
 * 4 s. Run alone: `node --import tsx bench/serial-line.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventEmitter } from 'eventemitter3'
import { RealScheduler } from '../core/scheduler.ts'
import { cobsFraming } from '../hardware/serial-framing.ts'
import { SerialLink } from '../hardware/serial-link.ts'
import { SocatPair } from '../hardware/socat.ts'
import type { Radio } from '../hardware/radio.ts'
import { RadioEmulator } from '../runtime/emulator.ts'

const BAUD = 115_200
const SECONDS = 3
const FRAME = 200

export async function serialLineBenchSection(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'spinmesh-line-'))
  const pair = new SocatPair(join(dir, 'host'), join(dir, 'module'))
  const scheduler = new RealScheduler({ unref: true })
  await pair.start()
  // The "air" side: a radio that hears a frame whenever the emulator's backlog has room.
  const air = new EventEmitter() as unknown as Radio & EventEmitter
  Object.assign(air, { mtu: 255, bitrate: 1e6, state: 'up', send: () => {}, close: async () => {}, airtimeMs: () => 0 })
  const emulator = new RadioEmulator({ serial: new SerialLink({ match: { path: pair.b }, baudRate: BAUD, scheduler }), framing: cobsFraming(255), air, scheduler, baudRate: BAUD, maxBacklogBytes: 4096 })
  const host = new SerialLink({ match: { path: pair.a }, baudRate: BAUD, scheduler })
  const decoder = cobsFraming(255).decoder()
  let bytes = 0, frames = 0, started = 0
  host.on('data', (chunk) => {
    if (started === 0) started = performance.now()
    bytes += chunk.length
    frames += decoder.push(chunk).filter((e) => e.kind === 'frame').length
  })
  host.start()
  await new Promise<void>((r) => host.once('state', () => r()))
  await new Promise((r) => setTimeout(r, 200))
  const payload = new Uint8Array(FRAME).fill(7)
  const feed = setInterval(() => { for (let i = 0; i < 4; i++) air.emit('frame', { bytes: payload, at: 0 }) }, 5)
  await new Promise((r) => setTimeout(r, SECONDS * 1000))
  clearInterval(feed)
  const seconds = (performance.now() - started) / 1000
  await host.close()
  await emulator.close()
  await pair.kill()
  rmSync(dir, { recursive: true, force: true })
  const lineRate = BAUD / 10
  const rate = bytes / seconds
  return `## A paced serial line (bench/serial-line.ts)

The firmware emulator writes ${FRAME}-byte frames (COBS + CRC-32: ${FRAME + 6} bytes on the line) to a
socat pty pair paced at ${BAUD.toLocaleString('en-US')} baud (8N1: ${lineRate.toLocaleString('en-US')} bytes/s); the host
reads them through a SerialLink and the COBS framer for ${seconds.toFixed(1)} s.

| line rate, bytes/s | carried, bytes/s | share of the line | frames/s decoded | framing overhead |
|---|---|---|---|---|
| ${lineRate.toLocaleString('en-US')} | ${Math.round(rate).toLocaleString('en-US')} | ${((100 * rate) / lineRate).toFixed(1)} % | ${(frames / seconds).toFixed(1)} | ${((100 * 6) / FRAME).toFixed(1)} % |
`
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(await serialLineBenchSection())
