/// <reference types="vite/client" />
// The in-tab demo's entry (web/demo/index.html, served as /demo/ by any static host): claims this tab's set
// of rings, starts the cluster (core/cluster.ts) and hands it to <stateos-demo>. The bundled sample clip is
// part of the build (an asset URL), fetched from the same static host; nothing else leaves the page.
import sampleUrl from '../../public/sample.mp4?url';
import { claimRing } from '../app/core/ring-claim.ts';
import '../app/styles/theme.css';
import { DemoCluster } from './core/cluster.ts';
import './demo-app.ts';

declare global {
  interface Window {
    /** The demo's cluster and page, for the console and the tests. */
    stateosDemo?: { cluster: DemoCluster; app: HTMLElementTagNameMap['stateos-demo']; ready: boolean; error?: string };
  }
}

const app = document.querySelector('stateos-demo') ?? document.body.appendChild(document.createElement('stateos-demo'));
const params = new URLSearchParams(location.search);
const count = Math.min(8, Math.max(2, Number(params.get('servers')) || 4));

try {
  if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC (RTCPeerConnection)');
  if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB');
  // one set of rings per tab: a second tab of the demo runs its own servers on its own rings
  const slot = await claimRing('stateos-demo');
  const cluster = new DemoCluster({ servers: count, slot, sampleUrl });
  app.cluster = cluster;
  window.stateosDemo = { cluster, app, ready: false };
  await cluster.start();
  window.stateosDemo.ready = true;
  if (params.get('autoplay') !== '0' && cluster.sampleId) {
    // play from a server that did not ingest the sample: its frames come from server 1
    const from = cluster.servers.length >= 3 ? 3 : 2;
    await app.updateComplete;
    await app.play(from);
  }
} catch (e) {
  const message = (e as Error).message;
  app.failed(message);
  if (window.stateosDemo) window.stateosDemo.error = message;
  else window.stateosDemo = { cluster: undefined as unknown as DemoCluster, app, ready: false, error: message };
  console.warn('stateos demo: could not start', e);
}
