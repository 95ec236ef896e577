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
 * carries it (a node's own message gets its proof when MAODV signs it; until then it waits).
 *
 * at most `replyMaxMessages` in all, packed into GOSSIP-REPLYs of at most `replyMaxBytes` each (a
 * message larger than that alone goes alone: `AnonymousGossip.maxPayload` guarantees it fits a
 * routed packet).
 */
import type { Addr } from '../../core/addr.ts'
import { REPLY_BASE_SIZE, replyMessageSize, type GossipSource, type ReplyMessage } from './ag-messages.ts'
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

/** The messages to send `initiator`, in order of priority. */
export function collectReply(history: History, initiator: Addr, sources: readonly GossipSource[], c: ReplyLimits, now: number): ReplyMessage[] {
  const out: ReplyMessage[] = []
  const settled = now - c.replyNewerMinAgeMs
  const full = (): boolean => out.length >= c.replyMaxMessages
  const signed = c.signed === true
  const servable = (e: HistoryEntry | undefined): e is HistoryEntry => e !== undefined && (!signed || e.proof !== undefined)
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

/** Split `messages` into reply bodies of at most `maxBytes` each (one oversized message goes alone). */
export function packReplies(messages: readonly ReplyMessage[], maxBytes: number): ReplyMessage[][] {
  const out: ReplyMessage[][] = []
  let cur: ReplyMessage[] = []
  let size = REPLY_BASE_SIZE
  for (const m of messages) {
    const add = replyMessageSize(m.payload.length, m.proof !== undefined)
    if (cur.length > 0 && (size + add > maxBytes || cur.length === 255)) {
      out.push(cur)
      cur = []
      size = REPLY_BASE_SIZE
    }
    cur.push(m)
    size += add
  }
  if (cur.length > 0) out.push(cur)
  return out
}
