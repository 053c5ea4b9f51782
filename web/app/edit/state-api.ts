// The writes of a signed-in tab: the State API as the credential's user (web/app/core/identity.ts), with
// the same answers as the HTTP API's (web/app/edit/api.ts), so the editors do not know which one they use.
// What is created is readable by anonymous and every user, as from the CLI (docs/API.md).
import { ANONYMOUS, ANYONE } from '../../../shared/api/acl.ts';
import type { ApiClient } from '../../../shared/api/client.ts';
import type { Guid } from '../../../shared/stu/guid.ts';
import { StxError } from '../../../shared/stx/errors.ts';
import type { Identity } from '../core/identity.ts';
import { ApiError, type EditApi, type NewChannel, type PlaylistWritten, type Written } from './api.ts';
import type { ChannelOp, PlaylistOp } from './input.ts';

const PUBLIC = { readers: [ANONYMOUS, ANYONE] };

export class StateEditApi implements EditApi {
  constructor(
    readonly base: string,
    private readonly identity: Identity,
  ) {}

  async createPlaylist(title: string): Promise<PlaylistWritten> {
    return this.call(async (c) => written(await c.create('playlist', { title }, PUBLIC)));
  }

  async editPlaylist(id: string, ops: PlaylistOp[]): Promise<PlaylistWritten> {
    return this.call(async (c) => written(await c.modify(id as Guid, { ops })));
  }

  async deletePlaylist(id: string): Promise<{ id: string; deleted: true }> {
    return this.call(async (c) => {
      await c.delete(id as Guid);
      return { id, deleted: true as const };
    });
  }

  async createChannel(ch: NewChannel): Promise<Written & { name: string }> {
    return this.call(async (c) => written(await c.create('channel', ch, PUBLIC)));
  }

  async editChannel(id: string, ops: ChannelOp[]): Promise<Written> {
    return this.call(async (c) => written(await c.modify(id as Guid, { ops })));
  }

  async deleteChannel(id: string): Promise<{ id: string; name: string; deleted: true }> {
    return this.call(async (c) => {
      const name = ((await c.get(id as Guid)).view as { name?: string }).name ?? '';
      await c.delete(id as Guid);
      return { id, name, deleted: true as const };
    });
  }

  private async call<T>(fn: (c: ApiClient) => Promise<T>): Promise<T> {
    let c: ApiClient | undefined;
    try {
      c = await this.identity.client();
    } catch (e) {
      throw new ApiError(`could not reach the State API of ${this.base}: ${(e as Error).message}`, 0);
    }
    if (!c) throw new ApiError('signed out', 0, 'UNAUTHENTICATED');
    try {
      return await fn(c);
    } catch (e) {
      if (e instanceof StxError && e.remoteCode) {
        const code = e.remoteCode;
        throw new ApiError(e.message.replace(/^.*?peer replied [A-Z_]+: /, '').replace(`${code}: `, ''), code === 'NOT_FOUND' ? 404 : code === 'FORBIDDEN' ? 403 : code === 'CONFLICT' ? 409 : 400, code);
      }
      throw e;
    }
  }
}

/** The object as the editors read it back: the view, with the API's id and version. */
function written<T>(o: { id: string; version: string; view: unknown }): T {
  return { ...(o.view as object), id: o.id, version: o.version } as T;
}
