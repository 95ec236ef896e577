import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { ScriptedWaypoints, StaticMobility } from './mobility.ts'
import { decodeProbability, derivePhysics, meanRxPowerDbm } from './propagation.ts'
import { LORA_SIM_RADIO, resolveSimRadioConfig } from './sim-defaults.ts'
import { frame, staticField } from './sim-fixtures.ts'
import { SimMedium } from './sim-medium.ts'
import { LinkShadowing, linkNormal, SHADOWING_IDLE_MS } from './shadowing.ts'

const NO_CSMA = { enabled: false, slotMs: 5, minWindow: 32, maxWindow: 1024, maxAttempts: 16 }
const LORA = { ...LORA_SIM_RADIO, dutyCycle: 1, csma: NO_CSMA }
const lora = resolveSimRadioConfig(LORA)

function corr(xs: number[], lag: number): number {
  const n = xs.length - lag
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  let num = 0, den = 0
  for (let k = 0; k < xs.length; k++) den += (xs[k] - m) ** 2
  for (let k = 0; k < n; k++) num += (xs[k] - m) * (xs[k + lag] - m)
  return (num / n) / (den / xs.length)
}

test('a static link has the same shadowing on every frame and in both directions', () => {
  const f = staticField([[0, 0], [1000, 0]], LORA, 'static-link')
  for (let k = 0; k < 20; k++) {
    f.scheduler.at(k * 200, () => f.radios[0].send(frame(k, 20)))
    f.scheduler.at(k * 200 + 100, () => f.radios[1].send(frame(k, 20)))
  }
  f.scheduler.run()
  const ab = new Set(f.heard[1].map((x) => x.rssi)), ba = new Set(f.heard[0].map((x) => x.rssi))
  assert.is(f.heard[1].length, 20)
  assert.is(ab.size, 1)
  assert.equal([...ab], [...ba])
  const shadow = [...ab][0]! - meanRxPowerDbm(1000, lora)
  assert.ok(shadow !== 0 && Math.abs(shadow) < 4 * lora.shadowingDb, `shadowing ${shadow} dB`)
})

test('static links at the range are stably good or bad: each link delivers at the rate its fixed power gives', () => {
  const n = 60, frames = 200
  const pts: Array<[number, number]> = [[0, 0]]
  for (let k = 0; k < n; k++) pts.push([2000 * Math.cos((2 * Math.PI * k) / n), 2000 * Math.sin((2 * Math.PI * k) / n)])
  const f = staticField(pts, LORA, 'stable')
  for (let k = 0; k < frames; k++) f.scheduler.at(k * 100, () => f.radios[0].send(frame(k & 0xff, 20)))
  f.scheduler.run()
  const sens = derivePhysics(lora).sensitivityDbm
  let bad = 0, good = 0
  for (let j = 1; j <= n; j++) {
    const heard = f.heard[j]
    const rate = heard.length / frames
    if (rate < 0.1) bad++
    if (rate > 0.9) good++
    if (heard.length === 0) continue
    // every frame of a link has the same RSSI, and the link's rate is the decode curve at that RSSI
    assert.is(new Set(heard.map((x) => x.rssi)).size, 1)
    const p = decodeProbability(heard[0].rssi!, sens, lora.transitionDb)
    assert.ok(Math.abs(rate - p) < 0.12, `link ${j}: rate ${rate}, p ${p}`)
  }
  assert.ok(bad >= 10 && good >= 10, `bad ${bad}, good ${good} of ${n}`)
})

/** Node 2 walks back and forth between 100 m and 600 m from node 1 at 10 m/s; node 1 sends every second. */
function walk(seed: string, frames = 1500, corrM = 50) {
  const scheduler = new SimScheduler()
  const medium = new SimMedium({ scheduler, rng: new SeededRng(seed), radio: { ...LORA, shadowingCorrelationM: corrM } })
  const a = medium.addNode(1, new StaticMobility({ x: 0, y: 0 }))
  const pts: Array<{ tMs: number; x: number; y: number }> = []
  for (let leg = 0; leg * 50_000 <= frames * 1000; leg++) pts.push({ tMs: leg * 50_000, x: leg % 2 === 0 ? 100 : 600, y: 0 })
  const b = medium.addNode(2, new ScriptedWaypoints(pts))
  const sentDist = new Map<number, number>()
  const shadow: number[] = []
  b.on('frame', (fr) => {
    const k = fr.bytes[0] * 256 + fr.bytes[1]
    shadow[k] = fr.rssi! - meanRxPowerDbm(sentDist.get(k)!, lora)
  })
  for (let k = 0; k < frames; k++) {
    scheduler.at(k * 1000 + 1, () => {
      sentDist.set(k, medium.position(2).x)
      a.send(new Uint8Array([k >> 8, k & 0xff, 0, 0]))
    })
  }
  scheduler.run()
  return shadow
}

test('moving nodes decorrelate with distance moved (Gudmundson): 10 m steps correlate, 300 m apart do not', () => {
  const s = walk('walk')
  const got = s.filter((x) => x !== undefined)
  assert.ok(got.length > 1400, `received ${got.length}`)
  const sd = Math.sqrt(got.reduce((a, x) => a + x * x, 0) / got.length)
  assert.ok(sd > 3.3 && sd < 4.7, `sigma ${sd}`)
  const filled = s.map((x, k) => x ?? s[k - 1] ?? 0) // a rare lost frame: hold the previous value
  const r1 = corr(filled, 1), r30 = corr(filled, 30)
  // expected exp(−10/50) = 0.82 and exp(−300/50) = 0.002
  assert.ok(r1 > 0.72 && r1 < 0.9, `lag 10 m: ${r1}`)
  assert.ok(Math.abs(r30) < 0.15, `lag 300 m: ${r30}`)
  // Infinity freezes the link even while moving; the same seed gives the same shadowing
  const frozen = walk('walk', 200, Infinity).filter((x) => x !== undefined)
  assert.ok(Math.max(...frozen) - Math.min(...frozen) < 1e-9)
  assert.equal(walk('walk', 200), s.slice(0, 200))
  assert.not.equal(walk('other', 200), s.slice(0, 200))
})

test('the shadowing table stays bounded: idle moving pairs are pruned, static pairs are kept', () => {
  const sh = new LinkShadowing(new SeededRng('prune'))
  // 2000 static pairs, used once at t = 0
  const statics: number[] = []
  for (let j = 1; j <= 2000; j++) statics.push(sh.z(0, 1, 0, 0, j, j + 1, j, 0, false, 50, 0))
  // 200 000 moving pairs, 100 per second of virtual time
  for (let k = 0; k < 200_000; k++) {
    const t = k * 10
    sh.z(10_000 + (k % 50_000), 7, t, 0, 100_000 + k, 8, 0, t, true, 50, t)
  }
  const live = (SHADOWING_IDLE_MS / 1000) * 100
  assert.ok(sh.size < 2000 + 2 * live + 4096, `pairs remembered: ${sh.size}`)
  assert.ok(sh.size >= 2000 + live, `recent pairs kept: ${sh.size}`)
  // static pairs survived every sweep with their values, in either order of the two nodes
  for (let j = 1; j <= 2000; j += 97) assert.is(sh.z(j, j + 1, j, 0, 0, 1, 0, 0, false, 50, 3e6), statics[j - 1])
})

test('the counter-based link normals are standard normal and uncorrelated across draws and links', () => {
  const seed = 0x12345678
  const xs: number[] = []
  for (let a = 1; a <= 100; a++) for (let b = a + 1; b <= 101; b++) for (let n = 0; n < 20; n++) xs.push(linkNormal(seed, a, b, n))
  const N = xs.length
  const mean = xs.reduce((s, x) => s + x, 0) / N
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / N
  const k4 = xs.reduce((s, x) => s + (x - mean) ** 4, 0) / N / (v * v)
  const tail = xs.filter((x) => Math.abs(x) > 2).length / N
  assert.ok(Math.abs(mean) < 0.01 && Math.abs(v - 1) < 0.02, `mean ${mean} var ${v}`)
  assert.ok(Math.abs(k4 - 3) < 0.1, `kurtosis ${k4}`)
  assert.ok(Math.abs(tail - 0.0455) < 0.003, `P(|z| > 2) ${tail}`)
  let c = 0
  for (let k = 0; k + 1 < N; k++) c += xs[k] * xs[k + 1]
  assert.ok(Math.abs(c / N) < 0.01, `successive draws correlate ${c / N}`)
  let cb = 0
  for (let b = 2; b < 10_000; b++) cb += linkNormal(seed, 1, b, 0) * linkNormal(seed, 1, b + 1, 0)
  assert.ok(Math.abs(cb / 10_000) < 0.04, `neighbouring links correlate ${cb / 10_000}`)
  assert.is.not(linkNormal(seed, 1, 2, 0), linkNormal(seed + 1, 1, 2, 0))
})

test.run()
