// Uploads on disk: each upload's bytes go to DIR/uploads/upload-<id>.part (the id is the server's own,
// never the client's file name), are ingested from there, and the file is removed. Files left by a server
// that died mid-upload are removed when the next one starts.
import { type FileHandle, mkdir, open, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.ts';
import { silentLogger } from '../../shared/log.ts';
import type { IngestProgress, IngestResult } from '../../shared/media/ingest.ts';
import type { UploadFile, UploadStore } from '../../shared/media/upload-service.ts';

export type IngestPath = (path: string, opts: { title: string; signal: AbortSignal; onProgress(p: IngestProgress): void }) => Promise<IngestResult>;

const PART = /^upload-[0-9a-f]{16}\.part$/;

export class FileUploadStore implements UploadStore {
  private constructor(
    readonly dir: string,
    private readonly ingestPath: IngestPath,
  ) {}

  /** Makes `dir` (mode 0700) and removes what an earlier run left in it. */
  static async open(dir: string, ingest: IngestPath, log: Logger = silentLogger): Promise<FileUploadStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const left = (await readdir(dir)).filter((f) => PART.test(f));
    for (const f of left) await rm(join(dir, f), { force: true });
    if (left.length > 0) log.info('removed unfinished uploads', { dir, files: left.length });
    return new FileUploadStore(dir, ingest);
  }

  async freeBytes(): Promise<number | undefined> {
    try {
      const s = await statfs(this.dir);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }

  /** Files of unfinished uploads now in the folder (for tests and operators). */
  async pending(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => PART.test(f));
  }

  async create(id: string): Promise<UploadFile> {
    if (!/^[0-9a-f]{16}$/.test(id)) throw new TypeError(`upload id ${id}: 16 hex digits`);
    const path = join(this.dir, `upload-${id}.part`);
    const fh = await open(path, 'wx', 0o600);
    return new TempFile(path, fh, this.ingestPath);
  }
}

class TempFile implements UploadFile {
  private at = 0;
  private removed = false;

  constructor(
    readonly path: string,
    private fh: FileHandle | undefined,
    private readonly ingestPath: IngestPath,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.fh) throw new Error('the upload file is closed');
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.at);
      done += bytesWritten;
      this.at += bytesWritten;
    }
  }

  async ingest(opts: Parameters<UploadFile['ingest']>[0]): Promise<IngestResult> {
    await this.close();
    return this.ingestPath(this.path, opts);
  }

  async remove(): Promise<void> {
    await this.close();
    if (this.removed) return;
    this.removed = true;
    await rm(this.path, { force: true });
  }

  private async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
