// Identity on a Node server (docs/IDENTITY.md): the installation's issuer key in DIR/admin.key (made on
// first use, readable by its owner only), its public half published to the cluster as an issuer STU, and
// the authenticator every API connection uses: a token with a proof over the connection's binding, or
// anonymous unless the installation switched that off (--no-anonymous).
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ANONYMOUS } from '../../shared/api/acl.ts';
import type { Identity } from '../../shared/api/service.ts';
import { AuthError, generateKeyPair, publicKeyOf, userGuid, verifyPresentation } from '../../shared/api/token.ts';
import { encodeIssuer, type Issuer, ISSUER_TYPE, issuerFor, trustedIssuer } from '../../shared/api/trust.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import { NIL_GUID } from '../../shared/stu/guid.ts';
import { fromBase64Url, toBase64Url } from '../../shared/util/base64.ts';
import type { StateNode } from '../node.ts';

const HEADER = 'stateos-admin-key/1';
export const ADMIN_KEY_FILE = 'admin.key';

export interface AdminKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  path: string;
}

/**
 * The issuer key of the installation in `dir`. Made (mode 0600) when there is none and `create`; refused
 * when others may read it (as ssh does with private keys) or when it is not a key of ours.
 */
export async function loadAdminKey(dir: string, create: boolean): Promise<AdminKey | undefined> {
  const path = join(dir, ADMIN_KEY_FILE);
  let text: string;
  try {
    const st = await stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new Error(`${path} may be read by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (!create) return undefined;
    const { seed, publicKey } = await generateKeyPair();
    await mkdir(dir, { recursive: true });
    await writeFile(path, `${HEADER} ${toBase64Url(seed)}\n`, { mode: 0o600, flag: 'wx' }).catch(async (w: NodeJS.ErrnoException) => {
      if (w.code !== 'EEXIST') throw w; // made by another process meanwhile: use that one
    });
    await chmod(path, 0o600);
    if ((await readFile(path, 'utf8')).includes(toBase64Url(seed))) return { seed, publicKey, path };
    return loadAdminKey(dir, false);
  }
  const m = new RegExp(`^${HEADER} ([A-Za-z0-9_-]{43})\\s*$`).exec(text);
  const seed = m ? fromBase64Url(m[1]) : undefined;
  if (!seed || seed.length !== 32) throw new Error(`${path} is not a stateos admin key ("${HEADER} <key>")`);
  return { seed, publicKey: await publicKeyOf(seed), path };
}

/** Writes this installation's issuer STU unless the cluster has it already. */
export async function publishIssuer(node: StateNode, key: AdminKey): Promise<Issuer> {
  const issuer = await issuerFor(key.publicKey, node.guid);
  const current = node.engine.get<Issuer>(issuer.object, ISSUER_TYPE);
  if (current?.state?.key === issuer.key) return current.state;
  await node.stus.create({ type: ISSUER_TYPE, object: issuer.object, prevTs: current?.ts ?? 0n, user: NIL_GUID }, encodeIssuer(issuer));
  return issuer;
}

const ANONYMOUS_IDENTITY: Identity = { user: ANONYMOUS, anonymous: true, guid: NIL_GUID };

/** The default authenticator: tokens of the cluster's issuers, with a proof; anonymous when allowed. */
export function tokenAuthenticator(engine: StateEngine, opts: { anonymous: boolean; now?: () => number }) {
  return async (req: { token?: string; proof?: string; binding: Uint8Array }): Promise<Identity> => {
    if (req.token === undefined) {
      if (!opts.anonymous) throw new AuthError('NO_TOKEN', 'this server admits no anonymous clients (--no-anonymous): register with a token');
      return ANONYMOUS_IDENTITY;
    }
    const claims = await verifyPresentation(req.token, req.proof, req.binding, { issuer: (kid) => trustedIssuer(engine, kid), now: opts.now?.() });
    return { user: claims.sub, anonymous: false, guid: await userGuid(claims.sub) };
  };
}
