// RTCP packets werift does not build right: BYE (RFC 3550 §6.6), which werift lacks, and SDES (§6.5), whose
// werift chunks miss the terminating null octet when their items fill a 32-bit word. Sender reports come
// from werift in node-peer; all are joined there into one compound packet (ffmpeg ignores a bare BYE).

export const RtcpType = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204 } as const;

/** A BYE packet for `ssrcs` (at most 31), with an optional reason (at most 255 bytes of UTF-8). */
export function buildBye(ssrcs: number[], reason?: string): Uint8Array {
  if (ssrcs.length === 0 || ssrcs.length > 31) throw new RangeError('a BYE names 1 to 31 sources');
  const text = reason ? new TextEncoder().encode(reason).subarray(0, 255) : undefined;
  const body = 4 * ssrcs.length + (text ? 1 + text.length : 0);
  const size = 4 + Math.ceil(body / 4) * 4;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 0x80 | ssrcs.length;
  out[1] = RtcpType.BYE;
  v.setUint16(2, size / 4 - 1);
  ssrcs.forEach((s, i) => v.setUint32(4 + 4 * i, s >>> 0));
  if (text) {
    out[4 + 4 * ssrcs.length] = text.length;
    out.set(text, 5 + 4 * ssrcs.length);
  }
  return out;
}

/** An SDES packet with one chunk: `ssrc` and its CNAME (at most 255 bytes of UTF-8). */
export function buildSdes(ssrc: number, cname: string): Uint8Array {
  const text = new TextEncoder().encode(cname).subarray(0, 255);
  // chunk: SSRC, CNAME item (type 1, length, text), then 1-4 null octets to end on a 32-bit boundary
  const chunk = 4 + 2 + text.length;
  const size = 4 + (Math.floor(chunk / 4) + 1) * 4;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 0x81;
  out[1] = RtcpType.SDES;
  v.setUint16(2, size / 4 - 1);
  v.setUint32(4, ssrc >>> 0);
  out[8] = 1;
  out[9] = text.length;
  out.set(text, 10);
  return out;
}

/** The packet types of a compound RTCP packet, in order; undefined when the lengths do not add up. */
export function rtcpTypes(b: Uint8Array): number[] | undefined {
  const types: number[] = [];
  let pos = 0;
  while (pos < b.length) {
    if (pos + 4 > b.length || b[pos] >> 6 !== 2) return undefined;
    const len = 4 * (((b[pos + 2] << 8) | b[pos + 3]) + 1);
    if (pos + len > b.length) return undefined;
    types.push(b[pos + 1]);
    pos += len;
  }
  return types;
}
