/**
 * CRC-32/ISO-HDLC (the CRC of Ethernet, PPP, zlib and PNG): reflected polynomial 0xEDB88320,
 * register initialised to 0xFFFFFFFF, final XOR 0xFFFFFFFF. Check value: crc32("123456789") =
 * 0xCBF43926. Table-driven, one byte per step (a 1 KiB table built once at import).
 *
 * Incremental like zlib: `crc32(b, crc32(a)) === crc32(a ‖ b)`.
 *
 * Appended little-endian (least significant byte first, as Ethernet sends its FCS), the CRC of the
 * whole `data ‖ crc32(data)` is the constant `CRC32_RESIDUE`: a receiver can check a frame in one
 * pass without locating the CRC field.
 */

const TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 of `bytes`, continuing from `previous` (the CRC of what came before; 0 to start). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

/** crc32(data ‖ crc32(data) as 4 little-endian bytes), whatever `data` is. */
export const CRC32_RESIDUE = 0x2144df1c

/** Bytes the CRC adds to a frame. */
export const CRC32_LENGTH = 4

/** Write `crc` as 4 little-endian bytes at `at` (no bounds check). */
export function putCrc32LE(b: Uint8Array, at: number, crc: number): void {
  b[at] = crc & 0xff
  b[at + 1] = (crc >>> 8) & 0xff
  b[at + 2] = (crc >>> 16) & 0xff
  b[at + 3] = crc >>> 24
}

/** The little-endian u32 at `at` (no bounds check). */
export function getCrc32LE(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
}
