// Ingest: a media file becomes one data STU per frame (type FRAME, frame fields in the type-specific area,
// body = the sample bytes) and, last, one metadata STU (type MEDIA_META, XML). A media object exists only
// once its metadata STU is written, so a file that fails half way leaves orphan frames (never listed, in
// time evicted) and no object.
import { DEFAULT_MAX_BODY, Flag } from '../stu/header.ts';
import { type Guid, newGuid } from '../stu/guid.ts';
import type { Origin } from '../stu/origin.ts';
import type { Loc } from '../ring/types.ts';
import { type ByteSource, ChunkReader, DEFAULT_CHUNK } from './byte-source.ts';
import { openDemuxer } from './demux/open.ts';
import type { ContainerName } from './demux/types.ts';
import { asMediaError, corrupt, MediaError } from './errors.ts';
import { encodeFrameExt, type FrameFields } from './frame.ts';
import { cleanTitle, encodeMetadata, type MediaMetadata, type MediaTrack } from './metadata.ts';
import { FRAME, MEDIA_META } from './stu-types.ts';
import { type TimedFrame, Timeline } from './timeline.ts';

/** Where STUs go: a Ring, or anything with its append. */
export interface StuSink {
  append(stu: Uint8Array): Promise<unknown>;
}

/** Told about every STU once stored (the TimeIndex implements it). */
export interface IngestIndex {
  addFrame(media: Guid, frame: FrameFields, loc: Loc, size: number): void;
  addMedia(meta: MediaMetadata): void;
}

export interface IngestProgress {
  /** Bytes of the file read so far (reaches `total` when done). */
  bytesRead: number;
  total: number;
  frames: number;
  phase: 'frames' | 'metadata' | 'done';
}

export interface IngestOptions {
  origin: Origin;
  ring: StuSink;
  title?: string;
  /** The media object's GUID (default: a new one). */
  id?: Guid;
  user?: Guid;
  onProgress?: (p: IngestProgress) => void;
  /** Receives the Loc of every stored frame and, at the end, the metadata (needs a sink that returns Locs). */
  index?: IngestIndex;
  signal?: AbortSignal;
  /** Largest frame accepted (default: the STU body limit, 64 MiB). */
  maxFrameBytes?: number;
  /** Largest moov (MP4 index) read into memory (default 256 MiB). */
  maxMoovBytes?: number;
  /** STU bytes handed to the sink and not yet stored, at most (default 8 MiB). */
  maxInFlightBytes?: number;
  /** Read size (default 2 MiB). */
  chunkSize?: number;
}

export interface IngestResult {
  id: Guid;
  title: string;
  /** Seconds. */
  duration: number;
  container: ContainerName;
  tracks: MediaTrack[];
  /** Frame STUs written. */
  frames: number;
  /** Bytes of frame data written (STU bodies). */
  bytes: number;
  /** Size of the source file. */
  size: number;
  metadata: MediaMetadata;
}

const isLoc = (x: unknown): x is Loc =>
  typeof x === 'object' && x !== null && typeof (x as Loc).recSeq === 'number' && typeof (x as Loc).offset === 'number';

export async function ingest(source: ByteSource, opts: IngestOptions): Promise<IngestResult> {
  const { origin, ring, index, signal, onProgress } = opts;
  const id = opts.id ?? newGuid();
  const title = cleanTitle(opts.title ?? 'Untitled');
  const maxInFlight = opts.maxInFlightBytes ?? 8 * 1024 * 1024;
  let frames = 0;
  let lastReport = -Infinity;
  // Progress counts bytes fetched (an MP4 index at the end is read first, then the samples from the start).
  const report = (reader: ChunkReader, phase: IngestProgress['phase'], force = false) => {
    if (!onProgress) return;
    if (!force && reader.bytesRead - lastReport < 4 * 1024 * 1024) return;
    lastReport = reader.bytesRead;
    const bytesRead = phase === 'done' ? source.size : Math.min(reader.bytesRead, Math.max(0, source.size - 1));
    onProgress({ bytesRead, total: source.size, frames, phase });
  };
  const reader = new ChunkReader(source, opts.chunkSize ?? DEFAULT_CHUNK, (r) => report(r, 'frames'));

  // Appends in flight: each settles to undefined (its failure is kept in `failure`), so none is left unhandled.
  const inflight: Promise<void>[] = [];
  let inflightBytes = 0;
  let failure: MediaError | undefined;
  const drain = async (limit: number) => {
    while (inflight.length && (inflightBytes > limit || limit === 0)) await inflight.shift();
    if (failure) throw failure;
  };
  let bytes = 0;

  const write = async (f: TimedFrame) => {
    if (failure) throw failure;
    if (signal?.aborted) throw new MediaError('ABORTED', 'ingest aborted');
    const fields: FrameFields = { stream: f.stream, timescale: f.timescale, dts: f.dts, pts: f.pts, duration: f.duration, key: f.key, sample: f.sample };
    const stu = origin.create({ type: FRAME, flags: Flag.DATA, object: id, user: opts.user, ext: encodeFrameExt(fields) }, f.data);
    const size = stu.length;
    const dataSize = f.data.length;
    frames++;
    bytes += dataSize;
    inflightBytes += size;
    inflight.push(
      ring.append(stu).then(
        (loc) => {
          inflightBytes -= size;
          if (!index) return;
          if (!isLoc(loc)) failure ??= new MediaError('SINK', 'the sink returned no Loc, and an index needs one');
          else index.addFrame(id, fields, loc, dataSize);
        },
        (e: unknown) => {
          inflightBytes -= size;
          failure ??= asMediaError(e, 'SINK', 'storing a frame');
        },
      ),
    );
    if (inflightBytes > maxInFlight) await drain(maxInFlight);
  };

  let metadata: MediaMetadata;
  let body: Uint8Array;
  try {
    const demuxer = await openDemuxer(reader, {
      maxFrame: opts.maxFrameBytes ?? DEFAULT_MAX_BODY,
      maxMoov: opts.maxMoovBytes ?? 256 * 1024 * 1024,
    });
    const timeline = new Timeline(demuxer.tracks, demuxer.startPts);
    for await (const raw of demuxer.frames()) {
      for (const f of timeline.push(raw)) await write(f);
    }
    for (const f of timeline.finish()) await write(f);
    reader.release();
    await drain(0);
    const stats = timeline.stats;
    if (stats.every((s) => s.frames === 0)) throw corrupt('no frames');
    const tracks: MediaTrack[] = demuxer.tracks.map((t, i) => {
      const s = stats[i];
      return {
        index: t.index,
        kind: t.kind,
        codec: t.codec,
        timescale: t.timescale,
        frames: s.frames,
        start: s.frames ? s.start : 0,
        duration: s.frames ? s.end - s.start : 0,
        width: t.width,
        height: t.height,
        sampleRate: t.sampleRate,
        channels: t.channels,
        language: t.language,
        config: t.config,
      };
    });
    const duration = Math.max(0, ...tracks.map((t) => (t.frames ? (t.start + t.duration) / t.timescale : 0)));
    metadata = { id, title, duration, container: demuxer.container, size: source.size, frames, bytes, tracks };
    body = encodeMetadata(metadata);
  } catch (e) {
    // Let the appends already handed over settle, then report the first cause.
    await Promise.all(inflight);
    throw asMediaError(e, 'CORRUPT', 'reading the media file');
  }

  // Last: the metadata STU. Only now does the object exist.
  report(reader, 'metadata', true);
  const meta = origin.create({ type: MEDIA_META, object: id, user: opts.user }, body);
  try {
    await ring.append(meta);
  } catch (e) {
    throw asMediaError(e, 'SINK', 'storing the metadata STU');
  }
  index?.addMedia(metadata);
  report(reader, 'done', true);
  const { duration, container, tracks } = metadata;
  return { id, title, duration, container: container as ContainerName, tracks, frames, bytes, size: source.size, metadata };
}
