// What a viewer (a browser syncing over WebRTC, anonymous: it brings no identity) may be given of the
// metadata (docs/API.md, "Viewers"): the STUs of objects anonymous may read, their ACLs, and what is no
// media, playlist or channel (usage reports, issuer keys). The session withholds the rest, and once an ACL
// change opens an object, its chain is sent to every viewer at once.
import { ANONYMOUS_CALLER, mayAccess } from '../../shared/api/access.ts';
import { ACL_TYPE } from '../../shared/api/acl.ts';
import { CHANNEL, MEDIA_META, PLAYLIST } from '../../shared/media/stu-types.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import type { Guid, StuHeader } from '../../shared/stu/index.ts';
import type { SyncHub } from '../../shared/sync/hub.ts';
import type { SyncStore } from '../../shared/sync/store.ts';

const GOVERNED = [MEDIA_META, PLAYLIST, CHANNEL];

/** May a viewer read object `id`? An id that is no media, playlist or channel (yet) is not governed. */
export function viewerMayRead(engine: StateEngine, id: Guid): boolean {
  for (const t of GOVERNED) {
    const o = engine.get(id, t);
    if (o) return mayAccess(engine, 'read', ANONYMOUS_CALLER, o);
  }
  return true;
}

export const shareWithViewer = (engine: StateEngine) => (h: StuHeader): boolean => viewerMayRead(engine, h.object);

/** Sends an object's chains to every viewer when an ACL change opens it to anonymous. Returns the unsubscribe. */
export function shareOnGrant(engine: StateEngine, store: SyncStore, hub: () => SyncHub | undefined): () => void {
  const open = new Set<Guid>();
  return engine.onChange((e) => {
    if (e.object.type !== ACL_TYPE) return;
    const id = e.object.id;
    const now = viewerMayRead(engine, id);
    const was = open.has(id);
    if (now) open.add(id);
    else open.delete(id);
    if (!now || was) return;
    const viewers = hub()?.sessions().filter((s) => s.peerRole === 'viewer') ?? [];
    if (viewers.length === 0) return;
    void (async () => {
      for (const t of [...GOVERNED, ACL_TYPE]) {
        for (const h of engine.chainHeaders(id, t)) {
          const loc = store.held.loc(h.type, h.origin, h.seq, false);
          const bytes = loc && (await store.read(loc));
          if (bytes) for (const v of viewers) v.share(bytes);
        }
      }
    })();
  });
}
