/**
 * `spinmesh ports [--json]`: the serial ports of this machine with their USB identity (what a
 * node config's `radio.device` can name: a path, or a serial number / vendor id that survives
 * renumbering), read from sysfs so it works where udevadm is missing (hardware/serial-ports.ts).
 */
import { listSerialPorts, type PortInfo } from '../hardware/serial-ports.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

export function formatPorts(ports: readonly PortInfo[]): string {
  if (ports.length === 0) return 'no serial ports found (USB serial adapters appear as /dev/ttyUSB* or /dev/ttyACM*)\n'
  const rows = ports.map((p) => [
    p.path,
    p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : '-',
    p.serialNumber ?? '-',
    [p.manufacturer, p.product].filter(Boolean).join(' ') || '-',
    p.driver ?? '-',
  ])
  const head = ['path', 'usb id', 'serial number', 'device', 'driver']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n'
  const byId = ports.filter((p) => p.byId).map((p) => `  ${p.path} = ${p.byId}\n`).join('')
  return line(head) + rows.map(line).join('') + (byId ? `stable names:\n${byId}` : '')
}

export async function portsCommand(argv: string[], io: Io, list: () => PortInfo[] = listSerialPorts): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  if (positionals.length > 0) throw new UsageError(`ports takes no arguments, got ${positionals.join(' ')}`)
  const ports = list()
  io.out(values.json ? JSON.stringify(ports, null, 2) + '\n' : formatPorts(ports))
  return 0
}
