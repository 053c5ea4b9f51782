// The web app's static route (node-peer/http/static.ts) on a real HTTP server, with requests written byte
// by byte (a URL parser would clean the paths up first): traversal in every spelling is refused, nothing
// outside the directory is ever sent, app paths get index.html, files their type and cache headers.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/log.ts';
import { readJson, sendJson, startHttp } from '../../../node-peer/http/server.ts';
import { checkPath, staticRoutes } from '../../../node-peer/http/static.ts';

const SECRET = 'TOP-SECRET-outside-the-web-dir';
const tmp = mkdtempSync(join(tmpdir(), 'stateos-static-'));
const web = join(tmp, 'web');
let server: Server;
let port: number;

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 request with the target exactly as given. */
function raw(target: string, method = 'GET', headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('error', reject);
    s.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const [line, ...lines] = head.split('\r\n');
      const h: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(line.split(' ')[1]), headers: h, body: rest.join('\r\n\r\n') });
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}connection: close\r\n\r\n`);
  });
}

beforeAll(async () => {
  mkdirSync(join(web, 'assets'), { recursive: true });
  mkdirSync(join(web, 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'secret.txt'), SECRET);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>app</title><stateos-app></stateos-app>');
  writeFileSync(join(web, 'assets', 'index-AbCd1234.js'), `export const x = ${JSON.stringify('x'.repeat(4000))};`);
  writeFileSync(join(web, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(web, 'sub', 'page.svg'), '<svg/>');
  writeFileSync(join(web, '.hidden'), SECRET);
  symlinkSync(join(tmp, 'secret.txt'), join(web, 'link.txt'));
  symlinkSync(tmp, join(web, 'up'));
  const api = { method: 'GET' as const, path: '/api/thing', handler: (_q: unknown, res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, { ok: true }) };
  server = await startHttp([api, ...staticRoutes(web)], '127.0.0.1', 0, silentLogger);
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('the static route', () => {
  it('never serves a file outside its directory, however the path is spelled', async () => {
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/%00../secret.txt',
      '/index.html%00.js',
      `/${join(tmp, 'secret.txt')}`,
      `//${join(tmp, 'secret.txt').slice(1)}`,
      '/C:/secret.txt',
      '/link.txt',
      '/up/secret.txt',
      '/.hidden',
      `http://127.0.0.1/../secret.txt`,
      '/%',
      '/%zz',
    ];
    for (const path of attempts) {
      const r = await raw(path);
      expect([400, 404], `${path}: ${r.status} ${r.body}`).toContain(r.status);
      expect(r.body, path).not.toContain(SECRET);
      expect(r.headers['content-type'], path).toMatch(/^application\/json/);
    }
  });

  it('decides on a path before touching the disk', () => {
    expect(checkPath('/a/b.js')).toEqual({ ok: true, segments: ['a', 'b.js'] });
    expect(checkPath('/%2e%2e/x')).toMatchObject({ ok: false, status: 400 });
    expect(checkPath('/a/%00')).toMatchObject({ ok: false, status: 400 });
    expect(checkPath('/a%5c..%5cb')).toMatchObject({ ok: false, status: 400 });
    expect(checkPath('/.git/config')).toMatchObject({ ok: false, status: 404 });
    expect(checkPath('/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
  });

  it('serves files with their type, ETag and cache policy; index.html for / and app paths; HEAD without a body', async () => {
    const root = await raw('/');
    expect(root.status).toBe(200);
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(root.headers['cache-control']).toBe('no-cache');
    expect(root.body).toContain('<stateos-app>');
    for (const p of ['/canvas', '/system/', '/demo', '/?play=abc', '/index.html', '/some/deep/app/path']) {
      const r = await raw(p);
      expect(r.status, p).toBe(200);
      expect(r.body, p).toBe(root.body);
    }
    const js = await raw('/assets/index-AbCd1234.js', 'GET', { 'accept-encoding': 'gzip' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const css = await raw('/assets/style.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('no-cache'); // not a hashed name
    expect((await raw('/sub/page.svg')).headers['content-type']).toBe('image/svg+xml');
    const again = await raw('/assets/style.css', 'GET', { 'if-none-match': css.headers.etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    const head = await raw('/assets/style.css', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('6');
    expect(head.body).toBe('');
  });

  it('answers 404 in JSON for missing files and for the API, leaves the API to its routes, refuses other methods', async () => {
    const missing = await raw('/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'no such file: /assets/nope.js' });
    expect((await raw('/sub')).status).toBe(200); // a directory is not a file: an app path
    expect((await raw('/api/nothing')).status).toBe(404);
    expect((await raw('/hls/media/x/index.m3u8')).status).toBe(404);
    expect(JSON.parse((await raw('/api/thing')).body)).toEqual({ ok: true });
    expect((await raw('/', 'POST')).status).toBe(405);
    expect((await raw('/index.html', 'DELETE')).status).toBe(405);
  });

  it('says the app is not built when the directory is missing', async () => {
    const other = await startHttp(staticRoutes(join(tmp, 'not-built')), '127.0.0.1', 0, silentLogger);
    try {
      const res = await fetch(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/npm run build/);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});

describe('request bodies (node-peer/http/server.ts)', () => {
  it('a client that hangs up mid-body is not a server error (found by npm run fuzz)', async () => {
    const errors: string[] = [];
    const log = { ...silentLogger, error: (msg: string) => void errors.push(msg) };
    let seen: unknown = 'not called';
    const other = await startHttp(
      [{ method: 'POST', path: '/echo', handler: async (req, res) => { seen = await readJson(req, res, 1024); if (seen) sendJson(res, 200, seen); } }],
      '127.0.0.1',
      0,
      log,
    );
    try {
      const p = (other.address() as { port: number }).port;
      await new Promise<void>((resolve) => {
        const s = connect(p, '127.0.0.1', () => {
          s.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 85\r\n\r\n{"a":');
          setTimeout(() => s.destroy(), 50);
        });
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
      for (let i = 0; i < 50 && seen === 'not called'; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
});
