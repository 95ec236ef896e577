import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from './errors.ts'
import { ByteReader, ByteWriter, getU32, putU32, seqDiff16, seqDiff32 } from './bytes.ts'

test('u8/u16/u32 round-trip big-endian and match DataView', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b, c) => {
      const w = new ByteWriter(7).u8(a).u16(b).u32(c)
      const dv = new DataView(w.bytes.buffer)
      assert.is(dv.getUint8(0), a)
      assert.is(dv.getUint16(1), b)
      assert.is(dv.getUint32(3), c)
      const r = new ByteReader(w.done())
      assert.equal([r.u8(), r.u16(), r.u32()], [a, b, c])
      assert.is(r.remaining, 0)
    }),
  )
})

test('getU32/putU32 agree with DataView at any offset; nodeAddr refuses non-node addresses', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 8 }), (v, at) => {
    const b = new Uint8Array(12)
    putU32(b, at, v)
    assert.is(new DataView(b.buffer).getUint32(at), v)
    assert.is(getU32(b, at), v)
  }))
  assert.is(new ByteReader(Uint8Array.of(0, 0, 0, 7)).nodeAddr('src'), 7)
  for (const bad of [[0, 0, 0, 0], [0x80, 0, 0, 1], [0xff, 0xff, 0xff, 0xff]]) {
    assert.throws(() => new ByteReader(Uint8Array.from(bad)).nodeAddr('src'), (e: unknown) => e instanceof DecodeError && /src \d+ is not a node address/.test((e as Error).message))
  }
})

test('reads past the end throw DecodeError naming the field, from any offset', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 0, max: 3 }), (bytes, op) => {
      const r = new ByteReader(bytes.subarray(1), 'thing')
      try {
        for (;;) [() => r.u8('a'), () => r.u16('b'), () => r.u32('c'), () => r.bytesView(3, 'd')][op]()
      } catch (e) {
        assert.instance(e, DecodeError)
        assert.match((e as Error).message, /^thing truncated: [abcd] needs/)
      }
    }),
  )
})

test('sequence differences wrap', () => {
  assert.is(seqDiff16(0, 0xffff), 1)
  assert.is(seqDiff16(0xffff, 0), -1)
  assert.is(seqDiff32(0, 0xffffffff), 1)
  assert.is(seqDiff32(0x7fffffff, 0), 0x7fffffff)
})

test.run()
