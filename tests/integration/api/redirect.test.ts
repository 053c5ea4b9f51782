// Redirect between real servers: B joins A; A runs with --redirect-over 0, so a client registering there
// (A serving it, B nobody, as B's last Register said) is sent to B, follows (openApi), and is served by B
// (the server GUID it registers with), which does not send it back even though it also runs with
// --redirect-over 0 (one redirect, never a chain). A client that says it will not follow stays on A.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../../node-peer/api/connect.ts';
import { openApi } from '../../../shared/api/client.ts';
import { serve, type Served } from '../../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-redirect-'));
const small = ['--meta-size', '4M', '--data-size', '16M', '--rtsp', 'off', '--sync-interval', '300', '--redirect-over', '0'];
let a: Served;
let b: Served;
const guidOf = async (s: Served) => ((await (await fetch(`${s.url}/api/health`)).json()) as { server: string }).server;

beforeAll(async () => {
  a = await serve(['--data', join(tmp, 'a'), ...small, '--sample']);
  b = await serve(['--data', join(tmp, 'b'), ...small, '--peer', a.url, '--cluster-key', readKey()]);
  // until A has B's info (its URL and load) from a Register
  const t0 = Date.now();
  for (;;) {
    const peers = ((await (await fetch(`${a.url}/api/peers`)).json()) as { peers: { info?: { url?: string; load?: number } }[] }).peers;
    if (peers.some((p) => p.info?.url === b.url && p.info.load !== undefined)) break;
    if (Date.now() - t0 > 20_000) throw new Error('A never learnt B\'s URL and load');
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

function readKey(): string {
  const m = /cluster key \(kept in [^)]*\): (\S+)/.exec(a.stdout());
  if (!m) throw new Error(`no cluster key in A's output: ${a.stdout()}`);
  return m[1];
}

describe('redirect', () => {
  // first, while B serves nobody (its load as A last heard it is 0)
  it('a client that does not follow stays where it registered', async () => {
    const r = await openApi(a.url, (url) => connectApi(url), { follow: false });
    try {
      expect(r.url).toBe(a.url);
      expect(r.registered.server).toBe(await guidOf(a));
      expect(r.registered.redirect?.url).toBe(b.url);
      // the servers it could measure (with no redirect, openApi moves to one much nearer by round trip)
      expect(r.registered.servers).toBeUndefined(); // offered only when there is no redirect
    } finally {
      r.conn.close();
    }
  });
  it('sends a client registering on a busier server to the less loaded one, once', async () => {
    const r = await openApi(a.url, (url) => connectApi(url), { app: 'redirect-test' });
    try {
      expect(r.redirected).toMatchObject({ from: a.url, reason: expect.stringMatching(/less loaded: 0 clients there, 1 here/) });
      expect(r.url).toBe(b.url);
      expect(r.registered.server).toBe(await guidOf(b));
      expect(r.registered.redirect).toBeUndefined();
      // served there: B has the sample by now (replicated metadata)
      await expect.poll(async () => (await r.conn.client.list('media')).length, { timeout: 10_000 }).toBe(1);
    } finally {
      r.conn.close();
    }
  });

});
