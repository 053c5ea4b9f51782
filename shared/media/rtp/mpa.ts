// MPEG audio (MP3) over RTP, RFC 2250 §3.5: static payload type 14, 90 kHz clock, a 4-byte header (16 bits
// zero, 16-bit fragment offset) before each frame or fragment of a frame.
import type { PayloadFormat, RtpPayload } from './types.ts';

export class MpaFormat implements PayloadFormat {
  readonly kind = 'audio' as const;
  readonly encoding = 'MPA';
  readonly clockRate = 90000;
  readonly staticPayloadType = 14;

  packetize(frame: Uint8Array, _key: boolean, maxPayload: number): RtpPayload[] {
    if (maxPayload < 5) throw new RangeError(`maxPayload ${maxPayload} is too small`);
    const out: RtpPayload[] = [];
    const chunk = maxPayload - 4;
    for (let off = 0; off < frame.length && off <= 0xffff; off += chunk) {
      const end = Math.min(frame.length, off + chunk);
      const p = new Uint8Array(4 + end - off);
      p[2] = off >> 8;
      p[3] = off & 0xff;
      p.set(frame.subarray(off, end), 4);
      out.push({ payload: p, marker: false }); // RFC 3551 §4.1: audio marks only talkspurts
    }
    return out;
  }
}
