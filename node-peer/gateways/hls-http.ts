// HTTP details of the HLS gateway: byte ranges (RFC 9110 §14), CORS and caching headers, HEAD, and bodies
// sent as a list of parts (a retimed moof, then the cached segment's mdat) without joining them.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'content-length, content-range, accept-ranges',
} as const;

export const CACHE = {
  /** VOD media: init and segments never change for a media id. */
  immutable: 'public, max-age=31536000, immutable',
  /** VOD media playlists: stable, but short so a new server setting shows. */
  playlist: 'public, max-age=60',
  /** Live playlists and channels: ask every time. */
  none: 'no-cache',
  /** Channel segments: deterministic for the schedule they were listed from. */
  short: 'public, max-age=30',
} as const;

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * The single byte range a Range header asks of a body of `size` bytes (end inclusive). Undefined: serve the
 * whole body (no header, another unit, several ranges, or a malformed header, which RFC 9110 says to
 * ignore); 'unsatisfiable': answer 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Sends `parts` (one body, concatenated) honouring Range and HEAD. */
export function sendParts(req: IncomingMessage, res: ServerResponse, parts: readonly Uint8Array[], headers: Record<string, string>): { status: number; start: number; length: number } {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const range = parseRange(req.headers.range, size);
  const base = { ...CORS, 'accept-ranges': 'bytes', ...headers };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'content-range': `bytes */${size}`, 'content-length': 0 });
    res.end();
    return { status: 416, start: 0, length: 0 };
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const length = Math.max(0, end - start + 1);
  const status = range ? 206 : 200;
  res.writeHead(status, { ...base, 'content-length': length, ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return { status, start, length };
  }
  res.cork();
  let at = 0;
  for (const p of parts) {
    const lo = Math.max(start, at);
    const hi = Math.min(end + 1, at + p.length);
    if (hi > lo) res.write(lo === at && hi === at + p.length ? p : p.subarray(lo - at, hi - at));
    at += p.length;
  }
  res.end(); // flushes the corked writes as one
  return { status, start, length };
}

/** A playlist (text) with its caching policy. */
export function sendPlaylist(req: IncomingMessage, res: ServerResponse, text: string, cache: string): void {
  sendParts(req, res, [new TextEncoder().encode(text)], { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': cache });
}

/** A JSON error with CORS, like sendError, plus extra fields. */
export function sendHlsError(res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: message, ...extra });
  res.writeHead(status, { ...CORS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
