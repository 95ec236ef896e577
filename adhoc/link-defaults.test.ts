import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../core/errors.ts'
import { airtimeMs } from '../hardware/airtime.ts'
import { DEFAULT_SIM_RADIO, LORA_SIM_RADIO } from '../hardware/sim-defaults.ts'
import {
  ACK_SLACK_MS,
  BEACON_FRAME_BYTES,
  DEFAULT_LINK_CONFIG,
  LORA_LINK_CONFIG,
  beaconAirtimeShare,
  resolveLinkTiming,
  validateLinkConfig,
} from './link-defaults.ts'
import { ACK_SIZE } from './link-frame.ts'

const lora = LORA_SIM_RADIO as Required<typeof LORA_SIM_RADIO>
const loraAir = (bytes: number): number => airtimeMs(bytes, lora.bitrate, lora.preambleMs)

test('defaults validate; partial configs fill in; errors name the path', () => {
  assert.equal(validateLinkConfig(), { ...DEFAULT_LINK_CONFIG })
  assert.is(validateLinkConfig({ maxRetries: 5 }).maxRetries, 5)
  assert.is(validateLinkConfig({ maxRetries: undefined }).maxRetries, DEFAULT_LINK_CONFIG.maxRetries)
  assert.is(validateLinkConfig({ beaconIntervalMs: 0 }).beaconIntervalMs, 0)
  const err = (fn: () => unknown): ConfigError => {
    try {
      fn()
    } catch (e) {
      if (e instanceof ConfigError) return e
      throw e
    }
    throw new Error('did not throw')
  }
  assert.is(err(() => validateLinkConfig({ maxRetries: -1 })).message, 'link.maxRetries: must be >= 0, got -1')
  assert.is(err(() => validateLinkConfig({ rssiAlpha: 0 }, 'x')).path, 'x.rssiAlpha')
  assert.is(err(() => validateLinkConfig({ maxRetries: '3' })).message, 'link.maxRetries: must be a number, got "3"')
  assert.is(err(() => validateLinkConfig(null as unknown as {})).path, 'link')
  assert.is(err(() => validateLinkConfig({ nope: 1 })).path, 'link.nope')
})

test('LoRa: 1 s beacons would take 2.6 × a 1 % duty budget; LORA_LINK_CONFIG keeps them under 5 % of it', () => {
  assert.is(BEACON_FRAME_BYTES, 9)
  const dflt = beaconAirtimeShare(DEFAULT_LINK_CONFIG, loraAir)
  assert.ok(Math.abs(dflt - 0.0257) < 0.0001, `default on LoRa: ${dflt}`)
  assert.ok(dflt / lora.dutyCycle > 2.5)
  const cfg = validateLinkConfig(LORA_LINK_CONFIG)
  const share = beaconAirtimeShare(cfg, loraAir)
  assert.ok(share <= 0.05 * lora.dutyCycle, `LoRa beacons use ${(share / lora.dutyCycle) * 100} % of the duty budget`)
  assert.is(beaconAirtimeShare({ beaconIntervalMs: 0 }, loraAir), 0)
})

test('LoRa: timers outlast the radio queue TTL, so a frame held for the duty cycle is not reported failed early', () => {
  const cfg = validateLinkConfig(LORA_LINK_CONFIG)
  assert.ok(cfg.radioReportTimeoutMs > lora.queueTtlMs + loraAir(lora.mtu))
  assert.ok(cfg.reassemblyTimeoutMs >= lora.queueTtlMs, 'a fragment may wait a queue TTL for the next')
  assert.ok(cfg.txQueueTtlMs >= lora.queueTtlMs)
  assert.ok(cfg.neighbourExpiryMs >= (cfg.allowedBeaconLoss + 1.5) * cfg.beaconIntervalMs)
  // And the Wi-Fi-like defaults are consistent with the default radio.
  assert.ok(DEFAULT_LINK_CONFIG.radioReportTimeoutMs > DEFAULT_SIM_RADIO.queueTtlMs)
})

test('derived ack timeout: airtime of the ack and two full frames, preamble included, plus slack', () => {
  const radio = { mtu: lora.mtu, airtimeMs: loraAir }
  const t = resolveLinkTiming(validateLinkConfig(), radio)
  assert.is(t.ackTimeoutMs, loraAir(ACK_SIZE) + 2 * loraAir(lora.mtu) + ACK_SLACK_MS)
  assert.ok(t.ackTimeoutMs > 2 * lora.preambleMs + 2 * ((lora.mtu * 8000) / lora.bitrate), 'preambles counted')
  assert.is(t.retryBackoffMs, loraAir(lora.mtu))
  const fixed = resolveLinkTiming(validateLinkConfig({ ackTimeoutMs: 2000, retryBackoffMs: 50 }), radio)
  assert.equal(fixed, { ackTimeoutMs: 2000, retryBackoffMs: 50 })
})

test.run()
