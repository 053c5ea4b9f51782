// The stateos command line.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, isLevel, type Logger } from '../../shared/log.ts';
import { DEFAULT_DATA_BYTES, DEFAULT_META_BYTES } from '../ring/file-ring.ts';
import { installFastCrc32c } from '../crc.ts';
import { dump } from './dump.ts';
import { progressBar } from './progress.ts';
import { formatSize, parseSize } from './sizes.ts';
import { UsageError } from './usage.ts';

const HELP = `stateos: a State OS for the browser and the edge

Usage:
  stateos ingest FILE [--title T] [--data DIR] [--private [--owner NAME]]
                                                 split a media file into STUs (MP4/MOV, WebM/MKV)
  stateos ls [--data DIR] [--json]               list business objects, with the plays of each media
  stateos playlist create TITLE [MEDIA...] | list | show PLAYLIST | delete PLAYLIST | rename PLAYLIST TITLE
                 | add PLAYLIST MEDIA [--start T] [--end T] [--position N] [--title T]
                 | remove PLAYLIST CLIP | set PLAYLIST CLIP [--start T] [--end T|end] [--title T]
  stateos channel create NAME [PLAYLIST...] [--title T] [--mode live|on-demand] [--start TIME]
                 | list | show CHANNEL | delete CHANNEL | add CHANNEL PLAYLIST [--position N]
                 | remove CHANNEL PLAYLIST | set CHANNEL [--title T] [--mode MODE] [--start TIME]
                                                 playlists and channels, on the data folder, or through
                                                 a running server with --server URL
  stateos dump [--data DIR] [--json]             every STU header in the ring, and any corrupt region
  stateos acl show OBJECT | set OBJECT [--owner U] [--readers A,B] [--writers C]
            | grant OBJECT read|write PRINCIPAL | revoke OBJECT PRINCIPAL
                                                 who may read and change an object (data folder, or
                                                 --server URL as the credential's user)
  stateos token issue --user NAME [--ttl 30d] | verify CREDENTIAL
                                                 a user's credential for the State API, signed with the
                                                 installation's issuer key (DIR/admin.key)
  stateos serve [--data DIR] [--http [HOST:]PORT] [--rtsp [HOST:]PORT] [--sample] [--peer URL]... [--discover DOMAIN]
                                                 run a state server: HTTP API (/api/health, /api/objects,
                                                 /api/peers, POST /api/peer, POST /api/pull) and sync
                                                 with other servers over WebRTC
  stateos --help | --version

Options:
  --data DIR          data folder (default ./.stateos)
  --meta-size SIZE    metadata section of a new ring (default ${formatSize(DEFAULT_META_BYTES)}; e.g. 64M)
  --data-size SIZE    data section of a new ring (default ${formatSize(DEFAULT_DATA_BYTES)}; e.g. 512M, 8G)
  --fsync MODE        always | interval (default, 50 ms) | none
  --http [HOST:]PORT  HTTP listen address (default 127.0.0.1:8080)
  --rtsp [HOST:]PORT  RTSP gateway (rtsp://HOST:PORT/media/<id>, /channel/<name>; RTP over TCP and UDP);
                      default 127.0.0.1:8554, skipped with a warning when taken; off: no RTSP
  --rtsp-timeout S    an RTSP session without a keep-alive (request or RTCP) ends after S seconds (60)
  --sample            ingest the bundled sample clip (public/sample.mp4) if it is not there yet
  --title T           title of an ingested file (default: the file name), of a clip, of a channel
  --server URL        playlist, channel, acl: go through the State API of the server at URL
                      (http://HOST:PORT, a WebSocket) rather than the data folder (a running server locks it)
  --credential FILE   with --server: act as the user of this credential (stateos token issue; or the
                      STATEOS_CREDENTIAL variable); without either, as admin when --data DIR holds the
                      admin key this user may read, else anonymous (reads only)
  --private           with --server: what is created gets no ACL (its creator's alone); by default
                      anonymous and every user may read it. ingest: only --owner may read the media
  --owner NAME        acl set, ingest --private: the owner (default admin)
  --readers A,B --writers C   acl set: principals (user names, * any user, anonymous)
  --start T, --end T  a clip's start and end in its media: 1500 (ms), 1.5s, 1:30, 1:02:03.5; --end end:
                      to the end of the media. A live channel's start: now, epoch ms or ISO 8601
  --position N        where an added clip or playlist goes (1 is the first; default: the end)
  --mode MODE         a channel's mode: on-demand (default) | live
  --peer URL          join the server at URL (http://HOST:PORT); repeatable; kept up with backoff
  --discover DOMAIN   join the servers of DNS SRV records _stateos._udp.DOMAIN
  --dns-server H:P    resolver for --discover (default: the system's)
  --cluster-key KEY   shared secret of the cluster (or STATEOS_CLUSTER_KEY); without either, the key in
                      DIR/cluster.key, made and printed on first start
  --webrtc BACKEND    datachannel (default: libdatachannel, fastest here) | werift (pure TypeScript)
  --ice-server URL    STUN/TURN server: stun:HOST[:PORT] or turn:HOST[:PORT][?transport=udp|tcp],USER,PASS;
                      repeatable; none by default (loopback and LAN need none)
  --mesh on|off       connect to the servers our peers know (default on)
  --viewers on|off    accept browser viewers (default on)
  --uploads on|off    accept media files uploaded by viewers, ingested here (default on)
  --upload-max SIZE   largest file a viewer may upload (default 4G; same syntax as --data-size)
  --sync-interval MS  how often peers compare what they hold (default 10000)
  --mirror            keep a copy of the frames other servers fetch (and of pushed media)
  --media-wait MS     how long a gateway waits for frames fetched from other servers (default 10000)
  --user NAME         token issue: the user the credential names
  --ttl DURATION      token issue: how long it is valid: 3600, 90s, 30m, 12h, 30d (default 30d, at most 366d)
  --no-anonymous      serve: admit no API client without a token
  --max-per-address N  HTTP and RTSP connections one address may hold at once (default 128; 2048 in all)
  --invalid-limit N   invalid HTTP/RTSP requests one address may send in a minute before it is refused for
                      5 minutes (default 50; 0: never refuse)
  --redirect-over N|off  send a registering API client to a peer serving N fewer clients (default 16), or to a
                      peer in the client's subnet; off: never redirect
  --local-admin on|off  HTTP API requests from a loopback address without a ticket act as the installation
                      (read everything, write as the server; default on). off: behind a reverse proxy on
                      this machine; every HTTP caller is then its ticket's user or anonymous
  --json              machine-readable output
  --log-level LEVEL   debug | info | warn (default) | error | silent; JSON lines on stderr
`;

const options = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  data: { type: 'string', default: './.stateos' },
  'meta-size': { type: 'string' },
  'data-size': { type: 'string' },
  fsync: { type: 'string', default: 'interval' },
  http: { type: 'string', default: '127.0.0.1:8080' },
  rtsp: { type: 'string' },
  'rtsp-timeout': { type: 'string' },
  sample: { type: 'boolean' },
  title: { type: 'string' },
  peer: { type: 'string', multiple: true },
  discover: { type: 'string' },
  'dns-server': { type: 'string' },
  'cluster-key': { type: 'string' },
  webrtc: { type: 'string' },
  'ice-server': { type: 'string', multiple: true },
  mesh: { type: 'string', default: 'on' },
  viewers: { type: 'string', default: 'on' },
  uploads: { type: 'string', default: 'on' },
  'upload-max': { type: 'string' },
  'sync-interval': { type: 'string' },
  mirror: { type: 'boolean' },
  'media-wait': { type: 'string' },
  json: { type: 'boolean' },
  user: { type: 'string' },
  credential: { type: 'string' },
  private: { type: 'boolean' },
  owner: { type: 'string' },
  readers: { type: 'string' },
  writers: { type: 'string' },
  ttl: { type: 'string' },
  'no-anonymous': { type: 'boolean' },
  'local-admin': { type: 'string', default: 'on' },
  'redirect-over': { type: 'string' },
  'max-per-address': { type: 'string' },
  'invalid-limit': { type: 'string' },
  server: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  position: { type: 'string' },
  mode: { type: 'string' },
  'log-level': { type: 'string', default: process.env.STATEOS_LOG ?? 'warn' },
} as const;

export const packageVersion = (): string =>
  (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;


export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`stateos: ${(e as Error).message}\nRun "stateos --help" for usage.\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (v.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (v.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const level = v['log-level'];
  if (!isLevel(level)) return usage(`--log-level: unknown level "${level}"`);
  const log = createLogger(level, (line) => process.stderr.write(line + '\n'));
  if (!installFastCrc32c()) log.warn('hardware CRC32C (@node-rs/crc32) did not load; using the portable one');
  try {
    const common = {
      dir: resolve(v.data),
      metaBytes: v['meta-size'] ? parseSize(v['meta-size'], '--meta-size') : undefined,
      dataBytes: v['data-size'] ? parseSize(v['data-size'], '--data-size') : undefined,
      fsync: parseFsync(v.fsync),
      log,
    };
    switch (command) {
      case 'ingest': {
        if (rest.length !== 1) return usage('ingest takes one FILE');
        if (v.owner !== undefined && v.private !== true) return usage('ingest: --owner goes with --private (without it the media is readable by everyone)');
        return await ingestCommand(common, rest[0], v.title, v.json === true, v.private === true ? (v.owner ?? 'admin') : undefined);
      }
      case 'ls':
        return await lsCommand(common, v.json === true);
      case 'dump':
        return await dump(common.dir, v.json === true, (s) => process.stdout.write(s + '\n'));
      case 'serve':
        return await serveCommand(common, v, log);
      case 'acl': {
        const { aclCommand } = await import('./acl.ts');
        return await aclCommand(rest, v, common, (s) => process.stdout.write(s + '\n'));
      }
      case 'token': {
        const { tokenCommand } = await import('./token.ts');
        return await tokenCommand(rest, v, common, (s) => process.stdout.write(s + '\n'));
      }
      case 'playlist':
      case 'channel': {
        const { objectsCommand } = await import('./objects.ts');
        return await objectsCommand(command, rest, v, common, (s) => process.stdout.write(s + '\n'));
      }
      case undefined:
        process.stdout.write(HELP);
        return 2;
      default:
        return usage(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    const code = (e as { code?: string }).code;
    process.stderr.write(`stateos: ${code && !(e as Error).message.startsWith(code) ? `${code}: ` : ''}${(e as Error).message}\n`);
    log.debug('failure', { stack: (e as Error).stack });
    return 1;
  }
}

function usage(message: string): number {
  process.stderr.write(`stateos: ${message}\nRun "stateos --help" for usage.\n`);
  return 2;
}

function onOff(s: string, flag: string): boolean {
  if (s === 'on' || s === 'off') return s === 'on';
  throw new UsageError(`${flag}: "${s}" is not on or off`);
}

function positiveInt(s: string, flag: string): number {
  if (!/^\d{1,9}$/.test(s) || Number(s) === 0) throw new UsageError(`${flag}: "${s}" is not a positive integer`);
  return Number(s);
}

function nonNegativeInt(s: string, flag: string): number {
  if (!/^\d{1,9}$/.test(s)) throw new UsageError(`${flag}: "${s}" is not a number of 0 or more`);
  return Number(s);
}

/** URL, or URL,USER,CREDENTIAL for TURN. */
function parseIceServer(s: string): { urls: string; username?: string; credential?: string } {
  const [urls, username, credential] = s.split(',');
  if (!/^(stuns?|turns?):[^\s,]+$/.test(urls)) throw new UsageError(`--ice-server: "${urls}" is not a stun: or turn: URL`);
  if (urls.startsWith('turn') && (!username || !credential)) throw new UsageError(`--ice-server: a TURN server needs URL,USER,CREDENTIAL`);
  return username ? { urls, username, credential } : { urls };
}

/** --rtsp: off, PORT or HOST:PORT; undefined: the default address. */
function parseRtsp(s: string | undefined): { host: string; port: number } | false | undefined {
  if (s === undefined) return undefined;
  if (s === 'off') return false;
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--rtsp: "${s}" is not [HOST:]PORT or off`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

function parseFsync(mode: string) {
  if (mode === 'always' || mode === 'none') return { mode } as const;
  if (mode === 'interval') return { mode, ms: 50 } as const;
  throw new UsageError(`--fsync: "${mode}" is not always, interval or none`);
}

export interface CommonOptions {
  dir: string;
  metaBytes: number | undefined;
  dataBytes: number | undefined;
  fsync: ReturnType<typeof parseFsync>;
  log: Logger;
}

async function ingestCommand(common: CommonOptions, file: string, title: string | undefined, json: boolean, privateTo?: string): Promise<number> {
  const { StateNode } = await import('../node.ts');
  const { ingestSummary } = await import('../media/ingest-file.ts');
  const node = await StateNode.open(common);
  try {
    const bar = progressBar(`ingest ${file}`);
    const result = await node.ingestFile(resolve(file), { title, onProgress: (done, total) => bar.update(done, total) });
    bar.finish(`${result.frames} frames, ${(result.bytes / 1048576).toFixed(1)} MiB as ${result.id}`);
    if (privateTo !== undefined) {
      // ingested media are readable by everyone unless told otherwise: --private makes it its owner's alone
      const { makePrivate } = await import('./acl.ts');
      await makePrivate(node, result.id as never, privateTo);
    }
    if (json) process.stdout.write(JSON.stringify(ingestSummary(result)) + '\n');
    else process.stdout.write(`${result.id}\t${result.title}\n`);
    return 0;
  } finally {
    await node.close();
  }
}

async function lsCommand(common: CommonOptions, json: boolean): Promise<number> {
  const { StateNode } = await import('../node.ts');
  const node = await StateNode.open({ ...common, readOnly: true });
  try {
    const objects = node.objects();
    if (json) process.stdout.write(JSON.stringify(objects, null, 2) + '\n');
    else {
      for (const o of objects) process.stdout.write(`${o.id}\t${o.type}\t${o.title}${o.usage ? `\t${o.usage.plays} plays` : ''}\n`);
      const servers = objects.filter((o) => o.type === 'usage' && o.usage);
      const sum = (k: 'plays' | 'hls' | 'rtsp') => servers.reduce((n, o) => n + o.usage![k], 0);
      if (objects.length > 0) process.stdout.write(`total\t${sum('plays')} plays (hls ${sum('hls')}, rtsp ${sum('rtsp')}) reported by ${servers.length} servers\n`);
    }
    return 0;
  } finally {
    await node.close();
  }
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true; strict: true }>>['values'];

async function serveCommand(common: CommonOptions, v: Values, log: Logger): Promise<number> {
  const { serve } = await import('../serve.ts');
  const { isBackend, shutdownWebrtc } = await import('../webrtc/index.ts');
  const m = /^(?:(.+):)?(\d+)$/.exec(v.http);
  if (!m) throw new UsageError(`--http: "${v.http}" is not [HOST:]PORT`);
  if (v.webrtc !== undefined && !isBackend(v.webrtc)) throw new UsageError(`--webrtc: "${v.webrtc}" is not datachannel or werift`);
  for (const p of v.peer ?? []) if (!/^https?:\/\/[^/]+\/?$/.test(p)) throw new UsageError(`--peer: "${p}" is not http://HOST:PORT`);
  if (v['cluster-key'] !== undefined && v['cluster-key'].length < 16) throw new UsageError('--cluster-key: at least 16 characters');
  const { stop } = await serve({
    ...common,
    host: m[1] ?? '127.0.0.1',
    port: Number(m[2]),
    sample: v.sample === true,
    webrtc: v.webrtc as 'werift' | 'datachannel' | undefined,
    iceServers: (v['ice-server'] ?? []).map(parseIceServer),
    peers: v.peer ?? [],
    discover: v.discover,
    dnsServer: v['dns-server'],
    clusterKey: v['cluster-key'],
    mesh: onOff(v.mesh, '--mesh'),
    acceptViewers: onOff(v.viewers, '--viewers'),
    syncIntervalMs: v['sync-interval'] !== undefined ? positiveInt(v['sync-interval'], '--sync-interval') : undefined,
    mirror: v.mirror === true,
    mediaWaitMs: v['media-wait'] !== undefined ? positiveInt(v['media-wait'], '--media-wait') : undefined,
    rtsp: parseRtsp(v.rtsp),
    rtspTimeoutMs: v['rtsp-timeout'] !== undefined ? positiveInt(v['rtsp-timeout'], '--rtsp-timeout') * 1000 : undefined,
    uploads: onOff(v.uploads, '--uploads'),
    uploadMaxBytes: v['upload-max'] !== undefined ? parseSize(v['upload-max'], '--upload-max') : undefined,
    anonymous: v['no-anonymous'] !== true,
    localAdmin: onOff(v['local-admin'], '--local-admin'),
    addressLimits: {
      ...(v['max-per-address'] !== undefined ? { perAddress: positiveInt(v['max-per-address'], '--max-per-address') } : {}),
      ...(v['invalid-limit'] !== undefined ? { invalidLimit: nonNegativeInt(v['invalid-limit'], '--invalid-limit') } : {}),
    },
    redirectOver: v['redirect-over'] === undefined ? undefined : v['redirect-over'] === 'off' ? false : nonNegativeInt(v['redirect-over'], '--redirect-over'),
  });
  await new Promise<void>((done) => {
    const quit = (signal: string) => {
      log.info('stopping', { signal });
      // a shutdown that does not finish (a peer that never answers, a native thread) must not leave the
      // process running: it exits anyway after 10 s, saying so (the ring is closed by then, or never will be)
      setTimeout(() => {
        process.stderr.write('stateos: shutdown took more than 10 s; exiting\n');
        process.exit(1);
      }, 10_000).unref();
      stop().then(done, (e: unknown) => {
        process.stderr.write(`stateos: shutdown failed: ${String(e)}\n`);
        done();
      });
    };
    process.once('SIGINT', () => quit('SIGINT'));
    process.once('SIGTERM', () => quit('SIGTERM'));
  });
  // Everything is closed: libdatachannel's threads go too, and should anything native still hold the
  // process (seen under load: node-datachannel threads after a clean shutdown), it exits anyway.
  shutdownWebrtc();
  setTimeout(() => process.exit(0), 3000).unref();
  return 0;
}
