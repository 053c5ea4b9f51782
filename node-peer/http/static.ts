// The web app's files (dist/web, built by `npm run build`), served by every state server at `/`.
// - GET and HEAD only. A file under the directory is sent as it is; `/`, and an app path (no extension,
//   outside /api/ and /hls/: /canvas, /demo) get index.html, so the app's addresses can be bookmarked.
// - Paths are decoded once and refused (400) when malformed, when they hold NUL, a backslash, or a `.` or
//   `..` segment; hidden files (a segment starting with '.') are not served; the resolved path, symlinks
//   followed, must stay inside the directory. Anything else that is not a file: 404, as JSON like the API.
// - Hashed build assets (/assets/name-HASH.ext) are cached for a year (immutable); everything else is
//   revalidated (no-cache) with a strong ETag from size and modification time. Text is gzipped when the
//   client accepts it (kept in memory, by ETag).
import { createReadStream } from 'node:fs';
import { realpath, readFile, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { sendError, type Route } from './server.ts';

/** Where `npm run build` puts the web app; STATEOS_WEB_DIR points a server at another build. */
export const WEB_DIR = process.env.STATEOS_WEB_DIR || join(import.meta.dirname, '../../dist/web');

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** Paths that belong to the API and the gateways: never answered with the app. */
const RESERVED = /^\/(api|hls)(\/|$)/;
/** Vite's hashed file names: name-HASH.ext under /assets/. */
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+(\.map)?$/;
const GZIP_MIN = 1024;
const GZIP_CACHE_MAX = 64;

export type StaticCheck = { ok: true; segments: string[] } | { ok: false; status: 400 | 404; reason: string };

/** Decodes and checks a URL path; the segments are safe to join under the directory. */
export function checkPath(pathname: string): StaticCheck {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding in the path' };
  }
  if (!decoded.startsWith('/')) return { ok: false, status: 400, reason: 'the path must start with /' };
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'NUL in the path' };
  if (decoded.includes('\\')) return { ok: false, status: 400, reason: 'backslash in the path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return { ok: false, status: 400, reason: 'dot segments in the path' };
  if (segments.some((s) => s.startsWith('.'))) return { ok: false, status: 404, reason: 'hidden files are not served' };
  if (segments.some((s) => /^[A-Za-z]:/.test(s))) return { ok: false, status: 400, reason: 'a drive letter in the path' };
  return { ok: true, segments };
}

/** Whether a path names a page of the app (index.html) rather than a file. */
export const isAppPath = (pathname: string): boolean => !RESERVED.test(pathname) && extname(pathname) === '';

interface Found {
  path: string;
  size: number;
  mtimeMs: number;
}

/** GET/HEAD of the files under `dir` (and index.html for `/` and app paths). */
export function staticRoutes(dir: string = WEB_DIR): Route[] {
  const gzipped = new Map<string, Buffer>();
  let root: string | undefined;

  const rootDir = async (): Promise<string | undefined> => {
    if (root) return root;
    try {
      root = await realpath(dir);
      return root;
    } catch {
      return undefined; // not built (yet): asked again next time
    }
  };

  /** The regular file at `segments` under the directory (or its index.html), symlinks resolved and checked to stay inside. */
  const find = async (base: string, segments: string[]): Promise<Found | undefined> => {
    try {
      const real = await realpath(join(base, ...segments));
      if (real !== base && !real.startsWith(base + sep)) return undefined;
      const st = await stat(real);
      // a folder with an index.html (the in-tab demo: /demo, /demo/) is that page
      if (st.isDirectory() && segments.length > 0 && segments.at(-1) !== 'index.html') return await find(base, [...segments, 'index.html']);
      return st.isFile() ? { path: real, size: st.size, mtimeMs: st.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  };

  const handler = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (RESERVED.test(url.pathname)) return sendError(res, 404, `no such resource: ${url.pathname}`);
    const check = checkPath(url.pathname);
    if (!check.ok) return sendError(res, check.status, check.reason);
    const base = await rootDir();
    if (!base) return sendError(res, 503, `the web app is not built: run \`npm run build\` (looked in ${dir})`);
    let file = check.segments.length === 0 ? undefined : await find(base, check.segments);
    let app = false;
    if (!file && (check.segments.length === 0 || isAppPath(url.pathname))) {
      file = await find(base, ['index.html']);
      app = true;
      if (!file) return sendError(res, 503, `the web app is not built: run \`npm run build\` (no index.html in ${dir})`);
    }
    if (!file) return sendError(res, 404, `no such file: ${url.pathname}`);
    await send(req, res, file, !app && HASHED.test(url.pathname), gzipped);
  };

  return [{ method: 'GET', path: '/', handler }];
}

async function send(req: IncomingMessage, res: ServerResponse, f: Found, immutable: boolean, gzipped: Map<string, Buffer>): Promise<void> {
  const type = CONTENT_TYPES[extname(f.path).toLowerCase()] ?? 'application/octet-stream';
  const etag = `"${f.size.toString(36)}-${Math.floor(f.mtimeMs).toString(36)}"`;
  const cacheControl = immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
  const headers: Record<string, string | number> = {
    'content-type': type,
    etag,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
  };
  if (type.startsWith('text/html')) headers['x-frame-options'] = 'SAMEORIGIN';
  if (fresh(req.headers['if-none-match'], etag)) {
    res.writeHead(304, { etag, 'cache-control': cacheControl, vary: 'accept-encoding' });
    res.end();
    return;
  }
  const compressible = /^(text\/|application\/(json|manifest|javascript)|image\/svg)/.test(type) && f.size >= GZIP_MIN;
  if (compressible && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    const key = `${f.path}|${etag}`;
    let body = gzipped.get(key);
    if (!body) {
      body = gzipSync(await readFile(f.path));
      if (gzipped.size >= GZIP_CACHE_MAX) gzipped.delete(gzipped.keys().next().value!);
      gzipped.set(key, body);
    }
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': f.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(f.path), res);
  } catch (e) {
    // a client that goes away mid-file is not an error of ours
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
  }
}

/** If-None-Match: a list of ETags, or *. */
function fresh(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
