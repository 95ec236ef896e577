import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatAddress, parseAddress } from './keys.ts'
import { main } from './main.ts'

const dir = mkdtempSync(join(tmpdir(), 'spinmesh-keys-cli-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

async function run(argv: string[]) {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s), tty: false })
  return { code, out, err }
}

test('addresses: 8 hex digits out, hex / 0x / decimal in', () => {
  assert.is(formatAddress(0x1a2b), '00001a2b')
  assert.is(parseAddress('00001a2b'), 0x1a2b)
  assert.is(parseAddress('0x1A2B'), 0x1a2b)
  assert.is(parseAddress('6699'), 6699)
  assert.throws(() => parseAddress('0'), /not a node address/)
  assert.throws(() => parseAddress('0x80000000'), /not a node address/)
  assert.throws(() => parseAddress('node-7'), /not an address/)
})

test('keygen → network init → cert issue → cert show --json; tampering shows bad-signature', async () => {
  const id = join(dir, 'node.id')
  const k = await run(['keygen', '--out', id])
  assert.is(k.code, 0, k.err)
  assert.is(statSync(id).mode & 0o777, 0o600)
  const [, hex, dec] = k.out.match(/^address\s+([0-9a-f]{8}) \((\d+)\)$/m) ?? []
  assert.is(parseInt(hex, 16), Number(dec))
  const again = await run(['keygen', '--out', id])
  assert.is(again.code, 1)
  assert.match(again.err, /exists; pass --force/)
  const forced = await run(['keygen', '--out', join(dir, 'other.id')])
  assert.is(forced.code, 0)

  const net = join(dir, 'my-net')
  const init = await run(['network', 'init', '--out', net])
  assert.is(init.code, 0, init.err)
  assert.match(init.out, /^network\s+my-net$/m)
  assert.match(init.out, /^id\s+[0-9a-f]{16}$/m)
  assert.is(statSync(join(net, 'authority.key')).mode & 0o777, 0o600)
  assert.is((await run(['network', 'init', '--out', net])).code, 1)

  const issue = await run(['cert', 'issue', '--network', net, '--identity', id, '--roles', 'gateway,relay', '--days', '30'])
  assert.is(issue.code, 0, issue.err)
  const certPath = join(dir, 'node.cert')
  assert.ok(existsSync(certPath))
  assert.ok(existsSync(join(net, 'certs', `${hex}.cert`)))

  const show = await run(['cert', 'show', certPath, '--json', '--network', net])
  assert.is(show.code, 0, show.err)
  const j = JSON.parse(show.out)
  assert.is(j.type, 'certificate')
  assert.is(j.address, hex)
  assert.is(j.addressDecimal, Number(dec))
  assert.equal(j.roles, ['gateway', 'relay'])
  assert.match(init.out, new RegExp(`^id\\s+${j.network}$`, 'm'))
  assert.is(Date.parse(j.notAfter) - Date.parse(j.notBefore), (30 * 86400 + 300) * 1000)
  assert.is(j.status, 'valid')
  const text = await run(['cert', 'show', certPath])
  assert.match(text.out, new RegExp(`^address\\s+${hex}$`, 'm'))
  assert.match(text.out, /^roles\s+gateway, relay$/m)

  const tampered = join(dir, 'tampered.cert')
  const bytes = readFileSync(certPath)
  bytes[bytes.length - 1] ^= 1
  writeFileSync(tampered, bytes)
  const bad = await run(['cert', 'show', tampered, '--network', net])
  assert.is(bad.code, 1)
  assert.match(bad.out, /^status\s+bad-signature$/m)
  const garbled = join(dir, 'garbled.cert')
  writeFileSync(garbled, bytes.subarray(0, 40))
  const g = await run(['cert', 'show', garbled])
  assert.is(g.code, 1)
  assert.match(g.err, /garbled\.cert/)

  // Revoke it: show --network now says revoked; the CRL and network info show too.
  const rev = await run(['network', 'revoke', '--network', net, hex])
  assert.is(rev.code, 0, rev.err)
  assert.match(rev.out, /revocation list #1/)
  const revoked = JSON.parse((await run(['cert', 'show', certPath, '--json', '--network', net])).out)
  assert.is(revoked.status, 'revoked')
  const crl = JSON.parse((await run(['cert', 'show', join(net, 'revoked.crl'), '--json', '--network', net])).out)
  assert.equal([crl.type, crl.number, crl.revoked, crl.status], ['revocation-list', 1, [hex], 'valid'])
  const info = JSON.parse((await run(['cert', 'show', join(net, 'network.cbor'), '--json'])).out)
  assert.equal([info.type, info.name, info.id, info.addressing], ['network', 'my-net', j.network, 'derived'])
  const other = join(dir, 'other-net')
  assert.is((await run(['network', 'init', '--out', other, '--name', 'other'])).code, 0)
  const foreign = await run(['cert', 'show', certPath, '--json', '--network', other])
  assert.is(JSON.parse(foreign.out).status, 'wrong-network')
})

test('bad arguments: exit 2 and one line; bad files: exit 1 and one line', async () => {
  const id = join(dir, 'args.id')
  await run(['keygen', '--out', id])
  const net = join(dir, 'args-net')
  await run(['network', 'init', '--out', net, '--name', 'args'])
  const cases: Array<[string[], number, RegExp]> = [
    [['keygen'], 2, /--out is required/],
    [['keygen', '--out', join(dir, 'x.id'), 'extra'], 2, /no positional/],
    [['network'], 2, /init or revoke/],
    [['network', 'grow'], 2, /unknown network subcommand "grow"/],
    [['network', 'init', '--out', join(dir, 'bad name')], 2, /pass --name/],
    [['network', 'init', '--out', join(dir, 'n2'), '--name', 'a/b'], 2, /network name/],
    [['network', 'revoke', '--network', net], 2, /at least one address/],
    [['network', 'revoke', '--network', net, 'zz'], 2, /not an address/],
    [['network', 'revoke', '--network', join(dir, 'nowhere'), '00000001'], 1, /network\.cbor: ENOENT/],
    [['cert'], 2, /issue or show/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'relay'], 2, /--days is required/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'relay', '--days', '0'], 2, /--days must be a whole number of days in 1\.\.3650/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'relay', '--days', '3651'], 2, /1\.\.3650/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'relay', '--days', '1.5'], 2, /whole number/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'Relay', '--days', '1'], 2, /--roles: role "Relay"/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'a,a', '--days', '1'], 2, /twice/],
    [['cert', 'issue', '--network', net, '--identity', join(dir, 'none.id'), '--roles', 'a', '--days', '1'], 1, /none\.id does not exist/],
    [['cert', 'issue', '--network', join(dir, 'nowhere'), '--identity', id, '--roles', 'a', '--days', '1'], 1, /nowhere\/network\.cbor/],
    [['cert', 'issue', '--network', net, '--identity', id, '--roles', 'a', '--days', '1', '--out', join(dir, 'no/such/dir/x.cert')], 1, /cannot write .*no\/such\/dir\/x\.cert: ENOENT/],
    [['keygen', '--out', join(dir, 'no/such/dir/x.id')], 1, /cannot open .*x\.id: ENOENT/],
    [['network', 'init', '--out', join(id, 'sub')], 1, /cannot mkdir .*: (ENOTDIR|EEXIST)/],
    [['cert', 'show'], 2, /needs one file/],
    [['cert', 'show', join(dir, 'missing.cert')], 1, /cannot read file .*missing\.cert: ENOENT/],
    [['cert', 'show', id], 1, /not a certificate, revocation list or network info/],
    [['cert', 'show', id, '--bogus'], 2, /bogus/],
  ]
  for (const [argv, code, msg] of cases) {
    const r = await run(argv)
    assert.is(r.code, code, `${argv.join(' ')}: ${r.err}`)
    assert.match(r.err, msg, argv.join(' '))
    assert.is(r.err.trim().split('\n').length, 1, `one line for ${argv.join(' ')}: ${r.err}`)
    assert.not.match(r.err, /\n\s+at /)
  }
})

test.run()
