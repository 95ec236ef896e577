/**
 * The two decisions of an anonymous walk (PROTOCOLS.md §3), kept apart from any I/O so tests can
 * drive them directly:
 *
 * - where a walk goes next: one tree link, never the one it came in on, chosen with weight
 *   nearestMember^−localityExponent; a branch with no member known behind it is not entered (the
 *   walk would die at its end) unless no link knows of any member;
 * - whether a member ends it here: always when it cannot go on (no link leads on to a known
 *   member, or no hops left), else with acceptProbability.
 */
import type { Addr } from '../../core/addr.ts'
import type { Rng } from '../../core/rng.ts'
import type { TreeLink } from '../../adhoc/routing.ts'

export interface WalkChoice {
  localityExponent: number
}

/** The link weight for a walk: nearer members weigh more; a link with no known member that way weighs 0. */
export function linkWeight(nearestMember: number, c: WalkChoice): number {
  return nearestMember >= 255 ? 0 : Math.max(1, nearestMember) ** -c.localityExponent
}

/**
 * The next hop of a walk among `links`, excluding `cameFrom` (0: the walk starts here); undefined
 * when there is none. Links with a member somewhere behind them are chosen by weight; only when no
 * link knows of one (hellos not heard yet) is the choice uniform among them all.
 */
export function nextHop(links: readonly TreeLink[], cameFrom: Addr, rng: Rng, c: WalkChoice): Addr | undefined {
  let total = 0
  let n = 0
  for (const l of links) {
    if (l.neighbour === cameFrom) continue
    total += linkWeight(l.nearestMember, c)
    n++
  }
  if (n === 0) return undefined
  const weight = total > 0 ? (l: TreeLink) => linkWeight(l.nearestMember, c) : () => 1
  let x = rng.float() * (total > 0 ? total : n)
  let last: Addr | undefined
  for (const l of links) {
    if (l.neighbour === cameFrom) continue
    const w = weight(l)
    if (w === 0) continue
    last = l.neighbour
    x -= w
    if (x < 0) return l.neighbour
  }
  return last
}

/**
 * Whether a member that received a walk accepts it. `onward` = tree links it could usefully pass
 * the walk on to (a member known behind them); `ttl` = hops the walk may still make.
 */
export function accepts(onward: number, ttl: number, acceptProbability: number, rng: Rng): boolean {
  if (onward === 0 || ttl <= 1) return true
  return rng.float() < acceptProbability
}
