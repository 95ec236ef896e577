/**
 * Serial framing benchmarks for BENCHMARKS.md: throughput of the COBS+CRC-32 and KISS framers on
 * one core (receive = push of the wire bytes in 256-byte chunks, a typical serial read; send =
 * encode), and the framing overhead in percent of payload for random payloads (the typical case)
 * and for the worst case of each framing. Each throughput figure runs for ~0.4 s of wall time.
 * Run alone: `node --import tsx bench/framing.ts`.
 */
import { SeededRng } from '../core/rng.ts'
import { CobsFramer } from '../firmware-bridge/cobs-framer.ts'
import { KissFramer } from '../firmware-bridge/kiss-framer.ts'
import type { Framer } from '../firmware-bridge/framer-types.ts'

const TARGET_SECONDS = 0.4
const SIZES = [16, 64, 255, 1024]
const CHUNK = 256
let sink = 0

/** Bytes per second of `op` (which returns the bytes it processed), over ~TARGET_SECONDS. */
function bytesPerSecond(op: () => number): number {
  for (let i = 0; i < 3; i++) sink ^= op() // warm up
  let bytes = 0, batch = 1
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < TARGET_SECONDS * 1000) {
    for (let i = 0; i < batch; i++) bytes += op()
    elapsed = performance.now() - t0
    if (elapsed < TARGET_SECONDS * 250) batch *= 2
  }
  return bytes / (elapsed / 1000)
}

interface Kind { name: string; make: () => Framer; worst: (n: number) => Uint8Array }

const KINDS: Kind[] = [
  // COBS worst case: no zero at all (one code byte per 254 data bytes).
  { name: 'COBS + CRC-32', make: () => new CobsFramer({ maxFrame: 4096 }), worst: (n) => new Uint8Array(n).fill(0x55) },
  // KISS worst case: every byte is FEND or FESC and costs two.
  { name: 'KISS', make: () => new KissFramer({ maxFrame: 4096 }), worst: (n) => new Uint8Array(n).fill(0xc0) },
]

function payloads(n: number, count: number, seed: string): Uint8Array[] {
  const rng = new SeededRng(seed)
  return Array.from({ length: count }, () => rng.bytes(n))
}

const pct = (wire: number, payload: number) => `${((100 * (wire - payload)) / payload).toFixed(1)} %`
const mbs = (x: number) => (x / 1e6).toFixed(0)

interface Row { kind: string; size: number; typical: string; worst: string; rx: number; tx: number }

function measure(log: (s: string) => void): Row[] {
  const rows: Row[] = []
  for (const k of KINDS) {
    for (const n of SIZES) {
      log(`  ${k.name}, ${n}-byte payloads ...`)
      const f = k.make()
      const ps = payloads(n, Math.max(64, Math.ceil(1_000_000 / n)), `framing-${n}`)
      const frames = ps.map((p) => f.encode(p))
      const wire = frames.reduce((s, w) => s + w.length, 0)
      const stream = new Uint8Array(wire)
      let o = 0
      for (const w of frames) { stream.set(w, o); o += w.length }
      const rx = bytesPerSecond(() => {
        const r = k.make()
        for (let i = 0; i < stream.length; i += CHUNK) sink ^= r.push(stream.subarray(i, i + CHUNK)).length
        return stream.length
      })
      const tx = bytesPerSecond(() => {
        let b = 0
        for (const p of ps) b += f.encode(p).length
        return b
      })
      const check = k.make()
      if (check.push(stream).length !== ps.length || check.stats.frames !== ps.length) throw new Error(`${k.name}: frames lost in the benchmark stream`)
      rows.push({ kind: k.name, size: n, typical: pct(wire / ps.length, n), worst: pct(f.encode(k.worst(n)).length, n), rx, tx })
    }
  }
  return rows
}

/** The "Serial framing" section of BENCHMARKS.md (markdown, ends with a newline). */
export function framingBenchSection(log: (s: string) => void = () => {}): string {
  const rows = measure(log)
  const lines = rows.map((r) => `| ${r.kind} | ${r.size} | ${r.typical} | ${r.worst} | ${mbs(r.rx)} | ${mbs(r.tx)} |`)
  const slowest = Math.min(...rows.map((r) => Math.min(r.rx, r.tx)))
  return `## Serial framing

Framers of firmware-bridge/ (FRAMING.md) on one core (bench/framing.ts, ~${TARGET_SECONDS} s per figure).
Overhead is wire bytes beyond the payload, in percent of the payload: *typical* is the mean over
random payloads, *worst* a payload with no zero byte (COBS) or only FEND bytes (KISS). Receive
pushes the wire bytes in ${CHUNK}-byte chunks; MB/s counts wire bytes (10^6 bytes/s).

| framing | payload (bytes) | overhead typical | overhead worst | receive MB/s | encode MB/s |
|---|---|---|---|---|---|
${lines.join('\n')}

COBS + CRC-32 costs 6 bytes for a random payload up to 254 bytes (4 CRC, 1 COBS code, 1 delimiter)
and at most one more per 254 bytes; KISS costs 3 (FEND, command, FEND) plus one per FEND/FESC byte
(2/256 of random data, all of a worst-case payload). The slowest figure, ${mbs(slowest)} MB/s, is
${Math.round(slowest / 92_160).toLocaleString('en-US')}× a 921,600-baud serial line (92 kB/s).
`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(framingBenchSection((s) => console.error(s)))
  if (sink === 0.5) console.log(sink)
}
