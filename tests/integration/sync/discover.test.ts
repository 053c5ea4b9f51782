// --discover: DNS SRV records _stateos._udp.DOMAIN, answered by a DNS server on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discover, srvName } from '../../../node-peer/sync/discover.ts';
import { serve, type Served } from '../../helpers/cli.ts';
import { startDns } from '../../helpers/dns.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-discover-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const small = ['--meta-size', '4M', '--data-size', '16M', '--cluster-key', 'discover-test-cluster-key'];

describe('DNS SRV discovery', () => {
  it('lists servers by priority, then weight', async () => {
    const dns = await startDns({
      [srvName('example.test')]: [
        { priority: 20, weight: 5, port: 9003, target: 'c.example.test' },
        { priority: 10, weight: 1, port: 9002, target: 'b.example.test' },
        { priority: 10, weight: 9, port: 9001, target: 'a.example.test' },
      ],
    });
    try {
      expect(await discover('example.test', { dnsServer: dns.address })).toEqual(['http://a.example.test:9001', 'http://b.example.test:9002', 'http://c.example.test:9003']);
      await expect(discover('nothing.test', { dnsServer: dns.address })).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect(dns.queries).toContain('_stateos._udp.example.test');
    } finally {
      await dns.close();
    }
  });

  it('stateos serve --discover joins the servers it finds and syncs with them', async () => {
    const servers: Served[] = [];
    let dns: Awaited<ReturnType<typeof startDns>> | undefined;
    try {
      const a = await serve(['--data', join(tmp, 'a'), ...small, '--sample']);
      servers.push(a);
      const port = Number(new URL(a.url).port);
      dns = await startDns({ [srvName('cluster.test')]: [{ priority: 1, weight: 1, port, target: '127.0.0.1' }] });
      const b = await serve(['--data', join(tmp, 'b'), ...small, '--discover', 'cluster.test', '--dns-server', dns.address]);
      servers.push(b);
      const t0 = Date.now();
      let objects: unknown[] = [];
      while (objects.length === 0 && Date.now() - t0 < 30_000) {
        objects = (await (await fetch(`${b.url}/api/objects`)).json()) as unknown[];
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(objects).toHaveLength(1);
      expect(dns.queries).toEqual(['_stateos._udp.cluster.test']);
    } finally {
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
      await dns?.close();
    }
  });
});
