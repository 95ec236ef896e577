import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatPorts, portsCommand } from './ports.ts'

const io = () => {
  const out: string[] = []
  return { out, io: { out: (s: string) => void out.push(s), err: () => {}, tty: false } }
}

const PORTS = [
  { path: '/dev/ttyACM0', vendorId: '239a', productId: '8029', serialNumber: 'RNODE42', manufacturer: 'unsigned.io', product: 'RNode', driver: 'cdc_acm' },
  { path: '/dev/ttyS0', driver: 'serial8250' },
  { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'A10K7XYZ', product: 'FT232R USB UART', driver: 'ftdi_sio', byId: '/dev/serial/by-id/usb-FTDI-A10K7XYZ' },
]

test('ports: a table with USB ids, serial numbers and stable names; --json the same data', async () => {
  const a = io()
  assert.is(await portsCommand([], a.io, () => PORTS), 0)
  const text = a.out.join('')
  assert.match(text, /\/dev\/ttyUSB0\s+0403:6001\s+A10K7XYZ\s+FT232R USB UART\s+ftdi_sio/)
  assert.match(text, /\/dev\/ttyS0\s+-\s+-\s+-\s+serial8250/)
  assert.match(text, /stable names:\n {2}\/dev\/ttyUSB0 = \/dev\/serial\/by-id\/usb-FTDI-A10K7XYZ/)
  const b = io()
  await portsCommand(['--json'], b.io, () => PORTS)
  assert.equal(JSON.parse(b.out.join('')), PORTS)
  assert.match(formatPorts([]), /no serial ports found/)
  await portsCommand([], b.io) // the real machine: never throws, whatever it has
})

test('ports: stray arguments are a usage error', async () => {
  await portsCommand(['/dev/ttyUSB0'], io().io).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /no arguments/))
})

test.run()
