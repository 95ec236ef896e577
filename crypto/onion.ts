/**
 * Onion layers for ODSBR probe lists. The source shares a key with each probe node on the path;
 * each layer carries that probe's content and, encrypted inside it, the remaining layers. A probe
 * peels its own layer and forwards the rest: it cannot read deeper layers (they are encrypted
 * under keys it does not have) nor alter them undetectably (the next probe's AEAD tag fails, and
 * so would its own layer's tag, which covers them).
 *
 * Layout (n layers, layers[0] the outermost, i.e. the first probe on the path):
 *
 *   L_n     = empty
 *   L_i     = ChaCha20-Poly1305(key_i, nonce, len_i u16 BE ‖ content_i ‖ L_{i+1})   (sealed: ciphertext ‖ 16-byte tag)
 *   onion   = L_0
 *
 * so each layer adds ONION_LAYER_OVERHEAD = 2 + 16 bytes, and a content is at most 65,535 bytes.
 * A layer's size reveals how many layers remain beneath it (no padding).
 *
 * Nonce rule: every layer of one onion uses the same 12-byte nonce, which is safe because each
 * layer has its own key (keys must be distinct per layer: a probe listed twice must get two
 * distinct keys, or appear once). Across onions the nonce must be unique per packet for the source:
 * the same key must never see the same nonce twice (e.g. nonce = source's u32 packet counter
 * ‖ 8 zero bytes, with pairwise keys per (source, probe)). The nonce is sent beside the onion.
 *
 * `peelOnion` is total: any bytes give a layer or null (RangeError only for a wrong key or nonce
 * length, a caller's bug).
 */
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, open, seal } from './aead.ts'

const LENGTH_BYTES = 2
/** Bytes each layer adds: a u16 content length and the AEAD tag. */
export const ONION_LAYER_OVERHEAD = LENGTH_BYTES + AEAD_TAG_BYTES
export const ONION_MAX_CONTENT = 0xffff

/** layers[0] is the outermost (first probe on the path). nonce: 12 bytes unique per packet for the source. */
export function buildOnion(layers: readonly { key: Uint8Array; content: Uint8Array }[], nonce: Uint8Array): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_BYTES) throw new RangeError(`an onion nonce is ${AEAD_NONCE_BYTES} bytes, got ${nonce?.length}`)
  let inner: Uint8Array = new Uint8Array(0)
  for (let i = layers.length - 1; i >= 0; i--) {
    const { key, content } = layers[i]
    if (content.length > ONION_MAX_CONTENT) throw new RangeError(`onion layer ${i}: content is ${content.length} bytes, at most ${ONION_MAX_CONTENT}`)
    const plain = new Uint8Array(LENGTH_BYTES + content.length + inner.length)
    plain[0] = content.length >>> 8
    plain[1] = content.length & 0xff
    plain.set(content, LENGTH_BYTES)
    plain.set(inner, LENGTH_BYTES + content.length)
    inner = seal(key, nonce, plain)
  }
  return inner
}

/**
 * Peel one layer with my key: my content and the remainder to pass on (empty after the last
 * layer), or null if it is not mine or was altered. Both results are views of one fresh buffer.
 */
export function peelOnion(key: Uint8Array, onion: Uint8Array, nonce: Uint8Array): { content: Uint8Array; rest: Uint8Array } | null {
  const plain = open(key, nonce, onion)
  if (plain === null || plain.length < LENGTH_BYTES) return null
  const n = (plain[0] << 8) | plain[1]
  if (LENGTH_BYTES + n > plain.length) return null
  return { content: plain.subarray(LENGTH_BYTES, LENGTH_BYTES + n), rest: plain.subarray(LENGTH_BYTES + n) }
}
