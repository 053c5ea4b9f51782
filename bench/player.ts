// The web app's player in Chromium on loopback: (a) time to first frame from the page load (navigation start
// to the first video frame presented, requestVideoFrameCallback) of `/?play=ID` served by a `stateos serve`
// process, the app joining the server over WebRTC and playing the segments over data channels, in a fresh
// browser profile each time (cold: the app, its IndexedDB ring and the WebRTC session all start from
// nothing) and again in the same profile (warm); (b) rebuffers (`waiting` events after the first frame)
// and stalled time over a 60 s play. The baseline, in the same run and the same browser: hls.js in a bare
// page (hls.js's own minified build, a classic script) playing ffmpeg's own HLS of the same file (`-c copy
// -f hls -hls_segment_type fmp4`), page and files from a plain Node static file server. Media: H.264 1280x720 30 fps + AAC, a key frame every 2 s, 75 s (quick: 25 s, 15 s
// played). The figures print the baseline's time divided by ours (higher is better).
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildApp } from '../tests/browser/helpers/app.ts';
import { serve } from '../tests/helpers/cli.ts';
import { launchChromium } from '../tests/browser/helpers/chromium.ts';
import { allowLocalCandidates, WEBRTC_LOOPBACK_ARGS } from '../tests/browser/helpers/webrtc.ts';
import type { Figure } from './figure.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/stateos.js');
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Measured {
  firstFrame: number | null;
  playing: number | null;
  waiting: number;
  stalledMs: number;
  time: number;
  fatal: string | null;
  /** Where each rebuffer happened and what was buffered then. */
  waits: string[];
}

declare global {
  interface Window {
    stateosPlayerBench?: Measured;
  }
}

/**
 * Installed before any page script: hooks the first video element that is asked to play. A string, not a
 * function: tsx's transform adds helpers (`__name`) to named functions that do not exist in the page.
 */
const INSTRUMENT = `(() => {
  const m = { firstFrame: null, playing: null, waiting: 0, stalledMs: 0, time: 0, fatal: null, waits: [] };
  window.stateosPlayerBench = m;
  const play = HTMLMediaElement.prototype.play;
  let hooked = false;
  HTMLMediaElement.prototype.play = function () {
    if (!hooked && this instanceof HTMLVideoElement) {
      hooked = true;
      const v = this;
      let stallAt = 0;
      v.requestVideoFrameCallback(() => (m.firstFrame ??= performance.now()));
      v.addEventListener('playing', () => {
        m.playing ??= performance.now();
        if (stallAt) m.stalledMs += performance.now() - stallAt;
        stallAt = 0;
      });
      v.addEventListener('waiting', () => {
        // a rebuffer: playback had started (a 'playing' event) and the buffer ran dry (not a seek, not the end)
        if (m.playing === null || v.seeking || v.ended) return;
        m.waiting++;
        stallAt = performance.now();
        const r = [];
        for (let i = 0; i < v.buffered.length; i++) r.push(v.buffered.start(i).toFixed(3) + '-' + v.buffered.end(i).toFixed(3));
        m.waits.push('at ' + v.currentTime.toFixed(3) + ' s, buffered ' + r.join(' '));
      });
      v.addEventListener('timeupdate', () => {
        if (stallAt && v.currentTime > m.time) {
          m.stalledMs += performance.now() - stallAt;
          stallAt = 0;
        }
        m.time = v.currentTime;
      });
      v.addEventListener('error', () => (m.fatal = 'media error ' + v.error?.code + ': ' + v.error?.message));
    }
    return play.call(this);
  };
})();`;

function makeMedia(file: string, seconds: number): void {
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', file,
  ]);
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.m3u8': 'application/vnd.apple.mpegurl', '.mp4': 'video/mp4', '.m4s': 'video/iso.segment' };

/** The baseline's page: hls.js's own build as a classic script, playing the HLS beside it. */
const BASELINE_PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>baseline</title>
<video id="v" muted playsinline style="width:640px"></video><script src="hls.min.js"></script>
<script>const v = document.getElementById('v'); const h = new Hls({ enableWorker: true });
h.on(Hls.Events.MANIFEST_PARSED, () => v.play()); h.loadSource('index.m3u8'); h.attachMedia(v);</script>`;
const HLS_JS = join(ROOT, 'node_modules/hls.js/dist/hls.min.js');

/** A plain static file server for the baseline: the page, hls.js, and ffmpeg's HLS files. */
function staticServer(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    if (name.includes('..') || name.includes('/')) return void res.writeHead(400).end();
    if (name === '' || name === 'index.html') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(BASELINE_PAGE);
    const path = name === 'hls.min.js' ? HLS_JS : join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return void res.writeHead(404, { 'access-control-allow-origin': '*' }).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'content-length': size, 'access-control-allow-origin': '*' });
    createReadStream(path).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** The app's loads went over WebRTC (else the figure would be HTTP's): throws when one came over HTTP. */
async function overWebrtc(page: Page, what: string): Promise<void> {
  const sources = await page.evaluate(() => document.querySelector('stateos-app')?.shadowRoot?.querySelector('stateos-player')?.loads.map((l) => l.source) ?? []);
  if (sources.length === 0 || sources.includes('http')) throw new Error(`${what}: the loads were not all over WebRTC: ${sources.join(', ') || 'none'}`);
}

async function until(page: Page, cond: (m: Measured) => boolean, ms: number, what: string): Promise<Measured> {
  const t0 = Date.now();
  for (;;) {
    const m = await page.evaluate(() => window.stateosPlayerBench!);
    if (m.fatal) throw new Error(`${what}: ${m.fatal}`);
    if (cond(m)) return m;
    if (Date.now() - t0 > ms) throw new Error(`${what}: timed out (${JSON.stringify(m)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchPlayer({ quick }: { quick: boolean }): Promise<Figure[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-player-'));
  const seconds = quick ? 25 : 75;
  const playFor = quick ? 15 : 60;
  const reps = quick ? 2 : 4;
  const cleanup: (() => unknown)[] = [];
  try {
    const file = join(tmp, 'media.mp4');
    makeMedia(file, seconds);
    const hlsDir = join(tmp, 'hls');
    execFileSync('mkdir', ['-p', hlsDir]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-c', 'copy', '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_fmp4_init_filename', 'init.mp4', join(hlsDir, 'index.m3u8')]);
    const data = join(tmp, 'data');
    execFileSync(process.execPath, [BIN, 'ingest', file, '--data', data, '--meta-size', '16M', '--data-size', '512M', '--title', 'bench clip'], { cwd: ROOT, stdio: 'ignore' });
    const build = await buildApp();
    cleanup.push(() => build.remove());
    const server = await serve(['--data', data, '--rtsp', 'off', '--meta-size', '16M', '--data-size', '512M']);
    cleanup.push(() => server.stop());
    const url = server.url;
    const [media] = (await (await fetch(`${url}/api/objects`)).json()) as { id: string }[];
    const files = await staticServer(hlsDir);
    cleanup.push(() => files.server.close());
    const appUrl = `${url}/?play=${media.id}`;
    const baseUrl = `${files.url}/`;
    log(`media: ${seconds} s 720p, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB; app ${appUrl}`);

    const firstFrames = { app: [] as number[], base: [] as number[], appWarm: [] as number[] };
    for (let i = 0; i < reps; i++) {
      for (const side of ['base', 'app'] as const) {
        const browser = await launchChromium({ args: WEBRTC_LOOPBACK_ARGS });
        try {
          await allowLocalCandidates(browser.context, url);
          await browser.context.addInitScript({ content: INSTRUMENT });
          const page = await browser.context.newPage();
          await page.goto(side === 'app' ? appUrl : baseUrl);
          const m = await until(page, (x) => x.firstFrame !== null, 30_000, `${side} first frame`);
          firstFrames[side].push(m.firstFrame!);
          if (side === 'app') {
            await overWebrtc(page, 'app cold');
            // warm: the same profile again (the app cached, the ring holding the metadata)
            await page.close();
            const again = await browser.context.newPage();
            await again.goto(appUrl);
            firstFrames.appWarm.push((await until(again, (x) => x.firstFrame !== null, 30_000, 'app warm first frame')).firstFrame!);
            await overWebrtc(again, 'app warm');
          }
        } finally {
          await browser.close();
        }
      }
      log(`run ${i + 1}/${reps}: first frame app ${firstFrames.app[i].toFixed(0)} ms (warm ${firstFrames.appWarm[i].toFixed(0)} ms), baseline ${firstFrames.base[i].toFixed(0)} ms`);
    }

    const plays: Record<'app' | 'base', Measured> = {} as never;
    for (const side of ['base', 'app'] as const) {
      const browser = await launchChromium({ args: WEBRTC_LOOPBACK_ARGS });
      try {
        await allowLocalCandidates(browser.context, url);
        await browser.context.addInitScript({ content: INSTRUMENT });
        const page = await browser.context.newPage();
        await page.goto(side === 'app' ? appUrl : baseUrl);
        await until(page, (x) => x.firstFrame !== null, 30_000, `${side} first frame`);
        const t0 = Date.now();
        plays[side] = await until(page, (x) => x.time >= playFor, (playFor + 60) * 1000, `${side} ${playFor} s play`);
        if (side === 'app') await overWebrtc(page, 'app play');
        log(`${side}: ${playFor} s played in ${((Date.now() - t0) / 1000).toFixed(1)} s wall, ${plays[side].waiting} rebuffers, ${plays[side].stalledMs.toFixed(0)} ms stalled`);
        for (const w of plays[side].waits) log(`  ${side} rebuffer ${w}`);
      } finally {
        await browser.close();
      }
    }

    const app = median(firstFrames.app);
    const base = median(firstFrames.base);
    const warm = median(firstFrames.appWarm);
    return [
      { name: 'player: time to first frame, cold (median)', value: app, unit: 'ms', baseline: base, baselineName: 'hls.js on ffmpeg HLS over HTTP', ratio: base / app, goal: '< 1000 ms' },
      { name: 'player: time to first frame, warm (median)', value: warm, unit: 'ms', baseline: base, baselineName: 'hls.js on ffmpeg HLS over HTTP', ratio: base / warm, goal: '< 1000 ms' },
      { name: `player: rebuffers over a ${playFor} s play`, value: plays.app.waiting, unit: 'rebuffers', baseline: plays.base.waiting, baselineName: 'hls.js on ffmpeg HLS over HTTP', goal: '0' },
      { name: `player: stalled over a ${playFor} s play`, value: plays.app.stalledMs, unit: 'ms', baseline: plays.base.stalledMs, baselineName: 'hls.js on ffmpeg HLS over HTTP', goal: '0' },
    ];
  } finally {
    for (const c of cleanup.reverse()) await c();
    rmSync(tmp, { recursive: true, force: true });
  }
}
