// Access control at the doors that are not the State API, against a real `stateos serve --local-admin off`
// (so loopback requests are callers like any other): alice makes a playlist and a channel through the API
// (hers alone: no ACL); anonymous HTTP callers do not see them in /api/playlists, /api/channels or by id,
// may not write over HTTP, and get 404 from the HLS gateway (ffprobe) and the RTSP gateway (ffprobe as the
// RTSP client); with a ticket alice got over the API, the same URLs under /t/<ticket>/ play (relative
// segment URLs keep the ticket) and her lists show them; a ticket for another object, a tampered and a
// garbage ticket open nothing; the server's own media stay readable by all. A media the installation made
// alice's (an ACL STU written on the data folder) is hidden from anonymous HTTP, HLS and viewers over STX
// (GetPlaylist: NOT_FOUND, and its metadata never reaches a viewer's ring until alice opens it, when it is
// sent at once), and plays for alice with a ticket.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiConnection, connectApi } from '../../../node-peer/api/connect.ts';
import { StateNode } from '../../../node-peer/node.ts';
import { makeLink } from '../../../node-peer/webrtc/index.ts';
import { ACL_TYPE, encodeAcl } from '../../../shared/api/acl.ts';
import { silentLogger } from '../../../shared/log.ts';
import { SegmentClient } from '../../../shared/media/segment-service.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/index.ts';
import { type Guid, newGuid, NIL_GUID } from '../../../shared/stu/index.ts';
import { SyncHub } from '../../../shared/sync/hub.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { serve, type Served, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'stateos-doors-'));
const small = ['--meta-size', '4M', '--data-size', '16M'];
let server: Served;
let alice: ApiConnection;
let mediaId: string;
let privateId: string;
let playlistId: string;
let ticket: string;

async function videoFrames(url: string, extra: string[] = []): Promise<number> {
  try {
    const { stdout } = await run('ffprobe', [...extra, '-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', url], { timeout: 60_000 });
    return Number(stdout.trim().split(/\s+/)[0]);
  } catch {
    return -1; // ffprobe could not open it
  }
}
const status = async (path: string, init: RequestInit = {}) => (await fetch(server.url + path, init)).status;
const json = async <T>(path: string, init: RequestInit = {}): Promise<T> => (await (await fetch(server.url + path, init)).json()) as T;
const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

beforeAll(async () => {
  const dir = join(tmp, 'a');
  const clip = makeClip(join(tmp, 'clip.mp4'), { seconds: 2, size: '160x90' });
  const ingested = await stateos(['ingest', clip, '--title', 'Public clip', '--data', dir, ...small]);
  expect(ingested.code, ingested.stderr).toBe(0);
  mediaId = ingested.stdout.split('\t')[0];
  const other = makeClip(join(tmp, 'private.mp4'), { seconds: 2, size: '160x90' });
  const ingested2 = await stateos(['ingest', other, '--title', 'Private clip', '--data', dir, ...small]);
  privateId = ingested2.stdout.split('\t')[0];
  // the installation gives the second clip to alice: an ACL STU written on the data folder
  const node = await StateNode.open({ dir, log: silentLogger });
  await node.stus.create({ type: ACL_TYPE, object: privateId as Guid, prevTs: 0n, user: NIL_GUID }, encodeAcl({ object: privateId as Guid, owner: 'alice', readers: [], writers: [] }));
  await node.close();
  server = await serve(['--data', dir, ...small, '--local-admin', 'off']);
  const cred = await stateos(['token', 'issue', '--user', 'alice', '--data', dir]);
  alice = await connectApi(server.url);
  await alice.client.login(cred.stdout.trim(), alice.binding);
  playlistId = (await alice.client.create('playlist', { title: 'Private loop', clips: [{ media: mediaId }] })).id;
  await alice.client.create('channel', { name: 'alice-tv', playlists: [playlistId] });
  ticket = await alice.client.ticket();
});
afterAll(async () => {
  alice?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the HTTP API as a door', () => {
  it('shows anonymous callers what anonymous may read, and takes no writes from them', async () => {
    expect((await json<{ id: string }[]>('/api/objects')).map((o) => o.id)).toEqual([mediaId]);
    expect(await json<unknown[]>('/api/playlists')).toEqual([]);
    expect(await json<unknown[]>('/api/channels')).toEqual([]);
    expect(await status(`/api/playlists/${playlistId}`)).toBe(404);
    expect(await status('/api/channels/alice-tv')).toBe(404);
    const post = await fetch(`${server.url}/api/playlists`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x' }) });
    expect(post.status).toBe(403);
    expect(((await post.json()) as { error: string }).error).toMatch(/State API/);
    expect(await status(`/api/playlists/${playlistId}`, { method: 'DELETE' })).toBe(403);
    // a page of another origin may read, not write: its preflight for a write gets no allow-origin
    const pre = (method: string) => fetch(`${server.url}/api/playlists`, { method: 'OPTIONS', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': method } });
    expect((await pre('GET')).headers.get('access-control-allow-origin')).toBe('*');
    expect((await pre('POST')).headers.get('access-control-allow-origin')).toBeNull();
    // except the WebRTC offers (a viewer's page may be served from anywhere): the protocol decides what comes of them
    for (const path of ['/api/peer', '/api/client']) {
      const r = await fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' } });
      expect(r.headers.get('access-control-allow-origin'), path).toBe('*');
    }
  });

  it('shows a ticket holder what its user may read; bad tickets are 401', async () => {
    expect((await json<{ id: string }[]>('/api/playlists', bearer(ticket))).map((p) => p.id)).toEqual([playlistId]);
    expect((await json<{ name: string }[]>('/api/channels', bearer(ticket))).map((c) => c.name)).toEqual(['alice-tv']);
    expect(await status(`/api/playlists/${playlistId}`, bearer(ticket))).toBe(200);
    // a ticket is for reading: writes go through the State API
    expect(await status(`/api/playlists/${playlistId}`, { method: 'DELETE', ...bearer(ticket) })).toBe(403);
    const [v, claims, mac] = ticket.split('.');
    const tampered = [v, claims.slice(0, -2) + (claims.endsWith('A') ? 'BB' : 'AA'), mac].join('.');
    expect(await status('/api/playlists', bearer(tampered))).toBe(401);
    expect(await status('/api/playlists', bearer('tk1.garbage.x'))).toBe(401);
  });
});

describe('the HLS and RTSP gateways as doors', () => {
  it('anonymous plays the server-written media and not alice\'s channel', async () => {
    expect(await videoFrames(`${server.url}/hls/media/${mediaId}/index.m3u8`)).toBeGreaterThan(40);
    expect(await status('/hls/channel/alice-tv/index.m3u8')).toBe(404);
    expect(await videoFrames(`${server.url}/hls/channel/alice-tv/index.m3u8`)).toBe(-1);
    expect(await videoFrames(`${server.rtspUrl}/channel/alice-tv`, ['-rtsp_transport', 'tcp'])).toBe(-1);
  });

  it('a ticket opens the channel over HLS and RTSP, its segments fetched under the ticket', async () => {
    const hls = await videoFrames(`${server.url}/hls/t/${ticket}/channel/alice-tv/index.m3u8`);
    expect(hls).toBeGreaterThan(40);
    const rtsp = await videoFrames(`${server.rtspUrl}/t/${ticket}/channel/alice-tv`, ['-rtsp_transport', 'tcp']);
    expect(rtsp).toBeGreaterThan(40);
  });

  it('a ticket for one object opens that object only; a bad ticket is 401', async () => {
    const forMedia = await alice.client.ticket(mediaId);
    expect(await status(`/hls/t/${forMedia}/media/${mediaId}/index.m3u8`)).toBe(200);
    expect(await status(`/hls/t/${forMedia}/channel/alice-tv/index.m3u8`)).toBe(404);
    expect(await status(`/hls/t/tk1.AAAA.AAAA/channel/alice-tv/index.m3u8`)).toBe(401);
    // anonymous has no ticket to ask for
    const anon = await connectApi(server.url);
    try {
      await anon.client.register();
      await expect(anon.client.ticket()).rejects.toMatchObject({ remoteCode: 'FORBIDDEN' });
      await expect(anon.client.ticket(playlistId)).rejects.toMatchObject({ remoteCode: 'FORBIDDEN' });
    } finally {
      anon.close();
    }
  });
});

describe('a media given to alice', () => {
  it('is hidden from anonymous HTTP, HLS and viewers, and plays for alice with a ticket', async () => {
    expect((await json<{ id: string }[]>('/api/objects')).map((o) => o.id)).not.toContain(privateId);
    expect((await json<{ id: string }[]>('/api/objects', bearer(ticket))).map((o) => o.id)).toContain(privateId);
    expect(await status(`/hls/media/${privateId}/index.m3u8`)).toBe(404);
    expect(await videoFrames(`${server.url}/hls/t/${ticket}/media/${privateId}/index.m3u8`)).toBeGreaterThan(40);
    expect((await alice.client.get(privateId as Guid)).view).toMatchObject({ title: 'Private clip' });

    // a browser viewer (the same sync and segment client, over node-datachannel) is anonymous
    const ring = await openMemoryRing(memoryDevices(1 << 20, 1 << 20));
    const hub = new SyncHub({ store: new RingStore(newGuid(), ring), role: 'viewer', mesh: false, newLink: () => makeLink('datachannel'), info: () => ({ version: 'test', apps: ['viewer'] }) });
    try {
      hub.join(server.url);
      const t0 = Date.now();
      while (hub.sessions().length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      const client = new SegmentClient(hub.sessions()[0]);
      expect(await client.playlist(mediaId as Guid)).toMatch(/#EXTM3U/);
      await expect(client.playlist(privateId as Guid)).rejects.toMatchObject({ remoteCode: 'NOT_FOUND' });
      await expect(client.segment(privateId as Guid, 'init')).rejects.toMatchObject({ remoteCode: 'NOT_FOUND' });

      // the viewer's ring holds the metadata of what anonymous may read, and nothing of the rest
      const held = async () => {
        const objects = new Set<string>();
        for await (const e of ring.scan('meta')) objects.add(e.header.object);
        return objects;
      };
      await expect.poll(async () => (await held()).has(mediaId), { timeout: 10_000 }).toBe(true);
      let objects = await held();
      for (const hidden of [privateId, playlistId]) expect(objects.has(hidden), hidden).toBe(false);
      // nor by asking for STUs by id (GetSTU): metadata and frames alike
      const origin = ((await json<{ server: string }>('/api/health')).server) as Guid;
      const got = await hub.fetch(0x0100, origin, 1, 1000, false);
      const frames = await hub.fetch(0x0101, origin, 1, 100_000, true);
      const dataObjects = new Set<string>();
      for await (const e of ring.scan('data')) dataObjects.add(e.header.object);
      expect(dataObjects.has(mediaId), `frames fetched: ${JSON.stringify(frames)}`).toBe(true);
      expect(dataObjects.has(privateId)).toBe(false);
      expect((await held()).has(privateId), `metadata fetched: ${JSON.stringify(got)}`).toBe(false);
      // alice opens her media to anonymous: the viewer is sent its metadata at once
      await alice.client.setAcl(privateId as Guid, { readers: ['anonymous'], writers: [] });
      await expect.poll(async () => (await held()).has(privateId), { timeout: 10_000 }).toBe(true);
      // a playlist created public reaches it live; one created private does not
      const open = await alice.client.create('playlist', { title: 'Open loop' }, { readers: ['anonymous'] });
      const closed = await alice.client.create('playlist', { title: 'Closed loop' });
      await expect.poll(async () => (await held()).has(open.id), { timeout: 10_000 }).toBe(true);
      objects = await held();
      expect(objects.has(closed.id)).toBe(false);
      expect(objects.has(playlistId)).toBe(false);
    } finally {
      await Promise.race([hub.close(), new Promise((r) => setTimeout(r, 5000))]);
    }
  });
});
