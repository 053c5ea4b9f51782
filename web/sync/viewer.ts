// A browser viewer: the page's own STU ring in IndexedDB, the business-object engine, and a sync session
// with a state server over the browser's WebRTC (role "viewer": it receives the metadata, sends none).
// The viewer's GUID is kept in localStorage so its ring survives reloads.
import { mediaApp } from '../../shared/media/app.ts';
import { channelApp } from '../../shared/media/channel.ts';
import { playlistApp } from '../../shared/media/playlist.ts';
import { usageApp } from '../../shared/media/usage.ts';
import { StateEngine } from '../../shared/state/engine.ts';
import type { StateApp } from '../../shared/state/types.ts';
import { type Guid, isGuid, newGuid } from '../../shared/stu/index.ts';
import { SyncHub } from '../../shared/sync/hub.ts';
import { RingStore } from '../../shared/sync/store.ts';
import type { Logger } from '../../shared/log.ts';
import { openIdbRing, type IdbRing } from '../ring/idb-ring.ts';
import { makeBrowserLink } from '../stx/index.ts';

export interface ViewerOptions {
  /** The state server to join: http://HOST:PORT (its POST /api/peer answers the offer). */
  server: string;
  /** IndexedDB database of the ring. Default "stateos-viewer". */
  ringName?: string;
  metaBytes?: number;
  dataBytes?: number;
  log?: Logger;
  /** The state applications whose objects the engine builds. Default: the media application's (media, playlists, channels, usage). */
  apps?: StateApp<any>[];
}

/** Every application of the media state application: what a viewer of a media server shows. */
export const MEDIA_APPS: StateApp<any>[] = [mediaApp, playlistApp, channelApp, usageApp];

export interface Viewer {
  guid: Guid;
  /** The server joined (opts.server). */
  server: string;
  /** The IndexedDB ring's name (opts.ringName). */
  ringName: string;
  ring: IdbRing;
  engine: StateEngine;
  store: RingStore;
  hub: SyncHub;
  close(): Promise<void>;
}

export async function startViewer(opts: ViewerOptions): Promise<Viewer> {
  const ringName = opts.ringName ?? 'stateos-viewer';
  const guid = viewerGuid(ringName);
  const ring = await openIdbRing(ringName, { metaBytes: opts.metaBytes ?? 16 << 20, dataBytes: opts.dataBytes ?? 64 << 20 });
  const engine = new StateEngine();
  for (const app of opts.apps ?? MEDIA_APPS) engine.register(app);
  const store = new RingStore(guid, ring, { engine });
  await store.load();
  const hub = new SyncHub({
    store,
    role: 'viewer',
    log: opts.log,
    mesh: false,
    newLink: () => makeBrowserLink({ log: opts.log }),
    info: () => ({ version: '1', apps: ['viewer'] }),
  });
  hub.join(opts.server);
  return {
    guid,
    server: opts.server,
    ringName,
    ring,
    engine,
    store,
    hub,
    async close() {
      await hub.close('page closed');
      await ring.close();
    },
  };
}

function viewerGuid(ringName: string): Guid {
  const key = `stateos.viewer.${ringName}`;
  const kept = globalThis.localStorage?.getItem(key);
  if (isGuid(kept)) return kept;
  const g = newGuid();
  globalThis.localStorage?.setItem(key, g);
  return g;
}
