import { afterEach, describe, expect, it } from 'vitest';
import { Flag, newGuid } from '../../../shared/stu/index.ts';
import { closeAll, connect, heldIds, makeServer, objects, type TestServer, until, write } from './helpers.ts';
import { KV, USERS } from '../state/helpers.ts';

const live: TestServer[] = [];
async function server(opts: Parameters<typeof makeServer>[0] = {}): Promise<TestServer> {
  const s = await makeServer(opts);
  live.push(s);
  return s;
}
afterEach(async () => {
  await closeAll(live.splice(0));
});

const converged = (...ss: TestServer[]) => ss.every((s) => JSON.stringify(heldIds(s)) === JSON.stringify(heldIds(ss[0])) && objects(s) === objects(ss[0]));

describe('sync between two servers', () => {
  it('admits both sides and catches each up on what it lacks, over a data channel', async () => {
    const [a, b] = [await server({ syncIntervalMs: 60_000 }), await server({ syncIntervalMs: 60_000 })];
    const objs = [newGuid(), newGuid(), newGuid()];
    for (let i = 0; i < 60; i++) await write(a, objs[i % 3], { [`a${i}`]: String(i) });
    for (let i = 0; i < 25; i++) await write(b, objs[i % 2], { [`b${i}`]: String(i) });
    const c = await connect(a, b);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    await until(() => converged(a, b), 5000, 'convergence');
    expect(a.engine.list()).toHaveLength(3);
    expect(b.store.held.vector().find((e) => e.origin === a.guid)?.upTo).toBe(60);
    expect(a.store.held.vector().find((e) => e.origin === b.guid)?.upTo).toBe(25);
    // each side streamed exactly what the other lacked
    await until(() => c.a.lastOut?.done === true && c.b.lastOut?.done === true, 5000, 'both transfers confirmed');
    expect(c.a.stats.stusOut).toBe(60);
    expect(c.b.stats.stusOut).toBe(25);
  });

  it('sends new metadata at once as UpdateSTU, without waiting for the next Register', async () => {
    const [a, b] = [await server({ syncIntervalMs: 60_000 }), await server({ syncIntervalMs: 60_000 })];
    const c = await connect(a, b);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    const obj = newGuid();
    for (let i = 0; i < 100; i++) await write(a, obj, { k: String(i) });
    await until(() => converged(a, b), 5000, 'live updates');
    expect(b.engine.get(obj)?.state).toEqual({ k: '99' });
    // 100 more on as many objects at once: their UpdateSTUs share batches
    await Promise.all(Array.from({ length: 100 }, (_, i) => write(a, newGuid(), { n: String(i) })));
    await until(() => converged(a, b), 5000, 'concurrent updates');
    expect(c.a.stats.relayed).toBe(200);
    // batched: far fewer signaling batches than messages
    expect(c.b.conn.stats.batchesIn).toBeLessThan(c.b.conn.stats.messagesIn);
  });

  it('refuses a server with the wrong cluster key: both ends close and nothing moves', async () => {
    const a = await server();
    const b = await server({ key: 'another-cluster-key-9876543210' });
    await write(a, newGuid(), { secret: 'a' });
    await write(b, newGuid(), { secret: 'b' });
    const c = await connect(a, b);
    await expect(c.a.admitted()).rejects.toMatchObject({ code: 'REFUSED' });
    await expect(c.b.admitted()).rejects.toMatchObject({ code: 'REFUSED' });
    expect(c.a.endCode).toBe('refused');
    expect(c.b.endCode).toBe('refused');
    expect(a.store.held.vector().map((e) => e.origin)).toEqual([a.guid]);
    expect(b.store.held.vector().map((e) => e.origin)).toEqual([b.guid]);
    expect(c.a.stats.stusIn + c.b.stats.stusIn).toBe(0);
  });

  it('reaches the same collision verdict on both servers when both write the same object at once', async () => {
    const [a, b] = [await server(), await server()];
    const obj = newGuid();
    await write(a, obj, { base: '1' });
    let c = await connect(a, b);
    await until(() => converged(a, b), 5000, 'base');
    await c.a.unregister();
    // both write on the same tip while apart
    await write(a, obj, { seat: 'alice' });
    await write(b, obj, { seat: 'bob' });
    c = await connect(a, b);
    await until(() => converged(a, b), 5000, 'after collision');
    const [ca, cb] = [a.engine.collisions(), b.engine.collisions()];
    expect(ca).toHaveLength(1);
    expect(cb).toEqual(ca);
    expect(a.engine.get(obj)?.state).toEqual(b.engine.get(obj)?.state);
    expect(['alice', 'bob']).toContain((a.engine.get(obj)?.state as { seat: string }).seat);
  });

  it('a viewer receives metadata and may not write', async () => {
    const a = await server();
    const v = await server({ role: 'viewer' });
    for (let i = 0; i < 10; i++) await write(a, newGuid(), { n: String(i) });
    const c = await connect(v, a);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    await until(() => v.engine.list().length === 10, 5000, 'viewer catch-up');
    await write(a, newGuid(), { n: 'live' });
    await until(() => v.engine.list().length === 11, 5000, 'viewer live update');
    // what the viewer writes stays with the viewer; an UpdateSTU forced out of it is refused by the server
    await write(v, newGuid(), { n: 'viewer' });
    const forced = await v.store.create({ type: KV, object: newGuid(), user: USERS[0] }, new TextEncoder().encode('{"set":{}}'));
    c.a.conn.send('UpdateSTU', {}, forced.bytes);
    await until(() => c.b.conn.stats.handlerErrors > 0, 2000, 'refusal');
    expect(a.engine.list()).toHaveLength(11);
    expect(c.a.stats.relayed).toBe(0);
  });

  it('moves data STUs only on request, by id range', async () => {
    const [a, b] = [await server(), await server()];
    const media = newGuid();
    for (let i = 0; i < 40; i++) await a.store.create({ type: 0x0101, object: media, user: USERS[0], flags: Flag.DATA }, new Uint8Array(3000).fill(i));
    const c = await connect(a, b);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.store.held.dataLanes()).toEqual([]);
    const r = await b.hub.fetch(0x0101, a.guid, 11, 30, true);
    expect(r).toMatchObject({ expected: 20, stus: 20 });
    expect(b.store.held.dataLanes()).toEqual([{ type: 0x0101, origin: a.guid, from: 11, to: 30, count: 20 }]);
    const loc = b.store.held.loc(0x0101, a.guid, 20, true)!;
    const got = await b.store.read(loc);
    expect(got?.[512]).toBe(19);
    expect(await b.hub.fetch(0x0101, a.guid, 100, 200, true)).toMatchObject({ expected: 0, stus: 0 });
  });

  it('announces a metadata STU too large for one signaling message and the peer fetches it', async () => {
    const [a, b] = [await server({ syncIntervalMs: 60_000 }), await server({ syncIntervalMs: 60_000 })];
    const c = await connect(a, b);
    await Promise.all([c.a.admitted(), c.b.admitted()]);
    const obj = newGuid();
    await write(a, obj, { big: 'x'.repeat(200_000) });
    await until(() => converged(a, b), 5000, 'large STU');
    expect(c.a.stats.announced).toBe(1);
    expect((b.engine.get(obj)?.state as { big: string }).big).toHaveLength(200_000);
  });
});

describe('sync across more servers', () => {
  it('relays through the middle of a line A-B-C (no A-C link)', async () => {
    const [a, b, c] = [await server({ syncIntervalMs: 60_000 }), await server({ syncIntervalMs: 60_000 }), await server({ syncIntervalMs: 60_000 })];
    for (let i = 0; i < 20; i++) await write(a, newGuid(), { from: 'a' });
    for (let i = 0; i < 20; i++) await write(c, newGuid(), { from: 'c' });
    const ab = await connect(a, b);
    const bc = await connect(b, c);
    await Promise.all([ab.a.admitted(), bc.b.admitted()]);
    await until(() => converged(a, b, c), 5000, 'line convergence');
    // and live writes on either end reach the other end
    const obj = newGuid();
    await write(c, obj, { live: 'yes' });
    await until(() => a.engine.get(obj) !== undefined, 5000, 'live relay');
    expect(a.engine.list()).toHaveLength(41);
    expect(b.hub.sessions()).toHaveLength(2);
    expect(a.hub.sessions()).toHaveLength(1);
  });

  it('keeps one session per pair when both sides connect', async () => {
    const [a, b] = [await server(), await server()];
    const c1 = await connect(a, b);
    const c2 = await connect(b, a);
    await until(() => [c1.a, c1.b, c2.a, c2.b].filter((s) => s.state === 'closed').length === 2, 5000, 'duplicate closed');
    expect(a.hub.sessions()).toHaveLength(1);
    expect(b.hub.sessions()).toHaveLength(1);
    expect([c1.a, c1.b, c2.a, c2.b].filter((s) => s.endCode === 'duplicate').length).toBeGreaterThan(0);
  });
});
