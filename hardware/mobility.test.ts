import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../core/rng.ts'
import { RandomWaypoint, ScriptedWaypoints, StaticMobility } from './mobility.ts'

test('static mobility stays put and refuses non-finite coordinates', () => {
  const m = new StaticMobility({ x: 3, y: 4 })
  assert.equal(m.position(0), { x: 3, y: 4 })
  assert.equal(m.position(1e9), { x: 3, y: 4 })
  assert.is(m.maxSpeed, 0)
  assert.throws(() => new StaticMobility({ x: NaN, y: 0 }), /position\.x must be a finite number/)
})

test('random waypoint stays in the field and every leg has a speed within [min, max]', () => {
  const m = new RandomWaypoint({ rng: new SeededRng('rwp'), width: 1500, height: 300, minSpeed: 1, maxSpeed: 20, pauseMs: 2000, start: { x: 10, y: 10 } })
  let prev = m.position(0)
  let legs = 0
  let lastLegStart = -1
  let paused = 0
  for (let t = 100; t <= 3_600_000; t += 100) {
    const p = m.position(t)
    assert.ok(p.x >= 0 && p.x <= 1500 && p.y >= 0 && p.y <= 300, `(${p.x}, ${p.y}) at ${t}`)
    const leg = m.currentLeg
    if (leg.fromMs !== lastLegStart) {
      legs++
      lastLegStart = leg.fromMs
      assert.ok(leg.speed >= 1 && leg.speed <= 20, `leg speed ${leg.speed}`)
      const dur = (Math.hypot(leg.to.x - leg.from.x, leg.to.y - leg.from.y) / leg.speed) * 1000
      assert.ok(Math.abs(leg.toMs - leg.fromMs - dur) < 1e-6)
      assert.is(leg.pauseUntilMs - leg.toMs, 2000)
    }
    // sampled speed never exceeds the maximum
    const v = Math.hypot(p.x - prev.x, p.y - prev.y) / 0.1
    assert.ok(v <= 20 + 1e-9, `speed ${v} at ${t}`)
    if (v === 0) paused++
    prev = p
  }
  assert.ok(legs > 20, `legs ${legs}`)
  assert.ok(paused > 0, 'the node pauses at waypoints')
})

test('random waypoint is lazy and deterministic: the trajectory does not depend on how often it is asked', () => {
  const mk = () => new RandomWaypoint({ rng: new SeededRng('lazy'), width: 1000, height: 1000, minSpeed: 2, maxSpeed: 10, pauseMs: 0, start: { x: 500, y: 500 } })
  const a = mk(), b = mk()
  for (let t = 0; t < 600_000; t += 7) a.position(t)
  assert.equal(a.position(600_000), b.position(600_000))
})

test('random waypoint refuses a zero minimum speed and other bad options with clear errors', () => {
  const rng = new SeededRng(1)
  const ok = { rng, width: 100, height: 100, minSpeed: 1, maxSpeed: 2, pauseMs: 0, start: { x: 0, y: 0 } }
  assert.throws(() => new RandomWaypoint({ ...ok, minSpeed: 0 }), /minSpeed must be > 0 m\/s .*got 0/)
  assert.throws(() => new RandomWaypoint({ ...ok, maxSpeed: 0.5 }), /maxSpeed must be finite and >= minSpeed \(1 m\/s\), got 0\.5/)
  assert.throws(() => new RandomWaypoint({ ...ok, width: 0 }), /width must be/)
  assert.throws(() => new RandomWaypoint({ ...ok, pauseMs: -1 }), /pauseMs/)
  assert.throws(() => new RandomWaypoint({ ...ok, start: { x: 200, y: 0 } }), /must lie in the field/)
})

test('scripted waypoints interpolate linearly and hold the first and last points', () => {
  const m = new ScriptedWaypoints([{ tMs: 1000, x: 0, y: 0 }, { tMs: 3000, x: 200, y: 100 }, { tMs: 4000, x: 200, y: 100 }, { tMs: 4000, x: 0, y: 0 }])
  assert.equal(m.position(0), { x: 0, y: 0 })
  assert.equal(m.position(2000), { x: 100, y: 50 })
  assert.equal(m.position(3500), { x: 200, y: 100 })
  assert.equal(m.position(4000), { x: 0, y: 0 }) // a jump: the later waypoint wins
  assert.equal(m.position(9000), { x: 0, y: 0 })
  assert.equal(m.position(2000), { x: 100, y: 50 }) // asking about the past still answers correctly
  assert.is(m.maxSpeed, Infinity)
  assert.ok(Math.abs(new ScriptedWaypoints([{ tMs: 0, x: 0, y: 0 }, { tMs: 2000, x: 30, y: 40 }]).maxSpeed - 25) < 1e-12)
  assert.throws(() => new ScriptedWaypoints([]), /at least one waypoint/)
  assert.throws(() => new ScriptedWaypoints([{ tMs: 5, x: 0, y: 0 }, { tMs: 1, x: 0, y: 0 }]), /waypoint\[1\]\.tMs must not be before/)
})

test.run()
