// Errors of the object-cache snapshot: one class with a code, like StuError. restore() returns them; the
// caller's recovery is always the same: discard the snapshot and rebuild from the ring.
import type { Result } from '../stu/index.ts';

export type SnapshotErrorCode =
  | 'TRUNCATED' // shorter than its envelope says
  | 'BAD_MAGIC' // not a snapshot
  | 'BAD_VERSION' // written by another snapshot version
  | 'BAD_CHECKSUM' // the payload fails its CRC32C
  | 'BAD_FORMAT' // checksum fine, content not what this version writes
  | 'RING_MISMATCH' // the snapshot and the ring hold different STUs
  | 'NOT_EMPTY'; // restore() into an engine that already holds STUs

export class SnapshotError extends Error {
  readonly code: SnapshotErrorCode;
  constructor(code: SnapshotErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'SnapshotError';
    this.code = code;
  }
}

export const snapshotFail = (code: SnapshotErrorCode, message: string): Result<never, SnapshotError> => ({
  ok: false,
  error: new SnapshotError(code, message),
});
