// `stateos acl show|set|grant|revoke OBJECT …`: who may read and change a business object (docs/API.md,
// "Access control"). With --server URL through the State API as the credential's user (GetAcl/SetAcl: the
// owner's right); without, on the data folder as the installation (any object, the ACL STU written with
// the nil user GUID; refused with advice while a server locks the folder). OBJECT: a GUID, a GUID prefix
// (4+ characters), a media or playlist title, or a channel name.
import { type Acl, ACL_TYPE, ADMIN, encodeAcl, isUserName, normalizeAcl } from '../../shared/api/acl.ts';
import type { Kind } from '../../shared/api/service.ts';
import { CommandError } from '../../shared/media/playlist-errors.ts';
import { CHANNEL, MEDIA_META, PLAYLIST } from '../../shared/media/stu-types.ts';
import { type Guid, NIL_GUID } from '../../shared/stu/guid.ts';
import { cliCredential, remoteBackend } from './backend.ts';
import type { CommonOptions } from './main.ts';
import { UsageError } from './usage.ts';

export interface AclFlags {
  server?: string;
  credential?: string;
  owner?: string;
  readers?: string;
  writers?: string;
  json?: boolean;
}

interface Named {
  id: Guid;
  kind: Kind;
  names: string[];
}

/** The one object `ref` names among `all`. */
function pick(ref: string, all: Named[]): Named {
  const exact = all.filter((o) => o.id === ref);
  const found = exact.length ? exact : ref.length >= 4 && /^[0-9a-f-]+$/.test(ref) ? all.filter((o) => o.id.startsWith(ref)) : [];
  const named = found.length ? found : all.filter((o) => o.names.includes(ref));
  if (named.length === 0) throw new Error(`NOT_FOUND: no media, playlist or channel ${JSON.stringify(ref)}`);
  if (named.length > 1) throw new Error(`"${ref}" names ${named.length} objects (${named.map((o) => `${o.kind} ${o.id}`).join(', ')}); give the GUID`);
  return named[0];
}

const principals = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(',').map((p) => p.trim()).filter(Boolean));

type Change = Omit<Acl, 'owner'> & { owner?: string };

/**
 * What `sub` makes of the current ACL (undefined: show only). Without an ACL yet and without --owner, the
 * owner is left out: the server makes it the caller (who must own the object), offline it is `admin`.
 */
function change(sub: string, rest: string[], f: AclFlags, current: Acl | undefined, object: Guid): Change | undefined {
  const base: Change = current ?? { object, readers: [], writers: [] };
  if (sub === 'show') return undefined;
  if (sub === 'set') {
    if (f.owner !== undefined && !isUserName(f.owner)) throw new UsageError(`--owner: "${f.owner}" is not a user name`);
    return { object, owner: f.owner ?? base.owner, readers: principals(f.readers) ?? base.readers, writers: principals(f.writers) ?? base.writers };
  }
  if (sub === 'grant') {
    const [right, who] = rest;
    if (right !== 'read' && right !== 'write') throw new UsageError('usage: stateos acl grant OBJECT read|write PRINCIPAL');
    return right === 'read' ? { ...base, readers: [...base.readers, who] } : { ...base, writers: [...base.writers, who] };
  }
  const [who] = rest;
  return { ...base, readers: base.readers.filter((p) => p !== who), writers: base.writers.filter((p) => p !== who) };
}

export async function aclCommand(args: string[], f: AclFlags, common: CommonOptions, out: (s: string) => void): Promise<number> {
  const [sub, ref, ...rest] = args;
  const arity: Record<string, number> = { show: 0, set: 0, grant: 2, revoke: 1 };
  if (!sub || !(sub in arity) || ref === undefined || rest.length !== arity[sub]) {
    throw new UsageError('acl: show OBJECT | set OBJECT [--owner U] [--readers A,B] [--writers C] | grant OBJECT read|write PRINCIPAL | revoke OBJECT PRINCIPAL');
  }
  if (f.server === undefined && f.credential !== undefined) throw new UsageError('--credential goes with --server URL (on the data folder the CLI acts as the installation)');
  if (f.server !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(f.server)) throw new UsageError(`--server: "${f.server}" is not http://HOST:PORT`);
  const print = (acl: Acl | { object: Guid; owner: null; readers: string[]; writers: string[] }) => {
    if (f.json) out(JSON.stringify(acl));
    else out(`${acl.object}\towner ${acl.owner ?? '(none: the server\'s own object)'}\treaders ${acl.readers.join(',') || '-'}\twriters ${acl.writers.join(',') || '-'}`);
  };
  try {
    if (f.server !== undefined) {
      const b = await remoteBackend(f.server, { credential: await cliCredential({ file: f.credential, dir: common.dir, log: common.log }) });
      try {
        const c = b.client;
        const all: Named[] = await b.call(async () => [
          ...(await c.list('media')).map((o) => ({ id: o.id, kind: o.kind, names: [(o.view as { title?: string }).title ?? ''] })),
          ...(await c.list('playlist')).map((o) => ({ id: o.id, kind: o.kind, names: [(o.view as { title?: string }).title ?? ''] })),
          ...(await c.list('channel')).map((o) => ({ id: o.id, kind: o.kind, names: [(o.view as { name?: string }).name ?? ''] })),
        ]);
        const o = pick(ref, all);
        const got = await b.call(() => c.getAcl(o.id));
        const next = change(sub, rest, f, got.owner === null ? undefined : (got as Acl), o.id);
        print(next ? await b.call(() => c.setAcl(o.id, next)) : got);
      } finally {
        await b.close();
      }
      return 0;
    }
    const { StateNode } = await import('../node.ts');
    const { LockedError } = await import('../ring/lock.ts');
    const node = await StateNode.open({ ...common, readOnly: sub === 'show' }).catch((e: unknown) => {
      if (e instanceof LockedError) throw new Error(`${e.message.replace(/;.*$/, '')} (a running server); add --server http://HOST:PORT (its --http address) to go through it`);
      throw e;
    });
    try {
      const e = node.engine;
      const title = (o: { state?: unknown }) => ((o.state as { title?: string } | undefined)?.title ?? '');
      const all: Named[] = [
        ...e.list(MEDIA_META).map((o) => ({ id: o.id, kind: 'media' as const, names: [title(o)] })),
        ...e.list(PLAYLIST).map((o) => ({ id: o.id, kind: 'playlist' as const, names: [title(o)] })),
        ...e.list(CHANNEL).map((o) => ({ id: o.id, kind: 'channel' as const, names: [(o.state as { name?: string } | undefined)?.name ?? ''] })),
      ];
      const o = pick(ref, all);
      const current = e.get<Acl>(o.id, ACL_TYPE);
      const next = change(sub, rest, f, current?.state, o.id);
      if (!next) {
        print(current?.state ?? { object: o.id, owner: null, readers: [], writers: [] });
        return 0;
      }
      await node.stus.create({ type: ACL_TYPE, object: o.id, prevTs: current?.ts ?? 0n, user: NIL_GUID }, encodeAcl(normalizeAcl({ ...next, owner: next.owner ?? ADMIN })));
      print(e.get<Acl>(o.id, ACL_TYPE)!.state!);
      return 0;
    } finally {
      await node.close();
    }
  } catch (e) {
    if (e instanceof CommandError) throw new UsageError(e.message);
    throw e;
  }
}

/** `ingest --private`: the media is `owner`'s alone (an ACL STU right after it). */
export async function makePrivate(node: { stus: { create: (init: { type: number; object: Guid; prevTs: bigint; user: Guid }, body: Uint8Array) => Promise<unknown> } }, id: Guid, owner = ADMIN): Promise<void> {
  if (!isUserName(owner)) throw new UsageError(`--owner: "${owner}" is not a user name`);
  await node.stus.create({ type: ACL_TYPE, object: id, prevTs: 0n, user: NIL_GUID }, encodeAcl({ object: id, owner, readers: [], writers: [] }));
}
