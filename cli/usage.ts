import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** node:util parseArgs with positionals allowed; its errors become UsageErrors. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options })
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
}

export const HELP = `spinmesh — radio mesh toolkit: simulate, route, gossip, stream

Usage:
  spinmesh demo [--broker URL] [--duration S] [--json FILE] [--speed X] [--spool DIR] [--http PORT|off]
                                           a simulated field of LoRa sensors feeding a gateway that streams
                                           to MQTT (an embedded broker by default); prints what a subscriber
                                           receives, then a summary
  spinmesh sim <scenario.yaml> [options]   run a scenario in the simulator (virtual time)
  spinmesh sweep <scenario.yaml> [options] run it for every combination of varied fields x seeds
  spinmesh report <metrics.json>... --out FILE [--title T] [--labels a,b]
                                           one self-contained HTML page over the metrics JSON of runs
                                           (sim --json, or a collected live run), side by side
  spinmesh run --config node.yaml          run a real node (runtime/examples/ has configs)
  spinmesh field-test plan SCENARIO --inventory FILE --out DIR
                                           per-node configs and a schedule for real nodes
  spinmesh field-test run DIR              run a plan on this machine (live hub + daemons)
  spinmesh field-test collect DIR... [--schedule FILE] [--out FILE]
                                           a live run's metrics JSON (docs/METRICS.md) from its nodes' event
                                           logs; spinmesh field-test --help for more
  spinmesh hub --topology FILE [--port P]  the live emulation hub joining local node processes
  spinmesh emulator --device PATH --framing cobs|kiss|bridge --hub HOST:PORT --node ADDR [--baud N]
                                           a radio module on a serial device, on the hub's air
  spinmesh status [--json] [--monitor] (--socket PATH | --config node.yaml)
                                           a running node: radios, neighbours, routes, trees, counters
  spinmesh ping ADDR [--count N] (--socket PATH | --config node.yaml)
  spinmesh traceroute ADDR (--socket PATH | --config node.yaml)
                                           over the mesh, from a running node
  spinmesh send DST MESSAGE [--hex] (--socket PATH | --config node.yaml)
                                           send to a node (address) or a group (group:N)
  spinmesh publish FEED VALUE... (--socket PATH | --config node.yaml)
                                           report a sample to the node's gateway (config uplink:, feeds:)
  spinmesh join|leave group:N (--socket PATH | --config node.yaml)
                                           join or leave a multicast group (config multicast:)
  spinmesh ports [--json]                  serial ports with USB ids and serial numbers (no udevadm needed)
  spinmesh keygen --out FILE [--force]     a new node identity (key file, mode 0600)
  spinmesh network init --out DIR [--name NAME]
                                           a new network: authority key, network info, revocation list
  spinmesh network revoke --network DIR ADDR...
                                           revoke node addresses (the next revocation list)
  spinmesh cert issue --network DIR --identity FILE --roles a,b --days N [--out FILE]
                                           certify a node (default --out: the identity file as .cert)
  spinmesh cert show FILE [--network DIR] [--json]
                                           print a certificate, revocation list or network info;
                                           with --network also verify it (valid or why not, exit 1)
  spinmesh provision --network DIR --out DIR --name NAME [--role gateway|sensor|relay] [--radio SPEC]
          [--gateway-address ADDR] [--mqtt URL|embedded] [--feeds FILE] [--days N] [--roles a,b]
          [--user USER] [--install-dir DIR] [--force]
                                           on the authority's machine: a bundle OUT/NAME/ for one device (new key,
                                           certificate, the network's public files, node.yaml, a systemd unit,
                                           README.txt); docs/INSTALL-PI.md
  spinmesh --help                          this text
  spinmesh --version                       the version

sim options:
  --seed N              seed for every random choice (default: the scenario's seed)
  --set key.path=value  override a scenario field, repeatable (e.g. --set radio.range=300
                        --set traffic.0.rate=2 --set mobility.maxSpeed=5)
  --json FILE           write the metrics JSON (docs/METRICS.md) to FILE ('-' for stdout)
  --trace FILE          write a per-packet event trace, one JSON object per line (field-tests/trace.ts)
  --quiet               no progress and no summary table

sweep options:
  --vary key.path=v1,v2,...   a field to vary, repeatable (combinations of all axes are run)
  --seeds N             seeds per combination (default 3), starting at --seed-base (default 1)
  --set key.path=value  as for sim, applied to every run
  --json FILE           every run's metrics plus per-combination medians
  --jobs N              run N simulations at once in worker processes (default 1: in this
                        process); results are the same, only faster on several cores
  --quiet               no progress and no table

provision options:
  --role ROLE           gateway (default: streams to MQTT, spool and dashboard), sensor (reports its feeds
                        to --gateway-address: an address or the name of a gateway bundle in --out), relay
  --radio SPEC          serial:/dev/ttyUSB0[@BAUD][,framing=cobs|kiss|bridge], serial-number:SERIAL[@BAUD][,...],
                        udp[:INTERFACE_IPV4] (the default), hub:HOST:PORT; any may add ,mtu=N,bitrate=N;
                        framing=bridge needs frequencyHz=,bandwidthHz=,spreadingFactor=,codingRate=,txPowerDbm=
  --mqtt URL|embedded   the gateway's broker (default embedded)
  --feeds FILE          a YAML list of feeds { id, name, fields: [{ name, unit }] } (default: climate)
  --days N, --roles a,b the certificate (default 365 days; roles gateway,relay / sensor / relay)
  --user USER           the service user (default spinmesh)
  --install-dir DIR     where the bundle goes on the device (default /etc/spinmesh/NAME)
  --force               replace an existing OUT/NAME

Addresses (ADDR) are 8 hex digits as keygen prints them, 0x-prefixed hex, or decimal (any other
length). Roles are lowercase words (a-z 0-9 -), 1 to 16 of them; --days is 1..3650.

Scenarios: field-tests/scenarios/*.yaml; the format is in field-tests/README.md.
`
