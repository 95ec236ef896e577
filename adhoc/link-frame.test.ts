import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BROADCAST } from '../core/addr.ts'
import { DecodeError } from '../core/errors.ts'
import {
  ACK_SIZE,
  BEACON_SIZE,
  dataHeaderSize,
  decodeBeaconBody,
  decodeFragmentHeader,
  decodeLinkFrame,
  encodeAck,
  encodeBeacon,
  encodeData,
  encodeLinkFrame,
  isFragmentFrame,
  KIND_ACK,
  KIND_BEACON,
  KIND_DATA,
  ownFrameKind,
  ownTxFrameKey,
  peekLinkAddresses,
  sentDataProto,
  txFrameKey,
  type LinkFrame,
} from './link-frame.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u8 = fc.integer({ min: 0, max: 255 })

const dataFrame: fc.Arbitrary<LinkFrame> = fc
  .record({
    src: node,
    bcast: fc.boolean(),
    dst: node,
    seq: u16,
    ackReq: fc.boolean(),
    proto: u8,
    frag: fc.option(fc.integer({ min: 2, max: 255 }).chain((count) => fc.record({ index: fc.integer({ min: 0, max: count - 1 }), count: fc.constant(count) })), { nil: null }),
    payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  })
  .map((r) => ({
    kind: 'data' as const,
    src: r.src,
    dst: r.bcast ? BROADCAST : r.dst,
    seq: r.seq,
    ackReq: r.bcast ? false : r.ackReq,
    proto: r.proto,
    frag: r.frag,
    payload: r.payload,
    authCounter: -1,
  }))
const beaconFrame: fc.Arbitrary<LinkFrame> = fc.record({
  kind: fc.constant('beacon' as const),
  src: node,
  seq: u16,
  intervalMs: fc.integer({ min: 1, max: 0xffff }).map((u) => u * 10),
  authCounter: fc.constant(-1),
})
const ackFrame: fc.Arbitrary<LinkFrame> = fc.record({ kind: fc.constant('ack' as const), src: node, dst: node, seq: u16, authCounter: fc.constant(-1) })
const anyFrame = fc.oneof(dataFrame, beaconFrame, ackFrame)

/** A comparable plain-JSON copy of a frame. */
function plain(f: LinkFrame): unknown {
  return JSON.parse(JSON.stringify({ ...f, ...('payload' in f ? { payload: [...f.payload] } : {}) }))
}

/** Runs `decode` and fails the property unless it returns or throws a DecodeError. */
function total<T>(decode: (b: Uint8Array) => T): (b: Uint8Array) => void {
  return (b) => {
    try {
      decode(b)
    } catch (e) {
      if (!(e instanceof DecodeError)) throw new Error(`threw a non-DecodeError: ${String(e)}`)
    }
  }
}

test('header sizes: data 8 broadcast / 12 unicast (+2 fragmented), beacon 9, ack 11', () => {
  assert.is(dataHeaderSize(true, false), 8)
  assert.is(dataHeaderSize(false, false), 12)
  assert.is(dataHeaderSize(true, true), 10)
  assert.is(dataHeaderSize(false, true), 14)
  assert.is(BEACON_SIZE, 9)
  assert.is(ACK_SIZE, 11)
  assert.is(encodeBeacon(7, 1, 1000).length, 9)
  assert.is(encodeAck(7, 8, 1).length, 11)
  assert.is(encodeData(7, BROADCAST, 1, false, 1, null, new Uint8Array(5)).length, 13)
  assert.is(encodeData(7, 9, 1, true, 1, { index: 0, count: 3 }, new Uint8Array(5)).length, 19)
})

test('a known unicast data frame has the documented bytes', () => {
  const b = encodeData(0x01020304, 0x0a0b0c0d, 0xbeef, true, 3, null, new Uint8Array([0xaa]))
  // version 1, kind DATA, flags ACKREQ
  assert.equal([...b], [0x44, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0xbe, 0xef, 3, 0xaa])
  const beacon = encodeBeacon(5, 0x0102, 1000)
  assert.equal([...beacon], [0x58, 0, 0, 0, 5, 1, 2, 0, 100])
  const ack = encodeAck(5, 6, 0x0304)
  assert.equal([...ack], [0x60, 0, 0, 0, 5, 0, 0, 0, 6, 3, 4])
})

test('every frame kind round-trips', () => {
  fc.assert(
    fc.property(anyFrame, (f) => {
      assert.equal(plain(decodeLinkFrame(encodeLinkFrame(f))), plain(f))
    }),
    { seed: 1, numRuns: 500 },
  )
})

test('arbitrary bytes decode to a frame or a DecodeError, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), total(decodeLinkFrame)), { seed: 2, numRuns: 5000 })
})

test('mutated valid frames (every kind) decode to a frame or a DecodeError', () => {
  const mutated = fc.tuple(anyFrame, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }), fc.nat({ max: 40 })).map(([f, flips, cut]) => {
    const b = encodeLinkFrame(f).slice()
    for (const [i, v] of flips) b[i % b.length] = v
    return b.subarray(0, Math.max(0, b.length - cut))
  })
  fc.assert(fc.property(mutated, total(decodeLinkFrame)), { seed: 3, numRuns: 5000 })
  // Bytes that start with each valid header byte reach the kind-specific parsers.
  const headed = fc.tuple(fc.constantFrom(0x40, 0x48, 0x44, 0x42, 0x4a, 0x46, 0x58, 0x60, 0x70, 0x41), fc.uint8Array({ maxLength: 30 })).map(([h, rest]) =>
    Uint8Array.of(h, ...rest),
  )
  fc.assert(fc.property(headed, total(decodeLinkFrame)), { seed: 4, numRuns: 5000 })
})

test('peekLinkAddresses agrees with the decoder on every valid frame, and is total on any bytes', () => {
  fc.assert(
    fc.property(anyFrame, (f) => {
      const bytes = encodeLinkFrame(f)
      const d = decodeLinkFrame(bytes)
      const dst = 'dst' in d ? d.dst : BROADCAST
      assert.equal(peekLinkAddresses(bytes), dst === BROADCAST ? { src: d.src } : { src: d.src, dst })
    }),
    { seed: 11, numRuns: 500 },
  )
  fc.assert(fc.property(fc.uint8Array({ maxLength: 16 }), (b) => {
    const p = peekLinkAddresses(b)
    assert.ok(p === undefined || (p.src >= 1 && p.src <= 0x7fffffff))
  }), { seed: 12, numRuns: 5000 })
  assert.is(peekLinkAddresses(new Uint8Array([0x40, 0, 0, 0])), undefined)
})

test('beacon body and fragment header decoders are total', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 6 }), total(decodeBeaconBody)), { seed: 5, numRuns: 2000 })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 6 }), total(decodeFragmentHeader)), { seed: 6, numRuns: 2000 })
  assert.is(decodeBeaconBody(Uint8Array.of(0, 100)), 1000)
  assert.equal(decodeFragmentHeader(Uint8Array.of(2, 3)), { index: 2, count: 3 })
})

function decodeErr(bytes: number[]): string {
  try {
    decodeLinkFrame(Uint8Array.from(bytes))
  } catch (e) {
    assert.instance(e, DecodeError)
    return (e as Error).message
  }
  throw new Error('expected a DecodeError')
}

test('AUTH frames: the 12-byte trailer is split off, its counter read, the rest decoded as usual', () => {
  const beacon = encodeLinkFrame({ kind: 'beacon', src: 7, seq: 3, intervalMs: 1000, authCounter: -1 })
  const sealed = new Uint8Array(beacon.length + 12)
  sealed.set(beacon)
  sealed[0] |= 0x01
  sealed.set([0, 1, 0, 2], beacon.length)
  const f = decodeLinkFrame(sealed)
  assert.equal(f, { kind: 'beacon', src: 7, seq: 3, intervalMs: 1000, authCounter: 65538 })
  assert.match(decodeErr([...sealed.subarray(0, sealed.length - 1)]), 'beacon interval')
})

test('invalid frames are refused with a DecodeError that says why', () => {
  assert.match(decodeErr([]), 'truncated')
  assert.match(decodeErr([0x80, 0, 0, 0, 1, 0, 0, 1]), 'unknown version 2')
  assert.match(decodeErr([0x00, 0, 0, 0, 1, 0, 0, 1]), 'unknown version 0')
  assert.match(decodeErr([0x78, 0, 0, 0, 1, 0, 0, 1]), 'unknown kind 3')
  assert.match(decodeErr([0x49, 0, 0, 0, 1, 0, 0, 1]), 'shorter than header + trailer')
  assert.match(decodeErr([0x48, 0, 0, 0, 0, 0, 0, 1]), 'src 0')
  assert.match(decodeErr([0x40, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 1]), 'not a node address')
  assert.match(decodeErr([0x4c, 0, 0, 0, 1, 0, 0, 1]), 'ACKREQ on a broadcast')
  assert.match(decodeErr([0x4a, 0, 0, 0, 1, 0, 1, 5, 1]), 'truncated')
  assert.match(decodeErr([0x4a, 0, 0, 0, 1, 0, 1, 7, 3, 3, 9]), 'index 3 >= count 3')
  assert.match(decodeErr([0x4a, 0, 0, 0, 1, 0, 1, 7, 0, 1, 9]), 'count 1 < 2')
  assert.match(decodeErr([0x4a, 0, 0, 0, 1, 0, 1, 7, 0, 2]), 'empty fragment')
  assert.match(decodeErr([0x58, 0, 0, 0, 1, 0, 0, 0, 0]), 'beacon interval 0')
  assert.match(decodeErr([0x58, 0, 0, 0, 1, 0, 0, 0, 1, 7]), 'trailing')
  assert.match(decodeErr([0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1]), 'BCAST only')
  assert.match(decodeErr([0x60, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0]), 'trailing')
  assert.match(decodeErr([0x68, 0, 0, 0, 1, 0, 1]), 'ack flags')
})

test('an empty unfragmented payload is a valid datagram', () => {
  const f = decodeLinkFrame(encodeData(1, 2, 3, false, 9, null, new Uint8Array(0)))
  assert.is(f.kind, 'data')
  assert.is(f.kind === 'data' && f.payload.length, 0)
})

test('ownTxFrameKey reads our unicast frames only', () => {
  const uni = encodeData(7, 9, 513, true, 1, null, new Uint8Array(3))
  assert.is(ownTxFrameKey(uni, 7), txFrameKey(9, true, 513))
  assert.is.not(txFrameKey(9, true, 513), txFrameKey(9, false, 513))
  assert.is(ownTxFrameKey(uni, 8), -1)
  assert.is(ownTxFrameKey(encodeData(7, BROADCAST, 1, false, 1, null, new Uint8Array(3)), 7), -1)
  assert.is(ownTxFrameKey(encodeAck(7, 9, 1), 7), -1)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), node, (b, self) => Number.isInteger(ownTxFrameKey(b, self))), { seed: 7, numRuns: 1000 })
})

test('ownFrameKind / sentDataProto / isFragmentFrame classify our sent frames from fixed offsets', () => {
  const frag = { index: 0, count: 2 }
  const cases: Array<[Uint8Array, number, number, boolean]> = [
    [encodeData(7, BROADCAST, 1, false, 2, null, new Uint8Array(3)), KIND_DATA, 2, false],
    [encodeData(7, 9, 1, true, 8, frag, new Uint8Array(3)), KIND_DATA, 8, true],
    [encodeData(7, BROADCAST, 1, false, 250, frag, new Uint8Array(1)), KIND_DATA, 250, true],
    [encodeData(7, 9, 1, false, 1, null, new Uint8Array(0)), KIND_DATA, 1, false],
  ]
  for (const [bytes, kind, proto, isFrag] of cases) {
    assert.is(ownFrameKind(bytes, 7), kind)
    assert.is(sentDataProto(bytes), proto)
    assert.is(isFragmentFrame(bytes), isFrag)
    assert.is(ownFrameKind(bytes, 8), -1, 'not ours')
  }
  assert.is(ownFrameKind(encodeBeacon(7, 1, 1000), 7), KIND_BEACON)
  assert.is(ownFrameKind(encodeAck(7, 9, 1), 7), KIND_ACK)
  assert.is(ownFrameKind(Uint8Array.of(0xf0, 0, 0, 0, 7, 0, 0), 7), -1, 'kind 3')
  assert.is(ownFrameKind(Uint8Array.of(0x58, 0, 0, 0), 7), -1, 'short')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), node, (b, self) => ownFrameKind(b, self) >= -1 && (b.length === 0 || sentDataProto(b) >= -1)), { seed: 8, numRuns: 1000 })
})

test.run()
