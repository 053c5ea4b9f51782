// The editors' requests (web/app/edit/api.ts) with a fake fetch: the address, method and body each sends; the
// server's JSON error as a typed ApiError; a network failure and a non-JSON answer said plainly. And
// whenModel (wait.ts), which waits for a change to reach the page's model.
import { describe, expect, it } from 'vitest';
import { PLAYLIST } from '../../../shared/media/stu-types.ts';
import type { BusinessObject } from '../../../shared/state/types.ts';
import { ObjectsModel } from '../../../web/app/core/objects.ts';
import { ApiError, apiBase, HttpEditApi as EditApi, errorOf } from '../../../web/app/edit/api.ts';
import { describeError, whenModel } from '../../../web/app/edit/wait.ts';

const ID = '0000002a-0000-4000-8000-000000000000';

function fakeFetch(status: number, body: string, statusText = '') {
  const calls: { url: string; method: string | undefined; type: string | undefined; body: unknown }[] = [];
  const fn = async (url: string, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, method: init?.method, type: headers['content-type'], body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
    return new Response(body, { status, statusText });
  };
  return { fn, calls };
}

describe('EditApi', () => {
  it('sends each request to the right address, as JSON', async () => {
    const f = fakeFetch(200, JSON.stringify({ id: ID, version: '5', clips: [] }));
    const api = new EditApi('http://127.0.0.1:8080', f.fn);
    await api.createPlaylist('Lobby');
    await api.editPlaylist(ID, [{ op: 'rename', title: 'Hall' }]);
    await api.deletePlaylist(ID);
    await api.createChannel({ name: 'lobby', mode: 'live', playlists: [ID] });
    await api.editChannel(ID, [{ op: 'set', mode: 'on-demand' }]);
    await api.deleteChannel('a b');
    expect(f.calls).toEqual([
      { url: 'http://127.0.0.1:8080/api/playlists', method: 'POST', type: 'application/json', body: { title: 'Lobby' } },
      { url: `http://127.0.0.1:8080/api/playlists/${ID}`, method: 'PATCH', type: 'application/json', body: { ops: [{ op: 'rename', title: 'Hall' }] } },
      { url: `http://127.0.0.1:8080/api/playlists/${ID}`, method: 'DELETE', type: undefined, body: undefined },
      { url: 'http://127.0.0.1:8080/api/channels', method: 'POST', type: 'application/json', body: { name: 'lobby', mode: 'live', playlists: [ID] } },
      { url: `http://127.0.0.1:8080/api/channels/${ID}`, method: 'PATCH', type: 'application/json', body: { ops: [{ op: 'set', mode: 'on-demand' }] } },
      { url: 'http://127.0.0.1:8080/api/channels/a%20b', method: 'DELETE', type: undefined, body: undefined },
    ]);
  });

  it('the page origin unless ?server= names another server', () => {
    expect(apiBase(undefined, 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(apiBase('', 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(apiBase('http://10.0.0.2:9000/', 'http://127.0.0.1:8080')).toBe('http://10.0.0.2:9000');
  });

  it("turns the server's {error, code} into an ApiError with its status", async () => {
    const api = new EditApi('', fakeFetch(409, JSON.stringify({ error: 'a channel named lobby exists' }), 'Conflict').fn);
    const e = await api.createChannel({ name: 'lobby', mode: 'on-demand' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ message: 'a channel named lobby exists', status: 409, code: undefined });
    expect(describeError(e)).toBe('a channel named lobby exists (HTTP 409)');
    const coded = errorOf(400, 'Bad Request', { error: 'start (8000 ms) must be before end (5000 ms)', code: 'BAD_INPUT' }, '');
    expect(coded).toMatchObject({ status: 400, code: 'BAD_INPUT' });
    expect(describeError(coded)).toBe('start (8000 ms) must be before end (5000 ms) (HTTP 400, BAD_INPUT)');
  });

  it('says what happened when the answer is not the JSON error, or no answer came', async () => {
    const html = await new EditApi('', fakeFetch(502, '<html>bad gateway</html>', 'Bad Gateway').fn).deletePlaylist(ID).catch((x: unknown) => x);
    expect(html).toMatchObject({ status: 502, message: 'HTTP 502 Bad Gateway: <html>bad gateway</html>' });
    const empty = await new EditApi('', fakeFetch(500, '').fn).deletePlaylist(ID).catch((x: unknown) => x);
    expect(empty).toMatchObject({ status: 500, message: 'HTTP 500' });
    const notJson = await new EditApi('', fakeFetch(200, 'ok').fn).deletePlaylist(ID).catch((x: unknown) => x);
    expect(notJson).toMatchObject({ status: 200, message: 'the server answered 200 without a JSON object' });
    const down = new EditApi('http://127.0.0.1:1', () => Promise.reject(new TypeError('Failed to fetch')));
    const e = await down.createPlaylist('x').catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 0, message: 'could not reach http://127.0.0.1:1: Failed to fetch' });
    expect(describeError(e)).toBe('could not reach http://127.0.0.1:1: Failed to fetch');
  });
});

describe('whenModel', () => {
  const playlist = (title: string, ts: bigint): BusinessObject => ({ id: ID, type: PLAYLIST, state: { title, clips: [] }, ts, owner: ID, deleted: false });

  it('resolves true once the model shows the change, false on timeout or abort', async () => {
    const model = new ObjectsModel();
    model.set([playlist('Old', 1n)]);
    await Promise.resolve();
    const key = `${PLAYLIST}:${ID}`;
    const renamed = () => model.get(key)?.title === 'New';
    const never = new AbortController();
    const waiting = whenModel(model, renamed, 5000, never.signal);
    model.set([playlist('New', 2n)]);
    expect(await waiting).toBe(true);
    // already true: at once
    expect(await whenModel(model, renamed, 5000, never.signal)).toBe(true);
    // never: false after the time
    const t0 = Date.now();
    expect(await whenModel(model, () => false, 50, never.signal)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    // aborted (the editor went away): false at once
    const abort = new AbortController();
    const aborted = whenModel(model, () => false, 5000, abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
  });
});
