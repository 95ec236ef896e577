/**
 * Test support: n fresh identities in a temporary directory and a live hub that puts them on a line
 * `spacing` metres apart (range 150 m: with 100 m spacing, a chain). Tests write node configs into
 * `dir` naming `./n<i>.key` and `127.0.0.1:<hub.port>`, and call `close()` at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity, saveIdentity, type Identity } from '../crypto/identity.ts'
import { Hub } from '../hardware/hub.ts'
import { validateHubTopology } from '../hardware/hub-topology.ts'

export interface HubNodes {
  dir: string
  ids: Identity[]
  hub: Hub
  /** Closes the hub and removes the directory (close the nodes first). */
  close(): Promise<void>
}

export async function hubNodes(n: number, o: { spacing?: number; prefix?: string } = {}): Promise<HubNodes> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? 'spinmesh-hub-nodes-'))
  const ids = Array.from({ length: n }, (_, i) => {
    const id = generateIdentity()
    saveIdentity(id, join(dir, `n${i}.key`))
    return id
  })
  const spacing = o.spacing ?? 100
  const hub = await Hub.open({ topology: validateHubTopology({ nodes: ids.map((id, i) => ({ id: id.address, position: [i * spacing, 0] })), range: 150, delayMs: 2 }), port: 0, seed: 1 })
  return {
    dir, ids, hub,
    close: async () => {
      await hub.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
