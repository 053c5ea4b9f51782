import { describe, it } from 'vitest';
import { runRingTests, type RingHarness } from '../../../shared/ring/acceptance.ts';
import { memoryDevices, openMemoryRing, type MemoryDevice } from '../../../shared/ring/memory.ts';
import type { Section } from '../../../shared/ring/types.ts';

function memoryHarness(): Promise<RingHarness> {
  let devices: Record<Section, MemoryDevice> | undefined;
  return Promise.resolve({
    async create(sizes, opts) {
      devices = memoryDevices(sizes.meta, sizes.data);
      return openMemoryRing(devices, opts);
    },
    async reopen(opts) {
      if (!devices) throw new Error('nothing to reopen');
      return openMemoryRing(devices, opts);
    },
    async crash() {},
    async poke(section, offset, mutate, length) {
      if (!devices) throw new Error('no devices');
      mutate(devices[section].bytes.subarray(offset, offset + length));
    },
    async cleanup() {},
  });
}

describe('memory ring', () => {
  runRingTests(it, memoryHarness);
});
