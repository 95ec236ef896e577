// Runs one scenario in this process and prints {wallSeconds, maxRssMB, events, frames} as JSON, so
// the parent measures peak memory of the run alone.
import { loadScenario } from '../field-tests/scenario.ts'
import { runScenario } from '../field-tests/runner.ts'

const [file, ...sets] = process.argv.slice(2)
const r = runScenario(loadScenario(file, sets))
const medium = r.counters.medium ?? {}
console.log(JSON.stringify({
  wallSeconds: r.wallSeconds,
  simSeconds: r.simSeconds,
  events: r.events,
  txFrames: medium.txFrames ?? 0,
  rxFrames: medium.rxFrames ?? 0,
  ratio: r.delivery.ratio,
  maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
}))
