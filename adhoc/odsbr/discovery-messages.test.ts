import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DecodeError } from '../../core/errors.ts'
import { checkDecoderProperties, decodeOrError } from '../../core/testing.ts'
import { SIGNATURE_BYTES } from '../../crypto/origin-auth.ts'
import { linkKey } from './odsbr-types.ts'
import {
  DISCOVERY_SIGNATURE_SIZE, MSG_REQUEST, MSG_RESPONSE, REQUEST_BASE_SIZE, RESPONSE_BASE_SIZE, REQUEST_DOMAIN, RESPONSE_DOMAIN, RESPONSE_HOP_DOMAIN,
  decodeDiscovery, encodeRequest, encodeResponse, relayRequest, requestSignedBytes, responseHopSignedBytes, responseSignedBytes,
  type DiscoveryMessage, type OdsbrRequest, type OdsbrResponse, type WeightEntry,
} from './discovery-messages.ts'

const node = fc.integer({ min: 1, max: 0x7fffffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u8 = fc.integer({ min: 0, max: 255 })
const sig = fc.uint8Array({ minLength: 64, maxLength: 64 })
const entry = fc.record({ a: node, b: node, weight: fc.integer({ min: 1, max: 0xffff }) }).filter((e) => e.a !== e.b)
const weights = fc.uniqueArray(entry, { maxLength: 12, selector: (e) => linkKey(e.a, e.b) })
const request: fc.Arbitrary<OdsbrRequest> = fc.record({
  type: fc.constant('request' as const), ttl: fc.integer({ min: 1, max: 255 }), hops: u8, reqId: u32, source: node, dst: node, weights, signature: sig,
}).filter((m) => m.source !== m.dst)
const response: fc.Arbitrary<OdsbrResponse> = fc.record({
  type: fc.constant('response' as const), reqId: u32, source: node, dst: node, weights, dstSignature: sig,
  hops: fc.uniqueArray(fc.record({ node, signature: sig }), { maxLength: 6, selector: (h) => h.node }),
}).filter((m) => m.source !== m.dst && m.hops.every((h) => h.node !== m.source && h.node !== m.dst))
const message: fc.Arbitrary<DiscoveryMessage> = fc.oneof(request, response)
const encode = (m: DiscoveryMessage): Uint8Array => (m.type === 'request' ? encodeRequest(m) : encodeResponse(m))
const plain = (m: object): unknown => JSON.parse(JSON.stringify(m, (_, v: unknown) => (v instanceof Uint8Array ? [...v] : v)))
const text = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n))

const s = (fill: number): Uint8Array => new Uint8Array(64).fill(fill)
const w1: WeightEntry[] = [{ a: 2, b: 3, weight: 8 }]
const req: Omit<OdsbrRequest, 'type'> = { ttl: 16, hops: 0, reqId: 0x01020304, source: 1, dst: 5, weights: w1, signature: s(7) }
const res: Omit<OdsbrResponse, 'type'> = { reqId: 0x01020304, source: 1, dst: 5, weights: w1, dstSignature: s(9), hops: [{ node: 4, signature: s(4) }, { node: 3, signature: s(3) }] }

function rejects(b: Uint8Array, why: RegExp): void {
  const e = decodeOrError(decodeDiscovery, b)
  assert.instance(e, DecodeError, `expected a DecodeError matching ${why}`)
  assert.match((e as DecodeError).message, why)
}

test('documented sizes and byte layouts', () => {
  assert.is(DISCOVERY_SIGNATURE_SIZE, SIGNATURE_BYTES)
  const q = encodeRequest(req)
  assert.is(q.length, REQUEST_BASE_SIZE + 10)
  assert.is(REQUEST_BASE_SIZE, 81)
  assert.equal([...q.subarray(0, 27)], [MSG_REQUEST, 0, 16, 0, 1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 5, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 8])
  assert.equal([...q.subarray(27)], [...s(7)])
  const p = encodeResponse(res)
  assert.is(RESPONSE_BASE_SIZE, 80)
  assert.is(p.length, 80 + 10 + 2 * 68)
  assert.equal([...p.subarray(0, 25)], [MSG_RESPONSE, 0, 1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 5, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 8])
  assert.equal([...p.subarray(25, 89)], [...s(9)])
  assert.equal([...p.subarray(89, 94)], [2, 0, 0, 0, 4])
  assert.equal([...p.subarray(158, 162)], [0, 0, 0, 3])
})

test('REQUEST and RESPONSE round-trip', () => {
  fc.assert(fc.property(message, (m) => assert.equal(plain(decodeDiscovery(encode(m))), plain(m))), { seed: 61, numRuns: 1500 })
})

test('decoders are total', () => {
  checkDecoderProperties({ decode: decodeDiscovery, valid: message, encode, typeBytes: [MSG_REQUEST, MSG_RESPONSE], numRuns: 2000 })
})

test('decoders reject flags, ttl 0, bad weights, looping or malformed paths, unknown types', () => {
  const q = encodeRequest(req)
  const flagged = q.slice()
  flagged[1] = 0x80
  rejects(flagged, /flag/)
  rejects(encodeRequest({ ...req, ttl: 0 }), /ttl 0/)
  rejects(encodeRequest({ ...req, dst: 1 }), /source and dst/)
  rejects(encodeRequest({ ...req, source: 0 }), /not a node address/)
  rejects(encodeRequest({ ...req, weights: [{ a: 2, b: 2, weight: 3 }] }), /itself/)
  rejects(encodeRequest({ ...req, weights: [{ a: 2, b: 3, weight: 3 }, { a: 3, b: 2, weight: 4 }] }), /twice/)
  const zero = q.slice()
  zero[26] = 0 // weight 8 → 0
  rejects(zero, /weight 0/)
  const many = q.slice()
  many[16] = 9 // nWeights 9, one entry present
  rejects(many, /nWeights 9/)
  rejects(encodeResponse({ ...res, hops: [...res.hops, { node: 4, signature: s(1) }] }), /appears twice/)
  rejects(encodeResponse({ ...res, hops: [{ node: 1, signature: s(1) }] }), /source/)
  rejects(encodeResponse({ ...res, hops: [{ node: 5, signature: s(1) }] }), /destination/)
  const p = encodeResponse(res)
  const cut = p.subarray(0, p.length - 1)
  rejects(cut, /nHops 2/)
  rejects(Uint8Array.of(3, 0), /unknown message type 3/)
  rejects(new Uint8Array(0), /truncated/)
  assert.throws(() => encodeRequest({ ...req, signature: new Uint8Array(63) }), RangeError)
  assert.throws(() => encodeRequest({ ...req, weights: [{ a: 2, b: 3, weight: 0x10000 }] }), RangeError)
  assert.throws(() => encodeResponse({ ...res, hops: [{ node: 4, signature: new Uint8Array(1) }] }), RangeError)
})

test('REQUEST signed bytes: domain-separated, ttl and hops excluded, every other field covered', () => {
  const base = requestSignedBytes(req)
  assert.is(text(base, REQUEST_DOMAIN.length), REQUEST_DOMAIN)
  assert.equal(requestSignedBytes({ ...req, ttl: 3, hops: 9 }), base)
  for (const f of [{ reqId: 5 }, { source: 2 }, { dst: 6 }, { weights: [] }, { weights: [{ a: 2, b: 3, weight: 9 }] }, { weights: [{ a: 2, b: 4, weight: 8 }] }]) {
    assert.not.equal(requestSignedBytes({ ...req, ...f }), base, JSON.stringify(f))
  }
  // The signed bytes are the message without its signature, ttl and hops zeroed.
  const q = encodeRequest({ ...req, ttl: 0, hops: 0 })
  assert.equal(base.subarray(REQUEST_DOMAIN.length), q.subarray(0, q.length - 64))
  // A relayed copy changes ttl and hops only.
  const relayed = relayRequest(encodeRequest(req), { type: 'request', ...req })
  assert.equal(plain(decodeDiscovery(relayed)), plain({ type: 'request', ...req, ttl: 15, hops: 1 }))
  assert.throws(() => relayRequest(encodeRequest({ ...req, ttl: 1 }), { type: 'request', ...req, ttl: 1 }), RangeError)
})

test('RESPONSE signed bytes: the destination signs the header; hop i signs everything before it plus its id', () => {
  const header = responseSignedBytes(res)
  assert.is(text(header, RESPONSE_DOMAIN.length), RESPONSE_DOMAIN)
  const p = encodeResponse(res)
  assert.equal(header.subarray(RESPONSE_DOMAIN.length), p.subarray(0, 25))
  const noHops: Omit<OdsbrResponse, 'type'> = { ...res, hops: [] }
  assert.equal(responseSignedBytes(noHops), header, 'hops are outside the destination signature')
  const d = RESPONSE_HOP_DOMAIN.length
  const h0 = responseHopSignedBytes(res, 0)
  assert.is(text(h0, d), RESPONSE_HOP_DOMAIN)
  // hop 0: header ‖ dstSignature ‖ its node; hop 1: ... ‖ (4, sig4) ‖ 3.
  assert.equal(h0.subarray(d), Uint8Array.from([...p.subarray(0, 89), 0, 0, 0, 4]))
  const h1 = responseHopSignedBytes(res, 1)
  assert.equal(h1.subarray(d), Uint8Array.from([...p.subarray(0, 89), ...p.subarray(90, 162)]))
  // Appending: the relay's own id after every existing hop.
  const h2 = responseHopSignedBytes(res, 2, 2)
  assert.equal(h2.subarray(d), Uint8Array.from([...p.subarray(0, 89), ...p.subarray(90), 0, 0, 0, 2]))
  // Changing an earlier hop (node or signature) or the order changes a later hop's bytes.
  assert.not.equal(responseHopSignedBytes({ ...res, hops: [{ node: 4, signature: s(5) }, res.hops[1]] }, 1), h1)
  assert.not.equal(responseHopSignedBytes({ ...res, hops: [res.hops[1], res.hops[0]] }, 1), h1)
  assert.not.equal(responseHopSignedBytes({ ...res, dstSignature: s(1) }, 0), h0)
  assert.throws(() => responseHopSignedBytes(res, 3), RangeError)
  assert.throws(() => responseHopSignedBytes(res, 2), RangeError, 'appending needs the new node')
})

test.run()
