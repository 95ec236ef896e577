import type { MetricsResult } from '../field-tests/metrics-result.ts'

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const ms = (x: number) => `${x.toFixed(1)} ms`

/** The human summary table printed after `spinmesh sim`. */
export function formatSummary(r: MetricsResult): string {
  const d = r.delivery
  const rows: Array<[string, string]> = [
    ['scenario', `${r.scenario} (protocol ${r.protocol}, seed ${r.seed})`],
    ['nodes', String(r.nodes)],
    r.source === 'live'
      ? ['live run', `${r.simSeconds} s, collected from the nodes' event logs`]
      : ['simulated', `${r.simSeconds} s in ${r.wallSeconds.toFixed(2)} s wall, ${r.events.toLocaleString('en-US')} events`],
    ['traffic', `${r.traffic.flows} flow(s), ${r.traffic.packetsSent} packets sent`],
    ['delivery', `${d.delivered} / ${d.expected} = ${pct(d.ratio)}`],
    ['per receiver', `min ${pct(d.perReceiver.min)}  mean ${pct(d.perReceiver.mean)}  max ${pct(d.perReceiver.max)}  stdev ${pct(d.perReceiver.stdev)}`],
    ['latency', `mean ${ms(r.latencyMs.mean)}  p50 ${ms(r.latencyMs.p50)}  p95 ${ms(r.latencyMs.p95)}`],
    ['overhead', `${r.overhead.controlPackets} control packets (${r.overhead.controlBytes} B), ${r.overhead.dataTransmissions} data transmissions, ${r.overhead.perDelivered ?? '-'} control/delivered`],
    ['airtime', `${r.airtime.totalSeconds.toFixed(2)} s total, busiest node ${pct(r.airtime.maxNodeShare)}`],
  ]
  if (r.adversaries.length) rows.push(['adversaries', r.adversaries.join(' ')])
  const w = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')
}
