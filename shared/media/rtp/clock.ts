// Clocks of an RTP sender: program time (seconds) to RTP timestamps, wall-clock time to NTP timestamps.

const WRAP = 2 ** 32;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
export const NTP_UNIX_OFFSET = 2_208_988_800;

/** `offset + ticks` modulo 2^32 (RTP timestamps wrap; ticks may be negative). */
export function wrap32(offset: number, ticks: number): number {
  const v = (offset + ticks) % WRAP;
  return v < 0 ? v + WRAP : v;
}

/**
 * RTP ticks of a frame: `base` (ticks of the segment's start on the RTP clock) plus the frame's distance from
 * the segment start `start`, both in the track's timescale, converted to the RTP clock and rounded.
 */
export function rtpTicks(base: number, pts: number, start: number, timescale: number, clockRate: number): number {
  return base + Math.round(((pts - start) * clockRate) / timescale);
}

/** 64-bit NTP timestamp (32.32 fixed point) of an instant in epoch milliseconds. */
export function ntpTimestamp(epochMs: number): bigint {
  const sec = Math.floor(epochMs / 1000);
  const frac = Math.floor(((epochMs - sec * 1000) / 1000) * WRAP);
  return (BigInt(sec + NTP_UNIX_OFFSET) << 32n) | BigInt(frac);
}

/** Epoch milliseconds of a 64-bit NTP timestamp. */
export function ntpToEpochMs(ntp: bigint): number {
  const sec = Number(ntp >> 32n) - NTP_UNIX_OFFSET;
  return sec * 1000 + (Number(ntp & 0xffff_ffffn) / WRAP) * 1000;
}
