// ACLs (shared/api/acl.ts): the decision function against an independent model of who may do what (random
// users, ACLs and operations: 0 unauthorized allowed, 0 authorized refused), the STU body round trip,
// hostile bodies (only CommandError, never anything else), and the ACL application in the engine: two
// concurrent ACL changes give the same ACL on every replica whatever order the STUs arrive in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Acl, ACL_TYPE, aclApp, allowed, ANONYMOUS, ANYONE, type Caller, decodeAcl, encodeAcl, type Right } from '../../../shared/api/acl.ts';
import { CommandError } from '../../../shared/media/playlist-errors.ts';
import { StateEngine } from '../../../shared/state/engine.ts';
import { mk, OBJ, ORIGINS } from '../state/helpers.ts';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const principal = fc.constantFrom(...USERS, ANYONE, ANONYMOUS);
const caller: fc.Arbitrary<Caller> = fc.oneof(fc.constantFrom(...USERS).map((user) => ({ user, anonymous: false })), fc.constant({ user: ANONYMOUS, anonymous: true }));
const acl: fc.Arbitrary<Acl> = fc.record({
  object: fc.constant(OBJ),
  owner: fc.constantFrom(...USERS),
  readers: fc.uniqueArray(principal, { maxLength: 4 }),
  writers: fc.uniqueArray(principal, { maxLength: 3 }),
});
const right = fc.constantFrom<Right>('read', 'write', 'admin');

/** The model, written from the rules in docs/API.md and not from the code: a table of who may do what. */
function model(r: Right, c: Caller, a: Acl | undefined, creator: string | undefined): boolean {
  const owner = a ? a.owner : creator;
  const isOwner = !c.anonymous && owner !== undefined && owner === c.user;
  if (isOwner) return true;
  if (a === undefined) return false;
  const names = (list: string[]) => new Set(list.flatMap((p) => (p === ANONYMOUS ? (c.anonymous ? [p] : []) : p === ANYONE ? (c.anonymous ? [] : [p]) : p === c.user && !c.anonymous ? [p] : [])));
  const writer = names(a.writers).size > 0;
  const reader = names(a.readers).size > 0;
  switch (r) {
    case 'admin':
      return false;
    case 'write':
      return writer;
    case 'read':
      return writer || reader;
  }
}

describe('ACL decisions', () => {
  it('agree with the model for random users, ACLs and operations (0 unauthorized allowed, 0 authorized refused)', () => {
    let allowedCount = 0;
    let refusedCount = 0;
    fc.assert(
      fc.property(right, caller, fc.option(acl, { nil: undefined }), fc.option(fc.constantFrom(...USERS), { nil: undefined }), (r, c, a, creator) => {
        const got = allowed(r, c, a, creator);
        if (got) allowedCount++;
        else refusedCount++;
        expect(got).toBe(model(r, c, a, creator));
      }),
      { numRuns: 5000 },
    );
    // both outcomes happened many times: the property looked at something
    expect(allowedCount).toBeGreaterThan(500);
    expect(refusedCount).toBeGreaterThan(500);
  });

  it('the anonymous role only gets what names it; * is every signed-in user, never anonymous', () => {
    const a: Acl = { object: OBJ, owner: 'alice', readers: [ANYONE], writers: [] };
    expect(allowed('read', { user: 'bob', anonymous: false }, a)).toBe(true);
    expect(allowed('read', { user: ANONYMOUS, anonymous: true }, a)).toBe(false);
    expect(allowed('read', { user: ANONYMOUS, anonymous: true }, { ...a, readers: [ANONYMOUS] })).toBe(true);
    expect(allowed('write', { user: ANONYMOUS, anonymous: true }, { ...a, readers: [ANONYMOUS] })).toBe(false);
    // an anonymous caller who calls itself "alice" is not alice
    expect(allowed('read', { user: 'alice', anonymous: true }, { ...a, readers: [] })).toBe(false);
    // no ACL: the creator's alone; no creator either: nobody's
    expect(allowed('write', { user: 'carol', anonymous: false }, undefined, 'carol')).toBe(true);
    expect(allowed('read', { user: 'bob', anonymous: false }, undefined, 'carol')).toBe(false);
    expect(allowed('read', { user: 'bob', anonymous: false }, undefined)).toBe(false);
    expect(allowed('admin', { user: 'bob', anonymous: false }, { ...a, writers: ['bob'] })).toBe(false);
  });
});

describe('ACL STU bodies', () => {
  it('round-trip, duplicates removed', () => {
    fc.assert(
      fc.property(acl, (a) => {
        expect(decodeAcl(encodeAcl({ ...a, readers: [...a.readers, ...a.readers] }))).toEqual(a);
      }),
    );
  });

  it('hostile bodies give a CommandError and nothing else', () => {
    const valid = encodeAcl({ object: OBJ, owner: 'alice', readers: ['bob', ANONYMOUS], writers: [ANYONE] });
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, b]) => {
      const x = valid.slice();
      x[at] = b;
      return x;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated, fc.string({ maxLength: 512 }).map((s) => new TextEncoder().encode(s))), (body) => {
        try {
          decodeAcl(body);
        } catch (e) {
          expect(e).toBeInstanceOf(CommandError);
        }
      }),
      { numRuns: 2000 },
    );
    const bad = (s: string) => () => decodeAcl(new TextEncoder().encode(s));
    expect(bad(`<acl version="1" object="${OBJ}" owner="alice"><read who="bob smith"/></acl>`)).toThrow(/not a user name/);
    expect(bad(`<acl version="1" object="${OBJ}" owner="anonymous"></acl>`)).toThrow(/owner/);
    expect(bad(`<acl version="1" object="${OBJ}" owner="alice"><grant who="bob"/></acl>`)).toThrow(/<read> and <write>/);
    expect(bad(`<!DOCTYPE acl [<!ENTITY x "y">]><acl version="1" object="${OBJ}" owner="alice"/>`)).toThrow(CommandError);
  });
});

describe('the ACL application', () => {
  const stu = (seq: number, ts: number, prev: number, origin: string, a: Omit<Acl, 'object'>) =>
    mk({ type: ACL_TYPE, seq, ts, prev, origin: origin as never, body: encodeAcl({ object: OBJ, ...a }) });

  it('two concurrent changes: the same ACL on every replica, whatever the arrival order', () => {
    const first = stu(1, 10, 0, ORIGINS[0], { owner: 'alice', readers: [ANONYMOUS], writers: [] });
    const byAlice = stu(2, 20, 10, ORIGINS[0], { owner: 'alice', readers: [], writers: ['bob'] });
    const byBob = stu(1, 21, 10, ORIGINS[1], { owner: 'alice', readers: [ANYONE], writers: [] });
    const results = [
      [first, byAlice, byBob],
      [first, byBob, byAlice],
      [byBob, byAlice, first],
    ].map((order) => {
      const e = new StateEngine();
      e.register(aclApp);
      for (const s of order) e.ingest(s);
      return e.get(OBJ, ACL_TYPE)?.state;
    });
    expect(results[0]).toEqual({ object: OBJ, owner: 'alice', readers: [], writers: ['bob'] });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('refuses an ACL STU that names another object', () => {
    const e = new StateEngine();
    e.register(aclApp);
    const other = '0b1ec700-0000-4000-8000-0000000000ff';
    e.ingest(mk({ type: ACL_TYPE, seq: 1, ts: 10, body: encodeAcl({ object: other, owner: 'alice', readers: [], writers: [] }) }));
    expect(e.get(OBJ, ACL_TYPE)?.state).toBeUndefined();
    expect(e.rejected()).toEqual([expect.objectContaining({ object: OBJ, code: 'invalid', reason: expect.stringMatching(/an ACL for 0b1ec700-.*-0000000000ff/) })]);
  });
});
