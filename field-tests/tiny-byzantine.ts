/**
 * Test support: a tiny `byzantine`-style scenario (14 nodes, 3 flows, black holes) whose runs take
 * a fraction of a second, shared by the ODSBR metrics and reproduction tests.
 */
export function tinyByzantine(o: { duration: number; fraction: number }): string {
  return `
name: tiny-byzantine
duration: ${o.duration}
nodes: { count: 14, placement: uniform }
field: { width: 700, height: 300 }
radio: { range: 250 }
mobility: { model: random-waypoint, minSpeed: 1, maxSpeed: 5, pause: 0 }
link: { beaconIntervalMs: 0 }
protocol: odsbr
traffic: [{ pattern: unicast, flows: 3, start: [2, 4], stop: ${o.duration - 1}, rate: 4, size: 128 }]
adversaries: [{ model: blackhole, fraction: ${o.fraction} }]
`
}
