// Sequential reads through a device with a read-ahead window, so a scan costs one device read per window.
import type { BlockDevice } from './types.ts';

export class WindowReader {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  constructor(
    private readonly device: BlockDevice,
    private readonly windowSize: number,
  ) {}

  /** `length` bytes at absolute `offset`, clipped to the device. The view is valid until the next call. */
  async get(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.device.size);
    if (offset < this.at || end > this.at + this.buf.length) {
      const want = Math.min(Math.max(end - offset, this.windowSize), this.device.size - offset);
      this.buf = await this.device.read(offset, want);
      this.at = offset;
    }
    return this.buf.subarray(offset - this.at, end - this.at);
  }
}
