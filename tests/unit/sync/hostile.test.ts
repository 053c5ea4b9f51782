// Bytes from a peer never crash a server: an admitted peer that sends random sync messages (random
// methods, attributes and bodies, fast-check) is dropped after too many invalid ones, stores nothing it
// should not, and the server keeps serving other peers; a peer that skips Hello gets nothing.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { newGuid } from '../../../shared/stu/index.ts';
import { encodeVector } from '../../../shared/sync/wire.ts';
import { closeAll, connect, heldIds, makeServer, type TestServer, until, write } from './helpers.ts';

const live: TestServer[] = [];
afterEach(async () => closeAll(live.splice(0)));
const server = async () => {
  const s = await makeServer({ syncIntervalMs: 200 });
  live.push(s);
  return s;
};

const attrValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('0100', 'ffff', '1', '0', '-1', '99999999999999999999', newGuid(), 'AAAAAAAAAAAAAAAAAAAAAA'), fc.nat().map(String));
const message = fc.record({
  asRequest: fc.boolean(),
  method: fc.constantFrom('Register', 'UpdateSTU', 'GetSTU', 'Hello', 'Peers', 'Offer', 'Nope'),
  attrs: fc.dictionary(fc.constantFrom('type', 'origin', 'seq', 'from', 'to', 'data', 'stream', 'key', 'rate', 'server', 'role', 'to', 'hop'), attrValue, { maxKeys: 6 }),
  body: fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.constant(encodeVector([{ type: 0x200, origin: newGuid(), upTo: 2 ** 53 - 1 }])), fc.constant(new Uint8Array(0))),
});

describe('sync with a hostile peer', () => {
  it('drops a peer that sends garbage and keeps serving the others', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 20, maxLength: 60 }), async (msgs) => {
        const [a, bad] = [await server(), await server()];
        await write(a, newGuid(), { k: 'v' });
        const c = await connect(a, bad);
        await Promise.all([c.a.admitted(), c.b.admitted()]);
        for (const m of msgs) {
          if (c.b.conn.isClosed) break;
          try {
            const attrs = Object.fromEntries(Object.entries(m.attrs).filter(([, v]) => ![...v].some((ch) => ch.charCodeAt(0) < 32 || '<>&"'.includes(ch))));
            if (m.asRequest) void c.b.conn.request(m.method, { attrs }, m.body).catch(() => undefined);
            else c.b.conn.send(m.method, { attrs }, m.body);
          } catch {
            // our own encoder refused it: nothing went out
          }
        }
        await new Promise((r) => setTimeout(r, 100));
        // whatever happened to that session, a is whole: a fresh peer still syncs with it
        const good = await server();
        const g = await connect(good, a);
        await Promise.all([g.a.admitted(), g.b.admitted()]);
        await until(() => JSON.stringify(heldIds(good)).includes(a.guid), 5000, 'a good peer syncs');
        // a stored no STU invented by the hostile peer
        expect(a.store.held.vector().filter((e) => e.origin !== a.guid && e.origin !== bad.guid)).toEqual([]);
        await closeAll(live.splice(0));
      }),
      { numRuns: 20, seed: 4242 },
    );
  }, 120_000);

  it('closes a session whose peer exceeds the invalid-message limit', async () => {
    const [a, bad] = [await server(), await server()];
    const c = await connect(a, bad);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    for (let i = 0; i < 40; i++) c.b.conn.send('UpdateSTU', {}, new Uint8Array(600).fill(i));
    await until(() => c.a.state === 'closed', 5000, 'a drops the peer');
    expect(c.a.conn.stats.invalid).toBeGreaterThan(16);
  });

  it('answers nothing but Hello before admission', async () => {
    const a = await server();
    const b = await makeServer({ key: 'some-other-cluster-key-000' });
    live.push(b);
    await write(a, newGuid(), { secret: 'yes' });
    const c = await connect(a, b);
    // b skips admission and asks for everything
    const asked = c.b.conn.request('Register', { attrs: { stream: '7', key: 'AAAAAAAAAAAAAAAAAAAAAA', role: 'server', version: '1' } }, encodeVector([]));
    await expect(asked).rejects.toMatchObject({ code: expect.stringMatching(/REMOTE_ERROR|CLOSED/) });
    expect(c.a.stats.stusOut).toBe(0);
    await expect(c.a.admitted()).rejects.toBeTruthy();
  });
});
