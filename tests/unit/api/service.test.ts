// The State API (shared/api/service.ts, client.ts) between real STX connections over the memory transport:
// registration, the operations, and a model-based fast-check test: random users create playlists, set
// ACLs, read, list, modify and delete on either of two servers (each STU replicated to the other), and
// every answer is checked against a model of who may do what (written from docs/API.md, not from the
// code): 0 unauthorized reads or writes on any server, 0 authorized ones refused. The authenticator here is a double (a user name for a token); real tokens are in identity tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aclApp, ACL_TYPE, ANONYMOUS, ANYONE } from '../../../shared/api/acl.ts';
import { ApiClient } from '../../../shared/api/client.ts';
import { type ApiObject, type Identity, serveApi } from '../../../shared/api/service.ts';
import { mediaApp } from '../../../shared/media/app.ts';
import { channelApp } from '../../../shared/media/channel.ts';
import { playlistApp } from '../../../shared/media/playlist.ts';
import { memoryDevices, openMemoryRing } from '../../../shared/ring/index.ts';
import { StateEngine } from '../../../shared/state/engine.ts';
import { type Guid, NIL_GUID } from '../../../shared/stu/index.ts';
import { SignalingConnection } from '../../../shared/stx/connection.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import { memoryChannelPair } from '../../../shared/stx/memory-transport.ts';
import { RingStore } from '../../../shared/sync/store.ts';

const SERVERS: Guid[] = ['5e000000-0000-4000-8000-000000000001', '5e000000-0000-4000-8000-000000000002'];
const USERS = ['alice', 'bob', 'carol'];
const guidOf = (user: string): Guid => `0000000${USERS.indexOf(user) + 1}-0000-4000-8000-00000000a11c` as Guid;

/** `n` servers, each with its own ring and engine; an STU written on one is stored on the others at once (replication). */
async function cluster(n: number) {
  const nodes = await Promise.all(
    SERVERS.slice(0, n).map(async (guid) => {
      const engine = new StateEngine();
      for (const app of [mediaApp, playlistApp, channelApp, aclApp]) engine.register(app as never);
      const ring = await openMemoryRing(memoryDevices(8 << 20, 1 << 20), { fsync: { mode: 'none' } });
      return { guid, engine, store: new RingStore(guid, ring, { engine }) };
    }),
  );
  const connect = async (at: number, token?: string) => {
    const { engine, store } = nodes[at];
    const [a, b] = await memoryChannelPair();
    const conn = new SignalingConnection(a);
    serveApi(conn, {
      engine,
      binding: new Uint8Array(32),
      writerFor: (user) => ({
        engine,
        create: async (init, body) => {
          const stored = await store.create({ ...init, user: init.user ?? user }, body);
          for (const other of nodes) if (other.store !== store) expect(await other.store.put(stored.bytes, nodes[at].guid)).toBe('stored');
          return stored;
        },
      }),
      async authenticate(req): Promise<Identity> {
        if (req.token === undefined) return { user: ANONYMOUS, anonymous: true, guid: NIL_GUID };
        const user = /^u:(\w+)$/.exec(req.token)?.[1];
        if (!user || !USERS.includes(user)) throw new Error('BAD_SIGNATURE: not a token of this cluster');
        return { user, anonymous: false, guid: guidOf(user) };
      },
    });
    const client = new ApiClient(new SignalingConnection(b));
    await client.register(token === undefined ? {} : { token, device: 'test', app: 'vitest' });
    return client;
  };
  return { engines: nodes.map((x) => x.engine), connect };
}

async function server() {
  const c = await cluster(1);
  return { engine: c.engines[0], connect: (token?: string) => c.connect(0, token) };
}

/** The server's error code for a failed call, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof StxError && e.remoteCode) return e.remoteCode;
    throw e;
  }
}

describe('the State API', () => {
  it('registers with a token or anonymously, refuses a bad token and anything before registering', async () => {
    const s = await server();
    const [a, b] = await memoryChannelPair();
    serveApi(new SignalingConnection(a), {
      engine: s.engine,
      binding: new Uint8Array(32),
      writerFor: () => {
        throw new Error('no writes');
      },
      authenticate: () => Promise.reject(new Error('BAD_SIGNATURE: forged')),
    });
    const c = new ApiClient(new SignalingConnection(b));
    expect(await outcome(c.list('playlist'))).toBe('UNAUTHENTICATED');
    const refused = await c.register({ token: 'u:mallory' }).catch((e: StxError) => e);
    expect(refused).toBeInstanceOf(StxError);
    expect((refused as StxError).remoteCode).toBe('UNAUTHENTICATED');
    expect((refused as StxError).message).toMatch(/BAD_SIGNATURE: forged/);
    const alice = await s.connect('u:alice');
    const anon = await s.connect();
    const p = await alice.create('playlist', { title: 'Mine' });
    expect(p).toMatchObject({ kind: 'playlist', owner: guidOf('alice'), view: { title: 'Mine' } });
    // no ACL: alice's alone
    expect(await outcome(anon.get(p.id))).toBe('NOT_FOUND');
    expect(await outcome(anon.create('playlist', { title: 'x' }))).toBe('FORBIDDEN');
    // opened to anonymous readers: anonymous reads, cannot write; others signed in cannot either
    await alice.setAcl(p.id, { readers: [ANONYMOUS], writers: [] });
    expect((await anon.get(p.id)).view).toMatchObject({ title: 'Mine' });
    expect(await outcome(anon.modify(p.id, { op: 'rename', title: 'Theirs' }))).toBe('FORBIDDEN');
    const bob = await s.connect('u:bob');
    expect(await outcome(bob.get(p.id))).toBe('NOT_FOUND');
    // a lost update is refused: ifVersion must name the current version
    const renamed = await alice.modify(p.id, { op: 'rename', title: 'Renamed' }, p.version);
    expect(await outcome(alice.modify(p.id, { op: 'rename', title: 'Again' }, p.version))).toBe('CONFLICT');
    expect(renamed.view).toMatchObject({ title: 'Renamed' });
    // unregister: the identity is gone until the next ApiRegister, which may be someone else's
    await alice.unregister();
    expect(await outcome(alice.get(p.id))).toBe('UNAUTHENTICATED');
    expect(await alice.register({ token: 'u:bob' })).toMatchObject({ user: 'bob' });
    expect(await outcome(alice.get(p.id))).toBe('NOT_FOUND');
  });

  it('tells subscribers of changes to objects they may read, and only those', async () => {
    const s = await server();
    const alice = await s.connect('u:alice');
    const bob = await s.connect('u:bob');
    const seenByBob: string[] = [];
    bob.changes.on((c) => seenByBob.push(`${c.change} ${c.id}`));
    await bob.subscribe({ kind: 'playlist' });
    const hidden = await alice.create('playlist', { title: 'hidden' });
    const shared = await alice.create('playlist', { title: 'shared' });
    await alice.setAcl(shared.id, { readers: [ANYONE], writers: [] });
    await alice.modify(shared.id, { op: 'rename', title: 'shared, renamed' });
    await alice.modify(hidden.id, { op: 'rename', title: 'hidden, renamed' });
    await new Promise((r) => setTimeout(r, 50));
    expect(seenByBob).toEqual([`updated ${shared.id}`]);
  });

  it('creates an object with its ACL at once (Create readers/writers), and checks the ACL before creating', async () => {
    const s = await server();
    const alice = await s.connect('u:alice');
    const anon = await s.connect();
    const bob = await s.connect('u:bob');
    const p = await alice.create('playlist', { title: 'Shared' }, { readers: [ANONYMOUS, ANYONE], writers: ['bob'] });
    expect(await alice.getAcl(p.id)).toEqual({ object: p.id, owner: 'alice', readers: [ANONYMOUS, ANYONE], writers: ['bob'] });
    // the ACL STU is alice's (her user GUID in its header), written right after the object
    expect(s.engine.get(p.id, ACL_TYPE)?.owner).toBe(guidOf('alice'));
    expect((await anon.get(p.id)).view).toMatchObject({ title: 'Shared' });
    expect((await bob.modify(p.id, { op: 'rename', title: 'Bob was here' })).view).toMatchObject({ title: 'Bob was here' });
    expect(await outcome(bob.setAcl(p.id, { readers: [], writers: [] }))).toBe('FORBIDDEN');
    // a bad principal is refused before anything is written; anonymous may not create, ACL or not
    expect(await outcome(alice.create('playlist', { title: 'Bad' }, { readers: ['not a name'] }))).toBe('BAD_PARAM');
    expect((await alice.list('playlist')).map((o) => o.id)).toEqual([p.id]);
    expect(await outcome(anon.create('playlist', { title: 'x' }, { readers: [ANONYMOUS] }))).toBe('FORBIDDEN');
    // without readers or writers, no ACL: the creator's alone
    const mine = await alice.create('playlist', { title: 'Mine' });
    expect((await alice.getAcl(mine.id)).owner).toBeNull();
    expect(await outcome(bob.get(mine.id))).toBe('NOT_FOUND');
  });

  it('agrees with the model of who may do what on every server: random users, ACLs, operations and servers', async () => {
    type Op = { at: number } & (
      | { op: 'create'; by: number }
      | { op: 'acl'; by: number; target: number; readers: string[]; writers: string[] }
      | { op: 'get' | 'modify' | 'delete'; by: number; target: number }
      | { op: 'list'; by: number }
    );
    const who = fc.nat(USERS.length); // USERS.length = anonymous
    const at = fc.nat(SERVERS.length - 1); // the server the operation goes to
    const target = fc.nat(7);
    const principals = fc.uniqueArray(fc.constantFrom(...USERS, ANYONE, ANONYMOUS), { maxLength: 3 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ at, op: fc.constant('create' as const), by: who }),
      fc.record({ at, op: fc.constant('acl' as const), by: who, target, readers: principals, writers: principals }),
      fc.record({ at, op: fc.constantFrom('get' as const, 'modify' as const, 'delete' as const), by: who, target }),
      fc.record({ at, op: fc.constant('list' as const), by: who }),
    );
    const totals = { authorized: 0, refused: 0, checks: 0 };
    const perServer = SERVERS.map(() => 0);
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
        const s = await cluster(SERVERS.length);
        const connectAll = async (i: number) => [...(await Promise.all(USERS.map((u) => s.connect(i, `u:${u}`)))), await s.connect(i)];
        const clientsAt = await Promise.all(SERVERS.map((_, i) => connectAll(i)));
        const name = (i: number) => (i === USERS.length ? ANONYMOUS : USERS[i]);
        // the model: per object, its creator and its ACL
        const objects: { id: Guid; creator: string; acl?: { owner: string; readers: string[]; writers: string[] }; gone: boolean }[] = [];
        const matches = (p: string, u: string) => (u === ANONYMOUS ? p === ANONYMOUS : p === ANYONE || p === u);
        const can = (right: 'read' | 'write' | 'admin', u: string, o: (typeof objects)[number]) => {
          const owner = o.acl?.owner ?? o.creator;
          if (u !== ANONYMOUS && u === owner) return true;
          if (!o.acl || right === 'admin') return false;
          if (o.acl.writers.some((p) => matches(p, u))) return true;
          return right === 'read' && o.acl.readers.some((p) => matches(p, u));
        };
        const expectOutcome = (got: string, allowedByModel: boolean, readableByModel: boolean) => {
          totals.checks++;
          if (allowedByModel) totals.authorized++;
          else totals.refused++;
          expect(got).toBe(allowedByModel ? 'ok' : readableByModel ? 'FORBIDDEN' : 'NOT_FOUND');
        };
        for (const o of ops) {
          const u = name(o.by);
          const c = clientsAt[o.at][o.by];
          perServer[o.at]++;
          if (o.op === 'create') {
            const r = await outcome(c.create('playlist', { title: `by ${u}` }).then((p: ApiObject) => objects.push({ id: p.id, creator: u, gone: false })));
            expect(r).toBe(u === ANONYMOUS ? 'FORBIDDEN' : 'ok');
            continue;
          }
          if (o.op === 'list') {
            const got = (await c.list('playlist')).map((p) => p.id).sort();
            const want = objects.filter((x) => !x.gone && can('read', u, x)).map((x) => x.id).sort();
            totals.checks++;
            expect(got).toEqual(want);
            continue;
          }
          const x = objects.length ? objects[o.target % objects.length] : undefined;
          if (!x || x.gone) continue;
          const readable = can('read', u, x);
          if (o.op === 'get') expectOutcome(await outcome(c.get(x.id)), readable, readable);
          else if (o.op === 'modify') expectOutcome(await outcome(c.modify(x.id, { op: 'rename', title: `renamed by ${u}` })), can('write', u, x), readable);
          else if (o.op === 'delete') {
            const may = can('write', u, x);
            expectOutcome(await outcome(c.delete(x.id)), may, readable);
            if (may) x.gone = true;
          } else if (o.op === 'acl') {
            const may = can('admin', u, x);
            expectOutcome(await outcome(c.setAcl(x.id, { readers: o.readers, writers: o.writers })), may, readable);
            if (may) x.acl = { owner: x.acl?.owner ?? x.creator, readers: o.readers, writers: o.writers };
          }
        }
      }),
      { numRuns: 40 },
    );
    // the runs exercised both sides of the rules
    expect(totals.authorized).toBeGreaterThan(50);
    expect(totals.refused).toBeGreaterThan(50);
    for (const n of perServer) expect(n).toBeGreaterThan(200);
  });
});
