// Where ingest reads a media file from. One interface for Node (a FileHandle, node-peer/media/file-source.ts)
// and browsers (a Blob or File); the demuxers read through a ChunkReader so memory stays bounded whatever
// the file size.
import { MediaError, asMediaError, truncated } from './errors.ts';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length), fewer only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A source over bytes already in memory (tests, small uploads). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/** A source over a Blob or File (browsers; Node 20 has Blob too). */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer()),
  };
}

export const DEFAULT_CHUNK = 2 * 1024 * 1024;

/**
 * Reads a ByteSource forward in chunks and hands out views into the current chunk. A view stays valid
 * (its chunk is never reused), but holding many views pins many chunks: copy what you keep.
 */
export class ChunkReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  /** Bytes fetched from the source so far (re-reads counted again). */
  bytesRead = 0;
  /** Furthest position read so far; progress is reported from this. */
  highWater = 0;

  constructor(
    readonly source: ByteSource,
    private readonly chunk = DEFAULT_CHUNK,
    private readonly onRead?: (reader: ChunkReader) => void,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** Exactly `length` bytes at `offset`; TRUNCATED if the source ends first. */
  async bytes(offset: number, length: number, what = 'data'): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new MediaError('CORRUPT', `bad range ${offset}+${length} for ${what}`);
    }
    if (offset + length > this.source.size) {
      throw truncated(`${what} at ${offset} needs ${length} bytes, the file has ${Math.max(0, this.source.size - offset)} left`);
    }
    const end = offset + length;
    if (offset >= this.bufStart && end <= this.bufStart + this.buf.length) {
      return this.buf.subarray(offset - this.bufStart, end - this.bufStart);
    }
    const want = Math.min(this.source.size - offset, Math.max(length, this.chunk));
    let got: Uint8Array;
    try {
      got = await this.source.read(offset, want);
    } catch (e) {
      throw asMediaError(e, 'IO', `reading ${want} bytes at ${offset}`);
    }
    if (!(got instanceof Uint8Array) || got.length < length) {
      throw truncated(`read of ${length} bytes at ${offset} returned ${got?.length ?? 0} (did the file change?)`);
    }
    this.buf = got;
    this.bufStart = offset;
    this.bytesRead += got.length;
    if (offset + got.length > this.highWater) this.highWater = offset + got.length;
    this.onRead?.(this);
    return got.subarray(0, length);
  }

  /** Drops the current chunk (before a long pause, so it is not pinned). */
  release(): void {
    this.buf = new Uint8Array(0);
    this.bufStart = 0;
  }
}
