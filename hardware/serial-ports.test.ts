/** Serial port listing from a fake sysfs (no udevadm needed), and finding a device again. */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findPort, listSerialPorts } from './serial-ports.ts'

function fakeSys() {
  const root = mkdtempSync(join(tmpdir(), 'spinmesh-sys-'))
  const tty = join(root, 'sys/class/tty'), devices = join(root, 'sys/devices'), byId = join(root, 'dev/serial/by-id')
  for (const d of [tty, byId, join(devices, 'usb1/1-1/1-1:1.0/ttyUSB0'), join(devices, 'usb1/1-2/1-2:1.0/tty/ttyACM0'), join(devices, 'platform/serial8250/tty/ttyS1'), join(root, 'drivers/ftdi_sio'), join(root, 'drivers/serial8250')]) mkdirSync(d, { recursive: true })
  const usb = (dir: string, vid: string, pid: string, serial: string, product: string) => {
    writeFileSync(join(dir, 'idVendor'), vid + '\n')
    writeFileSync(join(dir, 'idProduct'), pid + '\n')
    writeFileSync(join(dir, 'serial'), serial + '\n')
    writeFileSync(join(dir, 'manufacturer'), 'Maker\n')
    writeFileSync(join(dir, 'product'), product + '\n')
  }
  usb(join(devices, 'usb1/1-1'), '0403', '6001', 'A10K7XYZ', 'FT232R USB UART')
  usb(join(devices, 'usb1/1-2'), '239A', '8029', 'RNODE42', 'RNode')
  const port = (name: string, device: string, driver?: string, type?: string) => {
    mkdirSync(join(tty, name))
    symlinkSync(device, join(tty, name, 'device'))
    if (driver) symlinkSync(join(root, 'drivers', driver), join(device, 'driver'))
    if (type !== undefined) writeFileSync(join(tty, name, 'type'), type + '\n')
  }
  port('ttyUSB0', join(devices, 'usb1/1-1/1-1:1.0/ttyUSB0'), 'ftdi_sio')
  port('ttyACM0', join(devices, 'usb1/1-2/1-2:1.0/tty/ttyACM0'))
  port('ttyS1', join(devices, 'platform/serial8250/tty/ttyS1'), 'serial8250', '0') // a placeholder 8250 port
  mkdirSync(join(tty, 'tty0')) // a virtual console: no device
  symlinkSync('../../ttyUSB0', join(byId, 'usb-FTDI_FT232R_USB_UART_A10K7XYZ-if00-port0'))
  return { root, roots: { sysClassTty: tty, dev: join(root, 'dev'), byId } }
}

test('ports from sysfs: USB identity, by-id name and driver; consoles and empty 8250 slots left out', () => {
  const { root, roots } = fakeSys()
  try {
    const ports = listSerialPorts(roots)
    assert.equal(ports.map((p) => p.path.replace(root, '')), ['/dev/ttyACM0', '/dev/ttyUSB0'])
    const [acm, usb] = ports
    assert.equal({ ...usb, path: undefined, byId: usb.byId?.replace(root, '') }, {
      path: undefined, byId: '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K7XYZ-if00-port0', driver: 'ftdi_sio',
      vendorId: '0403', productId: '6001', serialNumber: 'A10K7XYZ', manufacturer: 'Maker', product: 'FT232R USB UART',
    })
    assert.is(acm.vendorId, '239a', 'ids are lower-case')
    assert.is(acm.serialNumber, 'RNODE42')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('no sysfs: an empty list, never a throw', () => {
  assert.equal(listSerialPorts({ sysClassTty: '/nonexistent/sys/class/tty' }), [])
})

test('findPort: by serial number wherever the device came back, else by path if it exists', () => {
  const ports = [{ path: '/dev/ttyUSB1', serialNumber: 'A10K7XYZ', vendorId: '0403', productId: '6001' }, { path: '/dev/ttyACM0', serialNumber: 'RNODE42', vendorId: '239a' }]
  assert.is(findPort({ serialNumber: 'A10K7XYZ', path: '/dev/ttyUSB0' }, ports, () => true), '/dev/ttyUSB1', 'renumbered after an unplug')
  assert.is(findPort({ vendorId: '239A' }, ports), '/dev/ttyACM0')
  assert.is(findPort({ serialNumber: 'GONE' }, ports), undefined, 'the device is not plugged in')
  assert.is(findPort({ serialNumber: 'GONE', path: '/dev/ttyUSB9' }, ports, (p) => p === '/dev/ttyUSB9'), '/dev/ttyUSB9', 'fall back to the configured path')
  assert.is(findPort({ serialNumber: 'GONE', path: '/dev/ttyUSB1' }, ports, () => true), undefined, 'the path now holds another adapter: not opened')
  assert.is(findPort({ path: '/dev/pts/7' }, [], (p) => p === '/dev/pts/7'), '/dev/pts/7', 'a pty is found by path')
  assert.is(findPort({ path: '/dev/pts/8' }, [], () => false), undefined)
})

test.run()
