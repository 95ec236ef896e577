/**
 * Entry point of `npm run reproduce -- [NAME...] [options]` (field-tests/reproduce/main.ts has the
 * command; this file only runs it, so importing main.ts runs nothing).
 */
import { main } from './main.ts'

process.exitCode = await main(process.argv.slice(2))
