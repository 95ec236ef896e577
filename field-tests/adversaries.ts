/**
 * Adversary selection and behaviours for scenarios (`adversaries: [{model, fraction | nodes, ...}]`).
 * Traffic endpoints (senders and receivers) are trusted and never chosen (PROTOCOLS.md §4: only
 * source and destination are trusted). The behaviour is given to the node's protocol
 * (protocols.ts), which consults `forwardFilter` where it relays data; the runner builds the tunnels.
 *
 * Models (PROTOCOLS.md §4, last paragraph):
 * - `blackhole`: forwards control, drops every data packet it should relay.
 * - `greyhole`: drops each relayed data packet with `dropProbability`.
 * - `flood-rushing`: rebroadcasts route-discovery floods with no jitter (`floodJitterMs: 0`, a
 *   per-node override of the protocol config: AODV, ODSBR, and the AODV under maodv+ag; protocols
 *   without that field are unaffected), so its copies arrive first and it ends up on paths; then
 *   drops the data (`dropData`, default true).
 * - `wormhole`: pairs of colluders (`nodes: [a, b, c, d]` = pairs a–b and c–d; `fraction` chooses
 *   2·round(fraction·n / 2) nodes and pairs them at random) joined by a private tunnel
 *   (SimMedium.addTunnel): each hears everything the other transmits, whatever the distance. To
 *   routing they look like neighbours (in an authenticated network they exchange link keys through
 *   the tunnel: they are admitted insiders), so they attract routes; then they drop the data
 *   (`dropData`, default true; false: a wormhole that relays, for comparisons).
 * - `overlay-wormhole`: several colluders (`nodes`, or round(fraction·n), at least 2), each
 *   tunnelled to each; otherwise as `wormhole`.
 * - `modification`: relays every data packet with the last byte of its payload flipped (the
 *   forward candidate's `payload` is a view into the bytes the protocol forwards; the last byte,
 *   so the application header at the front, flow and sequence number, stays readable). An
 *   authenticated network's destination refuses the packet (AODV: dataDroppedBadAuth); an open one
 *   delivers the altered bytes.
 * - `forged-replies`: AODV (and the AODV under maodv+ag) answers every RREQ it is not the
 *   destination of with a RREP claiming the destination one hop away with a sequence number
 *   SEQ_LEAP newer than any it knows (the classic black-hole attack, adhoc/aodv/control.ts
 *   `ReplyForger`), then drops the data (`dropData`). In an authenticated network it can only sign
 *   as itself, so receivers refuse the reply (rrepBadSignature). Other protocols get only the
 *   dropping part (ODSBR's RESPONSEs need every hop's signature; flood and MAODV have no replies
 *   to forge).
 */
import type { Addr } from '../core/addr.ts'
import { seqDiff32 } from '../core/bytes.ts'
import { ConfigError } from '../core/errors.ts'
import type { SeededRng } from '../core/rng.ts'
import type { ReplyForger } from '../adhoc/aodv/control.ts'
import type { AdversarySpec } from './scenario.ts'

export interface ForwardCandidate {
  origin: Addr
  dst: Addr
  seq: number
  hops: number
  payload: Uint8Array
}

export interface AdversaryBehaviour {
  model: AdversarySpec['model']
  /**
   * false: the node silently does not relay this data packet. May alter `p.payload` in place (it
   * views the bytes about to be forwarded) before returning true.
   */
  forwardFilter(p: ForwardCandidate): boolean
  /**
   * Protocol config fields this node runs with instead of the scenario's; applied only where the
   * protocol's config (or one of its sections) has the field (protocols.ts).
   */
  configOverrides?: Readonly<Record<string, unknown>>
  /** The nodes this one is joined to by a private tunnel (wormholes); the runner builds the tunnels. */
  tunnelPeers?: readonly Addr[]
  /** AODV: answer RREQs with forged RREPs (adhoc/aodv/control.ts). */
  forgeReply?: ReplyForger
}

/** How much newer than anything it knows a forged RREP's destination sequence number is. */
export const SEQ_LEAP = 1000

/** Models whose data dropping `dropData` switches. */
const DROPPING = ['flood-rushing', 'wormhole', 'overlay-wormhole', 'forged-replies'] as const
const TUNNELLED = ['wormhole', 'overlay-wormhole'] as const

const isIn = (list: readonly string[], model: string): boolean => list.includes(model)

/** The last byte of the payload flipped, in place. */
function flipLastByte(p: ForwardCandidate): boolean {
  const n = p.payload.length
  if (n > 0) p.payload[n - 1] ^= 0xff
  return true
}

const forgeReply: ReplyForger = (q, knownSeq) => {
  let newest = q.u ? 0 : q.dstSeq
  if (knownSeq !== undefined && seqDiff32(knownSeq, newest) > 0) newest = knownSeq
  return { hops: 1, dstSeq: (newest + SEQ_LEAP) >>> 0 }
}

function behaviour(spec: AdversarySpec, rng: SeededRng, tunnelPeers: readonly Addr[] | undefined): AdversaryBehaviour {
  const model = spec.model
  const drop = spec.dropData ?? true
  const dropOrRelay = drop ? () => false : () => true
  switch (model) {
    case 'blackhole':
      return { model, forwardFilter: () => false }
    case 'greyhole':
      return { model, forwardFilter: () => !rng.chance(spec.dropProbability) }
    case 'flood-rushing':
      return { model, forwardFilter: dropOrRelay, configOverrides: { floodJitterMs: 0 } }
    case 'wormhole':
    case 'overlay-wormhole':
      return { model, forwardFilter: dropOrRelay, tunnelPeers }
    case 'modification':
      return { model, forwardFilter: flipLastByte }
    case 'forged-replies':
      return { model, forwardFilter: dropOrRelay, forgeReply }
    default:
      throw new Error(`unreachable: ${model satisfies never}`)
  }
}

/** Checks that need only the entry itself; errors name `${path}.field`. */
function checkSpec(spec: AdversarySpec, path: string): void {
  if (spec.dropData !== undefined && !isIn(DROPPING, spec.model)) {
    throw new ConfigError(`${path}.dropData`, `applies to ${DROPPING.join(', ')}, not to ${spec.model}`)
  }
  if (spec.nodes !== undefined) {
    const dup = spec.nodes.find((id, k) => spec.nodes!.indexOf(id) !== k)
    if (dup !== undefined) throw new ConfigError(`${path}.nodes`, `lists node ${dup} twice`)
    if (spec.model === 'wormhole' && spec.nodes.length % 2 !== 0) {
      throw new ConfigError(`${path}.nodes`, `a wormhole joins pairs of colluders ([a, b] or [a, b, c, d]), got ${spec.nodes.length} node(s)`)
    }
    if (spec.model === 'overlay-wormhole' && spec.nodes.length < 2) {
      throw new ConfigError(`${path}.nodes`, `an overlay wormhole needs at least 2 colluders, got ${spec.nodes.length}`)
    }
  }
}

/** How many nodes `fraction` of `nodes` asks for, under the model's rules. */
function countFor(spec: AdversarySpec, nodes: number, path: string): number {
  const f = spec.fraction!
  if (spec.model === 'wormhole') return 2 * Math.round((f * nodes) / 2)
  const k = Math.round(f * nodes)
  if (spec.model === 'overlay-wormhole' && k === 1) {
    throw new ConfigError(`${path}.fraction`, `asks for 1 colluder of ${nodes} nodes, but an overlay wormhole needs at least 2 (or 0)`)
  }
  return k
}

/** Tunnel peers of each chosen node: pairs for `wormhole`, everyone for `overlay-wormhole`. */
function tunnelsOf(model: AdversarySpec['model'], chosen: readonly Addr[]): Map<Addr, Addr[]> {
  const out = new Map<Addr, Addr[]>()
  if (!isIn(TUNNELLED, model)) return out
  chosen.forEach((id, k) => {
    if (model === 'wormhole') out.set(id, [chosen[k ^ 1]])
    else out.set(id, chosen.filter((x) => x !== id))
  })
  return out
}

/** Decide which nodes are adversarial and how. Throws ConfigError for impossible requests. */
export function assignAdversaries(
  specs: readonly AdversarySpec[],
  nodes: number,
  trusted: ReadonlySet<Addr>,
  rng: SeededRng,
): Map<Addr, AdversaryBehaviour> {
  const out = new Map<Addr, AdversaryBehaviour>()
  specs.forEach((spec, i) => {
    const path = `adversaries.${i}`
    checkSpec(spec, path)
    const r = rng.fork('adversaries', i)
    let chosen: Addr[]
    if (spec.nodes) {
      for (const id of spec.nodes) {
        if (trusted.has(id)) throw new ConfigError(`${path}.nodes`, `node ${id} is a traffic endpoint, and endpoints are trusted`)
      }
      chosen = spec.nodes
    } else {
      const pool: Addr[] = []
      for (let id = 1; id <= nodes; id++) if (!trusted.has(id) && !out.has(id)) pool.push(id)
      const k = countFor(spec, nodes, path)
      if (k > pool.length) throw new ConfigError(`${path}.fraction`, `asks for ${k} adversaries but only ${pool.length} nodes are not traffic endpoints or already adversarial`)
      chosen = r.shuffle(pool).slice(0, k)
    }
    const tunnels = tunnelsOf(spec.model, chosen)
    for (const id of chosen) {
      if (out.has(id)) throw new ConfigError(`${path}.nodes`, `node ${id} is already an adversary of another entry`)
      out.set(id, behaviour(spec, r.fork('node', id), tunnels.get(id)))
    }
  })
  return new Map([...out].sort(([a], [b]) => a - b))
}
