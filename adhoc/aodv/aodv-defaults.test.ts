import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../core/errors.ts'
import { DEFAULT_AODV_CONFIG, validateAodvConfig } from './aodv-defaults.ts'
import { aodvNet } from './aodv-fixtures.ts'
import { LinkLayer } from '../link.ts'
import { Aodv } from './aodv.ts'

function fails(partial: Record<string, unknown>, path: string, message: RegExp, at?: string): void {
  try {
    at === undefined ? validateAodvConfig(partial) : validateAodvConfig(partial, at)
  } catch (e) {
    assert.instance(e, ConfigError)
    assert.is((e as ConfigError).path, path)
    assert.match((e as Error).message, message)
    return
  }
  assert.unreachable(`accepted ${JSON.stringify(partial)}`)
}

test('defaults are the RFC 3561 values (MY_ROUTE_TIMEOUT as PROTOCOLS.md §1)', () => {
  assert.equal(validateAodvConfig(), DEFAULT_AODV_CONFIG)
  const c = DEFAULT_AODV_CONFIG
  assert.equal(
    [c.activeRouteTimeoutMs, c.allowedHelloLoss, c.helloIntervalMs, c.netDiameter, c.nodeTraversalTimeMs, c.rreqRetries, c.rreqRateLimit, c.rerrRateLimit,
      c.timeoutBuffer, c.ttlStart, c.ttlIncrement, c.ttlThreshold, c.localAddTtl, c.deletePeriodMs, c.myRouteTimeoutMs],
    [3000, 2, 1000, 35, 40, 2, 10, 10, 2, 1, 2, 7, 2, 15_000, 11_200],
  )
  assert.equal([c.bufferMaxPackets, c.bufferTimeoutMs], [64, 30_000])
  assert.ok(Object.isFrozen(DEFAULT_AODV_CONFIG))
})

test('partial configs are filled in; undefined fields keep their default', () => {
  const c = validateAodvConfig({ localRepair: true, helloIntervalMs: 0, floodJitterMs: undefined })
  assert.is(c.localRepair, true)
  assert.is(c.helloIntervalMs, 0)
  assert.is(c.floodJitterMs, 10)
})

test('errors name the field, under the caller\'s path', () => {
  fails({ helloIntervalMs: -1 }, 'aodv.helloIntervalMs', /must be >= 0, got -1/)
  fails({ netDiameter: 300 }, 'protocolConfig.netDiameter', /must be <= 255/, 'protocolConfig')
  fails({ rreqRetries: 1.5 }, 'aodv.rreqRetries', /integer/)
  fails({ localRepair: 'yes' }, 'aodv.localRepair', /true or false/)
  fails({ activeRouteTimeoutMs: 'x' }, 'aodv.activeRouteTimeoutMs', /must be a number/)
  fails({ bufferTimeoutMs: Infinity }, 'aodv.bufferTimeoutMs', /finite/)
  fails({ helloIntervalMs: 5 }, 'aodv.helloIntervalMs', /0 \(no hellos\) or >= 10/)
  fails({ helloJitterMs: 600 }, 'aodv.helloJitterMs', /half of helloIntervalMs/)
  fails({ ttlThreshold: 40 }, 'aodv.ttlThreshold', /<= netDiameter \(35\)/)
  fails({ ttlStart: 9, netDiameter: 8, ttlThreshold: 7 }, 'aodv.ttlStart', /<= netDiameter/)
  fails({ myRouteTimeout: 6000 }, 'aodv.myRouteTimeout', /unknown field/)
  fails({ floodJitterMs: -1 }, 'x.floodJitterMs', />= 0/, 'x')
  fails({ rreqRateLimit: 0 }, 'rreqRateLimit', />= 1/, '')
  try {
    validateAodvConfig([] as unknown as Record<string, unknown>, 'protocolConfig')
    assert.unreachable()
  } catch (e) {
    assert.is((e as ConfigError).path, 'protocolConfig')
  }
  assert.equal(validateAodvConfig({ helloIntervalMs: 0, helloJitterMs: 100 }).helloJitterMs, 100, 'jitter is not checked without hellos')
})

test('the constructor validates with configPath', () => {
  const net = aodvNet(1, [], { bare: [1] })
  const link = net.links[0] as LinkLayer
  assert.throws(
    () => new Aodv({ link, scheduler: net.scheduler, rng: { float: () => 0, int: () => 0 }, config: { netDiameter: 0 }, configPath: 'nodes.1.aodv' }),
    (e: unknown) => e instanceof ConfigError && e.path === 'nodes.1.aodv.netDiameter',
  )
})

test.run()
