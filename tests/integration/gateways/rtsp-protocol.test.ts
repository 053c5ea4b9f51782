// The RTSP gateway of a real `stateos serve --rtsp-timeout 1`, spoken to byte by byte: DESCRIBE, PLAY with a
// Range (the key frame before it, RTP-Info matching the first packet, nothing before the reply, paced in real
// time), GET_PARAMETER keep-alives, PAUSE/PLAY, TEARDOWN, the error statuses of bad requests, garbage and
// oversized requests answered and closed while another client keeps playing, and session timeout.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtcpTypes } from '../../../shared/media/rtp/rtcp.ts';
import { type Interleaved, RtspClient, setupAll } from '../../../node-peer/gateways/rtsp/client.ts';
import { type Served, serve, stateos } from '../../helpers/cli.ts';
import { ffmpeg, SRC } from '../../unit/media/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-rtsp-'));
let server: Served;
let url = '';
let other = '';

beforeAll(async () => {
  const data = join(tmp, 'data');
  const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-c:a', 'aac'];
  ffmpeg([...SRC.video(3, '320x180', 25), ...SRC.audio(3), ...x264, join(tmp, 'a.mp4')]);
  ffmpeg([...SRC.video(2, '160x90', 25), ...SRC.audio(2), ...x264, join(tmp, 'b.mp4')]);
  const ids: string[] = [];
  for (const f of ['a.mp4', 'b.mp4']) {
    const r = await stateos(['ingest', join(tmp, f), '--data', data, '--meta-size', '8M', '--data-size', '32M']);
    expect(r.code, r.stderr).toBe(0);
    ids.push(r.stdout.split('\t')[0]);
  }
  server = await serve(['--data', data, '--rtsp-timeout', '1']);
  url = `${server.rtspUrl}/media/${ids[0]}`;
  other = `${server.rtspUrl}/media/${ids[1]}`;
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
  expect(server?.stderr() ?? '').not.toMatch(/TypeError|RangeError|uncaught|unhandled/i);
  rmSync(tmp, { recursive: true, force: true });
});

const rtp = (p: Interleaved) => ({ seq: p.data.readUInt16BE(2), ts: p.data.readUInt32BE(4), marker: (p.data[1] & 0x80) !== 0, nal: p.data[12] & 0x1f, at: p.at });
const isBye = (p: Interleaved) => p.channel % 2 === 1 && (rtcpTypes(p.data) ?? []).includes(203);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}
const rtpInfo = (h: string | undefined) =>
  (h ?? '').split(',').map((x) => Object.fromEntries(x.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));

/** GET_PARAMETER every 300 ms: the session outlives the 1 s timeout only with these. */
function keepAlive(c: RtspClient): () => void {
  const t = setInterval(() => void c.request('GET_PARAMETER', `${c.url}/`).catch(() => undefined), 300);
  return () => clearInterval(t);
}

/** Sends raw bytes on a new connection; the response and whether the server then closed it. */
async function raw(bytes: string | Buffer): Promise<{ status: number; body: string; closed: boolean; cseq?: string }> {
  const c = await RtspClient.connect(url);
  const next = c.next();
  c.raw(bytes);
  const r = await next;
  const closed = await Promise.race([c.closed.then(() => true), sleep(1500).then(() => false)]);
  c.close();
  return { status: r.status, body: r.body, closed, cseq: r.headers.get('cseq') };
}

describe('RTSP gateway, byte by byte', () => {
  it('OPTIONS and DESCRIBE; unknown media and paths are 404, channels without a schedule too', async () => {
    const c = await RtspClient.connect(url);
    const o = await c.request('OPTIONS', '*');
    expect(o.status).toBe(200);
    expect(o.headers.get('public')).toBe('OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER');
    const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
    expect(d.status).toBe(200);
    expect(d.headers.get('content-type')).toBe('application/sdp');
    expect(d.headers.get('content-base')).toBe(`${url}/`);
    expect(d.body).toMatch(/^v=0\r\n/);
    expect(d.body).toContain('a=range:npt=0-3.000');
    expect(d.body).toMatch(/m=video 0 RTP\/AVP 96\r\na=rtpmap:96 H264\/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=[0-9a-f]{6};sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+\r\na=control:trackID=0/);
    expect(d.body).toMatch(/m=audio 0 RTP\/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC\/48000\/1\r\na=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=[0-9a-f]+\r\na=control:trackID=1/);
    for (const path of ['/media/11111111-2222-4333-8444-555555555555', '/media/not-a-guid', '/elsewhere', '/channel/news']) {
      const r = await c.request('DESCRIBE', `${server.rtspUrl}${path}`);
      expect(r.status, path).toBe(404);
    }
    expect((await c.request('OPTIONS', '*')).status).toBe(200); // 404s leave the connection open
    c.close();
  });

  it('PLAY npt=1.5-2.5: from the key frame at 1 s, RTP-Info naming the first packet, nothing before the reply, in real time, BYE at the end', async () => {
    const c = await RtspClient.connect(url);
    const got: Interleaved[] = [];
    c.onPacket((p) => got.push(p));
    const { streams } = await setupAll(c);
    const stop = keepAlive(c);
    const t0 = performance.now();
    const r = await c.request('PLAY', `${url}/`, { Range: 'npt=1.5-2.5' });
    expect(r.status).toBe(200);
    expect(r.framesBefore).toBe(0); // not one RTP or RTCP packet before the PLAY reply
    expect(r.headers.get('range')).toBe('npt=1.000-2.500');
    const info = rtpInfo(r.headers.get('rtp-info'));
    expect(info.map((i) => i.url)).toEqual(streams.map((s) => s.control));
    await until(() => got.filter(isBye).length === 2);
    stop();
    const byeAt = got.find(isBye)!.at - t0;
    expect(byeAt).toBeGreaterThan(1300); // 1.5 s of media (1.0 to 2.5) is sent over 1.5 s, not at once
    expect(byeAt).toBeLessThan(2600);
    const video = got.filter((p) => p.channel === 0).map(rtp);
    const audio = got.filter((p) => p.channel === 2).map(rtp);
    expect(got.filter((p) => p.channel % 2 === 1)[0].at).toBeLessThanOrEqual(video[0].at); // a sender report first
    expect(video[0].seq).toBe(Number(info[0].seq));
    expect(video[0].ts).toBe(Number(info[0].rtptime));
    expect(video[0].nal).toBe(7); // SPS, then PPS, before the IDR
    expect(video[1].nal).toBe(8);
    // the 38 frames presented in [1.0, 2.5), and the P frame at 2.56 s that the B frame at 2.48 s refers to
    expect(video.filter((v) => v.marker)).toHaveLength(39);
    for (let i = 1; i < video.length; i++) expect(video[i].seq).toBe((video[i - 1].seq + 1) & 0xffff);
    expect(audio[0].seq).toBe(Number(info[1].seq));
    expect(Math.abs(((audio[0].ts - Number(info[1].rtptime)) << 0) / 48000)).toBeLessThan(0.03);
    const lastAudio = audio.at(-1)!;
    expect(((lastAudio.ts - audio[0].ts) >>> 0) / 48000).toBeGreaterThan(1.4);
    c.close();
  });

  it('PAUSE stops the packets, PLAY resumes; TEARDOWN ends the session', async () => {
    const c = await RtspClient.connect(url);
    const got: Interleaved[] = [];
    c.onPacket((p) => got.push(p));
    await setupAll(c);
    const stop = keepAlive(c);
    expect((await c.request('PLAY', `${url}/`)).status).toBe(200);
    await sleep(500);
    const p = await c.request('PAUSE', `${url}/`);
    expect(p.status).toBe(200);
    await sleep(50);
    const n = got.length;
    await sleep(700); // past the 1 s timeout since PLAY: the GET_PARAMETERs keep it
    expect(got.length).toBe(n);
    const resumed = await c.request('PLAY', `${url}/`);
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('range')).toBe(p.headers.get('range'));
    await sleep(400);
    expect(got.length).toBeGreaterThan(n);
    stop();
    expect((await c.request('TEARDOWN', `${url}/`)).status).toBe(200);
    await sleep(100);
    const after = got.length;
    await sleep(300);
    expect(got.length).toBe(after);
    expect((await c.request('PLAY', `${url}/`)).status).toBe(454);
    c.close();
  });

  it('SETUP twice, across programs, on the aggregate; bad transports, sessions and ranges: their status codes', async () => {
    const c = await RtspClient.connect(url);
    await setupAll(c);
    const again = await c.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=6-7' });
    expect(again.status).toBe(455);
    expect(again.body).toMatch(/already set up/);
    expect((await c.request('SETUP', `${other}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=8-9' })).status).toBe(459);
    expect((await c.request('PLAY', `${url}/`, { Range: 'npt=9-' })).status).toBe(457);
    expect((await c.request('PLAY', `${url}/`, { Range: 'smpte=0:00:01-' })).status).toBe(456);
    expect((await c.request('PLAY', `${url}/trackID=0`)).status).toBe(460);
    expect((await c.request('SET_PARAMETER', `${url}/`, { 'Content-Type': 'text/parameters' }, 'volume: 5\r\n')).status).toBe(451);
    expect((await c.request('TEARDOWN', `${url}/`)).status).toBe(200);
    const d = await RtspClient.connect(url);
    expect((await d.request('SETUP', `${url}/`, { Transport: 'RTP/AVP/TCP;unicast' })).status).toBe(459); // two streams: which?
    expect((await d.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP;multicast' })).status).toBe(461);
    expect((await d.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP;unicast' })).status).toBe(461); // UDP without client_port
    expect((await d.request('PLAY', `${url}/`)).status).toBe(454);
    expect((await d.request('PLAY', `${url}/`, { Session: 'NOSUCHSESSION' })).status).toBe(454);
    expect((await d.request('RECORD', `${url}/`)).status).toBe(405);
    expect((await d.request('FROBNICATE', `${url}/`)).status).toBe(501);
    expect((await d.request('OPTIONS', '*')).status).toBe(200); // still open
    d.close();
    c.close();
  });

  it('garbage and oversized requests are answered and their connections closed, while another client keeps playing', async () => {
    const c = await RtspClient.connect(url);
    const got: Interleaved[] = [];
    c.onPacket((p) => got.push(p));
    await setupAll(c);
    const stop = keepAlive(c);
    expect((await c.request('PLAY', `${url}/`)).status).toBe(200);
    const bad: Array<[string | Buffer, number]> = [
      ['HELLO WORLD\r\n\r\n', 400],
      ['OPTIONS * RTSP/1.0\r\nUser-Agent: no-cseq\r\n\r\n', 400],
      [`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 3\r\nX-Big: ${'x'.repeat(9000)}\r\n\r\n`, 400],
      [`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 4\r\n${Array.from({ length: 70 }, (_x, i) => `X-${i}: y\r\n`).join('')}\r\n`, 400],
      [`SET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 9999999\r\n\r\n`, 413],
      [`DESCRIBE rtsp://h/${'a'.repeat(3000)} RTSP/1.0\r\nCSeq: 6\r\n\r\n`, 414],
      ['OPTIONS * RTSP/2.0\r\nCSeq: 7\r\n\r\n', 505],
      [`DESCRIBE http://example.com/ RTSP/1.0\r\nCSeq: 8\r\n\r\n`, 400],
      [Buffer.concat([randomBytes(3000).map((b) => (b === 0x24 || b === 13 || b === 10 ? 0x41 : b)), Buffer.from('\r\n\r\n')]), 400],
    ];
    for (const [bytes, status] of bad) {
      const r = await raw(bytes);
      expect(r.status, String(bytes).slice(0, 40)).toBe(status);
      expect(r.closed, String(bytes).slice(0, 40)).toBe(true);
    }
    expect((await raw(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 3\r\nX-Big: ${'x'.repeat(9000)}\r\n\r\n`)).cseq).toBe('3');
    await until(() => got.filter(isBye).length === 2);
    stop();
    const video = got.filter((p) => p.channel === 0).map(rtp);
    expect(video.filter((v) => v.marker)).toHaveLength(75); // the whole 3 s, every frame
    for (let i = 1; i < video.length; i++) expect(video[i].seq).toBe((video[i - 1].seq + 1) & 0xffff);
    c.close();
  });

  it('a session without keep-alives times out: BYE, then 454', async () => {
    const c = await RtspClient.connect(url);
    const got: Interleaved[] = [];
    c.onPacket((p) => got.push(p));
    await setupAll(c);
    const t0 = performance.now();
    expect((await c.request('PLAY', `${url}/`)).status).toBe(200);
    await until(() => got.filter(isBye).length === 2, 5000);
    const at = got.find(isBye)!.at - t0;
    expect(at).toBeGreaterThan(900);
    expect(at).toBeLessThan(2200); // well before the 3 s of media would end
    expect((await c.request('GET_PARAMETER', `${url}/`)).status).toBe(454);
    c.close();
  });
});
