// The State API against a real `stateos serve` over WebRTC (POST /api/client, node-datachannel on both
// sides): an anonymous client lists and reads the bundled sample (written by the server itself: readable by
// everyone), may not create or change anything, sees playlists made through the HTTP API and is told of
// their changes; a user with a credential from `stateos token issue` owns what it creates, hidden from
// anonymous until its ACL opens it; forged, expired, foreign and replayed tokens are refused; a server run
// with --no-anonymous admits only users; the server keeps serving others when one client sends garbage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StxError } from '../../../shared/stx/errors.ts';
import { type ApiConnection, connectApi } from '../../../node-peer/api/connect.ts';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { loadAdminKey } from '../../../node-peer/api/identity.ts';
import { generateKeyPair, issueCredential, parseToken, presentCredential, userGuid } from '../../../shared/api/token.ts';
import { toBase64Url } from '../../../shared/util/base64.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-api-'));
let server: Served;
const open: ApiConnection[] = [];
const connect = async () => {
  const c = await connectApi(server.url);
  open.push(c);
  return c;
};
const code = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof StxError && e.remoteCode ? e.remoteCode : Promise.reject(e)),
  );

beforeAll(async () => {
  server = await serve(['--data', join(tmp, 'a'), '--meta-size', '4M', '--data-size', '16M', '--sample']);
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the State API over WebRTC', () => {
  it('an anonymous client reads what the server wrote, changes nothing, and follows changes', async () => {
    const { client, binding } = await connect();
    expect(binding.length).toBe(32);
    expect(await code(client.list('media'))).toBe('UNAUTHENTICATED');
    expect(await client.register({ device: 'vitest', app: 'api-test' })).toMatchObject({ user: 'anonymous', anonymous: true, server: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const media = await client.list('media');
    expect(media).toEqual([expect.objectContaining({ kind: 'media', view: expect.objectContaining({ title: 'stateos sample clip', duration: expect.any(Number) }) })]);
    expect((await client.get(media[0].id)).id).toBe(media[0].id);
    expect(await code(client.create('playlist', { title: 'mine' }))).toBe('FORBIDDEN');
    expect(await code(client.setAcl(media[0].id, { readers: [], writers: [] }))).toBe('FORBIDDEN');
    expect(await code(client.get('0b1ec700-0000-4000-8000-0000000000ff'))).toBe('NOT_FOUND');

    const changes: string[] = [];
    client.changes.on((c) => changes.push(`${c.kind} ${c.change}`));
    await client.subscribe({ kind: 'playlist' });
    const r = await fetch(`${server.url}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'From HTTP', clips: [{ media: media[0].id }] }) });
    expect(r.status).toBe(201);
    await expect.poll(() => changes, { timeout: 5000 }).toEqual(['playlist created']);
    const [pl] = await client.list('playlist');
    expect(pl.view).toMatchObject({ title: 'From HTTP' });
    expect(await code(client.modify(pl.id, { op: 'rename', title: 'Mine now' }))).toBe('FORBIDDEN');
  });

  it('a user with a credential owns what it makes; anonymous sees it only once the ACL says so', async () => {
    const issued = await stateos(['token', 'issue', '--user', 'alice', '--ttl', '1h', '--data', join(tmp, 'a')]);
    expect(issued.code, issued.stderr).toBe(0);
    const credential = issued.stdout.trim();
    const alice = await connect();
    expect(await alice.client.login(credential, alice.binding, { app: 'api-test' })).toMatchObject({ user: 'alice', anonymous: false });
    const [sample] = await alice.client.list('media');
    const pl = await alice.client.create('playlist', { title: "Alice's", clips: [{ media: sample.id }] });
    expect(pl.owner).toBe(await userGuid('alice'));
    const renamed = await alice.client.modify(pl.id, { op: 'rename', title: 'Renamed' }, pl.version);
    expect(renamed.view).toMatchObject({ title: 'Renamed' });
    expect(await code(alice.client.modify(pl.id, { op: 'rename', title: 'Stale' }, pl.version))).toBe('CONFLICT');

    const anon = await connect();
    await anon.client.register();
    expect(await code(anon.client.get(pl.id))).toBe('NOT_FOUND');
    expect((await anon.client.list('playlist')).map((p) => p.id)).not.toContain(pl.id);
    await alice.client.setAcl(pl.id, { readers: ['anonymous'], writers: [] });
    expect((await anon.client.get(pl.id)).view).toMatchObject({ title: 'Renamed' });
    expect(await code(anon.client.modify(pl.id, { op: 'rename', title: 'Mine' }))).toBe('FORBIDDEN');
    // the server's own objects stay unchangeable by users without an ACL
    expect(await code(alice.client.setAcl(sample.id, { readers: [], writers: [] }))).toBe('FORBIDDEN');
  });

  it('refuses forged, expired, foreign and replayed tokens; the connection stays anonymous-free', async () => {
    const key = (await loadAdminKey(join(tmp, 'a'), false))!;
    const now = Math.floor(Date.now() / 1000);
    const good = (await issueCredential(key.seed, { user: 'mallory', ttlS: 600 })).credential;
    const expired = (await issueCredential(key.seed, { user: 'mallory', ttlS: 600, now: now - 3600 })).credential;
    const stranger = await generateKeyPair();
    const foreign = (await issueCredential(stranger.seed, { user: 'admin', ttlS: 600 })).credential;
    const [v, , sig, holder] = good.split('.');
    const forgedClaims = new TextEncoder().encode(JSON.stringify({ ...parseToken(good.split('.').slice(0, 3).join('.')).claims, sub: 'admin' }));
    const forged = [v, toBase64Url(forgedClaims), sig, holder].join('.');

    const refusedWith = async (credential: string): Promise<string> => {
      const c = await connect();
      const e = await c.client.login(credential, c.binding).then(
        () => undefined,
        (x: unknown) => x as StxError,
      );
      expect(e?.remoteCode).toBe('UNAUTHENTICATED');
      expect(await code(c.client.list('media'))).toBe('UNAUTHENTICATED');
      return /\b(EXPIRED|NOT_YET_VALID|UNKNOWN_ISSUER|BAD_SIGNATURE|BAD_PROOF|MALFORMED)\b/.exec(e!.message)?.[1] ?? e!.message;
    };
    expect(await refusedWith(expired)).toBe('EXPIRED');
    expect(await refusedWith(foreign)).toBe('UNKNOWN_ISSUER');
    expect(await refusedWith(forged)).toBe('BAD_SIGNATURE');

    // what mallory sent on her own connection, replayed on another: the proof is bound to the first
    const first = await connect();
    const shown = await presentCredential(good, first.binding);
    expect((await first.client.register(shown)).user).toBe('mallory');
    const second = await connect();
    expect(await code(second.client.register(shown))).toBe('UNAUTHENTICATED');
    expect(await code(second.client.register({ token: shown.token }))).toBe('UNAUTHENTICATED');
  });

  it('a client sending garbage is dropped; the others are served', async () => {
    const bad = await connect();
    const good = await connect();
    await good.client.register();
    for (let i = 0; i < 40; i++) {
      try {
        bad.client.conn.channel.send(new Uint8Array([0xde, 0xad, 0xbe, 0xef, i]));
      } catch {
        break; // closed by the server: what should happen
      }
    }
    await expect.poll(() => bad.client.conn.isClosed, { timeout: 10_000 }).toBe(true);
    expect((await good.client.list('media')).length).toBe(1);
    const bad400 = await fetch(`${server.url}/api/client`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sdp: 'v=0 not an offer' }) });
    expect(bad400.status, await bad400.clone().text()).toBe(400);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});

describe('--no-anonymous', () => {
  it('admits users with a credential and refuses clients without one', async () => {
    const dir = join(tmp, 'closed');
    const closed = await serve(['--data', dir, '--meta-size', '4M', '--data-size', '16M', '--no-anonymous', '--rtsp', 'off']);
    try {
      const issued = await stateos(['token', 'issue', '--user', 'bob', '--data', dir]);
      const anon = await connectApi(closed.url);
      open.push(anon);
      const e = await anon.client.register().then(() => undefined, (x: unknown) => x as StxError);
      expect(e?.remoteCode).toBe('UNAUTHENTICATED');
      expect(e?.message).toMatch(/NO_TOKEN/);
      const bob = await connectApi(closed.url);
      open.push(bob);
      expect(await bob.client.login(issued.stdout.trim(), bob.binding)).toMatchObject({ user: 'bob', anonymous: false });
      expect(await bob.client.list('media')).toEqual([]);
    } finally {
      await closed.stop();
    }
  });
});
