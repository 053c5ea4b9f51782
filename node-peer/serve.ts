// `stateos serve`: a state server on its ring, with the HTTP API.
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { CommonOptions } from './cli/main.ts';
import { packageVersion } from './cli/main.ts';
import { sendJson, startHttp, type Route } from './http/server.ts';
import { StateNode } from './node.ts';

export const SAMPLE_PATH = join(import.meta.dirname, '../public/sample.mp4');

export interface ServeOptions extends CommonOptions {
  host: string;
  port: number;
  sample: boolean;
}

export function apiRoutes(node: StateNode): Route[] {
  const started = Date.now();
  return [
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
        }),
    },
    { method: 'GET', path: '/api/objects', handler: (_req, res) => sendJson(res, 200, node.objects()) },
  ];
}

export async function serve(opts: ServeOptions): Promise<() => Promise<void>> {
  const node = await StateNode.open(opts);
  let server: Server | undefined;
  try {
    if (opts.sample) await node.ensureSample(SAMPLE_PATH);
    server = await startHttp(apiRoutes(node), opts.host, opts.port, opts.log);
  } catch (e) {
    await node.close();
    throw e;
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  process.stdout.write(`stateos ${node.guid} serving http://${opts.host}:${port} (${node.objects().length} objects, data in ${opts.dir})\n`);
  opts.log.info('serving', { host: opts.host, port, server: node.guid });
  return async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await node.close();
  };
}
