/**
 * Crypto micro-benchmarks for BENCHMARKS.md: operations per second of each primitive on the
 * native backend (node:crypto, the hot path) and the portable one (noble), so the cost of an
 * authenticated packet and the price of running without native crypto are both visible.
 * Each measurement runs for ~0.4 s of wall time (batches grow until the time is used).
 * Run alone: `node --import tsx bench/crypto.ts`.
 */
import { generateKeyPairSync } from 'node:crypto'
import { MacKey, nativeSymmetric, nobleSymmetric, type SymmetricBackend } from '../crypto/aead.ts'
import { nativeEd25519, nobleEd25519, type Ed25519Backend } from '../crypto/ed25519.ts'
import { generateIdentity, x25519PrivateKeyObject } from '../crypto/identity.ts'
import { nativeX25519, nobleX25519, type X25519Backend } from '../crypto/pairwise.ts'

const TARGET_SECONDS = 0.4
let sink = 0

/** Operations per second of `op`, over ~TARGET_SECONDS. */
function opsPerSecond(op: () => Uint8Array | boolean | null): number {
  const use = (r: Uint8Array | boolean | null) => { sink ^= r instanceof Uint8Array ? r[0] : r ? 1 : 0 }
  for (let i = 0; i < 3; i++) use(op()) // warm up (JIT, key caches)
  let n = 0, batch = 1
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < TARGET_SECONDS * 1000) {
    for (let i = 0; i < batch; i++) use(op())
    n += batch
    elapsed = performance.now() - t0
    if (elapsed < TARGET_SECONDS * 250) batch *= 2
  }
  return n / (elapsed / 1000)
}

const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 })
const us = (x: number) => (1e6 / x).toFixed(x > 1e5 ? 2 : 1)

interface Row { what: string; native?: number; noble: number }

function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + fill) & 0xff)
}

function measure(log: (s: string) => void): Row[] {
  const rows: Row[] = []
  const row = (what: string, f: (b: 'native' | 'noble') => (() => Uint8Array | boolean | null) | undefined) => {
    log(`  ${what} ...`)
    const nat = f('native'), nob = f('noble')!
    rows.push({ what, native: nat && opsPerSecond(nat), noble: opsPerSecond(nob) })
  }
  const msg = bytes(64, 1)
  const ed = (b: 'native' | 'noble'): Ed25519Backend | undefined => (b === 'native' ? nativeEd25519 : nobleEd25519)
  row('Ed25519 sign (64-byte message)', (b) => {
    const s = ed(b)?.signer(bytes(32, 2))
    return s && (() => s.sign(msg))
  })
  row('Ed25519 verify (64-byte message)', (b) => {
    const be = ed(b)
    if (!be) return undefined
    const s = be.signer(bytes(32, 3))
    const sig = s.sign(msg)
    return () => be.verify(s.publicKey, msg, sig)
  })
  const sym = (b: 'native' | 'noble'): SymmetricBackend | undefined => (b === 'native' ? nativeSymmetric : nobleSymmetric)
  row('HMAC-SHA256 tag truncated to 16 bytes, 64-byte message (MacKey.tag)', (b) => {
    const be = sym(b)
    const k = be && new MacKey(bytes(32, 4), 16, be)
    return k && (() => k.tag(msg))
  })
  row('ChaCha20-Poly1305 seal, 64 bytes', (b) => {
    const be = sym(b)
    const key = bytes(32, 5), nonce = bytes(12, 6)
    return be && (() => be.seal(key, nonce, msg))
  })
  row('X25519 agreement (uncached: parses the peer key each time)', (b) => {
    const be: X25519Backend | undefined = b === 'native' ? nativeX25519 : nobleX25519
    const me = x25519PrivateKeyObject(generateIdentity())
    const peer = new Uint8Array(generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
    return be && (() => be.shared(me, peer))
  })
  return rows
}

/** The "Crypto primitives" section of BENCHMARKS.md (markdown, ends with a newline). */
export function cryptoBenchSection(log: (s: string) => void = () => {}): string {
  const rows = measure(log)
  const lines = rows.map((r) => {
    const nat = r.native === undefined ? 'not available' : `${fmt(r.native)} (${us(r.native)} µs)`
    const ratio = r.native === undefined ? '—' : `${(r.native / r.noble).toFixed(1)}×`
    return `| ${r.what} | ${nat} | ${fmt(r.noble)} (${us(r.noble)} µs) | ${ratio} |`
  })
  const mac = rows[2].native ?? rows[2].noble
  return `## Crypto primitives

Operations per second on one core (bench/crypto.ts, ~${TARGET_SECONDS} s each; time per operation in
brackets). \`native\` is node:crypto (OpenSSL), the default; \`noble\` is the portable pure-JS
backend (@noble/ed25519, @noble/hashes, @noble/ciphers, @noble/curves) used where native is missing.

| operation | native | noble | native / noble |
|---|---|---|---|
${lines.join('\n')}

The link layer MACs every frame: at ${fmt(mac)} tags/s one core has room for ${fmt(mac / 2)}
authenticated packets/s (tag + verify) against a budget of ≥ 50,000.
`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(cryptoBenchSection((s) => console.error(s)))
  if (sink === 0.5) console.log(sink)
}
