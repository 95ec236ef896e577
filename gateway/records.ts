/**
 * What a gateway streams, as records (issue 9): a record's key is its topic below the gateway's
 * prefix, its payload the message a backend subscriber receives. docs/GATEWAY.md documents the
 * layout:
 *
 *   spinmesh/<network>/<feed>/<origin>      one sample (retained: the latest per feed and origin)
 *   spinmesh/<network>/_feeds/<feed>        the feed's schema: fields and units (retained)
 *   spinmesh/<network>/_events/<kind>       a network event (not retained)
 *
 * Sample payload (JSON, UTF-8; or the same map in CBOR with `format: cbor`):
 *
 *   {"feed":"climate","origin":"0000002a","seq":17,"ts":1763712000123,
 *    "values":{"temperature":21.4,"humidity":48.2},"hops":2,"gateway":"00000001"}
 *
 * `ts` is the sensor's clock (ms since the epoch); (origin, feed, seq) identifies a sample, so a
 * subscriber can drop the duplicates QoS 1 allows.
 */
import { encode as cborEncode } from 'cbor-x'
import { formatNodeAddress, type Addr } from '../core/addr.ts'
import type { FeedSample, FeedSchema } from '../gossip/feeds/sample.ts'

export type PayloadFormat = 'json' | 'cbor'

/** Topic (below the prefix) of a feed's samples from one origin. */
export const sampleKey = (feed: string, origin: Addr): string => `${feed}/${formatNodeAddress(origin)}`
export const schemaKey = (feed: string): string => `_feeds/${feed}`
export const eventKey = (kind: string): string => `_events/${kind}`

/** Samples and schemas are retained (a new subscriber gets the latest at once); events are not. */
export const retainedKey = (key: string): boolean => !key.startsWith('_events/')

/** MQTT topic levels must not hold wildcards or separators: event kinds are checked. */
const KIND = /^[a-z][a-z0-9-]{0,63}$/

export interface SampleMessage {
  feed: string
  origin: string
  seq: number
  ts: number
  values: Record<string, number | null>
  hops?: number
  gateway: string
}

function encodePayload(m: object, format: PayloadFormat): Uint8Array {
  return format === 'cbor' ? cborEncode(m) : new TextEncoder().encode(JSON.stringify(m))
}

/** The message for one sample (values by field name; NaN, which JSON cannot carry, as null). */
export function sampleMessage(schema: FeedSchema, s: FeedSample & { hops?: number }, gateway: Addr): SampleMessage {
  const values: Record<string, number | null> = {}
  schema.fields.forEach((f, i) => {
    const v = s.values[i]
    values[f.name] = Number.isFinite(v) ? v : null
  })
  return { feed: schema.name, origin: formatNodeAddress(s.origin), seq: s.seq, ts: s.ts, values, ...(s.hops !== undefined ? { hops: s.hops } : {}), gateway: formatNodeAddress(gateway) }
}

export function sampleRecord(schema: FeedSchema, s: FeedSample & { hops?: number }, gateway: Addr, format: PayloadFormat): { key: string; payload: Uint8Array; message: SampleMessage } {
  const message = sampleMessage(schema, s, gateway)
  return { key: sampleKey(schema.name, s.origin), payload: encodePayload(message, format), message }
}

export function schemaRecord(schema: FeedSchema, format: PayloadFormat): { key: string; payload: Uint8Array } {
  return { key: schemaKey(schema.name), payload: encodePayload({ feed: schema.name, id: schema.id, fields: schema.fields }, format) }
}

export interface NetworkEvent {
  /** e.g. `neighbour-up`, `neighbour-down`, `route-change`, `radio-state`, `gateway-start`. */
  kind: string
  /** Wall clock, ms since the epoch. */
  at: number
  [field: string]: unknown
}

export function eventRecord(e: NetworkEvent, format: PayloadFormat): { key: string; payload: Uint8Array } {
  if (!KIND.test(e.kind)) throw new RangeError(`event kind must be lowercase letters, digits and '-', got ${JSON.stringify(e.kind)}`)
  return { key: eventKey(e.kind), payload: encodePayload(e, format) }
}
