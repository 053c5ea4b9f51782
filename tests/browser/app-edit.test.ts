// Editing playlists and channels from the web app (web/app/edit/), against a real `stateos serve --sample`:
// every step is done in the page, with the keyboard or the mouse as a user would, and then checked twice:
// the page's list shows it (it came back over WebRTC: the page never patches its own copy from the HTTP
// answer) and the server's GET /api/... agrees. A duplicate channel name shows the server's error; a
// second tab sees the edits of the first live.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-edit-'));
const args = ['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'app-edit-test-cluster-key-01'];
let server: Served;
let env: AppEnv;
let t: TestPage;
let media: { id: string; title: string };
let playlistId: string;

interface ApiClip {
  clip: string;
  media: string;
  startMs: number;
  endMs?: number;
}
interface ApiPlaylist {
  id: string;
  title: string;
  clips: ApiClip[];
}
interface ApiChannel {
  id: string;
  name: string;
  title: string;
  mode: string;
  startMs?: number;
  playlists: { id: string }[];
}

const get = async <T>(path: string): Promise<T> => {
  const r = await fetch(server.url + path);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
};
const status = async (path: string): Promise<number> => (await fetch(server.url + path)).status;
const serverPlaylist = () => get<ApiPlaylist>(`/api/playlists/${playlistId}`);
const clipSpans = (p: ApiPlaylist) => p.clips.map((c) => [c.startMs, c.endMs ?? null]);

const playlists = (p: Page = t.page) => p.locator('stateos-playlist-list');
const channels = (p: Page = t.page) => p.locator('stateos-channel-list');
/** The rows of a list as the page shows them (the editor's row excluded). */
const rows = (list: Locator) => list.locator('tbody tr[data-id]').allInnerTexts();
const editor = () => playlists().locator('stateos-playlist-editor');
const channelEditor = () => channels().locator('stateos-channel-editor');
/** The editor's clips: "1 | title | 0:02 – 0:07 | 0:05" per clip. */
const editorClips = () => editor().locator('tbody tr[data-clip]').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent!.replace(/\s+/g, ' ').trim()).join(' | ')));

/** What has focus, through the shadow roots: "TAG label-or-text". */
const focused = (p: Page = t.page) =>
  p.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName} ${el.getAttribute('aria-label') ?? el.closest('label')?.textContent?.trim().split(/\s+/).slice(0, 3).join(' ') ?? el.textContent?.trim()}` : '';
  });

/** Page errors, except the console line Chromium writes for every HTTP error answer (the 409 we provoke). */
const pageErrors = (p: TestPage) => p.errors.filter((e) => !/Failed to load resource: the server responded with a status of 409/.test(e));

async function shot(name: string, of: Locator) {
  await of.scrollIntoViewIfNeeded();
  await env.screenshot(t.page, name);
}

beforeAll(async () => {
  const build = await buildApp();
  server = await serve([...args, '--sample']);
  [media] = (await (await fetch(`${server.url}/api/objects`)).json()) as { id: string; title: string }[];
  // a channel made elsewhere, whose name the page will try to take
  const r = await fetch(`${server.url}/api/channels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'lobby', title: 'Lobby' }) });
  expect(r.status).toBe(201);
  env = await startAppEnv(build, { origins: [server.url] });
  t = await env.open(`${server.url}/`);
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('editing playlists and channels in the web app', () => {
  it('creates a playlist from the page (keyboard), then opens its editor at the clip form', async () => {
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/)]);
    expect(await rows(playlists())).toEqual([]);
    await playlists().getByRole('button', { name: 'New playlist' }).click();
    const title = playlists().getByLabel('Title of the new playlist');
    await expect.poll(() => focused()).toBe('INPUT Title of the');
    // Escape cancels: the form goes, focus goes back to the button
    await title.fill('Not this one');
    await t.page.keyboard.press('Escape');
    await expect.poll(() => playlists().locator('stateos-playlist-create').count()).toBe(0);
    expect(await focused()).toBe('BUTTON New playlist');
    expect(await get<ApiPlaylist[]>('/api/playlists')).toEqual([]);

    await t.page.keyboard.press('Enter');
    await title.fill('Edit test');
    await t.page.keyboard.press('Enter');
    await expect.poll(() => rows(playlists()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Edit test\s[\s\S]*\b0\b/)]);
    const all = await get<ApiPlaylist[]>('/api/playlists');
    expect(all.map((p) => [p.title, p.clips.length])).toEqual([['Edit test', 0]]);
    playlistId = all[0].id;
    expect(await playlists().locator('tbody tr[data-id]').getAttribute('data-id')).toBe(playlistId);
    // the editor is open, focus on the media to cut the first clip from
    await expect.poll(() => focused()).toBe('SELECT Media stateos sample');
    expect(await editor().getByText('No clips yet').count()).toBe(1);
    expect(pageErrors(t)).toEqual([]);
  });

  it('adds two clips of the sample, one trimmed, showing the pending state; a bad range is refused before sending', async () => {
    const form = editor().locator('.add stateos-clip-form');
    await form.getByLabel('Start (seconds)').fill('2');
    await form.getByLabel('End (seconds)').fill('7');
    await form.getByRole('button', { name: 'Add clip' }).click();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:02 – 0:07 | 0:05']);
    expect(clipSpans(await serverPlaylist())).toEqual([[2000, 7000]]);
    // the form is empty again, focus in it for the next clip
    expect(await form.getByLabel('Start (seconds)').inputValue()).toBe('');
    expect(await focused()).toBe('SELECT Media stateos sample');

    // a range the server would refuse is said next to the field, and nothing is sent
    await form.getByLabel('Start (seconds)').fill('8');
    await form.getByLabel('End (seconds)').fill('5');
    await form.getByLabel('End (seconds)').press('Enter');
    await expect.poll(() => form.getByRole('alert').innerText()).toBe('End (5 s) must be after start (8 s)');
    expect(await form.getByLabel('End (seconds)').getAttribute('aria-invalid')).toBe('true');
    expect(await focused()).toBe('INPUT End (seconds)');
    await form.getByLabel('Start (seconds)').fill('25');
    await form.getByLabel('End (seconds)').fill('');
    await form.getByRole('button', { name: 'Add clip' }).click();
    await expect.poll(() => form.getByRole('alert').innerText()).toBe('Start (25 s) is past the end of the media (0:20)');
    expect((await serverPlaylist()).clips).toHaveLength(1);

    // the second clip, from 10 s to the end; the request is held a moment to see the pending state
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await t.page.route(`**/api/playlists/${playlistId}`, async (route) => {
      await held;
      await route.continue();
    });
    await form.getByLabel('Start (seconds)').fill('10');
    await form.getByRole('button', { name: 'Add clip' }).click();
    const statusLine = editor().locator('p.status[role=status]');
    await expect.poll(() => statusLine.innerText()).toBe('Adding the clip…');
    expect(await form.getByRole('button', { name: 'Add clip' }).getAttribute('aria-disabled')).toBe('true');
    await shot('app-edit-pending.png', editor());
    release();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:02 – 0:07 | 0:05', '2 | stateos sample clip | 0:10 – end | 0:10']);
    await t.page.unroute(`**/api/playlists/${playlistId}`);
    expect(await statusLine.innerText()).toBe('');
    expect(clipSpans(await serverPlaylist())).toEqual([
      [2000, 7000],
      [10_000, null],
    ]);
    // both cut from the sample, the media the form offered
    expect((await serverPlaylist()).clips.map((c) => c.media)).toEqual([media.id, media.id]);
    await expect.poll(() => rows(playlists())).toEqual([expect.stringMatching(/^Edit test\s[\s\S]*\b2\b[\s\S]*0:15/)]);
    expect(pageErrors(t)).toEqual([]);
  });

  it("changes a clip's end; Escape cancels a trim", async () => {
    await editor().getByRole('button', { name: 'Trim clip 1, stateos sample clip' }).click();
    const trim = editor().locator('tr.trimming stateos-clip-form');
    await expect.poll(() => focused()).toBe('INPUT Start (seconds)');
    expect([await trim.getByLabel('Start (seconds)').inputValue(), await trim.getByLabel('End (seconds)').inputValue()]).toEqual(['2', '7']);
    await trim.getByLabel('Start (seconds)').fill('3');
    await t.page.keyboard.press('Escape');
    await expect.poll(() => editor().locator('tr.trimming').count()).toBe(0);
    expect(await focused()).toBe('BUTTON Trim clip 1, stateos sample clip');
    expect(clipSpans(await serverPlaylist())[0]).toEqual([2000, 7000]);

    await editor().getByRole('button', { name: 'Trim clip 2, stateos sample clip' }).click();
    await trim.getByLabel('End (seconds)').fill('15.5');
    await trim.getByRole('button', { name: 'Save' }).click();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:02 – 0:07 | 0:05', '2 | stateos sample clip | 0:10 – 0:16 | 0:06']);
    expect(clipSpans(await serverPlaylist())).toEqual([
      [2000, 7000],
      [10_000, 15_500],
    ]);
    expect(await focused()).toBe('BUTTON Trim clip 2, stateos sample clip');
    expect(pageErrors(t)).toEqual([]);
  });

  it('reorders: moves the second clip up, focus staying on the moved clip', async () => {
    await editor().getByRole('button', { name: 'Move clip 2, stateos sample clip up' }).click();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:10 – 0:16 | 0:06', '2 | stateos sample clip | 0:02 – 0:07 | 0:05']);
    expect(clipSpans(await serverPlaylist())).toEqual([
      [10_000, 15_500],
      [2000, 7000],
    ]);
    // it reached the top, where Up is disabled: focus is on its Down
    expect(await focused()).toBe('BUTTON Move clip 1, stateos sample clip down');
    expect(await editor().getByRole('button', { name: 'Move clip 1, stateos sample clip up' }).isDisabled()).toBe(true);
    // and back down with the keyboard
    await t.page.keyboard.press('Enter');
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:02 – 0:07 | 0:05', '2 | stateos sample clip | 0:10 – 0:16 | 0:06']);
    expect(clipSpans(await serverPlaylist())).toEqual([
      [2000, 7000],
      [10_000, 15_500],
    ]);
    expect(await focused()).toBe('BUTTON Move clip 2, stateos sample clip up');
    await editor().getByRole('button', { name: 'Move clip 2, stateos sample clip up' }).click();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:10 – 0:16 | 0:06', '2 | stateos sample clip | 0:02 – 0:07 | 0:05']);
    await expect.poll(async () => clipSpans(await serverPlaylist())).toEqual([
      [10_000, 15_500],
      [2000, 7000],
    ]);
    expect(pageErrors(t)).toEqual([]);
  });

  it('renames (Escape puts the title back), then removes a clip', async () => {
    const title = editor().getByLabel('Title', { exact: true });
    await title.fill('Something else');
    await title.press('Escape');
    expect(await title.inputValue()).toBe('Edit test');
    await title.fill('Edit test renamed');
    await title.press('Enter');
    await expect.poll(() => rows(playlists()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Edit test renamed\s/)]);
    expect((await serverPlaylist()).title).toBe('Edit test renamed');

    await editor().getByRole('button', { name: 'Remove clip 1, stateos sample clip' }).click();
    await expect.poll(editorClips, { timeout: 10_000 }).toEqual(['1 | stateos sample clip | 0:02 – 0:07 | 0:05']);
    expect(clipSpans(await serverPlaylist())).toEqual([[2000, 7000]]);
    // focus on the clip that took its place
    expect(await focused()).toBe('BUTTON Remove clip 1, stateos sample clip');
    await expect.poll(() => rows(playlists())).toEqual([expect.stringMatching(/^Edit test renamed\s[\s\S]*\b1\b[\s\S]*0:05/)]);
    await shot('app-edit-playlist.png', editor());
    expect(pageErrors(t)).toEqual([]);
  });

  it('creates a live channel with that playlist, changes its title and mode, removes and adds the playlist', async () => {
    await channels().getByRole('button', { name: 'New channel' }).click();
    const create = channels().locator('stateos-channel-create');
    await expect.poll(() => focused()).toBe('INPUT Name (in its');
    // a malformed name is said before sending
    await create.getByLabel('Name (in its address)').fill('Main Hall');
    await create.getByRole('button', { name: 'Create channel' }).click();
    await expect.poll(() => create.locator('#name-hint').innerText()).toMatch(/^Use 1 to 64 of a–z/);
    expect(await create.getByLabel('Name (in its address)').getAttribute('aria-invalid')).toBe('true');
    expect((await get<ApiChannel[]>('/api/channels')).map((c) => c.name)).toEqual(['lobby']);

    await create.getByLabel('Name (in its address)').fill('hall');
    await create.getByLabel('Title').fill('Hall');
    await create.getByLabel('Mode').selectOption('live');
    await create.getByLabel('First playlist').selectOption({ label: 'Edit test renamed' });
    await create.getByRole('button', { name: 'Create channel' }).click();
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Hall\s+hall\s+live[\s\S]*Edit test renamed[\s\S]*\/hls\/channel\/hall\/index\.m3u8/), expect.stringMatching(/^Lobby\s/)]);
    let hall = await get<ApiChannel>('/api/channels/hall');
    expect(hall).toMatchObject({ name: 'hall', title: 'Hall', mode: 'live', playlists: [{ id: playlistId }] });
    expect(hall.startMs).toBeGreaterThan(Date.now() - 60_000);
    // its editor is open, focus on its title
    await expect.poll(() => focused()).toBe('INPUT Title');

    const ed = channelEditor();
    await ed.getByLabel('Title', { exact: true }).fill('Main hall');
    await ed.getByRole('button', { name: 'Save title' }).click();
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/), expect.stringMatching(/^Main hall\s+hall\s/)]);
    expect((await get<ApiChannel>('/api/channels/hall')).title).toBe('Main hall');

    await ed.getByRole('combobox', { name: /^Mode/ }).selectOption('on-demand');
    await ed.getByRole('button', { name: 'Set mode' }).click();
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/), expect.stringMatching(/^Main hall\s+hall\s+on demand\s/)]);
    expect((await get<ApiChannel>('/api/channels/hall')).mode).toBe('on-demand');

    await ed.getByRole('button', { name: 'Remove Edit test renamed from the channel' }).click();
    await expect.poll(() => ed.getByText('No playlists: the channel plays nothing yet.').count(), { timeout: 10_000 }).toBe(1);
    expect((await get<ApiChannel>('/api/channels/hall')).playlists).toEqual([]);
    expect(await rows(channels())).toEqual([expect.stringMatching(/^Lobby\s/), expect.not.stringContaining('Edit test renamed')]);
    // focus went to the form that adds a playlist
    expect(await focused()).toBe('SELECT Add a playlist');

    await ed.getByRole('combobox', { name: /^Add a playlist/ }).selectOption({ label: 'Edit test renamed' });
    await ed.getByRole('button', { name: 'Add playlist' }).click();
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/), expect.stringMatching(/^Main hall[\s\S]*Edit test renamed/)]);
    hall = await get<ApiChannel>('/api/channels/hall');
    expect(hall.playlists.map((p) => p.id)).toEqual([playlistId]);
    await shot('app-edit-channel.png', ed);
    expect(pageErrors(t)).toEqual([]);
  });

  it("a duplicate channel name shows the server's error in the page", async () => {
    await channels().getByRole('button', { name: 'New channel' }).click();
    const create = channels().locator('stateos-channel-create');
    await create.getByLabel('Name (in its address)').fill('lobby');
    await create.getByRole('button', { name: 'Create channel' }).click();
    const alert = create.getByRole('alert');
    await expect.poll(() => alert.innerText(), { timeout: 10_000 }).toBe('Could not create the channel lobby: a channel named lobby exists (HTTP 409)');
    // focus back on the name, to change it
    expect(await focused()).toBe('INPUT Name (in its');
    expect((await get<ApiChannel[]>('/api/channels')).map((c) => c.name).sort()).toEqual(['hall', 'lobby']);
    await shot('app-edit-error.png', create);
    await create.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => create.count()).toBe(0);
    expect(await focused()).toBe('BUTTON New channel');
    expect(t.errors.filter((e) => /status of 409/.test(e))).toHaveLength(1);
    expect(pageErrors(t)).toEqual([]);
  });

  it('deletes the channel, then the playlist, each after a confirmation', async () => {
    const ed = channelEditor();
    const id = (await get<ApiChannel>('/api/channels/hall')).id;
    await ed.getByRole('button', { name: /^Delete channel: / }).click();
    // the question replaces the button; focus on Cancel; Escape puts the button back
    const confirm = ed.getByRole('group');
    await expect.poll(() => confirm.innerText()).toMatch(/^Delete the channel “Main hall” \(hall\)\? Every server removes it/);
    expect(await focused()).toBe('BUTTON Cancel');
    await t.page.keyboard.press('Escape');
    await expect.poll(() => focused()).toBe('BUTTON Delete channel: the channel “Main hall” (hall)');
    expect(await status(`/api/channels/${id}`)).toBe(200);
    await t.page.keyboard.press('Enter');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => rows(channels()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/)]);
    expect(await status(`/api/channels/${id}`)).toBe(404);
    expect(await channelEditor().count()).toBe(0);
    // focus went back to the button by the heading
    expect(await focused()).toBe('BUTTON New channel');

    await editor().getByRole('button', { name: /^Delete playlist: / }).click();
    await editor().getByRole('group').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => rows(playlists()), { timeout: 10_000 }).toEqual([]);
    expect(await status(`/api/playlists/${playlistId}`)).toBe(404);
    expect(await get<ApiPlaylist[]>('/api/playlists')).toEqual([]);
    expect(await focused()).toBe('BUTTON New playlist');
    expect(await playlists().locator('[role=status].visually-hidden').innerText()).toBe('The playlist was deleted.');
    expect(pageErrors(t)).toEqual([]);
  });

  it('an edit made in the page shows up live in a second tab', async () => {
    const second = await env.open(`${server.url}/`);
    const otherRows = (list: Locator) => rows(list);
    await expect.poll(() => otherRows(channels(second.page)), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Lobby\s/)]);
    expect(await otherRows(playlists(second.page))).toEqual([]);

    // a playlist made in the first tab appears in the second
    await playlists().getByRole('button', { name: 'New playlist' }).click();
    await playlists().getByLabel('Title of the new playlist').fill('Shared');
    await t.page.keyboard.press('Enter');
    await expect.poll(() => otherRows(playlists(second.page)), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Shared\s[\s\S]*\b0\b/)]);
    const [shared] = await get<ApiPlaylist[]>('/api/playlists');
    expect(shared.title).toBe('Shared');

    // a clip added in the first tab shows there too; the second tab's open editor follows
    await playlists(second.page).getByRole('button', { name: 'Edit Shared' }).click();
    const form = editor().locator('.add stateos-clip-form');
    await form.getByLabel('End (seconds)').fill('4');
    await form.getByRole('button', { name: 'Add clip' }).click();
    await expect.poll(() => otherRows(playlists(second.page)), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Shared\s[\s\S]*\b1\b[\s\S]*0:04/)]);
    await expect
      .poll(() => playlists(second.page).locator('stateos-playlist-editor tbody tr[data-clip]').allInnerTexts(), { timeout: 10_000 })
      .toEqual([expect.stringMatching(/^1\s+stateos sample clip\s+0:00 – 0:04\s+0:04/)]);
    expect(clipSpans(await get<ApiPlaylist>(`/api/playlists/${shared.id}`))).toEqual([[0, 4000]]);

    // and the other way: a rename in the second tab shows in the first
    const title2 = playlists(second.page).locator('stateos-playlist-editor').getByLabel('Title', { exact: true });
    await title2.fill('Shared and renamed');
    await title2.press('Enter');
    await expect.poll(() => rows(playlists()), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Shared and renamed\s/)]);
    expect(await editor().getByLabel('Title', { exact: true }).inputValue()).toBe('Shared and renamed');
    expect((await get<ApiPlaylist>(`/api/playlists/${shared.id}`)).title).toBe('Shared and renamed');
    await second.page.locator('stateos-playlist-list').scrollIntoViewIfNeeded();
    await env.screenshot(second.page, 'app-edit-second-tab.png');
    expect(pageErrors(second)).toEqual([]);
    await second.page.close();
    expect(pageErrors(t)).toEqual([]);
  });
});
