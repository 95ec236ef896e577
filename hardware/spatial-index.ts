/**
 * A uniform grid of node indices, so that a transmission looks only at nodes near the sender instead
 * of every node in the field. The owner decides when to rebuild it (for moving nodes: when they may
 * have moved more than a fraction of a cell) and widens queries by how far nodes may have moved since.
 */

/** Cell coordinates are clamped to ±2^21, so keys stay exact integers; far outliers share edge cells. */
const LIM = 2 ** 21

export class UniformGrid {
  private readonly cells = new Map<number, number[]>()
  constructor(readonly cellSize: number) {
    if (!(cellSize > 0) || !Number.isFinite(cellSize)) throw new RangeError(`grid cell size must be a finite number > 0, got ${cellSize}`)
  }

  private coord(v: number): number {
    const c = Math.floor(v / this.cellSize)
    return c < -LIM ? -LIM : c > LIM ? LIM : c
  }

  clear(): void {
    this.cells.clear()
  }

  insert(index: number, x: number, y: number): void {
    const key = (this.coord(x) + LIM) * (2 * LIM + 1) + (this.coord(y) + LIM)
    const cell = this.cells.get(key)
    if (cell) cell.push(index)
    else this.cells.set(key, [index])
  }

  /** Append to `out` the indices in every cell that overlaps the square of half-side `r` around (x, y). */
  query(x: number, y: number, r: number, out: number[]): void {
    const cx0 = this.coord(x - r), cx1 = this.coord(x + r)
    const cy0 = this.coord(y - r), cy1 = this.coord(y + r)
    if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > this.cells.size) {
      // The square covers more cells than are occupied: walk the occupied ones instead.
      for (const cell of this.cells.values()) for (let k = 0; k < cell.length; k++) out.push(cell[k])
      return
    }
    const stride = 2 * LIM + 1
    for (let cx = cx0; cx <= cx1; cx++) {
      const base = (cx + LIM) * stride + LIM
      for (let cy = cy0; cy <= cy1; cy++) {
        const cell = this.cells.get(base + cy)
        if (cell) for (let k = 0; k < cell.length; k++) out.push(cell[k])
      }
    }
  }
}
