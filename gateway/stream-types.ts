/**
 * The types the gateway's parts agree on (issue 9). The mesh hands the gateway samples and
 * network events; the gateway appends each, as a `StreamRecord`, to the durable spool
 * (spool.ts) before it counts as accepted; every sink (MQTT, the live stream) reads the spool
 * through its own cursor and acknowledges what its backend confirmed.
 *
 * A record's `key` is its topic below the gateway's prefix (`spinmesh/<network>/`):
 * `<feed>/<origin>` for a sample of feed `<feed>` measured by node `<origin>` (8 hex digits),
 * `_events/<kind>` for a network event (feed names start with a letter, so never collide). The
 * payload is the message as the backend receives it (JSON, UTF-8). docs/GATEWAY.md has the layout.
 */

/** One record in the spool. */
export interface SpoolRecord {
  /** Position in the spool: consecutive integers from 0, never reused. */
  offset: number
  /** Topic below the prefix, e.g. `voltage/0000002a` or `_events/route-change`. */
  key: string
  payload: Uint8Array
  /** Wall clock when it was appended, ms since the epoch. */
  appendedAt: number
}

/**
 * What a sink reads: a named, persistent position in the spool. `read` hands out records after
 * what it already handed out; `ack(offset)` says every record up to and including `offset` is
 * done (the backend confirmed it) and is persisted; `rewind` goes back to just after the last ack
 * (after a lost connection, resend what was not confirmed: duplicates are possible, loss is not).
 */
export interface SpoolCursor {
  readonly name: string
  /** Every offset below this is acknowledged. */
  readonly acked: number
  /** Records appended but not yet acknowledged by this cursor. */
  readonly pending: number
  /** Up to `max` records after the last one read (or after the last ack after a rewind / at start). */
  read(max: number): SpoolRecord[]
  ack(offset: number): void
  rewind(): void
  /** Calls `fn` when records are appended (a sink waiting for work); returns a function that stops it. */
  onAppend(fn: () => void): () => void
}
