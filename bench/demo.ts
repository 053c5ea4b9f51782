// The in-tab demo (web/demo) in Chromium, from a plain static host (the web build as any static host serves
// it, tests/browser/helpers/demo.ts): a fresh browser profile per run, so every run starts four servers on
// new IndexedDB rings, links them over in-page RTCPeerConnections, ingests the sample on server 1 and
// replicates its metadata. Figures, each next to a baseline measured in the same run and browser:
// - convergence (page load to all four servers holding the sample's metadata) next to a bare WebRTC mesh
//   in a page of the same origin: the same six in-page RTCPeerConnection pairs set up from page load, each
//   with one data channel, and the same metadata bytes sent from one node to the three others;
// - replication alone (the sample ingested on server 1 to all four holding its metadata) next to sending
//   the same bytes over the bare mesh's channels once they are open;
// - the demo's IndexedDB ring append while ingesting and its time to first frame are printed as they are
//   measured (their baselines are in the idb and player suites: raw IndexedDB puts, hls.js on ffmpeg's HLS).
import type { Page } from 'playwright-core';
import { launchChromium } from '../tests/browser/helpers/chromium.ts';
import { buildWeb, serveStatic } from '../tests/browser/helpers/demo.ts';
import { allowLocalCandidates, WEBRTC_LOOPBACK_ARGS } from '../tests/browser/helpers/webrtc.ts';
import type { Figure } from './figure.ts';

const log = (s: string) => process.stderr.write(`  ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface DemoRun {
  convergedMs: number;
  ingestDoneMs: number;
  linksUpMs: number;
  firstFrameMs: number | undefined;
  ingestMiBps: number | undefined;
  metaBytes: number;
}

interface MeshRun {
  setupMs: number;
  sendMs: number;
  fromLoadMs: number;
}

/**
 * The bare mesh, run in the page (a string: tsx adds helpers to named functions that do not exist in the
 * page). Six pairs of RTCPeerConnections with a data channel each; node 0 sends `bytes` to nodes 1-3.
 */
const MESH = `async (bytes) => {
  const t0 = performance.now();
  const pairs = [];
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) pairs.push([i, j]);
  const open = (c) => new Promise((r) => (c.readyState === 'open' ? r() : (c.onopen = () => r())));
  const links = await Promise.all(pairs.map(async ([i, j]) => {
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const ca = a.createDataChannel('stx');
    const cb = new Promise((r) => (b.ondatachannel = (e) => r(e.channel)));
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    const rb = await cb;
    rb.binaryType = 'arraybuffer';
    await open(ca);
    await open(rb);
    return { i, a, b, ca, rb };
  }));
  const up = performance.now();
  await Promise.all(links.filter((l) => l.i === 0).map((l) => new Promise((r) => {
    let got = 0;
    l.rb.onmessage = (e) => { got += e.data.byteLength; if (got >= bytes) r(); };
    for (let at = 0; at < bytes; at += 16384) l.ca.send(new Uint8Array(Math.min(16384, bytes - at)));
  })));
  const sent = performance.now();
  for (const l of links) { l.a.close(); l.b.close(); }
  return { setupMs: up - t0, sendMs: sent - up, fromLoadMs: sent };
}`;

async function until<T>(page: Page, fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await page.evaluate(fn);
    if (v !== undefined && v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: timed out`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchDemo({ quick }: { quick: boolean }): Promise<Figure[]> {
  const reps = quick ? 2 : 4;
  const web = await buildWeb();
  const site = await serveStatic(web.dir, { own: true });
  const demo: DemoRun[] = [];
  const mesh: MeshRun[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const browser = await launchChromium({ args: WEBRTC_LOOPBACK_ARGS, viewport: { width: 1280, height: 900 } });
      try {
        await allowLocalCandidates(browser.context, site.origin);
        const page = await browser.context.newPage();
        await page.goto(`${site.origin}/demo/`);
        const error = await page.evaluate(() => window.stateosDemo?.error);
        if (error) throw new Error(`the demo did not start: ${error}`);
        const run = await until(
          page,
          () => {
            const d = window.stateosDemo;
            const m = d?.cluster?.metrics;
            const f = d?.app.shadowRoot?.querySelector('demo-player')?.figures;
            if (!d || !m?.convergedMs || !f?.firstFrameMs) return undefined;
            return {
              convergedMs: m.convergedMs,
              ingestDoneMs: m.ingestDoneMs ?? 0,
              linksUpMs: m.linksUpMs ?? 0,
              firstFrameMs: f.firstFrameMs,
              ingestMiBps: m.ingest?.mibPerSecond,
              metaBytes: d.cluster.server(1).ringStats()?.meta.used ?? 0,
            };
          },
          90_000,
          'demo convergence and first frame',
        );
        demo.push(run);
        // the bare mesh in a fresh page of the same origin (a 404 page: nothing of the demo loads)
        const bare = await browser.context.newPage();
        await bare.goto(`${site.origin}/bench-blank`);
        mesh.push((await bare.evaluate(`(${MESH})(${Math.max(1024, run.metaBytes)})`)) as MeshRun);
      } finally {
        await browser.close();
      }
      const d = demo[i];
      const b = mesh[i];
      log(
        `run ${i + 1}/${reps}: converged ${d.convergedMs.toFixed(0)} ms after load (links up ${d.linksUpMs.toFixed(0)}, ingest done ${d.ingestDoneMs.toFixed(0)}), ` +
          `first frame ${d.firstFrameMs?.toFixed(0)} ms; bare mesh up+sent ${b.fromLoadMs.toFixed(0)} ms after load (setup ${b.setupMs.toFixed(0)}, send ${b.sendMs.toFixed(1)})`,
      );
    }
  } finally {
    await site.close();
  }
  const conv = median(demo.map((d) => d.convergedMs));
  const bareConv = median(mesh.map((m) => m.fromLoadMs));
  const repl = median(demo.map((d) => d.convergedMs - d.ingestDoneMs));
  const bareSend = median(mesh.map((m) => m.sendMs));
  const base = 'bare in-page WebRTC mesh (6 pairs, same bytes)';
  return [
    { name: 'demo: convergence from page load (median)', value: conv, unit: 'ms', baseline: bareConv, baselineName: `${base}, set up + sent`, ratio: bareConv / conv },
    { name: 'demo: replication after ingest (median)', value: repl, unit: 'ms', baseline: bareSend, baselineName: `${base}, sent over open channels`, ratio: bareSend / Math.max(repl, 0.001) },
    { name: 'demo: time to first frame from page load (median)', value: median(demo.map((d) => d.firstFrameMs ?? NaN)), unit: 'ms' },
    { name: 'demo: IndexedDB ring append while ingesting (median)', value: median(demo.map((d) => d.ingestMiBps ?? NaN)), unit: 'MiB/s' },
  ];
}
