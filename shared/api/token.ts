// Identity tokens (docs/IDENTITY.md). No password is ever typed into stateos: an administrator issues a
// user a credential with `stateos token issue --user NAME`, signed by the installation's Ed25519 issuer key
// (DIR/admin.key; its public half is published to the cluster as an issuer STU, shared/api/trust.ts).
//
//   credential = st1.<claims>.<signature>.<holder key>      (kept by the user, like an SSH private key)
//   token      = st1.<claims>.<signature>                   (what a client sends in ApiRegister)
//   claims     = base64url(JSON {v:1, sub, iss, iat, exp, jti, cnf})   signature = Ed25519(issuer, "st1.<claims>")
//
// `cnf` is the public half of a key pair made for this credential; the holder key (its private half) never
// leaves the holder. A client proves possession by signing the connection's channel binding with it
// (`proof`), so a token seen by a server, in a log or on another connection is worth nothing alone: a
// registration replayed on another connection (other DTLS fingerprints, another WebSocket nonce) fails.
// Web Crypto only: the same code verifies in Node and signs proofs in browsers.
import { guidFromBytes, type Guid } from '../stu/guid.ts';
import { fromBase64Url, toBase64Url } from '../util/base64.ts';
import { isUserName } from './acl.ts';

export const TOKEN_VERSION = 'st1';
/** Longest token or credential accepted (a real one is ~330 characters). */
export const MAX_TOKEN_CHARS = 2048;
/** Clock difference between issuer and verifier tolerated on iat and exp, seconds. */
export const CLOCK_SKEW_S = 60;
/** Longest lifetime a token may be issued with: one year. */
export const MAX_TTL_S = 366 * 24 * 3600;

export type AuthCode =
  | 'NO_TOKEN' // anonymous clients are switched off (--no-anonymous)
  | 'MALFORMED' // not a token of ours
  | 'UNKNOWN_ISSUER' // signed by a key the cluster does not trust
  | 'BAD_SIGNATURE' // forged or altered
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'BAD_PROOF'; // no proof, or not made over this connection with the token's holder key

/** A refused identity: `code` says why, the message says it to a person. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'AuthError';
  }
}

export interface Claims {
  v: 1;
  /** The user name (shared/api/acl.ts isUserName). */
  sub: string;
  /** Key id of the issuer key (issuerKid). */
  iss: string;
  /** Issued at / expires, seconds since the epoch. */
  iat: number;
  exp: number;
  /** A unique id of this token (for logs and revocation lists). */
  jti: string;
  /** base64url of the holder's raw Ed25519 public key. */
  cnf: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
/** PKCS #8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410). */
const PKCS8_ED25519 = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);
const ED25519 = { name: 'Ed25519' } as const;

const importSeed = (seed: Uint8Array): Promise<CryptoKey> => {
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_ED25519);
  pkcs8.set(seed, 16);
  return crypto.subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign']);
};
const importPublic = (raw: Uint8Array): Promise<CryptoKey> => crypto.subtle.importKey('raw', new Uint8Array(raw), ED25519, false, ['verify']);
const sign = async (seed: Uint8Array, data: Uint8Array): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.sign(ED25519, await importSeed(seed), new Uint8Array(data)));

/** A new Ed25519 key pair as raw bytes: the 32-byte seed and the 32-byte public key. */
export async function generateKeyPair(): Promise<{ seed: Uint8Array; publicKey: Uint8Array }> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { seed: pkcs8.slice(16), publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)) };
}

/** The public key of a seed (Web Crypto gives it through JWK). */
export async function publicKeyOf(seed: Uint8Array): Promise<Uint8Array> {
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_ED25519);
  pkcs8.set(seed, 16);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, ED25519, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', key);
  const x = fromBase64Url(jwk.x ?? '');
  if (!x || x.length !== 32) throw new Error('the key has no Ed25519 public half');
  return x;
}

/** The short id of an issuer key: the first 8 bytes of SHA-256 of its public key, hex. */
export async function issuerKid(publicKey: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(publicKey)));
  return [...h.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The GUID a user's STUs carry in their header: derived from the name, the same on every server. */
export async function userGuid(user: string): Promise<Guid> {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(`stateos-user/1\n${user}`)));
  h[6] = (h[6] & 0x0f) | 0x80; // RFC 9562 version 8 (custom), variant 10
  h[8] = (h[8] & 0x3f) | 0x80;
  return guidFromBytes(h, 0);
}

/** Issues a credential for `user`, valid `ttlS` seconds from `now` (seconds), signed with the issuer seed. */
export async function issueCredential(issuerSeed: Uint8Array, opts: { user: string; ttlS: number; now?: number }): Promise<{ credential: string; token: string; claims: Claims }> {
  if (!isUserName(opts.user)) throw new RangeError(`user "${opts.user}": 1-128 of A-Z a-z 0-9 . _ @ + - (starting with a letter or digit), not "anonymous"`);
  if (!(Number.isInteger(opts.ttlS) && opts.ttlS > 0 && opts.ttlS <= MAX_TTL_S)) throw new RangeError(`ttl: 1 s to ${MAX_TTL_S} s`);
  const now = Math.floor(opts.now ?? Date.now() / 1000);
  const holder = await generateKeyPair();
  const claims: Claims = {
    v: 1,
    sub: opts.user,
    iss: await issuerKid(await publicKeyOf(issuerSeed)),
    iat: now,
    exp: now + opts.ttlS,
    jti: toBase64Url(crypto.getRandomValues(new Uint8Array(12))),
    cnf: toBase64Url(holder.publicKey),
  };
  const signed = `${TOKEN_VERSION}.${toBase64Url(enc.encode(JSON.stringify(claims)))}`;
  const token = `${signed}.${toBase64Url(await sign(issuerSeed, enc.encode(signed)))}`;
  return { credential: `${token}.${toBase64Url(holder.seed)}`, token, claims };
}

interface Parsed {
  claims: Claims;
  signed: string;
  signature: Uint8Array;
}

/** Splits and checks the shape of a token (not its signature). Throws AuthError MALFORMED. */
export function parseToken(token: string): Parsed {
  const bad = (why: string) => new AuthError('MALFORMED', why);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw bad(`a token is a string of at most ${MAX_TOKEN_CHARS} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) throw bad(`a token is ${TOKEN_VERSION}.<claims>.<signature>`);
  const body = fromBase64Url(parts[1]);
  const signature = fromBase64Url(parts[2]);
  if (!body || !signature || signature.length !== 64) throw bad('claims or signature are not base64url of the right size');
  let c: Partial<Claims>;
  try {
    c = JSON.parse(dec.decode(body)) as Partial<Claims>;
  } catch {
    throw bad('the claims are not JSON');
  }
  const int = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!c || typeof c !== 'object' || c.v !== 1) throw bad('claims version: 1');
  if (typeof c.sub !== 'string' || !isUserName(c.sub)) throw bad('sub: a user name');
  if (typeof c.iss !== 'string' || !/^[0-9a-f]{16}$/.test(c.iss)) throw bad('iss: an issuer key id');
  if (!int(c.iat) || !int(c.exp) || c.exp <= c.iat) throw bad('iat, exp: seconds, exp after iat');
  if (typeof c.jti !== 'string' || c.jti.length > 64) throw bad('jti: a string');
  if (typeof c.cnf !== 'string' || fromBase64Url(c.cnf)?.length !== 32) throw bad('cnf: a holder public key');
  const claims: Claims = { v: 1, sub: c.sub, iss: c.iss, iat: c.iat, exp: c.exp, jti: c.jti, cnf: c.cnf };
  return { claims, signed: `${parts[0]}.${parts[1]}`, signature };
}

/** The token part of a credential (what is sent), and its holder seed (what never is). */
export function splitCredential(credential: string): { token: string; seed: Uint8Array } {
  const text = credential.trim();
  const at = text.lastIndexOf('.');
  const seed = at > 0 ? fromBase64Url(text.slice(at + 1)) : undefined;
  if (text.length > MAX_TOKEN_CHARS || !seed || seed.length !== 32) throw new AuthError('MALFORMED', 'a credential is st1.<claims>.<signature>.<key> (from stateos token issue)');
  const token = text.slice(0, at);
  parseToken(token);
  return { token, seed };
}

const proofStatement = (binding: Uint8Array): Uint8Array => enc.encode(`stateos-api-proof/1\n${toBase64Url(binding)}`);

/** What a client sends in ApiRegister: its token, and a proof over this connection's binding. */
export async function presentCredential(credential: string, binding: Uint8Array): Promise<{ token: string; proof: string }> {
  const { token, seed } = splitCredential(credential);
  return { token, proof: toBase64Url(await sign(seed, proofStatement(binding))) };
}

export interface VerifyOptions {
  /** The raw public key of a trusted issuer by its key id, or undefined. */
  issuer(kid: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Seconds since the epoch; default now. */
  now?: number;
}

/** Checks a token's issuer, signature and dates (not who holds it); the claims, or AuthError saying why not. */
export async function verifyToken(token: string, opts: VerifyOptions): Promise<Claims> {
  const { claims, signed, signature } = parseToken(token);
  const issuerKey = await opts.issuer(claims.iss);
  if (!issuerKey) throw new AuthError('UNKNOWN_ISSUER', `no trusted issuer key ${claims.iss} in this cluster`);
  if (!(await crypto.subtle.verify(ED25519, await importPublic(issuerKey), new Uint8Array(signature), enc.encode(signed)))) {
    throw new AuthError('BAD_SIGNATURE', `the token's signature does not verify with issuer key ${claims.iss}`);
  }
  const now = Math.floor(opts.now ?? Date.now() / 1000);
  if (claims.exp + CLOCK_SKEW_S <= now) throw new AuthError('EXPIRED', `the token for ${claims.sub} expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (claims.iat - CLOCK_SKEW_S > now) throw new AuthError('NOT_YET_VALID', `the token for ${claims.sub} is issued in the future (${new Date(claims.iat * 1000).toISOString()})`);
  return claims;
}

/** Checks a token and its proof over `binding`; the claims, or AuthError saying why not. */
export async function verifyPresentation(token: string, proof: string | undefined, binding: Uint8Array, opts: VerifyOptions): Promise<Claims> {
  const claims = await verifyToken(token, opts);
  const p = proof === undefined ? undefined : fromBase64Url(proof);
  if (!p || p.length !== 64) throw new AuthError('BAD_PROOF', 'a token needs a proof: the holder key\'s signature over this connection\'s binding');
  const holder = await importPublic(fromBase64Url(claims.cnf)!);
  if (!(await crypto.subtle.verify(ED25519, holder, new Uint8Array(p), new Uint8Array(proofStatement(binding))))) {
    throw new AuthError('BAD_PROOF', 'the proof was not made over this connection with the token\'s holder key (a replayed or borrowed token)');
  }
  return claims;
}
