#!/usr/bin/env node
// Runs every *.test.ts with uvu (through tsx's loader) and ends with the line `N passed, N failed`,
// which uvu does not print. A test file that crashes before uvu's summary counts as one failure.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// Optional filter: a regex on the file path, e.g. `node scripts/test.mjs hardware/` (only test files match).
const filter = process.argv[2]
const TEST_FILE = '\\.test\\.ts$'
const pattern = filter === undefined ? TEST_FILE : filter.endsWith(TEST_FILE) ? filter : `${filter}.*${TEST_FILE}`
const args = ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), '.', pattern,
  '-i', 'node_modules', '-i', '^bench', '-i', '^\\.']
const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
child.stdout.on('data', (chunk) => { process.stdout.write(chunk); out += chunk.toString() })
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
  const num = (label) => { const m = plain.match(new RegExp(`${label}:\\s+(\\d+)`)); return m ? Number(m[1]) : undefined }
  const total = num('Total'), passed = num('Passed'), skipped = num('Skipped') ?? 0
  let failed
  if (total === undefined || passed === undefined) failed = 1
  else failed = total - passed - skipped
  if (code !== 0 && failed === 0) failed = 1
  console.log(`${passed ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(code !== 0 || failed > 0 ? 1 : 0)
})
