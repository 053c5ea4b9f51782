// RTP payload formats: packetized by ours (shared/media/rtp), reassembled by werift's depacketizers (an
// independent implementation): H.264 FU-A, H.265 FU, AAC-hbr AU headers and fragments, Opus, MPA; marker
// bits, sizes, parameter sets before key frames; timestamps; SDP; RTCP compound packets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AacHbrRtpPayload, H264RtpPayload, H265RtpPayload, RtcpSourceDescriptionPacket, RtcpSrPacket } from 'werift';
import { AacFormat, parseAudioSpecificConfig } from '../../../shared/media/rtp/aac.ts';
import { ntpTimestamp, ntpToEpochMs, rtpTicks, wrap32 } from '../../../shared/media/rtp/clock.ts';
import { H264Format, parseAvcC } from '../../../shared/media/rtp/h264.ts';
import { H265Format, parseHvcC } from '../../../shared/media/rtp/h265.ts';
import { payloadFormat } from '../../../shared/media/rtp/index.ts';
import { MpaFormat } from '../../../shared/media/rtp/mpa.ts';
import { OpusFormat } from '../../../shared/media/rtp/opus.ts';
import { buildBye, buildSdes, rtcpTypes } from '../../../shared/media/rtp/rtcp.ts';
import { buildSdp } from '../../../shared/media/rtp/sdp.ts';
import type { RtpPayload } from '../../../shared/media/rtp/types.ts';
import { fromBase64 } from '../../../shared/util/base64.ts';
import { RtpSender } from '../../../node-peer/gateways/rtsp/rtp-out.ts';

// The avcC of docs/MEDIA.md's metadata fixture: High 3.0, one SPS, one PPS, 4-byte lengths.
const AVCC = fromBase64('AWQAHv/hAARnZAAeAQAEaOvjyw==') as Uint8Array;
const SPS = Uint8Array.from([0x67, 0x64, 0x00, 0x1e]);
const PPS = Uint8Array.from([0x68, 0xeb, 0xe3, 0xcb]);
const START = [0, 0, 0, 1];

const avcc = (nals: Uint8Array[], lengthSize = 4): Uint8Array => {
  const out: number[] = [];
  for (const n of nals) {
    for (let k = lengthSize - 1; k >= 0; k--) out.push(Math.floor(n.length / 256 ** k) & 0xff);
    out.push(...n);
  }
  return Uint8Array.from(out);
};
const annexB = (nals: Uint8Array[]) => Buffer.from(nals.flatMap((n) => [...START, ...n]));

/** werift's H.264 depacketizer over our payloads: the access unit in Annex-B form. */
function reassemble264(packets: RtpPayload[]): Buffer {
  const parts: Buffer[] = [];
  let fragment: Buffer | undefined;
  for (const p of packets) {
    const d = H264RtpPayload.deSerialize(Buffer.from(p.payload), fragment);
    fragment = d.fragment;
    if (d.payload) parts.push(d.payload);
  }
  expect(fragment ?? Buffer.alloc(0)).toHaveLength(0);
  return Buffer.concat(parts);
}

const nalArb = (types: number[]) =>
  fc
    .tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 1, maxLength: 5000 }))
    .map(([type, nri, body]) => Uint8Array.from([(nri << 5) | type, ...body]));

describe('H.264 (RFC 6184)', () => {
  const f = new H264Format(parseAvcC(AVCC)!);

  it('reads the avcC and writes profile-level-id and sprop-parameter-sets', () => {
    const c = parseAvcC(AVCC)!;
    expect(c.lengthSize).toBe(4);
    expect(c.sps).toEqual([SPS]);
    expect(c.pps).toEqual([PPS]);
    expect(f.fmtp).toBe('packetization-mode=1;profile-level-id=64001e;sprop-parameter-sets=Z2QAHg==,aOvjyw==');
    expect(parseAvcC(AVCC.subarray(0, 9))).toBeUndefined();
    expect(parseAvcC(Uint8Array.from([2, 0x64, 0, 0x1e, 0xff, 0xe0, 0]))).toBeUndefined();
  });

  it('FU-A fragmentation round trip: any NAL sizes and payload limits, reassembled by werift', () => {
    fc.assert(
      fc.property(fc.array(nalArb([1, 5, 6, 9]), { minLength: 1, maxLength: 6 }), fc.integer({ min: 3, max: 1500 }), fc.constantFrom(1, 2, 4), (nals, max, lengthSize) => {
        const fmt = new H264Format({ ...parseAvcC(AVCC)!, lengthSize });
        const key = nals.some((n) => (n[0] & 0x1f) === 5);
        const packets = fmt.packetize(avcc(nals.map((n) => n.subarray(0, lengthSize === 1 ? 255 : n.length)), lengthSize), false, max);
        const sent = nals.map((n) => n.subarray(0, lengthSize === 1 ? 255 : n.length));
        for (const p of packets) expect(p.payload.length).toBeLessThanOrEqual(max);
        // the marker on the last packet of the access unit, only there
        expect(packets.map((p) => p.marker)).toEqual(packets.map((_p, i) => i === packets.length - 1));
        // werift rebuilds each NAL header from the FU indicator's F/NRI and the FU header's type
        expect(reassemble264(packets)).toEqual(annexB(key ? [SPS, PPS, ...sent] : sent));
      }),
      { numRuns: 300 },
    );
  });

  it('sends SPS and PPS before an IDR picture (and key frames), not twice, not before other pictures', () => {
    const idr = Uint8Array.from([0x65, 1, 2, 3]);
    const p = Uint8Array.from([0x41, 9, 9]);
    const types = (ps: RtpPayload[]) => ps.map((x) => x.payload[0] & 0x1f);
    expect(types(f.packetize(avcc([idr]), false, 1400))).toEqual([7, 8, 5]);
    expect(types(f.packetize(avcc([SPS, PPS, idr]), true, 1400))).toEqual([7, 8, 5]);
    expect(types(f.packetize(avcc([PPS, idr]), true, 1400))).toEqual([7, 8, 5]);
    expect(types(f.packetize(avcc([p]), false, 1400))).toEqual([1]);
    expect(types(f.packetize(avcc([p]), true, 1400))).toEqual([7, 8, 1]); // a key frame without IDR (recovery point)
  });

  it('FU-A headers: start and end bits, the original type', () => {
    const nal = Uint8Array.from([0x65, ...new Uint8Array(3000).map((_x, i) => i & 0xff)]);
    const ps = f.packetize(avcc([nal]), false, 1000).slice(2); // after SPS, PPS
    expect(ps).toHaveLength(4);
    expect(ps.map((x) => [x.payload[0], x.payload[1]])).toEqual([
      [0x7c, 0x85],
      [0x7c, 0x05],
      [0x7c, 0x05],
      [0x7c, 0x45],
    ]);
  });

  it('never throws on broken samples: a length past the end stops the walk', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (bytes, key) => {
        for (const p of f.packetize(bytes, key, 1400)) expect(p.payload.length).toBeLessThanOrEqual(1400);
      }),
      { numRuns: 500 },
    );
    const whole = Uint8Array.from([0x41, 7]);
    expect(f.packetize(Uint8Array.from([...avcc([whole]), 0, 0, 0, 99, 1]), false, 1400).map((p) => [...p.payload])).toEqual([[0x41, 7]]);
  });
});

describe('H.265 (RFC 7798)', () => {
  const vps = Uint8Array.from([0x40, 0x01, 0x0c, 0x01]);
  const sps = Uint8Array.from([0x42, 0x01, 0x01, 0x01]);
  const pps = Uint8Array.from([0x44, 0x01, 0xc1, 0x72]);
  const hvcc = (() => {
    const head = new Uint8Array(23);
    head[0] = 1;
    head[21] = 0x03; // lengthSizeMinusOne = 3
    head[22] = 3;
    const arr = (type: number, nal: Uint8Array) => [0x80 | type, 0, 1, 0, nal.length, ...nal];
    return Uint8Array.from([...head, ...arr(32, vps), ...arr(33, sps), ...arr(34, pps)]);
  })();
  const f = new H265Format(parseHvcC(hvcc)!);

  it('reads the hvcC into sprop-vps/sps/pps', () => {
    expect(f.fmtp).toBe('sprop-vps=QAEMAQ==;sprop-sps=QgEBAQ==;sprop-pps=RAHBcg==');
    expect(parseHvcC(hvcc.subarray(0, 30))).toBeUndefined();
  });

  it('FU round trip, reassembled by werift, parameter sets before IRAP pictures', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom(1, 19, 21), fc.uint8Array({ minLength: 1, maxLength: 4000 })).map(([t, b]) => Uint8Array.from([t << 1, 1, ...b])),
          { minLength: 1, maxLength: 4 },
        ),
        fc.integer({ min: 4, max: 1500 }),
        (nals, max) => {
          const packets = f.packetize(avcc(nals), false, max);
          for (const p of packets) expect(p.payload.length).toBeLessThanOrEqual(max);
          expect(packets.map((p) => p.marker)).toEqual(packets.map((_p, i) => i === packets.length - 1));
          const parts: Buffer[] = [];
          let fragment: Buffer | undefined;
          for (const p of packets) {
            const d = H265RtpPayload.deSerialize(Buffer.from(p.payload), fragment);
            fragment = d.fragment;
            if (d.payload?.length) parts.push(d.payload);
          }
          const irap = nals.some((n) => ((n[0] >> 1) & 0x3f) >= 16);
          expect(Buffer.concat(parts)).toEqual(annexB(irap ? [vps, sps, pps, ...nals] : nals));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('AAC (RFC 3640 AAC-hbr)', () => {
  const asc = fromBase64('EZA=') as Uint8Array; // AAC-LC, 48 kHz, stereo
  const f = new AacFormat(asc, 48000, 2);

  it('reads the AudioSpecificConfig, writes config= in hex', () => {
    expect(parseAudioSpecificConfig(asc)).toEqual({ objectType: 2, sampleRate: 48000, channels: 2 });
    expect(parseAudioSpecificConfig(Uint8Array.from([0x12, 0x08]))).toEqual({ objectType: 2, sampleRate: 44100, channels: 1 });
    expect(parseAudioSpecificConfig(Uint8Array.from([0x12]))).toBeUndefined();
    expect(f.fmtp).toBe('streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190');
  });

  it('one AU per packet: AU-headers-length 16, a 13-bit size and index 0, marker set', () => {
    const au = new Uint8Array(371).fill(7);
    const [p, ...rest] = f.packetize(au, true, 1388);
    expect(rest).toEqual([]);
    expect([...p.payload.subarray(0, 4)]).toEqual([0, 16, 371 >> 5, (371 & 31) << 3]);
    expect(p.marker).toBe(true);
    const d = AacHbrRtpPayload.deSerialize(Buffer.from(p.payload));
    expect(d.auHeaders).toEqual([{ size: 371, index: 0 }]);
    expect(d.payload).toEqual(Buffer.from(au));
  });

  it('a large AU is fragmented: every fragment carries the whole size, the marker only on the last; werift reassembles it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 8191 }), fc.integer({ min: 5, max: 1400 }), (au, max) => {
        const packets = f.packetize(au, true, max);
        expect(packets.map((p) => p.marker)).toEqual(packets.map((_p, i) => i === packets.length - 1));
        let fragment: Buffer | undefined;
        let out: Buffer | undefined;
        for (const p of packets) {
          expect(p.payload.length).toBeLessThanOrEqual(max);
          expect(((p.payload[2] << 5) | (p.payload[3] >> 3)) >>> 0).toBe(au.length);
          const d = AacHbrRtpPayload.deSerialize(Buffer.from(p.payload), fragment);
          fragment = d.fragment;
          if (d.payload?.length) out = d.payload;
        }
        expect(out).toEqual(Buffer.from(au));
      }),
      { numRuns: 200 },
    );
    expect(f.packetize(new Uint8Array(8192), true, 1400)).toEqual([]); // over the 13-bit AU-size
  });
});

describe('Opus (RFC 7587) and MPEG audio (RFC 2250)', () => {
  it('Opus: one packet per frame, opus/48000/2, sprop-stereo for stereo', () => {
    const frame = Uint8Array.from([0xfc, 1, 2, 3]);
    expect(new OpusFormat(true).packetize(frame)).toEqual([{ payload: frame, marker: false }]);
    expect(new OpusFormat(true).fmtp).toBe('sprop-stereo=1');
    expect(new OpusFormat(false).fmtp).toBeUndefined();
    const head = Uint8Array.from([...new TextEncoder().encode('OpusHead'), 1, 6, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 1, 4, 2, 0, 1, 2, 3, 4, 5]);
    const r = payloadFormat({ index: 1, codec: 'opus', config: { format: 'OpusHead', data: head }, channels: 6 });
    expect(r.ok).toBe(false);
  });

  it('MPA: a 4-byte header with the fragment offset; static payload type 14', () => {
    const f = new MpaFormat();
    const ps = f.packetize(new Uint8Array(3000).fill(1), true, 1400);
    expect(ps.map((p) => (p.payload[2] << 8) | p.payload[3])).toEqual([0, 1396, 2792]);
    expect(f.staticPayloadType).toBe(14);
  });

  it('formats by codec; the unsupported ones say why', () => {
    expect(payloadFormat({ index: 0, codec: 'avc1.64001e', config: { format: 'avcC', data: AVCC } }).ok).toBe(true);
    expect(payloadFormat({ index: 1, codec: 'mp4a.40.2', config: { format: 'AudioSpecificConfig', data: fromBase64('EZA=')! }, sampleRate: 48000 }).ok).toBe(true);
    const vp9 = payloadFormat({ index: 0, codec: 'vp09.00.10.08' });
    expect(vp9.ok).toBe(false);
    if (!vp9.ok) expect(vp9.error.message).toMatch(/UNSUPPORTED: track 0 \(vp09\.00\.10\.08\)/);
    expect(payloadFormat({ index: 0, codec: 'avc1.64001e' }).ok).toBe(false); // no avcC
  });
});

describe('timestamps and clocks', () => {
  it('RTP ticks from presentation times in the track timescale, wrapped to 32 bits', () => {
    // 30 fps video at 15360 ticks/s: 512 ticks a frame = 3000 at 90 kHz
    expect(rtpTicks(0, 512 * 7, 0, 15360, 90000)).toBe(21000);
    // AAC 1024-sample frames at 48 kHz stay exact; relative to a segment start and base
    expect(rtpTicks(1000, 48000 + 1024, 48000, 48000, 48000)).toBe(2024);
    // Matroska milliseconds to 90 kHz
    expect(rtpTicks(0, 40, 0, 1000, 90000)).toBe(3600);
    expect(wrap32(2 ** 32 - 10, 25)).toBe(15);
    expect(wrap32(5, -10)).toBe(2 ** 32 - 5);
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (o, t) => {
        const w = wrap32(o, t);
        expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
        expect(Math.abs((w - o - t) % 2 ** 32)).toBe(0);
      }),
    );
  });

  it('NTP timestamps: 1970 is 2208988800 s after 1900, 32-bit fractions', () => {
    expect(ntpTimestamp(0)).toBe(2208988800n << 32n);
    expect(ntpTimestamp(1500)).toBe(((2208988801n) << 32n) | 2147483648n);
    const now = Date.now() + 0.25;
    expect(Math.abs(ntpToEpochMs(ntpTimestamp(now)) - now)).toBeLessThan(0.001);
  });
});

describe('SDP', () => {
  it('session and media sections with rtpmap, fmtp, control', () => {
    const sdp = buildSdp({
      id: '123',
      version: '1',
      address: '127.0.0.1',
      name: 'Tom & Jerry\r\nm=evil 0',
      range: 'npt=0-4.000',
      tool: 'stateos',
      streams: [
        { format: new H264Format(parseAvcC(AVCC)!), payloadType: 96, control: 'trackID=0' },
        { format: new AacFormat(fromBase64('EZA=')!, 48000, 2), payloadType: 97, control: 'trackID=1' },
      ],
    });
    const lines = sdp.split('\r\n');
    expect(lines.slice(0, 9)).toEqual(['v=0', 'o=- 123 1 IN IP4 127.0.0.1', 's=Tom & Jerry  m=evil 0', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=tool:stateos', 'a=control:*', 'a=range:npt=0-4.000', 'm=video 0 RTP/AVP 96']);
    expect(lines).toContain('a=rtpmap:96 H264/90000');
    expect(lines).toContain('a=fmtp:96 packetization-mode=1;profile-level-id=64001e;sprop-parameter-sets=Z2QAHg==,aOvjyw==');
    expect(lines).toContain('a=rtpmap:97 MPEG4-GENERIC/48000/2');
    expect(lines).toContain('a=control:trackID=1');
    expect(lines.filter((l) => l.startsWith('m='))).toHaveLength(2);
    expect(sdp.endsWith('\r\n')).toBe(true);
  });
});

describe('RTCP', () => {
  it('BYE and SDES are well-formed; the sender ends with one SR + SDES + BYE compound packet', () => {
    expect([...buildBye([0x11223344])]).toEqual([0x81, 203, 0, 1, 0x11, 0x22, 0x33, 0x44]);
    const withReason = buildBye([1, 2], 'end');
    expect(withReason.length % 4).toBe(0);
    expect(rtcpTypes(withReason)).toEqual([203]);
    for (const cname of ['ab', 'abcdef', 'x'.repeat(10)]) {
      const sdes = buildSdes(7, cname);
      expect(sdes.length % 4).toBe(0);
      expect(sdes[sdes.length - 1]).toBe(0); // the item list ends with a null octet, always
      const parsed = RtcpSourceDescriptionPacket.deSerialize(Buffer.from(sdes.subarray(4)), { count: 1, length: sdes.length / 4 - 1 } as never);
      expect(parsed.chunks[0].items[0].text).toBe(cname);
    }
    const s = new RtpSender(96, 90000, 'stateos-test');
    s.packetsOf([{ payload: new Uint8Array(100), marker: true }], 1234);
    const bye = s.goodbye(1_700_000_000_000, 999, 'end of stream');
    expect(rtcpTypes(bye)).toEqual([200, 202, 203]);
    const sr = RtcpSrPacket.deSerialize(bye.subarray(4), 0);
    expect(sr.ssrc).toBe(s.ssrc);
    expect(sr.senderInfo.rtpTimestamp).toBe(999);
    expect(sr.senderInfo.packetCount).toBe(1);
    expect(sr.senderInfo.octetCount).toBe(100);
    expect(ntpToEpochMs(sr.senderInfo.ntpTimestamp)).toBeCloseTo(1_700_000_000_000, 3);
  });

  it('RTP packets: sequence numbers count on (and wrap), one timestamp per frame, marker from the payload', () => {
    const s = new RtpSender(97, 48000, 'x');
    s.seq = 0xfffe;
    const ps = s.packetsOf(
      [
        { payload: Uint8Array.from([1]), marker: false },
        { payload: Uint8Array.from([2]), marker: false },
        { payload: Uint8Array.from([3]), marker: true },
      ],
      0xdeadbeef,
    );
    expect(ps.map((p) => p.readUInt16BE(2))).toEqual([0xfffe, 0xffff, 0]);
    expect(ps.map((p) => p.readUInt32BE(4))).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef]);
    expect(ps.map((p) => p[1])).toEqual([97, 97, 0x80 | 97]);
    expect(ps.map((p) => p[0])).toEqual([0x80, 0x80, 0x80]);
    expect(ps[2].readUInt32BE(8)).toBe(s.ssrc);
    expect(ps[2][12]).toBe(3);
  });
});
