// Hardware CRC32C for the Node server (@node-rs/crc32, a prebuilt binary from the npm registry): about 8x
// the portable implementation here. If it cannot load, the portable one is used and the server says so.
import { createRequire } from 'node:module';
import { setCrc32cImpl } from '../shared/stu/crc32c.ts';

export function installFastCrc32c(): boolean {
  try {
    const { crc32c } = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: (input: Uint8Array, initialState?: number) => number };
    setCrc32cImpl((data, crc) => crc32c(data, crc));
    return true;
  } catch {
    return false;
  }
}
