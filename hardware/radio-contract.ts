/**
 * The shared Radio contract suite (DESIGN.md §3): every Radio implementation runs it from its own
 * test file with a factory that builds two radios that hear each other.
 *
 *   import { radioContract } from './radio-contract.ts'
 *   radioContract('SimRadio', async () => { ...; return { a, b, settle, cleanup } })
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SpinmeshError } from '../core/errors.ts'
import type { Radio, RxFrame } from './radio.ts'

export interface RadioPair {
  a: Radio
  b: Radio
  /** Let every queued frame go on air and be received (run virtual time, or wait on real I/O). */
  settle(): Promise<void>
  /**
   * How many frames `a` holds waiting before refusing with ERR_QUEUE_FULL; the suite sends more than
   * this to check the refusal (default 1024).
   */
  queueLimit?: number
  cleanup?(): Promise<void>
}

function collect(r: Radio): RxFrame[] {
  const got: RxFrame[] = []
  r.on('frame', (f) => got.push(f))
  return got
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof SpinmeshError, `expected a SpinmeshError, got ${String(e)}`)
    return (e as SpinmeshError).code
  }
  return undefined
}

export function radioContract(name: string, makePair: () => Promise<RadioPair>): void {
  const t = suite(`Radio contract: ${name}`)

  t('a frame sent by one radio arrives intact at the other, and not at the sender', async () => {
    const p = await makePair()
    const atA = collect(p.a)
    const atB = collect(p.b)
    const frame = new Uint8Array([1, 2, 3, 250, 0, 7])
    p.a.send(frame)
    await p.settle()
    assert.is(atB.length, 1)
    assert.equal([...atB[0].bytes], [...frame])
    assert.type(atB[0].at, 'number')
    assert.is(atA.length, 0)
    await p.cleanup?.()
  })

  t('the sender may reuse its buffer after send', async () => {
    const p = await makePair()
    const atB = collect(p.b)
    const buf = new Uint8Array([9, 9, 9])
    p.a.send(buf)
    buf.fill(0)
    await p.settle()
    assert.equal([...atB[0].bytes], [9, 9, 9])
    await p.cleanup?.()
  })

  t('frames arrive in the order they were sent, and each is reported sent', async () => {
    const p = await makePair()
    const atB = collect(p.b)
    const sent: number[] = []
    p.a.on('sent', (s) => {
      assert.ok(s.airtimeMs > 0, 'airtime must be positive')
      sent.push(s.bytes[0])
    })
    for (let i = 0; i < 5; i++) p.a.send(new Uint8Array([i, 0xaa, i]))
    await p.settle()
    assert.equal(atB.map((f) => f.bytes[0]), [0, 1, 2, 3, 4])
    assert.equal(sent, [0, 1, 2, 3, 4])
    await p.cleanup?.()
  })

  t('a frame of exactly the MTU is carried; one byte more is refused with ERR_FRAME_TOO_LARGE', async () => {
    const p = await makePair()
    const atB = collect(p.b)
    const mtu = p.a.mtu
    assert.ok(Number.isInteger(mtu) && mtu > 0, 'mtu is a positive integer')
    assert.ok(p.a.bitrate > 0, 'bitrate is positive')
    p.a.send(new Uint8Array(mtu).fill(0x5a))
    assert.is(codeOf(() => p.a.send(new Uint8Array(mtu + 1))), 'ERR_FRAME_TOO_LARGE')
    await p.settle()
    assert.is(atB.length, 1)
    assert.is(atB[0].bytes.length, mtu)
    await p.cleanup?.()
  })

  t('an empty frame is refused with ERR_INVALID_ARGUMENT', async () => {
    const p = await makePair()
    assert.is(codeOf(() => p.a.send(new Uint8Array(0))), 'ERR_INVALID_ARGUMENT')
    await p.cleanup?.()
  })

  t('state is up when ready; close() goes down once, and send after close is ERR_CLOSED', async () => {
    const p = await makePair()
    await p.settle()
    assert.is(p.a.state, 'up')
    const states: string[] = []
    p.a.on('state', (s) => states.push(s.state))
    await p.a.close()
    await p.a.close()
    assert.is(p.a.state, 'down')
    assert.equal(states, ['down'])
    assert.is(codeOf(() => p.a.send(new Uint8Array([1]))), 'ERR_CLOSED')
    await p.cleanup?.()
  })

  t('frames still queued at close are reported dropped, not lost silently', async () => {
    const p = await makePair()
    const sent: number[] = []
    const dropped: number[] = []
    p.a.on('sent', (s) => sent.push(s.bytes[0]))
    p.a.on('dropped', (d) => {
      assert.is(d.code, 'ERR_CLOSED')
      dropped.push(d.bytes[0])
    })
    for (let i = 0; i < 4; i++) p.a.send(new Uint8Array([i, 1, 2, 3]))
    await p.a.close()
    await p.settle()
    assert.is(sent.length + dropped.length, 4, `every accepted frame is sent or dropped (sent ${sent}, dropped ${dropped})`)
    await p.cleanup?.()
  })

  t('airtimeMs(n) is positive and grows with n; sent reports the same airtime', async () => {
    const p = await makePair()
    const sizes = [1, 2, 10, 100, p.a.mtu]
    const air = sizes.map((n) => p.a.airtimeMs(n))
    for (let k = 0; k < air.length; k++) {
      assert.ok(Number.isFinite(air[k]) && air[k] > 0, `airtimeMs(${sizes[k]}) = ${air[k]}`)
      if (k > 0 && sizes[k] > sizes[k - 1]) assert.ok(air[k] > air[k - 1], `airtimeMs grows: ${air}`)
    }
    const reported: number[] = []
    p.a.on('sent', (s) => reported.push(s.airtimeMs))
    p.a.send(new Uint8Array(10))
    await p.settle()
    assert.is(reported.length, 1)
    assert.ok(Math.abs(reported[0] - air[2]) <= 1e-9 * air[2], `sent.airtimeMs ${reported[0]} vs airtimeMs(10) ${air[2]}`)
    await p.cleanup?.()
  })

  t('urgent frames go ahead of waiting frames, in the order they were sent', async () => {
    const p = await makePair()
    const atB = collect(p.b)
    for (let i = 1; i <= 5; i++) p.a.send(new Uint8Array([i, 0, 0]))
    p.a.send(new Uint8Array([98, 0, 0]), { urgent: true })
    p.a.send(new Uint8Array([99, 0, 0]), { urgent: true })
    p.a.send(new Uint8Array([6, 0, 0]), { urgent: false })
    await p.settle()
    const order = atB.map((f) => f.bytes[0])
    assert.is(order.length, 8, `all received: ${order}`)
    // Frame 1 may already be on air (it is not overtaken then); the urgent ones come next.
    const i98 = order.indexOf(98)
    assert.ok(i98 <= 1, `urgent frame went ahead of the waiting ones: ${order}`)
    assert.is(order[i98 + 1], 99, `urgent frames keep their order: ${order}`)
    assert.equal(order.filter((x) => x < 98), [1, 2, 3, 4, 5, 6], `the others keep their order: ${order}`)
    await p.cleanup?.()
  })

  t('no sent or dropped event fires inside send(): a full queue refuses from a later event', async () => {
    const p = await makePair()
    let inSend = false
    const during: string[] = []
    let sent = 0
    const dropped: string[] = []
    p.a.on('sent', () => {
      sent++
      if (inSend) during.push('sent')
    })
    p.a.on('dropped', (d) => {
      dropped.push(d.code)
      if (inSend) during.push(`dropped ${d.code}`)
    })
    const n = (p.queueLimit ?? 1024) + 3
    for (let i = 0; i < n; i++) {
      inSend = true
      p.a.send(new Uint8Array([i & 0xff, i >> 8]), { urgent: i % 7 === 0 })
      inSend = false
    }
    assert.equal(during, [], 'events fired inside send()')
    assert.is(dropped.length, 0, 'the refusal is not reported before send() returns')
    await p.settle()
    assert.ok(dropped.length >= 1 && dropped.every((c) => c === 'ERR_QUEUE_FULL'), `queue-full drops: ${dropped.length}`)
    assert.is(sent + dropped.length, n, 'every accepted frame is sent or dropped exactly once')
    await p.cleanup?.()
  })

  t.run()
}
