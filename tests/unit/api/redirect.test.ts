// Redirect (shared/api/redirect.ts, openApi in client.ts): the policy (subnets, load), and a client that
// follows one redirect between two State API servers over the memory transport, is never sent on a second
// time, and goes back to the first server when the other cannot be reached.
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../../shared/api/acl.ts';
import { ApiClient, type ApiConnection, openApi } from '../../../shared/api/client.ts';
import { chooseRedirect, type Redirect, subnetOf } from '../../../shared/api/redirect.ts';
import { serveApi } from '../../../shared/api/service.ts';
import { StateEngine } from '../../../shared/state/engine.ts';
import { NIL_GUID } from '../../../shared/stu/index.ts';
import { SignalingConnection } from '../../../shared/stx/connection.ts';
import { memoryChannelPair } from '../../../shared/stx/memory-transport.ts';

describe('the redirect policy', () => {
  it('keys subnets of IPv4 and IPv6 literals, and nothing else', () => {
    expect(subnetOf('10.1.2.3')).toBe('4:10.1.2');
    expect(subnetOf('::ffff:10.1.2.99')).toBe('4:10.1.2');
    expect(subnetOf('[2001:db8:0:1::5]')).toBe('6:2001:db8:0:1');
    expect(subnetOf('2001:db8::1')).toBe('6:2001:db8:0:0');
    for (const bad of ['example.com', '300.1.1.1', '1.2.3', '2001:db8::1::2', 'fe80::1%eth0', '', '::g']) expect(subnetOf(bad)).toBeUndefined();
  });

  it('sends a client to a peer in its subnet, else to a much less loaded peer, else keeps it', () => {
    const self = { url: 'http://10.0.0.1:8080', load: 3 };
    const peers = [
      { url: 'http://10.0.1.1:8080', load: 9 },
      { url: 'http://10.0.2.1:8080', load: 0 },
    ];
    expect(chooseRedirect(self, peers, '10.0.1.77')).toMatchObject({ url: 'http://10.0.1.1:8080', reason: expect.stringMatching(/nearer/) });
    // in our own subnet: stays, whatever the peers
    expect(chooseRedirect(self, peers, '10.0.0.50')).toBeUndefined();
    // elsewhere: load decides, past the margin only
    expect(chooseRedirect(self, peers, '192.168.1.5')).toBeUndefined();
    expect(chooseRedirect({ ...self, load: 17 }, peers, '192.168.1.5')).toMatchObject({ url: 'http://10.0.2.1:8080', reason: expect.stringMatching(/less loaded: 0 clients there, 17 here/) });
    expect(chooseRedirect({ ...self, load: 5 }, peers, undefined, { over: 4 })).toMatchObject({ url: 'http://10.0.2.1:8080' });
    // peers without a URL or a load are not candidates for load; no peers, no redirect
    expect(chooseRedirect({ ...self, load: 99 }, [{ load: 0 }, { url: 'http://10.0.3.1:1' }], undefined)).toBeUndefined();
    expect(chooseRedirect(self, [], '10.0.1.7')).toBeUndefined();
  });
});

describe('openApi', () => {
  /** A server reachable by URL over the memory transport, redirecting with `redirect` (or an unreachable URL). */
  const servers = new Map<string, { redirect?: Redirect; offers?: string[]; registered: string[] }>();
  const connect = async (url: string): Promise<ApiConnection> => {
    const s = servers.get(url);
    if (!s) throw new Error(`cannot reach ${url}`);
    const [a, b] = await memoryChannelPair();
    const conn = new SignalingConnection(a);
    serveApi(conn, {
      engine: new StateEngine(),
      binding: new Uint8Array(32),
      server: url,
      redirect: () => s.redirect,
      servers: () => s.offers ?? [],
      writerFor: () => {
        throw new Error('no writes');
      },
      authenticate: async () => ({ user: ANONYMOUS, anonymous: true, guid: NIL_GUID }),
    });
    const client = new ApiClient(new SignalingConnection(b));
    s.registered.push('connected');
    return { client, binding: new Uint8Array(32), close: () => client.conn.close('done') };
  };

  it('follows one redirect, and the second server does not send it on', async () => {
    servers.set('a', { redirect: { url: 'b', reason: 'less loaded' }, registered: [] });
    servers.set('b', { redirect: { url: 'a', reason: 'less loaded' }, registered: [] });
    const r = await openApi('a', connect);
    expect(r.url).toBe('b');
    expect(r.registered.server).toBe('b');
    expect(r.registered.redirect).toBeUndefined();
    expect(r.redirected).toEqual({ from: 'a', reason: 'less loaded' });
    expect(servers.get('b')!.registered).toHaveLength(1);
    r.conn.close();
    // follow: false keeps the first server and reports the redirect
    const kept = await openApi('a', connect, { follow: false });
    expect(kept.url).toBe('a');
    expect(kept.registered.redirect?.url).toBe('b');
    kept.conn.close();
  });

  it('goes back to the first server, registered as redirected, when the other cannot be reached', async () => {
    servers.set('c', { redirect: { url: 'nowhere', reason: 'nearer' }, registered: [] });
    const r = await openApi('c', connect);
    expect(r.url).toBe('c');
    expect(r.registered).toMatchObject({ server: 'c', anonymous: true });
    expect(r.registered.redirect).toBeUndefined();
    expect(servers.get('c')!.registered).toHaveLength(2);
    r.conn.close();
  });

  it('moves to an offered server whose measured round trip is much shorter, and only then', async () => {
    servers.set('http://far:1', { offers: ['http://near:1', 'http://mid:1'], registered: [] });
    servers.set('http://near:1', { offers: ['http://far:1'], registered: [] });
    servers.set('http://mid:1', { registered: [] });
    const rtt: Record<string, number> = { 'http://far:1': 40, 'http://near:1': 3, 'http://mid:1': 30 };
    const r = await openApi('http://far:1', connect, { measure: async (u) => rtt[u] });
    expect(r.url).toBe('http://near:1');
    expect(r.redirected).toEqual({ from: 'http://far:1', reason: 'nearer: 3.0 ms round trip there, 40.0 ms here' });
    expect(r.registered.servers).toBeUndefined(); // registered as redirected: nothing more offered
    r.conn.close();
    // not much better (over half), or a gain under 5 ms: stays
    for (const [far, near, mid] of [[40, 25, 30], [6, 2, 9]]) {
      const times: Record<string, number> = { 'http://far:1': far, 'http://near:1': near, 'http://mid:1': mid };
      const stay = await openApi('http://far:1', connect, { measure: async (u) => times[u] });
      expect(stay.url).toBe('http://far:1');
      expect(stay.registered.servers).toEqual(['http://near:1', 'http://mid:1']);
      stay.conn.close();
    }
  });
});
