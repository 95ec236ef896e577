import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../core/rng.ts'
import { placeGrid, placeUniform } from './placement.ts'

test('grid with a given spacing is row-major and centred', () => {
  const p = placeGrid(5, 200, 100, 100)
  assert.equal(p, [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 200, y: 0 }, { x: 0, y: 100 }, { x: 100, y: 100 }])
  assert.equal(placeGrid(2, 300, 0, 100), [{ x: 100, y: 0 }, { x: 200, y: 0 }])
  assert.throws(() => placeGrid(10, 100, 100, 100), /need 5 rows/)
  assert.throws(() => placeGrid(3, 100, 100, 0), /spacing must be/)
})

test('grid without spacing fits the field with the widest square spacing', () => {
  const p = placeGrid(100, 900, 900)
  assert.is(p.length, 100)
  assert.equal(p[0], { x: 0, y: 0 })
  assert.equal(p[99], { x: 900, y: 900 })
  assert.equal(p[1], { x: 100, y: 0 })
  assert.equal(p[10], { x: 0, y: 100 })
  const q = placeGrid(50, 1500, 300) // the MANET field
  for (const pt of q) assert.ok(pt.x >= 0 && pt.x <= 1500 && pt.y >= 0 && pt.y <= 300)
  assert.equal(placeGrid(1, 100, 50), [{ x: 50, y: 25 }])
  assert.equal(placeGrid(0, 100, 50), [])
})

test('uniform placement is inside the field and reproducible', () => {
  const a = placeUniform(500, 1000, 200, new SeededRng(9))
  const b = placeUniform(500, 1000, 200, new SeededRng(9))
  assert.equal(a, b)
  for (const p of a) assert.ok(p.x >= 0 && p.x < 1000 && p.y >= 0 && p.y < 200)
  const meanX = a.reduce((s, p) => s + p.x, 0) / a.length
  assert.ok(Math.abs(meanX - 500) < 50)
  assert.throws(() => placeUniform(-1, 10, 10, new SeededRng(1)), /node count must be an integer >= 0, got -1/)
})

test.run()
