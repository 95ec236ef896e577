/**
 * Initial placement of nodes in a width × height field, metres. Explicit placement needs no helper:
 * pass each node a `StaticMobility({x, y})` or a waypoint script.
 */
import type { SeededRng } from '../core/rng.ts'
import type { Position } from './mobility.ts'

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`node count must be an integer >= 0, got ${n}`)
}
function checkSide(name: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number >= 0 m, got ${v}`)
}

/**
 * `n` nodes on a square grid, row-major (left to right, then top to bottom), centred in the field.
 * With `spacing` the grid has as many columns as fit the width at that spacing; without it the
 * spacing is the largest that fits all `n` nodes in the field (edges included).
 */
export function placeGrid(n: number, width: number, height: number, spacing?: number): Position[] {
  checkCount(n)
  checkSide('width', width)
  checkSide('height', height)
  if (n === 0) return []
  let cols: number
  let s: number
  if (spacing !== undefined) {
    if (typeof spacing !== 'number' || !(spacing > 0) || !Number.isFinite(spacing)) {
      throw new RangeError(`spacing must be a finite number > 0 m, got ${spacing}`)
    }
    s = spacing
    cols = Math.min(n, Math.floor(width / s + 1e-9) + 1)
    const rows = Math.ceil(n / cols)
    if ((rows - 1) * s > height + 1e-9) {
      throw new RangeError(`${n} nodes at ${s} m spacing need ${rows} rows (${(rows - 1) * s} m) but the field is ${height} m high`)
    }
  } else {
    // Try every column count; keep the one that allows the widest spacing (ties: fewer columns).
    cols = 1
    s = -1
    for (let c = 1; c <= n; c++) {
      const rows = Math.ceil(n / c)
      const sx = c > 1 ? width / (c - 1) : Infinity
      const sy = rows > 1 ? height / (rows - 1) : Infinity
      const sc = Math.min(sx, sy)
      if (sc > s) {
        s = sc
        cols = c
      }
    }
    if (s === Infinity) s = 0 // a single node
  }
  const rows = Math.ceil(n / cols)
  const x0 = (width - (cols - 1) * s) / 2
  const y0 = (height - (rows - 1) * s) / 2
  const out: Position[] = []
  for (let i = 0; i < n; i++) out.push({ x: x0 + (i % cols) * s, y: y0 + Math.floor(i / cols) * s })
  return out
}

/** `n` nodes uniform at random in [0, width) × [0, height). */
export function placeUniform(n: number, width: number, height: number, rng: SeededRng): Position[] {
  checkCount(n)
  checkSide('width', width)
  checkSide('height', height)
  if (!rng || typeof rng.float !== 'function') throw new TypeError('placeUniform needs a SeededRng')
  const out: Position[] = []
  for (let i = 0; i < n; i++) out.push({ x: rng.float() * width, y: rng.float() * height })
  return out
}
