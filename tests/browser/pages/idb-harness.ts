// The acceptance suite's harness for the IndexedDB ring, run inside the page.
//   crash: the ring's connection is dropped without flush or close, as when a tab dies: transactions that
//          committed stay, nothing else reaches IndexedDB.
//   poke:  reads, changes and writes back the raw page bytes in IndexedDB, through a connection of its own
//          (and not through the device under test).
import { openDB } from 'idb';
import type { RingHarness } from '../../../shared/ring/acceptance.ts';
import type { Section } from '../../../shared/ring/types.ts';
import { GEOMETRY_KEY, type Geometry, ringDbName } from '../../../web/ring/idb-device.ts';
import { deleteIdbRing, type IdbRing, openIdbRing } from '../../../web/ring/idb-ring.ts';
import { PageMap } from '../../../web/ring/page-map.ts';

let harnesses = 0;

export async function idbHarness(): Promise<RingHarness> {
  const name = `acceptance-${++harnesses}`;
  let sizes: Record<Section, number> | undefined;
  let current: IdbRing | undefined;
  const drop = () => {
    current?.disconnect();
    current = undefined;
  };
  return {
    async create(s, opts) {
      drop();
      sizes = s;
      await deleteIdbRing(name);
      current = await openIdbRing(name, { ...opts, metaBytes: s.meta, dataBytes: s.data, persist: false });
      return current;
    },
    async reopen(opts) {
      if (!sizes) throw new Error('nothing to reopen');
      current = await openIdbRing(name, { ...opts, metaBytes: sizes.meta, dataBytes: sizes.data, persist: false });
      return current;
    },
    async crash() {
      drop();
    },
    poke: (section, offset, mutate, length) => pokeRaw(name, section, offset, mutate, length),
    async cleanup() {
      drop();
      await deleteIdbRing(name);
    },
  };
}

/** Read-modify-write of raw bytes of a section; only pages whose bytes changed are written back. */
export async function pokeRaw(name: string, section: Section, offset: number, mutate: (b: Uint8Array) => void, length: number): Promise<void> {
  const db = await openDB(ringDbName(name));
  try {
    const geometry = (await db.get('config', GEOMETRY_KEY)) as Geometry | undefined;
    if (!geometry) throw new Error(`ring ${name} has no geometry`);
    const pages = new PageMap(geometry[section], geometry);
    const first = pages.pageOf(offset);
    const last = pages.pageOf(offset + length - 1);
    const base = pages.start(first);
    const before = new Uint8Array(pages.start(last) + pages.length(last) - base);
    for (let p = first; p <= last; p++) {
      const v = (await db.get(section, p)) as ArrayBuffer | undefined;
      if (v) before.set(new Uint8Array(v), pages.start(p) - base);
    }
    const after = before.slice();
    mutate(after.subarray(offset - base, offset - base + length));
    const tx = db.transaction(section, 'readwrite');
    const puts: Promise<unknown>[] = [];
    for (let p = first; p <= last; p++) {
      const [from, to] = [pages.start(p) - base, pages.start(p) - base + pages.length(p)];
      if (after.subarray(from, to).some((x, i) => x !== before[from + i])) puts.push(tx.store.put(after.slice(from, to).buffer, p));
    }
    await Promise.all([...puts, tx.done]);
  } finally {
    db.close();
  }
}
