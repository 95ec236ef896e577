/**
 * LinkAuth on its own: two (or three) authenticators wired by hand, so a test decides which
 * handshake message arrives, when, and which is "jammed" — the attacks of the security review.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BROADCAST, type Addr } from '../core/addr.ts'
import { MetricsRegistry } from '../core/metrics.ts'
import { SeededRng } from '../core/rng.ts'
import { SimScheduler } from '../core/scheduler.ts'
import { decodeLinkFrame, encodeData } from '../adhoc/link-frame.ts'
import { CertStore } from './cert-store.ts'
import { TrustAnchor, issueRevocationList } from './cert.ts'
import { LinkAuth } from './link-auth.ts'
import { SimNetwork, validateSimSecurity } from './sim-network.ts'

interface Sent { to: Addr; payload: Uint8Array; authenticated: boolean }

function setup(o: { nodes?: number } = {}) {
  const scheduler = new SimScheduler()
  const metrics = new MetricsRegistry()
  const security = validateSimSecurity({ handshakeJitterMs: 0 })
  const net = new SimNetwork({ nodes: o.nodes ?? 3, security, scheduler, rng: new SeededRng(5), metrics })
  const outbox = new Map<Addr, Sent[]>()
  /** A LinkAuth for node `id`; `counterStart` and a fixed random stream make a twin possible. */
  const auth = (id: Addr, counterStart?: number) => {
    const random = new SeededRng(`random-${id}`)
    const store = new CertStore({ trust: new TrustAnchor(net.network), clock: () => net.clock(), roster: net.certificates.values(), maxCertificates: 100 })
    const a = new LinkAuth({
      identity: net.identities.get(id)!, certificate: net.certificates.get(id)!, store, scheduler, config: security.config,
      metrics: metrics.scope('sec', id), random: (n) => random.bytes(n), counterStart,
    })
    const box: Sent[] = []
    outbox.set(id, box)
    a.attach((to, payload, authenticated) => box.push({ to, payload, authenticated }), (token) => {
      redelivered.push({ id, token })
      hooks.redeliver?.(id, token)
    })
    stores.set(id, store)
    return a
  }
  const stores = new Map<Addr, CertStore>()
  const redelivered: Array<{ id: Addr; token: unknown }> = []
  /** What a test's "link" does with a frame handed back (the real link processes it at once). */
  const hooks: { redeliver?: (id: Addr, token: unknown) => void } = {}
  const take = (id: Addr): Sent[] => outbox.get(id)!.splice(0)
  const sec = (id: Addr, name: string) => metrics.value('sec', id, name)
  return { scheduler, net, auth, take, sec, stores, redelivered, hooks }
}

/** Deliver everything `from` has queued to `to` (handshake messages). */
function pump(t: ReturnType<typeof setup>, from: { a: LinkAuth; id: Addr }, to: { a: LinkAuth; id: Addr }): void {
  for (const m of t.take(from.id)) if (m.to === to.id) to.a.control(from.id, m.payload, m.authenticated)
}

function handshake(t: ReturnType<typeof setup>, x: { a: LinkAuth; id: Addr }, y: { a: LinkAuth; id: Addr }): void {
  // x hears an unknown frame from y and asks; three messages later both hold keys.
  x.a.open(beacon(y), decodeLinkFrame(beacon(y)))
  for (let i = 0; i < 3; i++) {
    pump(t, x, y)
    pump(t, y, x)
  }
}

function beacon(y: { a: LinkAuth; id: Addr }): Uint8Array {
  return y.a.seal(encodeData(y.id, BROADCAST, 1, false, 250, null, Uint8Array.of(0)))!
}

const open = (a: LinkAuth, bytes: Uint8Array) => a.open(bytes, decodeLinkFrame(bytes))

test('handshake: three messages, then frames both ways open; a replayed frame does not', () => {
  const t = setup()
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  handshake(t, A, B)
  assert.equal(A.a.associations(), [2])
  assert.equal(B.a.associations(), [1])
  const f = B.a.seal(encodeData(2, 1, 9, false, 250, null, Uint8Array.of(1, 2)))!
  assert.is(open(A.a, f), 'ok')
  assert.is(open(A.a, f), 'drop')
  assert.is(t.sec(1, 'replayed'), 1)
})

test('a recorded KEY delivered late cannot move the window back (frames accepted once stay refused)', () => {
  const t = setup()
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  handshake(t, A, B)
  t.scheduler.run({ until: 1500 })
  // An outsider's garbage broadcast "from B": A counts badMac and asks B for its key again.
  const garbage = beacon(B).slice()
  garbage[garbage.length - 1] ^= 1
  assert.is(open(A.a, garbage), 'drop')
  pump(t, A, B) // the KEYREQ reaches B; B answers, and the answer is recorded and jammed
  const recorded = t.take(2)
  assert.is(recorded.length, 1)
  const frames = [1, 2, 3].map((i) => B.a.seal(encodeData(2, BROADCAST, 100 + i, false, 250, null, Uint8Array.of(i)))!)
  for (const f of frames) assert.is(open(A.a, f), 'ok')
  A.a.control(2, recorded[0].payload, false) // the late KEY
  for (const f of frames) assert.is(open(A.a, f), 'drop', 'still a replay')
  assert.is(t.sec(1, 'replayed'), 3)
  // And a KEY older than two request intervals is refused outright.
  assert.is(open(A.a, garbage), 'drop')
  t.scheduler.run({ until: 1500 + 3000 })
  assert.is(open(A.a, garbage), 'drop')
  pump(t, A, B)
  const late = t.take(2)
  t.scheduler.run({ until: 1500 + 3000 + 2500 })
  const before = t.sec(1, 'keyUnsolicited')
  for (const m of late) A.a.control(2, m.payload, false)
  assert.is(t.sec(1, 'keyUnsolicited'), before + late.length)
})

test('an insider that pushes a neighbour\'s broadcast window ahead is undone by the next handshake', () => {
  const t = setup()
  const A = { a: t.auth(1), id: 1 }
  // C holds B's broadcast key (every neighbour of B does); here a twin of B's authenticator with
  // the same key and a counter near the top forges one broadcast "from B".
  const forger = t.auth(2, 0xfffffff0)
  const B = { a: t.auth(2), id: 2 }
  handshake(t, A, B)
  const forged = forger.seal(encodeData(2, BROADCAST, 7, false, 250, null, Uint8Array.of(6)))!
  assert.is(open(A.a, forged), 'ok', 'the MAC is valid: an insider can do this')
  t.scheduler.run({ until: 1500 })
  const genuine = B.a.seal(encodeData(2, BROADCAST, 8, false, 250, null, Uint8Array.of(7)))!
  assert.is(open(A.a, genuine), 'drop', 'pushed out of the window')
  assert.is(t.sec(1, 'tooOld'), 1)
  // That refusal makes A ask B for its key; B's KEY resets the window to B's real counter.
  pump(t, A, B)
  pump(t, B, A)
  const next = B.a.seal(encodeData(2, BROADCAST, 9, false, 250, null, Uint8Array.of(8)))!
  assert.is(open(A.a, next), 'ok')
  // Unicast frames were never affected: only B holds the pairwise key.
  assert.is(open(A.a, B.a.seal(encodeData(2, 1, 10, false, 250, null, Uint8Array.of(9)))!), 'ok')
})

test('unauthenticated key requests from made-up senders neither evict associations nor exceed the handshake budget', () => {
  const t = setup({ nodes: 40 })
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  handshake(t, A, B)
  t.take(1)
  // KEYREQs "from" 38 roster addresses (claiming to hold A's certificate, sending none).
  for (let id = 3; id <= 40; id++) A.a.control(id, Uint8Array.of(1, 1, ...new Uint8Array(8).fill(id)), false)
  assert.equal(A.a.associations(), [2], 'B is still associated')
  const sent = t.take(1)
  assert.ok(sent.length <= 20, `at most the per-second budget went out, got ${sent.length}`)
  assert.ok(t.sec(1, 'handshakeLimited') >= 18)
})

test('a frame that arrives while its sender is being keyed is held and handed back once, after the KEY', () => {
  const t = setup()
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  const first = beacon(B)
  const verdicts: string[] = []
  t.hooks.redeliver = () => verdicts.push(A.a.open(first, decodeLinkFrame(first)))
  assert.is(A.a.open(first, decodeLinkFrame(first), 'token-1'), 'drop', 'no keys yet: held, not delivered')
  assert.is(t.sec(1, 'held'), 1)
  for (let i = 0; i < 3; i++) {
    pump(t, A, B)
    pump(t, B, A)
  }
  assert.equal(t.redelivered, [{ id: 1, token: 'token-1' }])
  assert.equal(verdicts, ['ok'], 'the redelivered frame is accepted once, as it is handed back')
  assert.is(A.a.open(first, decodeLinkFrame(first)), 'drop', 'and never again')
  assert.is(t.sec(1, 'heldDelivered'), 1)
})

test('held frames: none from senders without a known certificate, and none that were accepted before', () => {
  const t = setup({ nodes: 3 })
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  // A sender nobody certified (made-up address 77) is not held.
  const stranger = encodeData(77, BROADCAST, 1, false, 250, null, Uint8Array.of(1))
  const sealed = new Uint8Array(stranger.length + 12)
  sealed.set(stranger)
  sealed[0] |= 1
  A.a.open(sealed, decodeLinkFrame(sealed), 'x')
  assert.is(t.sec(1, 'held'), 0)
  // B's frame accepted, then A forgets B's association (as when evicted) and B's frame is replayed
  // during the new handshake: its window survived, so it is not handed back.
  handshake(t, A, B)
  const f = beacon(B)
  assert.is(open(A.a, f), 'ok')
  ;(A.a as unknown as { drop(addr: Addr, forgetWindows: boolean): void }).drop(2, false)
  assert.is(A.a.open(f, decodeLinkFrame(f), 'replayed'), 'drop')
  pump(t, A, B)
  pump(t, B, A)
  assert.equal(t.redelivered, [], 'the replayed frame was not approved')
})

test('revocation: the revoked neighbour is dropped and the broadcast key changes, so others re-key', () => {
  const t = setup()
  const A = { a: t.auth(1), id: 1 }
  const B = { a: t.auth(2), id: 2 }
  const C = { a: t.auth(3), id: 3 }
  handshake(t, A, B)
  handshake(t, C, A)
  const before = A.a.seal(encodeData(1, BROADCAST, 1, false, 250, null, Uint8Array.of(1)))!
  assert.is(open(C.a, before), 'ok')
  // A installs a revocation list revoking B (through its store, as a node's config would).
  const store = t.stores.get(1)!
  store.updateRevocations(issueRevocationList(t.net.authority, t.net.network, [2], 1, validateSimSecurity({}).epoch))
  assert.equal(A.a.associations(), [3])
  const after = A.a.seal(encodeData(1, BROADCAST, 2, false, 250, null, Uint8Array.of(2)))!
  assert.is(open(C.a, after), 'drop', 'the old broadcast key no longer verifies')
  assert.is(t.sec(3, 'badMac'), 1)
})

test.run()
