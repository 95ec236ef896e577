import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_SIM_RADIO, LORA_SIM_RADIO, resolveSimRadioConfig, validateSimRadioConfig } from './sim-defaults.ts'

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

test('errors name the field and the value', () => {
  const bad: Array<[object, RegExp]> = [
    [{ bitrate: 0 }, /^radio\.bitrate must be > 0, got 0$/],
    [{ range: -5 }, /radio\.range must be > 0/],
    [{ mtu: 0 }, /radio\.mtu must be an integer >= 1, got 0/],
    [{ loss: 1.5 }, /radio\.loss must be in \[0, 1\], got 1\.5/],
    [{ propagation: 'free' }, /radio\.propagation must be 'unit-disk' or 'log-distance', got "free"/],
    [{ dutyCycle: 0 }, /radio\.dutyCycle must be in \(0, 1\], got 0/],
    [{ interferenceRange: 0 }, /radio\.interferenceRange must be > 0/],
    [{ captureThresholdDb: Infinity }, /radio\.captureThresholdDb must be finite/],
    [{ csma: { minWindow: 64, maxWindow: 32 } }, /radio\.csma\.maxWindow must be >= csma\.minWindow \(64\), got 32/],
    [{ csma: { maxAttempts: 0 } }, /radio\.csma\.maxAttempts must be an integer >= 1, got 0/],
    [{ csma: { enabled: 'yes' } }, /radio\.csma\.enabled must be a boolean, got "yes"/],
    [{ csma: { window: 3 } }, /radio\.csma\.window is not a csma setting/],
    [{ bitrate: '9600' }, /radio\.bitrate must be a number, got "9600"/],
    [{ queueLimit: 2.5 }, /radio\.queueLimit must be an integer >= 1/],
    [{ speed: 1 }, /radio\.speed is not a radio setting/],
  ]
  for (const [partial, re] of bad) assert.throws(() => resolveSimRadioConfig(partial as never), re, JSON.stringify(partial))
  assert.throws(() => resolveSimRadioConfig(5 as never), /radio must be an object/)
  // Infinity is a valid TTL (never expire)
  assert.is(resolveSimRadioConfig({ queueTtlMs: Infinity }).queueTtlMs, Infinity)
})

test.run()
