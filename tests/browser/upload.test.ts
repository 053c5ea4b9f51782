// Upload from the web app, in Chromium, against real state servers: a 4 s WebM/VP9 clip dropped on the
// Objects view's drop zone (a real drop event with a DataTransfer built in the page) goes to server A over a
// WebRTC data channel, shows its progress to done with a Play link, is listed, reaches server B joined to A,
// and plays there (ffprobe on B's HLS: the source's duration and frame count). A text file chosen with the
// file input gets a clear message and leaves nothing behind; a page with no live session says so.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-upload-app-'));
const small = ['--meta-size', '4M', '--data-size', '32M', '--cluster-key', 'upload-app-cluster-key-0001'];
let a: Served;
let b: Served;
let env: AppEnv;
let t: TestPage;
const clip = join(tmp, 'Dropped clip.webm');
const notes = join(tmp, 'notes.txt');

type Obj = { id: string; title: string };
const objects = async (s: Served): Promise<Obj[]> => (await (await fetch(`${s.url}/api/objects`)).json()) as Obj[];
const probe = async (target: string) => {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames:format=duration', '-of', 'json', target], { timeout: 60_000 });
  const j = JSON.parse(stdout) as { streams: { nb_read_frames: string }[]; format: { duration: string } };
  return { frames: Number(j.streams[0].nb_read_frames), duration: Number(j.format.duration) };
};

/** The upload rows as the page shows them. */
const rows = () =>
  t.page.locator('stateos-upload li').evaluateAll((lis) =>
    lis.map((li) => ({
      state: li.getAttribute('data-state') ?? '',
      text: (li as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
      value: li.querySelector('progress')!.value,
      play: li.querySelector('a')?.getAttribute('href') ?? '',
    })),
  );

beforeAll(async () => {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '4', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '600k', clip]);
  writeFileSync(notes, 'Shopping list: milk, eggs, a new projector for the lobby.\n'.repeat(200));
  const build = await buildApp();
  a = await serve(['--data', join(tmp, 'a'), ...small]);
  b = await serve(['--data', join(tmp, 'b'), ...small, '--peer', a.url, '--media-wait', '20000']);
  env = await startAppEnv(build, { origins: [a.url] });
  t = await env.open(`${a.url}/`);
});
afterAll(async () => {
  await env?.close();
  await Promise.all([a, b].map((s) => s?.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('upload from the web app', () => {
  it('a dropped WebM clip is sent, ingested, listed, reaches server B and plays there', async () => {
    const zone = t.page.locator('stateos-upload section');
    await expect.poll(() => zone.locator('h2').innerText()).toBe('Upload media');
    // keyboard and screen readers: a real button, and a labelled input behind it
    expect(await t.page.getByRole('button', { name: 'Choose files…' }).count()).toBe(1);
    expect(await t.page.locator('stateos-upload input[type=file]').getAttribute('aria-label')).toBe('Media files to upload');

    // every state the row goes through, as the component's queue reports it
    await t.page.evaluate(() => {
      const up = document.querySelector('stateos-app')!.shadowRoot!.querySelector('stateos-lists')!.shadowRoot!.querySelector('stateos-upload')!;
      const seen: { state: string; sent: number; ingested: number }[] = [];
      (window as unknown as { seen: typeof seen }).seen = seen;
      up.queue.changed.on((i) => {
        if (i) seen.push({ state: i.state, sent: i.sent, ingested: i.ingested });
      });
    });
    const bytes = readFileSync(clip).toString('base64');
    await zone.evaluate((el, b64) => {
      const bin = atob(b64);
      const data = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], 'Dropped clip.webm', { type: 'video/webm' }));
      for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
    }, bytes);
    // progress shows, then done with a link to play it
    await expect.poll(async () => (await rows()).length).toBe(1);
    await expect.poll(async () => (await rows())[0].state, { timeout: 20_000 }).toBe('done');
    const seen = await t.page.evaluate(() => (window as unknown as { seen: { state: string; sent: number; ingested: number }[] }).seen);
    const size = readFileSync(clip).length;
    // sending with the bytes counted up to the whole file, then ingesting on the server, then done
    expect(seen.map((s) => s.state).filter((s, i, all) => s !== all[i - 1])).toEqual(['waiting', 'sending', 'ingesting', 'done']);
    expect(seen.filter((s) => s.state === 'sending').at(-1)!.sent).toBe(size);
    const [row] = await rows();
    expect(row.value).toBe(100);
    expect(row.text).toMatch(/^Dropped clip\.webm\s*[\d.]+ KiB done: play “Dropped clip” \(100 frames, [\d.]+ s\)$/);
    const id = /play=([0-9a-f-]{36})/.exec(row.play)?.[1];
    expect(id).toBeDefined();
    // listed in the page (the metadata came back over the viewer's session) and on A
    await expect.poll(() => t.page.locator(`stateos-media-list tr[data-id="${id}"] .title`).innerText().catch(() => ''), { timeout: 10_000 }).toBe('Dropped clip');
    expect((await objects(a)).find((o) => o.id === id)?.title).toBe('Dropped clip');
    expect(readdirSync(join(tmp, 'a', 'uploads'))).toEqual([]);
    expect(await t.page.locator('stateos-upload [role=status]').innerText()).toBe('Dropped clip.webm: uploaded as Dropped clip');
    await env.screenshot(t.page, 'upload-done.png');

    // server B has it (metadata replicated) and plays it: frames come from A by data discovery
    await expect.poll(async () => (await objects(b)).some((o) => o.id === id), { timeout: 20_000 }).toBe(true);
    const source = await probe(clip);
    const played = await probe(`${b.url}/hls/media/${id}/index.m3u8`);
    expect(played.frames).toBe(source.frames);
    expect(played.duration).toBeCloseTo(source.duration, 0);

    // the Play link opens the player on it
    await t.page.locator('stateos-upload li a').click();
    await expect.poll(() => t.page.url()).toBe(`${a.url}/?play=${id}`);
    await expect.poll(() => t.page.locator('stateos-player h2').innerText(), { timeout: 10_000 }).toBe('Dropped clip');
    await t.page.getByRole('button', { name: 'Close the player' }).click();
    await expect.poll(() => t.page.url()).toBe(`${a.url}/`);
    expect(t.errors).toEqual([]);
  });

  it('a text file gets a clear message, and leaves no object and no file behind', async () => {
    const before = (await objects(a)).length;
    await t.page.locator('stateos-upload input[type=file]').setInputFiles(notes);
    await expect.poll(async () => (await rows()).find((r) => r.text.startsWith('notes.txt'))?.state, { timeout: 20_000 }).toBe('failed');
    const row = (await rows()).find((r) => r.text.startsWith('notes.txt'))!;
    expect(row.text).toMatch(/^notes\.txt\s*[\d.]+ KiB not a media file/);
    expect(await t.page.locator('stateos-upload [role=status]').innerText()).toMatch(/^notes\.txt: not a media file/);
    expect((await objects(a)).length).toBe(before);
    expect(readdirSync(join(tmp, 'a', 'uploads'))).toEqual([]);
    await env.screenshot(t.page, 'upload-not-media.png');
    expect(t.errors).toEqual([]);
  });

  it('without a live session the page says so instead of failing silently', async () => {
    // served by A, joining a server that is not there
    const p = await env.open(`${a.url}/?server=${encodeURIComponent('http://127.0.0.1:9')}`, { live: false });
    const zone = p.page.locator('stateos-upload section');
    await expect.poll(() => zone.locator('.offline').innerText().catch(() => ''), { timeout: 15_000 }).toMatch(/^Not connected to the server \((connecting|reconnecting)/);
    await p.page.locator('stateos-upload input[type=file]').setInputFiles(clip);
    await expect.poll(() => p.page.locator('stateos-upload li').getAttribute('data-state')).toBe('failed');
    expect(await p.page.locator('stateos-upload li .status').innerText()).toMatch(/^not connected to a server: the page has no live session with a state server/);
    await env.screenshot(p.page, 'upload-offline.png');
    await p.page.close();
  });
});
