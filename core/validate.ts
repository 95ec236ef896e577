/**
 * Config validation shared by every layer's defaults module: each check names the field path and
 * throws ConfigError (`radio.range: must be > 0, got -3`), so a scenario, a daemon config and a
 * constructor report bad values the same way.
 */
import { readFileSync } from 'node:fs'
import { ConfigError } from './errors.ts'

export interface NumberRule {
  /** Inclusive lower bound. */
  min?: number
  /** Inclusive upper bound. */
  max?: number
  /** Exclusive lower bound. */
  gt?: number
  integer?: boolean
  /** Accept Infinity (otherwise only finite numbers). */
  allowInfinity?: boolean
  /** An integer power of two (e.g. a bitmap window size). */
  powerOfTwo?: boolean
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  if (v === null || v === undefined || typeof v !== 'object') return String(v)
  return Array.isArray(v) ? 'a list' : 'an object'
}

export function checkNumber(path: string, v: unknown, rule: NumberRule = {}): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(path, `must be a number, got ${describe(v)}`)
  if (v === Infinity && rule.allowInfinity) return v
  if (!Number.isFinite(v)) throw new ConfigError(path, `must be finite, got ${v}`)
  if (rule.integer && !Number.isInteger(v)) throw new ConfigError(path, `must be an integer, got ${v}`)
  if (rule.gt !== undefined && !(v > rule.gt)) throw new ConfigError(path, `must be > ${rule.gt}, got ${v}`)
  if (rule.min !== undefined && v < rule.min) throw new ConfigError(path, `must be >= ${rule.min}, got ${v}`)
  if (rule.max !== undefined && v > rule.max) throw new ConfigError(path, `must be <= ${rule.max}, got ${v}`)
  if (rule.powerOfTwo && (!Number.isInteger(v) || v < 1 || (v & (v - 1)) !== 0)) throw new ConfigError(path, `must be a power of two, got ${v}`)
  return v
}

export function checkBoolean(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(path, `must be true or false, got ${describe(v)}`)
  return v
}

export function checkOneOf<T extends string>(path: string, v: unknown, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    throw new ConfigError(path, `must be one of ${options.join(', ')}, got ${describe(v)}`)
  }
  return v as T
}

/** A plain object (not null, not a list). */
export function checkObject(path: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(path, `must be a mapping of fields, got ${describe(v)}`)
  return v as Record<string, unknown>
}

/** Every key of `obj` is one of `known`; otherwise a ConfigError naming the unknown field. */
export function checkKeys(path: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      throw new ConfigError(path ? `${path}.${k}` : k, `unknown field (known: ${known.join(', ')})`)
    }
  }
}

/** How one config field is checked: a number rule, `'boolean'`, or a function that throws ConfigError. */
export type FieldRule = NumberRule | 'boolean' | ((path: string, value: unknown) => void)

/**
 * The shape every layer's `validateXConfig(partial, path)` shares: `partial` must be a mapping with
 * only known fields; the result is `defaults` overridden by the fields given (undefined = keep the
 * default), each checked by its rule with the error naming `${path}.field`. Rules between fields
 * are the caller's, after this returns.
 */
export function validateFields<T extends object>(path: string, partial: unknown, defaults: T, rules: Record<keyof T, FieldRule>): T {
  const fields = Object.keys(rules) as Array<keyof T & string>
  const obj = checkObject(path, partial)
  checkKeys(path, obj, fields)
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) out[key] = value
  for (const key of fields) {
    const at = fieldPath(path, key)
    const rule: FieldRule = rules[key]
    if (rule === 'boolean') checkBoolean(at, out[key])
    else if (typeof rule === 'function') rule(at, out[key])
    else checkNumber(at, out[key], rule)
  }
  return out as T
}

/** `path.field`, or just `field` at the top level. */
export function fieldPath(path: string, field: string): string {
  return path ? `${path}.${field}` : field
}

/**
 * A config-like file's text (a node config, scenario, inventory, feeds file); a ConfigError at
 * `path` naming `what` and the file when it cannot be read (`cannot read config x.yaml: ENOENT`).
 */
export function readConfigText(file: string, what: string, path = ''): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(path, `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
}
