// The browser's ring: the shared ring engine over two IndexedDB devices (see idb-device.ts and the
// "IndexedDB ring" section of docs/RING.md).
import { deleteDB } from 'idb';
import { openRing, type OpenRingOptions } from '../../shared/ring/ring.ts';
import type { FsyncPolicy, Ring } from '../../shared/ring/types.ts';
import { IdbRingStore, ringDbName } from './idb-device.ts';
import { storageError } from './idb-errors.ts';

/**
 * In a browser an append is acknowledged only once its IndexedDB transaction has committed: a tab can be
 * closed or killed at any moment, and there is no OS page cache to outlive it. Appends issued together
 * still share transactions (the engine gathers them into one batch per device write).
 */
export const BROWSER_FSYNC: FsyncPolicy = { mode: 'always' };

export interface IdbRingOptions extends OpenRingOptions {
  /** Section sizes: needed only to create a ring (defaults 16 MiB and 256 MiB); an existing ring must match. */
  metaBytes?: number;
  dataBytes?: number;
  /** Bytes per stored IndexedDB value, fixed when the ring is created (default 32 KiB). */
  pageSize?: number;
  /** Committed pages kept in memory, per section (default 4 MiB). */
  cacheBytes?: number;
  /** Ask for persistent storage with navigator.storage.persist() (default true). */
  persist?: boolean;
}

export interface Persistence {
  /** True when the browser will not evict this site's storage under pressure. */
  persisted: boolean;
  detail: string;
}

export interface IdbRing extends Ring {
  /**
   * This open created the ring: there was none, or the browser had discarded the site's IndexedDB (Chromium
   * may, after a crash). An application that expected its ring back knows that its data must come from peers.
   */
  readonly created: boolean;
  /** The answer to navigator.storage.persist(); settles in the background (Firefox may ask the user first). */
  readonly persistence: Promise<Persistence>;
  /**
   * Drops the IndexedDB connection now, flushing nothing, as a closing tab does: committed transactions
   * stay, every later call fails with CLOSED.
   */
  disconnect(): void;
}

/** Opens ring `name` in this origin's IndexedDB, creating it if there is none (unless `readOnly`). */
export async function openIdbRing(name: string, opts: IdbRingOptions = {}): Promise<IdbRing> {
  const fsync = opts.fsync ?? BROWSER_FSYNC;
  const store = await IdbRingStore.open(
    name,
    { meta: opts.metaBytes, data: opts.dataBytes },
    {
      pageSize: opts.pageSize,
      cacheBytes: opts.cacheBytes,
      readOnly: opts.readOnly,
      // With 'always' every write is followed by sync(): commit it durably at once, and sync() has nothing to do.
      durability: fsync.mode === 'always' ? 'strict' : 'relaxed',
    },
  );
  let ring: Ring;
  try {
    ring = await openRing(store.devices, { ...opts, fsync });
  } catch (e) {
    store.disconnect('opening the ring failed');
    throw e;
  }
  const persistence = opts.persist === false ? Promise.resolve({ persisted: false, detail: 'not requested' }) : requestPersistence();
  return Object.assign(ring, { created: store.created, persistence, disconnect: () => store.disconnect('disconnected') });
}

/** Deletes ring `name` and everything in it. Open connections to it (in any tab) are closed first. */
export async function deleteIdbRing(name: string): Promise<void> {
  try {
    await deleteDB(ringDbName(name));
  } catch (e) {
    throw storageError(name, 'deleting its database', [e]);
  }
}

/** Best effort: never rejects; the answer says what the browser decided, or why it could not be asked. */
export async function requestPersistence(): Promise<Persistence> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.persist) return { persisted: false, detail: 'navigator.storage.persist() is not available here' };
  try {
    if (await storage.persisted()) return { persisted: true, detail: 'already persistent' };
    return (await storage.persist())
      ? { persisted: true, detail: 'granted' }
      : { persisted: false, detail: 'refused: the browser may evict this ring under storage pressure' };
  } catch (e) {
    return { persisted: false, detail: `navigator.storage.persist() failed: ${(e as Error).message}` };
  }
}
