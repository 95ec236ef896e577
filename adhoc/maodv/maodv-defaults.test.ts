import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SeededRng } from '../../core/rng.ts'
import { SimScheduler } from '../../core/scheduler.ts'
import { MockMedium } from '../../hardware/mock-radio.ts'
import { LinkLayer } from '../link.ts'
import { DEFAULT_MAODV_CONFIG, discoveryAttempts, netTraversalMs, ringTraversalMs, validateMaodvConfig } from './maodv-defaults.ts'
import { Maodv } from './maodv.ts'
import { configError } from '../../core/testing.ts'

test('defaults validate and are frozen', () => {
  assert.equal(validateMaodvConfig(), { ...DEFAULT_MAODV_CONFIG })
  assert.ok(Object.isFrozen(DEFAULT_MAODV_CONFIG))
  assert.is(validateMaodvConfig({ treeLivenessMs: 500 }).treeLivenessMs, 500)
})

test('config errors name the field, under the caller path', () => {
  let e = configError(() => validateMaodvConfig({ treeLivenessMs: 0 }))
  assert.is(e.path, 'maodv.treeLivenessMs')
  assert.match(e.message, /maodv\.treeLivenessMs: must be > 0, got 0/)
  e = configError(() => validateMaodvConfig({ netDiameter: 1.5 }, 'protocolConfig'))
  assert.is(e.path, 'protocolConfig.netDiameter')
  assert.match(e.message, /integer/)
  e = configError(() => validateMaodvConfig({ groupHelloInterval: 5000 }))
  assert.is(e.path, 'maodv.groupHelloInterval')
  assert.match(e.message, /unknown field/)
  e = configError(() => validateMaodvConfig({ unicastSingleNextHop: 'yes' }))
  assert.is(e.path, 'maodv.unicastSingleNextHop')
  e = configError(() => validateMaodvConfig({ dedupWindow: 100 }))
  assert.match(e.message, /power of two/)
  e = configError(() => validateMaodvConfig({ maxTreeLinks: 65 }))
  assert.is(e.path, 'maodv.maxTreeLinks')
  e = configError(() => validateMaodvConfig({ rrepWaitMs: -1 }))
  assert.is(e.path, 'maodv.rrepWaitMs')
  e = configError(() => validateMaodvConfig(null as never))
  assert.is(e.path, 'maodv')
})

test('cross-field checks name the field that has to change', () => {
  assert.is(configError(() => validateMaodvConfig({ ttlStart: 9 })).path, 'maodv.ttlStart')
  assert.is(configError(() => validateMaodvConfig({ ttlThreshold: 40 })).path, 'maodv.ttlThreshold')
  assert.is(configError(() => validateMaodvConfig({ repairTtlStart: 40 })).path, 'maodv.repairTtlStart')
  const e = configError(() => validateMaodvConfig({ treeHelloIntervalMs: 750 }))
  assert.is(e.path, 'maodv.treeHelloIntervalMs')
  assert.match(e.message, /< treeLivenessMs/)
})

test('the constructor validates too, with its configPath', () => {
  const scheduler = new SimScheduler()
  const medium = new MockMedium({ scheduler })
  const link = new LinkLayer({ address: 1, radio: medium.radio(), scheduler, rng: new SeededRng(1) })
  const e = configError(() => new Maodv({ link, scheduler, rng: new SeededRng(2), config: { dataTtl: 0 }, configPath: 'protocolConfig' }))
  assert.is(e.path, 'protocolConfig.dataTtl')
  link.close()
})

test('discovery timing follows RFC 3561: ring 1, 3, 5, 7 then two network-wide tries, 10.3 s in all', () => {
  const c = validateMaodvConfig()
  assert.equal([1, 3, 5, 7].map((t) => ringTraversalMs(c, t)), [240, 400, 560, 720])
  assert.is(netTraversalMs(c), 2800)
  const join = discoveryAttempts(c, c.ttlStart, c.rreqRetries)
  assert.equal(join, [{ ttl: 1, waitMs: 240 }, { ttl: 3, waitMs: 400 }, { ttl: 5, waitMs: 560 }, { ttl: 7, waitMs: 720 }, { ttl: 35, waitMs: 2800 }, { ttl: 35, waitMs: 5600 }])
  assert.is(join.reduce((s, a) => s + a.waitMs, 0), 10_320)
  assert.equal(discoveryAttempts(c, c.repairTtlStart, c.repairRetries).map((a) => a.ttl), [2, 4, 6, 35])
  assert.is(c.rrepWaitMs, ringTraversalMs(c, 2), 'RREP_WAIT_TIME is the ring traversal time of a 2-hop ring')
  assert.equal(discoveryAttempts(validateMaodvConfig({ ttlThreshold: 1, netDiameter: 1, ttlStart: 1, repairTtlStart: 1 }), 1, 0), [{ ttl: 1, waitMs: 80 }], "a ring as wide as the network is one network-wide attempt")
})

test.run()
