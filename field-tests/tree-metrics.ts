/**
 * Multicast tree metrics at the end of a run, from protocols that expose their trees
 * (adhoc/routing.ts TreeInfo, e.g. MAODV): per group, the nodes on the tree, the members, the
 * nodes that consider themselves leader (more than one means a partition), and activated links.
 */
import type { Addr } from '../core/addr.ts'
import { formatAddr } from '../core/addr.ts'
import type { TreeInfo } from '../adhoc/routing.ts'

export interface GroupTreeStats {
  group: string
  /** Nodes with at least one activated tree link, or members. */
  treeSize: number
  members: number
  leaders: Addr[]
  /** Undirected activated links (a link counts once even when both ends list it). */
  activatedLinks: number
}

interface HasTrees {
  trees(): TreeInfo[]
}

function hasTrees(p: unknown): p is HasTrees {
  return typeof (p as { trees?: unknown }).trees === 'function'
}

export function treeStats(protocols: ReadonlyMap<Addr, unknown>): GroupTreeStats[] | undefined {
  const byGroup = new Map<Addr, { nodes: Set<Addr>; members: number; leaders: Set<Addr>; links: Set<string> }>()
  let any = false
  for (const [node, p] of protocols) {
    if (!hasTrees(p)) continue
    any = true
    for (const t of p.trees()) {
      let g = byGroup.get(t.group)
      if (!g) byGroup.set(t.group, (g = { nodes: new Set(), members: 0, leaders: new Set(), links: new Set() }))
      const activated = t.links.filter((l) => l.activated)
      if (t.member || activated.length > 0) g.nodes.add(node)
      if (t.member) g.members++
      if (t.leader === node) g.leaders.add(node)
      for (const l of activated) g.links.add(node < l.neighbour ? `${node}-${l.neighbour}` : `${l.neighbour}-${node}`)
    }
  }
  if (!any) return undefined
  return [...byGroup]
    .sort(([a], [b]) => a - b)
    .map(([group, g]) => ({
      group: formatAddr(group),
      treeSize: g.nodes.size,
      members: g.members,
      leaders: [...g.leaders].sort((a, b) => a - b),
      activatedLinks: g.links.size,
    }))
}
