import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpinmeshError } from '../core/errors.ts'
import { CertificateError, decodeNetworkInfo, decodeRevocationList } from './cert.ts'
import { addressOf, generateIdentity } from './identity.ts'
import {
  addressCollision, initNetwork, issueToNetwork, loadAuthority, loadCertificate, loadNetwork, revokeInNetwork, saveCertificate,
} from './network-dir.ts'

const root = mkdtempSync(join(tmpdir(), 'spinmesh-netdir-'))
test.after(() => rmSync(root, { recursive: true, force: true }))
const NOW = 1_750_000_000
let n = 0
const fresh = () => join(root, `net${n++}`, 'nested')

const bad = (code: string, re: RegExp) => (e: unknown) => e instanceof SpinmeshError && e.code === code && re.test(e.message)

test('init writes the directory (authority key 0600) and refuses to run twice', () => {
  const dir = fresh()
  const { network, authority } = initNetwork(dir, 'field-1')
  assert.is(statSync(join(dir, 'authority.key')).mode & 0o777, 0o600)
  assert.equal(decodeNetworkInfo(readFileSync(join(dir, 'network.cbor'))).id, network.id)
  const crl = decodeRevocationList(readFileSync(join(dir, 'revoked.crl')))
  assert.equal([crl.number, crl.revoked.size], [0, 0])
  assert.ok(existsSync(join(dir, 'certs')))
  assert.equal(loadAuthority(dir).publicKey, authority.publicKey)
  assert.throws(() => initNetwork(dir, 'again'), bad('ERR_INVALID_ARGUMENT', /network\.cbor already exists/))
  const loaded = loadNetwork(dir)
  assert.equal([loaded.network.name, loaded.roster.length, loaded.trust.revocations?.number], ['field-1', 0, 0])
})

test('issue, roster, re-issue for the same key, revoke', () => {
  const dir = fresh()
  const { network } = initNetwork(dir, 'field-2')
  const a = generateIdentity()
  const b = generateIdentity()
  const ca = issueToNetwork(dir, a, { roles: ['gateway'], days: 30, now: NOW })
  assert.is(ca.notBefore, NOW - 300)
  assert.is(ca.notAfter, NOW + 30 * 86400)
  issueToNetwork(dir, b, { roles: ['relay'], days: 1, now: NOW })
  const again = issueToNetwork(dir, a, { roles: ['gateway', 'relay'], days: 60, now: NOW + 10 })
  const { roster, trust } = loadNetwork(dir)
  assert.equal(roster.map((c) => c.address), [a.address, b.address].sort((x, y) => x - y))
  assert.equal([...roster.find((c) => c.address === a.address)!.roles], ['gateway', 'relay'])
  trust.check(again, NOW + 100)
  const file = join(dir, 'certs', `${a.address.toString(16).padStart(8, '0')}.cert`)
  assert.equal(loadCertificate(file).bytes, again.bytes)
  const out = join(root, 'copy.cert')
  saveCertificate(again, out)
  assert.equal(loadCertificate(out).bytes, again.bytes)

  const crl1 = revokeInNetwork(dir, [b.address], NOW + 20)
  const crl2 = revokeInNetwork(dir, [0x1234], NOW + 30)
  assert.equal([crl1.number, crl2.number], [1, 2])
  assert.equal([...crl2.revoked].sort((x, y) => x - y), [0x1234, b.address].sort((x, y) => x - y))
  const t2 = loadNetwork(dir).trust
  assert.ok(t2.isRevoked(b.address))
  assert.throws(() => t2.check(roster.find((c) => c.address === b.address)!, NOW), (e: unknown) => e instanceof CertificateError && e.reason === 'revoked')
  assert.throws(() => issueToNetwork(dir, b, { roles: ['relay'], days: 1, now: NOW }), bad('ERR_BAD_CERT', /is revoked/))
  assert.throws(() => revokeInNetwork(dir, [0], NOW), bad('ERR_INVALID_ARGUMENT', /not a node address/))
  assert.throws(() => issueToNetwork(dir, a, { roles: ['relay'], days: 0, now: NOW }), bad('ERR_INVALID_ARGUMENT', /days/))
  assert.throws(() => issueToNetwork(dir, a, { roles: ['relay'], days: 3651, now: NOW }), bad('ERR_INVALID_ARGUMENT', /days/))
  assert.throws(() => issueToNetwork(dir, a, { roles: ['Relay'], days: 1, now: NOW }), bad('ERR_INVALID_ARGUMENT', /role/))
  void network
})

/** Two 32-byte keys with the same address: a birthday search over counter keys (deterministic, ~60k hashes). */
function collidingKeys(): [Uint8Array, Uint8Array] {
  const seen = new Map<number, number>()
  const keyOf = (i: number) => {
    const k = new Uint8Array(32)
    new DataView(k.buffer).setUint32(0, i)
    return k
  }
  for (let i = 0; ; i++) {
    const a = addressOf(keyOf(i))
    const j = seen.get(a)
    if (j !== undefined) return [keyOf(j), keyOf(i)]
    seen.set(a, i)
  }
}

test('the roster refuses another key at a certified address', () => {
  const [k1, k2] = collidingKeys()
  assert.is(addressOf(k1), addressOf(k2))
  const dir = fresh()
  initNetwork(dir, 'field-3')
  const x = new Uint8Array(32).fill(9)
  const c1 = issueToNetwork(dir, { publicKey: k1, x25519PublicKey: x }, { roles: ['relay'], days: 1, now: NOW })
  const hex = addressOf(k1).toString(16).padStart(8, '0')
  assert.throws(() => issueToNetwork(dir, { publicKey: k2, x25519PublicKey: x }, { roles: ['relay'], days: 1, now: NOW }),
    bad('ERR_BAD_CERT', new RegExp(`address ${hex} is already certified.*same address ${hex}.*collision`)))
  assert.equal(loadNetwork(dir).roster.map((c) => c.bytes), [c1.bytes], 'the first certificate stays')
  assert.is(addressCollision(c1, k1), undefined)
  assert.match(addressCollision(c1, k2) ?? '', /collision/)
  assert.is(addressCollision(undefined, k2), undefined)
})

test('missing and corrupt files are named', () => {
  const dir = fresh()
  assert.throws(() => loadNetwork(dir), bad('ERR_BAD_CERT', /cannot read .*network\.cbor: ENOENT/))
  initNetwork(dir, 'field-4')
  const id = generateIdentity()
  issueToNetwork(dir, id, { roles: ['relay'], days: 1, now: NOW })
  writeFileSync(join(dir, 'revoked.crl'), 'garbage')
  assert.throws(() => loadNetwork(dir), bad('ERR_BAD_CERT', /revoked\.crl: revocation list: not CBOR/))
  // A revocation list from another network.
  const other = fresh()
  initNetwork(other, 'other')
  writeFileSync(join(dir, 'revoked.crl'), readFileSync(join(other, 'revoked.crl')))
  assert.throws(() => loadNetwork(dir), (e: unknown) => e instanceof CertificateError && e.reason === 'wrong-network' && /revoked\.crl/.test(e.message))
  writeFileSync(join(dir, 'revoked.crl'), readFileSync(join(other, 'revoked.crl')))
  // The other network's authority key is not ours.
  writeFileSync(join(dir, 'authority.key'), readFileSync(join(other, 'authority.key')), { mode: 0o600 })
  assert.throws(() => loadAuthority(dir), bad('ERR_BAD_KEY', /authority\.key is not the authority of/))
  chmodSync(join(dir, 'authority.key'), 0o644)
  assert.throws(() => loadAuthority(dir), bad('ERR_BAD_KEY', /open to others/))
  rmSync(join(dir, 'authority.key'))
  assert.throws(() => loadAuthority(dir), bad('ERR_BAD_KEY', /authority\.key is missing/))
  // A roster file from another network, and one filed under the wrong address.
  const dir2 = fresh()
  initNetwork(dir2, 'field-5')
  const c = issueToNetwork(other, id, { roles: ['relay'], days: 1, now: NOW })
  const name = `${id.address.toString(16).padStart(8, '0')}.cert`
  writeFileSync(join(dir2, 'certs', name), c.bytes)
  assert.throws(() => loadNetwork(dir2), (e: unknown) => e instanceof CertificateError && e.reason === 'wrong-network' && e.message.includes(name))
  rmSync(join(dir2, 'certs', name))
  const mine = issueToNetwork(dir2, id, { roles: ['relay'], days: 1, now: NOW })
  rmSync(join(dir2, 'certs', name))
  writeFileSync(join(dir2, 'certs', '00000001.cert'), mine.bytes)
  assert.throws(() => loadNetwork(dir2), bad('ERR_BAD_CERT', /filed under another address/))
  assert.throws(() => loadCertificate(join(dir2, 'nope.cert')), bad('ERR_BAD_CERT', /nope\.cert: ENOENT/))
})

test.run()
