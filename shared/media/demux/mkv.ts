// Matroska and WebM demuxer: EBML header, Segment, Info, Tracks, then Clusters read forward one element
// at a time (SimpleBlock, BlockGroup; Xiph, EBML and fixed lacing; header stripping). Timestamps stay
// integers in the segment's own timescale (1e9 / TimestampScale), CodecPrivate is kept as it is.
// Why our own reader and not mediabunny: see docs/MEDIA.md ("Demuxer choice").
import type { ChunkReader } from '../byte-source.ts';
import {
  aacCodecString,
  av1CodecString,
  avcCodecString,
  hevcCodecString,
  vp9CodecString,
  vp9FromCodecPrivate,
  vp9FromKeyFrame,
} from '../codec-string.ts';
import { corrupt, notMedia, tooLarge, truncated, unsupported, unsupportedCodec } from '../errors.ts';
import { children, readElementHeader, readFloat, readSize, readString, readUint, UNKNOWN_SIZE, type ElementHeader } from './ebml.ts';
import type { CodecConfig, ContainerName, Demuxer, DemuxTrack, RawFrame, TrackKind } from './types.ts';

export const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  DefaultDuration: 0x23e383,
  CodecDelay: 0x56aa,
  Language: 0x22b59c,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  ContentEncodings: 0x6d80,
  ContentEncoding: 0x6240,
  ContentCompression: 0x5034,
  ContentCompAlgo: 0x4254,
  ContentCompSettings: 0x4255,
  ContentEncryption: 0x5035,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  BlockDuration: 0x9b,
  ReferenceBlock: 0xfb,
  Cues: 0x1c53bb6b,
  Chapters: 0x1043a770,
  Tags: 0x1254c367,
  Attachments: 0x1941a469,
} as const;

/** Level-1 ids: inside a Cluster of unknown size, one of these ends it. */
const LEVEL1 = new Set<number>([ID.Cluster, ID.Cues, ID.Chapters, ID.Tags, ID.Attachments, ID.SeekHead, ID.Info, ID.Tracks]);
const MAX_HEADER_ELEMENT = 16 * 1024 * 1024;

export interface MkvLimits {
  maxFrame: number;
}

/** A track and what the block reader needs to know about it. */
interface MkvTrack {
  /** The public description handed to ingest (its codec may be completed while reading). */
  track: DemuxTrack;
  number: number;
  /** Codec delay in ticks, subtracted from presentation times (Opus pre-skip). */
  delay: number;
  /** DefaultDuration in ticks, 0 if unknown. */
  defaultDuration: number;
  /** Header-stripping prefix, prepended to every frame. */
  prefix?: Uint8Array;
  /** VP9 without CodecPrivate: codec string completed from the first key frame. */
  needsVp9Header: boolean;
}

export async function openMatroska(reader: ChunkReader, limits: MkvLimits): Promise<Demuxer> {
  const size = reader.size;
  const headerAt = async (pos: number, end: number): Promise<ElementHeader> => {
    const n = Math.min(12, end - pos);
    const b = await reader.bytes(pos, n, 'EBML element header');
    const h = readElementHeader(b, 0);
    if (!h) throw truncated(`EBML element header at ${pos} is cut`);
    return h;
  };

  const ebml = await headerAt(0, size);
  if (ebml.id !== ID.EBML) throw notMedia('no EBML header');
  if (ebml.size === UNKNOWN_SIZE || ebml.size > 4096) throw corrupt('EBML header of odd size');
  const eb = await reader.bytes(ebml.hdr, ebml.size, 'EBML header');
  let docType = 'matroska';
  for (const c of children(eb, 0, eb.length)) if (c.id === ID.DocType) docType = readString(eb, c.start, c.end - c.start);
  if (docType !== 'webm' && docType !== 'matroska') throw unsupported(`EBML document type '${docType}'`);
  const container: ContainerName = docType === 'webm' ? 'webm' : 'matroska';

  let pos = ebml.hdr + ebml.size;
  let seg = await headerAt(pos, size);
  while (seg.id !== ID.Segment) {
    // Void or other stray top-level elements before the Segment.
    if (seg.size === UNKNOWN_SIZE) throw corrupt('no Segment element');
    pos += seg.hdr + seg.size;
    if (pos >= size) throw corrupt('no Segment element');
    seg = await headerAt(pos, size);
  }
  const segStart = pos + seg.hdr;
  const segEnd = seg.size === UNKNOWN_SIZE ? size : segStart + seg.size;
  if (segEnd > size) throw truncated(`the Segment claims ${seg.size} bytes, the file has ${size - segStart}`);

  let timestampScale = 1_000_000;
  let tracksPayload: Uint8Array | undefined;
  pos = segStart;
  let firstCluster = -1;
  while (pos < segEnd) {
    const h = await headerAt(pos, segEnd);
    if (h.id === ID.Cluster) {
      firstCluster = pos;
      break;
    }
    if (h.size === UNKNOWN_SIZE) throw corrupt(`element 0x${h.id.toString(16)} of unknown size at ${pos}`);
    const end = pos + h.hdr + h.size;
    if (end > segEnd) {
      const msg = `element 0x${h.id.toString(16)} at ${pos} claims ${h.size} bytes`;
      throw segEnd >= size ? truncated(msg) : corrupt(`${msg}, past the end of the Segment`);
    }
    if (h.id === ID.Info || h.id === ID.Tracks) {
      if (h.size > MAX_HEADER_ELEMENT) throw tooLarge(`element 0x${h.id.toString(16)} of ${h.size} bytes`);
      const b = (await reader.bytes(pos + h.hdr, h.size, 'segment header')).slice();
      if (h.id === ID.Info) {
        for (const c of children(b, 0, b.length)) if (c.id === ID.TimestampScale) timestampScale = readUint(b, c.start, c.end - c.start);
      } else tracksPayload = b;
    }
    pos = end;
  }
  if (!tracksPayload) throw corrupt('no Tracks element before the first Cluster');
  if (!Number.isSafeInteger(timestampScale) || timestampScale < 1) throw corrupt(`TimestampScale ${timestampScale}`);
  // Ticks: one TimestampScale unit when it divides a second evenly (1 ms by default), else nanoseconds.
  const exact = 1_000_000_000 % timestampScale === 0;
  const timescale = exact ? 1_000_000_000 / timestampScale : 1_000_000_000;
  const mult = exact ? 1 : timestampScale;
  const nsToTicks = (ns: number) => Math.round((ns * timescale) / 1_000_000_000);

  const tracks = parseTracks(tracksPayload, timescale, nsToTicks);
  if (tracks.length === 0) throw unsupported('no audio or video track');
  const byNumber = new Map(tracks.map((t) => [t.number, t]));

  async function* frames(): AsyncGenerator<RawFrame, void, void> {
    if (firstCluster < 0) return;
    let p = firstCluster;
    while (p < segEnd) {
      if (segEnd - p < 2) throw truncated(`element header at ${p} is cut`);
      const h = await headerAt(p, segEnd);
      const dataStart = p + h.hdr;
      if (h.id !== ID.Cluster) {
        if (h.size === UNKNOWN_SIZE) throw corrupt(`element 0x${h.id.toString(16)} of unknown size at ${p}`);
        if (dataStart + h.size > segEnd) {
          const msg = `element 0x${h.id.toString(16)} at ${p} claims ${h.size} bytes`;
          throw segEnd >= size ? truncated(msg) : corrupt(`${msg}, past the end of the Segment`);
        }
        p = dataStart + h.size;
        continue;
      }
      const end = h.size === UNKNOWN_SIZE ? undefined : dataStart + h.size;
      if (end !== undefined && end > segEnd) {
        const msg = `Cluster at ${p} claims ${h.size} bytes, ${segEnd - dataStart} are there`;
        throw segEnd >= size ? truncated(msg) : corrupt(`${msg} in the Segment`);
      }
      const limit = end ?? segEnd;
      let clusterTs: number | undefined;
      let q = dataStart;
      while (q < limit) {
        const c = await headerAt(q, limit);
        if (end === undefined && LEVEL1.has(c.id)) break;
        if (c.size === UNKNOWN_SIZE) throw corrupt(`element 0x${c.id.toString(16)} of unknown size in the Cluster at ${p}`);
        const cStart = q + c.hdr;
        const cEnd = cStart + c.size;
        if (cEnd > limit) {
          const msg = `element 0x${c.id.toString(16)} at ${q} claims ${c.size} bytes`;
          throw limit >= size ? truncated(msg) : corrupt(`${msg}, past the end of its Cluster`);
        }
        if (c.id === ID.Timestamp) {
          clusterTs = readUint(await reader.bytes(cStart, c.size, 'Cluster Timestamp'), 0, c.size);
        } else if (c.id === ID.SimpleBlock || c.id === ID.BlockGroup) {
          if (c.size > limits.maxFrame + 1024) throw tooLarge(`block of ${c.size} bytes at ${q}`);
          if (clusterTs === undefined) throw corrupt(`block before the Cluster Timestamp at ${q}`);
          const b = await reader.bytes(cStart, c.size, 'block');
          let block = b;
          let key: boolean | undefined;
          let duration: number | undefined;
          if (c.id === ID.BlockGroup) {
            let found: Uint8Array | undefined;
            key = true;
            for (const g of children(b, 0, b.length)) {
              if (g.id === ID.Block) found = b.subarray(g.start, g.end);
              else if (g.id === ID.BlockDuration) duration = readUint(b, g.start, g.end - g.start) * mult;
              else if (g.id === ID.ReferenceBlock) key = false;
            }
            if (!found) throw corrupt(`BlockGroup without a Block at ${q}`);
            block = found;
          }
          yield* blockFrames(block, clusterTs, key, duration, q);
        }
        q = cEnd;
      }
      p = end ?? q;
    }
  }

  function* blockFrames(b: Uint8Array, clusterTs: number, groupKey: boolean | undefined, duration: number | undefined, at: number): Generator<RawFrame> {
    const tn = readSize(b, 0);
    if (!tn || tn.value === UNKNOWN_SIZE || b.length < tn.len + 3) throw corrupt(`block header cut at ${at}`);
    const st = byNumber.get(tn.value);
    if (!st) return;
    const t = st.track;
    const rel = (b[tn.len] << 24) >> 16 | b[tn.len + 1];
    const flags = b[tn.len + 2];
    const key = groupKey ?? (flags & 0x80) !== 0;
    const ts = (clusterTs + rel) * mult - st.delay;
    const laces = unlace(b, tn.len + 3, (flags >> 1) & 3, at);
    const each = laces.length > 1 ? (st.defaultDuration || (duration !== undefined ? Math.floor(duration / laces.length) : 0)) : 0;
    for (let i = 0; i < laces.length; i++) {
      let data = laces[i];
      if (data.length > limits.maxFrame) throw tooLarge(`frame of ${data.length} bytes at ${at}`);
      if (st.prefix) {
        const full = new Uint8Array(st.prefix.length + data.length);
        full.set(st.prefix);
        full.set(data, st.prefix.length);
        data = full;
      }
      if (st.needsVp9Header && key) {
        const info = vp9FromKeyFrame(data);
        if (info) t.codec = vp9CodecString(info, t.width, t.height);
        st.needsVp9Header = false;
      }
      const frameDuration = laces.length > 1 ? each || undefined : (duration ?? (st.defaultDuration || undefined));
      yield { track: t.index, pts: ts + i * each, duration: frameDuration, key: t.kind === 'audio' || key, data };
    }
  }

  return { container, tracks: tracks.map((t) => t.track), frames };
}

/** Splits a block's frames (RFC 9559 §10.3 lacing). */
function unlace(b: Uint8Array, p: number, lacing: number, at: number): Uint8Array[] {
  if (lacing === 0) return [b.subarray(p)];
  if (p >= b.length) throw corrupt(`laced block cut at ${at}`);
  const count = b[p++] + 1;
  const sizes: number[] = [];
  if (lacing === 1) {
    for (let i = 0; i < count - 1; i++) {
      let s = 0;
      for (;;) {
        if (p >= b.length) throw corrupt(`Xiph lacing cut at ${at}`);
        const x = b[p++];
        s += x;
        if (x !== 255) break;
      }
      sizes.push(s);
    }
  } else if (lacing === 3) {
    const first = readSize(b, p);
    if (!first || first.value === UNKNOWN_SIZE) throw corrupt(`EBML lacing cut at ${at}`);
    p += first.len;
    sizes.push(first.value);
    for (let i = 1; i < count - 1; i++) {
      const d = readSize(b, p);
      if (!d || d.value === UNKNOWN_SIZE) throw corrupt(`EBML lacing cut at ${at}`);
      p += d.len;
      const bias = 2 ** (7 * d.len - 1) - 1;
      sizes.push(sizes[i - 1] + d.value - bias);
    }
  } else {
    const rest = b.length - p;
    if (rest % count !== 0) throw corrupt(`fixed lacing of ${count} frames over ${rest} bytes at ${at}`);
    for (let i = 0; i < count - 1; i++) sizes.push(rest / count);
  }
  const used = sizes.reduce((a, s) => a + s, 0);
  if (sizes.some((s) => s < 0) || p + used > b.length) throw corrupt(`lace sizes overrun the block at ${at}`);
  sizes.push(b.length - p - used);
  const out: Uint8Array[] = [];
  for (const s of sizes) {
    out.push(b.subarray(p, p + s));
    p += s;
  }
  return out;
}

function parseTracks(b: Uint8Array, timescale: number, nsToTicks: (ns: number) => number): MkvTrack[] {
  const out: MkvTrack[] = [];
  for (const e of children(b, 0, b.length)) {
    if (e.id !== ID.TrackEntry) continue;
    const f: {
      number?: number;
      type?: number;
      codecId?: string;
      priv?: Uint8Array;
      defaultDuration?: number;
      delay?: number;
      language?: string;
      width?: number;
      height?: number;
      rate?: number;
      channels?: number;
      prefix?: Uint8Array;
      badEncoding?: string;
    } = {};
    for (const c of children(b, e.start, e.end)) {
      const len = c.end - c.start;
      switch (c.id) {
        case ID.TrackNumber: f.number = readUint(b, c.start, len); break;
        case ID.TrackType: f.type = readUint(b, c.start, len); break;
        case ID.CodecID: f.codecId = readString(b, c.start, len); break;
        case ID.CodecPrivate: f.priv = b.slice(c.start, c.end); break;
        case ID.DefaultDuration: f.defaultDuration = readUint(b, c.start, len); break;
        case ID.CodecDelay: f.delay = readUint(b, c.start, len); break;
        case ID.Language: f.language = readString(b, c.start, len); break;
        case ID.Video:
          for (const v of children(b, c.start, c.end)) {
            if (v.id === ID.PixelWidth) f.width = readUint(b, v.start, v.end - v.start);
            else if (v.id === ID.PixelHeight) f.height = readUint(b, v.start, v.end - v.start);
          }
          break;
        case ID.Audio:
          for (const a of children(b, c.start, c.end)) {
            if (a.id === ID.SamplingFrequency) f.rate = readFloat(b, a.start, a.end - a.start);
            else if (a.id === ID.Channels) f.channels = readUint(b, a.start, a.end - a.start);
          }
          break;
        case ID.ContentEncodings:
          for (const enc of children(b, c.start, c.end)) {
            if (enc.id !== ID.ContentEncoding) continue;
            for (const x of children(b, enc.start, enc.end)) {
              if (x.id === ID.ContentEncryption) f.badEncoding = 'encrypted';
              if (x.id !== ID.ContentCompression) continue;
              let algo = 0;
              let settings: Uint8Array | undefined;
              for (const y of children(b, x.start, x.end)) {
                if (y.id === ID.ContentCompAlgo) algo = readUint(b, y.start, y.end - y.start);
                else if (y.id === ID.ContentCompSettings) settings = b.slice(y.start, y.end);
              }
              if (algo === 3 && settings) f.prefix = settings;
              else f.badEncoding = `compressed (algorithm ${algo})`;
            }
          }
          break;
        default:
          break;
      }
    }
    if (f.type !== 1 && f.type !== 2) continue; // subtitles, buttons, metadata
    if (f.number === undefined || !f.codecId) throw corrupt('TrackEntry without TrackNumber or CodecID');
    if (f.badEncoding) throw unsupported(`track ${f.number} is ${f.badEncoding}`);
    const kind: TrackKind = f.type === 1 ? 'video' : 'audio';
    const { codec, config, needsVp9Header } = describeCodec(f.codecId, f.priv, f.number, kind, f.width ?? 0, f.height ?? 0);
    out.push({
      track: {
        index: out.length,
        sourceId: f.number,
        kind,
        codec,
        config,
        timescale,
        width: kind === 'video' ? f.width : undefined,
        height: kind === 'video' ? f.height : undefined,
        sampleRate: kind === 'audio' ? (f.codecId === 'A_OPUS' ? 48000 : f.rate ? Math.round(f.rate) : 8000) : undefined,
        channels: kind === 'audio' ? (f.channels ?? 1) : undefined,
        language: f.language && f.language !== 'und' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(f.language) ? f.language : undefined,
        hasDts: false,
      },
      number: f.number,
      delay: f.delay ? nsToTicks(f.delay) : 0,
      defaultDuration: f.defaultDuration ? nsToTicks(f.defaultDuration) : 0,
      prefix: f.prefix,
      needsVp9Header,
    });
  }
  return out;
}

function describeCodec(
  id: string,
  priv: Uint8Array | undefined,
  n: number,
  kind: TrackKind,
  width: number,
  height: number,
): { codec: string; config?: CodecConfig; needsVp9Header: boolean } {
  const cfg = (format: CodecConfig['format']): CodecConfig | undefined => (priv && priv.length ? { format, data: priv } : undefined);
  const need = (s: string | undefined): string => {
    if (!s) throw unsupported(`track ${n} (${id}) has no valid CodecPrivate`);
    return s;
  };
  const base = id.split('/')[0];
  if (kind === 'video') {
    if (id === 'V_MPEG4/ISO/AVC') return { codec: need(priv && avcCodecString(priv)), config: cfg('avcC'), needsVp9Header: false };
    if (id === 'V_MPEGH/ISO/HEVC') return { codec: need(priv && hevcCodecString(priv)), config: cfg('hvcC'), needsVp9Header: false };
    if (base === 'V_VP8') return { codec: 'vp8', config: cfg('CodecPrivate'), needsVp9Header: false };
    if (base === 'V_VP9') {
      const p = priv ? vp9FromCodecPrivate(priv) : {};
      const complete = p.profile !== undefined && p.bitDepth !== undefined;
      const codec = vp9CodecString({ profile: p.profile ?? 0, bitDepth: p.bitDepth ?? 8, level: p.level }, width, height);
      return { codec, config: cfg('CodecPrivate'), needsVp9Header: !complete };
    }
    if (base === 'V_AV1') return { codec: need(priv && av1CodecString(priv)), config: cfg('av1C'), needsVp9Header: false };
  } else {
    if (base === 'A_OPUS') return { codec: 'opus', config: cfg('OpusHead'), needsVp9Header: false };
    if (base === 'A_VORBIS') {
      if (!priv) throw unsupported(`track ${n} (A_VORBIS) has no CodecPrivate`);
      return { codec: 'vorbis', config: cfg('xiph'), needsVp9Header: false };
    }
    if (base === 'A_AAC') {
      const profile = id.includes('/MAIN') ? 1 : id.includes('/SBR') ? 5 : id.includes('/LTP') ? 4 : 2;
      return { codec: aacCodecString(priv, profile), config: cfg('AudioSpecificConfig'), needsVp9Header: false };
    }
    if (id === 'A_MPEG/L3') return { codec: 'mp3', needsVp9Header: false };
    if (base === 'A_FLAC') return { codec: 'flac', config: cfg('flac'), needsVp9Header: false };
  }
  throw unsupportedCodec(id, n);
}
