// A DNS server on loopback UDP that answers SRV queries from a table (for --discover tests): just enough
// of RFC 1035 to answer one question; any other name gets NXDOMAIN.
import { createSocket } from 'node:dgram';

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsServer {
  address: string;
  queries: string[];
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  while (msg[at] !== 0) {
    const len = msg[at];
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += 1 + len;
  }
  return { name: labels.join('.'), end: at + 1 };
}

export function startDns(records: Record<string, Srv[]>): Promise<DnsServer> {
  const sock = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    const { name, end } = readName(msg, 12);
    queries.push(name);
    const question = msg.subarray(12, end + 4);
    const answers = (records[name.toLowerCase()] ?? []).map((r) => {
      const target = encodeName(r.target);
      const rdata = Buffer.alloc(6);
      rdata.writeUInt16BE(r.priority, 0);
      rdata.writeUInt16BE(r.weight, 2);
      rdata.writeUInt16BE(r.port, 4);
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the question's name
      fixed.writeUInt16BE(33, 2); // SRV
      fixed.writeUInt16BE(1, 4); // IN
      fixed.writeUInt32BE(60, 6);
      fixed.writeUInt16BE(6 + target.length, 10);
      return Buffer.concat([fixed, rdata, target]);
    });
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(answers.length ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    sock.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      resolve({ address: `127.0.0.1:${port}`, queries, close: () => new Promise((r) => sock.close(() => r())) });
    });
  });
}
