import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, ErrorCodes, SpinmeshError } from '../core/errors.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { Spool, type SpoolOptions } from './spool.ts'
import { encodeCursorState, encodeSpoolRecord } from './spool-format.ts'
import type { SpoolCursor, SpoolRecord } from './stream-types.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const enc = new TextEncoder()
const dec = new TextDecoder()

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'spinmesh-spool-'))
}

/** Run `fn` with a fresh spool directory, removed afterwards. */
function withDir(fn: (dir: string) => void): () => void {
  return () => {
    const dir = tmpDir()
    try {
      fn(dir)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

let clockMs = 1_700_000_000_000
const open = (dir: string, opts: Partial<SpoolOptions> = {}) => Spool.open({ dir, scheduler: new SimScheduler(), clock: () => clockMs, ...opts })
const payloadOf = (i: number, size = 20) => enc.encode(`#${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26))))
const text = (r: SpoolRecord) => `${r.offset} ${r.key} ${dec.decode(r.payload)}`

function readAll(c: SpoolCursor, batch = 1000): SpoolRecord[] {
  const out: SpoolRecord[] = []
  for (;;) {
    const rs = c.read(batch)
    if (rs.length === 0) return out
    out.push(...rs)
  }
}

const segments = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).sort()
const isCode = (code: string) => (e: unknown) => e instanceof SpinmeshError && e.code === code

test('append gives consecutive offsets; read hands out records after the last read; ack, rewind, pending', withDir((dir) => {
  const s = open(dir)
  const c = s.cursor('mqtt')
  assert.is(s.cursor('mqtt'), c, 'one object per name')
  for (let i = 0; i < 10; i++) assert.is(s.append(`voltage/${i % 3}`, payloadOf(i)), i)
  assert.is(c.pending, 10)
  assert.is(c.acked, 0)
  const a = c.read(4)
  assert.equal(a.map((r) => r.offset), [0, 1, 2, 3])
  assert.is(a[2].key, 'voltage/2')
  assert.equal(a[2].payload, payloadOf(2))
  assert.is(a[2].appendedAt, clockMs)
  assert.equal(c.read(3).map((r) => r.offset), [4, 5, 6])
  assert.throws(() => c.ack(7), (e: unknown) => e instanceof RangeError && /beyond what cursor "mqtt" has read \(up to 6\)/.test((e as Error).message))
  c.ack(4)
  assert.is(c.acked, 5)
  assert.is(c.pending, 5)
  c.ack(2) // below the ack: nothing
  assert.is(c.acked, 5)
  c.rewind()
  assert.equal(c.read(100).map((r) => r.offset), [5, 6, 7, 8, 9])
  assert.equal(c.read(100), [])
  assert.equal(c.read(0), [])
  assert.throws(() => c.read(-1), RangeError)
  assert.throws(() => c.ack(1.5), RangeError)
  c.ack(9)
  assert.is(c.pending, 0)
  // a second cursor starts at the oldest retained record, independent of the first
  const live = s.cursor('live')
  assert.equal(live.read(2).map((r) => r.offset), [0, 1])
  assert.equal(s.stats().cursors, { mqtt: { acked: 10, pending: 0, persisted: 0 }, live: { acked: 0, pending: 10, persisted: 0 } })
  s.close()
}))

test('onAppend tells every listening cursor after the record is stored; an append inside a listener is told after it returns', withDir((dir) => {
  const s = open(dir)
  const c = s.cursor('a')
  const seen: string[] = []
  let depth = 0
  const stop = c.onAppend(() => {
    assert.is(depth, 0, 'never re-entrant')
    depth++
    const rs = c.read(10)
    seen.push(rs.map((r) => r.key).join(','))
    if (rs.some((r) => r.key === 'sample')) s.append('_events/echo', Uint8Array.of(1))
    depth--
  })
  s.append('sample', Uint8Array.of(0))
  assert.equal(seen, ['sample', '_events/echo'])
  stop()
  s.append('x', Uint8Array.of(0))
  assert.is(seen.length, 2)
  s.close()
}))

test('bounds and config are checked with errors naming the limit or the field', withDir((dir) => {
  const s = open(dir, { maxPayloadBytes: 1000 })
  assert.throws(() => s.append('k'.repeat(256), Uint8Array.of(1)), (e: unknown) => e instanceof RangeError && /255 bytes/.test((e as Error).message))
  assert.throws(() => s.append('k', new Uint8Array(1001)), (e: unknown) => e instanceof RangeError && /maxPayloadBytes = 1000/.test((e as Error).message))
  assert.throws(() => s.append('k', 'text' as unknown as Uint8Array), TypeError)
  assert.throws(() => s.cursor('../etc'), RangeError)
  assert.throws(() => s.cursor(''), RangeError)
  assert.is(s.append('k'.repeat(255), new Uint8Array(1000)), 0)
  s.close()
  const path = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      if (e instanceof ConfigError) return e.path + ': ' + e.message
      throw e
    }
    return 'no error'
  }
  assert.match(path(() => open(dir, { segmentBytes: 10 })), /^spool.segmentBytes: .*>= 1024/)
  assert.match(path(() => open(dir, { fsync: 'sometimes' as 'never' })), /^spool.fsync: .*always, interval, never/)
  assert.match(path(() => open(dir, { whenFull: 'panic' as 'refuse' })), /^spool.whenFull/)
  assert.match(path(() => open(dir, { maxBytes: 8192, segmentBytes: 8192 })), /^spool.maxBytes: .*2 × segmentBytes/)
  assert.match(path(() => open(dir, { maxBytes: 65536, segmentBytes: 4096 })), /^spool.maxBytes: .*one record of maxPayloadBytes/)
  assert.match(path(() => open(dir, { fsyncIntervalMs: 0 })), /^spool.fsyncIntervalMs/)
  assert.match(path(() => open(dir, { colour: 'blue' } as Partial<SpoolOptions>)), /^spool.colour: .*unknown field/)
  assert.match(path(() => Spool.open({ dir: '' })), /^spool.dir/)
}))

test('reopen after close resumes offsets and cursor positions; a closed spool throws ERR_CLOSED', withDir((dir) => {
  let s = open(dir, { segmentBytes: 1024, maxBytes: 1 << 20, maxPayloadBytes: 512 })
  let c = s.cursor('mqtt')
  for (let i = 0; i < 100; i++) s.append(`k/${i % 5}`, payloadOf(i, 40))
  c.read(30)
  c.ack(29)
  s.close()
  s.close() // harmless
  assert.throws(() => s.append('k', Uint8Array.of(1)), isCode(ErrorCodes.CLOSED))
  assert.throws(() => c.read(1), isCode(ErrorCodes.CLOSED))
  assert.throws(() => s.flush(), isCode(ErrorCodes.CLOSED))
  assert.is(s.stats().nextOffset, 100)

  s = open(dir, { segmentBytes: 1024, maxBytes: 1 << 20, maxPayloadBytes: 512 })
  assert.is(s.nextOffset, 100)
  c = s.cursor('mqtt')
  assert.is(c.acked, 30)
  const rest = readAll(c, 7)
  assert.equal(rest.map((r) => r.offset), Array.from({ length: 70 }, (_, i) => 30 + i))
  assert.equal(rest.map(text), rest.map((r) => `${r.offset} k/${r.offset % 5} ${dec.decode(payloadOf(r.offset, 40))}`))
  assert.is(s.append('k/x', Uint8Array.of(1)), 100)
  assert.is(s.stats().truncatedBytes, 0)
  s.close()
}))

test('a crash (no close) with a torn record and garbage at the end of the last segment recovers every complete record', withDir((dir) => {
  const s = open(dir, { segmentBytes: 2048, maxBytes: 1 << 20, maxPayloadBytes: 512 })
  for (let i = 0; i < 60; i++) s.append(`k/${i}`, payloadOf(i, 50))
  // crash: no close, no flush. Then a torn write of record 60 and some garbage after it.
  const last = path.join(dir, segments(dir).at(-1)!)
  const sizeBefore = fs.statSync(last).size
  const torn = encodeSpoolRecord({ offset: 60, key: 'k/60', payload: payloadOf(60, 50), appendedAt: clockMs }).subarray(0, 45)
  fs.appendFileSync(last, torn)
  fs.appendFileSync(last, Uint8Array.of(0x53, 0x50, 1, 2, 3, 0, 0, 0))

  const r = open(dir, { segmentBytes: 2048, maxBytes: 1 << 20, maxPayloadBytes: 512 })
  assert.is(r.stats().truncatedBytes, 45 + 8)
  assert.is(fs.statSync(last).size, sizeBefore, 'the tail is cut from the file')
  assert.is(r.nextOffset, 60)
  const all = readAll(r.cursor('check'))
  assert.equal(all.map(text), Array.from({ length: 60 }, (_, i) => `${i} k/${i} ${dec.decode(payloadOf(i, 50))}`))
  assert.is(r.append('after', Uint8Array.of(1)), 60)
  r.close()
  const again = open(dir)
  assert.is(again.stats().truncatedBytes, 0)
  assert.is(again.stats().records, 61)
  again.close()
}))

test('damage inside an older segment is skipped to the next valid record and counted; the rest stays readable', withDir((dir) => {
  const opts = { segmentBytes: 1024, maxBytes: 1 << 20, maxPayloadBytes: 512 }
  const s = open(dir, opts)
  for (let i = 0; i < 40; i++) s.append(`k/${i}`, payloadOf(i, 60))
  s.close()
  const first = path.join(dir, segments(dir)[0])
  const bytes = fs.readFileSync(first)
  bytes[100] ^= 0xff // inside record 1 (records are 28 + 3 + 60 = 91 bytes)
  fs.writeFileSync(first, bytes)
  const r = open(dir, opts)
  const st = r.stats()
  assert.is(st.skippedBytes, 91)
  assert.is(st.truncatedBytes, 0)
  assert.is(st.records, 39)
  const offsets = readAll(r.cursor('check')).map((x) => x.offset)
  assert.equal(offsets, Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 1))
  r.close()
}))

test("'interval': acks reach the cursor file only at fsync points, so after a crash records after the persisted ack are re-read (never lost)", withDir((dir) => {
  const sched = new SimScheduler()
  const s = open(dir, { scheduler: sched, fsyncIntervalMs: 200 })
  const c = s.cursor('mqtt')
  for (let i = 0; i < 10; i++) s.append('k', payloadOf(i))
  c.read(5)
  c.ack(4)
  assert.is(s.stats().cursors.mqtt.persisted, 0)
  const before = s.stats().fsyncs
  sched.run({ until: 199 })
  assert.is(s.stats().fsyncs, before, 'nothing before the interval')
  sched.run({ until: 200 })
  assert.is(s.stats().cursors.mqtt.persisted, 5)
  assert.ok(s.stats().fsyncs > before, 'segment, cursor file and directory fsynced')
  assert.is(sched.pending, 0, 'idle: no timer')
  c.read(5)
  c.ack(8) // not persisted yet: the crash comes first
  const r = open(dir)
  const rc = r.cursor('mqtt')
  assert.is(rc.acked, 5)
  assert.equal(rc.read(100).map((x) => x.offset), [5, 6, 7, 8, 9])
  r.close()
}))

test("'always' persists an ack before ack returns; 'never' rewrites cursor files on the timer without fsync", withDir((dir) => {
  let s = open(dir, { fsync: 'always' })
  let c = s.cursor('a')
  for (let i = 0; i < 5; i++) s.append('k', payloadOf(i))
  const f0 = s.stats().fsyncs
  c.read(3)
  c.ack(2)
  assert.ok(s.stats().fsyncs > f0)
  assert.is(open(dir).cursor('a').acked, 3, 'a crash right after ack keeps it')
  s.close()

  const sched = new SimScheduler()
  s = open(dir, { fsync: 'never', scheduler: sched })
  c = s.cursor('a')
  c.read(5)
  c.ack(4)
  s.append('k', payloadOf(5))
  const f1 = s.stats().fsyncs
  sched.run()
  assert.is(s.stats().fsyncs, f1, 'no fsync under never')
  assert.is(open(dir).cursor('a').acked, 5, 'the cursor file was rewritten')
  s.flush()
  assert.ok(s.stats().fsyncs > f1, 'flush fsyncs whatever the policy')
  s.close()
}))

test('a segment is deleted once every cursor has acked past it, never the one being written; with no cursor nothing is', withDir((dir) => {
  const sched = new SimScheduler()
  const opts = { scheduler: sched, segmentBytes: 1024, maxBytes: 1 << 20, maxPayloadBytes: 512 }
  const s = open(dir, opts)
  for (let i = 0; i < 50; i++) s.append('k', payloadOf(i, 71)) // 100-byte records: 10 per segment
  sched.run()
  assert.is(s.stats().segments, 5)
  assert.is(segments(dir)[1], '00000000000000000010.seg', 'named by the first offset')
  const a = s.cursor('a'), b = s.cursor('b')
  a.read(50)
  a.ack(49)
  b.read(25)
  b.ack(24)
  assert.is(s.stats().segments, 5, 'not before the acks are persisted')
  sched.run()
  assert.is(s.stats().segments, 3, 'b holds the rest')
  assert.is(s.oldestOffset, 20)
  b.read(25)
  b.ack(49)
  sched.run()
  const st = s.stats()
  assert.is(st.segments, 1, 'the active segment stays')
  assert.is(st.records, 10)
  assert.equal(segments(dir), ['00000000000000000040.seg'])
  s.deleteCursor('a')
  s.deleteCursor('b')
  assert.ok(!fs.existsSync(path.join(dir, 'a.cursor')))
  s.close()
}))

test("whenFull 'drop-oldest': the oldest segment goes even if unacked, cursors move past it, counted", withDir((dir) => {
  const s = open(dir, { segmentBytes: 1024, maxBytes: 4096, maxPayloadBytes: 500, whenFull: 'drop-oldest' })
  const c = s.cursor('slow')
  assert.equal(c.read(1), [])
  for (let i = 0; i < 100; i++) assert.is(s.append('k', payloadOf(i, 71)), i) // 100-byte records
  const st = s.stats()
  assert.ok(st.bytes <= 4096, `bytes ${st.bytes}`)
  assert.is(st.droppedRecords, 100 - st.records)
  assert.is(st.oldestOffset, 100 - st.records)
  assert.is(c.acked, st.oldestOffset)
  const rest = readAll(c)
  assert.equal(rest.map((r) => r.offset), Array.from({ length: st.records }, (_, i) => st.oldestOffset + i))
  s.close()
}))

test("whenFull 'refuse': append returns null and counts it, until acks free a segment", withDir((dir) => {
  const sched = new SimScheduler()
  const s = open(dir, { scheduler: sched, segmentBytes: 1024, maxBytes: 4096, maxPayloadBytes: 500, whenFull: 'refuse' })
  const c = s.cursor('slow')
  let n = 0
  while (s.append('k', payloadOf(n, 71)) !== null) n++
  assert.is(n, 40)
  assert.is(s.append('k', payloadOf(n, 71)), null)
  assert.is(s.stats().refused, 2)
  assert.is(s.stats().droppedRecords, 0)
  c.read(10)
  c.ack(9)
  assert.is(s.append('k', payloadOf(n, 71)), null, 'the ack is not persisted yet')
  sched.run()
  assert.is(s.append('k', payloadOf(n, 71)), 40)
  assert.equal(readAll(c).map((r) => r.offset), Array.from({ length: 31 }, (_, i) => 10 + i))
  s.close()
}))

test("whenFull 'latest-per-key': older segments keep only the newest unacked record per key, offsets kept; refuses when that is not enough", withDir((dir) => {
  const opts = { segmentBytes: 1024, maxBytes: 4096, maxPayloadBytes: 500, whenFull: 'latest-per-key' as const }
  const s = open(dir, opts)
  const c = s.cursor('mqtt')
  const newest = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    const key = `feed/${i % 7}`
    assert.is(s.append(key, payloadOf(i, 66)), i) // 100-byte records
    newest.set(key, i)
  }
  const st = s.stats()
  assert.ok(st.bytes <= 4096)
  assert.ok(st.compactedRecords > 0)
  assert.is(st.droppedRecords, 0)
  assert.is(st.records + st.compactedRecords, 300)
  const got = readAll(c)
  // every key's newest record survives, with its offset and content; offsets stay increasing
  for (const [key, off] of newest) assert.ok(got.some((r) => r.offset === off && r.key === key && dec.decode(r.payload) === dec.decode(payloadOf(off, 66))), key)
  assert.equal(got.map((r) => r.offset), [...got.map((r) => r.offset)].sort((a, b) => a - b))
  assert.is(new Set(got.map((r) => r.offset)).size, got.length)
  s.close()
  // compacted segments survive a reopen unchanged
  const r = open(dir, opts)
  assert.equal(readAll(r.cursor('mqtt')).map(text), got.map(text))
  assert.is(r.stats().skippedBytes + r.stats().truncatedBytes, 0)
  // all keys distinct: nothing is superseded, so it refuses
  let i = 0
  while (r.append(`unique/${i}`, payloadOf(i, 64)) !== null) i++
  assert.is(r.stats().refused, 1)
  r.close()
}))

test('offsets are never reused, even when a cursor file is ahead of the segments; stray temp files and unreadable cursors are handled', withDir((dir) => {
  fs.writeFileSync(path.join(dir, 'mqtt.cursor'), encodeCursorState(1234))
  fs.writeFileSync(path.join(dir, 'bad.cursor'), Uint8Array.of(1, 2, 3))
  fs.writeFileSync(path.join(dir, 'mqtt.cursor.tmp'), Uint8Array.of(9))
  const s = open(dir)
  assert.is(s.nextOffset, 1234)
  assert.is(s.stats().cursorsReset, 1)
  assert.ok(!fs.existsSync(path.join(dir, 'mqtt.cursor.tmp')))
  assert.is(s.append('k', Uint8Array.of(1)), 1234)
  assert.equal(s.cursor('bad').read(10).map((r) => r.offset), [1234])
  s.close()
  const r = open(dir)
  assert.is(r.nextOffset, 1235)
  assert.is(r.stats().cursorsReset, 0)
  r.close()
}))

test('read stops before readBatchBytes; a record larger than segmentBytes gets a segment of its own; a deleted cursor is detached', withDir((dir) => {
  const s = open(dir, { segmentBytes: 1024, readBatchBytes: 4096, maxBytes: 1 << 20, maxPayloadBytes: 8000 })
  const c = s.cursor('a')
  for (let i = 0; i < 10; i++) s.append('k', payloadOf(i, 971)) // 1000-byte records
  assert.is(s.stats().segments, 10)
  assert.equal(c.read(100).map((r) => r.offset), [0, 1, 2, 3])
  s.append('big', new Uint8Array(5000))
  const big = s.append('after', Uint8Array.of(1))
  assert.is(s.stats().segments, 12)
  assert.equal(c.read(100).map((r) => r.offset), [4, 5, 6, 7])
  assert.equal(c.read(100).map((r) => r.offset), [8, 9])
  assert.equal(c.read(100).map((r) => r.payload.length), [5000], 'at least one record, even over the budget')
  assert.equal(c.read(100).map((r) => r.offset), [big])
  s.deleteCursor('a')
  assert.throws(() => c.read(1), isCode(ErrorCodes.CLOSED))
  assert.is(s.cursor('a').acked, 0, 'a new cursor of that name starts afresh')
  s.close()
}))

test('kill -9 of a process appending in a loop: every offset it printed is there with its content', async () => {
  const dir = tmpDir()
  const script = path.join(dir, 'child.ts')
  fs.writeFileSync(script, `
    import { Spool } from ${JSON.stringify(path.join(here, 'spool.ts'))}
    const s = Spool.open({ dir: process.argv[2], segmentBytes: 64 * 1024, fsyncIntervalMs: 20 })
    const c = s.cursor('sink')
    s.cursor('hold') // never acks: nothing is deleted, every record can be checked
    let i = 0
    const loop = () => {
      for (let k = 0; k < 50; k++, i++) {
        const off = s.append('k/' + (i % 11), new TextEncoder().encode('payload ' + i + ' '.repeat(i % 97)))
        process.stdout.write(off + '\\n')
        if (i % 100 === 99) { c.read(100); c.ack(off) }
      }
      setImmediate(loop)
    }
    loop()
  `)
  const spoolDir = path.join(dir, 'spool')
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script, spoolDir], { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    child.stderr.on('data', (d) => (err += d))
    const exited = new Promise<string | null>((res) => child.on('exit', (_code, signal) => res(signal)))
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`child printed too little: ${err}`)), 60_000)
      child.stdout.on('data', (d) => {
        out += d
        if (out.length > 60_000) {
          clearTimeout(t)
          child.kill('SIGKILL')
          res()
        }
      })
    })
    assert.is(await exited, 'SIGKILL')
    const printed = out.split('\n').slice(0, -1).map(Number) // the last line may be cut
    assert.ok(printed.length > 5000, `${printed.length} offsets printed`)
    assert.equal(printed.slice(0, 3), [0, 1, 2])
    const s = Spool.open({ dir: spoolDir, scheduler: new SimScheduler() })
    const all = readAll(s.cursor('check'))
    const byOffset = new Map(all.map((r) => [r.offset, r]))
    for (const off of printed) {
      const r = byOffset.get(off)
      assert.ok(r !== undefined, `offset ${off} lost`)
      assert.is(r.key, 'k/' + (off % 11))
      assert.is(dec.decode(r.payload), 'payload ' + off + ' '.repeat(off % 97))
    }
    assert.equal(all.map((r) => r.offset), Array.from({ length: all.length }, (_, i) => i), 'consecutive from 0')
    const sinkAck = s.cursor('sink').acked
    assert.ok(sinkAck <= printed.length && sinkAck % 100 === 0, `sink resumes at a persisted ack (${sinkAck})`)
    s.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
