// The raw-file ring of a Node state server: DIR/meta.ring and DIR/data.ring, one FileDevice each.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openRing, type OpenRingOptions } from '../../shared/ring/ring.ts';
import type { Ring } from '../../shared/ring/types.ts';
import { FileDevice } from './file-device.ts';

export const DEFAULT_META_BYTES = 256 * 1024 * 1024;
export const DEFAULT_DATA_BYTES = 4 * 1024 * 1024 * 1024;

export interface FileRingOptions extends OpenRingOptions {
  metaBytes?: number;
  dataBytes?: number;
}

export const ringPaths = (dir: string) => ({ meta: join(dir, 'meta.ring'), data: join(dir, 'data.ring') });

export async function openFileRing(dir: string, opts: FileRingOptions = {}): Promise<Ring> {
  if (!opts.readOnly) await mkdir(dir, { recursive: true });
  const paths = ringPaths(dir);
  const ro = opts.readOnly === true;
  const meta = await FileDevice.open(paths.meta, opts.metaBytes ?? DEFAULT_META_BYTES, ro);
  const data = await FileDevice.open(paths.data, opts.dataBytes ?? DEFAULT_DATA_BYTES, ro).catch(async (e) => {
    await meta.close();
    throw e;
  });
  try {
    return await openRing({ meta, data }, opts);
  } catch (e) {
    await Promise.all([meta.close(), data.close()]);
    throw e;
  }
}
