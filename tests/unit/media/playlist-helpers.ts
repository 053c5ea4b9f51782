// Helpers for the playlist, channel and usage tests: servers made of a memory ring, the real engine with
// every media application, and the RingStore that makes STUs; media objects with a known duration.
import { mediaApp } from '../../../shared/media/app.ts';
import { channelApp } from '../../../shared/media/channel.ts';
import { encodeMetadata, type MediaMetadata } from '../../../shared/media/metadata.ts';
import type { ObjectWriter } from '../../../shared/media/playlist-edit.ts';
import { playlistApp } from '../../../shared/media/playlist.ts';
import { MEDIA_META } from '../../../shared/media/stu-types.ts';
import { usageApp } from '../../../shared/media/usage.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/index.ts';
import { StateEngine } from '../../../shared/state/index.ts';
import { decodeStu, encodeStu, type Guid, HybridClock, newGuid, type NewStu, Origin, type Stu } from '../../../shared/stu/index.ts';
import { RingStore } from '../../../shared/sync/store.ts';

export const MEDIA: Guid[] = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003'];
export const SERVERS: Guid[] = ['5e000000-0000-4000-8000-00000000000a', '5e000000-0000-4000-8000-00000000000b', '5e000000-0000-4000-8000-00000000000c'];

export function engineWithApps(): StateEngine {
  const e = new StateEngine();
  for (const app of [mediaApp, playlistApp, channelApp, usageApp]) e.register(app as Parameters<StateEngine['register']>[0]);
  return e;
}

export function metadata(id: Guid, seconds: number, title = `media ${id.slice(-1)}`): MediaMetadata {
  return {
    id,
    title,
    duration: seconds,
    container: 'mp4',
    size: 1000,
    frames: 10,
    bytes: 900,
    tracks: [{ index: 0, kind: 'video', codec: 'avc1.64001e', timescale: 1000, frames: 10, start: 0, duration: seconds * 1000, width: 160, height: 90 }],
  };
}

export const decoded = (bytes: Uint8Array): Stu => {
  const r = decodeStu(bytes);
  if (!r.ok) throw r.error;
  return r.value;
};

/** An origin whose clock reads `wall()`: deterministic timestamps. */
export const originAt = (guid: Guid, wall: () => number): Origin => new Origin(guid, new HybridClock(wall));

/** A media metadata STU made by `origin`. */
export const mediaStu = (origin: Origin, m: MediaMetadata): Stu => decoded(origin.create({ type: MEDIA_META, object: m.id }, encodeMetadata(m)));

/** An STU of a given type, made with the codec directly. */
export function stu(init: NewStu & { ts: bigint; origin?: Guid; seq?: number }, body: Uint8Array): Stu {
  return decoded(encodeStu({ origin: init.origin ?? SERVERS[0], seq: init.seq ?? 1, ...init }, body));
}

export interface TestServer {
  guid: Guid;
  engine: StateEngine;
  store: RingStore;
  writer: ObjectWriter;
}

/** A server on a memory ring, holding media of these durations (seconds): MEDIA[0], MEDIA[1], … */
export async function server(durations: number[] = [20, 10, 5], guid: Guid = newGuid()): Promise<TestServer> {
  const ring = await openMemoryRing(memoryDevices(4 << 20, 1 << 20), { fsync: { mode: 'none' } });
  const engine = engineWithApps();
  const store = new RingStore(guid, ring, { engine });
  for (const [i, d] of durations.entries()) await store.create({ type: MEDIA_META, object: MEDIA[i] }, encodeMetadata(metadata(MEDIA[i], d)));
  return { guid, engine, store, writer: { engine, create: (init, body) => store.create(init, body), now: () => 1_700_000_000_000 } };
}
