// The State API (docs/API.md) against a `stateos serve` process with the sample, per client transport
// (TRANSPORTS below: WebRTC over node-datachannel, and the WebSocket):
// - round trip of a request and its reply, one client: Get of the sample and List of media, one at a time
//   after a warm-up; baseline: on the same connection, a request that does no work (Unsubscribe from
//   nothing: the bare STX round trip through the same transport, server and event loops);
// - requests per second from 100 clients at once (connected and registered in batches of 10), each with a
//   few Gets of the sample outstanding, for a fixed time; baseline: 100 keep-alive HTTP clients doing
//   GET /api/objects (the list holding the sample: the same object as JSON, no Get by id over HTTP) with
//   as many requests outstanding, on the same server for the same time.
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectApi } from '../node-peer/api/connect.ts';
import { connectApiWs } from '../node-peer/api/websocket-client.ts';
import { shutdownWebrtc } from '../node-peer/webrtc/index.ts';
import type { ApiConnection } from '../shared/api/client.ts';
import type { Guid } from '../shared/stu/guid.ts';
import { serve, type Served } from '../tests/helpers/cli.ts';
import type { Figure } from './figure.ts';

const log = (s: string) => process.stderr.write(`  ${s}\n`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** How the bench reaches the server's State API: the one place a client transport plugs in. */
export interface Transport {
  name: string;
  connect: (url: string) => Promise<ApiConnection>;
}

export const TRANSPORTS: Transport[] = [
  { name: 'WebRTC (node-datachannel)', connect: (url) => connectApi(url, { backend: 'datachannel' }) },
  { name: 'WebSocket', connect: (url) => connectApiWs(url) },
];

const CLIENTS = 100;
/** Gets each client keeps outstanding under load. */
const DEPTH = 4;
/** Clients connecting at once: the server negotiates at most 16 links at a time (node-peer/api/index.ts). */
const BATCH = 10;

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

interface Load {
  rps: number;
  lat: number[];
  errors: number;
  firstError?: string;
}

/** `loops` loops, each one request at a time, for `ms`: requests per second, latencies (µs), errors. */
async function closedLoop(loops: number, ms: number, call: (i: number) => Promise<unknown>): Promise<Load> {
  const lat: number[] = [];
  const out: Load = { rps: 0, lat, errors: 0 };
  const t0 = performance.now();
  const end = t0 + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, i) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await call(i);
          lat.push((performance.now() - t) * 1000);
          done++;
        } catch (e) {
          out.errors++;
          out.firstError ??= String(e);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  out.rps = done / ((performance.now() - t0) / 1000);
  return out;
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

/** `n` clients connected and registered, `BATCH` at a time; those that failed are counted, not retried. */
async function connectMany(t: Transport, url: string, n: number, open: ApiConnection[]): Promise<{ conns: ApiConnection[]; ms: number; failures: string[] }> {
  const conns: ApiConnection[] = [];
  const failures: string[] = [];
  let empty = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(BATCH, n - i) }, async () => {
        const c = await t.connect(url);
        open.push(c);
        await c.client.register({ app: 'bench' });
        return c;
      }),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') conns.push(r.value);
      else failures.push(String((r.reason as Error)?.message ?? r.reason));
    }
    log(`${t.name}: connecting ${conns.length}/${n}${failures.length ? ` (${failures.length} failed)` : ''}`);
    // two whole batches failing in a row: no more will come up
    empty = batch.every((r) => r.status === 'rejected') ? empty + 1 : 0;
    if (empty >= 2) break;
  }
  return { conns, ms: performance.now() - t0, failures };
}

export async function benchApi({ quick }: { quick: boolean }): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stateos-bench-api-'));
  const open: ApiConnection[] = [];
  let server: Served | undefined;
  // the server is a child of this process: killed also when the bench dies before its `finally`
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  const closeAll = () => {
    for (const c of open.splice(0)) c.close();
  };
  const figures: Figure[] = [];
  try {
    server = await serve(['--data', dir, '--rtsp', 'off', '--sample', '--meta-size', '8M', '--data-size', '32M', '--webrtc', 'datachannel', '--redirect-over', 'off', '--max-per-address', '512']);
    child = server.proc;
    const url = server.url;
    const n = quick ? 500 : 3000;
    let sample: Guid | undefined;

    for (const t of TRANSPORTS) {
      const c = await t.connect(url);
      open.push(c);
      await c.client.register({ app: 'bench' });
      sample ??= (await c.client.list('media'))[0]?.id;
      if (!sample) throw new Error('the server lists no media: --sample did not ingest?');
      const id = sample;
      log(`${t.name}: ${n} round trips each of Get, List and a no-work request, one client`);
      const get = await roundTrips(n, () => c.client.get(id));
      const list = await roundTrips(n, () => c.client.list('media'));
      const raw = await roundTrips(n, bare(c));
      const [rm, r99] = [quantile(raw, 0.5), quantile(raw, 0.99)];
      for (const [what, xs] of [['Get', get], ['List', list]] as const) {
        const [m, p99] = [quantile(xs, 0.5), quantile(xs, 0.99)];
        log(`  ${what}: median ${m.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs (no-work request: ${rm.toFixed(0)} / ${r99.toFixed(0)} µs)`);
        figures.push({ name: `API ${t.name}: ${what} round trip, median`, value: m, unit: 'µs', baseline: rm, baselineName: 'a no-work request, same connection', ratio: rm / m });
        figures.push({ name: `API ${t.name}: ${what} round trip, p99`, value: p99, unit: 'µs', baseline: r99, baselineName: 'no-work request p99', ratio: r99 / p99 });
      }
      closeAll();
    }
    const id = sample!;

    const ms = quick ? 3000 : 10_000;
    const loads: { t: Transport; load: Load; clients: number }[] = [];
    for (const t of TRANSPORTS) {
      const { conns, ms: connectMs, failures } = await connectMany(t, url, CLIENTS, open);
      if (failures.length) {
        const kinds = new Map<string, number>();
        for (const f of failures) kinds.set(f, (kinds.get(f) ?? 0) + 1);
        for (const [f, k] of kinds) log(`  ${k} x ${f}`);
      }
      if (conns.length === 0) throw new Error(`${t.name}: no client connected (${failures[0]})`);
      log(`${t.name}: ${conns.length} clients connected and registered in ${connectMs.toFixed(0)} ms`);
      figures.push({ name: `API ${t.name}: ${conns.length} of ${CLIENTS} clients connected and registered`, value: connectMs, unit: 'ms' });
      log(`${t.name}: running ${ms / 1000} s, ${conns.length} clients x ${DEPTH} Gets outstanding…`);
      const load = await closedLoop(conns.length * DEPTH, ms, (i) => conns[i % conns.length].client.get(id));
      log(`  ${load.rps.toFixed(0)} req/s, median ${quantile(load.lat, 0.5).toFixed(0)} µs, p99 ${quantile(load.lat, 0.99).toFixed(0)} µs${load.errors ? `, ${load.errors} errors (first: ${load.firstError})` : ''}`);
      loads.push({ t, load, clients: conns.length });
      closeAll();
      // let the server see the links close before the next transport's clients come
      await new Promise((r) => setTimeout(r, 500));
    }

    log(`HTTP: running ${ms / 1000} s, ${CLIENTS} keep-alive clients x ${DEPTH} GET /api/objects outstanding…`);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const objects = new URL('/api/objects', url);
    const http = await closedLoop(CLIENTS * DEPTH, ms, () => httpGet(agent, objects)).finally(() => agent.destroy());
    const [hm, h99] = [quantile(http.lat, 0.5), quantile(http.lat, 0.99)];
    log(`  ${http.rps.toFixed(0)} req/s, median ${hm.toFixed(0)} µs, p99 ${h99.toFixed(0)} µs${http.errors ? `, ${http.errors} errors (first: ${http.firstError})` : ''}`);
    for (const { t, load, clients } of loads) {
      const [m, p99] = [quantile(load.lat, 0.5), quantile(load.lat, 0.99)];
      figures.push({ name: `API ${t.name}: requests/s, ${clients} clients x ${DEPTH} Gets`, value: load.rps, unit: 'req/s', baseline: http.rps, baselineName: `${CLIENTS} keep-alive HTTP clients, GET /api/objects`, ratio: load.rps / http.rps });
      figures.push({ name: `API ${t.name}: latency under load, median`, value: m, unit: 'µs', baseline: hm, baselineName: 'HTTP median', ratio: hm / m });
      figures.push({ name: `API ${t.name}: latency under load, p99`, value: p99, unit: 'µs', baseline: h99, baselineName: 'HTTP p99', ratio: h99 / p99 });
      if (load.errors) figures.push({ name: `API ${t.name}: failed requests under load`, value: load.errors, unit: 'requests', baseline: http.errors, baselineName: 'HTTP' });
    }
    return figures;
  } finally {
    closeAll();
    if (server && !(await Promise.race([server.stop('SIGTERM').then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]))) await server.stop('SIGKILL');
    process.off('exit', onExit);
    shutdownWebrtc();
    rmSync(dir, { recursive: true, force: true });
  }
}
