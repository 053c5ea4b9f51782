// Workloads for bench/idb.ts, run in Chromium: appends to the IndexedDB ring, and the baseline, raw
// IndexedDB puts of the same STU bytes in batched transactions with the same durability.
import { deleteDB, openDB } from 'idb';
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { memoryDevices } from '../../../shared/ring/memory.ts';
import { REGION_START } from '../../../shared/ring/record.ts';
import { openRing } from '../../../shared/ring/ring.ts';
import type { FsyncPolicy, Ring } from '../../../shared/ring/types.ts';
import { IdbRingStore } from '../../../web/ring/idb-device.ts';
import { deleteIdbRing, openIdbRing } from '../../../web/ring/idb-ring.ts';

export interface Workload {
  /** Whole STU size (header and body). */
  stuBytes: number;
  count: number;
  /** Appends (or puts) issued together; the next batch starts once all are acknowledged. */
  batch: number;
  /** Bytes the ring (or the raw store) may hold before it overwrites its oldest. */
  capacity: number;
  pageSize?: number;
  fsync?: FsyncPolicy;
}

export interface Run {
  count: number;
  bytes: number;
  ms: number;
}

export interface IdbBenchApi {
  ring(w: Workload): Promise<Run>;
  /** The same appends to the same engine on a MemoryDevice: what the engine itself costs. */
  memory(w: Workload): Promise<Run>;
  /** The bytes of each batch written straight to an IndexedDB device and synced: what the device costs. */
  device(w: Workload): Promise<Run>;
  raw(w: Workload): Promise<Run>;
}

declare global {
  interface Window {
    stateosBench?: IdbBenchApi;
  }
}

const POOL = 32;
const pool = (stuBytes: number) => Array.from({ length: POOL }, (_, i) => makeStu(i + 1, true, stuBytes - 512));

async function timed(w: Workload, step: (from: number, n: number) => Promise<void>): Promise<Run> {
  await step(0, w.batch); // warm-up, not counted
  const t0 = performance.now();
  for (let i = 0; i < w.count; i += w.batch) await step(i, Math.min(w.batch, w.count - i));
  return { count: w.count, bytes: w.count * w.stuBytes, ms: performance.now() - t0 };
}

/** Appends the workload's STUs to `ring`, `inFlight` at a time, timed. */
function timedAppends(ring: Ring, w: Workload): Promise<Run> {
  const stus = pool(w.stuBytes);
  return timed(w, async (from, n) => {
    await Promise.all(Array.from({ length: n }, (_, k) => ring.append(stus[(from + k) % POOL])));
  });
}

const api: IdbBenchApi = {
  async ring(w) {
    await deleteIdbRing('bench');
    const ring = await openIdbRing('bench', { metaBytes: 1 << 20, dataBytes: w.capacity, pageSize: w.pageSize, fsync: w.fsync, persist: false });
    try {
      return await timedAppends(ring, w);
    } finally {
      await ring.close();
      await deleteIdbRing('bench');
    }
  },

  async memory(w) {
    const ring = await openRing(memoryDevices(1 << 20, w.capacity), { fsync: w.fsync ?? { mode: 'always' } });
    try {
      return await timedAppends(ring, w);
    } finally {
      await ring.close();
    }
  },

  async device(w) {
    await deleteIdbRing('bench-device');
    const store = await IdbRingStore.open('bench-device', { meta: 1 << 20, data: w.capacity }, { pageSize: w.pageSize });
    const dev = store.devices.data;
    const chunk = new Uint8Array(w.batch * (w.stuBytes + 24));
    chunk.fill(7);
    let at = REGION_START;
    try {
      return await timed(w, async () => {
        if (at + chunk.length > dev.size) at = REGION_START;
        await dev.write(at, chunk);
        await dev.sync();
        at += chunk.length;
      });
    } finally {
      store.disconnect('benchmark done');
      await deleteIdbRing('bench-device');
    }
  },

  async raw(w) {
    await deleteDB('stateos-bench-raw');
    const db = await openDB('stateos-bench-raw', 1, { upgrade: (up) => up.createObjectStore('stus') });
    const stus = pool(w.stuBytes).map((s) => s.slice().buffer);
    const slots = Math.floor(w.capacity / w.stuBytes); // overwrite the oldest, as the ring does
    let key = 0;
    try {
      return await timed(w, async (_from, n) => {
        const tx = db.transaction('stus', 'readwrite', { durability: w.fsync?.mode === 'always' || !w.fsync ? 'strict' : 'relaxed' });
        const puts = Array.from({ length: n }, () => tx.store.put(stus[key % POOL], key++ % slots));
        await Promise.all([...puts, tx.done]);
      });
    } finally {
      db.close();
      await deleteDB('stateos-bench-raw');
    }
  },
};

window.stateosBench = api;
