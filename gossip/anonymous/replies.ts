/**
 * What an accepting member sends back for a GOSSIP (PROTOCOLS.md §3), without I/O:
 *
 * 1. the messages the initiator listed as missing that this member holds, oldest first per source
 *    in the order listed sources came (sources with losses first);
 * 2. with `replyNewer`: the messages at or after the initiator's `next` for each listed source
 *    (what it lost at the end of a stream, or has not received yet), then those of sources it did
 *    not list (streams it never heard), except its own messages — of these only the ones held at
 *    least `replyNewerMinAgeMs` (younger ones are likely still on their way down the tree);
 *
 * With `signed` (authenticated networks) only messages held with their proof are served, and each
 * carries it (a node's own message gets its proof when MAODV signs it; until then it waits): a
 * signature goes with its message (§12.4); a batch-mode message goes in a batch reply (§12.5) that
 * also carries the DIGEST listing it (once per reply, however many of its packets the reply holds).
 *
 * at most `replyMaxMessages` in all, packed into GOSSIP-REPLYs of at most `replyMaxBytes` each (a
 * message larger than that alone goes alone: `AnonymousGossip.maxPayload` guarantees it fits a
 * routed packet). A batch message that does not fit one reply together with its DIGEST is sent
 * right after a reply carrying that DIGEST alone (the receiver remembers verified DIGESTs).
 */
import type { Addr } from '../../core/addr.ts'
import {
  BATCH_REPLY_BASE_SIZE, MAX_REPLY_DIGESTS, REPLY_BASE_SIZE, replyDigestSize, replyMessageSize, type GossipSource, type ReplyDigest, type ReplyMessage,
} from './ag-messages.ts'
import type { History, HistoryEntry } from './history.ts'

export interface ReplyLimits {
  replyMaxMessages: number
  replyMaxBytes: number
  replyNewer: boolean
  replyNewerMinAgeMs: number
  /** Serve only messages held with their proof, and send it. */
  signed?: boolean
}

function message(e: HistoryEntry, signed: boolean): ReplyMessage {
  return signed ? { origin: e.origin, seq: e.seq, payload: e.payload, proof: e.proof } : { origin: e.origin, seq: e.seq, payload: e.payload }
}

/** One GOSSIP-REPLY's content: `digests` set for the batch layout. */
export interface ReplyBody {
  messages: ReplyMessage[]
  digests?: ReplyDigest[]
}

/** The messages to send `initiator`, in order of priority. */
export function collectReply(history: History, initiator: Addr, sources: readonly GossipSource[], c: ReplyLimits, now: number): ReplyMessage[] {
  const out: ReplyMessage[] = []
  const settled = now - c.replyNewerMinAgeMs
  const full = (): boolean => out.length >= c.replyMaxMessages
  const signed = c.signed === true
  const servable = (e: HistoryEntry | undefined): e is HistoryEntry => e !== undefined && (!signed || e.proof?.signature !== undefined || e.proof?.digest !== undefined)
  for (const s of sources) {
    // Listed newest first on the wire; the oldest are nearest to leaving every history.
    for (let i = s.missing.length - 1; i >= 0 && !full(); i--) {
      const e = history.get(s.source, s.missing[i])
      if (servable(e)) out.push(message(e, signed))
    }
  }
  if (!c.replyNewer) return out
  const listed = new Set<Addr>()
  for (const s of sources) {
    listed.add(s.source)
    for (const e of history.since(s.source, s.next)) {
      if (full()) return out
      if (e.at > settled || !servable(e)) continue
      out.push(message(e, signed))
    }
  }
  for (const origin of history.origins()) {
    if (listed.has(origin) || origin === initiator) continue
    for (const e of history.of(origin)) {
      if (full()) return out
      if (e.at > settled || !servable(e)) continue
      out.push(message(e, signed))
    }
  }
  return out
}

/**
 * Split `messages` into reply bodies of at most `maxBytes` each (one oversized message goes alone):
 * messages with a signature or none in plain/signed replies, messages proved by a DIGEST in batch
 * replies with their DIGESTs, in order of priority within each kind.
 */
export function packReplies(messages: readonly ReplyMessage[], maxBytes: number): ReplyBody[] {
  const out: ReplyBody[] = []
  let cur: ReplyMessage[] = []
  let size = REPLY_BASE_SIZE
  const batched: ReplyMessage[] = []
  for (const m of messages) {
    if (m.proof?.digest !== undefined) {
      batched.push(m)
      continue
    }
    const add = replyMessageSize(m.payload.length, m.proof !== undefined)
    if (cur.length > 0 && (size + add > maxBytes || cur.length === 255)) {
      out.push({ messages: cur })
      cur = []
      size = REPLY_BASE_SIZE
    }
    cur.push(m)
    size += add
  }
  if (cur.length > 0) out.push({ messages: cur })
  return out.concat(packBatch(batched, maxBytes))
}

/** Batch replies: each message with its DIGEST in the same reply (or, too large together, the DIGEST alone just before). */
function packBatch(messages: readonly ReplyMessage[], maxBytes: number): ReplyBody[] {
  const out: ReplyBody[] = []
  let cur: ReplyBody = { messages: [], digests: [] }
  let size = BATCH_REPLY_BASE_SIZE
  const flush = (): void => {
    if (cur.messages.length + cur.digests!.length > 0) out.push(cur)
    cur = { messages: [], digests: [] }
    size = BATCH_REPLY_BASE_SIZE
  }
  for (const m of messages) {
    const d = m.proof!.digest!
    const wire: ReplyMessage = { origin: m.origin, seq: m.seq, payload: m.payload, proof: { mseq: m.proof!.mseq, index: m.proof!.index } }
    const add = replyMessageSize(m.payload.length, true, true)
    const has = cur.digests!.includes(d)
    const need = add + (has ? 0 : replyDigestSize(d))
    if (size + need > maxBytes || cur.messages.length === 255 || (!has && cur.digests!.length === MAX_REPLY_DIGESTS)) {
      flush()
      if (BATCH_REPLY_BASE_SIZE + add + replyDigestSize(d) > maxBytes) {
        // Too large together: the DIGEST goes alone first, the message right after it.
        out.push({ messages: [], digests: [d] })
        cur.messages.push(wire)
        size += add
        flush()
        continue
      }
    }
    if (!cur.digests!.includes(d)) {
      cur.digests!.push(d)
      size += replyDigestSize(d)
    }
    cur.messages.push(wire)
    size += add
  }
  flush()
  return out
}
