// Access control at the doors that speak HTTP or RTSP rather than the State API (docs/API.md, "Access
// control"): the HLS and RTSP gateways and the HTTP API's reads. A request names its caller with a ticket
// (shared/api/ticket.ts: in the path, /t/<ticket>/…, or `Authorization: Bearer <ticket>`), or it is
// anonymous; each media and channel it touches is checked with the same decision the State API makes. A
// resource the caller may not read is answered as one that does not exist (no oracle).
import { type Caller } from '../../shared/api/acl.ts';
import { ANONYMOUS_CALLER, mayRead } from '../../shared/api/access.ts';
import { type Ticket, verifyTicket } from '../../shared/api/ticket.ts';
import { userGuid } from '../../shared/api/token.ts';
import { channelByName } from '../../shared/media/channel.ts';
import { CHANNEL, MEDIA_META, PLAYLIST } from '../../shared/media/stu-types.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import type { Guid } from '../../shared/stu/guid.ts';
import type { ClusterKey } from '../../shared/sync/admission.ts';

export type DoorCaller = Caller & { guid?: Guid; object?: Guid };

export interface Doors {
  /** Who a request is: its ticket's user, or anonymous without one. Throws AuthError for a bad ticket. */
  caller(ticket: string | undefined): Promise<DoorCaller>;
  media(c: DoorCaller, id: string): boolean;
  channel(c: DoorCaller, name: string): boolean;
  playlist(c: DoorCaller, id: string): boolean;
}

export function doors(engine: StateEngine, key: ClusterKey): Doors {
  const scoped = (c: DoorCaller, id: string) => c.object === undefined || c.object === id;
  return {
    async caller(ticket) {
      if (ticket === undefined) return ANONYMOUS_CALLER;
      const t: Ticket = await verifyTicket(key, ticket);
      return { user: t.user, anonymous: false, guid: await userGuid(t.user), object: t.object };
    },
    media: (c, id) => scoped(c, id) && mayRead(engine, c, id, MEDIA_META),
    playlist: (c, id) => scoped(c, id) && mayRead(engine, c, id, PLAYLIST),
    channel: (c, name) => {
      const ch = channelByName(engine, name);
      return ch !== undefined && scoped(c, ch.id) && mayRead(engine, c, ch.id, CHANNEL);
    },
  };
}

/** The ticket of an HTTP request's `Authorization: Bearer` header, if any. */
export const bearer = (header: string | undefined): string | undefined => /^Bearer ([A-Za-z0-9_.-]{1,512})$/.exec(header ?? '')?.[1];
