// Checks of the IndexedDB device and ring beyond the acceptance suite, run inside the page.
import { makeStu } from '../../../shared/ring/acceptance.ts';
import { MemoryDevice } from '../../../shared/ring/memory.ts';
import { IdbRingStore, ringDbName } from '../../../web/ring/idb-device.ts';
import { deleteIdbRing, openIdbRing } from '../../../web/ring/idb-ring.ts';

const describe = (e: unknown) => ({ code: (e as { code?: string })?.code, message: (e as Error)?.message ?? String(e) });

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return describe(e);
  }
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * Random writes, reads and syncs on an IndexedDB device with small pages (and a cache of two pages), each
 * mirrored on a MemoryDevice; then the whole device is read back through a new connection (cold cache).
 * Returns the differences found.
 */
export async function deviceModel(seed: number, ops: number): Promise<string[]> {
  const name = `device-model-${seed}`;
  const size = 40_000 + 123; // a short last page
  await deleteIdbRing(name);
  const model = new MemoryDevice(size);
  const diffs: string[] = [];
  const same = (what: string, a: Uint8Array, b: Uint8Array) => {
    const i = a.findIndex((x, k) => x !== b[k]);
    if (a.length !== b.length || i >= 0) diffs.push(`${what}: ${a.length} vs ${b.length} bytes, first difference at ${i}`);
  };
  const r = rng(seed);
  let store = await IdbRingStore.open(name, { meta: 8192, data: size }, { pageSize: 4096, cacheBytes: 8192, durability: 'relaxed' });
  try {
    let dev = store.devices.data;
    for (let i = 0; i < ops; i++) {
      const offset = r(size);
      const length = r(Math.min(size - offset, r(4) === 0 ? 20_000 : 300) + 1);
      const op = r(10);
      if (op < 5) {
        const bytes = Uint8Array.from({ length }, () => r(256));
        await dev.write(offset, bytes);
        await model.write(offset, bytes);
      } else if (op < 9) {
        same(`op ${i}: read ${length} at ${offset}`, await dev.read(offset, length), await model.read(offset, length));
      } else {
        await dev.sync();
      }
    }
    same('read past the end', await dev.read(size - 10, 100), await model.read(size - 10, 100));
    await store.devices.meta.close();
    await dev.close();
    store = await IdbRingStore.open(name, {}, { pageSize: 4096 });
    dev = store.devices.data;
    same('whole device after reopening', await dev.read(0, size), model.bytes);
    await store.devices.meta.close();
    await dev.close();
  } finally {
    store.disconnect('check done');
    await deleteIdbRing(name);
  }
  return diffs;
}

export interface OpenChecks {
  otherSizes?: { code?: string; message: string };
  readOnlyMissing?: { code?: string; message: string };
  databaseLeftBehind: boolean;
  readOnlyAppend?: { code?: string; message: string };
  afterDelete?: { code?: string; message: string };
  reopenedWithoutSizes: number;
}

/** Geometry, read-only and deletion behaviour of openIdbRing / deleteIdbRing. */
export async function openChecks(): Promise<OpenChecks> {
  const name = 'open-checks';
  await deleteIdbRing(name);
  await deleteIdbRing('no-such-ring');
  let ring = await openIdbRing(name, { metaBytes: 64 * 1024, dataBytes: 256 * 1024, persist: false });
  await ring.append(makeStu(1, true, 1000));
  await ring.close();
  const otherSizes = await refusal(openIdbRing(name, { metaBytes: 64 * 1024, dataBytes: 512 * 1024, persist: false }));
  const readOnlyMissing = await refusal(openIdbRing('no-such-ring', { readOnly: true, persist: false }));
  const databaseLeftBehind = (await indexedDB.databases()).some((d) => d.name === ringDbName('no-such-ring'));

  ring = await openIdbRing(name, { readOnly: true, persist: false });
  const readOnlyAppend = await refusal(ring.append(makeStu(2, true, 10)));
  await ring.close();

  // Sizes are only needed to create a ring; another tab deleting it closes our connection instead of hanging.
  ring = await openIdbRing(name, { persist: false });
  const reopenedWithoutSizes = ring.stats().data.records;
  await deleteIdbRing(name);
  const afterDelete = await refusal(ring.append(makeStu(3, true, 10)));
  await refusal(ring.close());
  return { otherSizes, readOnlyMissing, databaseLeftBehind, readOnlyAppend, afterDelete, reopenedWithoutSizes };
}
