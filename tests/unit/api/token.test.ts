// Identity tokens (shared/api/token.ts) and trusted issuers (shared/api/trust.ts): a credential issued with
// an issuer key is accepted with a proof over the connection's binding; forged, altered, expired, future,
// unknown-issuer and replayed (another binding, another holder key, no proof) presentations are refused,
// each with its code; random mutations of a token never verify and never throw anything but AuthError.
// Issuer STUs: the round trip, hostile bodies, a key id that does not match its key, a revoked key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, type AuthCode, generateKeyPair, issueCredential, issuerKid, parseToken, presentCredential, splitCredential, userGuid, verifyPresentation } from '../../../shared/api/token.ts';
import { decodeIssuer, encodeIssuer, ISSUER_TYPE, issuerFor, issuerObject, trustApp, trustedIssuer } from '../../../shared/api/trust.ts';
import { CommandError } from '../../../shared/media/playlist-errors.ts';
import { StateEngine } from '../../../shared/state/engine.ts';
import { isGuid } from '../../../shared/stu/guid.ts';
import { fromBase64Url, toBase64Url } from '../../../shared/util/base64.ts';
import { mk, ORIGINS } from '../state/helpers.ts';

const issuer = await generateKeyPair();
const kid = await issuerKid(issuer.publicKey);
const trust = { issuer: (k: string) => (k === kid ? issuer.publicKey : undefined) };
const binding = crypto.getRandomValues(new Uint8Array(32));
const NOW = 1_800_000_000;

const refusal = (p: Promise<unknown>): Promise<AuthCode | 'ok'> =>
  p.then(
    () => 'ok' as const,
    (e: unknown) => (e instanceof AuthError ? e.code : Promise.reject(e)),
  );
const present = async (credential: string, b = binding, now = NOW) => {
  const { token, proof } = await presentCredential(credential, b);
  return refusal(verifyPresentation(token, proof, binding, { ...trust, now }));
};

describe('tokens', () => {
  it('a credential presented over its connection names its user', async () => {
    const { credential, claims } = await issueCredential(issuer.seed, { user: 'alice', ttlS: 3600, now: NOW });
    const { token, proof } = await presentCredential(credential, binding);
    expect(token.split('.')).toHaveLength(3);
    expect(credential.startsWith(`${token}.`)).toBe(true);
    const got = await verifyPresentation(token, proof, binding, { ...trust, now: NOW + 10 });
    expect(got).toEqual(claims);
    expect(got).toMatchObject({ sub: 'alice', iss: kid, exp: NOW + 3600 });
    expect(await userGuid('alice')).toBe(await userGuid('alice'));
    expect(isGuid(await userGuid('alice'))).toBe(true);
    expect(await userGuid('alice')).not.toBe(await userGuid('bob'));
  });

  it('refuses expired, future, unknown-issuer and forged tokens, each with its code', async () => {
    const { credential } = await issueCredential(issuer.seed, { user: 'alice', ttlS: 3600, now: NOW });
    expect(await present(credential, binding, NOW + 3600 + 61)).toBe('EXPIRED');
    expect(await present(credential, binding, NOW + 3600 + 59)).toBe('ok'); // within the clock skew
    expect(await present(credential, binding, NOW - 61)).toBe('NOT_YET_VALID');

    const stranger = await generateKeyPair();
    const foreign = (await issueCredential(stranger.seed, { user: 'alice', ttlS: 3600, now: NOW })).credential;
    expect(await present(foreign)).toBe('UNKNOWN_ISSUER');

    // claims rewritten (another user, a later expiry) under the original signature
    const [v, body, sig, key] = credential.split('.');
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(body)!)) as Record<string, unknown>;
    for (const change of [{ sub: 'root' }, { exp: NOW + 10 ** 8 }, { cnf: toBase64Url(stranger.publicKey) }]) {
      const forged = [v, toBase64Url(new TextEncoder().encode(JSON.stringify({ ...claims, ...change }))), sig, key].join('.');
      expect(await present(forged)).toBe('BAD_SIGNATURE');
    }
    // signed by a stranger's key under our key id
    const strangers = (await issueCredential(stranger.seed, { user: 'alice', ttlS: 3600, now: NOW })).credential.split('.');
    const sClaims = JSON.parse(new TextDecoder().decode(fromBase64Url(strangers[1])!)) as Record<string, unknown>;
    const body2 = toBase64Url(new TextEncoder().encode(JSON.stringify({ ...sClaims, iss: kid })));
    const { seed } = splitCredential(strangers.join('.'));
    const data = new TextEncoder().encode(`st1.${body2}`);
    const pk = new Uint8Array(48);
    pk.set(fromBase64Url('MC4CAQAwBQYDK2VwBCIEIA')!, 0);
    pk.set(stranger.seed, 16);
    const sk = await crypto.subtle.importKey('pkcs8', pk, { name: 'Ed25519' }, false, ['sign']);
    const sig2 = toBase64Url(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, sk, data)));
    expect(await present(`st1.${body2}.${sig2}.${toBase64Url(seed)}`)).toBe('BAD_SIGNATURE');
  });

  it('refuses a presentation replayed on another connection, made with another key, or without a proof', async () => {
    const { credential, token } = await issueCredential(issuer.seed, { user: 'alice', ttlS: 3600, now: NOW });
    const other = crypto.getRandomValues(new Uint8Array(32));
    // what alice sent on another connection, captured and sent again on this one
    expect(await present(credential, other)).toBe('BAD_PROOF');
    expect(await refusal(verifyPresentation(token, undefined, binding, { ...trust, now: NOW }))).toBe('BAD_PROOF');
    expect(await refusal(verifyPresentation(token, 'AAAA', binding, { ...trust, now: NOW }))).toBe('BAD_PROOF');
    // bob's holder key with alice's token
    const bob = await issueCredential(issuer.seed, { user: 'bob', ttlS: 3600, now: NOW });
    const bobKey = bob.credential.split('.')[3];
    expect(await present(`${token}.${bobKey}`)).toBe('BAD_PROOF');
  });

  it('refuses malformed tokens with MALFORMED and issues nothing for bad users or lifetimes', async () => {
    for (const t of ['', 'st1', 'st1..', 'st2.e30.' + 'A'.repeat(86), 'st1.e30.' + 'A'.repeat(86), 'x'.repeat(5000), 'st1.!!!.AAAA']) {
      expect(() => parseToken(t)).toThrow(AuthError);
      expect(await refusal(verifyPresentation(t, 'AAAA', binding, trust))).toBe('MALFORMED');
    }
    await expect(issueCredential(issuer.seed, { user: 'anonymous', ttlS: 60 })).rejects.toThrow(RangeError);
    await expect(issueCredential(issuer.seed, { user: 'a b', ttlS: 60 })).rejects.toThrow(RangeError);
    await expect(issueCredential(issuer.seed, { user: 'alice', ttlS: 0 })).rejects.toThrow(RangeError);
    expect(() => splitCredential('st1.e30.AAAA')).toThrow(/credential/);
  });

  it('no mutation of a token verifies, and every refusal is an AuthError (fast-check)', async () => {
    const { credential } = await issueCredential(issuer.seed, { user: 'alice', ttlS: 3600, now: NOW });
    const { token, proof } = await presentCredential(credential, binding);
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.integer({ min: 1, max: 127 }), fc.boolean(), async (at, code, truncate) => {
        const mutated = truncate ? token.slice(0, at) : token.slice(0, at) + String.fromCharCode(code) + token.slice(at + 1);
        if (mutated === token) return;
        const r = await refusal(verifyPresentation(mutated, proof, binding, { ...trust, now: NOW }));
        // base64url has unused bits only where we reject them: a changed character is always a changed token
        expect(r).not.toBe('ok');
      }),
      { numRuns: 300, seed: 622 },
    );
  });
});

describe('trusted issuers', () => {
  it('round trips and refuses hostile issuer bodies with CommandError', async () => {
    const i = await issuerFor(issuer.publicKey, ORIGINS[0]);
    expect(i.object).toBe(issuerObject(kid));
    expect(decodeIssuer(encodeIssuer(i))).toEqual(i);
    const text = new TextDecoder().decode(encodeIssuer(i));
    for (const bad of [text.replace(kid, '0'.repeat(16)), text.replace('<issuer', '<acl'), text.replace('/>', ' extra="1"/>'), '<issuer/>', '\u0000', text.replace(i.key, 'AAAA')]) {
      expect(() => decodeIssuer(new TextEncoder().encode(bad))).toThrow(CommandError);
    }
  });

  it('an engine trusts the key of an issuer STU, not one whose key id belongs to another key, nor a revoked one', async () => {
    const engine = new StateEngine();
    engine.register(trustApp);
    const i = await issuerFor(issuer.publicKey, ORIGINS[0]);
    expect(await trustedIssuer(engine, kid)).toBeUndefined();
    engine.ingest(mk({ type: ISSUER_TYPE, object: i.object, seq: 1, ts: 10, body: encodeIssuer(i) }));
    expect(await trustedIssuer(engine, kid)).toEqual(issuer.publicKey);

    // a key under another key's id: the engine stores it (it cannot hash synchronously), trust refuses it
    const other = await generateKeyPair();
    const otherKid = await issuerKid(other.publicKey);
    const liar = { ...i, kid: otherKid, object: issuerObject(otherKid) }; // other's id, our key
    engine.ingest(mk({ type: ISSUER_TYPE, object: liar.object, seq: 2, ts: 11, body: encodeIssuer(liar) }));
    expect(await trustedIssuer(engine, otherKid)).toBeUndefined();

    // revoked: refused from then on, and a later STU cannot bring it back
    engine.ingest(mk({ type: ISSUER_TYPE, object: i.object, seq: 3, ts: 12, prev: 10, body: encodeIssuer({ ...i, revoked: true }) }));
    expect(await trustedIssuer(engine, kid)).toBeUndefined();
    engine.ingest(mk({ type: ISSUER_TYPE, object: i.object, seq: 4, ts: 13, prev: 12, body: encodeIssuer(i) }));
    expect(await trustedIssuer(engine, kid)).toBeUndefined();
  });
});
