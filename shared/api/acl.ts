// Access control lists (docs/API.md, "Access control"): who may read and write a business object. An ACL is
// a business object of its own, STU type 0x0011, whose object GUID is the GUID of the object it governs,
// so it replicates like every metadata STU and every server decides the same. Each ACL STU states the
// whole list (the latest wins by the chain's order; two concurrent changes are a first-wins collision,
// resolved the same everywhere):
//   <acl version="1" object="GUID" owner="alice"><read who="bob"/><read who="anonymous"/><write who="*"/></acl>
// A principal is a user name, `*` (any authenticated user) or `anonymous` (a client with no token).
// The decision functions are pure: the API layer calls them with the caller's identity on every operation.
import type { Guid } from '../stu/guid.ts';
import type { Stu } from '../stu/index.ts';
import { buildCommand, parseCommand } from '../media/playlist-xml.ts';
import { badCommand } from '../media/playlist-errors.ts';
import type { StateApp } from '../state/types.ts';

export const ACL_TYPE = 0x0011;
export const ANYONE = '*';
export const ANONYMOUS = 'anonymous';
/** The installation's administrator: may change what the server wrote itself (shared/api/access.ts). */
export const ADMIN = 'admin';
/** Principals one ACL may name (readers and writers together). */
export const MAX_PRINCIPALS = 256;
const LIMITS = { maxBytes: 32 * 1024, maxOps: MAX_PRINCIPALS };
/** A user name: what tokens carry (shared/api/token.ts). */
const USER_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export const isUserName = (s: string): boolean => USER_RE.test(s) && s !== ANONYMOUS;
const isPrincipal = (s: string): boolean => s === ANYONE || s === ANONYMOUS || isUserName(s);

export interface Acl {
  object: Guid;
  owner: string;
  readers: string[];
  writers: string[];
}

/** Who asks: an authenticated user, or anonymous. */
export interface Caller {
  user: string;
  anonymous: boolean;
}

export type Right = 'read' | 'write' | 'admin';

/** Does `caller` match `principal`? */
function matches(principal: string, caller: Caller): boolean {
  if (caller.anonymous) return principal === ANONYMOUS;
  return principal === ANYONE || principal === caller.user;
}

/**
 * May `caller` do `right` on an object? `acl` is the object's ACL (undefined: it has none), `owner` the user
 * who created the object when it has no ACL. The owner may do everything; writers may read; `admin`
 * (changing the ACL) is the owner's alone. An object without an ACL is its owner's alone; one whose owner
 * is not known either is nobody's (only an ACL opens it).
 */
export function allowed(right: Right, caller: Caller, acl: Acl | undefined, owner?: string): boolean {
  const own = acl?.owner ?? owner;
  if (own !== undefined && !caller.anonymous && caller.user === own) return true;
  if (!acl || right === 'admin') return false;
  if (acl.writers.some((p) => matches(p, caller))) return true;
  return right === 'read' && acl.readers.some((p) => matches(p, caller));
}

function unique(list: string[], what: string): string[] {
  const seen = new Set<string>();
  for (const p of list) {
    if (!isPrincipal(p)) throw badCommand(`${what} "${p}": not a user name, "${ANYONE}" or "${ANONYMOUS}"`);
    seen.add(p);
  }
  return [...seen];
}

/** Checks an ACL a caller wants to write; returns it with duplicates removed. Throws CommandError. */
export function normalizeAcl(acl: Acl): Acl {
  if (!isUserName(acl.owner)) throw badCommand(`owner "${acl.owner}": not a user name`);
  const readers = unique(acl.readers, 'reader');
  const writers = unique(acl.writers, 'writer');
  if (readers.length + writers.length > MAX_PRINCIPALS) throw badCommand(`${readers.length + writers.length} principals (at most ${MAX_PRINCIPALS})`);
  return { object: acl.object, owner: acl.owner, readers, writers };
}

export function encodeAcl(acl: Acl): Uint8Array {
  const a = normalizeAcl(acl);
  const ops = [...a.readers.map((who) => ({ name: 'read', attrs: { who } })), ...a.writers.map((who) => ({ name: 'write', attrs: { who } }))];
  return buildCommand('acl', a.object, { owner: a.owner }, ops, LIMITS);
}

/** Parses an ACL STU body. Throws CommandError (BAD_XML, BAD_COMMAND, TOO_LARGE). */
export function decodeAcl(body: Uint8Array): Acl {
  const cmd = parseCommand(body, 'acl', LIMITS);
  const { owner, ...extra } = cmd.attrs;
  if (Object.keys(extra).length > 0) throw badCommand(`<acl> has unknown attributes: ${Object.keys(extra).join(', ')}`);
  if (typeof owner !== 'string') throw badCommand('<acl> has no owner');
  const readers: string[] = [];
  const writers: string[] = [];
  for (const op of cmd.ops) {
    const { who, ...rest } = op.attrs;
    if (Object.keys(rest).length > 0 || typeof who !== 'string') throw badCommand(`<${op.name}> takes one attribute, who`);
    if (op.name === 'read') readers.push(who);
    else if (op.name === 'write') writers.push(who);
    else throw badCommand(`<${op.name}>: an ACL holds <read> and <write>`);
  }
  return normalizeAcl({ object: cmd.object, owner, readers, writers });
}

/** The ACL application: each STU states the whole list; the chain's latest applied one is the ACL. */
export const aclApp: StateApp<Acl> = {
  types: [ACL_TYPE],
  policy: 'first-wins',
  apply(_state, stu: Stu) {
    const acl = decodeAcl(stu.body);
    if (acl.object !== stu.header.object) throw badCommand(`an ACL for ${acl.object} in an STU of object ${stu.header.object}`);
    return acl;
  },
  summarize: (acl) => encodeAcl(acl),
};
