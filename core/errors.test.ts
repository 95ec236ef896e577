import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Counter } from './metrics.ts'
import { ConfigError, DecodeError, ErrorCodes, tryDecode } from './errors.ts'

const decodeFirst = (b: Uint8Array): number => {
  if (b.length === 0) throw new DecodeError('empty')
  if (b[0] === 0xff) throw new TypeError('a bug')
  return b[0]
}

test('tryDecode returns the value, or counts a DecodeError and gives undefined; other errors propagate', () => {
  const c = new Counter()
  assert.is(tryDecode(decodeFirst, new Uint8Array([7]), c), 7)
  assert.is(tryDecode(decodeFirst, new Uint8Array(0), c), undefined)
  assert.is(c.value, 1)
  const seen: string[] = []
  assert.is(tryDecode(decodeFirst, new Uint8Array(0), (e) => seen.push(e.message)), undefined)
  assert.equal(seen, ['empty'])
  assert.is(tryDecode(decodeFirst, new Uint8Array(0)), undefined)
  assert.throws(() => tryDecode(decodeFirst, new Uint8Array([0xff]), c), /a bug/)
})

test('errors carry stable codes; ConfigError carries the path in its message', () => {
  assert.is(new DecodeError('x').code, ErrorCodes.DECODE)
  const e = new ConfigError('radio.range', 'must be > 0, got -1')
  assert.is(e.code, 'ERR_CONFIG')
  assert.is(e.path, 'radio.range')
  assert.is(e.message, 'radio.range: must be > 0, got -1')
})

test.run()
