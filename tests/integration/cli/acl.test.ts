// `stateos acl`, `ingest --private` and the CLI's identity through a server (--server, --credential), against
// real processes: media ingested --private are hidden from anonymous API clients and readable by their
// owner; offline `acl show|set` on the data folder; through the server, what alice creates is readable by
// anonymous by default and hers alone with --private; `acl grant` lets bob read it, `acl revoke` takes it
// back; bob cannot change alice's ACL; an anonymous CLI is refused writes with advice; a bad credential is
// refused with the reason; an ACL set offline on a stopped server's folder holds once it serves again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApiWs } from '../../../node-peer/api/websocket-client.ts';
import type { ApiConnection } from '../../../shared/api/client.ts';
import type { Guid } from '../../../shared/stu/guid.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-acl-'));
const data = join(tmp, 'data');
const small = ['--meta-size', '4M', '--data-size', '16M'];
let server: Served;
let publicId = '';
let privateId = '';
const cred: Record<string, string> = {};
const conns: ApiConnection[] = [];

const run = async (args: string[], code = 0) => {
  const r = await stateos(args);
  expect(r.code, `stateos ${args.join(' ')}\n${r.stderr}`).toBe(code);
  return r;
};
/** An API client (WebSocket) as `user` (a credential file's user) or anonymous. */
async function client(user?: string) {
  const c = await connectApiWs(server.url);
  conns.push(c);
  if (user) await c.client.login((await import('node:fs')).readFileSync(cred[user], 'utf8').trim(), c.binding);
  else await c.client.register();
  return c.client;
}
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof StxError ? (e.remoteCode ?? e.code) : Promise.reject(e)),
  );

beforeAll(async () => {
  const clip = makeClip(join(tmp, 'a.mp4'), { seconds: 1, size: '160x90' });
  publicId = (await run(['ingest', clip, '--title', 'Public clip', '--data', data, ...small])).stdout.split('\t')[0];
  privateId = (await run(['ingest', clip, '--title', 'Alice clip', '--private', '--owner', 'alice', '--data', data, ...small])).stdout.split('\t')[0];
  for (const u of ['alice', 'bob']) {
    cred[u] = join(tmp, `${u}.cred`);
    writeFileSync(cred[u], (await run(['token', 'issue', '--user', u, '--data', data])).stdout);
  }
});
afterAll(async () => {
  for (const c of conns) c.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('stateos acl', () => {
  it('shows and sets ACLs on the data folder (offline, as the installation)', async () => {
    expect((await run(['acl', 'show', 'Alice clip', '--data', data])).stdout).toBe(`${privateId}\towner alice\treaders -\twriters -\n`);
    expect((await run(['acl', 'show', publicId.slice(0, 8), '--data', data])).stdout).toMatch(/owner \(none: the server's own object\)/);
    const set = await run(['acl', 'set', 'Public clip', '--readers', 'anonymous,*', '--writers', 'bob', '--json', '--data', data]);
    expect(JSON.parse(set.stdout)).toEqual({ object: publicId, owner: 'admin', readers: ['anonymous', '*'], writers: ['bob'] });
    const bad = await run(['acl', 'set', 'Public clip', '--readers', 'not a name', '--data', data], 2);
    expect(bad.stderr).toMatch(/reader "not a name"/);
    await run(['acl', 'show', 'No such thing', '--data', data], 1);
  });

  it('hides private media from anonymous API clients; their owner reads them', async () => {
    server = await serve(['--data', data, ...small, '--rtsp', 'off']);
    const anon = await client();
    expect((await anon.list('media')).map((m) => m.id)).toEqual([publicId]);
    expect(await code(anon.get(privateId as Guid))).toBe('NOT_FOUND');
    const alice = await client('alice');
    expect((await alice.list('media')).map((m) => m.id).sort()).toEqual([publicId, privateId].sort());
    // the offline ACL: bob may write the public clip's metadata chain now, alice may not
    expect((await alice.getAcl(publicId as Guid)).writers).toEqual(['bob']);
  });

  it('through the server: public by default, --private, grant and revoke, and only the owner changes the ACL', async () => {
    const as = (u: string) => ['--server', server.url, '--credential', cred[u], '--data', join(tmp, 'elsewhere')];
    const shared = (await run(['playlist', 'create', 'Alice shares', 'Public clip', ...as('alice')])).stdout.split('\t')[0];
    const mine = (await run(['playlist', 'create', 'Alice keeps', 'Public clip', '--private', ...as('alice')])).stdout.split('\t')[0];
    const anon = await client();
    expect((await anon.list('playlist')).map((p) => p.id)).toEqual([shared]);
    expect((await run(['acl', 'show', 'Alice shares', ...as('bob')])).stdout).toBe(`${shared}\towner alice\treaders anonymous,*\twriters -\n`);
    const bob = await client('bob');
    expect(await code(bob.get(mine as Guid))).toBe('NOT_FOUND');
    // the CLI anonymous (no credential, no admin key in its --data): it reads, its writes are refused with advice
    const nobody = ['--server', server.url, '--data', join(tmp, 'elsewhere')];
    expect((await run(['playlist', 'list', ...nobody])).stdout).toMatch(/Alice shares/);
    expect((await run(['playlist', 'create', 'By nobody', ...nobody], 1)).stderr).toMatch(/FORBIDDEN: anonymous clients may not create objects \(you are anonymous: give a credential with --credential FILE.*stateos token issue/);
    expect((await run(['acl', 'grant', shared, 'read', 'bob', ...nobody], 1)).stderr).toMatch(/FORBIDDEN.*you are anonymous/);

    expect((await run(['acl', 'grant', 'Alice keeps', 'read', 'bob', ...as('alice')])).stdout).toMatch(/owner alice\treaders bob\twriters -/);
    expect((await bob.get(mine as Guid)).view).toMatchObject({ title: 'Alice keeps' });
    expect(await code(bob.modify(mine as Guid, { op: 'rename', title: 'Bob was here' }))).toBe('FORBIDDEN');
    expect((await run(['acl', 'grant', mine, 'write', 'bob', ...as('alice')])).stdout).toMatch(/readers bob\twriters bob/);
    expect((await bob.modify(mine as Guid, { ops: [{ op: 'rename', title: 'Bob was here' }] })).view).toMatchObject({ title: 'Bob was here' });
    // a writer may not change the ACL: that is the owner's
    const denied = await run(['acl', 'grant', mine, 'write', 'bob', ...as('bob')], 1);
    expect(denied.stderr).toMatch(/FORBIDDEN.*\(as bob\)/);
    await run(['acl', 'revoke', mine.slice(0, 8), 'bob', ...as('alice')]);
    expect(await code(bob.get(mine as Guid))).toBe('NOT_FOUND');
    expect((await run(['acl', 'show', mine, ...as('alice')])).stdout).toBe(`${mine}\towner alice\treaders -\twriters -\n`);

    // the data folder is the server's while it runs: acl without --server is refused with advice
    expect((await run(['acl', 'set', mine, '--readers', 'bob', '--data', data], 1)).stderr).toMatch(/a running server.*--server http:\/\/HOST:PORT/);
    // flags that only mean something through a server are refused on the data folder
    expect((await run(['playlist', 'create', 'X', '--private', '--data', data], 2)).stderr).toMatch(/--private goes with --server/);
    expect((await run(['acl', 'show', mine, '--credential', cred.alice, '--data', data], 2)).stderr).toMatch(/--credential goes with --server/);

    // an object the server wrote itself (the HTTP API from this machine): admin may change it, alice may not
    const r = await fetch(`${server.url}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Server made' }) });
    const made = ((await r.json()) as { id: string }).id;
    expect((await run(['playlist', 'rename', made, 'Renamed by admin', '--server', server.url, '--data', data])).stdout).toMatch(/Renamed by admin/);
    expect((await run(['playlist', 'rename', made, 'By alice', ...as('alice')], 1)).stderr).toMatch(/FORBIDDEN/);

    // a credential that is not one
    writeFileSync(join(tmp, 'bad.cred'), 'st1.e30.AAAA.AAAA\n');
    const bad = await run(['playlist', 'list', '--server', server.url, '--credential', join(tmp, 'bad.cred')], 1);
    expect(bad.stderr).toMatch(/refused the credential|MALFORMED|credential/);
  });

  it('sets an ACL on a stopped server\'s folder; the restarted server enforces it', async () => {
    await server.stop();
    const set = await run(['acl', 'set', 'Alice shares', '--readers', 'bob', '--json', '--data', data]);
    // the owner stays alice (the ACL she had); the installation may change any ACL offline
    expect(JSON.parse(set.stdout)).toMatchObject({ owner: 'alice', readers: ['bob'], writers: [] });
    server = await serve(['--data', data, ...small, '--rtsp', 'off']);
    const anon = await client();
    expect((await anon.list('playlist')).map((p) => (p.view as { title: string }).title)).not.toContain('Alice shares');
    const bob = await client('bob');
    expect((await bob.list('playlist')).map((p) => (p.view as { title: string }).title)).toContain('Alice shares');
    // the private media stays hidden from anonymous across restarts; its owner still reads it
    expect(await code(anon.get(privateId as Guid))).toBe('NOT_FOUND');
    expect((await (await client('alice')).get(privateId as Guid)).view).toMatchObject({ title: 'Alice clip' });
  });
});
