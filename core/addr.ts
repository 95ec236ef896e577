/**
 * Addresses. A node address is a 32-bit unsigned number (4 bytes on the wire), derived from the
 * node's public key once crypto identities exist; in the simulator nodes are numbered 1..n.
 *
 * The 32-bit space is split so that a receiver can tell what an address names from the address
 * alone:
 *   0x00000000               reserved (never a node)
 *   0x00000001 - 0x7FFFFFFF  nodes
 *   0x80000000 - 0xFFFFFFFE  multicast groups
 *   0xFFFFFFFF               broadcast (every node in radio range, or every node for a flood)
 */

export type Addr = number

export const BROADCAST: Addr = 0xffffffff
export const GROUP_BASE: Addr = 0x80000000

export function isNodeAddr(a: Addr): boolean {
  return Number.isInteger(a) && a >= 1 && a <= 0x7fffffff
}

export function isGroupAddr(a: Addr): boolean {
  return Number.isInteger(a) && a >= GROUP_BASE && a < BROADCAST
}

/** The group address of group number `n` (0-based). */
export function groupAddr(n: number): Addr {
  if (!Number.isInteger(n) || n < 0 || n >= BROADCAST - GROUP_BASE) {
    throw new RangeError(`group number must be an integer in [0, ${BROADCAST - GROUP_BASE}), got ${n}`)
  }
  return GROUP_BASE + n
}

export function formatAddr(a: Addr): string {
  if (a === BROADCAST) return 'broadcast'
  if (isGroupAddr(a)) return `group:${a - GROUP_BASE}`
  return String(a)
}

/** A node address as 8 lowercase hex digits (what keygen prints). */
export function formatNodeAddress(a: Addr): string {
  return a.toString(16).padStart(8, '0')
}

/** `0x…` hex, exactly 8 hex digits (as printed), or decimal; must be a node address (RangeError otherwise). */
export function parseNodeAddress(s: string): Addr {
  let a: number
  if (/^0x[0-9a-f]{1,8}$/i.test(s)) a = parseInt(s.slice(2), 16)
  else if (/^[0-9a-f]{8}$/i.test(s)) a = parseInt(s, 16)
  else if (/^[0-9]{1,10}$/.test(s)) a = Number(s)
  else throw new RangeError(`"${s}" is not an address (8 hex digits as printed by keygen, 0x-prefixed hex, or decimal)`)
  if (!isNodeAddr(a)) throw new RangeError(`${s} is not a node address (1..0x7fffffff)`)
  return a
}
