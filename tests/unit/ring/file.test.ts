import { mkdtemp, rm } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeStu, runRingTests, type RingHarness } from '../../../shared/ring/acceptance.ts';
import type { Ring } from '../../../shared/ring/types.ts';
import { openFileRing, ringPaths } from '../../../node-peer/ring/file-ring.ts';

async function fileHarness(): Promise<RingHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'stateos-ring-'));
  let sizes = { meta: 0, data: 0 };
  let current: Ring | undefined;
  return {
    async create(s, opts) {
      sizes = s;
      await rm(dir, { recursive: true, force: true });
      current = await openFileRing(dir, { ...opts, metaBytes: s.meta, dataBytes: s.data });
      return current;
    },
    async reopen(opts) {
      current = await openFileRing(dir, { ...opts, metaBytes: sizes.meta, dataBytes: sizes.data });
      return current;
    },
    async crash() {
      // The process would die here: its writes are in the file, nothing more is flushed or checkpointed.
      current = undefined;
    },
    async poke(section, offset, mutate, length) {
      const fh = await open(ringPaths(dir)[section], 'r+');
      const buf = new Uint8Array(length);
      await fh.read(buf, 0, length, offset);
      mutate(buf);
      await fh.write(buf, 0, length, offset);
      await fh.close();
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('raw-file ring', () => {
  runRingTests(it, fileHarness);
});

it('opens a ring whose files were created but not yet sized (a kill during the first open)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stateos-ring-'));
  try {
    const sizes = { metaBytes: 64 * 1024, dataBytes: 256 * 1024 };
    // What open(path, 'wx+') leaves when the process dies before truncate(): empty files.
    for (const path of Object.values(ringPaths(dir))) await (await open(path, 'wx')).close();
    let ring = await openFileRing(dir, { ...sizes, fsync: { mode: 'none' } });
    const loc = await ring.append(makeStu(1, false, 10));
    await ring.close();
    ring = await openFileRing(dir, { ...sizes, fsync: { mode: 'none' } });
    expect(ring.stats().meta.records).toBe(1);
    expect((await ring.read(loc)).ok).toBe(true);
    await ring.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
