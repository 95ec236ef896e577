import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { barChart, distributionChart, escapeXml, formatTick, lineChart, linearTicks, logTicks, quantile } from './svg.ts'

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length
const noBad = (svg: string) => {
  assert.not.match(svg, /NaN|Infinity|undefined/)
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'))
  assert.ok(svg.endsWith('</svg>'))
}

test('ticks: round linear steps, decades on log axes, short labels', () => {
  assert.equal(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
  assert.equal(linearTicks(0.13, 0.92), [0.2, 0.4, 0.6, 0.8])
  assert.equal(linearTicks(0, 47), [0, 10, 20, 30, 40])
  assert.equal(logTicks(0.0004, 0.07), [0.0001, 0.001, 0.01, 0.1])
  assert.equal(logTicks(3, 3), [1, 10])
  assert.is(formatTick(0.1 + 0.2), '0.3')
  assert.is(formatTick(0.00001), '1e-5')
  assert.is(formatTick(2500000), '3e6')
  assert.is(quantile([1, 2, 3, 4], 0.5), 2.5)
  assert.is(quantile([5], 0.25), 5)
})

test('line chart: series, error bars, legend, axis titles, deterministic', () => {
  const o = {
    title: 'PDR vs speed', xTitle: 'max speed (m/s)', yTitle: 'PDR',
    series: [
      { name: 'maodv', points: [{ x: 1, y: 0.9, lo: 0.88, hi: 0.94 }, { x: 20, y: 0.8, lo: 0.75, hi: 0.82 }] },
      { name: 'maodv+ag', points: [{ x: 1, y: 0.99, lo: 0.98, hi: 1 }, { x: 20, y: 0.97, lo: 0.95, hi: 0.99 }] },
    ],
    yMin: 0, yMax: 1,
  }
  const svg = lineChart(o)
  noBad(svg)
  assert.is(svg, lineChart(o))
  assert.is(count(svg, /<g class="series"/g), 2)
  assert.is(count(svg, /<circle /g), 4)
  assert.is(count(svg, /<path d="M[^"]*V/g), 4, 'an error bar per point')
  for (const t of ['PDR vs speed', 'max speed (m/s)', '>PDR<', '>maodv<', '>maodv+ag<', '>20<']) assert.ok(svg.includes(t), t)
})

test('log axis: decade ticks, zero and non-finite values left out with a footnote', () => {
  const svg = lineChart({
    yScale: 'log', yTitle: 'loss',
    series: [{ name: 'a', points: [{ x: 1, y: 0.05, lo: 0, hi: 0.1 }, { x: 5, y: 0 }, { x: 10, y: 0.0003 }, { x: 20, y: NaN }] }],
  })
  noBad(svg)
  for (const t of ['>0.0001<', '>0.001<', '>0.01<', '>0.1<']) assert.ok(svg.includes(t), t)
  assert.not.ok(svg.includes('>0.05<'), 'only decades are labelled')
  assert.is(count(svg, /<circle /g), 2)
  assert.match(svg, /2 values ≤ 0 \(or not finite\) on the log axis not shown/)
})

test('text is escaped everywhere', () => {
  const evil = '<script>&"\''
  assert.is(escapeXml(evil), '&lt;script&gt;&amp;&quot;&#39;')
  const charts = [
    lineChart({ title: evil, xTitle: evil, yTitle: evil, series: [{ name: evil, points: [{ x: 1, y: 1 }] }] }),
    barChart({ title: evil, categories: [evil], series: [{ name: evil, values: [1] }] }),
    distributionChart({ title: evil, categories: [evil], series: [{ name: evil, values: [[1, 2]] }] }),
  ]
  for (const svg of charts) {
    noBad(svg)
    assert.not.ok(svg.includes('<script'))
    assert.ok(svg.includes('&lt;script&gt;&amp;&quot;&#39;'))
  }
})

test('bar chart: a bar per series per category, nulls skipped, axis from 0', () => {
  const svg = barChart({
    title: 'overhead', categories: ['1', '5', '10'],
    series: [{ name: 'maodv', values: [4.8, 5.2, null] }, { name: 'ag', values: [6, 6.5, 7], lo: [5, 6, 6.5], hi: [7, 7, 8] }],
  })
  noBad(svg)
  assert.is(count(svg, /<rect x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" fill="#/g) - 1 - 2, 5, 'five bars (minus background and legend swatches)')
  assert.ok(svg.includes('>0<'))
  assert.is(count(svg, /<path d="M[^"]*V/g), 3)
})

test('distribution chart: a box and a dot per member, per series per category', () => {
  const svg = distributionChart({
    categories: ['1', '20'], yMin: 0, yMax: 1,
    series: [{ name: 'maodv', values: [[0.9, 0.8, 1], [0.5, 0.7]] }, { name: 'ag', values: [[1, 1, 0.99], []] }],
  })
  noBad(svg)
  assert.is(count(svg, /<g class="dist"/g), 3, 'an empty category draws nothing')
  assert.is(count(svg, /<circle /g), 8)
})

test('property: no NaN or Infinity whatever the numbers', () => {
  const num = fc.oneof(fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e-300, 1e300))
  const nums = fc.array(num, { maxLength: 6 })
  fc.assert(fc.property(nums, nums, fc.boolean(), (xs, ys, log) => {
    const points = xs.map((x, i) => ({ x, y: ys[i] ?? null, lo: ys[i + 1], hi: ys[i + 2] }))
    noBad(lineChart({ yScale: log ? 'log' : 'linear', series: [{ name: 's', points }, { name: 't', points: [] }] }))
    noBad(barChart({ categories: xs.map((_, i) => `c${i}`), series: [{ name: 's', values: ys.slice(0, xs.length) }] }))
    noBad(distributionChart({ categories: ['a', 'b'], series: [{ name: 's', values: [xs, ys] }] }))
  }), { seed: 4, numRuns: 300 })
})

test.run()
