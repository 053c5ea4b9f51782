// The in-tab demo as a static site: the web build (vite.config.ts, the same as dist/web) made once into a
// temporary directory, served by a plain static file server written here on node:http (not a stateos
// server: no /api, no /hls, no WebRTC answerer), the way any static host would serve it: files as they are,
// a directory's index.html for a path ending in "/", and a redirect to add the "/" to a directory's path.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { build } from 'vite';
import { REPO_ROOT } from './server.ts';

export interface StaticSite {
  dir: string;
  origin: string;
  /** Every request the server saw: method and path. */
  requests: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.mp4': 'video/mp4',
  '.svg': 'image/svg+xml',
};

/** Builds web/ into a new temporary directory; returns it and how long the build took. */
export async function buildWeb(): Promise<{ dir: string; ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'stateos-demo-web-'));
  const t0 = performance.now();
  try {
    await build({ configFile: join(REPO_ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dir, emptyOutDir: true, sourcemap: false } });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, ms: performance.now() - t0 };
}

/** Serves `dir` on 127.0.0.1 (a free port) as a plain static host; close() also removes `dir` when `own`. */
export async function serveStatic(dir: string, opts: { own?: boolean } = {}): Promise<StaticSite> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      let path = normalize(join(dir, decodeURIComponent(url.pathname)));
      if (path !== dir && !path.startsWith(dir + sep)) {
        res.writeHead(400).end();
        return;
      }
      let st = await stat(path).catch(() => undefined);
      if (st?.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { location: `${url.pathname}/${url.search}` }).end();
          return;
        }
        path = join(path, 'index.html');
        st = await stat(path).catch(() => undefined);
      }
      if (!st?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': st.size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path).pipe(res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dir,
    origin: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (opts.own) await rm(dir, { recursive: true, force: true });
    },
  };
}
