/** Airtime of a frame: preamble plus payload bits at the on-air bitrate (DESIGN.md §3). */
export function airtimeMs(bytes: number, bitrate: number, preambleMs = 0): number {
  return preambleMs + (bytes * 8 * 1000) / bitrate
}
