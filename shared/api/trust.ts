// Trusted token issuers (docs/IDENTITY.md): each server publishes the public half of its installation's
// issuer key (DIR/admin.key) as a metadata STU of type 0x0010, so a token issued with any server's key is
// accepted by every server of the cluster. Only servers write STUs (a viewer's are never stored, and a
// server is admitted by the cluster key), so an issuer STU is as trusted as the cluster key.
//   <issuer version="1" object="GUID" kid="16 hex" key="base64url raw Ed25519" server="GUID"/>
// A later STU of the chain may say revoked="1": tokens of that key are refused from then on.
import { badCommand } from '../media/playlist-errors.ts';
import { buildCommand, parseCommand } from '../media/playlist-xml.ts';
import type { StateEngine } from '../state/engine.ts';
import type { StateApp } from '../state/types.ts';
import { guidFromBytes, type Guid, isGuid } from '../stu/guid.ts';
import type { Stu } from '../stu/index.ts';
import { fromBase64Url, toBase64Url } from '../util/base64.ts';
import { issuerKid } from './token.ts';

export const ISSUER_TYPE = 0x0010;
const LIMITS = { maxBytes: 4096, maxOps: 0 };

export interface Issuer {
  object: Guid;
  kid: string;
  /** Raw Ed25519 public key, base64url. */
  key: string;
  /** The server that published it. */
  server: Guid;
  revoked: boolean;
}

/** The object GUID of an issuer key's chain: its key id twice (the same on every server). */
export const issuerObject = (kid: string): Guid => {
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) b[i] = b[i + 8] = parseInt(kid.substr(i * 2, 2), 16);
  return guidFromBytes(b, 0);
};

export function encodeIssuer(i: Issuer): Uint8Array {
  return buildCommand('issuer', i.object, { kid: i.kid, key: i.key, server: i.server, ...(i.revoked ? { revoked: '1' } : {}) }, [], LIMITS);
}

export function decodeIssuer(body: Uint8Array): Issuer {
  const cmd = parseCommand(body, 'issuer', LIMITS);
  const { kid, key, server, revoked, ...extra } = cmd.attrs;
  if (Object.keys(extra).length > 0 || cmd.ops.length > 0) throw badCommand('<issuer> takes kid, key, server, revoked and nothing else');
  if (typeof kid !== 'string' || !/^[0-9a-f]{16}$/.test(kid)) throw badCommand('<issuer> kid: 16 hex digits');
  if (typeof key !== 'string' || fromBase64Url(key)?.length !== 32) throw badCommand('<issuer> key: a raw Ed25519 public key, base64url');
  if (!isGuid(server)) throw badCommand('<issuer> server: a GUID');
  if (revoked !== undefined && revoked !== '1') throw badCommand('<issuer> revoked: 1 or absent');
  if (cmd.object !== issuerObject(kid)) throw badCommand(`<issuer> object ${cmd.object} is not the one of key ${kid}`);
  return { object: cmd.object, kid, key, server, revoked: revoked === '1' };
}

/** Each STU states the issuer whole; a revoked key stays revoked (a later STU cannot bring it back). */
export const trustApp: StateApp<Issuer> = {
  types: [ISSUER_TYPE],
  policy: 'first-wins',
  apply(state, stu: Stu) {
    const next = decodeIssuer(stu.body);
    if (next.object !== stu.header.object) throw badCommand(`an issuer for ${next.object} in an STU of object ${stu.header.object}`);
    if (state && (state.kid !== next.kid || state.key !== next.key)) throw badCommand(`issuer ${state.kid} cannot change its key`);
    return state?.revoked ? state : next;
  },
  summarize: (i) => encodeIssuer(i),
};

/** The issuer STU body for a public key, published by `server`. */
export async function issuerFor(publicKey: Uint8Array, server: Guid): Promise<Issuer> {
  const kid = await issuerKid(publicKey);
  return { object: issuerObject(kid), kid, key: toBase64Url(publicKey), server, revoked: false };
}

/**
 * The trusted public key of `kid` in `engine`, or undefined (unknown or revoked). The key id is checked
 * against the key itself: an issuer STU cannot lend its name to another key.
 */
export async function trustedIssuer(engine: StateEngine, kid: string): Promise<Uint8Array | undefined> {
  if (!/^[0-9a-f]{16}$/.test(kid)) return undefined;
  const state = engine.get<Issuer>(issuerObject(kid), ISSUER_TYPE)?.state;
  if (!state || state.revoked || state.kid !== kid) return undefined;
  const key = fromBase64Url(state.key);
  return key && (await issuerKid(key)) === kid ? key : undefined;
}
