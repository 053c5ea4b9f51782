// The State API on a Node server, over WebRTC: a client POSTs an SDP offer to /api/client, opens the `stx`
// channel on the link, and speaks the State API (shared/api/service.ts) on it. Its channel binding is a
// hash of both DTLS fingerprints (what a token's proof is made over). Identity: the authenticator the server
// gives (node-peer/api/identity.ts: tokens, anonymous unless --no-anonymous; docs/IDENTITY.md), or, when
// none is given, anonymous only (a client that presents a token is refused, not
// let in as anonymous). Limits: clients at once (default 256), links being negotiated (16), offer size (64 KiB).
import type { Logger } from '../../shared/log.ts';
import { ANONYMOUS } from '../../shared/api/acl.ts';
import type { Redirect } from '../../shared/api/redirect.ts';
import { type ApiServiceOptions, type Identity, serveApi } from '../../shared/api/service.ts';
import type { ObjectWriter } from '../../shared/media/playlist-edit.ts';
import type { StateEngine } from '../../shared/state/engine.ts';
import { type Guid, NIL_GUID } from '../../shared/stu/index.ts';
import { SignalingConnection } from '../../shared/stx/connection.ts';
import { err } from '../../shared/stx/errors.ts';
import type { WebrtcLink } from '../../shared/stx/link/link.ts';
import { SIGNALING_LABEL } from '../../shared/stx/transport.ts';
import { fingerprintText } from '../../shared/sync/admission.ts';
import { readJson, type Route, sendError, sendJson } from '../http/server.ts';

/** What every State API connection of a server is served with, over either transport. */
export interface ClientServiceOptions {
  engine: StateEngine;
  writerFor(user: Guid): ObjectWriter;
  /** Who a client is (ApiRegister's token and proof); default: anonymous only, a token refused. */
  authenticate?: ApiServiceOptions['authenticate'];
  /** Tickets for the HTTP/HLS/RTSP doors (node-peer/api/doors.ts). */
  tickets?: ApiServiceOptions['tickets'];
  /** This server's GUID, told to registering clients. */
  server?: string;
  /** Media uploads and downloads through the API (shared/api/files.ts). */
  uploads?: ApiServiceOptions['uploads'];
  downloads?: ApiServiceOptions['downloads'];
  /** Where to send a client registering from `address` instead (shared/api/redirect.ts). */
  redirect?(address: string | undefined): Redirect | undefined;
  /** The URLs of the other servers, offered to clients to measure. */
  servers?(): string[];
  log: Logger;
}

/** Serves the State API on the connection of a client from `address`, bound to `binding`. */
export function serveClient(conn: SignalingConnection, opts: ClientServiceOptions, address: string | undefined, binding: ApiServiceOptions['binding']) {
  return serveApi(conn, {
    engine: opts.engine,
    writerFor: opts.writerFor,
    authenticate: opts.authenticate ?? anonymousOnly,
    tickets: opts.tickets,
    server: opts.server,
    uploads: opts.uploads,
    downloads: opts.downloads,
    redirect: opts.redirect && (() => opts.redirect?.(address)),
    servers: opts.servers,
    binding,
    log: opts.log,
  });
}

export interface ApiRoutesOptions extends ClientServiceOptions {
  newLink(): WebrtcLink;
  maxClients?: number;
  maxPending?: number;
  /** Clients one address may have at once. Default 128. */
  maxPerAddress?: number;
}

/** What a link is bound to: SHA-256 over both DTLS fingerprints, sorted (each side computes the same). */
export async function linkBinding(link: Pick<WebrtcLink, 'localFingerprint' | 'remoteFingerprint'>): Promise<Uint8Array> {
  const fps = [fingerprintText(link.localFingerprint), fingerprintText(link.remoteFingerprint)].sort().join('\n');
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`stateos-api-binding/1\n${fps}`)));
}

/** The identity of a client where no authenticator is given: anonymous, or refused when it presents a token. */
export async function anonymousOnly(req: { token?: string }): Promise<Identity> {
  if (req.token !== undefined) throw new Error('NO_AUTHENTICATOR: this server does not accept tokens yet; register without one (anonymous)');
  return { user: ANONYMOUS, anonymous: true, guid: NIL_GUID };
}

export function apiClientRoutes(opts: ApiRoutesOptions): { routes: Route[]; clients(): number; close(): void } {
  type Entry = { link: WebrtcLink; address: string | undefined; conn?: SignalingConnection };
  const live = new Set<Entry>();
  let pending = 0;
  const maxClients = opts.maxClients ?? 256;

  const accept = async (offer: string, address: string | undefined): Promise<string> => {
    if (live.size >= maxClients) throw err('BUSY', `${live.size} API clients already`);
    if (pending >= (opts.maxPending ?? 16)) throw err('BUSY', `${pending} clients are connecting already`);
    const from = [...live].filter((e) => e.address === address).length;
    if (from >= (opts.maxPerAddress ?? 128)) throw err('BUSY', `${from} API clients from ${address} already (at most ${opts.maxPerAddress ?? 128})`);
    const link = opts.newLink();
    const entry: Entry = { link, address };
    pending++;
    let answer: string;
    try {
      answer = await link.acceptOffer(offer);
    } catch (e) {
      pending--;
      link.close('bad offer');
      throw e;
    }
    live.add(entry);
    link.onClose(() => {
      live.delete(entry);
      entry.conn?.close('link closed');
    });
    const timer = setTimeout(() => link.close('no stx channel within 15 s'), 15_000);
    const off = link.onChannel((channel) => {
      if (channel.label !== SIGNALING_LABEL || entry.conn) return channel.close();
      clearTimeout(timer);
      off();
      const conn = new SignalingConnection(channel, { log: opts.log, maxOutstanding: 256, maxInFlight: 256, maxWaiting: 1024 });
      entry.conn = conn;
      conn.onClose(() => link.close('api connection closed'));
      // the handlers first, synchronously: a client registers the moment its channel is open
      serveClient(conn, opts, address, linkBinding(link));
    });
    void link
      .connected()
      .catch((e: unknown) => {
        opts.log.info('api client link did not come up', { error: (e as Error).message });
        link.close('not connected');
      })
      .finally(() => pending--);
    return answer;
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/api/client',
      anyOrigin: true,
      handler: async (req, res) => {
        const body = await readJson(req, res, 64 * 1024);
        if (!body) return;
        if (typeof body.sdp !== 'string') return sendError(res, 400, 'sdp: an SDP offer (string) is required');
        try {
          sendJson(res, 200, { sdp: await accept(body.sdp, req.socket.remoteAddress) });
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'BUSY') return sendError(res, 503, (e as Error).message);
          if (code === 'BAD_PARAM') return sendError(res, 400, (e as Error).message);
          throw e;
        }
      },
    },
  ];
  return {
    routes,
    clients: () => live.size,
    close: () => {
      for (const e of live) e.link.close('shutdown');
    },
  };
}
