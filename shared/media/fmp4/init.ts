// The init segment of a fragmented MP4: ftyp + moov (mvhd, one trak per track with an empty sample table
// and the codec's sample entry, mvex/trex). Sample entries are built from the codec configuration the
// media metadata carries (docs/MEDIA.md): avc1/avc3 + avcC, hvc1/hev1 + hvcC, vp09 + vpcC, av01 + av1C,
// mp4a + esds, Opus + dOps. Layout in docs/MEDIA.md, "Segments and HLS".
import type { CodecConfig, TrackKind } from '../demux/types.ts';
import { MediaError } from '../errors.ts';
import { BoxWriter } from './writer.ts';
import { concatBytes } from '../../util/bytes.ts';

export interface InitTrack {
  /** track_ID, 1.. (the same id the media segments' traf boxes carry). */
  id: number;
  kind: TrackKind;
  /** RFC 6381 codec string: chooses the sample entry. */
  codec: string;
  timescale: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  language?: string;
  config?: CodecConfig;
}

export type SampleEntryType = 'avc1' | 'avc3' | 'hvc1' | 'hev1' | 'vp09' | 'av01' | 'mp4a' | 'Opus';

/** The sample entry a track gets in fMP4, or undefined when we cannot carry its codec (vp8, vorbis, mp3, flac). */
export function sampleEntryType(t: Pick<InitTrack, 'codec' | 'config'>): SampleEntryType | undefined {
  const prefix = t.codec.split('.')[0];
  switch (prefix) {
    case 'avc1':
    case 'avc3':
      return t.config?.format === 'avcC' ? prefix : undefined;
    case 'hvc1':
    case 'hev1':
      return t.config?.format === 'hvcC' ? prefix : undefined;
    case 'vp09':
      return 'vp09';
    case 'av01':
      return 'av01';
    case 'mp4a':
      return /^mp4a\.40\.\d+$/.test(t.codec) ? 'mp4a' : undefined;
    case 'opus':
    case 'Opus':
      return 'Opus';
    default:
      return undefined;
  }
}

/** The codec string HLS CODECS and MSE expect for a track we carry (the metadata's, Opus as `opus`). */
export const hlsCodec = (t: Pick<InitTrack, 'codec' | 'config'>): string => (sampleEntryType(t) === 'Opus' ? 'opus' : t.codec);

const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

/** ftyp + moov for these tracks, in this order. Throws MediaError UNSUPPORTED for a codec we cannot carry. */
export function buildInit(tracks: readonly InitTrack[]): Uint8Array {
  if (tracks.length === 0) throw new MediaError('BAD_INPUT', 'an init segment needs at least one track');
  const w = new BoxWriter(2048);
  w.box('ftyp', () => {
    w.fourcc('iso6').u32(0);
    for (const b of ['iso6', 'mp41']) w.fourcc(b);
  });
  w.box('moov', () => {
    w.fullBox('mvhd', 0, 0, () => {
      w.u32(0).u32(0).u32(1000).u32(0); // creation, modification, timescale, duration (fragmented: 0)
      w.u32(0x00010000).u16(0x0100).zeros(10); // rate 1.0, volume 1.0, reserved
      for (const m of MATRIX) w.u32(m);
      w.zeros(24).u32(Math.max(...tracks.map((t) => t.id)) + 1); // pre_defined, next_track_ID
    });
    for (const t of tracks) trak(w, t);
    w.box('mvex', () => {
      for (const t of tracks) w.fullBox('trex', 0, 0, () => w.u32(t.id).u32(1).u32(0).u32(0).u32(0));
    });
  });
  return w.finish();
}

function trak(w: BoxWriter, t: InitTrack): void {
  const video = t.kind === 'video';
  w.box('trak', () => {
    w.fullBox('tkhd', 0, 3, () => {
      w.u32(0).u32(0).u32(t.id).u32(0).u32(0); // creation, modification, track_ID, reserved, duration
      w.zeros(8).u16(0).u16(0).u16(video ? 0 : 0x0100).u16(0); // reserved, layer, alternate_group, volume, reserved
      for (const m of MATRIX) w.u32(m);
      w.u32(video ? (t.width ?? 0) * 65536 : 0).u32(video ? (t.height ?? 0) * 65536 : 0);
    });
    w.box('mdia', () => {
      w.fullBox('mdhd', 0, 0, () => w.u32(0).u32(0).u32(t.timescale).u32(0).u16(packLanguage(t.language)).u16(0));
      w.fullBox('hdlr', 0, 0, () => {
        w.u32(0).fourcc(video ? 'vide' : 'soun').zeros(12);
        w.bytes(new TextEncoder().encode(video ? 'VideoHandler\0' : 'SoundHandler\0'));
      });
      w.box('minf', () => {
        if (video) w.fullBox('vmhd', 0, 1, () => w.zeros(8));
        else w.fullBox('smhd', 0, 0, () => w.zeros(4));
        w.box('dinf', () => w.fullBox('dref', 0, 0, () => w.u32(1).fullBox('url ', 0, 1)));
        w.box('stbl', () => {
          w.fullBox('stsd', 0, 0, () => {
            w.u32(1);
            sampleEntry(w, t);
          });
          w.fullBox('stts', 0, 0, () => w.u32(0));
          w.fullBox('stsc', 0, 0, () => w.u32(0));
          w.fullBox('stsz', 0, 0, () => w.u32(0).u32(0));
          w.fullBox('stco', 0, 0, () => w.u32(0));
        });
      });
    });
  });
}

function sampleEntry(w: BoxWriter, t: InitTrack): void {
  const type = sampleEntryType(t);
  if (!type) throw new MediaError('UNSUPPORTED', `codec ${t.codec} cannot be carried in fMP4 (track ${t.id})`);
  if (t.kind === 'video') {
    w.box(type, () => {
      w.zeros(6).u16(1); // reserved, data_reference_index
      w.zeros(16).u16(t.width ?? 0).u16(t.height ?? 0);
      w.u32(0x00480000).u32(0x00480000).u32(0).u16(1); // 72 dpi, reserved, frame_count
      w.zeros(32).u16(0x0018).i16(-1); // compressorname, depth, pre_defined
      const cfg = t.config?.data;
      if (type === 'avc1' || type === 'avc3') w.box('avcC', () => w.bytes(cfg!));
      else if (type === 'hvc1' || type === 'hev1') w.box('hvcC', () => w.bytes(cfg!));
      else if (type === 'vp09') w.box('vpcC', () => w.bytes(t.config?.format === 'vpcC' ? t.config.data : vpcCFromCodec(t.codec)));
      else w.box('av1C', () => w.bytes(t.config?.format === 'av1C' ? t.config.data : av1CFromCodec(t.codec)));
    });
    return;
  }
  const opus = type === 'Opus';
  const rate = opus ? 48000 : (t.sampleRate ?? t.timescale);
  const head = opus ? opusHead(t) : undefined;
  const channels = head ? head[9] : (t.channels ?? 2);
  w.box(type, () => {
    w.zeros(6).u16(1).zeros(8); // reserved, data_reference_index, reserved
    w.u16(channels).u16(16).u16(0).u16(0); // channelcount, samplesize, pre_defined, reserved
    w.u32(rate < 65536 ? rate * 65536 : 0);
    if (head) w.box('dOps', () => w.bytes(dOpsFromOpusHead(head)));
    else esds(w, t);
  });
}

/** esds with an MPEG-4 Audio DecoderConfigDescriptor around the AudioSpecificConfig. */
function esds(w: BoxWriter, t: InitTrack): void {
  const asc = t.config?.format === 'AudioSpecificConfig' ? t.config.data : synthAsc(t);
  const dsi = descriptor(0x05, asc);
  const dcd = descriptor(0x04, concatBytes([new Uint8Array([0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), dsi]));
  const sl = descriptor(0x06, new Uint8Array([0x02]));
  const es = descriptor(0x03, concatBytes([new Uint8Array([0, t.id & 0xff, 0]), dcd, sl]));
  w.fullBox('esds', 0, 0, () => w.bytes(es));
}

function descriptor(tag: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = body.length;
  do {
    len.unshift(n & 0x7f);
    n >>>= 7;
  } while (n > 0);
  for (let i = 0; i < len.length - 1; i++) len[i] |= 0x80;
  return concatBytes([new Uint8Array([tag, ...len]), body]);
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** A 2-byte AAC-LC AudioSpecificConfig from the sample rate and channel count. */
function synthAsc(t: InitTrack): Uint8Array {
  const idx = Math.max(0, AAC_RATES.indexOf(t.sampleRate ?? 48000));
  const ch = t.channels ?? 2;
  return new Uint8Array([(2 << 3) | (idx >> 1), ((idx & 1) << 7) | (ch << 3)]);
}

/** The OpusHead (RFC 7845 §5.1) of a track, or one made from its channel count. */
function opusHead(t: InitTrack): Uint8Array {
  const c = t.config;
  if (c?.format === 'OpusHead' && c.data.length >= 19 && new TextDecoder().decode(c.data.subarray(0, 8)) === 'OpusHead') return c.data;
  const h = new Uint8Array(19);
  h.set(new TextEncoder().encode('OpusHead'));
  h[8] = 1;
  h[9] = Math.min(2, t.channels ?? 2);
  new DataView(h.buffer).setUint32(12, t.sampleRate ?? 48000, true);
  return h;
}

/** dOps (the Opus sample entry's box): OpusHead's fields, big-endian, version 0, no magic. */
export function dOpsFromOpusHead(head: Uint8Array): Uint8Array {
  const v = new DataView(head.buffer, head.byteOffset, head.length);
  const channels = head[9];
  const family = head[18];
  const extra = family !== 0 ? 2 + channels : 0;
  if (head.length < 19 + extra) throw new MediaError('CORRUPT', 'OpusHead shorter than its channel mapping');
  const out = new Uint8Array(11 + extra);
  const o = new DataView(out.buffer);
  o.setUint8(0, 0);
  o.setUint8(1, channels);
  o.setUint16(2, v.getUint16(10, true));
  o.setUint32(4, v.getUint32(12, true));
  o.setInt16(8, v.getInt16(16, true));
  o.setUint8(10, family);
  if (extra) out.set(head.subarray(19, 19 + extra), 11);
  return out;
}

/** vpcC (version 1, with its version and flags) from a vp09.PP.LL.DD codec string: 4:2:0, colours unspecified. */
export function vpcCFromCodec(codec: string): Uint8Array {
  const [, p, l, d] = codec.split('.').map(Number);
  const depth = d || 8;
  return new Uint8Array([1, 0, 0, 0, p || 0, l || 10, (depth << 4) | (1 << 1), 2, 2, 2, 0, 0]);
}

/** A minimal av1C (no config OBUs: the sequence header travels in-band) from an av01.P.LLT.DD codec string. */
export function av1CFromCodec(codec: string): Uint8Array {
  const [, p, lt, d] = codec.split('.');
  const level = parseInt(lt ?? '0', 10) || 0;
  const tier = lt?.endsWith('H') ? 1 : 0;
  const depth = Number(d) || 8;
  const high = depth > 8 ? 1 : 0;
  const twelve = depth === 12 ? 1 : 0;
  return new Uint8Array([0x81, ((Number(p) & 7) << 5) | (level & 0x1f), (tier << 7) | (high << 6) | (twelve << 5) | (1 << 3) | (1 << 2), 0]);
}

/** ISO 639-2/T code packed as three 5-bit letters ('und' when absent or not three lowercase letters). */
export function packLanguage(lang: string | undefined): number {
  const l = lang && /^[a-z]{3}$/.test(lang) ? lang : 'und';
  return ((l.charCodeAt(0) - 0x60) << 10) | ((l.charCodeAt(1) - 0x60) << 5) | (l.charCodeAt(2) - 0x60);
}
