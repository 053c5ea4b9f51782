// The object-cache snapshot: a 16-byte envelope (magic, version, length, CRC32C) around a JSON payload.
// Layout and the validation rule are in docs/STATE.md. Every decoding failure is a typed SnapshotError.
import { crc32c, decodeStu, isGuid, ok, type Guid, type Result, reencodeStu, type Stu, stuId } from '../stu/index.ts';
import { fromBase64, toBase64 } from '../util/base64.ts';
import type { CachedView } from './chain.ts';
import { SnapshotError, snapshotFail } from './errors.ts';
import type { Conflict, RejectCode } from './types.ts';

export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_MAGIC = 'STOC'; // State Object Cache
export const ENVELOPE_SIZE = 16;

export interface CachedChain extends CachedView {
  object: Guid;
  type: number;
}

export interface SnapshotData {
  /** Every STU the engine keeps: each chain's base summary and what follows it, and invalid summaries. */
  stus: Stu[];
  /** Ids (with their fingerprints) the engine dropped because a summary replaced them. */
  superseded: [string, number][];
  conflicts: Conflict[];
  /** Computed objects, reused at restore when their digest still matches. */
  chains: CachedChain[];
}

const utf8 = new TextEncoder();
const REJECT_CODES: readonly RejectCode[] = ['collision', 'branch', 'stale', 'deleted', 'invalid'];

export function encodeSnapshot(d: SnapshotData): Uint8Array {
  const json = {
    stus: d.stus.map((s) => toBase64(reencodeStu(s))),
    superseded: d.superseded,
    conflicts: d.conflicts,
    chains: d.chains.map((c) => ({
      object: c.object,
      type: c.type,
      base: c.base ?? null,
      digest: c.digest,
      exists: c.exists,
      state: c.stateBytes ? toBase64(c.stateBytes) : null,
      ts: c.ts.toString(),
      owner: c.owner,
      deleted: c.deleted,
      rejected: c.rejected.map(([id, v]) => [id, v.code, v.reason]),
    })),
  };
  const payload = utf8.encode(JSON.stringify(json));
  const out = new Uint8Array(ENVELOPE_SIZE + payload.length);
  const v = new DataView(out.buffer);
  out.set(utf8.encode(SNAPSHOT_MAGIC), 0);
  v.setUint16(4, SNAPSHOT_VERSION, true);
  v.setUint32(8, payload.length, true);
  v.setUint32(12, crc32c(payload), true);
  out.set(payload, ENVELOPE_SIZE);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): Result<SnapshotData, SnapshotError> {
  if (!(bytes instanceof Uint8Array) || bytes.length < ENVELOPE_SIZE) return snapshotFail('TRUNCATED', 'shorter than the envelope');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== SNAPSHOT_MAGIC) return snapshotFail('BAD_MAGIC', 'not an object-cache snapshot');
  const version = v.getUint16(4, true);
  if (version !== SNAPSHOT_VERSION) return snapshotFail('BAD_VERSION', `snapshot version ${version}, this build reads ${SNAPSHOT_VERSION}`);
  const length = v.getUint32(8, true);
  if (v.getUint16(6, true) !== 0) return snapshotFail('BAD_FORMAT', 'reserved envelope bytes are not zero');
  if (bytes.length - ENVELOPE_SIZE !== length) return snapshotFail('TRUNCATED', `payload of ${bytes.length - ENVELOPE_SIZE} bytes, envelope says ${length}`);
  const payload = bytes.subarray(ENVELOPE_SIZE);
  if (crc32c(payload) !== v.getUint32(12, true)) return snapshotFail('BAD_CHECKSUM', 'payload checksum mismatch');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    return snapshotFail('BAD_FORMAT', `payload is not JSON: ${String(err)}`);
  }
  try {
    return ok(readPayload(json));
  } catch (err) {
    if (err instanceof SnapshotError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * The snapshot is accepted only when it and the ring agree: every STU the snapshot keeps is in the ring, and
 * every STU in the ring is known to the snapshot (kept, or dropped as superseded). `ringIds`: the ids of the
 * ring's metadata section.
 */
export function checkAgainstRing(d: SnapshotData, ringIds: Iterable<string>): Result<void, SnapshotError> {
  const ring = new Set(ringIds);
  const kept = new Set(d.stus.map((s) => stuId(s.header)));
  for (const id of kept) if (!ring.has(id)) return snapshotFail('RING_MISMATCH', `the snapshot holds ${id}, the ring does not`);
  const dropped = new Set(d.superseded.map(([id]) => id));
  for (const id of ring) {
    if (!kept.has(id) && !dropped.has(id)) return snapshotFail('RING_MISMATCH', `the ring holds ${id}, unknown to the snapshot`);
  }
  return ok(undefined);
}

function bad(what: string): never {
  throw new SnapshotError('BAD_FORMAT', what);
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isU32 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff_ffff;
const arr = (x: unknown, what: string): unknown[] => (Array.isArray(x) ? x : bad(`${what} is not a list`));

function bytesOf(x: unknown, what: string): Uint8Array {
  const b = isStr(x) ? fromBase64(x) : undefined;
  return b ?? bad(`${what} is not base64`);
}

function readPayload(json: unknown): SnapshotData {
  if (!isObj(json)) bad('payload is not an object');
  const stus = arr(json.stus, 'stus').map((x, i) => {
    const r = decodeStu(bytesOf(x, `stus[${i}]`));
    return r.ok ? r.value : bad(`stus[${i}]: ${r.error.message}`);
  });
  const superseded = arr(json.superseded, 'superseded').map((x): [string, number] =>
    Array.isArray(x) && isStr(x[0]) && isU32(x[1]) ? [x[0], x[1]] : bad('superseded entry'),
  );
  const conflicts = arr(json.conflicts, 'conflicts').map((x): Conflict =>
    isObj(x) && isStr(x.id) && isStr(x.kept) && isStr(x.dropped) ? { id: x.id, kept: x.kept, dropped: x.dropped } : bad('conflict entry'),
  );
  return { stus, superseded, conflicts, chains: arr(json.chains, 'chains').map(readChain) };
}

function readChain(x: unknown): CachedChain {
  if (!isObj(x)) bad('chain entry');
  const { object, type, base, digest, exists, state, ts, owner, deleted } = x;
  if (!isGuid(object) || !isU32(type) || !isU32(digest) || !isGuid(owner)) bad('chain identity');
  if (typeof exists !== 'boolean' || typeof deleted !== 'boolean') bad('chain flags');
  if (!(base === null || isStr(base)) || !isStr(ts) || !/^\d{1,20}$/.test(ts)) bad('chain timestamps');
  const rejected = arr(x.rejected, 'rejected').map((r): CachedView['rejected'][number] =>
    Array.isArray(r) && isStr(r[0]) && REJECT_CODES.includes(r[1]) && isStr(r[2]) ? [r[0], { code: r[1], reason: r[2] }] : bad('rejected entry'),
  );
  return {
    object,
    type,
    base: base ?? undefined,
    digest,
    exists,
    stateBytes: state === null ? undefined : bytesOf(state, 'chain state'),
    ts: BigInt(ts),
    owner,
    deleted,
    rejected,
  };
}
