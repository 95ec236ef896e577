import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Histogram, MetricsRegistry } from './metrics.ts'
import { createLogger } from './logger.ts'

test('histogram quantiles are within 1 % and stats exact', () => {
  const h = new Histogram()
  for (let i = 1; i <= 10_000; i++) h.record(i)
  assert.is(h.count, 10_000)
  assert.is(h.mean, 5000.5)
  assert.is(h.min, 1)
  assert.is(h.max, 10_000)
  assert.ok(Math.abs(h.quantile(0.5) / 5000 - 1) < 0.011, String(h.quantile(0.5)))
  assert.ok(Math.abs(h.quantile(0.95) / 9500 - 1) < 0.011, String(h.quantile(0.95)))
  const e = new Histogram()
  assert.is(e.quantile(0.5), 0)
  e.record(0)
  e.record(-3)
  assert.is(e.quantile(0.5), 0) // values <= 0 share one bucket, reported as 0
  assert.is(e.min, -3)
})

test('registry scopes by layer and node, totals sum over nodes', () => {
  const m = new MetricsRegistry()
  m.scope('link', 1).counter('tx').inc()
  m.scope('link', 2).counter('tx').inc(4)
  m.scope('medium', 1).counter('airtimeMs').inc(2.5)
  assert.is(m.total('link', 'tx'), 5)
  assert.is(m.value('link', 2, 'tx'), 4)
  assert.is(m.value('link', 3, 'tx'), 0)
  assert.equal(m.totals(), { link: { tx: 5 }, medium: { airtimeMs: 2.5 } })
  m.scope('app', 1).histogram('lat').record(3)
  m.scope('app', 2).histogram('lat').record(5)
  assert.is(m.mergedHistogram('app', 'lat').count, 2)
  const h = m.histogramTotals()
  assert.equal(Object.keys(h), ['app'])
  assert.is(h.app.lat.count, 2)
  assert.is(h.app.lat.mean, 4)
})

test('logger is silent without a sink and writes JSON lines with bindings when given one', () => {
  const lines: string[] = []
  createLogger().error('nobody hears this')
  const log = createLogger({ level: 'info', sink: (l) => lines.push(l), clock: () => 12.5 }).child({ node: 3 })
  log.debug('hidden')
  log.info('hello', { bytes: new Uint8Array([1, 255]) })
  assert.is(lines.length, 1)
  assert.equal(JSON.parse(lines[0]), { time: 12.5, level: 'info', msg: 'hello', node: 3, bytes: '01ff' })
  assert.ok(log.enabled('warn'))
  assert.not.ok(log.enabled('debug'))
})

test.run()
