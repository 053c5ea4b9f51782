// MP4 and QuickTime (MOV) demuxer. We walk the top-level boxes ourselves, hand only ftyp+moov to mp4box
// (sample entries, codec strings, avcC/hvcC/esds/dOps/vpcC/av1C, the sample tables), then read sample
// bytes straight from the source in file order. Fragmented files (moof/mdat) are walked lazily.
// Why not mp4box's appendBuffer/onSamples: see docs/MEDIA.md ("Demuxer choice").
import { createFile, DataStream, Log, MP4BoxBuffer } from 'mp4box';
import type { ChunkReader } from '../byte-source.ts';
import { asMediaError, corrupt, tooLarge, truncated, unsupported } from '../errors.ts';
import { type BoxHeader, childBoxes, readTopBox } from './boxes.ts';
import { describeEntry } from './mp4-config.ts';
import { fragmentSamples, type TrackDefaults } from './mp4-fragments.ts';
import { SampleCursor, type StblTables } from './mp4-tables.ts';
import type { ContainerName, Demuxer, DemuxTrack, RawFrame } from './types.ts';

export interface Mp4Limits {
  /** Largest moov we read (its sample tables are held in memory). */
  maxMoov: number;
  maxFrame: number;
}

const MAX_TOP_BOXES = 10_000_000;
/** Children of moov that mp4box needs; udta, meta and the like are dropped before parsing. */
const MOOV_KEEP = new Set(['mvhd', 'trak', 'mvex']);

interface Mp4Track extends DemuxTrack {
  /** Subtracted from every decode and presentation time: the edit list's media time (minus leading empty edits). */
  shift: number;
  cursor: SampleCursor;
}

export async function openMp4(reader: ChunkReader, limits: Mp4Limits): Promise<Demuxer> {
  const tops: BoxHeader[] = [];
  let pos = 0;
  let moovBox: BoxHeader | undefined;
  let ftypBox: BoxHeader | undefined;
  for (;;) {
    const h = await readTopBox(reader, pos);
    if (!h) break;
    if (tops.length >= MAX_TOP_BOXES) throw corrupt('too many top-level boxes');
    tops.push(h);
    if (h.type === 'ftyp' && !ftypBox) ftypBox = h;
    pos = h.start + h.size;
    if (h.type === 'moov') {
      moovBox = h;
      break;
    }
  }
  if (!moovBox) {
    if (tops.some((b) => b.type === 'mdat')) throw truncated('no moov box after the media data: the index of the file is missing (an unfinished recording?)');
    throw corrupt('no moov box');
  }
  if (moovBox.size > limits.maxMoov) throw tooLarge(`moov box of ${moovBox.size} bytes (limit ${limits.maxMoov})`);

  const ftyp = ftypBox && ftypBox.size <= 4096 ? (await reader.bytes(ftypBox.start, ftypBox.size, 'ftyp')).slice() : undefined;
  const moovBytes = (await reader.bytes(moovBox.start, moovBox.size, 'moov')).slice();
  const virt = buildVirtualFile(ftyp, moovBytes, reader.size);
  const iso = parseWithMp4box(virt);
  const moov = iso.moov;
  const container: ContainerName = ftyp && String.fromCharCode(...ftyp.subarray(8, 12)) === 'qt  ' ? 'mov' : 'mp4';

  const movieTimescale: number = moov.mvhd?.timescale || 1;
  const tracks: Mp4Track[] = [];
  const defaults = new Map<number, TrackDefaults>();
  const trex = new Map<number, any>();
  for (const t of moov.mvex?.trexs ?? (moov.mvex?.trex ? [moov.mvex.trex] : [])) trex.set(t.track_id, t);
  for (const trak of moov.traks ?? []) {
    const handler: string = trak.mdia?.hdlr?.handler;
    if (handler !== 'vide' && handler !== 'soun') continue;
    const trackId: number = trak.tkhd?.track_id;
    const stbl = trak.mdia?.minf?.stbl;
    const entry = stbl?.stsd?.entries?.[0];
    if (!entry) throw corrupt(`track ${trackId} has no sample description`);
    const info = describeEntry(entry, virt, trackId);
    const timescale: number = trak.mdia.mdhd?.timescale;
    if (!Number.isInteger(timescale) || timescale <= 0) throw corrupt(`track ${trackId} has timescale ${timescale}`);
    const label = `track ${trackId}`;
    const cursor = new SampleCursor(tables(stbl, label), label, info.kind === 'audio');
    const lang: unknown = trak.mdia.mdhd?.languageString;
    const language = typeof lang === 'string' && /^[a-z]{3}$/.test(lang) && lang !== 'und' ? lang : undefined;
    tracks.push({
      index: tracks.length,
      sourceId: trackId,
      ...info,
      timescale,
      language,
      hasDts: true,
      shift: editShift(trak.edts?.elst?.entries, timescale, movieTimescale),
      cursor,
    });
    const x = trex.get(trackId);
    defaults.set(trackId, { duration: x?.default_sample_duration ?? 0, size: x?.default_sample_size ?? 0, flags: x?.default_sample_flags ?? 0 });
  }
  if (tracks.length === 0) throw unsupported('no audio or video track');
  const fragmented = moov.mvex !== undefined;

  if (!fragmented) {
    // Walk the rest of the file too: a truncated mdat after the moov is found before anything is written.
    for (;;) {
      const h = await readTopBox(reader, pos);
      if (!h) break;
      pos = h.start + h.size;
    }
  }

  const startPts = new Map<number, number>();
  for (const t of tracks) {
    if (t.cursor.count === 0) continue;
    const cts = SampleCursor.firstCts(tables(trakOf(moov, t.sourceId).mdia.minf.stbl, ''), 64);
    startPts.set(t.index, Math.min(...cts) - t.shift);
  }

  const byId = new Map(tracks.map((t) => [t.sourceId, t]));
  const fileSize = reader.size;
  const checkSample = (t: Mp4Track, offset: number, size: number, n: number) => {
    if (size > limits.maxFrame) throw tooLarge(`sample ${n} of track ${t.sourceId} is ${size} bytes (limit ${limits.maxFrame})`);
    if (offset + size > fileSize) throw truncated(`sample ${n} of track ${t.sourceId} lies past the end (offset ${offset}, ${size} bytes)`);
  };

  async function* frames(): AsyncGenerator<RawFrame, void, void> {
    // 1. Samples described by the moov, in file order across tracks.
    for (;;) {
      let best: Mp4Track | undefined;
      for (const t of tracks) if (t.cursor.peekOffset() < (best?.cursor.peekOffset() ?? Infinity)) best = t;
      if (!best) break;
      const n = best.cursor.index;
      const s = best.cursor.next()!;
      checkSample(best, s.offset, s.size, n);
      const data = await reader.bytes(s.offset, s.size, `sample ${n} of track ${best.sourceId}`);
      yield { track: best.index, dts: s.dts - best.shift, pts: s.cts - best.shift, duration: s.duration, key: s.key, data };
    }
    if (!fragmented) return;
    // 2. Movie fragments after the moov.
    const nextDts = new Map<number, number>();
    for (const t of tracks) {
      let d = 0;
      const st = trakOf(moov, t.sourceId).mdia.minf.stbl.stts;
      for (let i = 0; i < (st?.sample_counts?.length ?? 0); i++) d += st.sample_counts[i] * st.sample_deltas[i];
      nextDts.set(t.sourceId, d);
    }
    const counts = new Map<number, number>();
    for (;;) {
      const h = await readTopBox(reader, pos);
      if (!h) break;
      pos = h.start + h.size;
      if (h.type !== 'moof') continue;
      if (h.size > limits.maxMoov) throw tooLarge(`moof box of ${h.size} bytes`);
      const moof = (await reader.bytes(h.start, h.size, 'moof')).slice();
      const samples = fragmentSamples(moof, h.start, defaults, nextDts, fileSize);
      samples.sort((a, b) => a.offset - b.offset);
      for (const s of samples) {
        const t = byId.get(s.trackId)!;
        const n = counts.get(t.index) ?? t.cursor.count;
        counts.set(t.index, n + 1);
        checkSample(t, s.offset, s.size, n);
        const data = await reader.bytes(s.offset, s.size, `sample ${n} of track ${t.sourceId}`);
        yield { track: t.index, dts: s.dts - t.shift, pts: s.cts - t.shift, duration: s.duration, key: t.kind === 'audio' || s.key, data };
      }
    }
  }

  return {
    container,
    tracks: tracks.map(({ shift: _s, cursor: _c, ...t }) => t),
    startPts,
    frames,
  };
}

function trakOf(moov: any, trackId: number): any {
  return moov.traks.find((t: any) => t.tkhd?.track_id === trackId);
}

function tables(stbl: any, label: string): StblTables {
  const sizes = stbl.stsz?.sample_sizes ?? stbl.stz2?.sample_sizes;
  const stco = stbl.stco ?? stbl.co64;
  if (!sizes || !stbl.stts || !stbl.stsc || !stco) throw corrupt(`${label}: incomplete sample table`);
  return {
    sampleSizes: sizes,
    sttsCounts: stbl.stts.sample_counts,
    sttsDeltas: stbl.stts.sample_deltas,
    cttsCounts: stbl.ctts?.sample_counts,
    cttsOffsets: stbl.ctts?.sample_offsets,
    stscFirstChunk: stbl.stsc.first_chunk,
    stscSamplesPerChunk: stbl.stsc.samples_per_chunk,
    stscDescription: stbl.stsc.sample_description_index,
    chunkOffsets: stco.chunk_offsets,
    syncSamples: stbl.stss?.sample_numbers,
  };
}

/**
 * The amount subtracted from a track's times so they follow the edit list the way players (and ffprobe)
 * present them: the first media edit's media_time, less any leading empty edit (a delay). Later edits
 * (cuts inside the media) are not applied.
 */
export function editShift(entries: any[] | undefined, timescale: number, movieTimescale: number): number {
  if (!entries?.length) return 0;
  let empty = 0;
  for (const e of entries) {
    const mediaTime = Number(e.media_time);
    if (mediaTime === -1) {
      empty += Number(e.segment_duration);
      continue;
    }
    if (e.media_rate_integer === 0) continue; // a dwell
    return mediaTime - Math.round((empty * timescale) / movieTimescale);
  }
  return 0;
}

/** ftyp + a copy of moov keeping only mvhd, trak and mvex, as one small file for mp4box. */
function buildVirtualFile(ftyp: Uint8Array | undefined, moov: Uint8Array, fileSize: number): Uint8Array {
  const moovHdr = new DataView(moov.buffer, moov.byteOffset, moov.length).getUint32(0) === 1 ? 16 : 8;
  const keep: Uint8Array[] = [];
  for (const c of childBoxes(moov, moovHdr, moov.length, 0)) {
    if (!MOOV_KEEP.has(c.type)) continue;
    const bytes = moov.subarray(c.start, c.start + c.size);
    if (c.type === 'trak') {
      pruneTrak(bytes);
      checkSampleSizes(bytes, fileSize);
    }
    keep.push(bytes);
  }
  const moovSize = 8 + keep.reduce((n, b) => n + b.length, 0);
  if (moovSize > 0xffff_ffff) throw tooLarge('moov box over 4 GiB');
  const out = new Uint8Array((ftyp?.length ?? 0) + moovSize);
  let at = 0;
  if (ftyp) {
    out.set(ftyp, 0);
    at = ftyp.length;
  }
  new DataView(out.buffer).setUint32(at, moovSize);
  out.set([0x6d, 0x6f, 0x6f, 0x76], at + 4); // "moov"
  at += 8;
  for (const b of keep) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** The boxes of a trak mp4box parses for us; any other is renamed 'free' in place (same size) before it runs. */
const TRAK_KEEP: Record<string, ReadonlySet<string>> = {
  trak: new Set(['tkhd', 'edts', 'mdia']),
  mdia: new Set(['mdhd', 'hdlr', 'minf']),
  minf: new Set(['stbl']),
  stbl: new Set(['stsd', 'stts', 'ctts', 'stsc', 'stsz', 'stz2', 'stco', 'co64', 'stss']),
};

/**
 * Hides what we do not read from mp4box: its parsers trust their own length fields (an sgpd entry of
 * 2 GiB is allocated as asked, and its entry count is looped over), so sample groups, subsample
 * information, udta/meta and the like never reach it. `trak` is our own copy of the box.
 */
function pruneTrak(trak: Uint8Array): void {
  const walk = (type: string, from: number, to: number) => {
    const keep = TRAK_KEEP[type];
    for (const c of childBoxes(trak, from, to, 0)) {
      if (!keep.has(c.type)) trak.set([0x66, 0x72, 0x65, 0x65], c.start + 4); // "free"
      else if (TRAK_KEEP[c.type]) walk(c.type, c.start + c.hdr, c.start + c.size);
    }
  };
  walk('trak', new DataView(trak.buffer, trak.byteOffset, trak.length).getUint32(0) === 1 ? 16 : 8, trak.length);
}

/** A constant-size stsz claiming more samples than the file can hold would make mp4box loop for ever. */
function checkSampleSizes(trak: Uint8Array, fileSize: number): void {
  const find = (b: Uint8Array, from: number, to: number, path: string[]): { start: number; end: number } | undefined => {
    for (const c of childBoxes(b, from, to, 0)) {
      if (c.type !== path[0]) continue;
      if (path.length === 1) return { start: c.start + c.hdr, end: c.start + c.size };
      return find(b, c.start + c.hdr, c.start + c.size, path.slice(1));
    }
    return undefined;
  };
  const stsz = find(trak, 8, trak.length, ['mdia', 'minf', 'stbl', 'stsz']);
  if (!stsz || stsz.end - stsz.start < 12) return;
  const v = new DataView(trak.buffer, trak.byteOffset, trak.length);
  const size = v.getUint32(stsz.start + 4);
  const count = v.getUint32(stsz.start + 8);
  if (size === 0 ? count * 4 > stsz.end - stsz.start - 12 : count > fileSize / size) {
    throw corrupt(`stsz claims ${count} samples`);
  }
}

/**
 * Parses ftyp+moov with mp4box. Its error log (unknown boxes inside QuickTime atoms and the like) is
 * collected for the duration of this synchronous call instead of going to the console, and quoted if the
 * parse fails.
 */
function parseWithMp4box(file: Uint8Array): any {
  const messages: string[] = [];
  const saved = Log.error;
  Log.error = (module: string, msg: string) => {
    if (messages.length < 5) messages.push(`${module}: ${msg}`);
  };
  const unguard = guardReads();
  try {
    const buf = new MP4BoxBuffer(file.length);
    new Uint8Array(buf).set(file);
    buf.fileStart = 0;
    const iso: any = createFile();
    iso.checkBuffer(buf);
    iso.parse();
    if (!iso.moov?.traks) throw corrupt(`moov box could not be parsed${messages.length ? ` (${messages.join('; ')})` : ''}`);
    return iso;
  } catch (e) {
    throw asMediaError(e, 'CORRUPT', 'moov box could not be parsed');
  } finally {
    Log.error = saved;
    unguard();
  }
}

type ArrayRead = (this: { byteLength: number; position: number }, length?: number, endianness?: unknown) => unknown;
const ARRAY_READS = [
  ['readUint8Array', 1],
  ['readInt8Array', 1],
  ['readUint16Array', 2],
  ['readInt16Array', 2],
  ['readUint32Array', 4],
  ['readInt32Array', 4],
  ['readFloat32Array', 4],
  ['readFloat64Array', 8],
] as const;

/**
 * mp4box's DataStream allocates an array of the length a box asks for before it copies the bytes, and only
 * the copy fails when they are not there (an esds descriptor may ask 256 MiB of a 4 KiB file). For the
 * duration of one synchronous parse, a read past the end throws before the allocation instead. Returns
 * the function that restores the originals.
 */
function guardReads(): () => void {
  const proto = DataStream.prototype as unknown as Record<string, ArrayRead>;
  const saved = ARRAY_READS.map(([name]) => [name, proto[name]] as const);
  for (const [name, width] of ARRAY_READS) {
    const read = proto[name];
    proto[name] = function (length, endianness) {
      const left = this.byteLength - this.position;
      if (length !== undefined && length * width > left) throw corrupt(`a box asks for ${length * width} bytes, ${left} are left`);
      return read.call(this, length, endianness);
    };
  }
  return () => {
    for (const [name, read] of saved) proto[name] = read;
  };
}
