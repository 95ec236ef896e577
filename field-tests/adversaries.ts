/**
 * Adversary selection and behaviours for scenarios (`adversaries: [{model, fraction | nodes}]`).
 * Traffic endpoints (senders and receivers) are trusted and never chosen (PROTOCOLS.md §4: only
 * source and destination are trusted). The behaviour is given to the node's protocol, which
 * consults it where it forwards.
 *
 * Available now: `blackhole` (forward control, drop every data packet it should relay) and
 * `greyhole` (drop each relayed data packet with `dropProbability`). The routing-specific models
 * (flood rushing, wormholes, modification, forged replies) attack route discovery itself and
 * arrive with ODSBR; asking for them is an error, not a silent no-op.
 */
import type { Addr } from '../core/addr.ts'
import { ConfigError } from '../core/errors.ts'
import type { SeededRng } from '../core/rng.ts'
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
  /** false: the node silently does not relay this data packet. */
  forwardFilter(p: ForwardCandidate): boolean
}

const IMPLEMENTED = ['blackhole', 'greyhole'] as const

function behaviour(spec: AdversarySpec, rng: SeededRng): AdversaryBehaviour {
  switch (spec.model) {
    case 'blackhole':
      return { model: spec.model, forwardFilter: () => false }
    case 'greyhole':
      return { model: spec.model, forwardFilter: () => !rng.chance(spec.dropProbability) }
    default:
      throw new Error(`unreachable: ${spec.model}`)
  }
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
    if (!(IMPLEMENTED as readonly string[]).includes(spec.model)) {
      throw new ConfigError(`${path}.model`, `"${spec.model}" is not available yet (it attacks route discovery itself and arrives with ODSBR). Available: ${IMPLEMENTED.join(', ')}`)
    }
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
      const k = Math.round(spec.fraction! * nodes)
      if (k > pool.length) throw new ConfigError(`${path}.fraction`, `asks for ${k} adversaries but only ${pool.length} nodes are not traffic endpoints or already adversarial`)
      chosen = r.shuffle(pool).slice(0, k)
    }
    for (const id of chosen) {
      if (out.has(id)) throw new ConfigError(`${path}.nodes`, `node ${id} is already an adversary of another entry`)
      out.set(id, behaviour(spec, r.fork('node', id)))
    }
  })
  return new Map([...out].sort(([a], [b]) => a - b))
}
