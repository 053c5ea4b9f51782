// Who may do what to a business object (docs/API.md, "Access control"): the one decision every surface
// asks (the State API, the HTTP API, the HLS and RTSP gateways, the segment service), so a server never
// hands out through one door what another refuses. Pure over the engine's state.
import type { StateEngine } from '../state/engine.ts';
import type { BusinessObject } from '../state/types.ts';
import { type Guid, NIL_GUID } from '../stu/guid.ts';
import { type Acl, ACL_TYPE, ADMIN, ANONYMOUS, allowed, type Caller, type Right } from './acl.ts';

export const ANONYMOUS_CALLER: Caller = { user: ANONYMOUS, anonymous: true };

/**
 * May `caller` (whose user GUID is `guid`) do `right` on `o`? An object the server wrote itself (nil user
 * GUID: the CLI's ingest, the sample, the HTTP API, an upload) and without an ACL may be read by everyone
 * and changed through the API only by the installation's administrator (user `admin`); otherwise the ACL
 * decides, and without one the creator alone.
 */
export function mayAccess(engine: StateEngine, right: Right, caller: Caller & { guid?: Guid }, o: BusinessObject): boolean {
  const acl = engine.get<Acl>(o.id, ACL_TYPE)?.state;
  if (!acl && o.owner === NIL_GUID) return right === 'read' || (!caller.anonymous && caller.user === ADMIN);
  return allowed(right, caller, acl, caller.guid !== undefined && o.owner === caller.guid && !caller.anonymous ? caller.user : undefined);
}

/** May `caller` read object `id` of STU type `type`? False for an object that does not exist. */
export function mayRead(engine: StateEngine, caller: Caller & { guid?: Guid }, id: Guid, type: number): boolean {
  const o = engine.get(id, type);
  return o !== undefined && !o.deleted && mayAccess(engine, 'read', caller, o);
}
