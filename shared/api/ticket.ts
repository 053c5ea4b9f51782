// Tickets: short-lived bearer credentials for the doors that cannot make a proof over a connection (HTTP,
// HLS, RTSP: any player, curl). A registered API client asks for one (`Ticket`), optionally for one object,
// and puts it in a URL path (`/hls/t/<ticket>/media/<id>/index.m3u8`, `rtsp://…/t/<ticket>/media/<id>`, so
// players resolve relative URLs inside it) or in `Authorization: Bearer <ticket>`. It is a MAC under the
// cluster key, so every server of the cluster accepts it; it names the user (not a token: nothing in it
// lets anyone register), expires within minutes, and may be limited to one object.
//   tk1.<base64url JSON {sub, exp, obj?}>.<base64url HMAC-SHA256(cluster key, "stateos-ticket/1\n" + claims)>
import type { ClusterKey } from '../sync/admission.ts';
import { type Guid, isGuid } from '../stu/guid.ts';
import { fromBase64Url, toBase64Url } from '../util/base64.ts';
import { isUserName } from './acl.ts';
import { AuthError } from './token.ts';

export const TICKET_TTL_S = 600;
const MAX_TICKET_CHARS = 512;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const statement = (claims: string) => enc.encode(`stateos-ticket/1\n${claims}`);

export interface Ticket {
  user: string;
  /** Seconds since the epoch. */
  exp: number;
  /** When set, the ticket opens this object only. */
  object?: Guid;
}

export async function issueTicket(key: ClusterKey, t: { user: string; object?: Guid; ttlS?: number; now?: number }): Promise<string> {
  const exp = Math.floor(t.now ?? Date.now() / 1000) + (t.ttlS ?? TICKET_TTL_S);
  const claims = toBase64Url(enc.encode(JSON.stringify({ sub: t.user, exp, ...(t.object ? { obj: t.object } : {}) })));
  return `tk1.${claims}.${toBase64Url(await key.mac(statement(claims)))}`;
}

/** The ticket's user and scope, or AuthError (MALFORMED, BAD_SIGNATURE, EXPIRED). */
export async function verifyTicket(key: ClusterKey, text: string, now = Date.now() / 1000): Promise<Ticket> {
  const parts = text.length <= MAX_TICKET_CHARS ? text.split('.') : [];
  const mac = parts.length === 3 && parts[0] === 'tk1' ? fromBase64Url(parts[2]) : undefined;
  const body = mac ? fromBase64Url(parts[1]) : undefined;
  if (!mac || !body) throw new AuthError('MALFORMED', 'a ticket is tk1.<claims>.<mac>');
  if (!(await key.checkMac(statement(parts[1]), mac))) throw new AuthError('BAD_SIGNATURE', 'the ticket was not made by this cluster');
  let c: { sub?: unknown; exp?: unknown; obj?: unknown };
  try {
    c = JSON.parse(dec.decode(body)) as typeof c;
  } catch {
    throw new AuthError('MALFORMED', 'the ticket claims are not JSON');
  }
  if (typeof c.sub !== 'string' || !isUserName(c.sub) || !Number.isSafeInteger(c.exp) || (c.obj !== undefined && !isGuid(c.obj))) throw new AuthError('MALFORMED', 'ticket claims: sub, exp, obj');
  if ((c.exp as number) <= now) throw new AuthError('EXPIRED', `the ticket expired at ${new Date((c.exp as number) * 1000).toISOString()}`);
  return { user: c.sub, exp: c.exp as number, ...(c.obj ? { object: c.obj as Guid } : {}) };
}

/** `/t/<ticket>/rest` → the ticket and `/rest`; any other path as it is. */
export function splitTicketPath(path: string): { ticket?: string; path: string } {
  const m = /^\/t\/([A-Za-z0-9_.-]{1,512})(\/.*)$/.exec(path);
  return m ? { ticket: m[1], path: m[2] } : { path };
}
