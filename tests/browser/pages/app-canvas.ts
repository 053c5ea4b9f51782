// The State UI canvas alone, fed N synthetic objects (?n=3000: mostly media, some playlists, channels and
// usage), and a scripted run of wheel zooms and drags that records the frame intervals, for the canvas's
// smoothness check (tests/browser/app-canvas-perf.test.ts).
import type { BusinessObject } from '../../../shared/state/types.ts';
import { ObjectsModel } from '../../../web/app/core/objects.ts';
import '../../../web/app/canvas/state-canvas.ts';

export interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  /** Rectangles in the DOM at the end. */
  drawn: number;
  k: number;
}

declare global {
  interface Window {
    canvasBench?: { ready: boolean; n: number; run(kind: 'wheel' | 'drag', frames: number): Promise<FrameStats> };
  }
}

const n = Number(new URLSearchParams(location.search).get('n') ?? 3000);
const hex = (i: number, w: number) => i.toString(16).padStart(w, '0');
const guid = (i: number) => `${hex(i, 8)}-0000-4000-8000-${hex(i, 12)}`;
const objects: BusinessObject[] = [];
for (let i = 0; i < n; i++) {
  const id = guid(i + 1);
  const r = i % 50;
  const base = { id, ts: BigInt(i + 1), owner: guid(0), deleted: false };
  if (r < 44) {
    objects.push({
      ...base,
      type: 0x100,
      state: {
        id,
        title: `Clip ${i.toString().padStart(5, '0')}`,
        duration: 5 + (i % 300),
        container: 'mp4',
        size: 1e6 + i * 1000,
        frames: 600,
        bytes: 9e5,
        tracks: [
          { index: 0, kind: 'video', codec: 'avc1.64001f', width: 1280, height: 720, frames: 300, timescale: 90000, start: 0, duration: 9e5 },
          { index: 1, kind: 'audio', codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, frames: 300, timescale: 48000, start: 0, duration: 48e4 },
        ],
      },
    });
  } else if (r < 48) {
    objects.push({ ...base, type: 0x102, state: { id, title: `Playlist ${i}`, clips: [0, 1, 2].map((c) => ({ clip: `c${c}`, media: guid(i - c), startMs: 0, endMs: 4000 + c * 1000, title: '' })) } });
  } else if (r < 49) {
    objects.push({ ...base, type: 0x103, state: { id, name: `ch-${i}`, title: `Channel ${i}`, mode: i % 2 ? 'live' : 'on-demand', startMs: 0, playlists: [guid(i - 2)], created: 1n } });
  } else {
    objects.push({ ...base, type: 0x104, state: { object: id, scope: 'server', plays: i, durationMs: i * 1000, reports: 1, gateways: { hls: { plays: i, durationMs: i * 1000 } }, media: {}, channels: {}, servers: {} } });
  }
}

const model = new ObjectsModel();
model.set(objects);
const canvas = document.querySelector('stateos-canvas')!;
canvas.model = model;

function stats(intervals: number[]): Omit<FrameStats, 'drawn' | 'k'> {
  const s = [...intervals].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0 };
}

async function run(kind: 'wheel' | 'drag', frames: number): Promise<FrameStats> {
  const vp = canvas.shadowRoot!.querySelector<HTMLElement>('.viewport')!;
  const box = vp.getBoundingClientRect();
  const cx = box.left + box.width / 2;
  const cy = box.top + box.height / 2;
  const intervals: number[] = [];
  let last = performance.now();
  if (kind === 'drag') vp.dispatchEvent(new PointerEvent('pointerdown', { pointerId: 7, clientX: cx, clientY: cy, bubbles: true, button: 0, pointerType: 'mouse' }));
  for (let f = 0; f < frames; f++) {
    await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
    const now = performance.now();
    intervals.push(now - last);
    last = now;
    if (kind === 'wheel') {
      // in for the first half, out for the second: through overview, summary and detail
      const deltaY = f < frames / 2 ? -60 : 60;
      vp.dispatchEvent(new WheelEvent('wheel', { deltaY, clientX: cx + 200 * Math.sin(f / 9), clientY: cy, bubbles: true, cancelable: true }));
    } else {
      const x = cx + 300 * Math.sin(f / 12);
      const y = cy + 200 * Math.cos(f / 15);
      vp.dispatchEvent(new PointerEvent('pointermove', { pointerId: 7, clientX: x, clientY: y, bubbles: true, pointerType: 'mouse' }));
    }
  }
  if (kind === 'drag') vp.dispatchEvent(new PointerEvent('pointerup', { pointerId: 7, bubbles: true, pointerType: 'mouse' }));
  return { ...stats(intervals.slice(1)), drawn: canvas.shadowRoot!.querySelectorAll('.rect').length, k: canvas.camera.k };
}

window.canvasBench = { ready: false, n, run };
await canvas.updateComplete;
await new Promise((r) => requestAnimationFrame(r));
window.canvasBench.ready = true;
