import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { groupAddr } from '../core/addr.ts'
import type { TreeInfo } from '../adhoc/routing.ts'
import { treeStats } from './tree-metrics.ts'

const g = groupAddr(0)
const link = (neighbour: number, activated = true) => ({ neighbour, upstream: false, activated, lastHeard: 0, member: false, nearestMember: 255 })
const node = (trees: TreeInfo[]) => ({ trees: () => trees })
const info = (leader: number, member: boolean, links: ReturnType<typeof link>[]): TreeInfo => ({ group: g, leader, groupSeq: 1, hopsToLeader: 0, member, links })

test('tree size, members, leaders and undirected activated links per group', () => {
  // 1 (leader, member) - 2 (router) - 3 (member); 4 is a member that leads its own partition.
  const protocols = new Map<number, unknown>([
    [1, node([info(1, true, [link(2)])])],
    [2, node([info(1, false, [link(1), link(3), link(5, false)])])],
    [3, node([info(1, true, [link(2)])])],
    [4, node([info(4, true, [])])],
    [5, node([])],
  ])
  assert.equal(treeStats(protocols), [{ group: 'group:0', treeSize: 4, members: 3, leaders: [1, 4], activatedLinks: 2 }])
})

test('protocols without trees give no tree metrics', () => {
  assert.is(treeStats(new Map([[1, {}]])), undefined)
})

test.run()
