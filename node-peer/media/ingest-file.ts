// Ingest a media file from disk: `stateos ingest FILE --title T`. The title defaults to the file name.
import { basename, extname } from 'node:path';
import { ingest, type IngestOptions, type IngestResult } from '../../shared/media/ingest.ts';
import { FileSource } from './file-source.ts';

export type IngestFileOptions = Omit<IngestOptions, 'title'> & { title?: string };

export async function ingestFile(path: string, opts: IngestFileOptions): Promise<IngestResult> {
  const source = await FileSource.open(path);
  try {
    return await ingest(source, { ...opts, title: opts.title ?? basename(path, extname(path)) });
  } finally {
    await source.close();
  }
}

/** A JSON-friendly summary of an ingest (codec configurations as base64 lengths, not byte arrays). */
export function ingestSummary(r: IngestResult): Record<string, unknown> {
  return {
    id: r.id,
    title: r.title,
    container: r.container,
    duration: r.duration,
    frames: r.frames,
    bytes: r.bytes,
    size: r.size,
    tracks: r.tracks.map(({ config, ...t }) => ({ ...t, config: config ? { format: config.format, bytes: config.data.length } : undefined })),
  };
}
