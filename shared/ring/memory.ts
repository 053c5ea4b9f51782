// A ring in memory: for tests and the in-tab demo. The device outlives the ring, so a test can reopen it.
import { openRing, type OpenRingOptions } from './ring.ts';
import type { BlockDevice, Ring, Section } from './types.ts';

export class MemoryDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.slice(offset, Math.min(offset + length, this.size));
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError(`write of ${data.length} at ${offset} is outside the device`);
    this.bytes.set(data, offset);
  }
  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}

export function memoryDevices(metaBytes: number, dataBytes: number): Record<Section, MemoryDevice> {
  return { meta: new MemoryDevice(metaBytes), data: new MemoryDevice(dataBytes) };
}

export function openMemoryRing(devices: Record<Section, MemoryDevice>, opts: OpenRingOptions = {}): Promise<Ring> {
  return openRing(devices, opts);
}
