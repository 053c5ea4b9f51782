// Track description from an MP4 sample entry parsed by mp4box: kind, codec string, dimensions or rate and
// channels, and the codec configuration bytes (copied out of the moov bytes we gave mp4box).
import { unsupported, unsupportedCodec } from '../errors.ts';
import type { CodecConfig, TrackKind } from './types.ts';

/** The parts of an mp4box box we read: positions are relative to the buffer given to mp4box. */
interface RawBox {
  start?: number;
  hdr_size?: number;
  size: number;
  type: string;
}

export interface EntryInfo {
  kind: TrackKind;
  codec: string;
  config?: CodecConfig;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

const payload = (buf: Uint8Array, box: RawBox | undefined): Uint8Array | undefined => {
  if (!box || box.start === undefined || box.hdr_size === undefined) return undefined;
  const from = box.start + box.hdr_size;
  const to = box.start + box.size;
  if (from < 0 || to > buf.length || to < from) return undefined;
  return buf.slice(from, to);
};

/** dOps (big-endian, no magic) to OpusHead (RFC 7845 §5.1, little-endian), the form Matroska and WebCodecs use. */
export function opusHeadFromDops(d: Uint8Array): Uint8Array | undefined {
  if (d.length < 11) return undefined;
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  const family = d[10];
  const extra = family === 0 ? 0 : 2 + d[1];
  if (d.length < 11 + extra) return undefined;
  const out = new Uint8Array(19 + extra);
  out.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64], 0); // "OpusHead"
  const o = new DataView(out.buffer);
  o.setUint8(8, 1);
  o.setUint8(9, d[1]);
  o.setUint16(10, v.getUint16(2), true);
  o.setUint32(12, v.getUint32(4), true);
  o.setInt16(16, v.getInt16(8), true);
  o.setUint8(18, family);
  out.set(d.subarray(11, 11 + extra), 19);
  return out;
}

/** Describes the sample entry `e` (an mp4box SampleEntry) of track `track`; `buf` holds the bytes it was parsed from. */
export function describeEntry(e: any, buf: Uint8Array, track: number): EntryInfo {
  const type: string = e.type;
  if (type === 'encv' || type === 'enca') throw unsupported(`encrypted track ${track} (${type})`);
  const codecOf = (): string => {
    try {
      return String(e.getCodec());
    } catch {
      return type;
    }
  };
  switch (type) {
    case 'avc1':
    case 'avc3':
    case 'hvc1':
    case 'hev1':
    case 'vp08':
    case 'vp09':
    case 'av01': {
      const box = { avc1: e.avcC, avc3: e.avcC, hvc1: e.hvcC, hev1: e.hvcC, vp08: e.vpcC, vp09: e.vpcC, av01: e.av1C }[type];
      const format = ({ avc1: 'avcC', avc3: 'avcC', hvc1: 'hvcC', hev1: 'hvcC', vp08: 'vpcC', vp09: 'vpcC', av01: 'av1C' } as const)[type];
      const data = payload(buf, box);
      if (!data && type !== 'avc3' && type !== 'hev1') throw unsupported(`track ${track} (${type}) has no ${format} box`);
      return {
        kind: 'video',
        codec: codecOf(),
        config: data ? { format, data } : undefined,
        width: e.width || undefined,
        height: e.height || undefined,
      };
    }
    case 'mp4a': {
      const esds = e.esds ?? e.wave?.esds;
      if (!esds) throw unsupported(`track ${track} (mp4a) has no esds box`);
      const dsi: Uint8Array | undefined = esds.esd?.findDescriptor?.(4)?.findDescriptor?.(5)?.data;
      const codec = codecOf();
      const oti = esds.esd?.findDescriptor?.(4)?.oti as number | undefined;
      // 0x40: MPEG-4 audio (AAC family); 0x66-0x68: MPEG-2 AAC; 0x69/0x6B: MP3.
      if (oti !== undefined && ![0x40, 0x66, 0x67, 0x68, 0x69, 0x6b].includes(oti)) throw unsupportedCodec(codec, track);
      return {
        kind: 'audio',
        codec,
        config: dsi && dsi.length ? { format: 'AudioSpecificConfig', data: Uint8Array.from(dsi) } : undefined,
        sampleRate: e.getSampleRate?.() || undefined,
        channels: e.getChannelCount?.() || undefined,
      };
    }
    case 'Opus': {
      const dops = payload(buf, e.dOps);
      const head = dops && opusHeadFromDops(dops);
      if (!head) throw unsupported(`track ${track} (Opus) has no valid dOps box`);
      return { kind: 'audio', codec: 'opus', config: { format: 'OpusHead', data: head }, sampleRate: 48000, channels: head[9] };
    }
    case 'fLaC': {
      const dfla = payload(buf, e.dfLa ?? e.boxes?.find((b: RawBox) => b.type === 'dfLa'));
      return {
        kind: 'audio',
        codec: 'flac',
        config: dfla ? { format: 'dfLa', data: dfla } : undefined,
        sampleRate: e.getSampleRate?.() || undefined,
        channels: e.getChannelCount?.() || undefined,
      };
    }
    default:
      throw unsupportedCodec(codecOf(), track);
  }
}
