// `stateos serve`: a state server on its ring, with the HTTP API, and sync with its peers over WebRTC.
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serveSegments } from '../shared/media/segment-service.ts';
import { indexFrameTimes, Segmenter } from '../shared/media/segments.ts';
import { type Guid, isGuid } from '../shared/stu/index.ts';
import { isStxError } from '../shared/stx/errors.ts';
import { ClusterKey } from '../shared/sync/admission.ts';
import { Discovery } from '../shared/sync/discovery.ts';
import { SyncHub } from '../shared/sync/hub.ts';
import type { PeerSession } from '../shared/sync/session.ts';
import type { CommonOptions } from './cli/main.ts';
import { packageVersion } from './cli/main.ts';
import { progressBar, type Progress } from './cli/progress.ts';
import { readJson, sendError, sendJson, startHttp, type Route } from './http/server.ts';
import { NodeMediaSource } from './media/frames.ts';
import { hlsRoutes } from './gateways/hls.ts';
import { type RtspServer, startRtspGateway } from './gateways/rtsp/index.ts';
import { playlistRoutes } from './http/playlists.ts';
import { staticRoutes } from './http/static.ts';
import { StateNode } from './node.ts';
import { resolveClusterKey } from './sync/cluster-key.ts';
import { discover } from './sync/discover.ts';
import { apiClientRoutes, type ClientServiceOptions } from './api/index.ts';
import { loadAdminKey, publishIssuer, tokenAuthenticator } from './api/identity.ts';
import { doors } from './api/doors.ts';
import { wsApi } from './api/websocket.ts';
import { shareOnGrant, shareWithViewer } from './sync/viewer-access.ts';
import { AddressGuard, type AddressLimits } from './http/address-guard.ts';
import { httpAccess, type HttpAccess, installationOnly, OPEN_HTTP, readableList } from './http/access.ts';
import { ANONYMOUS_CALLER } from '../shared/api/access.ts';
import { issueTicket } from '../shared/api/ticket.ts';
import { chooseRedirect } from '../shared/api/redirect.ts';
import { DEFAULT_UPLOAD_MAX, startUploads } from './upload/index.ts';
import { type Backend, DEFAULT_BACKEND, type IceServer, makeLink } from './webrtc/index.ts';

export const SAMPLE_PATH = join(import.meta.dirname, '../public/sample.mp4');

export interface ServeOptions extends CommonOptions {
  host: string;
  port: number;
  sample: boolean;
  webrtc?: Backend;
  iceServers?: IceServer[];
  /** Servers to join: http://HOST:PORT. */
  peers?: string[];
  /** Join the servers of DNS SRV _stateos._udp.DOMAIN. */
  discover?: string;
  /** Resolver for --discover (HOST:PORT); the system's by default. */
  dnsServer?: string;
  clusterKey?: string;
  /** Connect to the servers our peers know (default true). */
  mesh?: boolean;
  acceptViewers?: boolean;
  /** Register is repeated this often (anti-entropy). Default 10 s. */
  syncIntervalMs?: number;
  /** Keep a copy of every media's frames (receive whatever others fetch, as a mirror). */
  mirror?: boolean;
  /** How long a gateway waits for frames fetched from other servers. Default 10 s. */
  mediaWaitMs?: number;
  /** RTSP gateway address; false: off. Default 127.0.0.1:8554 (skipped with a warning when taken). */
  rtsp?: { host: string; port: number } | false;
  /** An RTSP session without a keep-alive for this long ends. Default 60 s. */
  rtspTimeoutMs?: number;
  /** Accept uploads from viewers (--uploads, default on); the largest file (--upload-max, default 4 GiB). */
  uploads?: boolean;
  uploadMaxBytes?: number;
  /** Admit API clients without a token, as the anonymous role (--no-anonymous: false). Default true. */
  anonymous?: boolean;
  /** HTTP API requests from a loopback address without a ticket are the installation's (default true). */
  localAdmin?: boolean;
  /** Redirect a registering API client to a peer serving this many fewer clients (default 16); false: never. */
  redirectOver?: number | false;
  /** Connections per address and in all, invalid requests before an address is refused (HTTP, RTSP). */
  addressLimits?: Partial<AddressLimits>;
}

export interface Running {
  node: StateNode;
  hub: SyncHub;
  discovery: Discovery;
  /** What the gateways play from: local frames, and frames fetched from the group when missing. */
  media: NodeMediaSource;
  url: string;
  /** rtsp://HOST:PORT, when the RTSP gateway runs. */
  rtspUrl?: string;
  stop(): Promise<void>;
}

const MAX_OFFER_BODY = 64 * 1024;

export function apiRoutes(node: StateNode, hub?: SyncHub, discovery?: Discovery, access: HttpAccess = OPEN_HTTP): Route[] {
  const started = Date.now();
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/api/health',
      handler: (_req, res) =>
        sendJson(res, 200, {
          status: 'ok',
          server: node.guid,
          version: packageVersion(),
          uptimeSeconds: Math.round((Date.now() - started) / 1000),
          objects: node.objects().length,
          ring: node.ring.stats(),
          corrupt: node.ring.report.corrupt.length,
          boot: node.boot,
          peers: hub?.sessions().length ?? 0,
        }),
    },
    readableList(access, '/api/objects', () => node.objects(), (o) => o.id),
    installationOnly(access, {
      method: 'PATCH',
      path: '/api/objects/',
      handler: async (req, res, url) => {
        const id = url.pathname.slice('/api/objects/'.length);
        if (!isGuid(id)) return sendError(res, 404, `no such object: ${id}`);
        const b = await readJson(req, res, 16 * 1024);
        if (!b) return;
        if (typeof b.title !== 'string' || b.title.trim() === '') return sendError(res, 400, 'title: a non-empty string is required');
        const match = req.headers['if-match'];
        const m = match === undefined ? undefined : /^"?(\d{1,20})"?$/.exec(match);
        if (match !== undefined && !m) return sendError(res, 400, 'If-Match: the object version, as in GET /api/objects');
        try {
          sendJson(res, 200, await node.retitle(id, b.title, m ? BigInt(m[1]) : undefined));
        } catch (e) {
          if (e instanceof RangeError) return sendError(res, 404, e.message);
          throw e;
        }
      },
    }),
    readableList(access, '/api/collisions', () => node.engine.collisions(), (c) => c.object),
    ...playlistRoutes(node, access),
  ];
  if (!hub) return routes;
  routes.push(
    {
      method: 'POST',
      path: '/api/peer',
      anyOrigin: true,
      handler: async (req, res) => {
        const body = await readJson(req, res, MAX_OFFER_BODY);
        if (!body) return;
        if (typeof body.sdp !== 'string') return sendError(res, 400, 'sdp: an SDP offer (string) is required');
        try {
          sendJson(res, 200, { sdp: await hub.answer(body.sdp), server: node.guid });
        } catch (e) {
          if (isStxError(e, 'BAD_PARAM')) return sendError(res, 400, e.message);
          if (isStxError(e, 'BUSY') || isStxError(e, 'CLOSED')) return sendError(res, 503, e.message);
          throw e;
        }
      },
    },
    {
      method: 'GET',
      path: '/api/peers',
      handler: (_req, res) => sendJson(res, 200, { server: node.guid, held: node.stus.held.vector(), peers: hub.peers() }),
    },
    installationOnly(access, {
      method: 'POST',
      path: '/api/push',
      handler: async (req, res) => {
        const b = await readJson(req, res, 4096);
        if (!b) return;
        if (!isGuid(b.media) || !node.index.get(b.media)) return sendError(res, 400, 'media: the id of a media object held here');
        const at = b.at === undefined ? Date.now() : typeof b.at === 'string' ? Date.parse(b.at) : NaN;
        if (!Number.isFinite(at) || at > Date.now() + 7 * 86_400_000) return sendError(res, 400, 'at: an ISO time within the next 7 days (or none: now)');
        const media = b.media;
        const delay = Math.max(0, at - Date.now());
        // scheduled pushes live in this process: a restart forgets them
        if (delay === 0) discovery?.push(media);
        else setTimeout(() => discovery?.push(media), delay).unref();
        sendJson(res, 202, { media, at: new Date(Math.max(at, Date.now())).toISOString(), servers: hub.servers().map((s) => s.peer) });
      },
    }),
    installationOnly(access, {
      method: 'POST',
      path: '/api/pull',
      handler: async (req, res) => {
        const b = await readJson(req, res, 4096);
        if (!b) return;
        const type = typeof b.type === 'string' && /^[0-9a-f]{4}$/i.test(b.type) ? parseInt(b.type, 16) : undefined;
        const int = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
        const from = int(b.from);
        const to = int(b.to);
        if (type === undefined || !isGuid(b.origin) || from === undefined || to === undefined || to < from) {
          return sendError(res, 400, 'expected {type: "0101", origin: GUID, from: N, to: N ≥ from, data?: boolean, peer?: GUID}');
        }
        if (b.peer !== undefined && !isGuid(b.peer)) return sendError(res, 400, 'peer: not a GUID');
        try {
          const r = await hub.fetch(type, b.origin, from, to, b.data === true, b.peer as string | undefined);
          sendJson(res, 200, r);
        } catch (e) {
          if (isStxError(e)) return sendError(res, 502, e.message);
          throw e;
        }
      },
    }),
  );
  return routes;
}

export async function serve(opts: ServeOptions): Promise<Running> {
  const node = await StateNode.open(opts);
  let server: Server | undefined;
  let hub: SyncHub | undefined;
  let rtsp: RtspServer | undefined;
  try {
    if (opts.sample) await node.ensureSample(SAMPLE_PATH);
    const key = await resolveClusterKey(opts.dir, opts.clusterKey);
    if (key.source === 'generated') process.stdout.write(`stateos: new cluster key (kept in ${join(opts.dir, 'cluster.key')}): ${key.secret}\n`);
    const clusterKey = await ClusterKey.from(key.secret);
    const backend = opts.webrtc ?? DEFAULT_BACKEND;
    let url = '';
    const stats = node.ring.stats();
    // clients served now (API clients and viewers): peers weigh it when they redirect a client
    let apiClients = () => 0;
    const load = () => apiClients() + (hub?.sessions().filter((x) => x.peerRole === 'viewer').length ?? 0);
    hub = new SyncHub({
      store: node.stus,
      role: 'server',
      key: clusterKey,
      log: opts.log,
      mesh: opts.mesh,
      acceptViewers: opts.acceptViewers,
      // viewers are anonymous: they get the metadata of what anonymous may read (docs/API.md, "Viewers")
      shareWithViewer: shareWithViewer(node.engine),
      syncIntervalMs: opts.syncIntervalMs,
      newLink: () => makeLink(backend, { iceServers: opts.iceServers ?? [], log: opts.log }),
      info: () => ({
        version: packageVersion(),
        apps: ['media'],
        cores: cpus().length,
        memoryBytes: totalmem(),
        metaCapacity: stats.meta.capacity,
        dataCapacity: stats.data.capacity,
        url,
        load: load(),
      }),
    });
    showCatchUp(hub);
    const h1 = hub;
    const offGrant = shareOnGrant(node.engine, node.stus, () => h1);
    const discovery = new Discovery({
      hub,
      holder: node.index,
      log: opts.log,
      wants: () => opts.mirror === true,
      wholeMedia: (id) => node.index.get(id)?.tracks.map((t) => ({ stream: t.index, ranges: [{ from: 0, to: t.frames }] })) ?? [],
    });
    const media = new NodeMediaSource(node, {
      waitMs: opts.mediaWaitMs,
      fetchMissing: (id, stream, gaps, signal) => discovery.download(id, stream, gaps.map((g) => ({ from: g.fromSample, to: g.toSample })), signal),
      recordPlay: (play) => node.recordPlay(play),
    });
    // one segmenter (and one segment cache) for the HTTP gateway and for viewers over WebRTC
    const segmenter = new Segmenter(media, { frameTimes: indexFrameTimes(node.index) });
    // who may play what at the HTTP and RTSP doors: tickets under the cluster key, or anonymous; how many
    // connections an address may hold and how many invalid requests it may send (docs/SECURITY.md)
    const gate = doors(node.engine, clusterKey);
    const guard = new AddressGuard(opts.addressLimits);
    const hls = hlsRoutes(media, { schedules: (name) => node.schedules(name), segmenter, log: opts.log, doors: gate });
    // viewers are anonymous (their sessions carry no identity yet): they play what anonymous may read
    serveSegments(hub, segmenter, { log: opts.log, mayPlay: (from, id) => from.peerRole === 'server' || gate.media(ANONYMOUS_CALLER, id) });
    const uploads = await startUploads(hub, node, { enabled: opts.uploads, maxBytes: opts.uploadMaxBytes, log: opts.log });
    // identity: this installation's issuer key, published so every server accepts its tokens (docs/IDENTITY.md)
    const issuer = await publishIssuer(node, (await loadAdminKey(opts.dir, true))!);
    const authenticate = tokenAuthenticator(node.engine, { anonymous: opts.anonymous !== false });
    opts.log.info('token issuer', { kid: issuer.kid, anonymous: opts.anonymous !== false });
    // the State API for clients over WebRTC (POST /api/client; docs/API.md)
    const h0 = hub;
    const redirectFor = (address: string | undefined) =>
      opts.redirectOver === false ? undefined : chooseRedirect({ url, load: load() }, h0.servers().map((p) => ({ url: p.peerInfo?.url, load: p.peerInfo?.load })), address, { over: opts.redirectOver });
    // media through the API: uploads as the viewers' upload service takes them, downloads as fragmented MP4
    const files = {
      uploads: uploads.store ? { store: uploads.store, maxBytes: Math.min(opts.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX, node.ring.stats().data.capacity) } : undefined,
      downloads: {
        segments: async (id: Guid) => (await segmenter.plan(id)).count,
        part: async (id: Guid, part: 'init' | number) => (part === 'init' ? segmenter.init(id) : (await segmenter.segment(id, part)).bytes),
      },
    };
    const service: ClientServiceOptions = {
      ...files,
      engine: node.engine,
      authenticate,
      tickets: (user, object) => issueTicket(clusterKey, { user, object }),
      server: node.guid,
      writerFor: (user) => ({ engine: node.engine, create: (init, body) => node.stus.create({ ...init, user: init.user ?? user }, body) }),
      redirect: (address) => redirectFor(address),
      servers: () => (opts.redirectOver === false ? [] : h0.servers().flatMap((p) => (p.peerInfo?.url ? [p.peerInfo.url] : []))),
      log: opts.log,
    };
    const api = apiClientRoutes({ ...service, maxPerAddress: guard.limits.perAddress, newLink: () => makeLink(backend, { iceServers: opts.iceServers ?? [], log: opts.log }) });
    // the same API over a WebSocket (GET /api/ws), for tools that cannot do WebRTC
    // at most 8 per address unless --max-per-address says otherwise (a bench, clients behind one NAT)
    const ws = wsApi({ ...service, maxPerAddress: opts.addressLimits?.perAddress });
    apiClients = () => api.clients() + ws.clients();
    if (opts.rtsp !== false) {
      rtsp = await startRtspGateway(media, opts.rtsp, { log: opts.log, sessionTimeoutMs: opts.rtspTimeoutMs, schedules: (name) => node.schedules(name), doors: gate, guard });
      if (rtsp) process.stdout.write(`stateos rtsp ${rtsp.url}\n`);
    }
    server = await startHttp([...apiRoutes(node, hub, discovery, httpAccess(node.engine, gate, { localAdmin: opts.localAdmin })), ...api.routes, ...hls, ...staticRoutes()], opts.host, opts.port, opts.log, guard, { '/api/ws': ws.upgrade });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : opts.port;
    url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    process.stdout.write(`stateos ${node.guid} serving ${url} (${node.objects().length} objects, data in ${opts.dir}, cluster key ${clusterKey.id}, WebRTC ${backend})\n`);
    opts.log.info('serving', { host: opts.host, port, server: node.guid, backend });
    const peers = [...(opts.peers ?? [])];
    if (opts.discover) {
      const found = await discover(opts.discover, { dnsServer: opts.dnsServer }).catch((e: unknown) => {
        opts.log.warn('DNS SRV discovery failed', { domain: opts.discover, error: (e as Error).message });
        return [];
      });
      process.stdout.write(`stateos: ${found.length} server(s) under _stateos._udp.${opts.discover}\n`);
      peers.push(...found.filter((u) => u !== url));
    }
    for (const p of peers) hub.join(p);
    const h = hub;
    const s = server;
    const r = rtsp;
    return {
      node,
      hub: h,
      discovery,
      media,
      url,
      rtspUrl: r?.url,
      stop: async () => {
        await r?.close();
        await uploads.close();
        api.close();
        ws.close();
        offGrant();
        await h.close('shutdown');
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
        await node.close();
      },
    };
  } catch (e) {
    await rtsp?.close();
    await hub?.close('startup failed');
    server?.close();
    await node.close();
    throw e;
  }
}

/** A progress bar per catch-up from a peer (stderr), and one line when it is done. */
function showCatchUp(hub: SyncHub): void {
  const bars = new Map<PeerSession | string, Progress>();
  hub.events.progress.on(({ peer, p }) => {
    if (p.direction !== 'in' || p.expected === 0 || !peer) return;
    let bar = bars.get(peer);
    if (!bar) bars.set(peer, (bar = progressBar(`sync from ${peer.slice(0, 8)}`, { unit: 'STUs' })));
    bar.update(p.stus, p.expected);
    if (p.done) {
      bar.finish(`${p.stus} STUs, ${(p.bytes / 1048576).toFixed(1)} MiB in ${(p.ms / 1000).toFixed(2)} s`);
      bars.delete(peer);
    }
  });
}
