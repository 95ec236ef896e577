import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_SIM_RADIO, LORA_SIM_RADIO, SIM_RADIO_LIMITS, resolveSimRadioConfig, validateSimRadioConfig } from './sim-defaults.ts'
import { configError } from '../core/testing.ts'

test('the presets are valid and frozen', () => {
  validateSimRadioConfig(DEFAULT_SIM_RADIO)
  const lora = resolveSimRadioConfig(LORA_SIM_RADIO)
  assert.is(lora.mtu, 255)
  assert.is(lora.propagation, 'log-distance')
  assert.is(lora.dutyCycle, 0.01)
  assert.ok(lora.bitrate > 4000 && lora.bitrate < 6000)
  assert.is(DEFAULT_SIM_RADIO.bitrate, 2_000_000)
  assert.is(DEFAULT_SIM_RADIO.range, 250)
  assert.is(DEFAULT_SIM_RADIO.mtu, 1500)
  assert.is(DEFAULT_SIM_RADIO.csma.enabled, true)
  assert.ok(Object.isFrozen(DEFAULT_SIM_RADIO) && Object.isFrozen(DEFAULT_SIM_RADIO.csma))
})

test('a partial merges over the base, csma field by field, without touching the base', () => {
  const c = resolveSimRadioConfig({ range: 100, csma: { enabled: false } as never })
  assert.is(c.range, 100)
  assert.is(c.csma.enabled, false)
  assert.is(c.csma.slotMs, DEFAULT_SIM_RADIO.csma.slotMs)
  assert.is(DEFAULT_SIM_RADIO.csma.enabled, true)
  const d = resolveSimRadioConfig({ mtu: 100 }, c)
  assert.is(d.range, 100)
  assert.is(d.mtu, 100)
})

test('errors are ConfigErrors whose path names the field and whose message has the value', () => {
  const bad: Array<[object, string, RegExp]> = [
    [{ bitrate: 0 }, 'radio.bitrate', /^radio\.bitrate: must be >= 1, got 0$/],
    [{ range: -5 }, 'radio.range', /must be >= 1, got -5/],
    [{ mtu: 0 }, 'radio.mtu', /must be >= 16, got 0/],
    [{ mtu: 1.5 }, 'radio.mtu', /must be an integer, got 1\.5/],
    [{ loss: 1.5 }, 'radio.loss', /must be <= 1, got 1\.5/],
    [{ propagation: 'free' }, 'radio.propagation', /must be one of unit-disk, log-distance, got "free"/],
    [{ dutyCycle: 0 }, 'radio.dutyCycle', /must be > 0, got 0/],
    [{ interferenceRange: 0 }, 'radio.interferenceRange', /must be > 0/],
    [{ captureThresholdDb: Infinity }, 'radio.captureThresholdDb', /must be finite/],
    [{ csma: { minWindow: 64, maxWindow: 32 } }, 'radio.csma.maxWindow', /must be >= csma\.minWindow \(64\), got 32/],
    [{ csma: { maxAttempts: 0 } }, 'radio.csma.maxAttempts', /must be >= 1, got 0/],
    [{ csma: { enabled: 'yes' } }, 'radio.csma.enabled', /must be true or false, got "yes"/],
    [{ csma: { window: 3 } }, 'radio.csma.window', /unknown field/],
    [{ csma: 5 }, 'radio.csma', /must be a mapping/],
    [{ bitrate: '9600' }, 'radio.bitrate', /must be a number, got "9600"/],
    [{ queueLimit: 2.5 }, 'radio.queueLimit', /must be an integer/],
    [{ speed: 1 }, 'radio.speed', /unknown field \(known: range, /],
    [{ shadowingCorrelationM: 0 }, 'radio.shadowingCorrelationM', /must be >= 0\.1, got 0/],
  ]
  for (const [partial, path, re] of bad) {
    const e = configError(() => resolveSimRadioConfig(partial as never))
    assert.is(e.path, path, JSON.stringify(partial))
    assert.match(e.message, re, JSON.stringify(partial))
  }
  assert.is(configError(() => resolveSimRadioConfig(5 as never)).path, 'radio')
  assert.is(configError(() => resolveSimRadioConfig({ range: 0 }, DEFAULT_SIM_RADIO, 'scenario.radio')).path, 'scenario.radio.range')
  // a whole config is checked too, including fields a partial cannot reach
  assert.is(configError(() => validateSimRadioConfig({ ...DEFAULT_SIM_RADIO, csma: null } as never)).path, 'radio.csma')
})

test('bounds are deliberate: physically meaningful values pass, degenerate ones are refused', () => {
  const ok: object[] = [
    { transitionDb: 0 }, // a hard threshold
    { captureThresholdDb: null }, // any overlap destroys
    { captureThresholdDb: 0 },
    { mtu: 16 },
    { mtu: 65_535 },
    { queueTtlMs: Infinity }, // never expire
    { shadowingCorrelationM: Infinity }, // frozen link shadowing
    { shadowingDb: 0 },
    { csma: { slotMs: 0.001, minWindow: 2, maxWindow: 2 } },
    { csma: { maxAttempts: Infinity } },
    { preambleMs: 0 },
    { bitrate: 1 },
  ]
  for (const partial of ok) resolveSimRadioConfig(partial as never)
  const refused: Array<[object, string]> = [
    [{ csma: { slotMs: 1e-300 } }, 'radio.csma.slotMs'], // would stop virtual time (the reported hang)
    [{ csma: { slotMs: 0.0009 } }, 'radio.csma.slotMs'],
    [{ csma: { minWindow: 1, maxWindow: 1 } }, 'radio.csma.minWindow'], // zero backoff forever
    [{ mtu: 15 }, 'radio.mtu'], // no room for a link header
    [{ captureThresholdDb: -3 }, 'radio.captureThresholdDb'],
    [{ transitionDb: -1 }, 'radio.transitionDb'],
    [{ preambleMs: 60_000 }, 'radio.preambleMs'],
    [{ bitrate: 0.5 }, 'radio.bitrate'],
    [{ bitrate: 1e12 }, 'radio.bitrate'],
    [{ queueTtlMs: 0.5 }, 'radio.queueTtlMs'],
    [{ queueLimit: 1e9 }, 'radio.queueLimit'],
    [{ txPowerDbm: 100 }, 'radio.txPowerDbm'], // 100 mW given as dBm
    [{ pathLossExponent: 0.5 }, 'radio.pathLossExponent'],
    [{ dutyCycleWindowMs: 0 }, 'radio.dutyCycleWindowMs'],
    [{ range: 0.5 }, 'radio.range'],
  ]
  for (const [partial, path] of refused) assert.is(configError(() => resolveSimRadioConfig(partial as never)).path, path, JSON.stringify(partial))
  // every numeric field has a documented limit
  for (const k of Object.keys(DEFAULT_SIM_RADIO)) {
    if (k === 'propagation' || k === 'csma') continue
    assert.ok(k in SIM_RADIO_LIMITS, `${k} has limits`)
  }
})

test('shadowing correlation distance defaults: 20 m Wi-Fi-like, 50 m LoRa-like', () => {
  assert.is(DEFAULT_SIM_RADIO.shadowingCorrelationM, 20)
  assert.is(resolveSimRadioConfig(LORA_SIM_RADIO).shadowingCorrelationM, 50)
})

test.run()
