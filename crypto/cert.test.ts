import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { Encoder } from 'cbor-x'
import { DecodeError, SpinmeshError } from '../core/errors.ts'
import { checkDecoderProperties } from '../core/testing.ts'
import {
  CertificateError, checkIssuer, decodeCertificate, decodeNetworkInfo, decodeRevocationList, encodeNetworkInfo, formatOf,
  issueCertificate, issueRevocationList, networkIdOf, networkInfo, TrustAnchor, type CertRejection, type Certificate,
} from './cert.ts'
import { identityFromSecrets, type Identity } from './identity.ts'

const key = (n: number) => identityFromSecrets(new Uint8Array(32).fill(n), new Uint8Array(32).fill(n + 100))
const authority = key(1)
const net = networkInfo('test-net', authority.publicKey)
const otherAuthority = key(2)
const otherNet = networkInfo('test-net', otherAuthority.publicKey)
const node = key(3)
const T0 = 1_700_000_000
const DAY = 86_400
const issue = (subject: Identity = node, o: Partial<{ roles: string[]; notBefore: number; notAfter: number; address: number }> = {}, a = authority, n = net) =>
  issueCertificate(a, n, subject, { roles: ['gateway', 'relay'], notBefore: T0, notAfter: T0 + 30 * DAY, ...o })

function rejection(fn: () => unknown): CertificateError {
  try {
    fn()
  } catch (e) {
    assert.instance(e, CertificateError, String(e))
    assert.is((e as CertificateError).code, 'ERR_BAD_CERT')
    return e as CertificateError
  }
  return assert.unreachable('expected a CertificateError') as never
}

test('network info: id from the authority key, name validated, round trip', () => {
  assert.is(net.id.length, 8)
  assert.equal(net.id, networkIdOf(authority.publicKey))
  assert.not.equal(net.id, otherNet.id)
  const back = decodeNetworkInfo(encodeNetworkInfo(net))
  assert.equal([back.name, back.authority, back.id], [net.name, net.authority, net.id])
  for (const bad of ['', 'has space', 'a/b', 'x'.repeat(65), 'é']) {
    assert.throws(() => networkInfo(bad, authority.publicKey), (e: unknown) => e instanceof SpinmeshError && /network name/.test(e.message))
  }
  assert.ok(networkInfo('A.b_c-9', authority.publicKey))
  assert.is(net.addressing, 'derived')
  const assigned = networkInfo('sim', authority.publicKey, 'assigned')
  assert.not.equal(assigned.id, net.id, 'the addressing is bound into the id')
  assert.equal(assigned.id, networkIdOf(authority.publicKey, 'assigned'))
  const back2 = decodeNetworkInfo(encodeNetworkInfo(assigned))
  assert.equal([back2.addressing, back2.id], ['assigned', assigned.id])
  assert.is(encodeNetworkInfo(assigned).length, encodeNetworkInfo(networkInfo('sim', authority.publicKey)).length + 2)
  assert.is(formatOf(encodeNetworkInfo(net)), 'spinmesh-network')
})

test('certificates: issue → decode round trip; a 2-role certificate fits a LoRa frame', () => {
  const c = issue()
  assert.is(c.address, node.address)
  assert.equal(c.ed25519, node.publicKey)
  assert.equal(c.x25519, node.x25519PublicKey)
  assert.equal(c.network, net.id)
  assert.equal([...c.roles], ['gateway', 'relay'])
  assert.is(c.signature.length, 64)
  const d = decodeCertificate(c.bytes)
  assert.equal([d.address, d.ed25519, d.x25519, [...d.roles], d.notBefore, d.notAfter, d.network, d.signature, d.body, d.bytes],
    [c.address, c.ed25519, c.x25519, [...c.roles], c.notBefore, c.notAfter, c.network, c.signature, c.body, c.bytes])
  assert.ok(c.bytes.length < 200, `certificate is ${c.bytes.length} bytes`)
  console.log(`  2-role certificate (gateway, relay): ${c.bytes.length} bytes`)
  assert.is(formatOf(c.bytes), 'spinmesh-cert')
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.roles))
})

test('issueCertificate validates its arguments', () => {
  const bad = (o: Parameters<typeof issue>[1], re: RegExp) =>
    assert.throws(() => issue(node, o), (e: unknown) => e instanceof SpinmeshError && e.code === 'ERR_INVALID_ARGUMENT' && re.test(e.message))
  bad({ roles: [] }, /1-16 roles/)
  bad({ roles: Array.from({ length: 17 }, (_, i) => `r${i}`) }, /1-16 roles/)
  bad({ roles: ['Gateway'] }, /lowercase letter/)
  bad({ roles: ['a'.repeat(25)] }, /lowercase letter/)
  bad({ roles: ['relay', 'relay'] }, /twice/)
  bad({ notBefore: T0 + 1, notAfter: T0 }, /after notAfter/)
  bad({ notAfter: 2 ** 32 }, /unix seconds/)
  assert.throws(() => issue(node, {}, otherAuthority, net), /not the authority/)
})

test('check: every rejection reason, in order', () => {
  const anchor = new TrustAnchor(net)
  const c = issue()
  anchor.check(c, T0)
  anchor.check(c, T0 + 30 * DAY) // notAfter is inclusive
  assert.equal(anchor.checkBytes(c.bytes, T0 + DAY).bytes, c.bytes)
  const reason = (fn: () => unknown): CertRejection => rejection(fn).reason

  assert.is(reason(() => anchor.checkBytes(Uint8Array.of(1, 2, 3), T0)), 'malformed')
  assert.is(reason(() => anchor.checkBytes(new Uint8Array(0), T0)), 'malformed')
  const sigFlip = c.bytes.slice()
  sigFlip[sigFlip.length - 1] ^= 1
  const e = rejection(() => anchor.checkBytes(sigFlip, T0))
  assert.is(e.reason, 'bad-signature')
  assert.is(e.address, node.address)
  // A body byte changed (an X25519 key byte: still well-formed) and the envelope re-wrapped.
  const body = c.body.slice()
  const at = Buffer.from(body).indexOf(Buffer.from(node.x25519PublicKey))
  assert.ok(at > 0)
  body[at + 5] ^= 0x55
  const rewrapped = new Uint8Array(new Encoder({ useRecords: false, tagUint8Array: false }).encode(['spinmesh-cert', 1, body, c.signature]))
  assert.is(reason(() => anchor.checkBytes(rewrapped, T0)), 'bad-signature')
  // Signed by another authority for its own network; and signed by it claiming ours.
  assert.is(reason(() => anchor.check(issue(node, {}, otherAuthority, otherNet), T0)), 'wrong-network')
  const forged = issueCertificate(otherAuthority, otherNet, node, { roles: ['relay'], notBefore: T0, notAfter: T0 + DAY })
  const claimOurs = reSign(forged, net.id, otherAuthority)
  assert.is(reason(() => anchor.checkBytes(claimOurs, T0)), 'bad-signature')
  assert.is(reason(() => anchor.check(c, T0 - 1)), 'not-yet-valid')
  assert.is(reason(() => anchor.check(c, T0 + 30 * DAY + 1)), 'expired')
  // Order: a forged, expired certificate reports the signature.
  assert.is(reason(() => anchor.checkBytes(sigFlip, T0 + 365 * DAY)), 'bad-signature')
  const revoking = new TrustAnchor(net, issueRevocationList(authority, net, [node.address], 1, T0))
  const r = rejection(() => revoking.check(c, T0))
  assert.is(r.reason, 'revoked')
  assert.is(r.address, node.address)
  assert.is(reason(() => revoking.check(c, T0 + 31 * DAY)), 'expired')
  checkIssuer(net, c)
})

/** The certificate's body with another network id (and address), signed by `by` (what a forger can make). */
function reSign(c: Certificate, network: Uint8Array, by: Identity, address = c.address): Uint8Array {
  const enc = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false })
  const body = new Uint8Array(enc.encode(new Map<number, unknown>([
    [1, network], [2, address], [3, c.ed25519], [4, c.x25519], [5, [...c.roles]], [6, c.notBefore], [7, c.notAfter],
  ])))
  const sig = by.sign(new Uint8Array([...new TextEncoder().encode('spinmesh/cert/v1'), ...body]))
  return new Uint8Array(enc.encode(['spinmesh-cert', 1, body, sig]))
}

test('addressing: a derived network refuses a certificate whose address is not its key\'s; an assigned one takes any', () => {
  assert.throws(() => issue(node, { address: node.address + 1 }), /derives addresses from keys/)
  issue(node, { address: node.address })
  const wrong = reSign(issue(), net.id, authority, node.address === 1 ? 2 : 1)
  const d = decodeCertificate(wrong) // structurally fine
  assert.is(rejection(() => new TrustAnchor(net).check(d, T0)).reason, 'malformed')
  const simNet = networkInfo('sim', authority.publicKey, 'assigned')
  const c = issueCertificate(authority, simNet, node, { roles: ['node'], notBefore: T0, notAfter: T0 + DAY, address: 7 })
  assert.is(c.address, 7)
  new TrustAnchor(simNet).check(decodeCertificate(c.bytes), T0)
  assert.is(rejection(() => new TrustAnchor(net).check(c, T0)).reason, 'wrong-network')
  assert.throws(() => issueCertificate(authority, simNet, node, { roles: ['node'], notBefore: T0, notAfter: T0 + DAY }), /needs an address/)
})

test('check: a hand-made object cannot carry fields its signed bytes do not have', () => {
  const anchor = new TrustAnchor(net)
  const c = issue()
  const fake = { ...c, roles: ['admin'] } as Certificate
  assert.is(rejection(() => anchor.check(fake, T0)).reason, 'malformed')
  anchor.check({ ...c } as Certificate, T0) // an identical copy is fine
})

test('revocation lists: round trip, install only newer ones from the authority', () => {
  const crl0 = issueRevocationList(authority, net, [], 0, T0)
  const crl1 = issueRevocationList(authority, net, [9, 5, 5, 7], 1, T0 + 10)
  const d = decodeRevocationList(crl1.bytes)
  assert.equal([d.number, d.issuedAt, [...d.revoked], d.network], [1, T0 + 10, [5, 7, 9], net.id])
  assert.equal(d.bytes, crl1.bytes)
  assert.is(formatOf(crl1.bytes), 'spinmesh-crl')
  const anchor = new TrustAnchor(net, crl0)
  assert.is(anchor.revocations?.number, 0)
  assert.equal(anchor.updateRevocations(crl1), [5, 7, 9])
  assert.ok(anchor.isRevoked(7))
  assert.not.ok(anchor.isRevoked(6))
  const stale = rejection(() => anchor.updateRevocations(crl1))
  assert.match(stale.message, /not newer than the installed #1/)
  rejection(() => anchor.updateRevocations(crl0))
  const crl2 = issueRevocationList(authority, net, [5, 7, 9, 11], 2, T0 + 20)
  assert.equal(anchor.updateRevocations(crl2), [11])
  // Forged: another authority's list for our network id, or a tampered signature.
  const forged = issueRevocationList(otherAuthority, otherNet, [1, 2, 3], 99, T0)
  assert.is(rejection(() => anchor.updateRevocations(forged)).reason, 'wrong-network')
  const tampered = crl2.bytes.slice()
  tampered[tampered.length - 1] ^= 1
  assert.is(rejection(() => anchor.updateRevocations(decodeRevocationList(tampered))).reason, 'bad-signature')
  assert.is(anchor.revocations?.number, 2)
  assert.is(rejection(() => new TrustAnchor(net, decodeRevocationList(tampered))).reason, 'bad-signature')
  assert.throws(() => issueRevocationList(authority, net, [0], 3, T0), /not a node address/)
  assert.throws(() => issueRevocationList(authority, net, [0x80000000], 3, T0), /not a node address/)
})

test('decoders reject what they do not understand', () => {
  const enc = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false })
  const cb = (v: unknown) => new Uint8Array(enc.encode(v))
  const c = issue()
  const err = (f: (b: Uint8Array) => unknown, b: Uint8Array, re: RegExp) => assert.throws(() => f(b), (e: unknown) => e instanceof DecodeError && re.test(e.message))
  err(decodeCertificate, cb(['spinmesh-crl', 1, c.body, c.signature]), /format is not "spinmesh-cert"/)
  err(decodeCertificate, cb(['spinmesh-cert', 2, c.body, c.signature]), /version 2/)
  err(decodeCertificate, cb(['spinmesh-cert', 1, c.body, c.signature.subarray(1)]), /signature must be 64 bytes/)
  err(decodeCertificate, new Uint8Array([...c.bytes, 0]), /./)
  const body = (m: Map<number, unknown>) => cb(['spinmesh-cert', 1, cb(m), c.signature])
  const fields = () => new Map<number, unknown>([[1, c.network], [2, c.address], [3, c.ed25519], [4, c.x25519], [5, ['relay']], [6, T0], [7, T0 + 1]])
  decodeCertificate(body(fields()))
  err(decodeCertificate, body(new Map([...fields(), [8, 0]])), /unknown key/)
  err(decodeCertificate, body(fields().set(2, 0x80000000)), /node address/)
  err(decodeCertificate, body(fields().set(5, ['relay', 'relay'])), /twice/)
  err(decodeCertificate, body(fields().set(6, T0 + 2)), /after notAfter/)
  err(decodeCertificate, body(fields().set(4, new Uint8Array(31))), /x25519 must be 32 bytes/)
  const m = fields()
  m.delete(7)
  err(decodeCertificate, body(m), /key 7 is missing/)
  // Keys out of order are not canonical.
  err(decodeCertificate, body(new Map([...fields()].reverse())), /canonical/)
  // A non-minimal integer (map key 1 written as 0x18 0x01).
  const canon = cb(fields())
  assert.equal([canon[0], canon[1]], [0xa7, 0x01])
  const long = new Uint8Array([0xa7, 0x18, 0x01, ...canon.subarray(2)])
  err(decodeCertificate, cb(['spinmesh-cert', 1, long, c.signature]), /canonical/)
  // A 64-bit integer decodes as a bigint: refused too.
  const t = canon.length - 5 // notAfter: 0x1a + 4 bytes
  assert.is(canon[t], 0x1a)
  err(decodeCertificate, body(fields().set(7, 2n ** 40n)), /unix seconds/)
  // An indefinite-length role list.
  const roles = Buffer.from(canon).indexOf(Buffer.from([0x05, 0x81, 0x65, 0x72])) + 1 // key 5: [ "relay" ]
  assert.ok(roles > 0)
  const indef = new Uint8Array([...canon.subarray(0, roles), 0x9f, ...canon.subarray(roles + 1, roles + 7), 0xff, ...canon.subarray(roles + 7)])
  err(decodeCertificate, cb(['spinmesh-cert', 1, indef, c.signature]), /canonical/)
  const crl = issueRevocationList(authority, net, [5, 7], 1, T0)
  const crlBody = (list: unknown[]) => cb(['spinmesh-crl', 1, cb(new Map<number, unknown>([[1, net.id], [2, 1], [3, T0], [4, list]])), crl.signature])
  decodeRevocationList(crlBody([5, 7]))
  err(decodeRevocationList, crlBody([7, 5]), /sorted and unique/)
  err(decodeRevocationList, crlBody([5, 5]), /sorted and unique/)
  err(decodeRevocationList, crlBody([0]), /not a node address/)
  err(decodeNetworkInfo, cb(['spinmesh-network', 1, new Map<number, unknown>([[1, 'bad name'], [2, authority.publicKey]])]), /network name/)
})

test('decoders are total: arbitrary and mutated bytes give a value or a DecodeError', () => {
  const subjects = [3, 4, 5].map(key)
  const certArb = fc.record({
    s: fc.constantFrom(...subjects),
    roles: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 4 }),
    nb: fc.integer({ min: 0, max: 2 ** 31 }),
    len: fc.integer({ min: 0, max: 2 ** 31 }),
  })
  checkDecoderProperties({
    decode: decodeCertificate,
    valid: certArb,
    encode: (m) => issue(m.s, { roles: m.roles, notBefore: m.nb, notAfter: m.nb + m.len }).bytes,
    typeBytes: [0x84],
    numRuns: 400,
  })
  checkDecoderProperties({
    decode: decodeRevocationList,
    valid: fc.record({ list: fc.uniqueArray(fc.integer({ min: 1, max: 0x7fffffff }), { maxLength: 20 }), n: fc.nat(), at: fc.nat() }),
    encode: (m) => issueRevocationList(authority, net, m.list, m.n, m.at).bytes,
    typeBytes: [0x84],
    numRuns: 400,
  })
  checkDecoderProperties({
    decode: decodeNetworkInfo,
    valid: fc.record({ name: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), a: fc.constantFrom(authority.publicKey, otherAuthority.publicKey), assigned: fc.boolean() }),
    encode: (m) => encodeNetworkInfo(networkInfo(m.name, m.a, m.assigned ? 'assigned' : 'derived')),
    typeBytes: [0x83],
    numRuns: 1000,
  })
})

test.run()
