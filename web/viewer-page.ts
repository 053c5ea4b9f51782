// The viewer page (web/viewer.html): joins the server named by ?server=, lists the objects as they arrive.
import type { MediaMetadata } from '../shared/media/metadata.ts';
import { startViewer, type Viewer } from './sync/viewer.ts';

declare global {
  interface Window {
    stateosViewer?: Viewer;
  }
}

const status = document.getElementById('status')!;
const rows = document.getElementById('objects')!;

function show(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function render(v: Viewer): void {
  const objects = v.engine.list();
  rows.replaceChildren(
    ...objects.map((o) => {
      const tr = document.createElement('tr');
      const m = o.state as Partial<MediaMetadata> | undefined;
      for (const text of [m?.title ?? '', o.type === 0x100 ? 'media' : `0x${o.type.toString(16)}`, o.id]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  const live = v.hub.sessions();
  const held = v.store.held.vector().reduce((n, e) => n + e.upTo, 0);
  if (live.length > 0) show('live', `connected to ${live[0].peer}: ${objects.length} objects, ${held} metadata STUs in this browser's ring`);
  else show('connecting', `connecting to ${server}… (${objects.length} objects kept from before)`);
}

const server = new URLSearchParams(location.search).get('server') ?? location.origin;
try {
  const v = await startViewer({ server });
  window.stateosViewer = v;
  v.engine.onChange(() => render(v));
  v.hub.events.admitted.on(() => render(v));
  v.hub.events.ended.on(() => render(v));
  render(v);
} catch (e) {
  show('error', `could not start: ${(e as Error).message}`);
  throw e;
}
