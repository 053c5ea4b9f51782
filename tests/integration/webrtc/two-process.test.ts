// Two Node processes over real WebRTC on loopback: this one offers, a child (peer-child.ts, run with
// `node --import tsx`) answers; the offer and the answer cross as one line each on the child's stdio, as
// they will in one HTTP POST. Over the link: a SignalingConnection, requests answered by the child, both
// DTLS fingerprints seen the same from both ends, and a link close that reaches the child, which exits.
// Then a child killed outright: the heartbeat notices.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SignalingConnection } from '../../../shared/stx/connection.ts';
import type { Message } from '../../../shared/stx/message.ts';
import { SIGNALING_LABEL, SIGNALING_OPTIONS } from '../../../shared/stx/transport.ts';
import { type Backend, makeLink, type WebrtcLink } from '../../../node-peer/webrtc/index.ts';

const CHILD = join(import.meta.dirname, 'peer-child.ts');
const ROOT = join(import.meta.dirname, '../../..');
const REQUESTS = 2000;

let child: ChildProcess | undefined;
let link: WebrtcLink | undefined;
afterEach(() => {
  link?.close('test over');
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

function startChild(backend: Backend) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, backend], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, string>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l) as Record<string, string>);
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const next = async (key: string, ms = 20_000): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const found = lines.find((l) => key in l);
      if (found) return found[key];
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`child sent no "${key}" (exit ${proc.exitCode})`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { proc, next, exited };
}

describe('two Node processes over WebRTC on loopback', () => {
  for (const backend of ['datachannel', 'werift'] as const) {
    it(`${backend}: a signaling connection between two processes answers ${REQUESTS} requests, and a link close reaches the other process`, async () => {
      const far = startChild(backend);
      child = far.proc;
      link = makeLink(backend);
      far.proc.stdin!.write(`${JSON.stringify({ offer: await link.createOffer() })}\n`);
      await link.acceptAnswer(await far.next('answer'));
      await link.connected();

      const conn = new SignalingConnection(await link.openChannel(SIGNALING_LABEL, SIGNALING_OPTIONS));
      const who = await conn.request('Whoami');
      expect(Number(who.attrs.pid)).not.toBe(process.pid);
      expect(who.attrs.remote).toBe(link.localFingerprint?.value);
      expect(who.attrs.local).toBe(link.remoteFingerprint?.value);

      const replies: Message[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          while (next < REQUESTS) {
            const i = next++;
            replies[i] = await conn.request('Echo', { attrs: { n: String(i) } });
          }
        }),
      );
      expect(replies.every((r, i) => r.method === 'Reply' && r.attrs.n === String(i))).toBe(true);
      expect(conn.stats.batchesIn).toBeLessThan(REQUESTS / 5);

      link.close('parent done');
      expect(await far.next('closed', 10_000)).toMatch(/closed by the peer: parent done/);
      expect(await far.exited).toBe(0);
    }, 60_000);
  }

  it('a peer process killed outright is noticed through the heartbeat', async () => {
    const far = startChild('werift');
    child = far.proc;
    const l = makeLink('werift', { heartbeatMs: 100, deadAfterMs: 800 });
    link = l;
    far.proc.stdin!.write(`${JSON.stringify({ offer: await l.createOffer() })}\n`);
    await l.acceptAnswer(await far.next('answer'));
    await l.connected();
    await new Promise((r) => setTimeout(r, 500)); // alive: heartbeats answered, the link stays up
    expect(l.state).toBe('open');
    const down = new Promise<string>((resolve) => l.onClose(resolve));
    const killedAt = Date.now();
    far.proc.kill('SIGKILL');
    expect(await down).toMatch(/nothing heard from the peer/);
    expect(Date.now() - killedAt).toBeLessThan(3000);
  }, 30_000);
});
