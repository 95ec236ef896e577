/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, "Consistent Overhead Byte Stuffing",
 * IEEE/ACM Transactions on Networking 7(2), 1999) for one frame, delimiter not included.
 *
 * The encoding has no 0x00 byte, so 0x00 can delimit frames on a byte stream. The data is cut at
 * each zero into blocks; each block is sent as a code byte (block length + 1) followed by its
 * non-zero bytes, the zero itself being implied. A code of 0xFF means 254 data bytes and no
 * implied zero (a run longer than 254 is split), and the zero that would follow the last block is
 * dropped. Overhead: at least 1 byte, at most 1 byte per 254 (`cobsMaxEncodedLength`).
 *
 * The incremental decoder used on serial links is in cobs-framer.ts; this module is the one-shot
 * reference (and what the framer's tests compare against).
 */
import { DecodeError } from '../core/errors.ts'

/** The largest encoding of `n` data bytes (exact for data with no zero and n % 254 ≠ 0). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1
}

/**
 * Encode `data` into `out` from `at`; returns the index after the last byte written. `out` must
 * have `cobsMaxEncodedLength(data.length)` bytes free from `at`.
 */
export function cobsEncodeInto(data: Uint8Array, out: Uint8Array, at = 0): number {
  let codeAt = at
  let o = at + 1
  let code = 1
  const n = data.length
  for (let i = 0; i < n; i++) {
    const b = data[i]
    if (b === 0) {
      out[codeAt] = code
      codeAt = o++
      code = 1
    } else {
      out[o++] = b
      if (++code === 0xff && i + 1 < n) {
        out[codeAt] = code
        codeAt = o++
        code = 1
      }
    }
  }
  out[codeAt] = code
  return o
}

/** COBS encoding of `data` (no delimiter). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length))
  const end = cobsEncodeInto(data, out)
  return end === out.length ? out : out.slice(0, end)
}

/**
 * Decode one COBS frame given without its delimiter. Total: the data, or a DecodeError for an
 * empty input, a 0x00 byte anywhere, or a last block shorter than its code announces.
 */
export function cobsDecode(encoded: Uint8Array): Uint8Array {
  const n = encoded.length
  if (n === 0) throw new DecodeError('COBS frame is empty: it needs at least one code byte', 0)
  const out = new Uint8Array(n - 1) // every block costs its code byte; an implied zero replaces the next one
  let o = 0
  let i = 0
  while (i < n) {
    const code = encoded[i]
    if (code === 0) throw new DecodeError(`COBS frame has a zero byte at offset ${i}`, i)
    const end = i + code
    if (end > n) throw new DecodeError(`COBS block at offset ${i} announces ${code - 1} byte(s), ${n - i - 1} left`, n)
    for (let j = i + 1; j < end; j++) {
      const b = encoded[j]
      if (b === 0) throw new DecodeError(`COBS frame has a zero byte at offset ${j}`, j)
      out[o++] = b
    }
    i = end
    if (code < 0xff && i < n) out[o++] = 0
  }
  return o === out.length ? out : out.subarray(0, o)
}
