// Signing in to the web app with a credential (web/app/shell/sign-in.ts, web/app/core/identity.ts), in real
// Chromium against a real `stateos serve --sample`: a wrong credential is refused with the server's reason
// as an alert; alice's credential signs the tab in; a playlist she creates in the page goes through the
// State API (over the page's WebSocket) and is hers, readable by anonymous (its ACL); it shows in the list
// (back over WebRTC sync, to an anonymous viewer); signing out goes back to anonymous.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApiWs } from '../../node-peer/api/websocket-client.ts';
import type { Guid } from '../../shared/stu/guid.ts';
import { serve, type Served, stateos } from '../helpers/cli.ts';
import { type AppEnv, buildApp, startAppEnv } from './helpers/app.ts';
import type { TestPage } from './helpers/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-app-sign-in-'));
const dir = join(tmp, 'a');
let server: Served;
let env: AppEnv;
let t: TestPage;

beforeAll(async () => {
  const build = await buildApp();
  server = await serve(['--data', dir, '--meta-size', '4M', '--data-size', '16M', '--sample', '--rtsp', 'off']);
  env = await startAppEnv(build, { origins: [server.url] });
  t = await env.open(`${server.url}/`);
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('signing in to the web app', () => {
  it('refuses a bad credential, signs alice in, writes as alice through the State API, and signs out', async () => {
    const header = t.page.locator('stateos-sign-in');
    await header.getByRole('button', { name: 'Sign in' }).click();
    const field = header.getByLabel('Credential (from stateos token issue)');
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill('st1.e30.AAAA.AAAA');
    await field.press('Enter');
    await expect.poll(() => header.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/MALFORMED/);

    const credential = (await stateos(['token', 'issue', '--user', 'alice', '--data', dir])).stdout.trim();
    await field.fill(credential);
    await header.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => header.locator('.who').allTextContents(), { timeout: 10_000 }).toEqual(['alice']);
    // the credential is kept for this tab only
    expect(await t.page.evaluate(() => sessionStorage.getItem('stateos-credential'))).toBe(credential);

    const playlists = t.page.locator('stateos-playlist-list');
    await playlists.getByRole('button', { name: 'New playlist' }).click();
    await playlists.getByLabel('Title of the new playlist').fill('Made by alice');
    await t.page.keyboard.press('Enter');
    await expect.poll(() => playlists.locator('tbody tr[data-id]').allInnerTexts(), { timeout: 10_000 }).toEqual([expect.stringMatching(/^Made by alice\s/)]);
    const id = (await playlists.locator('tbody tr[data-id]').getAttribute('data-id')) as Guid;

    // hers: the ACL says so, and she may change it where the server's own objects need admin
    const c = await connectApiWs(server.url);
    try {
      await c.client.login(credential, c.binding);
      expect(await c.client.getAcl(id)).toEqual({ object: id, owner: 'alice', readers: ['anonymous', '*'], writers: [] });
    } finally {
      c.close();
    }
    await env.screenshot(t.page, 'app-signed-in.png');

    await header.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => header.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(await t.page.evaluate(() => sessionStorage.getItem('stateos-credential'))).toBeNull();
    expect(t.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
