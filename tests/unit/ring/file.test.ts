import { mkdtemp, rm } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { runRingTests, type RingHarness } from '../../../shared/ring/acceptance.ts';
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
