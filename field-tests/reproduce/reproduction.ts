/**
 * What a reproduction is (`npm run reproduce -- NAME`): a named experiment that runs simulations,
 * writes NAME.json (numbers for machines) and NAME.html (a report with charts) into the output
 * folder, and says whether the claim it checks holds. Kept apart from the entry point so that
 * reproductions and their tests can import it without running anything.
 */

export interface ReproduceOptions {
  /** Seeds 1..seeds per configuration. */
  seeds: number
  /** Worker processes (1 = in this process). */
  jobs: number
  /** Output folder. */
  out: string
  /** Protocols to compare, for reproductions that compare protocols (else ignored). */
  protocols?: string[]
  /**
   * Security mode of every run. Default `open`: the papers compare protocols without security,
   * and docs/RESULTS.md measures what authentication costs separately.
   */
  security?: 'open' | 'authenticated'
  /** Progress lines. */
  log: (line: string) => void
}

export interface ReproduceResult {
  /** Files written. */
  files: string[]
  /** One line: what was found. */
  verdict: string
  /** Whether the reproduced claim holds. */
  pass: boolean
  wallSeconds: number
}

export interface Reproduction {
  name: string
  /** One line for the list of known reproductions. */
  description: string
  run(o: ReproduceOptions): Promise<ReproduceResult>
}

/** What every reproduction report states about how it was made. */
export interface ReportContext {
  scenario: string
  /** The command that regenerates the report. */
  command: string
  /** `--set` overrides applied to every run. */
  sets: readonly string[]
  wallSeconds: number
  jobs: number
}
