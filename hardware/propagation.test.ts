import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  dbmToMw, decodeProbability, derivePhysics, distanceForPowerDbm, meanRxPowerDbm, mwToDbm, pathLossDb,
  propagationDelayMs, reachM, sensitivityDbm,
} from './propagation.ts'
import { DEFAULT_SIM_RADIO, LORA_SIM_RADIO, resolveSimRadioConfig } from './sim-defaults.ts'

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`)

test('log-distance path loss and its inverse', () => {
  close(pathLossDb(100, 3, 40), 100)
  close(pathLossDb(0.2, 3, 40), 40) // below the 1 m reference distance
  const c = { txPowerDbm: 20, pathLossExponent: 3, referenceLossDb: 40 }
  close(meanRxPowerDbm(1000, c), -110)
  close(distanceForPowerDbm(-110, c), 1000, 1e-6)
  close(sensitivityDbm({ ...c, range: 1000 }), -110)
})

test('reception curve: 50 % at the sensitivity, steep with a small transition, a step at 0', () => {
  close(decodeProbability(-100, -100, 1), 0.5)
  assert.ok(decodeProbability(-95, -100, 1) > 0.99)
  assert.ok(decodeProbability(-105, -100, 1) < 0.01)
  assert.is(decodeProbability(-100, -100, 0), 1)
  assert.is(decodeProbability(-100.1, -100, 0), 0)
})

test('delay, unit conversions', () => {
  close(propagationDelayMs(299_792.458), 1)
  close(mwToDbm(dbmToMw(-87.5)), -87.5)
  close(dbmToMw(0), 1)
})

test('derived physics of the presets', () => {
  const wifi = derivePhysics(DEFAULT_SIM_RADIO)
  assert.is(wifi.logDistance, false)
  close(wifi.rangeSq, 250 * 250)
  close(wifi.interferenceSq, 550 * 550)
  assert.is(wifi.shadowingDb, 0) // shadowing only in log-distance mode
  close(reachM(DEFAULT_SIM_RADIO, -1000), 550)
  // interference range below the range acts as the range
  close(derivePhysics({ ...DEFAULT_SIM_RADIO, interferenceRange: 100 }).interferenceSq, 250 * 250)
  const lora = resolveSimRadioConfig(LORA_SIM_RADIO)
  const p = derivePhysics(lora)
  assert.ok(p.sensitivityDbm > -124 && p.sensitivityDbm < -122, `LoRa sensitivity ${p.sensitivityDbm}`)
  close(p.senseThresholdDbm, p.sensitivityDbm - 10)
  close(decodeProbability(p.lockThresholdDbm, p.sensitivityDbm, p.transitionDb), 0.01)
  // reach: mean power + 3 sigma = sense threshold
  const r = reachM(lora, p.senseThresholdDbm)
  close(meanRxPowerDbm(r, lora) + 3 * lora.shadowingDb, p.senseThresholdDbm, 1e-6)
})

test.run()
