import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from './errors.ts'
import { checkNumber, validateFields, type FieldRule } from './validate.ts'

const path = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    assert.instance(e, ConfigError)
    return `${(e as ConfigError).path}: ${(e as Error).message}`
  }
  throw new Error('expected a ConfigError')
}

interface Cfg {
  window: number
  on: boolean
  even: number
}
const defaults: Cfg = { window: 64, on: true, even: 2 }
const rules: Record<keyof Cfg, FieldRule> = {
  window: { min: 32, max: 4096, powerOfTwo: true },
  on: 'boolean',
  even: (p, v) => {
    if (checkNumber(p, v) % 2 !== 0) throw new ConfigError(p, `must be even, got ${v}`)
  },
}

test('validateFields fills defaults, keeps undefined as default, and checks every field by its rule', () => {
  assert.equal(validateFields('x', {}, defaults, rules), defaults)
  assert.equal(validateFields('x', { window: 128, on: undefined }, defaults, rules), { window: 128, on: true, even: 2 })
  assert.match(path(() => validateFields('x', { window: 96 }, defaults, rules)), /^x\.window: .*power of two, got 96$/)
  assert.match(path(() => validateFields('x', { on: 1 }, defaults, rules)), /^x\.on: .*true or false/)
  assert.match(path(() => validateFields('x', { even: 3 }, defaults, rules)), /^x\.even: .*must be even/)
  assert.match(path(() => validateFields('x', { widnow: 64 }, defaults, rules)), /^x\.widnow: .*unknown field/)
  assert.match(path(() => validateFields('x', 5, defaults, rules)), /^x: .*mapping/)
  assert.match(path(() => validateFields('', { on: 'no' }, defaults, rules)), /^on: /)
})

test('checkNumber bounds, integers, Infinity and powers of two', () => {
  assert.is(checkNumber('a', 1024, { powerOfTwo: true }), 1024)
  assert.match(path(() => checkNumber('a', 0, { powerOfTwo: true })), /power of two/)
  assert.match(path(() => checkNumber('a', 2.5, { integer: true })), /integer/)
  assert.match(path(() => checkNumber('a', Infinity)), /finite/)
  assert.is(checkNumber('a', Infinity, { allowInfinity: true }), Infinity)
  assert.match(path(() => checkNumber('a', 0, { gt: 0 })), /> 0/)
  assert.match(path(() => checkNumber('a', '3')), /a number, got "3"/)
})

test.run()
