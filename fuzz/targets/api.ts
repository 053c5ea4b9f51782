// The State API's outside inputs (docs/API.md, docs/IDENTITY.md): tokens and their proofs, tickets, issuer
// and ACL STU bodies, and whole API requests (random methods, attributes and bodies) sent to serveApi over
// an STX connection as a registered user or not. Oracle: tokens and tickets refuse with AuthError only and
// never verify once changed; bodies refuse with CommandError only; a request is answered (a reply or an
// StxError the API names: a handler that throws anything else answers HANDLER_FAILED), and nothing the caller may not read is
// returned (List and Get only give back alice's own objects to alice, nothing to anonymous).
import fc from 'fast-check';
import { ACL_TYPE, aclApp, ANONYMOUS, decodeAcl, encodeAcl } from '../../shared/api/acl.ts';
import { FileMethod } from '../../shared/api/files.ts';
import { ApiMethod, type Identity, serveApi } from '../../shared/api/service.ts';
import { issueTicket, verifyTicket } from '../../shared/api/ticket.ts';
import { AuthError, generateKeyPair, issueCredential, issuerKid, presentCredential, verifyPresentation } from '../../shared/api/token.ts';
import { decodeIssuer, encodeIssuer, issuerFor } from '../../shared/api/trust.ts';
import { channelApp } from '../../shared/media/channel.ts';
import { mediaApp } from '../../shared/media/app.ts';
import { CommandError } from '../../shared/media/playlist-errors.ts';
import { playlistApp } from '../../shared/media/playlist.ts';
import { memoryDevices, openMemoryRing } from '../../shared/ring/index.ts';
import { StateEngine } from '../../shared/state/engine.ts';
import { type Guid, NIL_GUID } from '../../shared/stu/index.ts';
import { SignalingConnection } from '../../shared/stx/connection.ts';
import { StxError, type StxErrorCode } from '../../shared/stx/errors.ts';
import { memoryChannelPair } from '../../shared/stx/memory-transport.ts';
import { ClusterKey } from '../../shared/sync/admission.ts';
import { RingStore } from '../../shared/sync/store.ts';
import { closePayload, encodeFrame, FrameParser, Opcode, WsError } from '../../shared/stx/ws/codec.ts';
import { expect, target } from '../lib/harness.ts';
import { mutated, tokenSoup } from '../lib/mutate.ts';

const enc = new TextEncoder();
const ALICE = '0000000a-0000-4000-8000-00000000a11c' as Guid;
/** What an API request may be refused with. */
const API_CODES: readonly string[] = ['UNAUTHENTICATED', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'BAD_PARAM', 'TOO_LARGE', 'TOO_MANY', 'UNSUPPORTED', 'UNKNOWN_METHOD', 'BAD_HEADER'];

const bodyOf = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.json({ maxDepth: 3 }).map((j) => enc.encode(j)),
  fc.constantFrom(
    { title: 'x' },
    { title: 'x', clips: [{ media: ALICE }] },
    { op: 'rename', title: 'y' },
    { op: 'add', media: ALICE, start: -1 },
    { name: 'tv', playlists: [ALICE] },
    { readers: ['*', 'anonymous', 'bob'], writers: ['bob'] },
    { owner: 'mallory', readers: [], writers: [] },
  ).map((o) => enc.encode(JSON.stringify(o))),
  fc.uint8Array({ maxLength: 64 }),
);

export const apiTarget = target({
  name: 'api',
  what: 'tokens (parseToken, verifyPresentation), tickets, issuer and ACL bodies, and State API requests to serveApi (shared/api/)',
  cases: 20_000,
  ci: 800,
  async: true,
  chunk: 200,
  prepare: async () => {
    const issuer = await generateKeyPair();
    const kid = await issuerKid(issuer.publicKey);
    const binding = crypto.getRandomValues(new Uint8Array(32));
    const { credential } = await issueCredential(issuer.seed, { user: 'alice', ttlS: 3600 });
    const shown = await presentCredential(credential, binding);
    const key = await ClusterKey.from('a cluster key for the fuzzer');
    const ticket = await issueTicket(key, { user: 'alice' });
    const trust = { issuer: (k: string) => (k === kid ? issuer.publicKey : undefined) };

    const engine = new StateEngine();
    for (const app of [mediaApp, playlistApp, channelApp, aclApp]) engine.register(app as never);
    const ring = await openMemoryRing(memoryDevices(32 << 20, 1 << 20), { fsync: { mode: 'none' } });
    const store = new RingStore('5e000000-0000-4000-8000-00000000f022', ring, { engine });
    const writerFor = (user: Guid) => ({ engine, create: (init: Parameters<RingStore['create']>[0], body?: Uint8Array) => store.create({ ...init, user: init.user ?? user }, body) });
    const authenticate = async (req: { token?: string }): Promise<Identity> => {
      if (req.token === undefined) return { user: ANONYMOUS, anonymous: true, guid: NIL_GUID };
      if (req.token !== 'alice') throw new AuthError('BAD_SIGNATURE', 'not alice');
      return { user: 'alice', anonymous: false, guid: ALICE };
    };
    const aliceIssuer = await issuerFor(issuer.publicKey, ALICE);
    const aclSeed = encodeAcl({ object: ALICE, owner: 'alice', readers: ['*'], writers: ['bob'] });
    const methods = [...Object.values(ApiMethod), ...Object.values(FileMethod), 'Nope'];
    const attrs = fc.dictionary(
      fc.constantFrom('kind', 'object', 'after', 'limit', 'ifVersion', 'token', 'proof', 'readers', 'writers', 'upload', 'size', 'offset', 'part', 'name', 'x'),
      fc.oneof(fc.constantFrom('media', 'playlist', 'channel', 'acl', ALICE, NIL_GUID, '0', '-1', '1e9', 'alice', '', 'x'.repeat(300)), fc.string({ maxLength: 12 })),
      { maxKeys: 4 },
    );
    type Case =
      | { kind: 'token'; text: string; proof: string }
      | { kind: 'ticket'; text: string }
      | { kind: 'body'; issuer: boolean; bytes: Uint8Array }
      | { kind: 'request'; as: 'alice' | 'anonymous' | 'none'; steps: { method: string; attrs: Record<string, string>; body: Uint8Array }[] };
    const textMutation = (s: string) =>
      fc.tuple(fc.nat(s.length), fc.nat(s.length), fc.string({ maxLength: 4 })).map(([a, b, ins]) => s.slice(0, Math.min(a, b)) + ins + s.slice(Math.max(a, b)));
    const arb: fc.Arbitrary<Case> = fc.oneof(
      fc.record({ kind: fc.constant('token' as const), text: fc.oneof(textMutation(shown.token), tokenSoup(['st1', '.', 'e30', 'AAAA', '-', '_', '='])), proof: fc.oneof(fc.constant(shown.proof), textMutation(shown.proof)) }),
      fc.record({ kind: fc.constant('ticket' as const), text: fc.oneof(textMutation(ticket), tokenSoup(['tk1', '.', 'e30', 'AAAA'])) }),
      fc.record({ kind: fc.constant('body' as const), issuer: fc.boolean(), bytes: mutated([encodeIssuer(aliceIssuer), aclSeed], { maxMutations: 4 }) }),
      fc.record({
        kind: fc.constant('request' as const),
        as: fc.constantFrom('alice' as const, 'anonymous' as const, 'none' as const),
        steps: fc.array(fc.record({ method: fc.constantFrom(...methods), attrs, body: bodyOf }), { minLength: 1, maxLength: 6 }),
      }),
    );
    return {
      arb,
      show: (c) => JSON.stringify(c, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v)),
      check: async (c) => {
        if (c.kind === 'token') {
          const same = c.text === shown.token && c.proof === shown.proof;
          try {
            await verifyPresentation(c.text, c.proof, binding, trust);
            expect(same, 'a changed token or proof verified');
          } catch (e) {
            if (!(e instanceof AuthError)) throw e;
            expect(!same, `the original token was refused: ${e.message}`);
          }
          return;
        }
        if (c.kind === 'ticket') {
          try {
            const t = await verifyTicket(key, c.text);
            expect(c.text === ticket && t.user === 'alice', 'a changed ticket verified');
          } catch (e) {
            if (!(e instanceof AuthError)) throw e;
          }
          return;
        }
        if (c.kind === 'body') {
          try {
            if (c.issuer) decodeIssuer(c.bytes);
            else decodeAcl(c.bytes);
          } catch (e) {
            if (!(e instanceof CommandError)) throw e;
          }
          return;
        }
        const [a, b] = await memoryChannelPair();
        const server = new SignalingConnection(a);
        serveApi(server, { engine, binding, writerFor, authenticate });
        const client = new SignalingConnection(b);
        try {
          if (c.as !== 'none') await client.request(ApiMethod.Register, { attrs: c.as === 'alice' ? { token: 'alice' } : {} });
          for (const s of c.steps) {
            try {
              const r = await client.request(s.method, { attrs: s.attrs }, s.body);
              if ((s.method === ApiMethod.List || s.method === ApiMethod.Get) && r.body.length > 0) {
                const got = JSON.parse(new TextDecoder().decode(r.body)) as { owner?: string } | { owner?: string }[];
                const owners = (Array.isArray(got) ? got : [got]).map((o) => o.owner);
                // the engine holds only objects alice made (no ACL) or opened with an ACL: anonymous sees none of hers unless opened
                for (const o of owners) expect(o === ALICE || o === NIL_GUID, `an object of an unknown owner ${o}`);
                if (c.as !== 'alice') {
                  for (const x of Array.isArray(got) ? got : [got]) {
                    const id = (x as { id?: Guid }).id;
                    const acl = id ? engine.get(id, ACL_TYPE)?.state : undefined;
                    expect(acl !== undefined, `${c.as} was given ${id}, which has no ACL opening it`);
                  }
                }
              }
            } catch (e) {
              if (!(e instanceof StxError)) throw e;
              const code = e.remoteCode ?? e.code;
              expect(API_CODES.includes(code as StxErrorCode) || e.code === 'CLOSED', `a request was refused with ${code}: ${e.message}`);
              if (e.code === 'CLOSED') break;
            }
          }
        } finally {
          client.close('done');
          server.close('done');
        }
      },
    };
  },
});

export const wsFramesTarget = target({
  name: 'ws-frames',
  what: 'the WebSocket frame parser (shared/stx/ws/codec.ts) on hostile bytes cut into chunks, as a server and as a client',
  cases: 200_000,
  ci: 4_000,
  prepare: () => {
    const m = Uint8Array.of(1, 2, 3, 4);
    const seeds = [
      encodeFrame(Opcode.binary, enc.encode('hello'), m),
      encodeFrame(Opcode.binary, new Uint8Array(300), m),
      encodeFrame(Opcode.text, enc.encode('text'), m, false),
      encodeFrame(Opcode.close, closePayload(1000, 'bye'), m),
      encodeFrame(Opcode.ping, Uint8Array.of(1), m),
      encodeFrame(Opcode.binary, enc.encode('server')),
      encodeFrame(Opcode.binary, new Uint8Array(70_000)),
      new Uint8Array([...encodeFrame(Opcode.binary, new Uint8Array(200), m, false), ...encodeFrame(Opcode.ping, Uint8Array.of(7), m), ...encodeFrame(Opcode.continuation, new Uint8Array(50_000), m)]),
    ];
    return {
      arb: fc.tuple(fc.oneof(mutated(seeds, { maxMutations: 6 }), fc.uint8Array({ maxLength: 64 })), fc.boolean(), fc.array(fc.nat(), { maxLength: 4 })),
      show: ([b, masked, cuts]) => `${masked ? 'server' : 'client'} ${JSON.stringify(cuts)} ${Buffer.from(b.subarray(0, 512)).toString('hex')}`,
      check: ([b, masked, cuts]) => {
        const p = new FrameParser({ masked, maxMessage: 64 * 1024, maxFrame: 48 * 1024 });
        const at = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        let from = 0;
        try {
          for (const c of [...at, b.length]) {
            for (const e of p.push(b.slice(from, c))) {
              if (e.type === 'message') expect(e.data.length <= 64 * 1024, 'a message over the limit came out');
              if (e.type === 'ping' || e.type === 'pong') expect(e.data.length <= 125, 'a control frame over 125 bytes came out');
            }
            from = c;
          }
        } catch (e) {
          if (!(e instanceof WsError)) throw e;
          expect([1002, 1007, 1009].includes(e.code), `close code ${e.code}`);
          // done after a violation: what follows is neither parsed nor held
          expect(p.push(b).length === 0, 'events after a violation');
        }
      },
    };
  },
});
