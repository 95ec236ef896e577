/**
 * `spinmesh provision --network DIR --out DIR --name NAME [...]`: a bundle for one device (new key,
 * certificate, the network's public files, node.yaml, a systemd unit, README.txt), made on the
 * authority's machine — a thin shell over runtime/provision.ts. Bad arguments are UsageErrors
 * (exit 2); what the files or the network directory refuse are SpinmeshErrors (exit 1).
 */
import { formatNodeAddress } from '../core/addr.ts'
import { toHex } from '../core/bytes.ts'
import { MAX_CERT_DAYS } from '../crypto/network-dir.ts'
import { provision, ROLES, type ProvisionRole } from '../runtime/provision.ts'
import type { Io } from './sim.ts'
import { parseCommandArgs, UsageError } from './usage.ts'

const EXAMPLE = 'spinmesh provision --network ./my-net --out ./bundles --name gw-1 --role gateway --radio serial:/dev/ttyUSB0'

export async function provisionCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    network: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, radio: { type: 'string' },
    'gateway-address': { type: 'string' }, mqtt: { type: 'string' }, feeds: { type: 'string' }, days: { type: 'string' }, roles: { type: 'string' },
    user: { type: 'string' }, 'install-dir': { type: 'string' }, force: { type: 'boolean' },
  })
  if (positionals.length) throw new UsageError(`provision takes no positional argument, got "${positionals[0]}"`)
  for (const flag of ['network', 'out', 'name'] as const) {
    if (!values[flag]) throw new UsageError(`--${flag} is required, e.g. ${EXAMPLE}`)
  }
  const role = values.role ?? 'gateway'
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be ${ROLES.join(', ')}, got "${role}"`)
  let days: number | undefined
  if (values.days !== undefined) {
    if (!/^\d+$/.test(values.days) || Number(values.days) < 1 || Number(values.days) > MAX_CERT_DAYS) {
      throw new UsageError(`--days must be a whole number of days in 1..${MAX_CERT_DAYS}, got "${values.days}"`)
    }
    days = Number(values.days)
  }
  const r = provision({
    network: values.network!, out: values.out!, name: values.name!, role: role as ProvisionRole, force: values.force ?? false,
    ...(values.radio !== undefined ? { radio: values.radio } : {}),
    ...(values['gateway-address'] !== undefined ? { gatewayAddress: values['gateway-address'] } : {}),
    ...(values.mqtt !== undefined ? { mqtt: values.mqtt } : {}),
    ...(values.feeds !== undefined ? { feedsFile: values.feeds } : {}),
    ...(days !== undefined ? { days } : {}),
    ...(values.roles !== undefined ? { roles: values.roles.split(',').map((x) => x.trim()) } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values['install-dir'] !== undefined ? { installDir: values['install-dir'] } : {}),
  })
  const addr = formatNodeAddress(r.address)
  const file = (f: string) => `${r.dir}/${f}`
  io.out([
    `provisioned ${r.name} (${r.role}) in ${r.dir}/`,
    `address   ${addr} (${r.address})`,
    `network   ${r.network.name} (id ${toHex(r.network.id)})`,
    `roles     ${r.certificate.roles.join(', ')} until ${new Date(r.certificate.notAfter * 1000).toISOString()}`,
    `radio     ${r.radio}${values.radio === undefined ? ' (the default; --radio serial:/dev/ttyUSB0 for a serial radio)' : ''}`,
    `wrote ${file('node.key')} (mode 0600: the node's secret key)`,
    `      ${file('node.cert')}`,
    `      ${file('network/')} (network.cbor, revoked.crl, ${r.rosterSize} roster certificate${r.rosterSize === 1 ? '' : 's'}; no authority key)`,
    `      ${file('node.yaml')} (valid; its paths are relative to it)`,
    `      ${file(r.unit)} (runs spinmesh run --config ${r.installDir}/node.yaml as ${r.user})`,
    `      ${file('README.txt')}`,
    `      ${r.rosterFile} (the roster)`,
    ...(r.replaced !== undefined ? [`replaced a bundle for ${formatNodeAddress(r.replaced)}: still certified; if that device is gone, spinmesh network revoke --network ${values.network} ${formatNodeAddress(r.replaced)}`] : []),
    '',
    'next steps:',
    ...r.steps.map((l) => `  ${l}`),
    '',
  ].join('\n'))
  return 0
}
