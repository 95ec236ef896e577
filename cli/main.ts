/**
 * `spinmesh` entry point: a thin shell over the folders below. User mistakes (bad arguments, bad
 * scenario fields, missing files) print one line and exit non-zero, never a stack trace.
 */
import { readFileSync } from 'node:fs'
import { isSpinmeshError } from '../core/errors.ts'
import { certCommand, keygenCommand, networkCommand } from './keys.ts'
import { portsCommand } from './ports.ts'
import { provisionCommand } from './provision.ts'
import { reportCommand } from './report.ts'
import { demoCommand } from './demo.ts'
import { fieldTestCommand } from './field-test.ts'
import { emulatorCommand, groupCommand, publishCommand, hubCommand, pingCommand, runCommand, sendCommand, statusCommand, tracerouteCommand } from './node.ts'
import { simCommand, type Io } from './sim.ts'
import { sweepCommand } from './sweep.ts'
import { HELP, UsageError } from './usage.ts'

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP)
        return cmd === undefined ? 2 : 0
      case '-v':
      case '--version':
        io.out(`spinmesh ${version()}\n`)
        return 0
      case 'sim':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await simCommand(rest, io)
      case 'sweep':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await sweepCommand(rest, io)
      case 'report':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await reportCommand(rest, io)
      case 'field-test':
        return await fieldTestCommand(rest, io)
      case 'ports':
        return await portsCommand(rest, io)
      case 'run':
        return await runCommand(rest, io)
      case 'hub':
        return await hubCommand(rest, io)
      case 'emulator':
        return await emulatorCommand(rest, io)
      case 'status':
        return await statusCommand(rest, io)
      case 'ping':
        return await pingCommand(rest, io)
      case 'traceroute':
        return await tracerouteCommand(rest, io)
      case 'demo':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await demoCommand(rest, io)
      case 'send':
        return await sendCommand(rest, io)
      case 'publish':
        return await publishCommand(rest, io)
      case 'join':
      case 'leave':
        return await groupCommand(cmd, rest, io)
      case 'keygen':
      case 'network':
      case 'cert':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await (cmd === 'keygen' ? keygenCommand : cmd === 'network' ? networkCommand : certCommand)(rest, io)
      case 'provision':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(HELP)
          return 0
        }
        return await provisionCommand(rest, io)
      default:
        throw new UsageError(`unknown command "${cmd}" (try spinmesh --help)`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`spinmesh: ${e.message}\n`)
      return 2
    }
    if (isSpinmeshError(e)) {
      io.err(`spinmesh: error: ${e.message}\n`)
      return 1
    }
    throw e
  }
}
