// A BlockDevice on a preallocated raw file: positional reads and writes, fdatasync for durability.
import { open, type FileHandle } from 'node:fs/promises';
import type { BlockDevice } from '../../shared/ring/types.ts';

export class FileDevice implements BlockDevice {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** Opens `path`, creating it with `size` bytes (sparse) if it does not exist or is empty. Any other file keeps its size. */
  static async open(path: string, size: number, readOnly = false): Promise<FileDevice> {
    let fh: FileHandle;
    try {
      fh = await open(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || readOnly) throw e;
      fh = await open(path, 'wx+');
    }
    let { size: actual } = await fh.stat();
    if (actual === 0 && !readOnly) {
      // New, or created by an open that was killed before it could size the file: an empty file holds no
      // ring (the ring reads it as too small, BAD_DEVICE, for ever after), so size it now.
      await fh.truncate(size);
      await fh.sync();
      actual = size;
    }
    return new FileDevice(fh, actual, path);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    // Not zero-filled (a boot scan reads gigabytes); only the bytes read are ever exposed. A plain
    // Uint8Array, not a Buffer: Buffer#slice does not copy.
    const raw = Buffer.allocUnsafeSlow(len);
    const buf = new Uint8Array(raw.buffer, raw.byteOffset, len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(buf, got, len - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === len ? buf : buf.subarray(0, got);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError(`write of ${data.length} at ${offset} is outside ${this.path}`);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async writev(offset: number, parts: readonly Uint8Array[]): Promise<void> {
    let total = 0;
    for (const p of parts) total += p.length;
    if (offset < 0 || offset + total > this.size) throw new RangeError(`write of ${total} at ${offset} is outside ${this.path}`);
    let list = parts;
    let at = offset;
    while (list.length) {
      const { bytesWritten } = await this.fh.writev(list as Uint8Array[], at);
      at += bytesWritten;
      list = rest(list, bytesWritten);
    }
  }

  async sync(): Promise<void> {
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** What is left of `parts` after the first `n` bytes (a short writev). */
function rest(parts: readonly Uint8Array[], n: number): readonly Uint8Array[] {
  let i = 0;
  while (i < parts.length && n >= parts[i].length) n -= parts[i++].length;
  if (i === parts.length) return [];
  return n ? [parts[i].subarray(n), ...parts.slice(i + 1)] : parts.slice(i);
}
