// A ByteSource over a file on disk (positional reads through one FileHandle), for ingest in Node.
import { type FileHandle, open } from 'node:fs/promises';
import type { ByteSource } from '../../shared/media/byte-source.ts';

export class FileSource implements ByteSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      return new FileSource(fh, st.size, path);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Bytes [offset, offset + length), fewer only at the end of the file. Each call returns a new buffer. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const want = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, offset + got);
      if (bytesRead === 0) break; // the file shrank under us: the reader reports it as truncated
      got += bytesRead;
    }
    return got === want ? buf : buf.subarray(0, got);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
