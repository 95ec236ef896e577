/**
 * Serial ports on this machine (`spinmesh ports`), found without udevadm: node-serialport's own
 * listing shells out to udevadm, which minimal images (containers, some Pi distributions) lack. We
 * read sysfs instead: every /sys/class/tty entry with a `device` (a real UART or USB serial
 * adapter, not a virtual console) is a port; its USB identity (vendor and product ids, serial
 * number, manufacturer, product) comes from the nearest USB device above it; /dev/serial/by-id
 * gives the stable name udev made for it, when there is one.
 *
 * Roots are parameters so tests can build a fake sysfs.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

export interface PortInfo {
  /** Device path, e.g. /dev/ttyUSB0. */
  path: string
  /** Stable udev name under /dev/serial/by-id, when present. */
  byId?: string
  /** USB ids in lower-case hex (4 digits), serial number and strings, for USB adapters. */
  vendorId?: string
  productId?: string
  serialNumber?: string
  manufacturer?: string
  product?: string
  /** The kernel driver (e.g. ftdi_sio, cp210x, ch341-uart, cdc_acm, serial8250, pl011). */
  driver?: string
}

export interface PortRoots {
  sysClassTty: string
  dev: string
  byId: string
}

const DEFAULT_ROOTS: PortRoots = { sysClassTty: '/sys/class/tty', dev: '/dev', byId: '/dev/serial/by-id' }

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

/** The nearest directory at or above `dir` that has an idVendor file (the USB device). */
function usbDevice(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 8 && d !== dirname(d); d = dirname(d), i++) {
    if (existsSync(join(d, 'idVendor'))) return d
  }
  return undefined
}

/** Serial ports, sorted by path. Never throws: a missing or unreadable sysfs gives []. */
export function listSerialPorts(roots: Partial<PortRoots> = {}): PortInfo[] {
  const r = { ...DEFAULT_ROOTS, ...roots }
  let names: string[]
  try {
    names = readdirSync(r.sysClassTty)
  } catch {
    return []
  }
  const byId = new Map<string, string>()
  try {
    for (const link of readdirSync(r.byId)) {
      try {
        byId.set(basename(resolve(r.byId, readlinkSync(join(r.byId, link)))), join(r.byId, link))
      } catch {
        // a dangling link: ignore
      }
    }
  } catch {
    // no /dev/serial/by-id (no USB serial adapters, or no udev)
  }
  const out: PortInfo[] = []
  for (const name of names) {
    const devLink = join(r.sysClassTty, name, 'device')
    let device: string
    try {
      device = realpathSync(devLink)
    } catch {
      continue // virtual terminals and ptys have no device
    }
    let driver: string | undefined
    try {
      driver = basename(realpathSync(join(devLink, 'driver')))
    } catch {
      driver = undefined
    }
    // The 8250 driver registers placeholder ports with no hardware behind them (port type 0).
    if (driver === 'serial8250' && readText(join(r.sysClassTty, name, 'type')) === '0') continue
    const info: PortInfo = { path: join(r.dev, name) }
    if (byId.has(name)) info.byId = byId.get(name)
    if (driver) info.driver = driver
    const usb = usbDevice(device)
    if (usb !== undefined) {
      info.vendorId = readText(join(usb, 'idVendor'))?.toLowerCase()
      info.productId = readText(join(usb, 'idProduct'))?.toLowerCase()
      const serial = readText(join(usb, 'serial')), manufacturer = readText(join(usb, 'manufacturer')), product = readText(join(usb, 'product'))
      if (serial) info.serialNumber = serial
      if (manufacturer) info.manufacturer = manufacturer
      if (product) info.product = product
    }
    out.push(info)
  }
  return out.sort((a, b) => a.path.localeCompare(b.path))
}

/** What identifies the device a node's radio is on: the identity fields given must all match; `path` is the fallback. */
export interface PortMatch {
  path?: string
  serialNumber?: string
  vendorId?: string
  productId?: string
}

/**
 * The port to open for `match`: by serial number / vendor and product id among `ports` (the
 * device may come back under another /dev name after an unplug), else `match.path` if it exists.
 */
export function findPort(match: PortMatch, ports: readonly PortInfo[], exists: (path: string) => boolean = existsSync): string | undefined {
  const byIdentity = match.serialNumber !== undefined || match.vendorId !== undefined || match.productId !== undefined
  if (byIdentity) {
    const hit = ports.find((p) =>
      (match.serialNumber === undefined || p.serialNumber === match.serialNumber) &&
      (match.vendorId === undefined || p.vendorId === match.vendorId.toLowerCase()) &&
      (match.productId === undefined || p.productId === match.productId.toLowerCase()))
    if (hit) return hit.path
    if (match.path === undefined) return undefined
    // The configured path now holds another device (a different serial number or ids): not ours.
    const there = ports.find((p) => p.path === match.path || p.byId === match.path)
    if (there !== undefined && (there.serialNumber !== undefined || there.vendorId !== undefined)) return undefined
  }
  return match.path !== undefined && exists(match.path) ? match.path : undefined
}
