/**
 * A live run's schedule file (`schedule.json`, field-test-types.ts RunSchedule): reading and
 * checking it (ConfigError naming the field), and finding it next to a run's logs.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ConfigError } from '../core/errors.ts'
import { checkNumber, checkObject, checkOneOf } from '../core/validate.ts'
import type { RunSchedule, ScheduledFlow } from './field-test-types.ts'

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function checkInt(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return checkNumber(path, v, { integer: true, min, max })
}

function checkAddrList(path: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list of node addresses')
  return v.map((a, i) => checkInt(`${path}.${i}`, a, 0, 0xffffffff))
}

/** Validate a parsed schedule.json (field-test-types.ts RunSchedule); ConfigError naming the field. */
export function parseSchedule(raw: unknown): RunSchedule {
  const o = checkObject('schedule', raw)
  if (typeof o.scenario !== 'string') throw new ConfigError('scenario', 'must be the scenario name')
  if (typeof o.protocol !== 'string') throw new ConfigError('protocol', 'must be the protocol name')
  if (!Array.isArray(o.nodes)) throw new ConfigError('nodes', 'must be a list of { id, name, address, position? }')
  if (!Array.isArray(o.flows)) throw new ConfigError('flows', 'must be a list of flows')
  const nodes = o.nodes.map((n, i) => {
    const p = `nodes.${i}`
    const x = checkObject(p, n)
    const pos = x.position
    if (pos !== undefined && !(Array.isArray(pos) && pos.length === 2 && pos.every(isNum))) throw new ConfigError(`${p}.position`, 'must be [x, y] in metres')
    return {
      id: checkInt(`${p}.id`, x.id, 1),
      name: typeof x.name === 'string' ? x.name : String(x.id),
      address: checkInt(`${p}.address`, x.address, 0, 0xffffffff),
      ...(pos !== undefined ? { position: pos as [number, number] } : {}),
    }
  })
  const ids = new Set<number>()
  const flows = o.flows.map((f, i): ScheduledFlow => {
    const p = `flows.${i}`
    const x = checkObject(p, f)
    const id = checkInt(`${p}.id`, x.id, 0, 0xffff)
    if (ids.has(id)) throw new ConfigError(`${p}.id`, `flow id ${id} is used twice`)
    ids.add(id)
    const startS = checkNumber(`${p}.startS`, x.startS, { min: 0 })
    return {
      id,
      pattern: checkOneOf(`${p}.pattern`, x.pattern, ['unicast', 'multicast', 'broadcast'] as const),
      from: checkInt(`${p}.from`, x.from, 0, 0xffffffff),
      dst: checkInt(`${p}.dst`, x.dst, 0, 0xffffffff),
      receivers: checkAddrList(`${p}.receivers`, x.receivers),
      startS,
      stopS: checkNumber(`${p}.stopS`, x.stopS, { min: startS }),
      rate: checkNumber(`${p}.rate`, x.rate, { gt: 0 }),
      size: checkInt(`${p}.size`, x.size, 0),
    }
  })
  return {
    scenario: o.scenario,
    seed: checkInt('seed', o.seed, 0),
    protocol: o.protocol,
    nodes,
    flows,
    durationS: checkNumber('durationS', o.durationS, { gt: 0 }),
    ...(o.startWallMs !== undefined ? { startWallMs: checkNumber('startWallMs', o.startWallMs) } : {}),
  }
}

export function loadSchedule(file: string): RunSchedule {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    const why = e instanceof SyntaxError ? `not valid JSON (${e.message})` : ((e as NodeJS.ErrnoException).code ?? String(e))
    throw new ConfigError('', `cannot read schedule ${file}: ${why}`)
  }
  try {
    return parseSchedule(raw)
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError('', `${file}: ${e.message}`)
    throw e
  }
}

/** `schedule.json` in the first dir holding one, or in a dir's parent (DIR/logs given for a plan's DIR). */
export function findSchedule(dirs: readonly string[]): string | undefined {
  for (const d of [...dirs, ...dirs.map((x) => dirname(x))]) if (existsSync(join(d, 'schedule.json'))) return join(d, 'schedule.json')
  return undefined
}

