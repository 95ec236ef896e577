/**
 * Structured logs: one JSON object per line. A logger is silent unless it is given a sink, so
 * library code can log freely without printing anything in tests or when embedded.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger that adds `bindings` to every line (e.g. `{ node: 7, layer: 'link' }`). */
  child(bindings: LogFields): Logger
  /** Whether a line at `level` would be written (to skip building expensive fields). */
  enabled(level: LogLevel): boolean
}

export interface LoggerOptions {
  /** Lowest level written; default `info`. `silent` writes nothing. */
  level?: LogLevel | 'silent'
  /** Where lines go (without the trailing newline). No sink: the logger is silent. */
  sink?: (line: string) => void
  /** Time stamp source, e.g. a scheduler's `now` for virtual time; default wall clock ISO time. */
  clock?: () => number | string
  bindings?: LogFields
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
  return value
}

class JsonLogger implements Logger {
  private readonly min: number
  constructor(
    private readonly opts: LoggerOptions,
    private readonly bindings: LogFields,
  ) {
    this.min = opts.sink ? RANK[opts.level ?? 'info'] : RANK.silent
  }
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min
  }
  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return
    const time = this.opts.clock ? this.opts.clock() : new Date().toISOString()
    const line = JSON.stringify({ time, level, msg, ...this.bindings, ...fields }, replacer)
    this.opts.sink!(line)
  }
  debug(msg: string, fields?: LogFields): void { this.write('debug', msg, fields) }
  info(msg: string, fields?: LogFields): void { this.write('info', msg, fields) }
  warn(msg: string, fields?: LogFields): void { this.write('warn', msg, fields) }
  error(msg: string, fields?: LogFields): void { this.write('error', msg, fields) }
  child(bindings: LogFields): Logger {
    return new JsonLogger(this.opts, { ...this.bindings, ...bindings })
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(opts, opts.bindings ?? {})
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger()
