/**
 * Shared vocabulary of ODSBR (PROTOCOLS.md §4; seed 003 §4, figures 2 and 4): paths, links and the
 * outcome of a data packet as the source sees it. Faults are pinned to links, never to nodes.
 */
import type { Addr } from '../../core/addr.ts'

/** A route: source first, destination last, every hop between (at least 2 entries, no repeats). */
export type Path = readonly Addr[]

/** An undirected link key, `"min-max"` (exact for any u32 addresses; a Map/Set key). */
export type LinkKey = string

export function linkKey(a: Addr, b: Addr): LinkKey {
  return a < b ? `${a}-${b}` : `${b}-${a}`
}

export function linkEnds(k: LinkKey): [Addr, Addr] {
  const i = k.indexOf('-')
  return [Number(k.slice(0, i)), Number(k.slice(i + 1))]
}

/** The links of a path, in order: link i joins path[i] and path[i + 1]. */
export function pathLinks(path: Path): LinkKey[] {
  const out: LinkKey[] = []
  for (let i = 0; i + 1 < path.length; i++) out.push(linkKey(path[i], path[i + 1]))
  return out
}

/**
 * What the source learnt about one data packet (figure 4): `acked` up to the destination, or
 * lost on the interval that ends at path index `lostBefore` (the first probe, or the destination,
 * whose valid ack did not come back; the interval starts at the previous probe, or the source).
 */
export type PacketOutcome = { kind: 'acked' } | { kind: 'lost'; lostBefore: number }

/** Whether two paths are the same nodes in the same order. */
export function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
