import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr } from '../../core/addr.ts'
import { GrphRoutes, PendingRoutes } from './routes.ts'

const G = groupAddr(0)

test('pending routes expire, and expired ones are removed as new ones come in: the cache holds the live ones, not max', () => {
  const ttl = 5600
  const routes = new PendingRoutes(1024, ttl, 8)
  // Ten requests a second for 1000 s (the field test's rate order): 10 000 entries in all.
  let now = 0
  for (let i = 0; i < 10_000; i++, now += 100) {
    routes.add(1 + (i % 50), i, G, 2, false, now)
    assert.ok(routes.size <= ttl / 100 + 1, `${routes.size} entries held at ${now} ms; ${ttl / 100} live at most`)
  }
  const last = now - 100
  assert.ok(routes.get(1 + (9999 % 50), 9999, last) !== undefined, 'the newest is there')
  assert.is(routes.get(1, 0, last), undefined, 'the oldest expired')
  // A refresh (a RREP passing) keeps an entry alive past its first expiry, and keeps the order.
  const r = routes.add(7, 1, G, 2, false, now)
  now += ttl - 1
  routes.addCandidate(r, 9, { via: 3, hops: 1, hopsToLeader: 0, groupSeq: 1, leader: 9 }, now)
  routes.add(8, 1, G, 2, false, now + 10)
  assert.ok(routes.get(7, 1, now + 2) !== undefined, 'refreshed by its reply')
  now += ttl + 20
  routes.add(8, 2, G, 2, false, now)
  assert.is(routes.size, 1, 'everything before expired and was removed')
})

test('the LRU bound still holds when every entry is live', () => {
  const routes = new PendingRoutes(16, 60_000, 8)
  for (let i = 0; i < 100; i++) routes.add(1, i, G, 2, false, i)
  assert.is(routes.size, 16)
  assert.is(routes.get(1, 83, 100), undefined, 'least recently used evicted')
  assert.ok(routes.get(1, 84, 100) !== undefined)
})

test('GRPH reverse paths expire the same way', () => {
  const grph = new GrphRoutes(256, 15_000)
  for (let i = 0; i < 1000; i++) grph.put({ group: G, leader: 1 + (i % 200), groupSeq: i, nextHop: 2, hops: 1, expiresAt: 0 }, i * 1000)
  assert.ok(grph.size <= 16, `${grph.size} held; 15 live`)
  assert.is(grph.get(G, 1 + (999 % 200), 999_000)?.groupSeq, 999)
})

test.run()
