import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_AG_CONFIG, validateAgConfig } from './ag-defaults.ts'
import { validateMaodvAgConfig, maodvAgMaxPayload } from './maodv-ag.ts'
import { agNet } from './ag-fixtures.ts'
import { configError } from '../../core/testing.ts'

test('defaults validate and are frozen', () => {
  assert.equal(validateAgConfig(), { ...DEFAULT_AG_CONFIG })
  assert.ok(Object.isFrozen(DEFAULT_AG_CONFIG))
  assert.is(validateAgConfig({ gossipPeriodMs: 250 }).gossipPeriodMs, 250)
})

test('config errors name the field under the caller path; cross-field rules', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ acceptProbability: 2 }, 'gossip.acceptProbability', /must be <= 1, got 2/],
    [{ gossipPeriodMs: 0 }, 'gossip.gossipPeriodMs', /must be > 0/],
    [{ historySize: 0 }, 'gossip.historySize', /must be >= 1/],
    [{ walkTtl: 1.5 }, 'gossip.walkTtl', /integer/],
    [{ passOnUseless: 'yes' }, 'gossip.passOnUseless', /true or false/],
    [{ backfill: 2000 }, 'gossip.backfill', /<= maxGap \(1000\)/],
    [{ resyncDistance: 500 }, 'gossip.resyncDistance', /must be > maxGap/],
    [{ gossipPeriod: 1 }, 'gossip.gossipPeriod', /unknown/],
  ]
  for (const [input, path, message] of cases) {
    const e = configError(() => validateAgConfig(input))
    assert.is(e.path, path, JSON.stringify(input))
    assert.match(e.message, message)
  }
})

test('the maodv+ag stack: one section per layer, AODV hellos off unless asked, unknown sections refused', () => {
  const c = validateMaodvAgConfig({ gossip: { pAnonymous: 1 } }, 'protocolConfig')
  assert.is(c.gossip.pAnonymous, 1)
  assert.is(c.aodv.helloIntervalMs, 0)
  assert.is(validateMaodvAgConfig({ aodv: { helloIntervalMs: 1000 } }, 'protocolConfig').aodv.helloIntervalMs, 1000)
  assert.is(configError(() => validateMaodvAgConfig({ tree: {} }, 'protocolConfig')).path, 'protocolConfig.tree')
  assert.is(configError(() => validateMaodvAgConfig({ maodv: { treeLivenessMs: 0 } }, 'protocolConfig')).path, 'protocolConfig.maodv.treeLivenessMs')
  assert.is(configError(() => validateMaodvAgConfig({ gossip: 3 }, 'protocolConfig')).path, 'protocolConfig.gossip')
})

test('maxPayload: every message fits a multicast packet and a reply of its own', () => {
  const net = agNet(2, [[1, 2]])
  const node = net.node(1)
  assert.is(node.maxPayload, maodvAgMaxPayload(4096))
  assert.throws(() => node.send(0x80000001, new Uint8Array(node.maxPayload + 1)), /exceeds/)
  node.send(0x80000001, new Uint8Array(node.maxPayload))
  node.close()
  assert.throws(() => node.send(0x80000001, new Uint8Array(1)), /closed/)
})

test.run()
