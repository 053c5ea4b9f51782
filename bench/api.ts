// The State API (docs/API.md) against a `stateos serve` process with the sample:
// - round trip of a request and its reply (Get of the sample), one client, over a WebSocket and over WebRTC
//   (node-datachannel); baseline: on the same connection, a request that does no work (Unsubscribe from
//   nothing: the bare STX round trip through the same transport, server and event loops);
// - requests per second from 100 WebSocket clients at once, each with one request outstanding (List of
//   media); baseline: 100 keep-alive HTTP clients doing GET /api/objects (the same list) on the same server.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectApi } from '../node-peer/api/connect.ts';
import { connectApiWs } from '../node-peer/api/websocket-client.ts';
import { shutdownWebrtc } from '../node-peer/webrtc/index.ts';
import type { ApiConnection } from '../shared/api/client.ts';
import type { Guid } from '../shared/stu/guid.ts';
import { serve } from '../tests/helpers/cli.ts';
import type { Figure } from './figure.ts';

const log = (s: string) => process.stderr.write(`  ${s}\n`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Round trips (µs) of `fn`, `n` times in a row after a warm-up. */
async function roundTrips(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(200, n); i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) * 1000);
  }
  return out;
}

/** A request that does no work (Unsubscribe from nothing): the bare STX round trip of this connection. */
const bare = (c: ApiConnection) => () => c.client.conn.request('Unsubscribe', {});

/** `clients` loops, each one request at a time, for `ms`: requests per second and latencies (µs). */
async function closedLoop(clients: number, ms: number, call: (i: number) => Promise<unknown>): Promise<{ rps: number; lat: number[] }> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call(i);
        lat.push((performance.now() - t0) * 1000);
        done++;
      }
    }),
  );
  return { rps: done / (ms / 1000), lat };
}

function httpGet(agent: Agent, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function benchApi({ quick }: { quick: boolean }): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stateos-bench-api-'));
  const server = await serve(['--data', dir, '--rtsp', 'off', '--sample', '--meta-size', '16M', '--data-size', '64M', '--redirect-over', 'off', '--max-per-address', '512']);
  const url = server.url;
  const open: ApiConnection[] = [];
  const figures: Figure[] = [];
  try {
    const n = quick ? 500 : 3000;
    for (const [name, connect] of [
      ['WebSocket', connectApiWs],
      ['WebRTC (node-datachannel)', (u: string) => connectApi(u)],
    ] as const) {
      const c = await connect(url);
      open.push(c);
      await c.client.register({ app: 'bench' });
      const [sample] = await c.client.list('media');
      log(`${name}: ${n} round trips of Get, and of a bare request`);
      const api = await roundTrips(n, () => c.client.get(sample.id as Guid));
      const raw = await roundTrips(n, bare(c));
      const m = quantile(api, 0.5);
      const mr = quantile(raw, 0.5);
      figures.push({ name: `API ${name}: Get round trip, median`, value: m, unit: 'µs', baseline: mr, baselineName: 'a no-work request, same connection', ratio: mr / m });
      figures.push({ name: `API ${name}: Get round trip, p99`, value: quantile(api, 0.99), unit: 'µs', baseline: quantile(raw, 0.99), baselineName: 'bare STX p99', ratio: quantile(raw, 0.99) / quantile(api, 0.99) });
    }

    const clients = 100;
    const ms = quick ? 3000 : 10_000;
    const t0 = performance.now();
    const ws: ApiConnection[] = [];
    for (let i = 0; i < clients; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, clients - i) }, () => connectApiWs(url)));
      for (const c of batch) await c.client.register({ app: 'bench' });
      ws.push(...batch);
      open.push(...batch);
      log(`connected ${ws.length}/${clients} WebSocket clients`);
    }
    const connectMs = performance.now() - t0;
    log(`${clients} clients for ${ms / 1000} s: List over the API, then GET /api/objects over HTTP`);
    const apiRun = await closedLoop(clients, ms, (i) => ws[i].client.list('media'));
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const objects = new URL('/api/objects', url);
    const httpRun = await closedLoop(clients, ms, () => httpGet(agent, objects));
    agent.destroy();
    figures.push({ name: `API: requests/s from ${clients} WebSocket clients (List)`, value: apiRun.rps, unit: 'req/s', baseline: httpRun.rps, baselineName: `${clients} keep-alive HTTP clients, GET /api/objects`, ratio: apiRun.rps / httpRun.rps });
    figures.push({ name: `API: latency under ${clients} clients, median`, value: quantile(apiRun.lat, 0.5), unit: 'µs', baseline: quantile(httpRun.lat, 0.5), baselineName: 'HTTP median', ratio: quantile(httpRun.lat, 0.5) / quantile(apiRun.lat, 0.5) });
    figures.push({ name: `API: latency under ${clients} clients, p99`, value: quantile(apiRun.lat, 0.99), unit: 'µs', baseline: quantile(httpRun.lat, 0.99), baselineName: 'HTTP p99', ratio: quantile(httpRun.lat, 0.99) / quantile(apiRun.lat, 0.99) });
    figures.push({ name: `API: ${clients} WebSocket clients connected and registered`, value: connectMs, unit: 'ms' });
    return figures;
  } finally {
    for (const c of open) c.close();
    await server.stop();
    shutdownWebrtc();
    rmSync(dir, { recursive: true, force: true });
  }
}
