import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configError } from '../core/testing.ts'
import { CobsFramer } from './cobs-framer.ts'
import { KissFramer } from './kiss-framer.ts'
import {
  DEFAULT_FRAMER_CONFIG, DEFAULT_KISS_FRAMER_CONFIG, MAX_FRAME_CEILING, validateFramerConfig, validateKissFramerConfig, validateRnodeRadioConfig,
} from './framer-defaults.ts'

test('defaults validate and are frozen', () => {
  assert.equal(validateFramerConfig(), { maxFrame: 4096 })
  assert.equal(validateKissFramerConfig(), { maxFrame: 4096, port: 0 })
  assert.ok(Object.isFrozen(DEFAULT_FRAMER_CONFIG) && Object.isFrozen(DEFAULT_KISS_FRAMER_CONFIG))
  assert.is(new CobsFramer().maxFrame, 4096)
  assert.is(new KissFramer({ maxFrame: 255, port: 1 }).port, 1)
})

test('config errors name the field under the caller path', () => {
  const cases: Array<[() => unknown, string, RegExp]> = [
    [() => validateFramerConfig({ maxFrame: 0 }), 'framer.maxFrame', /must be >= 1/],
    [() => validateFramerConfig({ maxFrame: 1.5 }), 'framer.maxFrame', /integer/],
    [() => validateFramerConfig({ maxFrame: MAX_FRAME_CEILING + 1 }), 'framer.maxFrame', /must be <= 1048576/],
    [() => validateFramerConfig({ maxFrame: '4k' }), 'framer.maxFrame', /must be a number/],
    [() => validateFramerConfig({ maxFrame: 64, mtu: 3 }), 'framer.mtu', /unknown field/],
    [() => validateKissFramerConfig({ port: 16 }), 'framer.port', /must be <= 15/],
    [() => validateKissFramerConfig({ port: 1 }, 'radio.serial.framer') && validateKissFramerConfig({ port: -1 }, 'radio.serial.framer'), 'radio.serial.framer.port', />= 0/],
    [() => new CobsFramer({ maxFrame: -1 }), 'framer.maxFrame', />= 1/],
    [() => validateRnodeRadioConfig({ frequencyHz: 868e6, bandwidthHz: 125e3, txPowerDbm: 31, spreadingFactor: 7, codingRate: 5 }), 'rnode.txPowerDbm', /<= 30/],
    [() => validateRnodeRadioConfig({ frequencyHz: 868e6, bandwidthHz: 125e3, txPowerDbm: 10, spreadingFactor: 7, codingRate: 9 }), 'rnode.codingRate', /<= 8/],
    [() => validateRnodeRadioConfig({ frequencyHz: 868e6 }), 'rnode.bandwidthHz', /required/],
    [() => validateRnodeRadioConfig({ freq: 1 }), 'rnode.freq', /unknown field/],
    [() => validateRnodeRadioConfig(null), 'rnode', /mapping/],
  ]
  for (const [fn, path, message] of cases) {
    const e = configError(fn)
    assert.is(e.path, path, e.message)
    assert.match(e.message, message)
  }
})

test.run()
