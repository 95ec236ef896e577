/**
 * The node event log: rotation keeps `files` old files, each starting with log-start, every line
 * JSON; a full buffer drops and counts events and marks the gap; a directory removed or replaced
 * under it never throws into the caller.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimScheduler } from '../core/scheduler.ts'
import { EventLog } from './event-log.ts'

const ADDR = 0x1234abcd
const tmp = () => mkdtempSync(join(tmpdir(), 'spinmesh-evlog-'))
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)

test('rotation: files stay under maxBytes, `files` old ones are kept, each starts with log-start, the newest events are all there', () => {
  const dir = tmp()
  try {
    const log = new EventLog({ dir, address: ADDR, name: 'n1', maxBytes: 1024, files: 3, scheduler: new SimScheduler() })
    for (let i = 0; i < 300; i++) log.log('tx', { i, bytes: new Uint8Array(17), kind: 'beacon' })
    log.close()
    const base = join(dir, '1234abcd.jsonl')
    assert.equal(readdirSync(dir).sort(), ['1234abcd.jsonl', '1234abcd.jsonl.1', '1234abcd.jsonl.2', '1234abcd.jsonl.3'])
    const seen: number[] = []
    for (const f of [`${base}.3`, `${base}.2`, `${base}.1`, base]) {
      assert.ok(statSync(f).size <= 1024, `${f}: ${statSync(f).size} bytes`)
      const [start, ...rest] = lines(f)
      assert.is(start.ev, 'log-start')
      assert.is(start.node, ADDR)
      assert.is(start.address, '1234abcd')
      assert.is(start.name, 'n1')
      assert.type(start.version, 'string')
      assert.is(start.monoStartMs, lines(base)[0].monoStartMs, 'one log, one monoStartMs')
      for (const e of rest) {
        assert.is(e.ev, 'tx')
        assert.is(e.bytes, 17, 'byte fields are written as their length')
        assert.type(e.t, 'number')
        assert.type(e.wall, 'number')
        seen.push(e.i as number)
      }
    }
    assert.ok(seen.length > 20)
    assert.equal(seen, Array.from({ length: seen.length }, (_, k) => 300 - seen.length + k), 'the newest events, in order, none lost')
    const s = log.stats()
    assert.is(s.events, 300)
    assert.is(s.dropped, 0)
    assert.is(s.errors, 0)
    assert.ok(s.filesStarted > 4, `${s.filesStarted} files begun`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a log opened again (a restarted node) rotates the old file; files: 0 keeps none', () => {
  const dir = tmp()
  try {
    const a = new EventLog({ dir, address: ADDR, scheduler: new SimScheduler() })
    a.log('first')
    a.close()
    const b = new EventLog({ dir, address: ADDR, scheduler: new SimScheduler() })
    b.log('second')
    b.close()
    assert.equal(lines(join(dir, '1234abcd.jsonl.1')).map((e) => e.ev), ['log-start', 'first'])
    assert.equal(lines(join(dir, '1234abcd.jsonl')).map((e) => e.ev), ['log-start', 'second'])
    const c = new EventLog({ dir, address: ADDR, files: 0, scheduler: new SimScheduler() })
    c.close()
    assert.equal(readdirSync(dir), ['1234abcd.jsonl'], 'rotated files beyond `files` are deleted')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('writes wait for the flush timer (or half the buffer); events that cannot be serialised are counted, not thrown', () => {
  const dir = tmp()
  try {
    const sched = new SimScheduler()
    const log = new EventLog({ dir, address: ADDR, flushMs: 200, scheduler: sched })
    const file = join(dir, '1234abcd.jsonl')
    log.log('a', { x: 1 })
    assert.is(lines(file).length, 1, 'only log-start so far')
    sched.run({ until: 199 })
    assert.is(lines(file).length, 1)
    sched.run({ until: 200 })
    assert.equal(lines(file).map((e) => e.ev), ['log-start', 'a'])
    log.log('bad', { n: 10n })
    log.log('reserved', { t: -1, node: 7, ev: 'x', ok: true })
    log.close()
    const last = lines(file).at(-1)!
    assert.equal([last.ev, last.node, last.ok, last.t === -1], ['reserved', ADDR, true, false])
    assert.is(log.stats().errors, 1)
    log.log('after close')
    assert.is(lines(file).length, 3)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the disk refuses (directory replaced by a file): events wait up to the buffer cap, the rest are dropped and counted; when writing resumes a log-dropped line marks the gap', () => {
  const dir = tmp()
  const logDir = join(dir, 'logs')
  try {
    const sched = new SimScheduler()
    const log = new EventLog({ dir: logDir, address: ADDR, maxBytes: 1024, bufferBytes: 2048, scheduler: sched })
    log.log('before')
    sched.run({ until: 200 })
    rmSync(logDir, { recursive: true })
    writeFileSync(logDir, 'not a directory')
    for (let i = 0; i < 200; i++) log.log('e', { i, pad: 'x'.repeat(40) }) // fills the file: the next one cannot be made
    const s = log.stats()
    assert.ok(s.errors >= 1, JSON.stringify(s))
    assert.ok(s.dropped > 0 && s.buffered <= 2048 + 200, JSON.stringify(s))
    sched.run({ until: 1000 }) // still refused: no throw, nothing more taken
    assert.is(log.stats().dropped, s.dropped)
    unlinkSync(logDir)
    sched.run({ until: 1200 })
    log.close()
    const got = lines(join(logDir, '1234abcd.jsonl'))
    assert.is(got[0].ev, 'log-start')
    const gap = got.find((e) => e.ev === 'log-dropped')!
    assert.is(gap.count, s.dropped)
    const kept = got.filter((e) => e.ev === 'e').map((e) => e.i as number)
    assert.ok(kept.length > 0)
    const all = readdirSync(logDir).flatMap((f) => lines(join(logDir, f))).filter((e) => e.ev === 'e').map((e) => e.i as number).sort((a, b) => a - b)
    // Lines written to the removed file (its fd stays open until it is full) went with it: at most one file's worth.
    assert.ok(all.length + s.dropped <= 200 && all.length + s.dropped >= 200 - 1024 / 60, `${all.length} written, ${s.dropped} dropped`)
    assert.equal(all, Array.from({ length: all.length }, (_, k) => all[0] + k), 'the events taken while the disk refused follow each other, the dropped ones after them')
    assert.is(log.stats().lastError !== null, true)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the directory removed under a running log: no throw, it is made again at the next rotation', () => {
  const dir = tmp()
  const logDir = join(dir, 'logs')
  try {
    const log = new EventLog({ dir: logDir, address: ADDR, maxBytes: 1024, scheduler: new SimScheduler() })
    log.log('before')
    log.flush()
    rmSync(logDir, { recursive: true })
    for (let i = 0; i < 100; i++) {
      log.log('e', { i, pad: 'x'.repeat(40) })
      log.flush()
    }
    log.close()
    assert.ok(existsSync(join(logDir, '1234abcd.jsonl')))
    const got = lines(join(logDir, '1234abcd.jsonl'))
    assert.is(got[0].ev, 'log-start')
    assert.is(got.at(-1)!.i, 99)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an unwritable directory at start: the log runs, counting errors', () => {
  const dir = tmp()
  try {
    const file = join(dir, 'a-file')
    writeFileSync(file, '')
    const log = new EventLog({ dir: join(file, 'sub'), address: ADDR, scheduler: new SimScheduler() })
    log.log('x')
    log.close()
    assert.ok(log.stats().errors >= 1)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
