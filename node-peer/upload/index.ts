// The upload service of `stateos serve` (docs/PROTOCOL.md, "Upload"): files from viewers land in
// DIR/uploads and are ingested into this server's ring exactly as `stateos ingest` does, so their metadata
// replicates to every server and their frames are found by data discovery like any other media.
import { join } from 'node:path';
import type { Logger } from '../../shared/log.ts';
import { serveUploads, type UploadService } from '../../shared/media/upload-service.ts';
import type { SyncHub } from '../../shared/sync/hub.ts';
import { ingestFile } from '../media/ingest-file.ts';
import type { StateNode } from '../node.ts';
import { FileUploadStore } from './file-store.ts';

export { FileUploadStore } from './file-store.ts';

export interface UploadFlags {
  /** --uploads on|off (default on). */
  enabled?: boolean;
  /** --upload-max SIZE (default 4G). */
  maxBytes?: number;
  log: Logger;
}

export const DEFAULT_UPLOAD_MAX = 4 * 1024 ** 3;

/** Registers Upload and UploadCancel on the hub; with uploads off they are answered REFUSED. */
export async function startUploads(hub: SyncHub, node: StateNode, flags: UploadFlags): Promise<UploadService & { store?: FileUploadStore }> {
  const log = flags.log.child({ service: 'upload' });
  const store =
    flags.enabled === false
      ? undefined
      : await FileUploadStore.open(
          join(node.dir, 'uploads'),
          async (path, opts) => {
            const r = await ingestFile(path, { origin: node.origin, ring: { append: (stu: Uint8Array) => node.store(stu) }, ...opts });
            await node.ring.flush();
            return r;
          },
          log,
        );
  const service = serveUploads(hub, store, { maxBytes: flags.maxBytes ?? DEFAULT_UPLOAD_MAX, ringBytes: node.ring.stats().data.capacity, log });
  return Object.assign(service, { store });
}
