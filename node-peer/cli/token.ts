// `stateos token issue --user NAME [--ttl 30d]`: a credential signed with the installation's issuer key
// (DIR/admin.key, made on first use; a server publishes its public half at start). `stateos token verify
// CREDENTIAL|TOKEN`: checks one against this data folder's issuer key, and says who and until when.
import { issueCredential, issuerKid, MAX_TTL_S, publicKeyOf, splitCredential, verifyToken } from '../../shared/api/token.ts';
import { toBase64Url } from '../../shared/util/base64.ts';
import { loadAdminKey } from '../api/identity.ts';
import type { CommonOptions } from './main.ts';
import { UsageError } from './usage.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** 3600, 90s, 30m, 12h, 30d. */
export function parseTtl(s: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(s);
  const n = m ? Number(m[1]) * UNITS[m[2] || 's'] : 0;
  if (!(n > 0 && n <= MAX_TTL_S)) throw new UsageError(`--ttl: "${s}" is not a duration of 1s to 366d (e.g. 3600, 90s, 30m, 12h, 30d)`);
  return n;
}

const iso = (s: number) => new Date(s * 1000).toISOString();

export async function tokenCommand(args: string[], v: { user?: string; ttl?: string; json?: boolean }, common: CommonOptions, out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'issue') {
    if (rest.length > 0) throw new UsageError('token issue takes no arguments (--user NAME)');
    if (v.user === undefined) throw new UsageError('token issue needs --user NAME');
    const ttlS = parseTtl(v.ttl ?? '30d');
    const key = (await loadAdminKey(common.dir, true))!;
    const { credential, claims } = await issueCredential(key.seed, { user: v.user, ttlS }).catch((e: unknown) => {
      throw e instanceof RangeError ? new UsageError(e.message) : e;
    });
    if (v.json) out(JSON.stringify({ credential, user: claims.sub, issuer: claims.iss, expires: iso(claims.exp), jti: claims.jti }));
    else {
      out(credential);
      process.stderr.write(`stateos: a credential for ${claims.sub} (issuer key ${claims.iss}) valid until ${iso(claims.exp)}; keep it like a password\n`);
    }
    return 0;
  }
  if (sub === 'verify') {
    if (rest.length !== 1) throw new UsageError('token verify takes one CREDENTIAL or TOKEN');
    const key = await loadAdminKey(common.dir, false);
    if (!key) throw new Error(`${common.dir} has no admin.key: nothing to verify against`);
    const kid = await issuerKid(key.publicKey);
    const text = rest[0].trim();
    const credential = text.split('.').length === 4 ? splitCredential(text) : undefined;
    const claims = await verifyToken(credential?.token ?? text, { issuer: (k) => (k === kid ? key.publicKey : undefined) });
    // a credential also carries the holder key: it must be the half of the token's cnf
    if (credential && toBase64Url(await publicKeyOf(credential.seed)) !== claims.cnf) throw new Error('BAD_PROOF: the credential\'s holder key is not the token\'s');
    if (v.json) out(JSON.stringify({ valid: true, user: claims.sub, issuer: claims.iss, issued: iso(claims.iat), expires: iso(claims.exp), jti: claims.jti }));
    else out(`valid: ${claims.sub}, issuer key ${claims.iss}, until ${iso(claims.exp)}`);
    return 0;
  }
  throw new UsageError('token: issue --user NAME [--ttl 30d] | verify CREDENTIAL');
}
