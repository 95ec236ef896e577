// Summarizes run.sh's JSON lines into the README's markdown table, one row per (radio, max speed).
// Usage: node bench/ns3/summarize.mjs [/tmp/spinmesh-ns3/results.jsonl]
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '/tmp/spinmesh-ns3/results.jsonl'
const runs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const pct = (x) => (x * 100).toFixed(1)

// key: radio|maxSpeed -> seed -> run (a re-run of the same seed replaces the older line)
const groups = new Map()
for (const r of runs) {
  const key = `${r.radio ?? 'unitdisk'}|${r.maxSpeed}`
  if (!groups.has(key)) groups.set(key, new Map())
  groups.get(key).set(r.seed, r)
}
const keys = [...groups.keys()].sort((a, b) => {
  const [ra, sa] = a.split('|'), [rb, sb] = b.split('|')
  return ra === rb ? Number(sa) - Number(sb) : (ra === 'unitdisk' ? -1 : rb === 'unitdisk' ? 1 : ra < rb ? -1 : 1)
})

console.log('| radio | max speed m/s | seeds | median PDR % [min–max] | median AODV ctrl / delivered ' +
  '[min–max] | … without HELLO | median ARP / delivered | median delay ms | median wall s | ' +
  'median CPU s | peak RSS MB |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|')
for (const key of keys) {
  const [radio, speed] = key.split('|')
  const rs = [...groups.get(key).values()]
  const pdr = rs.map((r) => r.pdr)
  const ctrl = rs.map((r) => r.ctrlPerDelivered)
  const arp = rs.map((r) => (r.received ? r.mac.arp / r.received : 0))
  const rss = Math.max(...rs.map((r) => r.timeMaxRssKB ?? r.maxRssKB)) / 1024
  console.log(`| ${radio} | ${speed} | ${rs.map((r) => r.seed).sort((a, b) => a - b).join(',')} | ` +
    `${pct(median(pdr))} [${pct(Math.min(...pdr))}–${pct(Math.max(...pdr))}] | ` +
    `${median(ctrl).toFixed(2)} [${Math.min(...ctrl).toFixed(2)}–${Math.max(...ctrl).toFixed(2)}] | ` +
    `${median(rs.map((r) => r.ctrlNoHelloPerDelivered)).toFixed(2)} | ` +
    `${median(arp).toFixed(2)} | ` +
    `${(median(rs.map((r) => r.meanDelay)) * 1000).toFixed(0)} | ` +
    `${median(rs.map((r) => r.wallSeconds)).toFixed(1)} | ` +
    `${median(rs.map((r) => r.cpuSeconds ?? r.wallSeconds)).toFixed(1)} | ${rss.toFixed(0)} |`)
}

// Second table: where the control traffic comes from, per delivered data packet (medians), plus the
// MAC-level view (AODV frames on the air including MAC retransmissions, ARP, MAC retry-limit drops)
// and the best (lowest) CPU time seen, the steadier speed figure on a shared machine.
console.log('')
console.log('| radio | max speed m/s | RREQ | RREP | HELLO | RERR | RREP-ACK | AODV frames on air ' +
  '(with MAC retries) | ARP frames on air | data IP transmissions / delivered | MAC drops per run (DroppedMpdu) | events (M) | ' +
  'events per CPU s (M) | min CPU s | min wall s |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for (const key of keys) {
  const [radio, speed] = key.split('|')
  const rs = [...groups.get(key).values()]
  const per = (f) => median(rs.map((r) => (r.received ? f(r) / r.received : 0))).toFixed(2)
  console.log(`| ${radio} | ${speed} | ${per((r) => r.aodv.rreq)} | ${per((r) => r.aodv.rrep)} | ` +
    `${per((r) => r.aodv.hello)} | ${per((r) => r.aodv.rerr)} | ${per((r) => r.aodv.rrepAck)} | ` +
    `${r0(rs, (r) => r.phy?.aodv)} | ${r0(rs, (r) => r.phy?.arp)} | ${per((r) => r.dataIpTx)} | ` +
    `${median(rs.map((r) => r.mac.droppedMpdu)).toFixed(0)} | ` +
    `${(median(rs.map((r) => r.events)) / 1e6).toFixed(1)} | ` +
    `${(median(rs.map((r) => r.events / (r.cpuSeconds ?? r.wallSeconds))) / 1e6).toFixed(2)} | ` +
    `${Math.min(...rs.map((r) => r.cpuSeconds ?? r.wallSeconds)).toFixed(1)} | ` +
    `${Math.min(...rs.map((r) => r.wallSeconds)).toFixed(1)} |`)
}

function r0(rs, f) {
  const xs = rs.filter((r) => r.received && f(r) !== undefined).map((r) => f(r) / r.received)
  return xs.length ? median(xs).toFixed(2) : '—'
}
