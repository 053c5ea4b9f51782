// --discover DOMAIN: the servers listed as DNS SRV records _stateos._udp.DOMAIN, as HTTP URLs to join, in
// RFC 2782 order (lowest priority first, higher weight first within a priority).
import { Resolver } from 'node:dns/promises';

export const srvName = (domain: string): string => `_stateos._udp.${domain.replace(/\.$/, '')}`;

export async function discover(domain: string, opts: { dnsServer?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 3000, tries: 2 });
  if (opts.dnsServer) resolver.setServers([opts.dnsServer]);
  const records = await resolver.resolveSrv(srvName(domain));
  return records
    .filter((r) => r.port > 0 && r.name)
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((r) => `http://${r.name.includes(':') ? `[${r.name}]` : r.name.replace(/\.$/, '')}:${r.port}`);
}
